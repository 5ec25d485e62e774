package reassembly

import (
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

// Stream is a connection of an Assembler whose connection table is kept by
// the caller, as the engine's parallel runner does: one reader's Table
// decides, for all its workers, which packets open a connection and which
// number it gets, and when connections expire, are evicted or are replaced
// by a new connection on the same addresses; each worker's Assembler only
// rebuilds the streams of the connections it is given, through Open,
// Segment and Close, without a table lookup of its own.
type Stream struct {
	c conn
}

// Open starts connection number stream, whose first segment seg was sent
// from side (as the caller's Table.Add decided), and returns it; the caller
// then passes seg, and every later segment of the connection, to Segment.
// The Assembler never ends the connection by itself: no idle sweep,
// eviction or reuse applies to it, and FlushAll does not see it; the caller
// ends it with Close. evicted tells that the connection continues one
// evicted from the caller's full table (Entry.Evicted; ConnInfo.Evicted).
func (a *Assembler) Open(seg *netpkt.Segment, side Side, pkt uint64, ts time.Time, stream uint64, evicted bool) *Stream {
	s := a.streams.Get()
	a.newConn(&s.c, side, seg, pkt, ts, stream, evicted)
	return s
}

// Segment processes seg, a segment of s sent from side, like Process; seg's
// addresses are not looked at. It returns the stream the caller keeps for
// the connection from then on: s, or, once the connection has closed (both
// FINs done, or a RST), a stream shared by all closed connections, which
// counts their later segments as ignored and which Close leaves alone. s
// itself then goes back to the Assembler for a later Open: on captures of
// many short connections, reusing the state of closed ones at once, rather
// than when the caller's table drops them, keeps it in the cache.
func (a *Assembler) Segment(s *Stream, side Side, seg *netpkt.Segment, pkt uint64, ts time.Time) *Stream {
	a.stats.Packets++
	a.handle(&s.c, side, seg, pkt, ts)
	if s.c.closed && s != &a.closedStream {
		a.Close(s, ClosedEOF, pkt, ts) // only releases it: it has ended
		return &a.closedStream
	}
	return s
}

// Close ends s at packet pkt, time ts. reason selects what Process would
// have done: ClosedIdle expires it as idle, ClosedEvicted evicts it (counted
// in Stats.Evictions), ClosedReused ends it because a new connection reuses
// its addresses, ClosedEOF ends it at the end of the input (as FlushAll). A
// connection that already closed (after both FINs or a RST) is only
// released; the handler's Close is called once in all. s must not be used
// after Close: the Assembler reuses it for a later Open.
func (a *Assembler) Close(s *Stream, reason CloseReason, pkt uint64, ts time.Time) {
	if s == &a.closedStream {
		return
	}
	a.endConn(&s.c, reason, pkt, ts)
	a.streams.Put(s)
}
