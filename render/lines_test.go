package render

import (
	"strings"
	"testing"
)

// renderOne renders the named fixture with opts.
func renderOne(t *testing.T, name string, opts Options) string {
	t.Helper()
	for _, fx := range fixtures() {
		if fx.name == name {
			out, err := renderAll(opts, []fixture{fx})
			if err != nil {
				t.Fatal(err)
			}
			return string(out)
		}
	}
	t.Fatalf("no fixture %q", name)
	return ""
}

// TestSummaryLines checks the summary line of every fixture.
func TestSummaryLines(t *testing.T) {
	tests := []struct{ fixture, want string }{
		{"conn-ipv4", "     6    0.002000  10.0.0.1:50000 → 10.0.0.2:80  WebSocket handshake GET /chat?room=1 → 101 Switching Protocols [subprotocol=chat] [extensions=permessage-deflate]"},
		{"text-c2s", `    12    0.004512  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Text [FIN] [MASKED] len=12 "Hello world!"`},
		{"text-s2c-escapes", `    13    0.005000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Text [FIN] len=33 "line1\nline2\r\t"q" \ é€ \x1b[31m\u202e"`},
		{"text-long", `    14    0.006000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Text [FIN] len=70 "` + strings.Repeat("abcdefghij", 6) + `abcd…" (+6 bytes)`},
		{"text-invalid-utf8", `    15    0.007000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Text [FIN] len=4 "ok\xff\xfe" [!] invalid-utf8`},
		{"fragment-first", `    16    0.008000  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Text [FRAGMENT] [MASKED] len=4 "frag"`},
		{"fragment-cont", `    17    0.009000  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Continuation [FIN] [MASKED] len=4 "ment"`},
		{"compressed", `    18    0.010000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Text [FIN] [COMPRESSED] len=7 "Hello"`},
		{"binary-16bit-truncated", "    19    0.011000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Binary [FIN] [TRUNCATED] len=1000 000102030405060708090a0b0c0d0e0f… (+24 bytes)"},
		{"binary-64bit-incomplete", "    25    1.500000  [2001:db8::1]:40000 → [2001:db8::2]:443  WebSocket Binary [FIN] [MASKED] [INCOMPLETE] len=70000 000162696e617279ff [!] tcp-gap"},
		{"close-c2s", `    40    2.000000  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Close [FIN] [MASKED] len=5 1000 Normal Closure "bye"`},
		{"close-empty", "    41    2.001000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Close [FIN] len=0"},
		{"ping", "    20    0.012000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Ping [FIN] len=5 70696e6721"},
		{"pong-empty", "    21    0.013000  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Pong [FIN] [MASKED] len=0"},
		{"reserved-opcode", "    50    3.000000  192.168.1.5:61000 ← 192.168.1.1:8080  WebSocket Reserved(0x3) [FIN] len=2 abcd [!] reserved-opcode, rsv-bits"},
		{"msg-text-compressed", `    14    0.006000  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Text message frames=3 [COMPRESSED] len=12 "Hello world!"`},
		{"msg-binary-incomplete", "    26    1.600000  [2001:db8::1]:40000 ← [2001:db8::2]:443  WebSocket Binary message frames=1 [INCOMPLETE] len=20 000102030405060708090a0b0c0d0e0f… (+4 bytes)"},
		{"msg-text-truncated", `    33    0.020000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Text message frames=2 [TRUNCATED] len=100000 "partial"`},
		{"msg-close", `    40    2.000000  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Close message frames=1 len=10 1001 Going Away "going\n!"`},
		{"msg-ping-empty", "    42    2.002000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Ping message frames=1 len=0"},
		{"conn-ipv6-bad-accept", "    21    1.000000  [2001:db8::1]:40000 → [2001:db8::2]:443  WebSocket handshake GET / → 101 Switching Protocols [!] bad-accept"},
		{"conn-rejected", "    31    1.100000  10.0.0.3:50001 → 10.0.0.2:80  WebSocket handshake GET /admin → 403 Forbidden (upgrade rejected)"},
		{"conn-midstream", "    49    2.999000  192.168.1.5:61000 → 192.168.1.1:8080  WebSocket connection picked up mid-stream [!] midstream"},
		{"anomaly-dir", "    35    0.030000  10.0.0.1:50000 ← 10.0.0.2:80  Expert: error tcp-gap: 1460 bytes missing"},
		{"anomaly-conn", "    60    4.000000  [2001:db8::1]:40000 ↔ [2001:db8::2]:443  Expert: warning no-close: connection ended without a close handshake"},
		{"anomaly-info", "    61    4.001000  192.168.1.5:61000 → 192.168.1.1:8080  Expert: info resync: found a frame boundary after 12 bytes"},
	}
	if n := len(fixtures()); n != len(tests) {
		t.Errorf("%d summary cases for %d fixtures", len(tests), n)
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			if got := renderOne(t, tc.fixture, Options{}); got != tc.want+"\n" {
				t.Errorf("got  %q\nwant %q", got, tc.want+"\n")
			}
		})
	}
}

