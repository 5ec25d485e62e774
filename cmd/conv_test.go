package cmd

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConvGoldens runs conns and follow on generated captures (plain,
// compressed, fragmented, mid-stream, with lost bytes) and compares the
// output with golden files.
func TestConvGoldens(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"conns-coder-basic.txt", []string{"conns", "coder-basic.pcap"}},
		{"conns-coder-basic.json", []string{"conns", "coder-basic.pcap", "--json"}},
		{"conns-coder-deflate-takeover.txt", []string{"conns", "coder-deflate-takeover.pcap"}},
		{"conns-coder-midstream.txt", []string{"conns", "coder-midstream.pcap"}},
		{"conns-coder-lost.json", []string{"conns", "coder-lost.pcap", "--json"}},
		{"conns-gorilla-impaired.txt", []string{"conns", "gorilla-impaired.pcap"}},
		{"conns-mixed-linktypes.txt", []string{"conns", "mixed-linktypes.pcapng", "--sort", "bytes"}},
		{"conns-edge-violations.txt", []string{"conns", "edge-violations.pcap"}},
		// Over HTTP/2 each WebSocket session is a row (accepted, refused).
		{"conns-h2c-handbuilt.txt", []string{"conns", "h2c-handbuilt.pcap"}},
		{"conns-h2c-xnet.json", []string{"conns", "h2c-xnet.pcap", "--json"}},
		{"follow-coder-basic.txt", []string{"follow", "coder-basic.pcap", "0"}},
		{"follow-coder-basic.hex", []string{"follow", "coder-basic.pcap", "0", "--format", "hex"}},
		{"follow-coder-fragmented.txt", []string{"follow", "coder-fragmented.pcap"}},
		{"follow-coder-deflate-takeover.json", []string{"follow", "coder-deflate-takeover.pcap", "0", "--format", "json"}},
		{"follow-coder-deflate-takeover.pretty", []string{"follow", "coder-deflate-takeover.pcap", "0", "--pretty", "-d", "s2c"}},
		{"follow-coder-midstream.txt", []string{"follow", "coder-midstream.pcap", "0"}},
		{"follow-coder-lost.txt", []string{"follow", "coder-lost.pcap", "0"}},
		{"follow-h2c-handbuilt-5.txt", []string{"follow", "h2c-handbuilt.pcap", "0/5"}},
		// The TCP stream alone names an HTTP/2 connection's only session.
		{"follow-h2c-single.txt", []string{"follow", "h2c-single.pcap", "0"}},
	}
	for _, tc := range cases {
		t.Run(tc.golden, func(t *testing.T) {
			args := append([]string{}, tc.args...)
			args[1] = filepath.Join("..", "testdata", args[1])
			if args[0] == "follow" { // conns has no colour, nor --color
				args = append(args, "--color", "never")
			}
			var out, errOut bytes.Buffer
			if code := Execute(args, nil, &out, &errOut); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			checkConvGolden(t, tc.golden, out.Bytes())
		})
	}
}

// checkConvGolden compares got with testdata/golden/name (-update rewrites it).
func checkConvGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd -run Conv -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s:\n%s", golden, firstDiff(string(got), string(want)))
	}
}

// TestFollowUsage checks follow's usage errors: no stream in a capture with
// several connections off a terminal lists them; raw needs a direction.
func TestFollowUsage(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"follow", "../testdata/mixed-linktypes.pcapng"}, "STREAM  CLIENT"},
		{[]string{"follow", "../testdata/coder-basic.pcap", "0", "--format", "raw"}, "needs -d c2s or -d s2c"},
		{[]string{"follow", "../testdata/coder-basic.pcap", "0", "--format", "xml"}, "--format must be one of"},
		{[]string{"follow", "../testdata/coder-basic.pcap", "x"}, "is not a stream number"},
		{[]string{"follow", "../testdata/coder-basic.pcap", "5"}, "no WebSocket connection with stream number 5"},
		{[]string{"follow", "../testdata/h2c-handbuilt.pcap", "0"}, "stream 0 is an HTTP/2 connection with 3 WebSocket sessions; name one as 0/M"},
		{[]string{"follow", "../testdata/h2c-handbuilt.pcap", "0/9"}, "no WebSocket connection with stream number 0/9"},
		{[]string{"follow", "../testdata/h2c-handbuilt.pcap", "0/0"}, "is not an HTTP/2 stream id"},
		{[]string{"conns", "../testdata/coder-basic.pcap", "--sort", "size"}, "unknown sort key"},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		if code := Execute(tc.args, nil, &out, &errOut); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, ExitUsage)
		}
		if !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: stderr %q lacks %q", tc.args, errOut.String(), tc.want)
		}
	}
}

