package http1

import (
	"bytes"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// parseHeadSimple is a straightforward version of Parse (split into
// lines, convert each) that the allocation-saving one must agree with.
func parseHeadSimple(raw []byte, request bool) (*Head, bool) {
	h := &Head{Raw: string(raw)}
	lines := bytes.Split(bytes.TrimRight(raw, "\r\n"), []byte("\n"))
	first := strings.TrimRight(string(lines[0]), "\r")
	parts := strings.SplitN(first, " ", 3)
	if request {
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/") {
			return nil, false
		}
		h.Method, h.Target, h.Version = parts[0], parts[1], parts[2]
	} else {
		if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/") {
			return nil, false
		}
		code, err := strconv.Atoi(parts[1])
		if err != nil || code < 100 || code > 999 {
			return nil, false
		}
		h.Version, h.Status = parts[0], code
		if len(parts) == 3 {
			h.Reason = parts[2]
		}
	}
	for _, ln := range lines[1:] {
		line := strings.TrimRight(string(ln), "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h.Headers) > 0 {
			last := &h.Headers[len(h.Headers)-1]
			last.Value += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if name == "" {
			continue
		}
		merged := false
		for i := range h.Headers {
			if h.Headers[i].Name == name {
				h.Headers[i].Value += ", " + value
				merged = true
				break
			}
		}
		if !merged {
			h.Headers = append(h.Headers, Header{Name: name, Value: value})
		}
	}
	return h, true
}

// sameHead reports whether two parse results are equal (a nil and an empty
// header list count as equal); b.names is taken to be what its headers
// imply, as parseHeadSimple does not set it.
func sameHead(a, b *Head) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	for _, hd := range y.Headers {
		y.names |= nameBit(hd.Name)
	}
	if len(x.Headers) == 0 && len(y.Headers) == 0 {
		x.Headers, y.Headers = nil, nil
	}
	return reflect.DeepEqual(x, y)
}

// headSeeds are header blocks covering the parser's cases.
var headSeeds = []string{
	"GET /chat HTTP/1.1\r\nHost: Example.COM\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\r\n",
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n",
	"HTTP/1.1 101\r\nX-A: 1\r\n  folded more\r\nx-a: 2\r\n\r\n",
	"GET / HTTP/1.0\n Folded-First: v\nNo-Colon\n: empty name\nÜber-Name: ü\n\tTabbed\n\n",
	"HTTP/1.1 200 OK fine\r\nA:b:c\r\nB : spaced \r\n\r\n",
	"GET  HTTP/1.1\r\n\r\n",
	"HTTP/1.1 99 low\r\n\r\n",
	"GET /x\r\n\r\n",
	"X\r\n\r\n",
	"",
	"\n\n",
}

func TestParseHeadMatchesSimple(t *testing.T) {
	for _, s := range headSeeds {
		for _, req := range []bool{true, false} {
			got, gok := Parse([]byte(s), req)
			want, wok := parseHeadSimple([]byte(s), req)
			if gok != wok || !sameHead(got, want) {
				t.Errorf("Parse(%q, %v) = %+v, %v; want %+v, %v", s, req, got, gok, want, wok)
			}
		}
	}
}

// FuzzParseHead checks Parse against parseHeadSimple.
func FuzzParseHead(f *testing.F) {
	for _, s := range headSeeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, request bool) {
		got, gok := Parse(raw, request)
		want, wok := parseHeadSimple(raw, request)
		if gok != wok || !sameHead(got, want) {
			t.Errorf("Parse(%q, %v) = %+v, %v; want %+v, %v", raw, request, got, gok, want, wok)
		}
	})
}

// TestParseHeadAllocs bounds the allocations of parsing upgrade requests:
// the result, the block with its lower-cased names, the header list.
func TestParseHeadAllocs(t *testing.T) {
	library := "GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n" +
		"User-Agent: Go-http-client/1.1\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
	browser := strings.Replace(library, "Origin:", "Pragma: no-cache\r\nCache-Control: no-cache\r\n"+
		"Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en\r\nCookie: a=b\r\nOrigin:", 1)
	for _, tc := range []struct {
		name string
		raw  string
		max  float64
	}{{"library", library, 3}, {"browser", browser, 3}} {
		raw := []byte(tc.raw)
		var h *Head
		n := testing.AllocsPerRun(100, func() {
			h, _ = Parse(raw, true)
			if !h.HasToken("connection", "upgrade") {
				t.Fatal("no upgrade token")
			}
		})
		if n > tc.max {
			t.Errorf("%s: %v allocations per request, want at most %v", tc.name, n, tc.max)
		}
	}
}

func TestLowerASCII(t *testing.T) {
	tests := []struct {
		in, want string
		ascii    bool
	}{
		{"", "", true},
		{"Sec-WebSocket-Key", "sec-websocket-key", true},
		{"@AZ[`az{", "@az[`az{", true},
		{"ABCDEFGH", "abcdefgh", true},
		{"Über-Name", "Über-name", false},
		{"\xc1\xdaABCDEFG\xff", "\xc1\xdaabcdefg\xff", false},
		{"X-\x80\x81\x9a\xc1\xda\xe1\xfa-Y", "x-\x80\x81\x9a\xc1\xda\xe1\xfa-y", false},
	}
	for _, tt := range tests {
		b := []byte(tt.in)
		ascii := lowerASCII(b)
		if string(b) != tt.want || ascii != tt.ascii {
			t.Errorf("lowerASCII(%q) = %q, %v; want %q, %v", tt.in, b, ascii, tt.want, tt.ascii)
		}
	}
	// Every byte value at every position of a word, against the byte loop.
	for c := range 256 {
		for pos := range 9 {
			b := bytes.Repeat([]byte{'Q'}, 9)
			b[pos] = byte(c)
			want := bytes.Clone(b)
			for i, x := range want {
				if 'A' <= x && x <= 'Z' {
					want[i] = x + 'a' - 'A'
				}
			}
			if lowerASCII(b); !bytes.Equal(b, want) {
				t.Fatalf("lowerASCII with byte %#x at %d = %q, want %q", c, pos, b, want)
			}
		}
	}
}
