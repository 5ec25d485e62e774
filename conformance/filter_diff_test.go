package conformance

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/filter"
)

// diffExpressions are filters both tshark and wsdissect understand. tshark
// evaluates them per packet with "any frame" semantics per field; they are
// chosen so that this agrees with wsdissect's per-frame evaluation.
var diffExpressions = []string{
	`websocket.opcode == 1`,
	`websocket.opcode == 2`,
	`websocket.opcode == 8`,
	`websocket.opcode == 9 || websocket.opcode == 10`,
	`websocket.opcode in {9, 10}`,
	`websocket.fin == 0`,
	`websocket.fin == 1 && websocket.opcode == 0`,
	`websocket.mask == 1`,
	`websocket.mask == 0`,
	`websocket.mask == 1 && websocket.payload_length > 100`,
	`websocket.payload_length == 126`,
	`websocket.payload_length < 10`,
	`websocket.rsv == 4`,
	`websocket.pmc == 1`,
	`websocket.payload.close.status_code == 1000`,
	`websocket.payload.close.status_code in {1001, 1009}`,
	`websocket.payload.text contains "Hello"`,
	`websocket.payload.text matches "^[0-9]"`,
	`websocket.masking_key == e4:e9:ea:bd`,
	`tcp.stream == 1`,
	`tcp.port == 8765`,
	`frame.number < 40`,
	`ip.addr == 127.0.0.0/8 && websocket.opcode == 1`,
	`!(websocket.opcode == 2) && tcp.srcport > 10000`,
}

// TestFilterMatchesTshark checks that wsdissect's filter selects the same
// packets as tshark's display filter on the corpus.
func TestFilterMatchesTshark(t *testing.T) {
	caps, _ := filepath.Glob(filepath.Join(corpusDir, "*.pcap*"))
	if len(caps) == 0 {
		t.Skipf("corpus not found at %s; skipping the filter differential test", corpusDir)
	}
	tshark, err1 := exec.LookPath("tshark")
	mergecap, err2 := exec.LookPath("mergecap")
	if err1 != nil || err2 != nil {
		t.Skip("tshark and mergecap are not installed (apt install tshark); skipping the filter differential test")
	}
	// One merged file for every capture found by its handshake; the
	// mid-stream capture needs Decode As in tshark and runs on its own.
	var normal []string
	const midstream = "ndpi-websocket-midstream.pcap"
	for _, c := range caps {
		if filepath.Base(c) != midstream {
			normal = append(normal, c)
		}
	}
	merged := filepath.Join(t.TempDir(), "merged.pcapng")
	out, err := exec.Command(mergecap, append([]string{"-a", "-F", "pcapng", "-w", merged}, normal...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("mergecap: %v\n%s", err, out)
	}
	runs := []struct {
		file      string
		tsharkArg []string
		midstream bool // include connections picked up mid-stream
	}{
		{merged, nil, false},
		{filepath.Join(corpusDir, midstream), []string{"-d", "tcp.port==12345,websocket"}, true},
	}
	t.Cleanup(func() {}) // keep the merged file until the parallel subtests end
	for _, run := range runs {
		for _, expr := range diffExpressions {
			t.Run(filepath.Base(run.file)+"/"+expr, func(t *testing.T) {
				t.Parallel()
				args := append([]string{"-n", "-r", run.file, "-o", "websocket.decompress:TRUE"}, run.tsharkArg...)
				args = append(args, "-Y", "websocket && ("+expr+")", "-T", "fields", "-e", "frame.number")
				cmd := exec.Command(tshark, args...)
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				res, err := cmd.Output()
				if err != nil {
					t.Fatalf("tshark: %v\n%s", err, stderr.String())
				}
				var want []uint64
				for _, l := range strings.Fields(string(res)) {
					n, err := strconv.ParseUint(l, 10, 64)
					if err != nil {
						t.Fatalf("tshark output %q", l)
					}
					want = append(want, n)
				}
				got := selectPackets(t, run.file, expr, run.midstream)
				if !slices.Equal(got, want) {
					t.Errorf("filter %q selects different packets\n tshark:    %v\n wsdissect: %v", expr, want, got)
				}
			})
		}
	}
}

// packetSet collects the packets of matching frame records.
type packetSet struct {
	f         *filter.Filter
	midstream bool
	pkts      []uint64
}

func (p *packetSet) Emit(r *dissect.Record) error {
	if r.Kind != dissect.KindFrame || (r.Conn.Midstream && !p.midstream) || !p.f.Match(r) {
		return nil
	}
	if n := len(p.pkts); n == 0 || p.pkts[n-1] != r.Packet {
		p.pkts = append(p.pkts, r.Packet)
	}
	return nil
}

func selectPackets(t *testing.T, file, expr string, midstream bool) []uint64 {
	t.Helper()
	f, err := filter.Compile(expr)
	if err != nil {
		t.Fatalf("compile %q: %v", expr, err)
	}
	ps := &packetSet{f: f, midstream: midstream}
	if _, err := engine.ReadFile(file, engine.Options{}, ps); err != nil {
		t.Fatalf("reading %s: %v", file, err)
	}
	slices.Sort(ps.pkts)
	return slices.Compact(ps.pkts)
}
