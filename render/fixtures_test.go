package render

import (
	"bytes"
	"net/netip"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// epoch is the capture start used by the fixtures.
var epoch = time.Date(2024, 1, 2, 3, 4, 5, 123000, time.UTC)

// at returns the time d after epoch.
func at(d time.Duration) time.Time { return epoch.Add(d) }

// fixture is one hand-built record with a name for test output.
type fixture struct {
	name string
	rec  dissect.Record
}

const (
	rawRequest = "GET /chat?room=1 HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Origin: http://example.com\r\n" +
		"Sec-WebSocket-Protocol: chat, superchat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Cookie: a=b\r\n" +
		"\r\n"
	rawResponse = "HTTP/1.1 101 Switching Protocols\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\n" +
		"\r\n"
)

// newConns returns the connections used by the fixtures: IPv4 with
// permessage-deflate, IPv6 with an invalid accept, a rejected upgrade and a
// connection picked up mid-stream.
func newConns() (v4, v6, rejected, mid *dissect.Conn) {
	v4 = &dissect.Conn{
		Stream:              0,
		Client:              netip.MustParseAddrPort("10.0.0.1:50000"),
		Server:              netip.MustParseAddrPort("10.0.0.2:80"),
		Method:              "GET",
		Path:                "/chat?room=1",
		Host:                "example.com",
		Origin:              "http://example.com",
		HasCookie:           true,
		Version:             "13",
		Key:                 "dGhlIHNhbXBsZSBub25jZQ==",
		Accept:              "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
		AcceptValid:         true,
		Status:              101,
		Reason:              "Switching Protocols",
		SubprotocolsOffered: []string{"chat", "superchat"},
		ExtensionsOffered:   []string{"permessage-deflate; client_max_window_bits"},
		Subprotocol:         "chat",
		Extensions:          []string{"permessage-deflate"},
		RequestHeaders: []dissect.Header{
			{Name: "host", Value: "example.com"},
			{Name: "upgrade", Value: "websocket"},
			{Name: "connection", Value: "Upgrade"},
			{Name: "sec-websocket-key", Value: "dGhlIHNhbXBsZSBub25jZQ=="},
			{Name: "origin", Value: "http://example.com"},
			{Name: "sec-websocket-protocol", Value: "chat, superchat"},
			{Name: "sec-websocket-extensions", Value: "permessage-deflate; client_max_window_bits"},
			{Name: "sec-websocket-version", Value: "13"},
			{Name: "cookie", Value: "a=b"},
		},
		ResponseHeaders: []dissect.Header{
			{Name: "upgrade", Value: "websocket"},
			{Name: "connection", Value: "Upgrade"},
			{Name: "sec-websocket-accept", Value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
			{Name: "sec-websocket-protocol", Value: "chat"},
			{Name: "sec-websocket-extensions", Value: "permessage-deflate"},
		},
		Request:        rawRequest,
		Response:       rawResponse,
		RequestPacket:  4,
		ResponsePacket: 6,
		RequestTime:    at(1 * time.Millisecond),
		ResponseTime:   at(2 * time.Millisecond),
		Deflate: &dissect.DeflateParams{
			Name:                "permessage-deflate",
			ServerMaxWindowBits: 15,
			ClientMaxWindowBits: 15,
		},
	}
	v6 = &dissect.Conn{
		Stream:          1,
		Client:          netip.MustParseAddrPort("[2001:db8::1]:40000"),
		Server:          netip.MustParseAddrPort("[2001:db8::2]:443"),
		Method:          "GET",
		Path:            "/",
		Host:            "[2001:db8::2]",
		UserAgent:       "test/1.0 \"quoted\"",
		Accept:          "bogus",
		Status:          101,
		Reason:          "Switching Protocols",
		RequestHeaders:  []dissect.Header{{Name: "host", Value: "[2001:db8::2]"}, {Name: "x-dup", Value: "1"}, {Name: "x-dup", Value: "2"}},
		ResponseHeaders: []dissect.Header{{Name: "upgrade", Value: "websocket"}},
		Request:         "GET / HTTP/1.1\r\nHost: [2001:db8::2]\r\n\r\n",
		Response:        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
		RequestPacket:   20,
		ResponsePacket:  21,
	}
	rejected = &dissect.Conn{
		Stream:          2,
		Client:          netip.MustParseAddrPort("10.0.0.3:50001"),
		Server:          netip.MustParseAddrPort("10.0.0.2:80"),
		Method:          "GET",
		Path:            "/admin",
		Host:            "example.com",
		Status:          403,
		Reason:          "Forbidden",
		RequestHeaders:  []dissect.Header{{Name: "host", Value: "example.com"}},
		ResponseHeaders: []dissect.Header{{Name: "content-length", Value: "0"}},
		Request:         "GET /admin HTTP/1.1\r\nHost: example.com\r\n\r\n",
		Response:        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
		RequestPacket:   30,
		ResponsePacket:  31,
	}
	mid = &dissect.Conn{
		Stream:    3,
		Client:    netip.MustParseAddrPort("192.168.1.5:61000"),
		Server:    netip.MustParseAddrPort("192.168.1.1:8080"),
		Midstream: true,
	}
	return v4, v6, rejected, mid
}

// seq returns n bytes 0, 1, 2, ...
func seq(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i)
	}
	return p
}

