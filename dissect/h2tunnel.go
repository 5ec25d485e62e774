package dissect

import (
	"time"

	"github.com/wsdissect/wsdissect/h2"
	"github.com/wsdissect/wsdissect/reassembly"
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
// number with the tunnel's HTTP/2 stream id (Conn.H2Stream) and the
// CONNECT's target and credentials (Conn.Proxy, ProxyTunnel.H2Stream).

// h2Tunnel is one open tunnel of an HTTP/2 connection.
type h2Tunnel struct {
	l    *lazyConn
	off  [2]uint64 // stream bytes delivered (and lost) per reassembly side
	done bool      // the handler wants no more bytes
	ch   reassembly.Chunk
	gap  reassembly.Gap
}

// Close reasons of a connection that runs in an HTTP/2 tunnel, beyond the
// reassembler's own: how the tunnel's stream ended (see endReasons).
const (
	closedH2Stream = reassembly.ClosedMemory + 1 + iota
	closedH2Reset
	closedH2GoAway
)

// openTunnel starts decoding tunnel stream s, answered with 2xx.
func (hs *h2State) openTunnel(s *h2.Stream, m h2.Meta) {
	c := hs.c
	for _, a := range streamAnomalies(s) {
		c.anomalyRecord(c.clientSide, false, a, m.Packet, m.Time)
	}
	tu := &tunnelStart{proxy: ProxyTunnel{Protocol: "HTTP", H2Stream: s.ID}}
	tu.proxy.Target, _ = h2.Get(s.Request, ":authority")
	tu.proxy.Authorization, _ = h2.Get(s.Request, "proxy-authorization")
	l := c.d.pool.lazy.Get()
	l.d, l.info = c.d, c.info
	l.tls, l.depth, l.tunnels = c.conn.TLS, c.depth, c.tunnels
	l.proxy, l.h2Stream = c.proxy, s.ID
	t := &h2Tunnel{l: l}
	if hs.tunnels == nil {
		hs.tunnels = make(map[uint32]*h2Tunnel)
	}
	hs.tunnels[s.ID] = t
	t.done = !l.startTunnel(tu)
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
}

// endTunnel ends tunnel t, whose stream ended for reason r at m.
func (hs *h2State) endTunnel(id uint32, t *h2Tunnel, r h2.EndReason, m h2.Meta) {
	delete(hs.tunnels, id)
	var rst int8
	if r.Kind == h2.EndReset {
		rst = int8(hs.sideOf(r.By)) + 1
	}
	t.l.carrierEnded(m.Packet, m.Time, rst)
	if t.l.shownConn() != nil || t.l.t != nil {
		hs.tunnelShown = true
	}
	why := hs.c.closeCause
	switch r.Kind {
	case h2.EndStream:
		why = closedH2Stream
	case h2.EndReset:
		why = closedH2Reset
	case h2.EndGoAway:
		why = closedH2GoAway
	}
	if why == 0 {
		why = reassembly.ClosedEOF
	}
	t.l.Close(why)
}

// carrierEnded says that what carries the connection (an HTTP/2 stream)
// ended at packet pkt, reset by side rst-1 when rst is not 0, so that its
// end record (and those of the connections inside it) names that packet.
func (l *lazyConn) carrierEnded(pkt uint64, ts time.Time, rst int8) {
	switch {
	case l.t != nil:
		t := l.t
		if pkt >= t.pkt {
			t.pkt, t.ts = pkt, ts
		}
		t.rstSide = rst
		if t.innerLazy != nil {
			t.innerLazy.carrierEnded(pkt, ts, rst)
		}
	case l.c != nil:
		c := l.c
		c.seen(pkt, ts)
		if rst != 0 {
			c.rstSide = rst
		}
		if c.h2 != nil && pkt >= c.h2.lastPkt {
			c.h2.lastPkt, c.h2.lastTS = pkt, ts
		}
	}
}

// tunnelsShown reports whether a tunnel of the connection was listed (or
// will be: a TLS connection in one lists itself when it ends), so that the
// HTTP/2 connection is described by its tunnels.
func (hs *h2State) tunnelsShown() bool {
	if hs.tunnelShown {
		return true
	}
	for _, t := range hs.tunnels {
		if t.l.shownConn() != nil || t.l.t != nil {
			return true
		}
	}
	return false
}
