package capgen

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func TestFrameBytes(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	tests := []struct {
		name string
		f    Frame
		want string // hex of the header (and masking key); payload checked separately
	}{
		{"empty text", Frame{Fin: true, Opcode: OpText}, "8100"},
		{"rfc masked hello", Frame{Fin: true, Opcode: OpText, Masked: true, Key: key, Payload: []byte("Hello")}, "818537fa213d"},
		{"125", Frame{Fin: true, Opcode: OpBinary, Payload: make([]byte, 125)}, "827d"},
		{"126", Frame{Fin: true, Opcode: OpBinary, Payload: make([]byte, 126)}, "827e007e"},
		{"65535", Frame{Fin: true, Opcode: OpBinary, Payload: make([]byte, 65535)}, "827effff"},
		{"65536", Frame{Fin: true, Opcode: OpBinary, Payload: make([]byte, 65536)}, "827f0000000000010000"},
		{"force16", Frame{Fin: true, Opcode: OpText, LenEncoding: Len16, Payload: []byte("ab")}, "817e0002"},
		{"force16 too long", Frame{Fin: true, Opcode: OpText, LenEncoding: Len16, Payload: make([]byte, 70000)}, "817f0000000000011170"},
		{"force64", Frame{Fin: true, Opcode: OpText, LenEncoding: Len64, Payload: []byte("ab")}, "817f0000000000000002"},
		{"top bit", Frame{Fin: true, Opcode: OpBinary, LenEncoding: Len64TopBit, Payload: []byte("ab")}, "827f8000000000000002"},
		{"rsv bits continuation", Frame{RSV1: true, RSV2: true, RSV3: true, Opcode: OpContinuation}, "7000"},
		{"opcode masked to 4 bits", Frame{Fin: true, Opcode: 0x1f}, "8f00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.f.Bytes()
			hdr := len(b) - len(tc.f.Payload)
			if got := hex.EncodeToString(b[:hdr]); got != tc.want {
				t.Errorf("header %s, want %s", got, tc.want)
			}
			p := bytes.Clone(b[hdr:])
			if tc.f.Masked {
				for i := range p {
					p[i] ^= tc.f.Key[i&3]
				}
			}
			if !bytes.Equal(p, tc.f.Payload) {
				t.Error("payload differs after unmasking")
			}
		})
	}
	// RFC 6455 section 5.7 example.
	rfc := Frame{Fin: true, Opcode: OpText, Masked: true, Key: key, Payload: []byte("Hello")}.Bytes()
	if got := hex.EncodeToString(rfc); got != "818537fa213d7f9f4d5158" {
		t.Errorf("RFC example %s", got)
	}
}

func TestClosePayloadAndFrames(t *testing.T) {
	if got := ClosePayload(1000, "bye"); !bytes.Equal(got, []byte{0x03, 0xe8, 'b', 'y', 'e'}) {
		t.Errorf("ClosePayload %x", got)
	}
	got := Frames(Frame{Fin: true, Opcode: OpPing}, Frame{Fin: true, Opcode: OpPong})
	if !bytes.Equal(got, []byte{0x89, 0x00, 0x8a, 0x00}) {
		t.Errorf("Frames %x", got)
	}
}

func TestHandshakeHelpers(t *testing.T) {
	if got := AcceptKey(sampleKey); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("AcceptKey %s", got)
	}
	req := string(UpgradeRequest("/chat", "server.example.com", sampleKey, Header{"Origin", "http://example.com"}))
	for _, want := range []string{
		"GET /chat HTTP/1.1\r\n", "Host: server.example.com\r\n", "Upgrade: websocket\r\n", "Connection: Upgrade\r\n",
		"Sec-WebSocket-Key: " + sampleKey + "\r\n", "Sec-WebSocket-Version: 13\r\n", "Origin: http://example.com\r\n\r\n",
	} {
		if !strings.Contains(req, want) {
			t.Errorf("request lacks %q:\n%s", want, req)
		}
	}
	resp := string(SwitchingProtocols("wrong", Header{"Sec-WebSocket-Protocol", "chat"}))
	if !strings.HasPrefix(resp, "HTTP/1.1 101 Switching Protocols\r\n") || !strings.Contains(resp, "Sec-WebSocket-Accept: wrong\r\n") ||
		!strings.HasSuffix(resp, "Sec-WebSocket-Protocol: chat\r\n\r\n") {
		t.Errorf("response:\n%s", resp)
	}
	if got := string(HTTPMessage("HTTP/1.1 204 No Content", nil, []byte("x"))); got != "HTTP/1.1 204 No Content\r\n\r\nx" {
		t.Errorf("HTTPMessage %q", got)
	}
}

