package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

func TestRelateOrigin(t *testing.T) {
	tests := []struct {
		origin, host string
		want         originRelation
	}{
		{"http://chat.example.com", "chat.example.com", sameOrigin},
		{"https://chat.example.com", "chat.example.com", sameOrigin}, // scheme not compared
		{"https://CHAT.example.com.", "chat.example.com", sameOrigin},
		{"http://chat.example.com:8080", "chat.example.com:8080", sameOrigin},
		{"http://chat.example.com:3000", "chat.example.com:8080", sameSite},
		{"https://app.example.com", "chat.example.com", sameSite},
		{"https://example.com", "chat.example.com", sameSite},
		{"https://a.example.co.uk", "b.example.co.uk", sameSite},
		{"https://example.co.uk", "other.co.uk", crossSite}, // co.uk is a public suffix
		{"https://alice.github.io", "bob.github.io", crossSite},
		{"https://evil.example", "chat.example.com", crossSite},
		{"https://example.com.evil.net", "example.com", crossSite},
		{"null", "chat.example.com", crossSite},
		{"file://", "chat.example.com", crossSite},
		{"%zz", "chat.example.com", crossSite},
		{"http://10.1.0.2:8080", "10.1.0.2:8080", sameOrigin},
		{"http://10.1.0.3", "10.1.0.2:8080", crossSite},
		{"http://[::1]:8080", "[::1]:8080", sameOrigin},
	}
	for _, tt := range tests {
		if got := relateOrigin(tt.origin, tt.host); got != tt.want {
			t.Errorf("relateOrigin(%q, %q) = %d, want %d", tt.origin, tt.host, got, tt.want)
		}
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "… (0 chars)"},
		{"abcd", "… (4 chars)"},
		{"abcdef0123456789", "a…9 (16 chars)"},
		{"ünïcödé", "ü…é (7 chars)"},
		{"a\x00\x00\x00\x01", "a…? (5 chars)"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestURLCredentials(t *testing.T) {
	tests := []struct {
		target string
		want   string
	}{
		{"/ws", ""},
		{"/ws?room=1&page=2", ""},
		{"/ws?token=abcdef123456", "token=a…6 (12 chars)"},
		{"/ws?room=1&access_token=eyJhbGciOi&x=y", "access_token=e…i (10 chars)"},
		{"/ws?API_KEY=k1k2k3k4k5", "API_KEY=k…5 (10 chars)"},
		{"/ws?csrf_token=zzzzzzzz#frag", "csrf_token=z…z (8 chars)"},
		{"/ws?token=", ""},
		{"/ws?sig=a%2Fb%2Fc%2Fd", "sig=a…d (7 chars)"},
	}
	for _, tt := range tests {
		if got := strings.Join(urlCredentials(tt.target), "&"); got != tt.want {
			t.Errorf("urlCredentials(%q) = %q, want %q", tt.target, got, tt.want)
		}
	}
}

func TestLooksLikeToken(t *testing.T) {
	tests := []struct {
		p    string
		want bool
	}{
		{"chat.v1", false},
		{"v1.kernel.websocket.jupyter.org", false},
		{"graphql-transport-ws", false},
		{"base64url.bearer.authorization.k8s.io.ZXlKaGJH", true},
		{"authorization.bearer.eyJhbGciOiJIUzI1NiJ9", true},
		{"Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA", true},
		{"mqtt", false},
	}
	for _, tt := range tests {
		if got := looksLikeToken(tt.p); got != tt.want {
			t.Errorf("looksLikeToken(%q) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestScanSecrets(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJl"
	tests := []struct {
		msg  string
		want []string // substrings of the descriptions, in order
	}{
		{`{"type":"chat","text":"hello"}`, nil},
		{`{"password":"hunter2hunter2"}`, []string{`JSON field "password": "h…2 (14 chars)"`}},
		{`{"Password" : "s3cr3t-value"}`, []string{`JSON field "Password": "s…e (12 chars)"`}},
		{`{"password":"********"}`, nil},
		{`{"password":""}`, nil},
		{`{"session":"not-a-credential-123"}`, nil},
		{`{"token":"` + jwt + `"}`, []string{`JWT header {"alg":"HS256"} claims {"sub":"bob"} signature c…l (12 chars)`}},
		{"key AKIAIOSFODNN7EXAMPLE here", []string{"AWS access key id A…E (20 chars)"}},
		{"xAKIAIOSFODNN7EXAMPLE", nil},
		{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn...", []string{"private key block -----BEGIN OPENSSH PRIVATE KEY-----"}},
		{"-----BEGIN PUBLIC KEY-----\nMIIB", nil},
		{"eyJ is how it starts", nil},
		{`{"token":"opaque-abcdef-123"}`, []string{`JSON field "token": "o…3 (17 chars)"`}},
		{`{"x":1, "Api-Key" :	"zzzz1234"}`, []string{`JSON field "Api-Key": "z…4 (8 chars)"`}},
		{`{"password":"a\"bcdefgh"}`, []string{`JSON field "password": "a…h (10 chars)"`}},
		{`{"password": 12345678}`, nil},
		{`{"password":"unterminated`, nil},
		{`"password":`, nil},
		{`{"mypassword_hint":"abcdefgh"}`, nil},
	}
	for _, tt := range tests {
		got := scanSecrets([]byte(tt.msg))
		if len(got) != len(tt.want) {
			t.Errorf("scanSecrets(%q) = %+v, want %d secrets", tt.msg, got, len(tt.want))
			continue
		}
		for i := range got {
			if !strings.Contains(got[i].desc, tt.want[i]) {
				t.Errorf("scanSecrets(%q)[%d] = %q, want %q", tt.msg, i, got[i].desc, tt.want[i])
			}
			if strings.Contains(got[i].desc, "hunter2hunter2") || strings.Contains(got[i].desc, "IOSFODNN7") {
				t.Errorf("scanSecrets(%q) leaks the secret: %q", tt.msg, got[i].desc)
			}
		}
	}
}

func TestSniffTunnel(t *testing.T) {
	tests := []struct {
		p     []byte
		proto string
	}{
		{[]byte("SSH-2.0-OpenSSH_9.6\r\n"), "SSH"},
		{[]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc}, "TLS"},
		{[]byte{0x16, 0x03, 0x03, 0x00, 0x5a, 0x02, 0x00}, "TLS"},
		{[]byte("GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP"},
		{[]byte("HTTP/1.1 200 OK\r\n"), "HTTP"},
		{[]byte("CONNECT example.com:443 HTTP/1.1\r\n"), "HTTP"},
		{[]byte{0x05, 0x01, 0x00}, "SOCKS5"},
		{[]byte("GET me a coffee"), ""},
		{[]byte(`{"type":"hello"}`), ""},
		{[]byte{0x16, 0x03, 0x09}, ""},
		{nil, ""},
	}
	for _, tt := range tests {
		proto, _, ok := SniffTunnel(tt.p)
		if proto != tt.proto || ok != (tt.proto != "") {
			t.Errorf("SniffTunnel(%q) = %q %v, want %q", tt.p, proto, ok, tt.proto)
		}
	}
}

func ids(fs []Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.ID)
	}
	return strings.Join(s, ",")
}

func run(t *testing.T, path string, cfg Config, messages bool) []Finding {
	t.Helper()
	a := New(cfg)
	var opts engine.Options
	opts.Dissect.Messages = messages
	if _, err := engine.ReadFile(path, opts, a); err != nil {
		t.Fatal(err)
	}
	return a.Findings()
}

// TestPluggableTLS: with every connection declared TLS, credentials and
// secrets are no longer in the clear, but CSWSH and compression leaks stay.
func TestPluggableTLS(t *testing.T) {
	tls := Config{IsTLS: func(*dissect.Conn) bool { return true }}
	if got := ids(run(t, "../testdata/audit-cswsh.pcap", tls, false)); got != "cswsh,cswsh" {
		t.Errorf("audit-cswsh over TLS: %s, want cswsh,cswsh", got)
	}
	if got := ids(run(t, "../testdata/audit-deflate-secrets.pcap", tls, false)); got != IDCompressionSecrets {
		t.Errorf("audit-deflate-secrets over TLS: %s, want %s", got, IDCompressionSecrets)
	}
	if got := ids(run(t, "../testdata/audit-token-url.pcap", tls, false)); got != IDTokenInURL {
		t.Errorf("audit-token-url over TLS: %s, want %s", got, IDTokenInURL)
	}
}

// TestPluggableTunnel: a detector replaces the built-in sniffing.
func TestPluggableTunnel(t *testing.T) {
	det := func(p []byte) (string, string, bool) {
		return "chat-json", "x", bytes.HasPrefix(p, []byte(`{"type":"join"`))
	}
	fs := run(t, "../testdata/audit-cors.pcap", Config{Tunnel: det}, false)
	if got := ids(fs); got != IDCORSOriginReflected+","+IDTunnelledProtocol+","+IDTunnelledProtocol { // both connections
		t.Errorf("findings %s", got)
	}
	if fs := run(t, "../testdata/audit-tunnel.pcap", Config{Tunnel: det}, false); len(fs) != 0 {
		t.Errorf("findings %s with a detector that does not know SSH", ids(fs))
	}
}

// TestMessageRecords: the checks work on message records too (read
// --audit --messages), except the ratio, which needs compressed sizes.
func TestMessageRecords(t *testing.T) {
	for _, name := range []string{"audit-secrets", "audit-tunnel", "audit-ping-flood", "audit-cswsh", "edge-bad-accept"} {
		path := "../testdata/" + name + ".pcap"
		if f, m := ids(run(t, path, Config{}, false)), ids(run(t, path, Config{}, true)); f != m {
			t.Errorf("%s: frames give %s, messages %s", name, f, m)
		}
	}
	if got := ids(run(t, "../testdata/audit-bomb.pcap", Config{}, true)); got != "" {
		t.Errorf("audit-bomb with message records: %s (no ratio without compressed sizes)", got)
	}
}

// TestScanLimit: only the first ScanLimit bytes of a message are kept and
// scanned.
func TestScanLimit(t *testing.T) {
	fs := run(t, "../testdata/audit-secrets.pcap", Config{ScanLimit: 16}, false)
	for _, f := range fs {
		if f.ID == IDSecretInMessage {
			t.Errorf("secret found beyond the scan limit: %s", f.Evidence)
		}
	}
	a := New(Config{ScanLimit: 16})
	if _, err := engine.ReadFile("../testdata/audit-bomb.pcap", engine.Options{}, a); err != nil {
		t.Fatal(err)
	}
	for _, st := range a.conns {
		for _, m := range st.cur {
			if m.buf != nil {
				t.Errorf("a finished connection keeps a message buffer of %d bytes", cap(m.buf))
			}
		}
	}
	for _, b := range a.free {
		if cap(b) > 64 {
			t.Errorf("free buffer of %d bytes with a 16-byte scan limit", cap(b))
		}
	}
}

func TestThresholds(t *testing.T) {
	if got := ids(run(t, "../testdata/audit-ping-flood.pcap", Config{MaxPings: 100}, false)); got != "" {
		t.Errorf("ping flood with 100 allowed: %s", got)
	}
	if got := ids(run(t, "../testdata/audit-handshake-flood.pcap", Config{MaxHandshakes: 25}, false)); got != "" {
		t.Errorf("handshake flood with 25 allowed: %s", got)
	}
	if got := ids(run(t, "../testdata/audit-bomb.pcap", Config{MaxRatio: 1000}, false)); got != "" {
		t.Errorf("bomb with ratio 1000 allowed: %s", got)
	}
	if got := ids(run(t, "../testdata/audit-bomb.pcap", Config{MinBombSize: 1 << 20}, false)); got != "" {
		t.Errorf("bomb below the minimum size: %s", got)
	}
}

func TestWriteJSON(t *testing.T) {
	fs := run(t, "../testdata/audit-cswsh.pcap", Config{}, false)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, fs, "x.pcap"); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		for _, k := range []string{"type", "id", "severity", "title", "host", "path", "streams", "conns", "packet", "ts", "client", "server", "evidence", "why", "fix", "file"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q: %s", n+1, k, sc.Bytes())
			}
		}
		if m["type"] != "finding" {
			t.Errorf("type %v", m["type"])
		}
		if strings.Contains(sc.Text(), "6f1c0e7d9a2b4c5e8f30a1b2c3d4e5f6") {
			t.Errorf("cookie value not redacted: %s", sc.Text())
		}
		n++
	}
	if n != len(fs) || n != 4 {
		t.Errorf("%d lines for %d findings, want 4", n, len(fs))
	}
}

func TestWriteText(t *testing.T) {
	fs := run(t, "../testdata/audit-no-origin.pcap", Config{}, false)
	for _, color := range []bool{false, true} {
		var buf bytes.Buffer
		if err := WriteText(&buf, fs, TextOptions{Color: color}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, s := range []string{"chat.example.com", "cswsh-no-origin", "evidence:", "why:", "fix:", "4 findings: 3 high, 1 medium, 0 low, 0 info"} {
			if !strings.Contains(out, s) {
				t.Errorf("color %v: output lacks %q:\n%s", color, s, out)
			}
		}
		if hasEsc := strings.Contains(out, "\x1b["); hasEsc != color {
			t.Errorf("color %v: escape sequences present: %v", color, hasEsc)
		}
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, nil, TextOptions{}); err != nil || !strings.Contains(buf.String(), "no findings") {
		t.Errorf("empty report %q, %v", buf.String(), err)
	}
}

func TestChecksDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Checks() {
		if c.Title == "" || c.Why == "" || c.Fix == "" || seen[c.ID] {
			t.Errorf("check %q incomplete or repeated", c.ID)
		}
		seen[c.ID] = true
	}
	for _, s := range []Severity{Info, Low, Medium, High} {
		if p, ok := ParseSeverity(strings.ToUpper(s.String())); !ok || p != s {
			t.Errorf("ParseSeverity(%s) = %v %v", s, p, ok)
		}
	}
	if _, ok := ParseSeverity("critical"); ok {
		t.Error("ParseSeverity accepted critical")
	}
}

// TestFindingsBounded: endless distinct paths fold into one finding per
// check past maxFindings.
func TestFindingsBounded(t *testing.T) {
	a := New(Config{})
	for i := range maxFindings + 500 {
		c := &dissect.Conn{Stream: uint64(i), Host: "h", Path: "/p" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + fmtUint(uint64(i)), Status: 101,
			Version: "13", AcceptValid: true,
			RequestHeaders: []dissect.Header{{Name: "cookie", Value: "s=0123456789"}}}
		if err := a.Emit(&dissect.Record{Kind: dissect.KindConn, Conn: c, Packet: uint64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	fs := a.Findings()
	if len(fs) > maxFindings+2 {
		t.Fatalf("%d findings kept", len(fs))
	}
	var folded *Finding
	for i := range fs {
		if fs[i].Path == "*" {
			folded = &fs[i]
		}
	}
	if folded == nil || folded.Conns < 500 || len(folded.Evidence) > 2*maxEvidence+10 {
		t.Fatalf("no folded finding with the rest: %+v", folded)
	}
}

// TestREADMEListsEveryCheck keeps the README's audit table in step with the
// check ids.
func TestREADMEListsEveryCheck(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Checks() {
		if !strings.Contains(string(b), "| `"+c.ID+"` | ") {
			t.Errorf("README's audit table lacks %s", c.ID)
		}
	}
}

func TestRedactCookies(t *testing.T) {
	tests := []struct{ in, want string }{
		{"session=abcdef123456; theme=dark", "session=a…6 (12 chars); theme=… (4 chars)"},
		{"opaquecookievalue123", "o…3 (20 chars)"},
		{"a=; =b12345", "a=… (0 chars); =b…5 (6 chars)"},
	}
	for _, tt := range tests {
		if got := redactCookies(tt.in); got != tt.want {
			t.Errorf("redactCookies(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestFragmentedMessage: a secret split over frames is found, and the
// compressed size of a message is the sum of its frames'.
func TestFragmentedMessage(t *testing.T) {
	a := New(Config{MinBombSize: 10, MaxRatio: 2})
	c := &dissect.Conn{Stream: 7, Host: "h", Path: "/", Midstream: false}
	parts := []string{`{"user":"bob","pass`, `word":"hunter2hun`, `ter2"}`}
	for i, p := range parts {
		op := dissect.OpContinuation
		if i == 0 {
			op = dissect.OpText
		}
		f := &dissect.Frame{Dir: dissect.ClientToServer, Fin: i == len(parts)-1, Opcode: op, MessageOpcode: dissect.OpText,
			Len: 3, Payload: []byte(p), Compressed: true}
		if err := a.Emit(&dissect.Record{Kind: dissect.KindFrame, Conn: c, Frame: f, Packet: uint64(10 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	fs := a.Findings()
	if got := ids(fs); got != IDSecretInMessage+","+IDDecompressionBomb {
		t.Fatalf("findings %s", got)
	}
	if !strings.Contains(fs[0].Evidence, `"password": "h…2 (14 chars)"`) || fs[0].Packet != 10 {
		t.Errorf("secret evidence %q at packet %d", fs[0].Evidence, fs[0].Packet)
	}
	if !strings.Contains(fs[1].Evidence, "9 compressed bytes inflates to 42 bytes") {
		t.Errorf("ratio evidence %q", fs[1].Evidence)
	}
}

// TestSessionsListed checks that a finding lists each WebSocket session once,
// a session over HTTP/2 by its TCP and HTTP/2 streams as conns and follow
// name it.
func TestSessionsListed(t *testing.T) {
	type session struct {
		stream uint64
		h2     uint32
		tunnel uint32 // the proxy's HTTP/2 stream carrying a WebSocket over HTTP/2
	}
	tests := []struct {
		name     string
		sessions []session
		conns    int
		h2       []uint32
		tunnels  []uint32
		text     string
	}{
		{"one", []session{{3, 0, 0}, {3, 0, 0}}, 1, nil, nil, "stream 3"},
		{"http1", []session{{0, 0, 0}, {4, 0, 0}, {0, 0, 0}}, 2, nil, nil, "streams 0,4 (2 connections)"},
		{"one h2", []session{{2, 5, 0}, {2, 5, 0}}, 1, []uint32{5}, nil, "stream 2/5"},
		{"h2 sessions of one connection", []session{{0, 1, 0}, {0, 3, 0}, {0, 1, 0}}, 2, []uint32{1, 3}, nil, "streams 0/1,0/3 (2 connections)"},
		{"mixed", []session{{1, 0, 0}, {0, 3, 0}, {1, 0, 0}, {0, 0, 0}}, 3, []uint32{0, 3, 0}, nil, "streams 1,0/3,0 (3 connections)"},
		// Two proxy tunnels of one connection, each to a server speaking
		// HTTP/2, whose WebSockets are both on their stream 1; and one on
		// stream 1 of the proxy connection itself.
		{"h2 in h2 tunnels", []session{{4, 1, 1}, {4, 1, 3}, {4, 1, 1}, {4, 1, 0}}, 3, []uint32{1, 1, 1}, []uint32{1, 3, 0}, "streams 4/1/1,4/3/1,4/1 (3 connections)"},
		{"one in a tunnel", []session{{4, 3, 5}}, 1, []uint32{3}, []uint32{5}, "stream 4/5/3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := New(Config{})
			for _, s := range tt.sessions {
				c := &dissect.Conn{Stream: s.stream, H2Stream: s.h2, HTTP2: s.h2 != 0, Host: "h", Path: "/p"}
				if s.tunnel != 0 {
					c.Proxy = &dissect.ProxyTunnel{H2Stream: s.tunnel}
				}
				a.report(IDTokenInURL, Medium, c, 1, time.Time{}, "ev")
			}
			fs := a.Findings()
			if len(fs) != 1 {
				t.Fatalf("%d findings, want 1", len(fs))
			}
			f := fs[0]
			if f.Conns != tt.conns || len(f.Streams) != tt.conns || !slices.Equal(f.H2Streams, tt.h2) || !slices.Equal(f.TunnelStreams, tt.tunnels) {
				t.Errorf("conns %d, streams %v, h2 streams %v, tunnel streams %v; want %d connections, h2 streams %v, tunnel streams %v",
					f.Conns, f.Streams, f.H2Streams, f.TunnelStreams, tt.conns, tt.h2, tt.tunnels)
			}
			if got := streamList(f); got != tt.text {
				t.Errorf("streamList = %q, want %q", got, tt.text)
			}
		})
	}
}

// TestCoverage checks what the auditor counts as checked and not checked,
// and that the listings of TLS connections it could not see into are not
// counted as upgrade requests (thirty HTTPS connections from one browser
// within a second are no handshake flood).
func TestCoverage(t *testing.T) {
	a := New(Config{})
	client := netip.MustParseAddrPort("10.0.0.1:40000")
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	emit := func(c *dissect.Conn, pkt uint64) {
		t.Helper()
		if err := a.Emit(&dissect.Record{Kind: dissect.KindConn, Conn: c, Packet: pkt, Time: t0.Add(time.Duration(pkt) * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 30 {
		reason := "no key for client random 0a1b2c3d" + strconv.Itoa(i) + "…"
		if i%10 == 9 {
			reason = "unsupported cipher suite 0x1301"
		}
		c := &dissect.Conn{Stream: uint64(i), Client: client, TLS: &dissect.TLS{Reason: reason}}
		emit(c, uint64(i+1))
	}
	// Decrypted, but not WebSocket: looked at, nothing to check.
	emit(&dissect.Conn{Stream: 30, Client: client, TLS: &dissect.TLS{Decrypted: true}}, 31)
	emit(&dissect.Conn{Stream: 31, Client: client, Midstream: true}, 32)
	emit(&dissect.Conn{Stream: 32, Client: client, Method: "GET", Status: 101, Host: "h", Path: "/", AcceptValid: true, Version: "13"}, 33)
	emit(&dissect.Conn{Stream: 33, Client: client, Method: "GET", Status: 403, Host: "h", Path: "/"}, 34)
	if fs := a.Findings(); len(fs) != 0 {
		t.Errorf("findings %+v, want none", fs)
	}
	got := a.Coverage()
	want := Coverage{Handshakes: 2, Midstream: 1, NotDecrypted: tlsdecrypt.Tally{"no key in the key log": 27, "unsupported cipher suite 0x1301": 3}}
	if got.Handshakes != want.Handshakes || got.Midstream != want.Midstream || !maps.Equal(got.NotDecrypted, want.NotDecrypted) {
		t.Errorf("coverage %+v, want %+v", got, want)
	}
}

func TestCoverageLines(t *testing.T) {
	tests := []struct {
		name       string
		c          Coverage
		want       string
		notChecked bool
	}{
		{"nothing", Coverage{}, "checked: 0 WebSocket handshakes", false},
		{"one", Coverage{Handshakes: 1}, "checked: 1 WebSocket handshake", false},
		{"midstream", Coverage{Handshakes: 2, Midstream: 1},
			"checked: 2 WebSocket handshakes; 1 connection without its handshake (messages only)", false},
		{"no key log", Coverage{NotDecrypted: tlsdecrypt.Tally{"no key log given": 1}},
			"checked: 0 WebSocket handshakes\nnot checked: 1 TLS connection not decrypted (no key log given): WebSocket traffic inside was not audited (give the key log with --keylog)", true},
		{"reasons", Coverage{Handshakes: 1, NotDecrypted: tlsdecrypt.Tally{"unsupported cipher suite 0x1301": 2, "no key in the key log": 1}},
			"checked: 1 WebSocket handshake\nnot checked: 3 TLS connections not decrypted (no key in the key log: 1; unsupported cipher suite 0x1301: 2): WebSocket traffic inside was not audited", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, notChecked := CoverageLines(tt.c)
			if got := strings.Join(lines, "\n"); got != tt.want || notChecked != tt.notChecked {
				t.Errorf("got %q, %v\nwant %q, %v", got, notChecked, tt.want, tt.notChecked)
			}
		})
	}
}

// TestProxyCredentials: credentials sent to a proxy are reported on every
// kind of connection record, the listing of a TLS connection that was not
// decrypted and a mid-stream pickup included, and only when there are
// credentials.
func TestProxyCredentials(t *testing.T) {
	srv := netip.MustParseAddrPort("10.0.0.9:3128")
	cases := []struct {
		name string
		conn dissect.Conn
		want string // evidence, "" for no finding
	}{
		{"handshake", dissect.Conn{Server: srv, Host: "h", Path: "/", Status: 101, Version: "13", AcceptValid: true,
			Proxy: &dissect.ProxyTunnel{Target: "h:80", Protocol: "HTTP", Authorization: "Basic dXNlcjpzZWNyZXQ="}},
			"to the HTTP proxy 10.0.0.9:3128 (CONNECT h:80): Proxy-Authorization: Basic d"},
		{"tls not decrypted", dissect.Conn{Server: srv, TLS: &dissect.TLS{Reason: "no key log given"},
			Proxy: &dissect.ProxyTunnel{Target: "h:443", Protocol: "SOCKS5", User: "u", Password: "secret"}},
			`to the SOCKS5 proxy 10.0.0.9:3128 (CONNECT h:443): user name "u" and a password of 6 bytes`},
		{"mid-stream, target unknown", dissect.Conn{Server: srv, Midstream: true,
			Proxy: &dissect.ProxyTunnel{Protocol: "HTTP", Authorization: "NTLM TlRMTVNTUAAB"}},
			"(CONNECT ?): Proxy-Authorization: NTLM"},
		{"no credentials", dissect.Conn{Server: srv, Host: "h", Path: "/", Status: 101, Version: "13", AcceptValid: true,
			Proxy: &dissect.ProxyTunnel{Target: "h:80", Protocol: "SOCKS4", User: "id"}}, ""},
		{"to an HTTPS proxy", dissect.Conn{Server: srv, Host: "h", Path: "/", Status: 101, Version: "13", AcceptValid: true,
			Proxy: &dissect.ProxyTunnel{Target: "h:80", Protocol: "HTTPS", Authorization: "Basic dXNlcjpzZWNyZXQ="}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Config{})
			if err := a.Emit(&dissect.Record{Kind: dissect.KindConn, Conn: &tc.conn, Packet: 3}); err != nil {
				t.Fatal(err)
			}
			var got string
			for _, f := range a.Findings() {
				if f.ID == IDProxyCredentials {
					got = f.Evidence
				}
			}
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("evidence %q, want %q", got, tc.want)
			}
		})
	}
}
