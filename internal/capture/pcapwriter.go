package capture

import (
	"bufio"
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
	if snaplen < 0 {
		return nil, fmt.Errorf("writing pcap: invalid snapshot length %d", snaplen)
	}
	if snaplen == 0 {
		snaplen = DefaultSnaplen
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
	data := p.Data
	if len(data) > w.snaplen {
		data = data[:w.snaplen]
	}
	w.ci.Timestamp = p.Time
	w.ci.CaptureLength = len(data)
	w.ci.Length = max(p.OrigLen, len(p.Data))
	if err := w.pw.WritePacket(w.ci, data); err != nil {
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
