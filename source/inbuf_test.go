package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/gopacket/gopacket/layers"
)

// stutterReader returns no bytes and no error on every other call, then at
// most max bytes.
type stutterReader struct {
	r     io.Reader
	max   int
	calls int
}

func (s *stutterReader) Read(p []byte) (int, error) {
	s.calls++
	if s.calls%2 == 1 {
		return 0, nil
	}
	return s.r.Read(p[:min(len(p), s.max)])
}

// emptyReader returns no bytes and no error forever.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

// TestPcapShortReads reads pcap input that arrives in small pieces, with
// records across the input buffer's boundary and one longer than the
// buffer: the packets are pcapgo's and Pos follows them exactly.
func TestPcapShortReads(t *testing.T) {
	pkts := testPkts(40)
	big := make([]byte, pcapBufSize+1000)
	for i := range big {
		big[i] = byte(i * 13)
	}
	pkts = append(pkts[:20], append([]testPkt{{data: big, origLen: len(big)}}, pkts[20:]...)...)
	data := pcapBytes(t, false, layers.LinkTypeEthernet, pkts)
	binary.LittleEndian.PutUint32(data[16:], 1<<20) // snap length above the big record
	want, clean := pcapgoPackets(data)
	if !clean || len(want) != len(pkts) {
		t.Fatalf("pcapgo reads %d packets (clean %v), want %d", len(want), clean, len(pkts))
	}
	readers := map[string]func() io.Reader{
		"one byte":     func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"half":         func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"data and EOF": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
		"stutter":      func() io.Reader { return &stutterReader{r: bytes.NewReader(data), max: 777} },
	}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			f, err := OpenReader("x.pcap", mk())
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			pos := int64(pcapHeaderLen)
			var p Packet
			for i, w := range want {
				if err := f.Next(&p); err != nil {
					t.Fatalf("packet %d: %v", i+1, err)
				}
				if !bytes.Equal(p.Data, w.Data) || !p.Time.Equal(w.Time) || p.OrigLen != w.OrigLen {
					t.Fatalf("packet %d differs from pcapgo's (len %d, want %d)", i+1, len(p.Data), len(w.Data))
				}
				pos += 16 + int64(len(w.Data))
				if f.Pos() != pos {
					t.Fatalf("Pos after packet %d = %d, want %d", i+1, f.Pos(), pos)
				}
			}
			if err := f.Next(&p); err != io.EOF {
				t.Fatalf("after the last packet: %v, want io.EOF", err)
			}
		})
	}
}

// TestPcapNoProgress checks that input that never delivers bytes ends the
// read with an error instead of spinning.
func TestPcapNoProgress(t *testing.T) {
	hdr := pcapBytes(t, false, layers.LinkTypeEthernet, nil)
	f, err := OpenReader("x.pcap", io.MultiReader(bytes.NewReader(hdr), emptyReader{}))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p Packet
	if err := f.Next(&p); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("Next = %v, want an error wrapping io.ErrNoProgress", err)
	}
}
