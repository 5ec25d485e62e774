package capgen

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	OpContinuation uint8 = 0x0 // continuation frame
	OpText         uint8 = 0x1 // text message
	OpBinary       uint8 = 0x2 // binary message
	OpClose        uint8 = 0x8 // connection close
	OpPing         uint8 = 0x9 // ping
	OpPong         uint8 = 0xA // pong
)

// LenEncoding selects how a Frame encodes its payload length.
type LenEncoding uint8

const (
	// LenMinimal uses the shortest encoding, as RFC 6455 requires.
	LenMinimal LenEncoding = iota
	// Len16 always uses the 16-bit extended length (code 126), even for
	// short payloads; payloads over 65535 bytes fall back to Len64.
	Len16
	// Len64 always uses the 64-bit extended length (code 127).
	Len64
	// Len64TopBit uses the 64-bit length with its most significant bit set,
	// which RFC 6455 forbids; the payload itself is written in full.
	Len64TopBit
)

// Frame is a hand-built WebSocket frame. Bytes encodes it exactly as
// described, including protocol violations.
type Frame struct {
	// Fin and RSV1-3 are the header bits.
	Fin, RSV1, RSV2, RSV3 bool
	// Opcode is the 4-bit opcode (higher bits are ignored).
	Opcode uint8
	// Masked sets the mask bit and masks the payload with Key.
	Masked bool
	// Key is the masking key.
	Key [4]byte
	// LenEncoding selects the payload length encoding.
	LenEncoding LenEncoding
	// Payload is the unmasked payload.
	Payload []byte
}

// Bytes returns the encoded frame: header, masking key and (masked) payload.
func (f Frame) Bytes() []byte {
	n := uint64(len(f.Payload))
	b := make([]byte, 2, 14+len(f.Payload))
	b[0] = f.Opcode & 0x0f
	if f.Fin {
		b[0] |= 0x80
	}
	if f.RSV1 {
		b[0] |= 0x40
	}
	if f.RSV2 {
		b[0] |= 0x20
	}
	if f.RSV3 {
		b[0] |= 0x10
	}
	if f.Masked {
		b[1] = 0x80
	}
	enc := f.LenEncoding
	if enc == LenMinimal {
		switch {
		case n <= 125:
		case n <= 0xffff:
			enc = Len16
		default:
			enc = Len64
		}
	}
	if enc == Len16 && n > 0xffff {
		enc = Len64
	}
	switch enc {
	case Len16:
		b[1] |= 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	case Len64:
		b[1] |= 127
		b = binary.BigEndian.AppendUint64(b, n)
	case Len64TopBit:
		b[1] |= 127
		b = binary.BigEndian.AppendUint64(b, n|1<<63)
	default:
		b[1] |= byte(n)
	}
	if !f.Masked {
		return append(b, f.Payload...)
	}
	b = append(b, f.Key[:]...)
	start := len(b)
	b = append(b, f.Payload...)
	for i := range f.Payload {
		b[start+i] ^= f.Key[i&3]
	}
	return b
}

// ClosePayload returns a close frame payload: the status code big-endian
// followed by the reason.
func ClosePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// Frames concatenates the encodings of frames.
func Frames(frames ...Frame) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f.Bytes()...)
	}
	return b
}

// acceptGUID is the fixed GUID of RFC 6455 section 1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Header is one HTTP header field, written as given.
type Header struct {
	// Name is the field name, Value its value.
	Name, Value string
}

// HTTPMessage returns an HTTP/1.1 message: start line, headers in order, an
// empty line and body. It adds nothing (no Content-Length).
func HTTPMessage(startLine string, headers []Header, body []byte) []byte {
	var sb strings.Builder
	sb.WriteString(startLine)
	sb.WriteString("\r\n")
	for _, h := range headers {
		fmt.Fprintf(&sb, "%s: %s\r\n", h.Name, h.Value)
	}
	sb.WriteString("\r\n")
	return append([]byte(sb.String()), body...)
}

// UpgradeRequest returns a WebSocket opening handshake request for target
// with the standard Host, Upgrade, Connection, Sec-WebSocket-Key and
// Sec-WebSocket-Version headers followed by extra.
func UpgradeRequest(target, host, key string, extra ...Header) []byte {
	h := []Header{
		{"Host", host},
		{"Upgrade", "websocket"},
		{"Connection", "Upgrade"},
		{"Sec-WebSocket-Key", key},
		{"Sec-WebSocket-Version", "13"},
	}
	return HTTPMessage("GET "+target+" HTTP/1.1", append(h, extra...), nil)
}

// SwitchingProtocols returns a 101 response carrying accept as
// Sec-WebSocket-Accept (use AcceptKey(key) for a correct one) and extra
// headers.
func SwitchingProtocols(accept string, extra ...Header) []byte {
	h := []Header{
		{"Upgrade", "websocket"},
		{"Connection", "Upgrade"},
		{"Sec-WebSocket-Accept", accept},
	}
	return HTTPMessage("HTTP/1.1 101 Switching Protocols", append(h, extra...), nil)
}

// Chunked returns body in HTTP chunked transfer coding with chunks of the
// given sizes (the last size repeats; no sizes means one chunk), followed by
// the terminating zero-size chunk.
func Chunked(body []byte, sizes ...int) []byte {
	var b []byte
	for i := 0; len(body) > 0; i++ {
		n := len(body)
		if len(sizes) > 0 {
			n = max(1, min(sizes[min(i, len(sizes)-1)], len(body)))
		}
		b = fmt.Appendf(b, "%x\r\n", n)
		b = append(b, body[:n]...)
		b = append(b, "\r\n"...)
		body = body[n:]
	}
	return append(b, "0\r\n\r\n"...)
}
