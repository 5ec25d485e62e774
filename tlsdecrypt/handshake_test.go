package tlsdecrypt

import (
	"reflect"
	"testing"
	"unsafe"
)

// helloBody builds a ClientHello body with a session id, two suites, and
// the server name, ALPN list and session ticket given (omitted when nil).
func helloBody(random byte, sni string, alpn []string, ticket []byte) []byte {
	vec16 := func(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }
	b := []byte{3, 3}
	for i := range 32 {
		b = append(b, random+byte(i))
	}
	b = append(b, 2, 0xaa, 0xbb)                            // session id
	b = append(b, vec16([]byte{0x13, 0x01, 0xc0, 0x2f})...) // suites
	b = append(b, 1, 0)                                     // compression
	var exts []byte
	if sni != "" {
		exts = append(exts, 0, extServerName)
		exts = append(exts, vec16(vec16(append([]byte{0}, vec16([]byte(sni))...)))...)
	}
	if alpn != nil {
		var l []byte
		for _, p := range alpn {
			l = append(append(l, byte(len(p))), p...)
		}
		exts = append(exts, 0, extALPN)
		exts = append(exts, vec16(vec16(l))...)
	}
	if ticket != nil {
		exts = append(exts, 0, extSessionTicket)
		exts = append(exts, vec16(ticket)...)
	}
	exts = append(exts, 0, extSupportedVersion, 0, 5, 4, 3, 4, 3, 3)
	return append(b, vec16(exts)...)
}

// TestParseClientHelloReuse parses a sequence of ClientHellos into one
// struct, as a Session does, and checks each against a fresh parse, and
// that an unchanged server name and ALPN list are shared, not copied.
func TestParseClientHelloReuse(t *testing.T) {
	bodies := [][]byte{
		helloBody(1, "a.example", []string{"h2", "http/1.1"}, nil),
		helloBody(2, "a.example", []string{"h2", "http/1.1"}, []byte{9, 9, 9}),
		helloBody(3, "b.example", []string{"h2"}, nil),
		helloBody(4, "", nil, nil),
		helloBody(5, "b.example", []string{"h2", ""}, []byte{}),
		helloBody(6, "b.example", []string{"h2", ""}, nil),
	}
	var ch ClientHello
	for i, b := range bodies {
		prev := ch
		if err := parseClientHello(&ch, b); err != nil {
			t.Fatalf("hello %d: %v", i, err)
		}
		want, err := ParseClientHello(b)
		if err != nil {
			t.Fatalf("hello %d: %v", i, err)
		}
		got := ch
		norm := func(h *ClientHello) {
			for _, s := range []*[]byte{&h.SessionID, &h.Ticket} {
				if len(*s) == 0 {
					*s = nil
				}
			}
		}
		norm(&got)
		norm(want)
		if !reflect.DeepEqual(&got, want) {
			t.Errorf("hello %d: reused parse %+v, fresh parse %+v", i, got, *want)
		}
		if i > 0 && ch.SNI != "" && ch.SNI == prev.SNI && unsafe.StringData(ch.SNI) != unsafe.StringData(prev.SNI) {
			t.Errorf("hello %d: the same server name was allocated again", i)
		}
		if i > 0 && len(ch.ALPN) > 0 && reflect.DeepEqual(ch.ALPN, prev.ALPN) && &ch.ALPN[0] != &prev.ALPN[0] {
			t.Errorf("hello %d: the same ALPN list was allocated again", i)
		}
	}
	if err := parseClientHello(&ch, bodies[0][:40]); err == nil {
		t.Error("a truncated hello parsed")
	}
}

// TestAlertText checks the text of known and unknown alerts at both
// levels.
func TestAlertText(t *testing.T) {
	col := &collector{}
	s := NewSession(nil, col)
	for _, a := range [][]byte{{1, 0}, {2, 40}, {2, 77}, {1, 120}} {
		s.alert(Server, a, 5)
	}
	want := []string{"warning alert close_notify (0)", "fatal alert handshake_failure (40)",
		"fatal alert unknown (77)", "warning alert no_application_protocol (120)"}
	if len(col.problems) != len(want) {
		t.Fatalf("%d problems, want %d", len(col.problems), len(want))
	}
	for i, p := range col.problems {
		if p.Msg != want[i] || p.Fatal != (i == 1 || i == 2) || p.CloseNotify != (i == 0) || p.Offset != 5 {
			t.Errorf("alert %d: %+v, want %q", i, p, want[i])
		}
	}
}

func TestLooksLikeRecords(t *testing.T) {
	rec := func(typ byte, n int) []byte {
		return append([]byte{typ, 3, 3, byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	tests := []struct {
		name         string
		b            []byte
		yes, decided bool
	}{
		{"one whole record", rec(23, 100), true, true},
		{"two records", cat(rec(23, 100), rec(23, 50)), true, true},
		{"a record and the next one's start", cat(rec(23, 100), rec(21, 50)[:20]), true, true},
		{"a record cut short", rec(23, 100)[:60], false, false},
		{"a record and a few bytes", cat(rec(23, 100), []byte{23, 3}), false, false},
		{"a record and garbage", cat(rec(23, 100), []byte{0x81, 0x05, 'h', 'e', 'l', 'l', 'o'}), false, true},
		{"a WebSocket frame", []byte{0x82, 0x03, 1, 2, 3}, false, true},
		{"content type 24", rec(24, 10), false, true},
		{"version 2", append([]byte{23, 2, 0, 0, 5}, make([]byte, 5)...), false, true},
		{"version 3.5", append([]byte{23, 3, 5, 0, 5}, make([]byte, 5)...), false, true},
		{"empty record", rec(23, 0), false, true},
		{"record too long", append([]byte{23, 3, 3, 0x50, 0}, make([]byte, 10)...), false, true},
		{"too short to tell", []byte{23, 3}, false, false},
		{"short and wrong", []byte{23, 4}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if yes, decided := LooksLikeRecords(tt.b); yes != tt.yes || decided != tt.decided {
				t.Errorf("LooksLikeRecords = %v, %v; want %v, %v", yes, decided, tt.yes, tt.decided)
			}
		})
	}
}
