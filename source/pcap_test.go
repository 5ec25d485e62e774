package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapgoPackets reads a classic pcap file with gopacket's pcapgo, the
// reference for pcapReader: the packets it returns before its first error,
// and whether it reached a clean end.
func pcapgoPackets(data []byte) (pkts []Packet, clean bool) {
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, false
	}
	for range 1 << 20 {
		d, ci, err := r.ReadPacketData()
		if err != nil {
			return pkts, err == io.EOF && ci.CaptureLength == 0
		}
		pkts = append(pkts, Packet{
			Number:   uint64(len(pkts) + 1),
			Time:     ci.Timestamp,
			LinkType: LinkType(r.LinkType()),
			Data:     d,
			OrigLen:  ci.Length,
		})
	}
	return pkts, false
}

// comparePcapgo reads data with File and with pcapgo and reports where they
// disagree: on the packets, or on whether the input ends cleanly. The
// timestamps are compared when checkTime is set: pcapgo computes the
// fraction of a second in 32 bits, which wraps for (invalid) microsecond
// values above 4294967, where File does not.
func comparePcapgo(t *testing.T, data []byte, checkTime bool) {
	t.Helper()
	want, clean := pcapgoPackets(data)
	f, err := OpenReader("x.pcap", bytes.NewReader(data))
	if err != nil {
		if len(want) > 0 || clean {
			t.Fatalf("Open: %v; pcapgo reads %d packets", err, len(want))
		}
		return
	}
	defer f.Close()
	var p Packet
	for i := range len(want) + 1 {
		err := f.Next(&p)
		if i == len(want) {
			switch {
			case err == nil:
				t.Fatalf("packet %d read, pcapgo stops before it", i+1)
			case clean && err != io.EOF:
				t.Fatalf("error %v where pcapgo ends cleanly", err)
			case !clean && !errors.Is(err, ErrDamaged):
				t.Fatalf("error %v, want ErrDamaged where pcapgo fails", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("packet %d: %v; pcapgo reads %d packets", i+1, err, len(want))
		}
		w := want[i]
		if p.Number != w.Number || p.LinkType != w.LinkType || !bytes.Equal(p.Data, w.Data) ||
			p.OrigLen != max(w.OrigLen, len(w.Data)) || checkTime && !p.Time.Equal(w.Time) {
			t.Fatalf("packet %d = {%d %v %v len %d orig %d}, pcapgo {%d %v %v len %d orig %d}", i+1,
				p.Number, p.Time, p.LinkType, len(p.Data), p.OrigLen,
				w.Number, w.Time, w.LinkType, len(w.Data), w.OrigLen)
		}
	}
}

// pcapFiles returns the classic pcap files of the repository's testdata and,
// when present, of the shared corpus.
func pcapFiles(t *testing.T) []string {
	var files []string
	for _, dir := range []string{filepath.Join("..", "testdata"), corpusDir} {
		m, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no pcap files in ../testdata")
	}
	return files
}

func TestPcapMatchesPcapgo(t *testing.T) {
	for _, path := range pcapFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(path), func(t *testing.T) { comparePcapgo(t, data, true) })
	}
	pkts := testPkts(5)
	pcap := pcapBytes(t, false, layers.LinkTypeEthernet, pkts)
	big := make([]byte, 300<<10) // longer than the input buffer
	for i := range big {
		big[i] = byte(i * 7)
	}
	huge := pcapBytes(t, true, layers.LinkTypeEthernet, []testPkt{
		{ts: time.Unix(5, 123456789), data: big, origLen: len(big)},
		pkts[0],
	})
	binary.LittleEndian.PutUint32(huge[16:], 1<<20) // snap length above the record
	fcs := bytes.Clone(pcap)
	binary.LittleEndian.PutUint32(fcs[20:], 1|0x14000000) // FCS bits above the link type
	tests := []struct {
		name string
		data []byte
	}{
		{"little-endian", pcap},
		{"big-endian nanoseconds", pcapBigEndian(true, uint32(LinkRaw), pkts)},
		{"big-endian microseconds", pcapBigEndian(false, uint32(LinkSLL), pkts)},
		{"record longer than the buffer", huge},
		{"record longer than the buffer, cut", huge[:200<<10]},
		{"link type with FCS bits", fcs},
		{"header only", pcap[:24]},
		{"cut in a record header", pcap[:24+16+len(pkts[0].data)+5]},
		{"cut in packet data", pcap[:len(pcap)-2]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { comparePcapgo(t, tc.data, true) })
	}
}

// FuzzPcapMatchesPcapgo checks the pcap reader against pcapgo on any input
// that starts with a pcap file header.
func FuzzPcapMatchesPcapgo(f *testing.F) {
	pkts := testPkts(3)
	f.Add(pcapBytes(f, false, layers.LinkTypeEthernet, pkts)[24:])
	f.Add(pcapBigEndian(true, uint32(LinkRaw), pkts)[24:])
	f.Fuzz(func(t *testing.T, records []byte) {
		for _, hdr := range [][]byte{
			pcapBytes(t, false, layers.LinkTypeEthernet, nil),
			pcapBigEndian(true, uint32(LinkRaw), nil),
		} {
			comparePcapgo(t, append(bytes.Clone(hdr), records...), false)
		}
	})
}
