package filter_test

import (
	"path/filepath"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/filter"
)

// counter counts matching frame or message records.
type counter struct {
	f *filter.Filter
	n int
}

func (c *counter) Emit(r *dissect.Record) error {
	if (r.Kind == dissect.KindFrame || r.Kind == dissect.KindMessage) && c.f.Match(r) {
		c.n++
	}
	return nil
}

// TestFiltersOnGeneratedCaptures evaluates filters over records decoded
// from the project's own captures, where what each library sent is known.
func TestFiltersOnGeneratedCaptures(t *testing.T) {
	tests := []struct {
		capture  string
		messages bool
		expr     string
		want     int
	}{
		{"coder-basic.pcap", false, "opcode == text", 4},
		{"coder-basic.pcap", false, "opcode == text && dir == c2s", 2},
		{"coder-basic.pcap", false, "opcode == data && dir == server", 3},
		{"coder-basic.pcap", false, "opcode == control", 6},
		{"coder-basic.pcap", false, "close.code == 1000 && close.reason == \"bye\"", 2},
		{"coder-basic.pcap", false, "websocket.mask == 1", 7},
		{"coder-basic.pcap", false, "len == 0", 1},
		{"coder-basic.pcap", false, "text contains \"日本語\"", 1},
		{"coder-basic.pcap", true, "json[0].event == \"tick\"", 1},
		{"coder-basic.pcap", true, "json[1].id > 0 && json[1].status matches \"^OK$\"", 1},
		{"coder-basic.pcap", false, "port == 8080 && ip.addr == 10.1.0.0/16 && stream == 0", 13},
		{"coder-deflate-takeover.pcap", false, "compressed && !rsv1", 4}, // continuation frames of compressed messages
		{"coder-deflate-takeover.pcap", true, "compressed && opcode == text && len > 100", 6},
		{"coder-fragmented.pcap", false, "!fin", 14},
		{"edge-violations.pcap", false, "anomaly", 10},
		{"edge-violations.pcap", false, "anomaly == \"client-frame-unmasked\"", 1},
		{"edge-violations.pcap", false, "anomaly contains \"length\"", 3},
		{"coder-midstream.pcap", false, "stream == 0 && dir == s2c", 3},
	}
	for _, tc := range tests {
		t.Run(tc.capture+"/"+tc.expr, func(t *testing.T) {
			f, err := filter.Compile(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			c := &counter{f: f}
			opts := engine.Options{Dissect: dissect.Options{Messages: tc.messages}}
			if _, err := engine.ReadFile(filepath.Join("..", "testdata", tc.capture), opts, c); err != nil {
				t.Fatal(err)
			}
			if c.n != tc.want {
				t.Errorf("%q matched %d records, want %d", tc.expr, c.n, tc.want)
			}
		})
	}
}
