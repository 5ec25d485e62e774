package engine_test

import (
	"bytes"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
)

// h2b builds HTTP/2 bytes with x/net's Framer and one HPACK encoder per
// side.
type h2b struct {
	buf [2]bytes.Buffer
	fr  [2]*http2.Framer
	enc [2]*hpack.Encoder
	hb  [2]bytes.Buffer
}

func newH2b() *h2b {
	b := &h2b{}
	for i := range 2 {
		b.fr[i] = http2.NewFramer(&b.buf[i], nil)
		b.fr[i].AllowIllegalWrites = true
		b.enc[i] = hpack.NewEncoder(&b.hb[i])
	}
	return b
}

// take returns and clears what side wrote.
func (b *h2b) take(side capgen.Side) []byte {
	out := bytes.Clone(b.buf[side].Bytes())
	b.buf[side].Reset()
	return out
}

func (b *h2b) headers(side capgen.Side, id uint32, endStream bool, kv ...string) *h2b {
	b.hb[side].Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		b.enc[side].WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	b.fr[side].WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: bytes.Clone(b.hb[side].Bytes()), EndHeaders: true, EndStream: endStream})
	return b
}

var h2Connect = []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/ws", ":authority", "example.com", "sec-websocket-version", "13"}

// h2AnomalyCases are the captures of the HTTP/2 anomalies.
func h2AnomalyCases() []anomalyCase {
	C, S := capgen.Client, capgen.Server
	pre := []byte(http2.ClientPreface)
	enabled := func() []byte {
		b := newH2b()
		b.fr[S].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
		return b.take(S)
	}
	// session opens a WebSocket on stream 1 with the given CONNECT fields.
	session := func(settings []byte, fields ...string) (*h2b, []send) {
		b := newH2b()
		c := append(bytes.Clone(pre), b.headers(C, 1, false, fields...).take(C)...)
		return b, []send{{S, settings}, {C, c}, {S, b.headers(S, 1, false, ":status", "200").take(S)}}
	}
	withKey := append(append([]string(nil), h2Connect...), "sec-websocket-key", anKey)
	noScheme := []string{":method", "CONNECT", ":protocol", "websocket", ":path", "/ws", ":authority", "example.com"}
	ended := func() []send {
		b, s := session(enabled(), h2Connect...)
		b.fr[C].WriteData(1, true, nil)
		b.fr[S].WriteData(1, true, nil)
		s = append(s, send{C, b.take(C)}, send{S, b.take(S)})
		b.fr[C].WriteData(1, false, []byte("late"))
		return append(s, send{C, b.take(C)})
	}
	noPreface := func() []send {
		b := newH2b()
		b.fr[S].WriteSettings()
		b.fr[C].WriteSettings()
		up := "GET / HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: \r\n\r\n"
		return []send{{C, []byte(up)}, {S, append([]byte("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"), b.take(S)...)}, {C, b.take(C)}}
	}
	raw := func(frames ...[]byte) []send {
		var b []byte
		for _, f := range frames {
			b = append(b, f...)
		}
		return []send{{C, pre}, {C, b}}
	}
	hdr := func(length int, typ, flags byte, stream uint32) []byte {
		return []byte{byte(length >> 16), byte(length >> 8), byte(length), typ, flags, byte(stream >> 24), byte(stream >> 16), byte(stream >> 8), byte(stream)}
	}
	_, notEnabled := session(newH2b().settingsNone(), h2Connect...)
	_, missing := session(enabled(), noScheme...)
	_, key := session(enabled(), withKey...)
	closed := ended()[:5]
	tooMany := func() []send {
		// One CONNECT more than the streams tracked at once (h2's default
		// Limits.MaxStreams), none answered: the first is dropped.
		b := newH2b()
		for i := range 1025 {
			b.headers(C, uint32(2*i+1), false, h2Connect...)
		}
		return []send{{S, enabled()}, {C, append(bytes.Clone(pre), b.take(C)...)}}
	}
	return []anomalyCase{
		{id: dissect.AnH2PrefaceMissing, sends: noPreface(), at: 2},
		{id: dissect.AnH2FrameInvalid, sends: raw(append(hdr(7, 6, 0, 0), make([]byte, 7)...)), at: 1},
		{id: dissect.AnH2FrameTooLarge, sends: raw(append(hdr(20000, 0, 0, 1), make([]byte, 20000)...)), at: 1},
		{id: dissect.AnH2HPACKError, sends: raw(append(hdr(3, 1, 4, 1), 0xff, 0xff, 0x7f)), at: 1},
		{id: dissect.AnH2HeadersLost, sends: raw(append(hdr(1, 1, 0, 1), 0x82), append(hdr(8, 6, 0, 0), make([]byte, 8)...)), at: 1},
		{id: dissect.AnH2ConnectNotEnabled, sends: notEnabled, at: 2},
		{id: dissect.AnH2ConnectPseudoMissing, sends: missing, at: 2},
		{id: dissect.AnH2WebSocketKeyPresent, sends: key, at: 2},
		{id: dissect.AnH2DataAfterEndStream, sends: ended(), at: 5},
		{id: dissect.AnH2StreamClosed, sends: closed, at: 4},
		{id: dissect.AnH2StreamsLimit, sends: tooMany(), at: 1},
	}
}

// settingsNone returns a SETTINGS frame without ENABLE_CONNECT_PROTOCOL.
func (b *h2b) settingsNone() []byte {
	b.fr[capgen.Server].WriteSettings()
	return b.take(capgen.Server)
}