// fixtures returns records covering every line type of every format.
func fixtures() []fixture {
	v4, v6, rejected, mid := newConns()
	key := [4]byte{0xe1, 0x7e, 0x8e, 0xb9}
	longText := strings.Repeat("abcdefghij", 7) // 70 runes
	return []fixture{
		{"conn-ipv4", dissect.Record{Kind: dissect.KindConn, Conn: v4, Packet: 6, Time: at(2 * time.Millisecond)}},
		{"text-c2s", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 12, Time: at(4512 * time.Microsecond), Dir: dissect.ClientToServer, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ClientToServer, Fin: true, Masked: true, Opcode: dissect.OpText, LenCode: 12, Len: 12, HeaderLen: 6,
				MaskKey: key, Payload: []byte("Hello world!"), IsText: true, Packets: []uint64{11, 12}}}},
		{"text-s2c-escapes", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 13, Time: at(5 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, Opcode: dissect.OpText, LenCode: 33, Len: 33, HeaderLen: 2,
				Payload: []byte("line1\nline2\r\t\"q\" \\ é€ \x1b[31m\u202e"), IsText: true, Packets: []uint64{13}}}},
		{"text-long", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 14, Time: at(6 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, Opcode: dissect.OpText, LenCode: 70, Len: 70, HeaderLen: 2,
				Payload: []byte(longText), IsText: true}}},
		{"text-invalid-utf8", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 15, Time: at(7 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, Opcode: dissect.OpText, LenCode: 4, Len: 4, HeaderLen: 2,
				Payload: []byte("ok\xff\xfe"), IsText: true},
			Anomalies: []dissect.Anomaly{{ID: "invalid-utf8", Severity: dissect.SevError, Msg: "text payload is not valid UTF-8", Offset: 2}}}},
		{"fragment-first", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 16, Time: at(8 * time.Millisecond), Dir: dissect.ClientToServer, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ClientToServer, Masked: true, Opcode: dissect.OpText, LenCode: 4, Len: 4, HeaderLen: 6,
				MaskKey: key, Payload: []byte("frag"), IsText: true, MessageIndex: 1}}},
		{"fragment-cont", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 17, Time: at(9 * time.Millisecond), Dir: dissect.ClientToServer, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ClientToServer, Fin: true, Masked: true, Opcode: dissect.OpContinuation, LenCode: 4, Len: 4, HeaderLen: 6,
				MaskKey: key, Payload: []byte("ment"), IsText: true, MessageIndex: 1}}},
		{"compressed", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 18, Time: at(10 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, RSV1: true, Opcode: dissect.OpText, LenCode: 7, Len: 7, HeaderLen: 2,
				Payload: []byte("Hello"), IsText: true, Compressed: true}}},
		{"binary-16bit-truncated", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 19, Time: at(11 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, Opcode: dissect.OpBinary, LenCode: 126, Len: 1000, HeaderLen: 4,
				Payload: seq(40), Truncated: true, Packets: []uint64{18, 19}}}},
		{"binary-64bit-incomplete", dissect.Record{Kind: dissect.KindFrame, Conn: v6, Packet: 25, Time: at(1500 * time.Millisecond), Dir: dissect.ClientToServer, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ClientToServer, Fin: true, Masked: true, Opcode: dissect.OpBinary, LenCode: 127, Len: 70000, HeaderLen: 14,
				MaskKey: [4]byte{1, 2, 3, 4}, Payload: []byte("\x00\x01binary\xff"), Wire: 9, Incomplete: true, Packets: []uint64{23, 24, 25}},
			Anomalies: []dissect.Anomaly{{ID: "tcp-gap", Severity: dissect.SevError, Msg: "bytes missing from the capture", Offset: 9}}}},
		{"close-c2s", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 40, Time: at(2 * time.Second), Dir: dissect.ClientToServer, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ClientToServer, Fin: true, Masked: true, Opcode: dissect.OpClose, LenCode: 5, Len: 5, HeaderLen: 6,
				MaskKey: key, Payload: []byte("\x03\xe8bye"), IsText: true, HasCloseCode: true, CloseCode: 1000, CloseReason: "bye"}}},
		{"close-empty", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 41, Time: at(2001 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, Opcode: dissect.OpClose, HeaderLen: 2, IsText: true}}},
		{"ping", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 20, Time: at(12 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, Opcode: dissect.OpPing, LenCode: 5, Len: 5, HeaderLen: 2, Payload: []byte("ping!")}}},
		{"pong-empty", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 21, Time: at(13 * time.Millisecond), Dir: dissect.ClientToServer, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ClientToServer, Fin: true, Masked: true, Opcode: dissect.OpPong, HeaderLen: 6, MaskKey: key}}},
		{"reserved-opcode", dissect.Record{Kind: dissect.KindFrame, Conn: mid, Packet: 50, Time: at(3 * time.Second), Dir: dissect.ServerToClient, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, RSV2: true, RSV3: true, Opcode: 0x3, LenCode: 2, Len: 2, HeaderLen: 2, Payload: []byte{0xab, 0xcd}},
			Anomalies: []dissect.Anomaly{
				{ID: "reserved-opcode", Severity: dissect.SevError, Msg: "opcode 0x3 is reserved", Offset: -1},
				{ID: "rsv-bits", Severity: dissect.SevWarning, Msg: "RSV2 and RSV3 set without an extension", Offset: -1},
			}}},
		{"msg-text-compressed", dissect.Record{Kind: dissect.KindMessage, Conn: v4, Packet: 14, Time: at(6 * time.Millisecond), Dir: dissect.ClientToServer, HasDir: true,
			Message: &dissect.Message{Dir: dissect.ClientToServer, Opcode: dissect.OpText, Len: 12, Frames: 3, FirstPacket: 11, Payload: []byte("Hello world!"), Compressed: true, Index: 3}}},
		{"msg-binary-incomplete", dissect.Record{Kind: dissect.KindMessage, Conn: v6, Packet: 26, Time: at(1600 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Message: &dissect.Message{Dir: dissect.ServerToClient, Opcode: dissect.OpBinary, Len: 20, Frames: 1, FirstPacket: 26, Payload: seq(20), Incomplete: true}}},
		{"msg-text-truncated", dissect.Record{Kind: dissect.KindMessage, Conn: v4, Packet: 33, Time: at(20 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Message: &dissect.Message{Dir: dissect.ServerToClient, Opcode: dissect.OpText, Len: 100000, Frames: 2, FirstPacket: 30, Payload: []byte("partial"), Truncated: true, Index: 7}}},
		{"msg-close", dissect.Record{Kind: dissect.KindMessage, Conn: v4, Packet: 40, Time: at(2 * time.Second), Dir: dissect.ClientToServer, HasDir: true,
			Message: &dissect.Message{Dir: dissect.ClientToServer, Opcode: dissect.OpClose, Len: 10, Frames: 1, FirstPacket: 40, Payload: []byte("\x03\xe9going\n!"),
				HasCloseCode: true, CloseCode: 1001, CloseReason: "going\n!", Index: 9}}},
		{"msg-ping-empty", dissect.Record{Kind: dissect.KindMessage, Conn: v4, Packet: 42, Time: at(2002 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Message: &dissect.Message{Dir: dissect.ServerToClient, Opcode: dissect.OpPing, Frames: 1, FirstPacket: 42, Index: 10}}},
		{"conn-ipv6-bad-accept", dissect.Record{Kind: dissect.KindConn, Conn: v6, Packet: 21, Time: at(1 * time.Second),
			Anomalies: []dissect.Anomaly{{ID: "bad-accept", Severity: dissect.SevError, Msg: "Sec-WebSocket-Accept does not match the key", Offset: -1}}}},
		{"conn-rejected", dissect.Record{Kind: dissect.KindConn, Conn: rejected, Packet: 31, Time: at(1100 * time.Millisecond)}},
		{"conn-midstream", dissect.Record{Kind: dissect.KindConn, Conn: mid, Packet: 49, Time: at(2999 * time.Millisecond),
			Anomalies: []dissect.Anomaly{{ID: "midstream", Severity: dissect.SevInfo, Msg: "no handshake seen; direction guessed from masking", Offset: -1}}}},
		{"anomaly-dir", dissect.Record{Kind: dissect.KindAnomaly, Conn: v4, Packet: 35, Time: at(30 * time.Millisecond), Dir: dissect.ServerToClient, HasDir: true,
			Anomalies: []dissect.Anomaly{{ID: "tcp-gap", Severity: dissect.SevError, Msg: "1460 bytes missing", Offset: 5000}}}},
		{"anomaly-conn", dissect.Record{Kind: dissect.KindAnomaly, Conn: v6, Packet: 60, Time: at(4 * time.Second),
			Anomalies: []dissect.Anomaly{{ID: "no-close", Severity: dissect.SevWarning, Msg: "connection ended without a close handshake", Offset: -1}}}},
		{"anomaly-info", dissect.Record{Kind: dissect.KindAnomaly, Conn: mid, Packet: 61, Time: at(4001 * time.Millisecond), Dir: dissect.ClientToServer, HasDir: true,
			Anomalies: []dissect.Anomaly{{ID: "resync", Severity: dissect.SevInfo, Msg: "found a frame boundary after 12 bytes", Offset: 12}}}},
	}
}

// renderAll renders every fixture with opts and returns the output.
func renderAll(opts Options, fx []fixture) ([]byte, error) {
	var buf bytes.Buffer
	r := New(&buf, opts)
	r.SetEpoch(epoch)
	for i := range fx {
		if err := r.Emit(&fx[i].rec); err != nil {
			return nil, err
		}
	}
	if err := r.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
