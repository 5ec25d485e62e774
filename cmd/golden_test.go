package cmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGoldenOutputs runs the command line on generated captures and compares
// every output mode with its golden file.
func TestGoldenOutputs(t *testing.T) {
	type mode struct {
		name string
		args []string
	}
	summary, tree, hex := mode{"summary", nil}, mode{"tree", []string{"-V"}}, mode{"hex", []string{"-x"}}
	js, msgs := mode{"json", []string{"--json"}}, mode{"messages", []string{"--messages"}}
	msgsJSON := mode{"messages.json", []string{"--json", "--messages"}}
	cases := []struct {
		capture string
		modes   []mode
	}{
		{"coder-basic.pcap", []mode{summary, tree, hex, js, msgs, msgsJSON}},
		{"edge-violations.pcap", []mode{summary, tree, js}},
		{"coder-midstream.pcap", []mode{summary, js}},
		{"gorilla-impaired.pcap", []mode{summary, msgs}},
		{"edge-rejected-upgrade.pcap", []mode{tree, js}},
		{"coder-deflate-takeover.pcap", []mode{summary, msgsJSON}},
		{"coder-fragmented.pcap", []mode{summary, msgs}},
		{"edge-64bit-len.pcap", []mode{summary}},
		{"mixed-linktypes.pcapng", []mode{summary}},
		{"coder-lost.pcap", []mode{summary}},
		{"h2c-handbuilt.pcap", []mode{summary, tree, js, {"stats", []string{"-q"}}}},
		{"h2c-xnet.pcap", []mode{msgs}},
		// application protocols: one record per application message,
		// the pending note, the decoder on the conn record
		{"subproto/mqtt.pcap", []mode{msgs}},
		{"subproto/socketio.pcap", []mode{msgs}},
		{"subproto/jsonrpc.pcap", []mode{msgsJSON}},
		// long-polling exchanges, then the upgraded WebSocket, one sid
		{"subproto/socketio-polling.pcap", []mode{msgs, msgsJSON, tree}},
	}
	for _, tc := range cases {
		c := tc.capture
		for _, m := range tc.modes {
			name := strings.TrimSuffix(strings.TrimSuffix(c, ".pcapng"), ".pcap") + "." + m.name
			t.Run(name, func(t *testing.T) {
				args := append([]string{"read", "--color", "never", filepath.Join("..", "testdata", c)}, m.args...)
				var out, errOut bytes.Buffer
				if code := Execute(args, nil, &out, &errOut); code != ExitOK {
					t.Fatalf("exit %d: %s", code, errOut.String())
				}
				out = *bytes.NewBuffer(memoryLine.ReplaceAll(out.Bytes(), []byte("${1}(machine-dependent)")))
				golden := filepath.Join("testdata", "golden", name)
				if *update {
					if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd -run Golden -update)", err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Errorf("output differs from %s (rerun with -update after checking the change):\n%s", golden, firstDiff(out.String(), string(want)))
				}
			})
		}
	}
}

// memoryLine matches the statistics' peak memory, which depends on the
// machine (workers, queue reservations): goldens keep only its label.
var memoryLine = regexp.MustCompile(`(?m)^(  Memory: +).*$`)

// firstDiff shows the first differing line.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return "line " + strconv.Itoa(i+1) + ":\n got:  " + a + "\n want: " + b
		}
	}
	return ""
}