// TestNoMessagesSaysWhy checks that follow and export say why a connection
// has no messages when the capture tells: a TLS connection not decrypted, an
// upgrade refused.
func TestNoMessagesSaysWhy(t *testing.T) {
	td := func(n string) string { return filepath.Join("..", "testdata", n) }
	cases := []struct {
		args   []string
		stderr string
	}{
		{[]string{"follow", td("wss-tls13.pcap"), "0"}, "wsdissect: stream 0 has no WebSocket messages: it is a TLS connection that was not decrypted (no key log given); give its key log with --keylog\n"},
		{[]string{"follow", td("wss-tls13.pcap"), "0", "--keylog", td("wss-tls12-gcm.keylog")}, "wsdissect: stream 0 has no WebSocket messages: it is a TLS connection that was not decrypted (no key in the key log)\n"},
		{[]string{"follow", td("audit-h2.pcap"), "0/5"}, "wsdissect: stream 0/5 has no WebSocket messages: the upgrade was refused (403)\n"},
		{[]string{"follow", td("wss-tls13.pcap"), "0", "--keylog", td("wss-tls13.keylog")}, ""},
		{[]string{"export", td("wss-tls13.pcap"), "--har", filepath.Join(t.TempDir(), "x.har")},
			"wsdissect: export: 1 TLS connection not decrypted (no key log given): WebSocket messages inside were not exported (give the key log with --keylog)\n"},
		{[]string{"export", td("wss-tls13.pcap"), "--keylog", td("wss-tls13.keylog"), "--har", filepath.Join(t.TempDir(), "x.har")}, ""},
	}
	for _, tc := range cases {
		_, stderr := runOK(t, tc.args...)
		if stderr != tc.stderr {
			t.Errorf("%v: stderr %q, want %q", tc.args, stderr, tc.stderr)
		}
	}
}

// TestFollowRaw checks that raw output is exactly the bytes one side sent
// (the data messages, concatenated), and that -Y picks the stream.
func TestFollowRaw(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"follow", "../testdata/coder-basic.pcap", "--format", "raw", "-d", "c2s", "-Y", `payload contains "coder client"`}
	if code := Execute(args, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "Hello from the coder client") {
		t.Errorf("raw c2s output starts %q", out.String()[:min(40, out.Len())])
	}
	if strings.Contains(out.String(), "coder server") {
		t.Error("raw c2s output holds server bytes")
	}
}

// TestFollowByApplicationField checks that follow -Y finds a connection by
// an application-protocol field: the Socket.IO session id names the
// WebSocket connection its long-polling upgraded to.
func TestFollowByApplicationField(t *testing.T) {
	cases := []struct{ filter, want string }{
		{`socketio.sid == "q_dCe9Da_7bJQC1XAAAA"`, "Stream 3: 127.0.0.1:50123 → 127.0.0.1:8080 GET /socket.io/?EIO=4&transport=websocket&sid=q_dCe9Da_7bJQC1XAAAA"},
		{`socketio.event == "after"`, "Stream 3: "},
	}
	for _, tc := range cases {
		var out, errOut bytes.Buffer
		args := []string{"follow", "../testdata/subproto/socketio-polling.pcap", "--color", "never", "-Y", tc.filter}
		if code := Execute(args, nil, &out, &errOut); code != ExitOK {
			t.Fatalf("%s: exit %d: %s", tc.filter, code, errOut.String())
		}
		if !strings.HasPrefix(out.String(), tc.want) {
			t.Errorf("%s: output starts %q, want %q", tc.filter, out.String()[:min(120, out.Len())], tc.want)
		}
	}
}

