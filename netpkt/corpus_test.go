package netpkt

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/wsdissect/wsdissect/source"
)

// corpusDir holds real public captures, relative to this package.
const corpusDir = "../../shared/corpus"

// TestCorpus decodes every packet of the shared corpus: none may be
// malformed or of an unsupported link type, and every capture carries TCP.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.pcap*"))
	if len(files) == 0 {
		t.Skipf("no captures in %s (the shared corpus is not present in this checkout)", corpusDir)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := source.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var (
				p            source.Packet
				seg          Segment
				tcp, notTCP  int
				payloadTotal int
				claimedTotal int
			)
			for range 1 << 20 {
				if err = f.Next(&p); err != nil {
					break
				}
				switch err := Decode(p.LinkType, p.Data, &seg); {
				case err == nil:
					tcp++
					payloadTotal += len(seg.Payload)
					claimedTotal += seg.PayloadLen
					if seg.PayloadLen < len(seg.Payload) {
						t.Errorf("packet %d: PayloadLen %d < captured %d", p.Number, seg.PayloadLen, len(seg.Payload))
					}
				case errors.Is(err, ErrNotTCP):
					notTCP++
				default:
					t.Errorf("packet %d (link type %d): %v", p.Number, p.LinkType, err)
				}
			}
			if err != io.EOF {
				t.Fatal(err)
			}
			if tcp == 0 {
				t.Error("no TCP segments")
			}
			t.Logf("%d TCP segments (%d payload bytes captured of %d), %d other packets", tcp, payloadTotal, claimedTotal, notTCP)
		})
	}
}
