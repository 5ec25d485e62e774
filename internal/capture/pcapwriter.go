package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wsdissect/wsdissect/source"
)

// PcapWriter saves packets as a pcap file with nanosecond timestamps (the
// -w option). It buffers; call Flush before the underlying writer is closed.
type PcapWriter struct {
	bw      *bufio.Writer
	pw      *pcapgo.Writer
	snaplen int
	ci      gopacket.CaptureInfo
}

// NewPcapWriter writes the pcap file header for link and snaplen (0 means
// DefaultSnaplen) to w and returns a writer for the packets.
func NewPcapWriter(w io.Writer, link source.LinkType, snaplen int) (*PcapWriter, error) {
	snaplen, err := checkSnaplen("pcap", snaplen)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 64*1024)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(uint32(snaplen), layers.LinkType(link)); err != nil {
		return nil, fmt.Errorf("writing pcap header: %w", err)
	}
	return &PcapWriter{bw: bw, pw: pw, snaplen: snaplen}, nil
}

// Write appends one packet. Data longer than the snapshot length is cut to
// it; an OrigLen shorter than the data is raised to the data's length.
func (w *PcapWriter) Write(p *source.Packet) error {
	if err := w.pw.WritePacket(w.ci, fillInfo(&w.ci, p, w.snaplen)); err != nil {
		return fmt.Errorf("writing packet %d to pcap: %w", p.Number, err)
	}
	return nil
}

// Flush writes any buffered data to the underlying writer.
func (w *PcapWriter) Flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("flushing pcap: %w", err)
	}
	return nil
}

// PcapngWriter saves packets as a pcapng file (the -w option with a .pcapng
// name): one interface description a link type, in order of first use, so
// that packets of several link types fit in one file. It buffers; call
// Flush before the underlying writer is closed.
type PcapngWriter struct {
	bw      *bufio.Writer
	nw      *pcapgo.NgWriter
	ifaces  map[source.LinkType]int
	snaplen int
	ci      gopacket.CaptureInfo
}

// NewPcapngWriter writes the pcapng section header and the interface of
// link, with snaplen (0 means DefaultSnaplen), to w and returns a writer
// for the packets.
func NewPcapngWriter(w io.Writer, link source.LinkType, snaplen int) (*PcapngWriter, error) {
	snaplen, err := checkSnaplen("pcapng", snaplen)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(w, 64*1024)
	nw, err := pcapgo.NewNgWriterInterface(bw, ngInterface(link, snaplen), pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: "wsdissect"},
	})
	if err != nil {
		return nil, fmt.Errorf("writing pcapng header: %w", err)
	}
	return &PcapngWriter{bw: bw, nw: nw, ifaces: map[source.LinkType]int{link: 0}, snaplen: snaplen}, nil
}

// ngInterface describes an interface of link type link with nanosecond
// timestamps.
func ngInterface(link source.LinkType, snaplen int) pcapgo.NgInterface {
	return pcapgo.NgInterface{LinkType: layers.LinkType(link), SnapLength: uint32(snaplen), TimestampResolution: 9}
}

// Write appends one packet, on the interface of its link type (added at
// its first packet). Data longer than the snapshot length is cut to it.
func (w *PcapngWriter) Write(p *source.Packet) error {
	idx, ok := w.ifaces[p.LinkType]
	if !ok {
		var err error
		if idx, err = w.nw.AddInterface(ngInterface(p.LinkType, w.snaplen)); err != nil {
			return fmt.Errorf("writing packet %d to pcapng: %w", p.Number, err)
		}
		w.ifaces[p.LinkType] = idx
	}
	w.ci.InterfaceIndex = idx
	if err := w.nw.WritePacket(w.ci, fillInfo(&w.ci, p, w.snaplen)); err != nil {
		return fmt.Errorf("writing packet %d to pcapng: %w", p.Number, err)
	}
	return nil
}

// WriteSecrets writes a Decryption Secrets Block holding keyLog, TLS
// secrets in the NSS key log format, which readers of the file (Wireshark,
// tshark, wsdissect) use to decrypt the packets after it. Nothing is
// written for an empty key log.
func (w *PcapngWriter) WriteSecrets(keyLog []byte) error {
	if len(keyLog) == 0 {
		return nil
	}
	if err := w.nw.Flush(); err != nil {
		return fmt.Errorf("writing pcapng secrets: %w", err)
	}
	if _, err := w.bw.Write(secretsBlock(keyLog)); err != nil {
		return fmt.Errorf("writing pcapng secrets: %w", err)
	}
	return nil
}

// Decryption Secrets Block (pcapng, section 4.7): its block type and the
// secrets type of a TLS key log.
const (
	ngDecryptionSecrets = 0x0000000A
	ngSecretsTLSKeyLog  = 0x544c534b // "TLSK"
)

// secretsBlock encodes a little-endian (as pcapgo writes sections)
// Decryption Secrets Block of a TLS key log, without options.
func secretsBlock(keyLog []byte) []byte {
	padded := (len(keyLog) + 3) &^ 3
	total := 4 + 4 + 4 + 4 + padded + 4
	b := make([]byte, 0, total)
	b = binary.LittleEndian.AppendUint32(b, ngDecryptionSecrets)
	b = binary.LittleEndian.AppendUint32(b, uint32(total))
	b = binary.LittleEndian.AppendUint32(b, ngSecretsTLSKeyLog)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keyLog)))
	b = append(b, keyLog...)
	b = append(b, make([]byte, padded-len(keyLog))...)
	return binary.LittleEndian.AppendUint32(b, uint32(total))
}

// Flush writes any buffered data to the underlying writer.
func (w *PcapngWriter) Flush() error {
	if err := w.nw.Flush(); err != nil {
		return fmt.Errorf("flushing pcapng: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("flushing pcapng: %w", err)
	}
	return nil
}

// checkSnaplen returns snaplen, DefaultSnaplen for 0, or an error for a
// negative one.
func checkSnaplen(format string, snaplen int) (int, error) {
	switch {
	case snaplen < 0:
		return 0, fmt.Errorf("writing %s: invalid snapshot length %d", format, snaplen)
	case snaplen == 0:
		return DefaultSnaplen, nil
	}
	return snaplen, nil
}

// fillInfo sets ci for packet p and returns the bytes to write: p's data
// cut to snaplen, with an original length of at least the data's.
func fillInfo(ci *gopacket.CaptureInfo, p *source.Packet, snaplen int) []byte {
	data := p.Data
	if len(data) > snaplen {
		data = data[:snaplen]
	}
	ci.Timestamp = p.Time
	ci.CaptureLength = len(data)
	ci.Length = max(p.OrigLen, len(p.Data))
	return data
}
