package dissect

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/net/http2"

	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// h2TunnelWire returns the two directions of an HTTP/2 connection in
// clear whose stream 1 is a tunnel (CONNECT, answered 200) carrying, depth
// levels down, the same again, and at the bottom a WebSocket handshake and
// a text message each way.
func h2TunnelWire(depth int) (c2s, s2c []byte) {
	ic := append(upgradeReq(""), ctext("hello").bytes()...)
	is := append(upgradeResp(""), text(fmt.Sprint("depth ", depth)).bytes()...)
	for level := range depth {
		w := newH2Wire()
		w.cf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: w.block(w.ce,
			":method", "CONNECT", ":authority", fmt.Sprintf("hop%d.example:80", level), "proxy-authorization", "Basic dTpw")})
		w.sf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: w.block(w.se, ":status", "200")})
		for _, d := range []struct {
			f *http2.Framer
			b []byte
		}{{w.cf, ic}, {w.sf, is}} {
			for b := d.b; len(b) > 0; {
				n := min(len(b), 16384)
				d.f.WriteData(1, false, b[:n])
				b = b[n:]
			}
		}
		w.cf.WriteData(1, true, nil)
		w.sf.WriteData(1, true, nil)
		ic, is = w.c.Bytes(), w.s.Bytes()
	}
	return ic, is
}

// TestH2TunnelsNested checks tunnels inside a tunnel on an HTTP/2 stream:
// HTTP/1.1 CONNECTs in it are followed up to maxTunnels in all, each record
// naming the innermost tunnel with the ones around it, a deeper nest is
// given up (said once) without decoding it or keeping memory, and a tunnel
// on an HTTP/2 stream inside another is not decoded (its connections' ids
// would name its innermost tunnel only), said so too.
func TestH2TunnelsNested(t *testing.T) {
	type tc struct {
		name  string
		c, s  []byte
		depth int // tunnels, 0: not decoded
	}
	var cases []tc
	for k := 0; k <= maxTunnels; k++ { // HTTP/1.1 tunnels inside the HTTP/2 one
		var c, s []byte
		for i := range k {
			c = append(c, fmt.Sprintf("CONNECT hop%d.example:80 HTTP/1.1\r\nHost: hop%d.example:80\r\n\r\n", i, i)...)
			s = append(s, "HTTP/1.1 200 Connection established\r\n\r\n"...)
		}
		c = append(append(c, upgradeReq("")...), ctext("hello").bytes()...)
		s = append(append(s, upgradeResp("")...), text("world").bytes()...)
		depth := k + 1
		if depth > maxTunnels {
			depth = 0
		}
		steps := tunnelSteps([][]byte{c}, [][]byte{s})
		var cb, sb []byte
		for _, st := range steps {
			if st.side == 0 {
				cb = append(cb, st.data...)
			} else {
				sb = append(sb, st.data...)
			}
		}
		cases = append(cases, tc{fmt.Sprintf("h2+%d", k), cb, sb, depth})
	}
	c, s := h2TunnelWire(2)
	cases = append(cases, tc{"h2 in h2", c, s, 0})
	for _, tc := range cases {
		for _, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/%v", tc.name, split), func(t *testing.T) {
				b := membudget.New(0)
				var sink proxyCollect
				d := New(&sink, Options{Messages: true, Memory: b})
				feedConn(d, true, split, c2s(tc.c), s2c(tc.s))
				if tc.depth == 0 {
					if len(sink.msgs) != 0 || !slices.Contains(sink.anomalies, AnTunnelNotFollowed) {
						t.Errorf("messages %q, anomalies %v; want none decoded, %s", sink.msgs, sink.anomalies, AnTunnelNotFollowed)
					}
				} else {
					if len(sink.msgs) != 2 || sink.msgs[0] != "c2s hello" {
						t.Errorf("messages %q, want hello and its answer", sink.msgs)
					}
					if sink.chain != tc.depth || sink.h2Stream != 1 || sink.ends != 1 {
						t.Errorf("chain of %d tunnels on stream %d, %d end records; want %d on 1, 1", sink.chain, sink.h2Stream, sink.ends, tc.depth)
					}
				}
				if b.Used() > 2<<16 { // what accounts keep in reserve (two slabs)
					t.Errorf("%d bytes still charged after the connection closed", b.Used())
				}
			})
		}
	}
}