func TestChunked(t *testing.T) {
	tests := []struct {
		body  string
		sizes []int
		want  string
	}{
		{"", nil, "0\r\n\r\n"},
		{"hello world", nil, "b\r\nhello world\r\n0\r\n\r\n"},
		{"hello world", []int{5, 2}, "5\r\nhello\r\n2\r\n w\r\n2\r\nor\r\n2\r\nld\r\n0\r\n\r\n"},
		{"abc", []int{0}, "1\r\na\r\n1\r\nb\r\n1\r\nc\r\n0\r\n\r\n"},
	}
	for _, tc := range tests {
		if got := string(Chunked([]byte(tc.body), tc.sizes...)); got != tc.want {
			t.Errorf("Chunked(%q, %v) = %q, want %q", tc.body, tc.sizes, got, tc.want)
		}
	}
}

func TestParseFramesErrors(t *testing.T) {
	text := Frame{Fin: true, Opcode: OpText, Payload: []byte("hi")}
	tests := []struct {
		name    string
		stream  []byte
		deflate bool
	}{
		{"truncated header", []byte{0x81}, false},
		{"truncated 16-bit length", []byte{0x81, 126, 0}, false},
		{"truncated 64-bit length", []byte{0x81, 127, 0, 0}, false},
		{"truncated mask", []byte{0x81, 0x81, 1, 2}, false},
		{"truncated payload", text.Bytes()[:3], false},
		{"continuation first", Frame{Fin: true, Opcode: OpContinuation}.Bytes(), false},
		{"nested message", Frames(Frame{Opcode: OpText}, text), false},
		{"fragmented control", Frame{Opcode: OpPing}.Bytes(), false},
		{"rsv1 without deflate", Frame{Fin: true, RSV1: true, Opcode: OpText}.Bytes(), false},
		{"bad deflate data", Frame{Fin: true, RSV1: true, Opcode: OpText, Payload: []byte{0xff, 0xff}}.Bytes(), true},
		{"unfinished", Frame{Opcode: OpText}.Bytes(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseFrames(tc.stream, 0, tc.deflate, &inflater{}); err == nil {
				t.Error("parseFrames succeeded")
			}
		})
	}
}

func FuzzFrameRoundTrip(f *testing.F) {
	f.Add(uint8(0x81), false, uint32(0), uint8(0), []byte("hello"))
	f.Add(uint8(0x02), true, uint32(0xdeadbeef), uint8(1), make([]byte, 300))
	f.Add(uint8(0x89), true, uint32(1), uint8(2), []byte{})
	f.Add(uint8(0xc1), false, uint32(7), uint8(3), []byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, b0 uint8, masked bool, key uint32, enc uint8, payload []byte) {
		fr := Frame{
			Fin: b0&0x80 != 0, RSV1: b0&0x40 != 0, RSV2: b0&0x20 != 0, RSV3: b0&0x10 != 0,
			Opcode: b0 & 0x0f, Masked: masked, Key: [4]byte{byte(key >> 24), byte(key >> 16), byte(key >> 8), byte(key)},
			LenEncoding: LenEncoding(enc % 4), Payload: payload,
		}
		b := fr.Bytes()
		if b[0] != b0 {
			t.Fatalf("first byte %#x, want %#x", b[0], b0)
		}
		if fr.LenEncoding == Len64TopBit || fr.RSV1 || !fr.Fin || fr.Opcode == OpContinuation {
			return // not a message parseFrames accepts on its own
		}
		msgs, err := parseFrames(b, 0, false, &inflater{})
		if err != nil {
			t.Fatalf("parseFrames: %v", err)
		}
		if len(msgs) != 1 || msgs[0].opcode != fr.Opcode || !bytes.Equal(msgs[0].payload, payload) {
			t.Fatalf("got %+v", msgs)
		}
		if msgs[0].span != (Range{0, uint64(len(b))}) {
			t.Fatalf("span %+v for %d bytes", msgs[0].span, len(b))
		}
	})
}