// TestSummaryColor checks the colours of summary lines: direction, bold
// opcode names and anomalies by severity.
func TestSummaryColor(t *testing.T) {
	const (
		green  = "\x1b[32m"
		blue   = "\x1b[34m"
		red    = "\x1b[31m"
		yellow = "\x1b[33m"
		cyan   = "\x1b[36m"
		bold   = "\x1b[1m"
		unbold = "\x1b[22m"
		reset  = "\x1b[0m"
	)
	tests := []struct{ fixture, want string }{
		{"text-c2s", "    12    0.004512  " + green + "10.0.0.1:50000 → 10.0.0.2:80" + reset + "  WebSocket " + bold + "Text" + unbold + ` [FIN] [MASKED] len=12 "Hello world!"`},
		{"ping", "    20    0.012000  " + blue + "10.0.0.1:50000 ← 10.0.0.2:80" + reset + "  WebSocket " + bold + "Ping" + unbold + " [FIN] len=5 70696e6721"},
		{"reserved-opcode", "    50    3.000000  " + blue + "192.168.1.5:61000 ← 192.168.1.1:8080" + reset + "  WebSocket " + bold + "Reserved(0x3)" + unbold +
			" [FIN] len=2 abcd " + red + "[!]" + reset + " " + red + "reserved-opcode" + reset + ", " + yellow + "rsv-bits" + reset},
		{"conn-midstream", "    49    2.999000  192.168.1.5:61000 → 192.168.1.1:8080  WebSocket connection picked up mid-stream " + cyan + "[!]" + reset + " " + cyan + "midstream" + reset},
		{"anomaly-conn", "    60    4.000000  [2001:db8::1]:40000 ↔ [2001:db8::2]:443  Expert: " + yellow + "warning no-close" + reset + ": connection ended without a close handshake"},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			if got := renderOne(t, tc.fixture, Options{Color: true}); got != tc.want+"\n" {
				t.Errorf("got  %q\nwant %q", got, tc.want+"\n")
			}
		})
	}
}

// TestHexLines checks the -x dump after a summary line.
func TestHexLines(t *testing.T) {
	got := renderOne(t, "text-c2s", Options{Hex: true})
	want := `    12    0.004512  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Text [FIN] [MASKED] len=12 "Hello world!"` + "\n" +
		"0000  48 65 6c 6c 6f 20 77 6f  72 6c 64 21              Hello world!\n\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	// Records without payload get no dump and no blank line.
	got = renderOne(t, "pong-empty", Options{Hex: true})
	if strings.Count(got, "\n") != 1 {
		t.Errorf("empty payload: got %q", got)
	}
}