// proxyCollect keeps the text messages and, from the conn record, the
// length of the proxy chain and the HTTP/2 stream.
type proxyCollect struct {
	msgs      []string
	chain     int
	h2Stream  uint32
	ends      int
	anomalies []string
}

func (p *proxyCollect) Emit(r *Record) error {
	switch r.Kind {
	case KindMessage:
		p.msgs = append(p.msgs, r.Message.Dir.String()+" "+string(r.Message.Payload))
	case KindConn:
		p.h2Stream = r.Conn.H2Stream
		for x := range r.Conn.Proxies() {
			if x.Protocol != "HTTP" || (x.Outer == nil) != (x.H2Stream == 1) {
				return fmt.Errorf("tunnel %+v, want HTTP, the outermost on HTTP/2 stream 1", *x)
			}
			p.chain++
		}
	case KindEnd:
		p.ends++
	case KindAnomaly:
		for _, a := range r.Anomalies {
			p.anomalies = append(p.anomalies, a.ID)
		}
	}
	return nil
}

// tunnelSteps returns the steps of an HTTP/2 connection in clear with
// tunnels (CONNECT answered 200) on streams 1, 3, ..., the i-th carrying
// c[i] from the client and s[i] from the server, then END_STREAM both ways
// on each.
func tunnelSteps(c, s [][]byte) []step {
	w := newH2Wire()
	var steps []step
	flush := func() {
		if w.c.Len() > 0 {
			steps = append(steps, c2s(bytes.Clone(w.c.Bytes())))
			w.c.Reset()
		}
		if w.s.Len() > 0 {
			steps = append(steps, s2c(bytes.Clone(w.s.Bytes())))
			w.s.Reset()
		}
	}
	for i := range c {
		id := uint32(2*i + 1)
		w.cf.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: w.block(w.ce,
			":method", "CONNECT", ":authority", fmt.Sprintf("t%d.example:443", i))})
		flush()
		w.sf.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndHeaders: true, BlockFragment: w.block(w.se, ":status", "200")})
		flush()
		for _, d := range []struct {
			f *http2.Framer
			b []byte
		}{{w.cf, c[i]}, {w.sf, s[i]}} {
			for b := d.b; len(b) > 0; {
				n := min(len(b), 16384)
				d.f.WriteData(id, false, b[:n])
				b = b[n:]
			}
			flush()
		}
	}
	for i := range c {
		w.cf.WriteData(uint32(2*i+1), true, nil)
		w.sf.WriteData(uint32(2*i+1), true, nil)
	}
	flush()
	return steps
}

// keyCollect keeps, per record kind, the session keys (TCP stream, tunnel
// stream, HTTP/2 stream) records came under, and the messages by key.
type keyCollect struct {
	conns, ends []string
	msgs        map[string][]string
	anomalies   []string
}

func (k *keyCollect) Emit(r *Record) error {
	key := fmt.Sprintf("%d/%d/%d", r.Conn.Stream, r.Conn.TunnelStream(), r.Conn.H2Stream)
	switch r.Kind {
	case KindConn:
		k.conns = append(k.conns, key)
	case KindEnd:
		k.ends = append(k.ends, key+" "+r.End.Reason.String())
	case KindMessage:
		if k.msgs == nil {
			k.msgs = map[string][]string{}
		}
		k.msgs[key] = append(k.msgs[key], string(r.Message.Payload))
	case KindAnomaly:
		for _, a := range r.Anomalies {
			k.anomalies = append(k.anomalies, a.ID)
		}
	}
	return nil
}

// TestH2TunnelSessionKeys checks that a WebSocket over HTTP/2 inside a
// tunnel on an HTTP/2 stream is told apart from a connection in another
// tunnel whose stream id equals the session's (stream 1 of both): the
// session's key has the tunnel's stream (Conn.TunnelStream).
func TestH2TunnelSessionKeys(t *testing.T) {
	in := newH2Wire() // in tunnel 3: HTTP/2 with a WebSocket on its stream 1
	in.cf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: in.block(in.ce,
		":method", "CONNECT", ":protocol", "websocket", ":scheme", "https", ":path", "/inner", ":authority", "h2.example")})
	in.sf.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: in.block(in.se, ":status", "200")})
	in.cf.WriteData(1, false, ctext("B from the session over HTTP/2").bytes())
	in.sf.WriteData(1, true, text("b").bytes())
	in.cf.WriteData(1, true, nil)
	steps := tunnelSteps(
		[][]byte{append(upgradeReq(""), ctext("A from the ws:// tunnel").bytes()...), in.c.Bytes()},
		[][]byte{append(upgradeResp(""), text("a").bytes()...), in.s.Bytes()})
	for _, split := range []bool{false, true} {
		var k keyCollect
		feedConn(New(&k, Options{Messages: true}), true, split, steps...)
		want := map[string][]string{
			"7/0/1": {"A from the ws:// tunnel", "a"},
			"7/3/1": {"B from the session over HTTP/2", "b"},
		}
		if fmt.Sprint(k.msgs) != fmt.Sprint(want) || fmt.Sprint(k.conns) != "[7/0/1 7/3/1]" {
			t.Errorf("split %v: conn records %v, messages %q; want [7/0/1 7/3/1], %q", split, k.conns, k.msgs, want)
		}
		if len(k.ends) != 2 {
			t.Errorf("split %v: end records %v, want one each", split, k.ends)
		}
	}
}

