//go:debug randseednop=0

package capgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"math/rand"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// testdataDir holds the committed captures.
const testdataDir = "../../testdata"

// readCapture returns every packet of a pcap, pcapng or gzip-compressed
// capture with its link type.
func readCapture(t *testing.T, name string, data []byte) (lts []LinkType, pkts [][]byte) {
	t.Helper()
	if strings.HasSuffix(name, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if data, err = io.ReadAll(zr); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if strings.Contains(name, ".pcapng") {
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{WantMixedLinkType: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for {
			d, ci, err := r.ReadPacketData()
			if err == io.EOF {
				return lts, pkts
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ifc, err := r.Interface(ci.InterfaceIndex)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			lts, pkts = append(lts, LinkType(ifc.LinkType)), append(pkts, d)
		}
	}
	r, err := pcapgo.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	for {
		d, _, err := r.ReadPacketData()
		if err == io.EOF {
			return lts, pkts
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		lts, pkts = append(lts, LinkType(r.LinkType())), append(pkts, d)
	}
}

// TestGenerateMatchesTestdata regenerates every capture into a temporary
// directory, checks that each parses and decodes with valid checksums, and
// that it is byte-identical to the committed file in testdata/. Run
// `go run ./tools/gencap -out testdata` after changing the generator.
func TestGenerateMatchesTestdata(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	outs, err := Generate(ctx, dir, GenerateOptions{Reseed: func(seed uint64) {
		cryptotest.SetGlobalRandom(t, seed)
		//lint:ignore SA1019 gorilla masks with the global math/rand source
		rand.Seed(int64(seed))
	}})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, o := range outs {
		total += len(o.Data)
		if strings.HasSuffix(o.Name, ".keylog") {
			if !bytes.Contains(o.Data, []byte("_SECRET")) && !bytes.Contains(o.Data, []byte("CLIENT_RANDOM")) {
				t.Errorf("%s: not a key log", o.Name)
			}
			continue
		}
		path := filepath.Join(dir, o.Name)
		lts, pkts := readCapture(t, o.Name, o.Data)
		if len(pkts) < 8 {
			t.Errorf("%s: only %d packets", o.Name, len(pkts))
		}
		for i, p := range pkts {
			decodeOne(t, i, lts[i], p, netip.AddrPort{})
		}
		truth, err := LoadTruth(path)
		if err != nil {
			t.Fatalf("%s: %v", o.Name, err)
		}
		if len(truth.Messages) == 0 || len(truth.Notes) == 0 {
			t.Errorf("%s: truth has %d messages and %d notes", o.Name, len(truth.Messages), len(truth.Notes))
		}
		if len(o.Data) > 100<<10 {
			t.Errorf("%s: %d bytes, keep captures small", o.Name, len(o.Data))
		}

		if !o.Deterministic {
			t.Logf("%s: not deterministic, not compared with testdata", o.Name)
			continue
		}
		for _, f := range []string{o.Name, filepath.Base(TruthPath(o.Name))} {
			want, err := os.ReadFile(filepath.Join(testdataDir, f))
			if err != nil {
				t.Errorf("%v (run `go run ./tools/gencap -out testdata`)", err)
				continue
			}
			got, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from testdata/%s (regenerate with `go run ./tools/gencap -out testdata`)", f, f)
			}
		}
	}
	if total > 1500<<10 {
		t.Errorf("captures total %d bytes", total)
	}
}

func TestBuildWithoutReseedIsValid(t *testing.T) {
	if testing.Short() {
		t.Skip("records every scenario")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	outs, err := Build(ctx, GenerateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		if strings.HasSuffix(o.Name, ".keylog") {
			continue
		}
		hand := strings.HasPrefix(o.Name, "edge-")
		if o.Deterministic != hand {
			t.Errorf("%s: deterministic = %v without reseeding", o.Name, o.Deterministic)
		}
	}
}
