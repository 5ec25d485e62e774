package cmd

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// TestQuietStatistics checks that -q's statistics are true in every mode.
func TestQuietStatistics(t *testing.T) {
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	other := filepath.Join("..", "testdata", "coder-ipv6.pcap")
	// A capture of a link type wsdissect cannot decode.
	odd := filepath.Join(t.TempDir(), "odd.pcap")
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkType(147)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1, 0), CaptureLength: 4, Length: 4}, []byte{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(odd, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		want    []string
		notWant []string
		stderr  string
	}{
		{"messages do not claim 0 frames", []string{"read", "-q", "--messages", good},
			[]string{"Frames:        not counted", "Messages:      13", "Packets:       37"}, []string{"Frames:        0"}, ""},
		{"filter applies to the counts", []string{"read", "-q", "-Y", "opcode == text", good},
			[]string{"matching opcode == text", "Frames:        4 (text 4)"}, nil, ""},
		{"several files give one total", []string{"read", "-q", good, other},
			[]string{"Files:         2", "Packets:       74", "Connections:   2"}, nil, ""},
		{"unsupported link type is said and counted", []string{"read", "-q", odd},
			[]string{"Packets:       3 (0 TCP, 0 malformed, 3 of unsupported link type 147)"}, nil, "skipped 3 packets of link type 147"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Execute(tc.args, nil, &out, &errOut); code != ExitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(out.String(), w) {
					t.Errorf("output has %q:\n%s", w, out.String())
				}
			}
			if strings.Count(out.String(), "WebSocket statistics") != 1 {
				t.Errorf("want exactly one statistics block:\n%s", out.String())
			}
			if !strings.Contains(errOut.String(), tc.stderr) || (tc.stderr == "" && errOut.Len() > 0) {
				t.Errorf("stderr %q, want %q", errOut.String(), tc.stderr)
			}
		})
	}
}

// TestQuietJSON checks that -q --json prints one JSON object with the
// documented keys, counted as the text form counts.
func TestQuietJSON(t *testing.T) {
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	var out, errOut bytes.Buffer
	if code := Execute([]string{"read", "-q", "--json", good}, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 1 {
		t.Fatalf("%d lines, want one JSON object:\n%s", n, out.String())
	}
	var got map[string]any
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	want := map[string]float64{"files": 1, "packets": 37, "tcp_packets": 37, "connections": 1, "frames": 13, "messages": 13, "anomalies": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	for _, k := range []string{"frames_by_opcode", "messages_by_opcode", "bytes_c2s", "bytes_s2c", "malformed_packets", "unsupported_link_packets"} {
		if _, ok := got[k]; !ok {
			t.Errorf("key %q missing", k)
		}
	}
}