// TestExportGoldens checks export's index and HAR on generated captures
// (fragmented, compressed) against golden files, and that every message
// file matches its index line.
func TestExportGoldens(t *testing.T) {
	for _, name := range []string{"coder-fragmented", "coder-deflate-takeover", "coder-lost"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			out, har := filepath.Join(dir, "out"), filepath.Join(dir, "x.har")
			var stdout, errOut bytes.Buffer
			args := []string{"export", filepath.Join("..", "testdata", name+".pcap"), "--dir", out, "--har", har}
			if code := Execute(args, nil, &stdout, &errOut); code != ExitOK {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			idx, err := os.ReadFile(filepath.Join(out, "index.ndjson"))
			if err != nil {
				t.Fatal(err)
			}
			checkConvGolden(t, "export-"+name+".index.ndjson", idx)
			h, err := os.ReadFile(har)
			if err != nil {
				t.Fatal(err)
			}
			checkConvGolden(t, "export-"+name+".har", h)
			for _, line := range strings.Split(strings.TrimSpace(string(idx)), "\n") {
				var j struct {
					File string
					Len  int
				}
				if err := json.Unmarshal([]byte(line), &j); err != nil {
					t.Fatal(err)
				}
				fi, err := os.Stat(filepath.Join(out, filepath.FromSlash(j.File)))
				if err != nil || int(fi.Size()) != j.Len {
					t.Errorf("%s: %v, size vs len %d", j.File, err, j.Len)
				}
			}
		})
	}
}

// TestConnsZeekFlag checks that conns --zeek writes both logs, in TSV or
// JSON, and that --zeek-json alone is refused.
func TestConnsZeekFlag(t *testing.T) {
	for _, asJSON := range []bool{false, true} {
		dir := t.TempDir()
		args := []string{"conns", "../testdata/coder-basic.pcap", "--zeek", dir}
		if asJSON {
			args = append(args, "--zeek-json")
		}
		var out, errOut bytes.Buffer
		if code := Execute(args, nil, &out, &errOut); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		for _, name := range []string{"websocket.log", "websocket_messages.log"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if asJSON != strings.HasPrefix(string(b), "{") || (!asJSON && !strings.HasPrefix(string(b), "#separator")) {
				t.Errorf("%s (json %v) starts %q", name, asJSON, b[:min(20, len(b))])
			}
		}
	}
	var out, errOut bytes.Buffer
	if code := Execute([]string{"conns", "../testdata/coder-basic.pcap", "--zeek-json"}, nil, &out, &errOut); code != ExitUsage {
		t.Errorf("--zeek-json without --zeek: exit %d", code)
	}
}

// TestFollowColor checks that --color always colours the two directions
// differently and --color never leaves no escape.
func TestFollowColor(t *testing.T) {
	on, _ := runOK(t, "follow", "../testdata/coder-basic.pcap", "0", "--color", "always")
	if !strings.Contains(on, "\x1b[32m→ c2s") || !strings.Contains(on, "\x1b[34m← s2c") {
		t.Errorf("coloured transcript lacks the direction colours:\n%.300q", on)
	}
	off, _ := runOK(t, "follow", "../testdata/coder-basic.pcap", "0", "--color", "never")
	if strings.Contains(off, "\x1b[") {
		t.Error("--color never wrote escape sequences")
	}
}

// TestHARScheme checks the HAR entries' URLs and HTTP versions over TLS:
// wss:// for a decrypted HTTP/1.1 WebSocket and for WebSockets over HTTP/2
// (which say http/2.0 and do not give a header size).
func TestHARScheme(t *testing.T) {
	cases := []struct{ name, want string }{
		{"wss-tls13", `["wss://10.1.0.2:8080/ws","HTTP/1.1"]`},
		{"h2-tls-xnet", `["wss://h2c.example/ws/one","http/2.0",-1]`},
	}
	for _, tc := range cases {
		har := filepath.Join(t.TempDir(), "out.har")
		runOK(t, "export", "../testdata/"+tc.name+".pcap", "--keylog", "../testdata/"+tc.name+".keylog", "--har", har)
		b, err := os.ReadFile(har)
		if err != nil {
			t.Fatal(err)
		}
		var h struct {
			Log struct {
				Entries []struct {
					Request struct {
						URL         string `json:"url"`
						HTTPVersion string `json:"httpVersion"`
						HeadersSize int    `json:"headersSize"`
					} `json:"request"`
				} `json:"entries"`
			} `json:"log"`
		}
		if err := json.Unmarshal(b, &h); err != nil || len(h.Log.Entries) == 0 {
			t.Fatalf("%s: %v, %d entries", tc.name, err, len(h.Log.Entries))
		}
		r := h.Log.Entries[0].Request
		got := fmt.Sprintf("[%q,%q]", r.URL, r.HTTPVersion)
		if r.HeadersSize < 0 {
			got = fmt.Sprintf("[%q,%q,%d]", r.URL, r.HTTPVersion, r.HeadersSize)
		}
		if got != tc.want {
			t.Errorf("%s: first entry %s, want %s", tc.name, got, tc.want)
		}
	}
}
