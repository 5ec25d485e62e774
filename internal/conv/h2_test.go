package conv

import (
	"encoding/json"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

func TestIDText(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    ID
		wantErr bool
	}{
		{in: "0", want: ID{}},
		{in: "17", want: ID{Stream: 17}},
		{in: "17/3", want: ID{Stream: 17, H2Stream: 3}},
		{in: "0/2147483647", want: ID{H2Stream: 1<<31 - 1}},
		{in: "0/2147483648", wantErr: true},
		{in: "0/0", wantErr: true},
		{in: "0/", wantErr: true},
		{in: "/3", wantErr: true},
		{in: "x", wantErr: true},
		{in: "-1", wantErr: true},
		{in: "1/5/3", want: ID{Stream: 1, Tunnel: 5, H2Stream: 3}},
		{in: "1/0/3", wantErr: true},
		{in: "1/2/3/4", wantErr: true},
		{in: "", wantErr: true},
	} {
		got, err := ParseID(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseID(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err == nil && got.String() != tc.in {
			t.Errorf("ParseID(%q).String() = %q", tc.in, got.String())
		}
	}
}

// TestHTTP2Sessions checks that the WebSocket sessions of one HTTP/2
// connection (RFC 8441) are sessions of their own, named by TCP and HTTP/2
// stream, each with its handshake, counts and end.
func TestHTTP2Sessions(t *testing.T) {
	col := collect(t, testdataPath("h2c-handbuilt.pcap"), Options{Keep: func(id ID) bool { return id == ID{Stream: 0, H2Stream: 5} }})
	type want struct {
		id        string
		path      string
		status    int
		msgs      [2]uint64
		end       string
		deflate   bool
		anomalies int
	}
	wants := []want{
		{id: "0/3", path: "/ws/hand", status: 200, msgs: [2]uint64{5, 2}, end: "h2-end-stream", anomalies: 1},
		{id: "0/5", path: "/ws/deflate", status: 200, msgs: [2]uint64{3, 2}, end: "h2-rst-stream:c2s", deflate: true, anomalies: 1},
		{id: "0/7", path: "/ws/forbidden", status: 403, end: "h2-goaway", anomalies: 1},
	}
	ss := col.Sessions()
	if len(ss) != len(wants) {
		t.Fatalf("%d sessions, want %d", len(ss), len(wants))
	}
	for i, w := range wants {
		s := ss[i]
		got := want{id: s.ID().String(), path: s.Path, status: s.Status, msgs: [2]uint64{s.Dirs[0].Messages, s.Dirs[1].Messages},
			end: s.End.Reason, deflate: len(s.Extensions) > 0, anomalies: s.Anomalies}
		if got != w {
			t.Errorf("session %d: %+v, want %+v", i, got, w)
		}
		if s.Method != "CONNECT" || s.Duration() <= 0 {
			t.Errorf("%s: method %q, duration %v", got.id, s.Method, s.Duration())
		}
		if kept := len(s.Messages) > 0; kept != (got.id == "0/5") {
			t.Errorf("%s: %d messages kept", got.id, len(s.Messages))
		}
		if col.Session(s.ID()) != s {
			t.Errorf("Session(%v) is not the session", s.ID())
		}
	}
	if col.Session(ID{Stream: 0}) != nil {
		t.Error("the HTTP/2 connection itself is a session")
	}

	// The JSON form and the table name the HTTP/2 stream.
	j, err := json.Marshal(ss[1].JSON())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"stream":0,"h2_stream":5,`) {
		t.Errorf("JSON %s", j)
	}
	if rows := ConnsRows(ss, false); rows[0][0] != "0/3" || rows[0][4] != "/ws/hand" || rows[2][0] != "0/7" || rows[2][4] != "/ws/forbidden [403]" {
		t.Errorf("rows %q", rows)
	}
}

// TestHTTP2ConnectionAnomalies checks that the anomalies of an HTTP/2
// connection itself count on each of its sessions and make no session.
func TestHTTP2ConnectionAnomalies(t *testing.T) {
	col := New(Options{})
	client, server := netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:80")
	at := time.Unix(1700000000, 0)
	h2conn := &dissect.Conn{Stream: 4, Client: client, Server: server, HTTP2: true}
	emit := func(r dissect.Record) {
		t.Helper()
		if err := col.Emit(&r); err != nil {
			t.Fatal(err)
		}
	}
	emit(dissect.Record{Kind: dissect.KindAnomaly, Conn: h2conn, Time: at, Packet: 1,
		Anomalies: []dissect.Anomaly{{ID: "tcp-gap"}}})
	for _, id := range []uint32{1, 3} {
		c := *h2conn
		c.H2Stream, c.Method, c.Status = id, "CONNECT", 200
		emit(dissect.Record{Kind: dissect.KindConn, Conn: &c, Time: at.Add(time.Second), Packet: 2})
	}
	other := &dissect.Conn{Stream: 5, Client: client, Server: server, Status: 101}
	emit(dissect.Record{Kind: dissect.KindConn, Conn: other, Time: at, Packet: 3})
	if err := col.Finish(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range col.Sessions() {
		got = append(got, s.ID().String()+":"+strings.Repeat("a", s.Anomalies))
	}
	if want := []string{"4/1:a", "4/3:a", "5:"}; !slices.Equal(got, want) {
		t.Errorf("sessions %q, want %q", got, want)
	}
	if n := col.Sessions()[0].AnomalyIDs["tcp-gap"]; n != 1 {
		t.Errorf("tcp-gap counted %d times", n)
	}
}

// TestHTTP2Export checks that each HTTP/2 session's messages get their own
// directory and index entries naming the HTTP/2 stream, and that the Zeek
// log lists the accepted sessions.
func TestHTTP2Export(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	fe, err := NewFileExporter(out)
	if err != nil {
		t.Fatal(err)
	}
	zdir := filepath.Join(t.TempDir(), "zeek")
	zw, err := NewZeekWriter(zdir, true)
	if err != nil {
		t.Fatal(err)
	}
	col := collect(t, testdataPath("h2c-handbuilt.pcap"), Options{OnMessage: func(s *Session, m *Message) error {
		if err := fe.Message(s, m); err != nil {
			return err
		}
		return zw.Message(s, m)
	}})
	if err := fe.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(col.Sessions()); err != nil {
		t.Fatal(err)
	}
	idx, err := os.ReadFile(filepath.Join(out, "index.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	perDir := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(idx)), "\n") {
		var j MessageJSON
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatal(err)
		}
		dir := filepath.ToSlash(filepath.Dir(filepath.FromSlash(j.File)))
		if want := (ID{Stream: j.Stream, Tunnel: j.H2Tunnel, H2Stream: j.H2Stream}).String(); dir != want {
			t.Errorf("%s: not under %s/", j.File, want)
		}
		if _, err := os.Stat(filepath.Join(out, filepath.FromSlash(j.File))); err != nil {
			t.Error(err)
		}
		perDir[dir]++
	}
	if want := map[string]int{"0/3": 7, "0/5": 5}; !maps.Equal(perDir, want) {
		t.Errorf("messages per directory %v, want %v", perDir, want)
	}
	log, err := os.ReadFile(filepath.Join(zdir, "websocket.log"))
	if err != nil {
		t.Fatal(err)
	}
	var uris, uids []string
	for _, l := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		var row struct{ URI, UID string }
		if err := json.Unmarshal([]byte(l), &row); err != nil {
			t.Fatal(err)
		}
		uris, uids = append(uris, row.URI), append(uids, row.UID)
	}
	if want := []string{"/ws/hand", "/ws/deflate"}; !slices.Equal(uris, want) || len(uids) != 2 || uids[0] == uids[1] {
		t.Errorf("websocket.log uris %q uids %q, want %q with distinct uids", uris, uids, want)
	}
}

// TestTLSOnlyRow checks that a TLS connection listed without a dissected
// handshake says so in the table (server name, why) and in JSON.
func TestTLSOnlyRow(t *testing.T) {
	col := collect(t, testdataPath("wss-tls13.pcap"), Options{}) // no key log
	ss := col.Sessions()
	if len(ss) != 1 || !ss[0].TLSOnly() {
		t.Fatalf("%d sessions, first TLS-only %v", len(ss), len(ss) > 0 && ss[0].TLSOnly())
	}
	if row := ConnsRows(ss, false)[0]; row[3] != "wss.example" || row[4] != "(TLS: no key log given)" {
		t.Errorf("host %q path %q", row[3], row[4])
	}
	j, err := json.Marshal(ss[0].JSON())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"tls":{"version":"TLS 1.3","cipher":"TLS_AES_128_GCM_SHA256","sni":"wss.example","decrypted":false,"reason":"no key log given","client_bytes":`) {
		t.Errorf("JSON %s", j)
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"héllo wörld", 5, "héll…"},
		{"ééé", 3, "ééé"},
		{"éééé", 3, "éé…"},
		{"abc", 0, "abc"},
		{"abc", 1, "…"},
	}
	for _, tt := range tests {
		if got := Clip(tt.s, tt.n); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

// TestLongCells checks that the table cuts long free-text cells short and
// that wide keeps them whole.
func TestLongCells(t *testing.T) {
	jwt := "eyJhbGciOiJIUzI1NiJ9." + strings.Repeat("eyJzdWIiOiIxMjM0NTY3ODkwIn0", 20)
	s := &Session{Host: strings.Repeat("h", 50) + ".example", Path: "/hub?id=1&access_token=" + jwt,
		Subprotocol: strings.Repeat("p", 40), Extensions: []string{"permessage-deflate; " + strings.Repeat("x", 100)}}
	s.Closes[1] = Close{Seen: true, HasCode: true, Code: 1000, Reason: strings.Repeat("r", 100)}
	s.FirstCloser = dissect.ServerToClient
	cut := ConnsRows([]*Session{s}, false)[0]
	whole := ConnsRows([]*Session{s}, true)[0]
	for i, limit := range map[int]int{3: maxHostCell, 4: maxPathCell, 5: maxSubprotocolCell, 6: maxExtensionsCell} {
		if n := len([]rune(cut[i])); n != limit || !strings.HasSuffix(cut[i], "…") {
			t.Errorf("column %d: %d runes %q, want %d ending in …", i, n, cut[i], limit)
		}
		if strings.Contains(whole[i], "…") || len(whole[i]) <= limit {
			t.Errorf("column %d wide: %q", i, whole[i])
		}
	}
	if want := `s2c 1000 "` + strings.Repeat("r", maxCloseReasonCell-1) + `…"`; cut[15] != want {
		t.Errorf("close %q, want %q", cut[15], want)
	}
	if want := `s2c 1000 "` + s.Closes[1].Reason + `"`; whole[15] != want {
		t.Errorf("wide close %q", whole[15])
	}
}
