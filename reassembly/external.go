package reassembly

import (
	"net/netip"
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

// ProcessStream is Process for an assembler whose connection table follows
// the decisions of a Table the caller keeps, as the engine's parallel runner
// does: one reader's Table decides, for all its workers, which packets open
// a connection and which number it gets, and when connections expire, are
// evicted or are replaced by a new connection on the same addresses; each
// worker's Assembler follows those decisions (Table.Follow).
//
// ProcessStream processes seg as part of connection number stream: if no
// connection with seg's addresses is tracked, it starts one with that number
// (instead of the next number of its own). It never sweeps idle connections,
// expires, detects reuse or evicts: the caller does that with End. If a
// connection with seg's addresses but another number is tracked, it is ended
// as ClosedReused first (a caller that ends connections itself never sees
// this). An Assembler should be driven either by Process or by
// ProcessStream and End, not both.
func (a *Assembler) ProcessStream(seg *netpkt.Segment, pkt uint64, ts time.Time, stream uint64) {
	if seg == nil {
		return
	}
	a.stats.Packets++
	c, side := a.table.Follow(seg, pkt, ts, stream)
	if c == nil {
		c = new(conn)
		side = a.table.AddNumbered(c, &c.Entry, seg, pkt, ts, stream)
		a.newConn(c, side, seg, pkt, ts)
	}
	a.handle(c, side, seg, pkt, ts)
}

// End ends the tracked connection numbered stream between the endpoints x
// and y (in either order) at packet pkt, time ts, and stops tracking it, for
// a caller that manages the connection table (see ProcessStream). reason
// selects what Process would have done: ClosedIdle expires it as idle,
// ClosedEvicted evicts it (counted in Stats.Evictions), ClosedReused ends it
// because a new connection reuses its addresses, ClosedEOF ends it at the end
// of the input (FlushAll). A connection already closed (a tombstone) is only
// dropped. Nothing happens when no connection numbered stream is tracked for
// those endpoints.
func (a *Assembler) End(x, y netip.AddrPort, stream uint64, reason CloseReason, pkt uint64, ts time.Time) {
	a.table.End(x, y, stream, reason, pkt, ts)
}
