package conv

import (
	"cmp"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// corpusDir is the shared public capture corpus beside the repository
// (WSDISSECT_CORPUS overrides it, for a checkout elsewhere).
var corpusDir = cmp.Or(os.Getenv("WSDISSECT_CORPUS"), "../../../shared/corpus")

// readZeekTSV parses a Zeek TSV log into its header lines and rows as
// column-name maps.
func readZeekTSV(t *testing.T, path string) (header []string, rows []map[string]string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			header = append(header, line)
			if f, ok := strings.CutPrefix(line, "#fields\t"); ok {
				fields = strings.Split(f, "\t")
			}
			continue
		}
		cells := strings.Split(line, "\t")
		if len(cells) != len(fields) {
			t.Fatalf("%s: row has %d cells, #fields %d: %q", path, len(cells), len(fields), line)
		}
		row := map[string]string{}
		for i, c := range cells {
			row[fields[i]] = c
		}
		rows = append(rows, row)
	}
	return header, rows
}

// TestZeekBaselines compares websocket.log with the rows of Zeek's own test
// baselines (zeek/zeek testing/btest/Baseline/scripts.base.protocols.websocket.*)
// for the corpus captures Zeek ships: every Zeek column but ts (masked in
// the baselines) and uid (random in Zeek) must be equal.
func TestZeekBaselines(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		t.Skipf("corpus not found at %s: %v", corpusDir, err)
	}
	cols := []string{"id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "host", "uri", "user_agent",
		"subprotocol", "client_protocols", "server_extensions", "client_extensions"}
	cases := []struct {
		capture string
		want    [][]string // one row per connection, in cols order
	}{
		{"zeek-broker-websocket.pcap", [][]string{{"127.0.0.1", "38776", "127.0.0.1", "27599", "localhost:27599",
			"/v1/messages/json", "Python/3.10 websockets/12.0", "-", "-", "-", "permessage-deflate; client_max_window_bits"}}},
		{"zeek-jupyter-websocket.pcap", [][]string{{"127.0.0.1", "40492", "127.0.0.1", "51185", "192.168.122.182",
			"/user/christian/api/kernels/f8645ecd-0a76-4bb1-9e6e-cb464276bc69/channels?session_id=deeecee7-efc2-42a1-a7c1-e1c0569436e3",
			"Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/118.0", "v1.kernel.websocket.jupyter.org",
			"v1.kernel.websocket.jupyter.org", "-", "permessage-deflate"}}},
		{"zeek-wstunnel-http.pcap", [][]string{{"127.0.0.1", "51102", "127.0.0.1", "8888", "localhost:8888", "/v1/events", "-", "v1",
			"v1,authorization.bearer.eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpZCI6IjAxOGNmZWFiLWY5OWQtNzBmNy05NmFmLTBlOGJhNjk2YTFmNiIsInAiOiJUY3AiLCJyIjoiemVlay5vcmciLCJycCI6ODB9.FsquetBp_jsIDzBslWyyTPlS2hcMprVuWmbT2r57N0A",
			"-", "-"}}},
		{"zeek-wstunnel-https.pcap", [][]string{{"127.0.0.1", "39992", "127.0.0.1", "8888", "localhost:8888", "/v1/events", "-", "v1",
			"v1,authorization.bearer.eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJpZCI6IjAxOGQwNTY1LTlmZTItNzFkZS1iNjRlLTU5MzhmZTI0ZmIyZCIsInAiOiJUY3AiLCJyIjoiMTkyLjAuNzguMTUwIiwicnAiOjQ0M30.xyDNRR4kK4fQSGfEyGzuUINn0xBVltxrFVBieMlqwEI",
			"-", "-"}}},
	}
	for _, tc := range cases {
		t.Run(tc.capture, func(t *testing.T) {
			dir := t.TempDir()
			zw, err := NewZeekWriter(dir, false)
			if err != nil {
				t.Fatal(err)
			}
			col := collect(t, filepath.Join(corpusDir, tc.capture), Options{OnMessage: zw.Message})
			if err := zw.Close(col.Sessions()); err != nil {
				t.Fatal(err)
			}
			_, rows := readZeekTSV(t, filepath.Join(dir, "websocket.log"))
			if len(rows) != len(tc.want) {
				t.Fatalf("%d rows, want %d", len(rows), len(tc.want))
			}
			for i, want := range tc.want {
				for j, c := range cols {
					if rows[i][c] != want[j] {
						t.Errorf("row %d %s = %q, want %q", i, c, rows[i][c], want[j])
					}
				}
				if !strings.HasPrefix(rows[i]["uid"], "C") || !strings.HasPrefix(rows[i]["community_id"], "1:") {
					t.Errorf("row %d: uid %q community_id %q", i, rows[i]["uid"], rows[i]["community_id"])
				}
			}
		})
	}
}

