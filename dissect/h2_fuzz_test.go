package dissect

import (
	"bytes"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsdissect/wsdissect/h2"
)

// h2Sink checks the invariants of HTTP/2 session records on top of
// fuzzSink's.
type h2Sink struct{ fuzzSink }

func (s *h2Sink) Emit(r *Record) error {
	if r.Conn.HTTP2 && (r.Kind == KindFrame || r.Kind == KindMessage || r.Kind == KindConn) && r.Conn.H2Stream == 0 {
		s.t.Fatalf("%s record of an HTTP/2 connection without a stream id", r.Kind)
	}
	return s.fuzzSink.Emit(r)
}

// h2Seed builds a connection with two WebSocket sessions and a GET.
func h2Seed() (c2s, s2c []byte) {
	var cb, sb, hb bytes.Buffer
	cf, sf := http2.NewFramer(&cb, nil), http2.NewFramer(&sb, nil)
	ce, se := hpack.NewEncoder(&hb), hpack.NewEncoder(&hb)
	block := func(e *hpack.Encoder, kv ...string) []byte {
		hb.Reset()
		for i := 0; i+1 < len(kv); i += 2 {
			e.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return bytes.Clone(hb.Bytes())
	}
	cb.WriteString(h2.Preface)
	sf.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	for _, id := range []uint32{1, 3} {
		cf.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: block(ce,
			":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/ws", ":authority", "a",
			"sec-websocket-extensions", "permessage-deflate")})
		sf.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: block(se,
			":status", "200", "sec-websocket-extensions", "permessage-deflate")})
	}
	cf.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, EndHeaders: true, EndStream: true, BlockFragment: block(ce,
		":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a")})
	cf.WriteData(1, false, ctext("hello").bytes())
	sf.WriteDataPadded(3, false, text("hi").bytes(), make([]byte, 3))
	cf.WriteData(3, true, closeF(1000, "", []byte{1, 2, 3, 4}).bytes())
	sf.WriteRSTStream(1, http2.ErrCodeCancel)
	sf.WriteGoAway(5, http2.ErrCodeNo, nil)
	return cb.Bytes(), sb.Bytes()
}

// FuzzH2Sessions fuzzes HTTP/2 detection, the frame layer and the mapping
// of streams to WebSocket sessions: arbitrary bytes after the client
// preface, in arbitrary pieces, with and without gaps.
func FuzzH2Sessions(f *testing.F) {
	c, s := h2Seed()
	f.Add(c[len(h2.Preface):], s, uint16(7), uint16(0))
	f.Add(c[len(h2.Preface):], s, uint16(1), uint16(5))
	f.Add([]byte{0, 0, 8, 6, 0, 0, 0, 0, 0}, []byte{0, 0, 0, 4, 0, 0, 0, 0, 0}, uint16(2), uint16(3))
	f.Fuzz(func(t *testing.T, c2s, s2c []byte, split, gapAt uint16) {
		c := append([]byte(h2.Preface), c2s...)
		for _, opts := range []Options{{}, {Messages: true}} {
			fuzzConnWith(t, &h2Sink{fuzzSink{t: t, max: 1 << 16}}, opts, true, c, s2c, split, gapAt)
		}
	})
}
