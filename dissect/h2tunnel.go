package dissect

import (
	"fmt"
	"slices"
	"time"
	"unsafe"

	"github.com/wsdissect/wsdissect/h2"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// Proxy tunnels on HTTP/2 streams (RFC 9113 8.5).
//
// A client whose proxy speaks HTTP/2 (Chromium's, through an HTTPS proxy
// that offers h2) asks for each tunnel with a CONNECT on a stream of its
// own; once answered with 2xx, the stream's DATA is the tunnel's byte
// stream each way, and what runs in it (TLS to the server, or HTTP and a
// WebSocket) is a connection of its own. Each tunnel gets the handler a TCP
// connection starts with (lazyConn), fed with the stream's DATA as the two
// sides of the TCP connection it rides on, so everything a connection can
// be is decoded there too. Its records carry the TCP connection's stream
// number with the tunnel's HTTP/2 stream id (Conn.H2Stream, or, when what
// runs in the tunnel is HTTP/2 itself, Conn.TunnelStream beside its own
// sessions' ids) and the CONNECT's target and credentials (Conn.Proxy,
// ProxyTunnel.H2Stream).

// h2Tunnel is one open tunnel of an HTTP/2 connection.
type h2Tunnel struct {
	l    *lazyConn // nil when the memory budget refused the tunnel
	off  [2]uint64 // stream bytes delivered (and lost) per reassembly side
	done bool      // the handler wants no more bytes
	ch   reassembly.Chunk
	gap  reassembly.Gap
}

// tunnelCost is what following a tunnel is charged to the memory budget:
// its handler and state, and the TLS layer that usually runs in it with
// its session (whose buffers are charged as they grow, tlsConn.chargeHeld)
// and a record's worth each way. Connections on TCP are bounded by the
// connection table; tunnels, up to h2.Limits.MaxStreams an HTTP/2
// connection, by this charge.
const tunnelCost = int64(unsafe.Sizeof(lazyConn{})+unsafe.Sizeof(h2Tunnel{})+unsafe.Sizeof(tunnelStart{})+
	unsafe.Sizeof(tlsConn{})+unsafe.Sizeof(tlsdecrypt.Session{})) + 2*(16<<10+512)

// openTunnel starts decoding tunnel stream s, answered with 2xx, when the
// memory budget allows.
func (hs *h2State) openTunnel(s *h2.Stream, m h2.Meta) {
	c := hs.c
	for _, a := range streamAnomalies(s) {
		c.anomalyRecord(c.clientSide, false, a, m.Packet, m.Time)
	}
	target, _ := h2.Get(s.Request, ":authority")
	if hs.tunnels == nil {
		hs.tunnels = make(map[uint32]*h2Tunnel)
	}
	t := &h2Tunnel{done: true}
	hs.tunnels[s.ID] = t
	if c.tunnels >= maxTunnels {
		c.anomalyRecord(c.clientSide, false, newAnomaly(AnTunnelNotFollowed, -1,
			fmt.Sprintf("the tunnel to %q on HTTP/2 stream %d is not decoded: it would be nested %d deep (at most %d are followed)", target, s.ID, c.tunnels+1, maxTunnels)), m.Packet, m.Time)
		return
	}
	for p := range c.proxy.Chain() {
		if p.H2Stream != 0 {
			// Its connections' ids (Conn.TunnelStream) would name the
			// innermost tunnel only, as those of another chain.
			c.anomalyRecord(c.clientSide, false, newAnomaly(AnTunnelNotFollowed, -1,
				fmt.Sprintf("the tunnel to %q on HTTP/2 stream %d is not decoded: it is inside another tunnel on an HTTP/2 stream (%d)", target, s.ID, p.H2Stream)), m.Packet, m.Time)
			return
		}
	}
	if !c.d.mem.Take(tunnelCost) {
		c.anomalyRecord(c.clientSide, false, newAnomaly(AnMemoryBudget, -1,
			fmt.Sprintf("the tunnel to %q on HTTP/2 stream %d is not decoded: the memory budget is exhausted", target, s.ID)), m.Packet, m.Time)
		return
	}
	tu := &tunnelStart{proxy: ProxyTunnel{Protocol: "HTTP", Target: target, H2Stream: s.ID}}
	tu.proxy.Authorization, _ = h2.Get(s.Request, "proxy-authorization")
	t.l = c.d.innerLazy(c.info, c.conn.TLS, c.depth, c.tunnels, c.proxy, s.ID)
	t.done = !t.l.startTunnel(tu)
	hs.noteShown(t)
}

// innerLazy returns the handler of bytes that run inside a connection (in
// its decrypted TLS, or in a tunnel on one of its HTTP/2 streams): they are
// described by tls, depth TLS layers deep, after the tunnels it counts,
// with proxy the tunnel they are in and h2Stream that tunnel's HTTP/2
// stream.
func (d *Dissector) innerLazy(info *reassembly.ConnInfo, tls *TLS, depth, tunnels int, proxy *ProxyTunnel, h2Stream uint32) *lazyConn {
	l := d.pool.lazy.Get()
	l.d, l.info = d, info
	l.tls, l.depth, l.tunnels = tls, depth, tunnels
	l.proxy, l.h2Stream = proxy, h2Stream
	return l
}

// sideOf maps an HTTP/2 direction to the side of the TCP connection.
func (hs *h2State) sideOf(d h2.Dir) reassembly.Side {
	if d == h2.ServerToClient {
		return hs.c.clientSide.Other()
	}
	return hs.c.clientSide
}

// tunnelData hands bytes of tunnel t's stream on.
func (hs *h2State) tunnelData(t *h2Tunnel, d h2.Dir, b []byte, m h2.Meta) {
	side := hs.sideOf(d)
	t.ch = reassembly.Chunk{Data: b, Offset: t.off[side], Packet: m.Packet, Time: m.Time}
	t.off[side] += uint64(len(b))
	if !t.done && !t.l.Data(side, &t.ch) {
		t.done = true
	}
	hs.noteShown(t)
}

// tunnelGap says n bytes of tunnel t's stream are missing.
func (hs *h2State) tunnelGap(t *h2Tunnel, d h2.Dir, n uint64, exact bool, m h2.Meta) {
	side := hs.sideOf(d)
	reason := "lost from the capture"
	if !exact {
		reason = "lost from the capture; the HTTP/2 frame layer resynchronised, so this is only an upper bound"
	}
	t.gap = reassembly.Gap{Offset: t.off[side], Len: n, Packet: m.Packet, Time: m.Time, Reason: reason, Unsized: !exact}
	t.off[side] += n
	if !t.done {
		t.l.Gap(side, &t.gap)
	}
	hs.noteShown(t)
}

// endTunnel ends tunnel t, whose stream ended for reason r at m: its
// connection's end record says so, at that packet. A reset or GOAWAY is
// also said with its error code (an anomaly of the HTTP/2 connection).
func (hs *h2State) endTunnel(id uint32, t *h2Tunnel, r h2.EndReason, m h2.Meta) {
	delete(hs.tunnels, id)
	if t.l == nil {
		return
	}
	hs.c.d.mem.Give(tunnelCost)
	var rst int8
	why := hs.c.closeReason
	switch r.Kind {
	case h2.EndStream:
		why = EndH2Stream
	case h2.EndReset:
		why = EndH2Reset
		rst = int8(hs.sideOf(r.By)) + 1
	case h2.EndGoAway:
		why = EndH2GoAway
	case h2.EndDropped:
		why = EndEvicted
	}
	if r.Kind == h2.EndReset || r.Kind == h2.EndGoAway {
		a := newAnomaly(AnH2StreamClosed, -1, fmt.Sprintf("the tunnel on HTTP/2 stream %d ended: %s", id, r))
		if !t.l.anomaly(a, m.Packet, m.Time) {
			hs.c.anomalyRecord(hs.c.clientSide, false, a, m.Packet, m.Time)
		}
	}
	t.l.finish()
	hs.noteShown(t)
	t.l.carrierEnded(m.Packet, m.Time, rst, why)
	cause := hs.c.closeCause
	if cause == 0 {
		cause = reassembly.ClosedEOF
	}
	t.l.Close(cause)
	t.l = nil
}

// finishTunnels runs lazyConn.finish for the open tunnels, in stream order.
func (hs *h2State) finishTunnels() {
	ids := make([]uint32, 0, len(hs.tunnels))
	for id := range hs.tunnels {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if t := hs.tunnels[id]; t.l != nil {
			t.l.finish()
			hs.noteShown(t)
		}
	}
}

// noteShown remembers that tunnel t's connection was listed, or will be (a
// TLS connection lists itself when it ends), so that the HTTP/2 connection
// is described by its tunnels (tunnelShown): checked as t's handler returns,
// so that asking costs nothing however many tunnels there are.
func (hs *h2State) noteShown(t *h2Tunnel) {
	if !hs.tunnelShown && t.l != nil && (t.l.t != nil || t.l.shownConn() != nil) {
		hs.tunnelShown = true
	}
}

// anomaly reports a, found at packet pkt, on the connection (held by a
// TLS layer until it is listed); false when the connection has no state
// yet to report it on.
func (l *lazyConn) anomaly(a Anomaly, pkt uint64, ts time.Time) bool {
	switch {
	case l.t != nil:
		l.t.note(a, false, ClientToServer, pkt, ts)
	case l.c != nil:
		l.c.anomalyRecord(l.c.clientSide, false, a, pkt, ts)
	default:
		return false
	}
	return true
}

// carrierEnded says that what carries the connection (an HTTP/2 stream)
// ended at packet pkt for reason why, reset by side rst-1 when rst is not
// 0, so that its end record (and those of the connections inside it) says
// so at that packet.
func (l *lazyConn) carrierEnded(pkt uint64, ts time.Time, rst int8, why EndReason) {
	switch {
	case l.t != nil:
		t := l.t
		if pkt >= t.pkt {
			t.pkt, t.ts = pkt, ts
		}
		t.rstSide, t.endAs = rst, why
		if t.innerLazy != nil {
			t.innerLazy.carrierEnded(pkt, ts, rst, why)
		}
	case l.c != nil:
		c := l.c
		c.seen(pkt, ts)
		if rst != 0 {
			c.rstSide = rst
		}
		c.endAs = why
		if c.h2 != nil && pkt >= c.h2.lastPkt {
			c.h2.lastPkt, c.h2.lastTS = pkt, ts
		}
	}
}