// TestZeekLogs checks the TSV header lines, the message log and the JSON
// variant on the known capture.
func TestZeekLogs(t *testing.T) {
	path, _ := knownCapture(t)
	dir := t.TempDir()
	zw, err := NewZeekWriter(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	col := collect(t, path, Options{OnMessage: zw.Message})
	if err := zw.Close(col.Sessions()); err != nil {
		t.Fatal(err)
	}
	s := col.Sessions()[0]
	header, rows := readZeekTSV(t, filepath.Join(dir, "websocket.log"))
	wantHeader := []string{
		`#separator \x09`, "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\twebsocket",
		"#open\t2024-01-02-03-04-05",
		"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thost\turi\tuser_agent\tsubprotocol\tclient_protocols\tserver_extensions\tclient_extensions\tcommunity_id",
		"#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tstring\tstring\tstring\tvector[string]\tvector[string]\tvector[string]\tstring",
		"#close\t2024-01-02-03-04-05",
	}
	if strings.Join(header, "\n") != strings.Join(wantHeader, "\n") {
		t.Errorf("header:\n%s\nwant:\n%s", strings.Join(header, "\n"), strings.Join(wantHeader, "\n"))
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r["ts"] != zeekTime(s.ResponseTime) || r["uid"] != ZeekUID(s) || r["host"] != "example.test" || r["uri"] != "/known?x=1" ||
		r["user_agent"] != "known/1.0" || r["server_extensions"] != "permessage-deflate" || r["client_protocols"] != "-" ||
		r["community_id"] != s.CommunityID {
		t.Errorf("row %v", r)
	}
	mh, mrows := readZeekTSV(t, filepath.Join(dir, "websocket_messages.log"))
	if len(mrows) != 12 || mh[4] != "#path\twebsocket_messages" {
		t.Fatalf("%d message rows, header %q", len(mrows), mh)
	}
	last := mrows[11]
	if last["opcode_name"] != "close" || last["close_code"] != "1000" || last["is_orig"] != "T" || last["n"] != "12" {
		t.Errorf("last message row %v", last)
	}
	if mrows[10]["close_reason"] != "going away" || mrows[10]["is_orig"] != "F" {
		t.Errorf("server close row %v", mrows[10])
	}

	jdir := t.TempDir()
	zj, err := NewZeekWriter(jdir, true)
	if err != nil {
		t.Fatal(err)
	}
	col = collect(t, path, Options{OnMessage: zj.Message})
	if err := zj.Close(col.Sessions()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(jdir, "websocket.log"))
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if obj["id.orig_p"] != float64(51000) || obj["host"] != "example.test" || obj["uid"] != ZeekUID(col.Sessions()[0]) {
		t.Errorf("JSON row %v", obj)
	}
	if _, ok := obj["subprotocol"]; ok {
		t.Error("unset subprotocol written in JSON")
	}
	if !strings.HasPrefix(string(b), `{"ts":1704164645.`) {
		t.Errorf("JSON ts: %s", b[:30])
	}
}

// TestZeekEscape checks the TSV escaping of awkward values.
func TestZeekEscape(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain", "plain"},
		{"", "(empty)"},
		{"-", `\x2d`},
		{"(empty)", `\x28\x65\x6d\x70\x74\x79\x29`},
		{"a\tb\nc", `a\x09b\x0ac`},
		{`back\slash`, `back\\slash`},
		{"caf\xc3\xa9", `caf\xc3\xa9`},
	}
	for _, tc := range cases {
		if got := zeekString(tc.in); got != tc.want {
			t.Errorf("zeekString(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := zeekVector([]string{"a,b", "c"}, true); got != `a\x2cb,c` {
		t.Errorf("vector: %q", got)
	}
	if got := zeekVector(nil, true); got != "-" {
		t.Errorf("absent vector: %q", got)
	}
}

// TestZeekUID checks that uids are Zeek-shaped, stable and distinct.
func TestZeekUID(t *testing.T) {
	path, _ := knownCapture(t)
	a := ZeekUID(collect(t, path, Options{}).Sessions()[0])
	b := ZeekUID(collect(t, path, Options{}).Sessions()[0])
	if a != b || len(a) < 10 || a[0] != 'C' {
		t.Errorf("uids %q and %q", a, b)
	}
	col := collect(t, testdataPath("mixed-linktypes.pcapng"), Options{})
	seen := map[string]bool{}
	for _, s := range col.Sessions() {
		u := ZeekUID(s)
		if seen[u] {
			t.Errorf("uid %q repeated", u)
		}
		seen[u] = true
	}
}
