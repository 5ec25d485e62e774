package dissect

import (
	"fmt"
	"testing"

	"golang.org/x/net/http2"

	"github.com/wsdissect/wsdissect/internal/membudget"
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

// TestH2TunnelsNested checks tunnels inside tunnels on HTTP/2 streams: the
// WebSocket at the bottom is decoded through up to maxTunnels of them, each
// record naming the innermost tunnel with the ones around it, and a deeper
// nest is given up without decoding it or keeping memory.
func TestH2TunnelsNested(t *testing.T) {
	for depth := 1; depth <= maxTunnels+2; depth++ {
		for _, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/%v", depth, split), func(t *testing.T) {
				c, s := h2TunnelWire(depth)
				b := membudget.New(0)
				var sink proxyCollect
				d := New(&sink, Options{Messages: true, Memory: b})
				feedConn(d, true, split, c2s(c), s2c(s))
				if depth > maxTunnels {
					if len(sink.msgs) != 0 {
						t.Errorf("messages %q decoded %d tunnels deep", sink.msgs, depth)
					}
				} else {
					want := []string{"c2s hello", fmt.Sprint("s2c depth ", depth)}
					if fmt.Sprint(sink.msgs) != fmt.Sprint(want) {
						t.Errorf("messages %q, want %q", sink.msgs, want)
					}
					if sink.chain != depth || sink.h2Stream != 1 || sink.ends != 1 {
						t.Errorf("chain of %d tunnels on stream %d, %d end records; want %d on 1, 1", sink.chain, sink.h2Stream, sink.ends, depth)
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
	msgs     []string
	chain    int
	h2Stream uint32
	ends     int
}

func (p *proxyCollect) Emit(r *Record) error {
	switch r.Kind {
	case KindMessage:
		p.msgs = append(p.msgs, r.Message.Dir.String()+" "+string(r.Message.Payload))
	case KindConn:
		p.h2Stream = r.Conn.H2Stream
		for x := r.Conn.Proxy; x != nil; x = x.Outer {
			if x.H2Stream != 1 || x.Protocol != "HTTP" {
				return fmt.Errorf("tunnel %+v, want HTTP on stream 1", *x)
			}
			p.chain++
		}
	case KindEnd:
		p.ends++
	}
	return nil
}
