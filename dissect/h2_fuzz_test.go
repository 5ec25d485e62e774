package dissect

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsdissect/wsdissect/h2"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/reassembly"
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

// h2Wire builds the two directions of an HTTP/2 connection whose server
// enables extended CONNECT, with x/net's Framer and HPACK encoders.
type h2Wire struct {
	c, s, hb bytes.Buffer
	cf, sf   *http2.Framer
	ce, se   *hpack.Encoder
}

func newH2Wire() *h2Wire {
	w := &h2Wire{}
	w.cf, w.sf = http2.NewFramer(&w.c, nil), http2.NewFramer(&w.s, nil)
	w.ce, w.se = hpack.NewEncoder(&w.hb), hpack.NewEncoder(&w.hb)
	w.c.WriteString(h2.Preface)
	w.sf.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	return w
}

// block encodes the fields kv (name, value, ...) with e.
func (w *h2Wire) block(e *hpack.Encoder, kv ...string) []byte {
	w.hb.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		e.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return bytes.Clone(w.hb.Bytes())
}

// h2Seed builds a connection with two WebSocket sessions and a GET.
func h2Seed() (c2s, s2c []byte) {
	w := newH2Wire()
	cb, sb, cf, sf, ce, se, block := &w.c, &w.s, w.cf, w.sf, w.ce, w.se, w.block
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
	// Tunnels on streams (CONNECT without :protocol), nested.
	c, s = h2TunnelWire(2)
	f.Add(c[len(h2.Preface):], s, uint16(0), uint16(0))
	f.Add(c[len(h2.Preface):], s, uint16(11), uint16(90))
	f.Fuzz(func(t *testing.T, c2s, s2c []byte, split, gapAt uint16) {
		c := append([]byte(h2.Preface), c2s...)
		for _, opts := range []Options{{}, {Messages: true}} {
			b := membudget.New(64 << 10)
			opts.Memory = b
			fuzzConnWith(t, &h2Sink{fuzzSink{t: t, max: 1 << 16}}, opts, true, c, s2c, split, gapAt)
			if b.Used() > 2<<16 { // what accounts keep in reserve (two slabs)
				t.Fatalf("%d bytes still charged to the budget after the connection closed", b.Used())
			}
		}
	})
}

// TestH2Budget checks that an HTTP/2 connection is charged to the memory
// budget while it is decoded, the streams it tracks and its sessions
// included, and that all of it is given back when the connection closes.
func TestH2Budget(t *testing.T) {
	const n, size, data = 200, 1024, 2048
	w := newH2Wire()
	cb, sb, cf, sf, ce, se, block := &w.c, &w.s, w.cf, w.sf, w.ce, w.se, w.block
	for i := range n {
		id := uint32(2*i + 1)
		cf.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: block(ce,
			":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/ws", ":authority", "a",
			"x-big", strings.Repeat("b", size-6)+fmt.Sprintf("%06d", i))})
		cf.WriteData(id, false, make([]byte, data))
		if i%2 == 0 { // half of them open
			sf.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: block(se, ":status", "200")})
		}
	}
	b := membudget.New(0)
	d := New(&h2Sink{fuzzSink{t: t, max: 1 << 20}}, Options{Memory: b})
	info := &reassembly.ConnInfo{SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	h := d.NewConn(info)
	h.Data(reassembly.SideB, &reassembly.Chunk{Data: sb.Bytes()[:9+6], Packet: 1})
	h.Data(reassembly.SideA, &reassembly.Chunk{Data: cb.Bytes(), Packet: 2})
	// Unanswered CONNECTs hold their fields and data.
	if used, want := b.Used(), int64(n*(size+data)); used < want {
		t.Errorf("%d bytes charged with %d CONNECTs pending, want at least %d", used, n, want)
	}
	// Half of them open: their data is handed on, their decoders charged.
	h.Data(reassembly.SideB, &reassembly.Chunk{Data: sb.Bytes()[9+6:], Offset: 9 + 6, Packet: 3})
	want := int64(n/2*(size+data)) + n/2*h2DecodersCost
	if used := b.Used(); used < want {
		t.Errorf("%d bytes charged with %d CONNECTs pending and %d sessions, want at least %d", used, n/2, n/2, want)
	}
	h.Close(reassembly.ClosedEOF)
	if b.Used() > 2<<16 { // what accounts keep in reserve (two slabs)
		t.Errorf("%d bytes still charged after the connection closed", b.Used())
	}
	if b.Peak() < want {
		t.Errorf("peak %d, want at least %d", b.Peak(), want)
	}
}