// TestTreeRecords checks complete trees of representative records.
func TestTreeRecords(t *testing.T) {
	tests := []struct {
		fixture string
		opts    Options
		want    string
	}{
		{"text-c2s", Options{}, `Packet 12, WebSocket frame 1, stream 0: 10.0.0.1:50000 → 10.0.0.2:80 (c2s), 0.004512 s, packets 11,12
WebSocket
    1... .... = Fin: True
    .000 .... = Reserved: 0x0
    .... 0001 = Opcode: Text (1)
    1... .... = Mask: True
    .000 1100 = Payload length: 12
    Masking-Key: e17e8eb9
    Payload (12 bytes)
        Text: Hello world!

`},
		{"text-c2s", Options{Hex: true}, `Packet 12, WebSocket frame 1, stream 0: 10.0.0.1:50000 → 10.0.0.2:80 (c2s), 0.004512 s, packets 11,12
WebSocket
    1... .... = Fin: True
    .000 .... = Reserved: 0x0
    .... 0001 = Opcode: Text (1)
    1... .... = Mask: True
    .000 1100 = Payload length: 12
    Masking-Key: e17e8eb9
    Payload (12 bytes)
        Text: Hello world!

0000  48 65 6c 6c 6f 20 77 6f  72 6c 64 21              Hello world!

`},
		{"compressed", Options{}, `Packet 18, WebSocket frame 1, stream 0: 10.0.0.1:50000 ← 10.0.0.2:80 (s2c), 0.010000 s, packet 18
WebSocket
    1... .... = Fin: True
    .100 .... = Reserved: 0x4
    .1.. .... = Per-Message Compressed: True
    .... 0001 = Opcode: Text (1)
    0... .... = Mask: False
    .000 0111 = Payload length: 7
    Payload (5 bytes)
        [Compressed: inflated from the message]
        Text: Hello

`},
		{"binary-16bit-truncated", Options{}, `Packet 19, WebSocket frame 1, stream 0: 10.0.0.1:50000 ← 10.0.0.2:80 (s2c), 0.011000 s, packets 18,19
WebSocket
    1... .... = Fin: True
    .000 .... = Reserved: 0x0
    .... 0010 = Opcode: Binary (2)
    0... .... = Mask: False
    .111 1110 = Payload length: 126
    Extended Payload length (16 bits): 1000
    Payload (40 bytes)
        [Truncated at 40 bytes]
        0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  ................
        0010  10 11 12 13 14 15 16 17  18 19 1a 1b 1c 1d 1e 1f  ................
        0020  20 21 22 23 24 25 26 27                            !"#$%&'

`},
		{"binary-64bit-incomplete", Options{}, `Packet 25, WebSocket frame 1, stream 1: [2001:db8::1]:40000 → [2001:db8::2]:443 (c2s), 1.500000 s, packets 23,24,25
WebSocket
    1... .... = Fin: True
    .000 .... = Reserved: 0x0
    .... 0010 = Opcode: Binary (2)
    1... .... = Mask: True
    .111 1111 = Payload length: 127
    Extended Payload length (64 bits): 70000
    Masking-Key: 01020304
    Payload (9 bytes)
        [Incomplete: bytes missing from capture]
        0000  00 01 62 69 6e 61 72 79  ff                       ..binary.
    [Expert Info (Error/Protocol): bytes missing from the capture (tcp-gap)]

`},
		{"close-c2s", Options{}, `Packet 40, WebSocket frame 1, stream 0: 10.0.0.1:50000 → 10.0.0.2:80 (c2s), 2.000000 s, packet 40
WebSocket
    1... .... = Fin: True
    .000 .... = Reserved: 0x0
    .... 1000 = Opcode: Connection Close (8)
    1... .... = Mask: True
    .000 0101 = Payload length: 5
    Masking-Key: e17e8eb9
    Payload (5 bytes)
        Close: Normal Closure (1000)
        Reason: bye

`},
		{"reserved-opcode", Options{}, `Packet 50, WebSocket frame 1, stream 3: 192.168.1.5:61000 ← 192.168.1.1:8080 (s2c), 3.000000 s, packet 50
WebSocket
    1... .... = Fin: True
    .011 .... = Reserved: 0x3
    .... 0011 = Opcode: Unknown/Reserved (3)
    0... .... = Mask: False
    .000 0010 = Payload length: 2
    Payload (2 bytes)
        0000  ab cd                                             ..
    [Expert Info (Error/Protocol): opcode 0x3 is reserved (reserved-opcode)]
    [Expert Info (Warning/Protocol): RSV2 and RSV3 set without an extension (rsv-bits)]

`},
		{"reserved-opcode", Options{Color: true}, "Packet 50, WebSocket frame 1, stream 3: \x1b[34m192.168.1.5:61000 ← 192.168.1.1:8080\x1b[0m (s2c), 3.000000 s, packet 50\n" +
			"WebSocket\n" +
			"    1... .... = Fin: True\n" +
			"    .011 .... = Reserved: 0x3\n" +
			"    .... 0011 = Opcode: \x1b[1mUnknown/Reserved\x1b[22m (3)\n" +
			"    0... .... = Mask: False\n" +
			"    .000 0010 = Payload length: 2\n" +
			"    Payload (2 bytes)\n" +
			"        0000  ab cd                                             ..\n" +
			"    \x1b[31m[Expert Info (Error/Protocol): opcode 0x3 is reserved (reserved-opcode)]\x1b[0m\n" +
			"    \x1b[33m[Expert Info (Warning/Protocol): RSV2 and RSV3 set without an extension (rsv-bits)]\x1b[0m\n\n"},
		{"msg-text-compressed", Options{}, `Message 3 (c2s), stream 0, packets 11-14, frames=3, len=12
    Opcode: Text (1)
    Payload (12 bytes)
        [Compressed: inflated]
        Text: Hello world!

`},
		{"msg-close", Options{}, `Message 9 (c2s), stream 0, packet 40, frames=1, len=10
    Opcode: Connection Close (8)
    Payload (9 bytes)
        Close: Going Away (1001)
        Reason: going\n!

`},
		{"conn-ipv4", Options{}, `Stream 0: WebSocket handshake 10.0.0.1:50000 → 10.0.0.2:80
Hypertext Transfer Protocol (request, packet 4)
    GET /chat?room=1 HTTP/1.1\r\n
    Host: example.com\r\n
    Upgrade: websocket\r\n
    Connection: Upgrade\r\n
    Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n
    Origin: http://example.com\r\n
    Sec-WebSocket-Protocol: chat, superchat\r\n
    Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n
    Sec-WebSocket-Version: 13\r\n
    Cookie: a=b\r\n
    \r\n
Hypertext Transfer Protocol (response, packet 6)
    HTTP/1.1 101 Switching Protocols\r\n
    Upgrade: websocket\r\n
    Connection: Upgrade\r\n
    Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n
    Sec-WebSocket-Protocol: chat\r\n
    Sec-WebSocket-Extensions: permessage-deflate\r\n
    \r\n
[Sec-WebSocket-Accept: valid]
[Subprotocol: chat]
[Extensions: permessage-deflate]
[permessage-deflate: client_max_window_bits=15, server_max_window_bits=15]

`},
		{"conn-ipv6-bad-accept", Options{}, `Stream 1: WebSocket handshake [2001:db8::1]:40000 → [2001:db8::2]:443
Hypertext Transfer Protocol (request, packet 20)
    GET / HTTP/1.1\r\n
    Host: [2001:db8::2]\r\n
    \r\n
Hypertext Transfer Protocol (response, packet 21)
    HTTP/1.1 101 Switching Protocols\r\n
    Upgrade: websocket\r\n
    \r\n
[Sec-WebSocket-Accept: INVALID]
    [Expert Info (Error/Protocol): Sec-WebSocket-Accept does not match the key (bad-accept)]

`},
		{"conn-rejected", Options{}, `Stream 2: WebSocket handshake 10.0.0.3:50001 → 10.0.0.2:80
Hypertext Transfer Protocol (request, packet 30)
    GET /admin HTTP/1.1\r\n
    Host: example.com\r\n
    \r\n
Hypertext Transfer Protocol (response, packet 31)
    HTTP/1.1 403 Forbidden\r\n
    Content-Length: 0\r\n
    \r\n
[Upgrade rejected: 403 Forbidden]

`},
		{"conn-midstream", Options{}, `Stream 3: WebSocket connection 192.168.1.5:61000 → 192.168.1.1:8080 picked up mid-stream (no handshake seen)
    [Expert Info (Info/Protocol): no handshake seen; direction guessed from masking (midstream)]

`},
		{"anomaly-conn", Options{}, `Anomaly, stream 1: [2001:db8::1]:40000 ↔ [2001:db8::2]:443, 4.000000 s, packet 60
    [Expert Info (Warning/Protocol): connection ended without a close handshake (no-close)]

`},
		{"anomaly-dir", Options{}, `Anomaly, stream 0: 10.0.0.1:50000 ← 10.0.0.2:80 (s2c), 0.030000 s, packet 35
    [Expert Info (Error/Protocol): 1460 bytes missing (tcp-gap)]

`},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			tc.opts.Format = FormatTree
			if got := renderOne(t, tc.fixture, tc.opts); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