// TestH2TunnelsBudget checks that tunnels are charged to the memory
// budget: past it, a tunnel is not decoded (said once each), the budget's
// peak stays near its limit, and everything is given back at the end.
func TestH2TunnelsBudget(t *testing.T) {
	const n, limit = 400, 4 << 20
	var c, s [][]byte
	for range n {
		c = append(c, append(upgradeReq(""), ctext("hello").bytes()...))
		s = append(s, upgradeResp(""))
	}
	steps := tunnelSteps(c, s)
	b := membudget.New(limit)
	var k keyCollect
	feedConn(New(&k, Options{Messages: true, Memory: b}), true, false, steps...)
	refused := 0
	for _, a := range k.anomalies {
		if a == AnMemoryBudget {
			refused++
		}
	}
	if refused == 0 || len(k.conns)+refused != n {
		t.Errorf("%d tunnels decoded and %d refused, want all %d one or the other, some refused", len(k.conns), refused, n)
	}
	if b.Peak() > limit+limit/4 {
		t.Errorf("peak %d bytes with a %d-byte budget", b.Peak(), limit)
	}
	if b.Used() > 2<<16 {
		t.Errorf("%d bytes still charged after the connection closed", b.Used())
	}
}

// TestH2TunnelDropped checks a tunnel dropped because more streams than
// h2.Limits.MaxStreams are open: it ends as evicted, with an anomaly
// saying why, when it is dropped.
func TestH2TunnelDropped(t *testing.T) {
	const n = 1025 // one more than the default limit
	var c, s [][]byte
	for range n {
		c, s = append(c, upgradeReq("")), append(s, upgradeResp(""))
	}
	var k keyCollect
	feedConn(New(&k, Options{}), true, false, tunnelSteps(c, s)...)
	if len(k.ends) != n || k.ends[0] != "7/0/1 evicted" || !slices.Contains(k.anomalies, AnH2StreamsLimit) {
		first := ""
		if len(k.ends) > 0 {
			first = k.ends[0]
		}
		t.Errorf("%d end records, the first %q, anomalies %v; want %d, \"7/0/1 evicted\", %s", len(k.ends), first, len(k.anomalies), n, AnH2StreamsLimit)
	}
}

// TestTunnelPickedUpTLS checks that TLS records without a ClientHello in an
// HTTP/1.1 CONNECT tunnel of a connection picked up without its SYN are
// listed as a TLS connection picked up mid-stream.
func TestTunnelPickedUpTLS(t *testing.T) {
	rec := func(n int) []byte {
		return append([]byte{23, 3, 3, byte(n >> 8), byte(n)}, bytes.Repeat([]byte{0x5a}, n)...)
	}
	var conns []*Conn
	d := New(sinkFunc(func(r *Record) error {
		if r.Kind == KindConn {
			c := *r.Conn
			conns = append(conns, &c)
		}
		return nil
	}), Options{})
	feedConn(d, false, false,
		c2s([]byte("CONNECT wss.example:443 HTTP/1.1\r\nHost: wss.example:443\r\n\r\n")),
		s2c([]byte("HTTP/1.1 200 Connection established\r\n\r\n")),
		c2s(append(rec(100), rec(200)...)), s2c(append(rec(300), rec(50)...)), c2s(rec(40)))
	if len(conns) != 1 || conns[0].TLS == nil || conns[0].TLS.Reason != tlsdecrypt.PickedUpReason || conns[0].Proxy == nil {
		t.Fatalf("conn records %+v, want one TLS connection picked up mid-stream in the tunnel", conns)
	}
}
