package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// interleave writes a capture with the packets of the captures at paths
// taken in turn, one from each, their times made to increase by step from
// the first packet's, and returns its path.
func interleave(t *testing.T, step time.Duration, paths ...string) string {
	t.Helper()
	type pkt struct {
		data []byte
		orig int
	}
	var all [][]pkt
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		var ps []pkt
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			ps = append(ps, pkt{data, ci.Length})
		}
		f.Close()
		all = append(all, ps)
	}
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1_700_000_000, 0)
	for i := 0; ; i++ {
		wrote := false
		for _, ps := range all {
			if i < len(ps) {
				ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(ps[i].data), Length: ps[i].orig}
				if err := w.WritePacket(ci, ps[i].data); err != nil {
					t.Fatal(err)
				}
				ts = ts.Add(step)
				wrote = true
			}
		}
		if !wrote {
			break
		}
	}
	out := filepath.Join(t.TempDir(), "interleaved.pcap")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// timeColumn returns the second column of the summary lines in out.
func timeColumn(t *testing.T, out []byte) []float64 {
	t.Helper()
	var col []float64
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		if _, err := strconv.ParseUint(f[0], 10, 64); err != nil {
			continue
		}
		v, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			t.Fatalf("time column of %q: %v", line, err)
		}
		col = append(col, v)
	}
	return col
}

// TestDeltaTimeFollowsOutput checks that -t d gives each summary line the
// time since the line written before it, also where the output is put in
// packet order after rendering (a mid-stream connection's records, held
// while its frame search decides, come out among another connection's), with
// one worker and two.
func TestDeltaTimeFollowsOutput(t *testing.T) {
	cap := interleave(t, 7*time.Millisecond, "../testdata/coder-midstream.pcap", "../testdata/edge-nonstandard-port.pcap")
	for _, procs := range []string{"1", "2"} {
		t.Run("GOMAXPROCS="+procs, func(t *testing.T) {
			t.Setenv("GOMAXPROCS", procs)
			run := func(args ...string) []byte {
				var out, errOut bytes.Buffer
				if code := Execute(append([]string{"read", cap}, args...), nil, &out, &errOut); code != ExitOK {
					t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
				}
				return out.Bytes()
			}
			rel, delta := timeColumn(t, run("-t", "r")), timeColumn(t, run("-t", "d"))
			if len(rel) < 4 || len(rel) != len(delta) {
				t.Fatalf("%d lines with -t r, %d with -t d", len(rel), len(delta))
			}
			for i := range rel {
				want := 0.0
				if i > 0 {
					want = rel[i] - rel[i-1]
				}
				if d := delta[i] - want; d > 2e-6 || d < -2e-6 {
					t.Errorf("line %d: delta %.6f, want %.6f (relative times %v)", i+1, delta[i], want, rel)
				}
			}
		})
	}
}
