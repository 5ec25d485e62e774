package reassembly

import (
	"net/netip"
	"time"

	"github.com/wsdissect/wsdissect/internal/freelist"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/netpkt"
)

// maxFreeConns bounds the ended connections' states an Assembler keeps.
const maxFreeConns = 256

// maxSegLen bounds the payload length a segment may claim, keeping sequence
// arithmetic (32-bit signed differences) meaningful for absurd header values.
const maxSegLen = 1 << 30

// Assembler rebuilds the byte streams of TCP connections. It is not safe for
// concurrent use, and handlers must not call back into it.
//
// Every byte of a stream, up to its FIN, is handed to the Handler either in a
// Data chunk or inside a Gap, in order. Overlapping copies keep the first
// one; a later copy whose bytes differ is reported with
// NoteRetransmitDiffers. Holes become gaps when the buffers are full, when
// the peer acknowledges bytes beyond them (buffered data or the FIN lies
// beyond), when the snap length cut a segment, and when the connection
// ends. After a Handler's Data returns false, the connection gets no further
// Data, Gap or Note calls, its buffers are freed, and its packets are only
// counted (Stats.Ignored); Close is still called once when it ends (both
// FINs, RST, idle, eviction, reuse or FlushAll).
//
// A closed connection leaves a tombstone in the table until it has been idle
// for Config.IdleTimeout, so that late packets do not start a new stream; a
// SYN with a new initial sequence number does. An open connection that
// carried data is never expired for being idle (see Table).
type Assembler struct {
	factory Factory
	cfg     Config

	// table maps segments to connections and decides when they end.
	table Table[track]
	// buffering lists the connections that buffer out-of-order data, the one
	// that has been buffering the longest first.
	buffering list[conn]

	buffered int64
	stats    Stats
	// mem is charged the memory of buffered pieces and rings.
	mem *membudget.Account

	// free holds piece buffers of capacity poolBufCap for reuse.
	free [][]byte
	// rings holds recent-window rings for reuse.
	rings ringPool
	// conns, tracks and streams hold the state of ended connections for reuse:
	// on captures of many short connections, allocating it anew, and
	// first touching that memory, cost several percent of the run.
	conns   freelist.List[conn]
	tracks  freelist.List[track]
	streams freelist.List[Stream]
	// closedStream stands for every closed connection opened with Open
	// (see Segment).
	closedStream Stream

	// Values handed to handlers by pointer; kept here so that passing them
	// does not allocate.
	chunk Chunk
	gap   Gap
	note  Note
}

// New returns an Assembler that asks f for a Handler for every new
// connection. Zero fields of cfg take their defaults (see Config).
func New(f Factory, cfg Config) *Assembler {
	a := &Assembler{factory: f, cfg: cfg.withDefaults(), mem: cfg.Memory.Account()}
	a.conns.Max, a.tracks.Max, a.streams.Max = maxFreeConns, maxFreeConns, maxFreeConns
	a.closedStream.c.closed = true
	a.table.init(a.cfg, (*connEnder)(a))
	return a
}

// Stats returns the assembler's counters.
func (a *Assembler) Stats() Stats {
	s := a.stats
	s.Buffered = a.buffered
	return s
}

// Process handles one decoded TCP segment of packet number pkt captured at
// ts. seg.Payload is only valid during the call: whatever must be buffered is
// copied. In-order data is handed to the Handler straight from seg.Payload.
func (a *Assembler) Process(seg *netpkt.Segment, pkt uint64, ts time.Time) {
	if seg == nil {
		return
	}
	a.stats.Packets++
	t, side := a.table.Track(seg, pkt, ts)
	if t == nil {
		t = a.tracks.Get()
		side = a.table.Add(t, &t.Entry, seg, pkt, ts)
		t.c = a.conns.Get()
		t.c.ent = &t.Entry
		a.newConn(t.c, side, seg, pkt, ts, t.Stream(), t.Evicted())
	}
	c := t.c
	if c == nil { // a tombstone
		a.stats.Ignored++
		return
	}
	a.handle(c, side, seg, pkt, ts)
	if c.closed {
		a.conns.Put(c)
		t.c = nil
	}
}

// handle processes seg, a segment of c from side.
func (a *Assembler) handle(c *conn, side Side, seg *netpkt.Segment, pkt uint64, ts time.Time) {
	if c.closed {
		a.stats.Ignored++
		return
	}
	if c.stopped {
		a.stats.Ignored++
	} else {
		a.processSegment(c, side, seg, pkt, ts)
	}
	if c.stopped && !c.closed {
		a.processStopped(c, side, seg, pkt, ts)
	}
}

// FlushAll ends every connection (end of input): buffered data after holes is
// delivered with Gap events first, then Close(ClosedEOF) is called, in order
// of stream number. All connection state, tombstones included, is dropped;
// stream numbers continue if Process is called again.
func (a *Assembler) FlushAll(pkt uint64, ts time.Time) {
	a.table.EndAll(pkt, ts)
}

// newConn sets up c for connection number stream, whose first packet is
// seg, sent from side.
func (a *Assembler) newConn(c *conn, side Side, seg *netpkt.Segment, pkt uint64, ts time.Time, stream uint64, evicted bool) {
	c.info.Addr[side] = netip.AddrPortFrom(seg.Src, seg.SrcPort)
	c.info.Addr[side.Other()] = netip.AddrPortFrom(seg.Dst, seg.DstPort)
	c.info.SawSYN = pureSYN(seg)
	c.info.Stream = stream
	c.info.FirstPacket = pkt
	c.info.FirstTime = ts
	c.info.Evicted = evicted
	c.info.Tunnel, c.info.HasTunnelID, c.info.TunnelID = seg.Tunnel, seg.HasTunnelID, seg.TunnelID
	a.stats.Conns++
	a.stats.Active++
	if a.factory != nil {
		c.h = a.factory.NewConn(&c.info)
	}
	if c.h == nil {
		c.h = discard{}
		c.stopped = true
	}
}

// processSegment handles a segment of an open connection whose handler still
// wants data. It returns early when the handler stops or the connection
// closes.
func (a *Assembler) processSegment(c *conn, side Side, seg *netpkt.Segment, pkt uint64, ts time.Time) {
	h, peer := &c.half[side], &c.half[side.Other()]
	syn := seg.Flags&netpkt.FlagSYN != 0
	if c.ent != nil {
		c.ent.Learn(side, seg)
	}

	// Where the side's stream starts.
	if syn {
		if !h.synSeen {
			h.synSeen, h.wscale = true, seg.WScale
		}
		if !h.known {
			h.known, h.nextSeq, h.nextOff = true, seg.Seq+1, 0
		}
		if seg.Flags&netpkt.FlagACK != 0 && !peer.known {
			peer.known, peer.nextSeq, peer.nextOff = true, seg.Ack, 0
		}
	} else if !h.known {
		h.known, h.nextSeq, h.nextOff = true, seg.Seq, 0
	}

	if seg.Flags&netpkt.FlagRST != 0 {
		a.reset(c, side, pkt, ts)
		return
	}

	// The acknowledgement tells what the peer's receiver got.
	if seg.Flags&netpkt.FlagACK != 0 && peer.known {
		off := peer.rel(seg.Ack)
		if off >= 0 && (!peer.ackKnown || uint64(off) > peer.acked) {
			peer.acked, peer.ackKnown = uint64(off), true
			if !a.checkAcked(c, side.Other(), pkt, ts) {
				return
			}
		}
		if shift, ok := c.windowShift(side); ok && off >= 0 && !syn {
			wnd := uint64(seg.Window) << shift
			if end := uint64(off) + wnd; !peer.wndKnown || end > peer.wndEnd {
				peer.wndEnd = end
			}
			peer.wndKnown, peer.wndSize = true, max(peer.wndSize, wnd)
		}
	}

	n := seg.PayloadLen
	if n < len(seg.Payload) {
		n = len(seg.Payload)
	}
	n = min(n, maxSegLen)
	data := seg.Payload[:min(len(seg.Payload), n)]
	fin := seg.Flags&netpkt.FlagFIN != 0
	dataSeq := seg.Seq
	if syn {
		dataSeq++
	}
	start := h.rel(dataSeq)
	if n > 0 && h.wndKnown && start > int64(h.wndEnd+oowSlack(h.wndSize)) {
		// Far beyond anything the receiver allowed: junk (or an attack on
		// the buffers), never real data; buffering it would push real
		// data out.
		a.stats.OutOfWindow++
		if !h.oowNoted {
			h.oowNoted = true
			a.note = Note{Kind: NoteOutOfWindow, Offset: uint64(start), Len: uint64(n), Packet: pkt, Time: ts}
			c.h.Note(side, &a.note)
		}
		return
	}

	if fin && !h.finKnown && start+int64(n) >= int64(h.nextOff) {
		a.setFIN(c, side, uint64(start+int64(n)), pkt, ts)
	}
	if n > 0 {
		if !a.segmentData(c, side, start, data, n, syn || fin, pkt, ts) {
			return
		}
	}
	if !a.drain(c, side, pkt, ts) || !a.checkAcked(c, side, pkt, ts) || !a.enforceLimits(c, side, pkt, ts) {
		return
	}
	if c.half[SideA].finDone && c.half[SideB].finDone && !c.closed {
		a.end(c, ClosedFIN, GapEOF, pkt, ts)
	}
}

// oowSlack is how far beyond the end of the receive window last seen a
// segment may start and still be taken as data: four windows (ACKs and
// window updates may be missing from the capture) plus 1 MiB.
func oowSlack(wnd uint64) uint64 { return 4*max(wnd, 64<<10) + 1<<20 }

// windowShift returns the window scale that applies to windows advertised by
// side: known when both SYNs were seen (RFC 7323: scaling is on only when
// both carry the option).
func (c *conn) windowShift(side Side) (uint, bool) {
	h, p := &c.half[side], &c.half[side.Other()]
	switch {
	case !h.synSeen || !p.synSeen:
		return 0, false
	case h.wscale == 0 || p.wscale == 0:
		return 0, true
	}
	return uint(h.wscale - 1), true
}

// segmentData handles the n stream bytes at offset start of one side, of
// which data are present in the capture (the rest was cut by the snap
// length). It reports whether the handler still wants data.
func (a *Assembler) segmentData(c *conn, side Side, start int64, data []byte, n int, synFin bool, pkt uint64, ts time.Time) bool {
	h := &c.half[side]
	next := int64(h.nextOff)
	// A keep-alive probe repeats the byte before the next one with
	// arbitrary content; it is not a retransmission.
	if !synFin && n == 1 && start == next-1 {
		return true
	}
	if start+int64(n) <= 0 {
		a.stats.OldSegments++
		return true
	}
	if start < 0 {
		cut := int(-start)
		data = data[min(cut, len(data)):]
		n -= cut
		start = 0
	}
	off := uint64(start)
	end := off + uint64(n)
	if h.finKnown && end > h.finOff {
		// Bytes after the FIN are not part of the stream.
		if off >= h.finOff {
			return true
		}
		end = h.finOff
		data = data[:min(len(data), int(end-off))]
	}
	var diff diffRange
	seen := false
	ooo := off > h.nextOff

	// Bytes already delivered: compare with the recent window.
	if off < h.nextOff {
		seen = true
		upto := min(end, h.nextOff)
		present := min(upto, off+uint64(len(data)))
		if present > off {
			h.compareRecent(off, data[:present-off], &diff)
		}
		k := upto - off
		data = data[min(uint64(len(data)), k):]
		off = upto
	}

	// In-order bytes go to the handler straight from the packet.
	if off < end && off == h.nextOff {
		limit := end
		if p := h.live(); len(p) > 0 && p[0].off < limit {
			limit = p[0].off
		}
		if dEnd := min(limit, off+uint64(len(data))); dEnd > off {
			if !a.deliver(c, side, data[:dEnd-off], pkt, ts) {
				return false
			}
			data = data[dEnd-off:]
			off = dEnd
		}
		if off < limit {
			// The snap length cut these bytes off.
			a.emitGap(c, side, limit-off, GapSnapLen, pkt, ts)
			off = limit
		}
	}

	// The rest is ahead of a hole, or overlaps buffered data.
	if off < end {
		if ooo {
			a.stats.OutOfOrder++
		}
		waiting := len(h.live()) > 0
		if a.insert(c, side, off, end, data, pkt, ts, &diff) {
			seen = true
		}
		if !waiting && len(h.live()) > 0 && !c.stopped {
			a.note = Note{Kind: NoteHole, Offset: h.nextOff, Len: h.live()[0].off - h.nextOff, Packet: pkt, Time: ts}
			c.h.Note(side, &a.note)
		}
	}
	if seen {
		a.stats.Retransmissions++
	}
	if diff.ok {
		a.note = Note{Kind: NoteRetransmitDiffers, Offset: diff.lo, Len: diff.hi - diff.lo, Packet: pkt, Time: ts}
		c.h.Note(side, &a.note)
	}
	return true
}

// setFIN records the position of side's FIN; buffered bytes after it are
// dropped, as they are not part of the stream.
func (a *Assembler) setFIN(c *conn, side Side, finOff uint64, pkt uint64, ts time.Time) {
	h := &c.half[side]
	h.finKnown, h.finOff, h.finPkt, h.finTime = true, finOff, pkt, ts
	for {
		p := h.live()
		if len(p) == 0 {
			return
		}
		last := &p[len(p)-1]
		if last.end() <= finOff {
			return
		}
		if last.off >= finOff {
			a.addBuffered(c, side, -last.cost())
			a.putBuf(last.data)
			*last = piece{}
			h.pieces = h.pieces[:len(h.pieces)-1]
			if len(h.pieces) == h.head {
				h.pieces, h.head = h.pieces[:0], 0
			}
			continue
		}
		keep := finOff - last.off
		old := last.cost()
		last.n = keep
		if !last.cut {
			last.data = last.data[:keep]
		}
		a.addBuffered(c, side, last.cost()-old)
		return
	}
}

// reset handles a RST from side: what is buffered is delivered (with gaps
// for the holes), the RST is noted and the connection closed.
func (a *Assembler) reset(c *conn, side Side, pkt uint64, ts time.Time) {
	a.flushSide(c, SideA, GapReset, pkt, ts)
	a.flushSide(c, SideB, GapReset, pkt, ts)
	if !c.stopped {
		a.note = Note{Kind: NoteRST, Offset: c.half[side].nextOff, Packet: pkt, Time: ts}
		c.h.Note(side, &a.note)
	}
	a.end(c, ClosedRST, GapReset, pkt, ts)
}

// processStopped handles a segment of a connection whose handler wants no
// more data: only RST and FINs matter, to close it.
func (a *Assembler) processStopped(c *conn, side Side, seg *netpkt.Segment, pkt uint64, ts time.Time) {
	switch {
	case seg.Flags&netpkt.FlagRST != 0:
		a.end(c, ClosedRST, GapReset, pkt, ts)
	case seg.Flags&netpkt.FlagFIN != 0:
		c.half[side].finKnown = true
		if c.half[SideA].finKnown && c.half[SideB].finKnown {
			a.end(c, ClosedFIN, GapEOF, pkt, ts)
		}
	}
}

// deliver hands in-order bytes of side to the handler and advances the
// stream. It reports whether the handler wants more.
func (a *Assembler) deliver(c *conn, side Side, data []byte, pkt uint64, ts time.Time) bool {
	h := &c.half[side]
	off := h.nextOff
	if ring := len(h.ring); ring < a.cfg.RecentWindow {
		h.remember(off, data, a.cfg.RecentWindow, &a.rings)
		a.mem.Force(int64(len(h.ring) - ring))
	} else {
		h.remember(off, data, a.cfg.RecentWindow, &a.rings)
	}
	h.advance(uint64(len(data)))
	a.stats.BytesDelivered += uint64(len(data))
	a.chunk = Chunk{Data: data, Offset: off, Packet: pkt, Time: ts}
	ok := c.h.Data(side, &a.chunk)
	a.chunk.Data = nil
	if !ok {
		a.stop(c)
	}
	return ok
}

// emitGap declares the next n bytes of side missing.
func (a *Assembler) emitGap(c *conn, side Side, n uint64, reason string, pkt uint64, ts time.Time) {
	if n == 0 {
		return
	}
	h := &c.half[side]
	off := h.nextOff
	h.advance(n)
	h.ringLen = 0
	a.stats.Gaps++
	a.stats.BytesLost += n
	a.gap = Gap{Offset: off, Len: n, Packet: pkt, Time: ts, Reason: reason}
	c.h.Gap(side, &a.gap)
}

// gapTo declares the bytes of side up to offset to missing, if any.
func (a *Assembler) gapTo(c *conn, side Side, to uint64, reason string, pkt uint64, ts time.Time) {
	if h := &c.half[side]; to > h.nextOff {
		a.emitGap(c, side, to-h.nextOff, reason, pkt, ts)
	}
}

// drain delivers the buffered pieces of side that are now in order, and notes
// the FIN when the stream reached it. It reports whether the handler wants
// more.
func (a *Assembler) drain(c *conn, side Side, pkt uint64, ts time.Time) bool {
	h := &c.half[side]
	for {
		p := h.live()
		if len(p) == 0 || p[0].off != h.nextOff {
			break
		}
		pc := p[0]
		h.popFront()
		a.addBuffered(c, side, -pc.cost())
		if h.buffered == 0 && !c.stopped {
			a.note = Note{Kind: NoteHoleDone, Offset: pc.off, Packet: pkt, Time: ts}
			c.h.Note(side, &a.note)
		}
		if pc.cut {
			a.emitGap(c, side, pc.n, GapSnapLen, pc.pkt, pc.ts)
			continue
		}
		ok := a.deliver(c, side, pc.data, pc.pkt, pc.ts)
		a.putBuf(pc.data)
		if !ok {
			return false
		}
	}
	if h.finKnown && !h.finDone && h.nextOff >= h.finOff {
		h.finDone = true
		a.note = Note{Kind: NoteFIN, Offset: h.finOff, Packet: h.finPkt, Time: h.finTime}
		c.h.Note(side, &a.note)
	}
	return true
}

// checkAcked declares the holes of side that the peer acknowledged as gaps,
// when buffered data or the FIN lies beyond them and Config.AckGrace
// packets have passed since the first was found so (declaring the hole at
// the ACK lost data captured a few packets after it). It reports whether
// the handler wants more.
func (a *Assembler) checkAcked(c *conn, side Side, pkt uint64, ts time.Time) bool {
	return a.ackedHoles(c, side, pkt, ts, false)
}

// ackedHoles is checkAcked; with now, without the grace.
func (a *Assembler) ackedHoles(c *conn, side Side, pkt uint64, ts time.Time, now bool) bool {
	h := &c.half[side]
	if !h.ackKnown {
		return true
	}
	for waited := now; ; waited = true {
		var to uint64
		gp, gts := pkt, ts // the gap shows at the packet after it
		if p := h.live(); len(p) > 0 {
			to, gp, gts = p[0].off, p[0].pkt, p[0].ts
		} else if h.finKnown && !h.finDone {
			to, gp, gts = h.finOff, h.finPkt, h.finTime
		} else {
			h.ackWait = 0
			return true
		}
		if h.acked < to {
			h.ackWait = 0
			return true
		}
		if !waited {
			now := uint32(pkt) | 1
			if h.ackWait == 0 {
				h.ackWait = now
			}
			if int64(now-h.ackWait) < int64(a.cfg.AckGrace) {
				return true
			}
		}
		h.ackWait = 0
		before, pieces := h.nextOff, len(h.live())
		a.gapTo(c, side, to, GapAcked, gp, gts)
		if !a.drain(c, side, pkt, ts) {
			return false
		}
		if h.nextOff == before && len(h.live()) == pieces {
			return true // no progress possible
		}
	}
}

// enforceLimits gives up holes while the connection's or the assembler's
// buffer is over its limit: first those of c (starting with side), then those
// of the connections buffering the longest. It reports whether c's handler
// wants more.
func (a *Assembler) enforceLimits(c *conn, side Side, pkt uint64, ts time.Time) bool {
	for c.buffered > a.cfg.MaxBufferedPerConn && !c.stopped {
		s := side
		if len(c.half[s].live()) == 0 {
			s = s.Other()
		}
		a.skipHole(c, s, pkt, ts)
	}
	for a.buffered > a.cfg.MaxBufferedTotal || (a.buffered > 0 && a.mem.Over()) {
		v, s := c, side
		if c.stopped || c.buffered == 0 {
			v = a.buffering.front()
			if v == nil {
				break
			}
			s = v.oldestSide()
		} else if len(c.half[s].live()) == 0 {
			s = s.Other()
		}
		reason := GapBufferLimit
		if a.buffered <= a.cfg.MaxBufferedTotal {
			reason = GapMemory
		}
		a.skipHoleFor(v, s, reason, pkt, ts)
	}
	return !c.stopped
}

// skipHole declares the first hole of side missing and delivers what follows
// it.
func (a *Assembler) skipHole(c *conn, side Side, pkt uint64, ts time.Time) {
	a.skipHoleFor(c, side, GapBufferLimit, pkt, ts)
}

// skipHoleFor is skipHole with the gap's reason.
func (a *Assembler) skipHoleFor(c *conn, side Side, reason string, pkt uint64, ts time.Time) {
	p := c.half[side].live()
	if len(p) == 0 {
		return
	}
	a.gapTo(c, side, p[0].off, reason, p[0].pkt, p[0].ts)
	a.drain(c, side, pkt, ts)
}

// flushSide delivers everything buffered for side, declaring the holes
// missing, and finishes the stream at its FIN (or at what the peer
// acknowledged).
func (a *Assembler) flushSide(c *conn, side Side, reason string, pkt uint64, ts time.Time) {
	h := &c.half[side]
	for !c.stopped {
		p := h.live()
		if len(p) == 0 {
			break
		}
		a.gapTo(c, side, p[0].off, reason, p[0].pkt, p[0].ts)
		if !a.drain(c, side, pkt, ts) {
			return
		}
	}
	if c.stopped {
		return
	}
	to := h.nextOff
	if h.ackKnown {
		to = max(to, h.acked)
	}
	if h.finKnown {
		to = h.finOff
	}
	a.gapTo(c, side, to, reason, pkt, ts)
	a.drain(c, side, pkt, ts)
}

// end closes an open connection: its streams are flushed (gaps for the
// holes), Close is called, the buffers are freed and the connection becomes
// a tombstone (remove drops it from the table).
func (a *Assembler) end(c *conn, reason CloseReason, gapReason string, pkt uint64, ts time.Time) {
	if c.closed {
		return
	}
	a.flushSide(c, SideA, gapReason, pkt, ts)
	a.flushSide(c, SideB, gapReason, pkt, ts)
	if reason == ClosedIdle && (c.half[SideA].finKnown || c.half[SideB].finKnown) {
		reason = ClosedFIN
	}
	a.release(c)
	c.closed = true
	a.stats.Active--
	h := c.h
	c.h = nil
	h.Close(reason)
}

// stop frees the buffers of a connection whose handler wants no more data.
func (a *Assembler) stop(c *conn) {
	c.stopped = true
	a.release(c)
}

// release frees the buffers of both sides of c.
func (a *Assembler) release(c *conn) {
	for s := range c.half {
		h := &c.half[s]
		for _, p := range h.live() {
			a.putBuf(p.data)
		}
		a.addBuffered(c, Side(s), -h.buffered)
		h.pieces, h.head = nil, 0
		a.mem.Give(int64(len(h.ring)))
		a.rings.put(h.ring)
		h.ring, h.ringLen = nil, 0
	}
}

// connEnder is the Assembler as the Ender of its connection table.
type connEnder Assembler

// EndConn implements Ender: it ends t's connection (unless t is a
// tombstone) as the table decided.
func (e *connEnder) EndConn(t *track, reason CloseReason, pkt uint64, ts time.Time) {
	a := (*Assembler)(e)
	if c := t.c; c != nil {
		a.endConn(c, reason, pkt, ts)
		a.conns.Put(c)
		t.c = nil
	}
	// The table only unlinks t after this returns; t is not handed out
	// again before the next new connection.
	a.tracks.Put(t)
}

// endConn ends c (unless it is a tombstone) for reason, as it leaves the
// connection table. An open connection evicted from a full table is counted
// in Stats.Evictions.
func (a *Assembler) endConn(c *conn, reason CloseReason, pkt uint64, ts time.Time) {
	if !c.closed {
		gap := GapEOF
		switch reason {
		case ClosedReused:
			gap = GapReused
		case ClosedIdle:
			gap = GapIdle
		case ClosedEvicted:
			gap = GapEvicted
			a.stats.Evictions++
			if !c.stopped {
				a.note = Note{Kind: NoteEvicted, Packet: pkt, Time: ts}
				c.h.Note(SideA, &a.note)
			}
		case ClosedRST:
			gap = GapReset
		case ClosedMemory:
			gap = GapMemory
			a.stats.Evictions++
		}
		a.end(c, reason, gap, pkt, ts)
	}
	if c.buffered > 0 {
		a.release(c)
	}
}

// Stalled tells the assembler that its input stalled (a quiet interface, a
// pipe waiting for its writer; pkt and ts are of the last packet): the
// holes the peer acknowledged that still wait for their data
// (Config.AckGrace) are declared lost now, since that data would have come
// by now, and what is buffered after them is delivered.
func (a *Assembler) Stalled(pkt uint64, ts time.Time) {
	for c := a.buffering.front(); c != nil; {
		next := c.buf.nextElem() // c may leave the list; the others stay
		for s := range c.half {
			if c.half[s].ackWait != 0 && !c.stopped {
				a.ackedHoles(c, Side(s), pkt, ts, true)
			}
		}
		c = next
	}
}

// HeldFrom returns the packet number of the earliest out-of-order bytes
// the assembler buffers, and whether it buffers any: bytes waiting for a
// hole to be filled or declared, which it delivers (with their packet
// numbers) later, so that a caller putting its output in packet order
// knows that records of that packet on may still come. It looks at the
// connection that has buffered longest, which is cheap and almost always
// the one holding the earliest bytes.
func (a *Assembler) HeldFrom() (uint64, bool) {
	c := a.buffering.front()
	if c == nil {
		return 0, false
	}
	var pkt uint64
	ok := false
	for s := range c.half {
		if p := c.half[s].live(); len(p) > 0 && (!ok || p[0].pkt < pkt) {
			pkt, ok = p[0].pkt, true
		}
	}
	return pkt, ok
}

// addBuffered adds delta to the buffered byte counts of side, c and the
// assembler, keeping the list of buffering connections.
func (a *Assembler) addBuffered(c *conn, side Side, delta int64) {
	if delta == 0 {
		return
	}
	was := c.buffered
	c.half[side].buffered += delta
	c.buffered += delta
	a.buffered += delta
	a.mem.Force(delta)
	if a.buffered > a.stats.PeakBuffered {
		a.stats.PeakBuffered = a.buffered
	}
	switch {
	case was == 0 && c.buffered > 0:
		a.buffering.pushBack(&c.buf, c)
	case was > 0 && c.buffered == 0:
		a.buffering.remove(&c.buf)
	}
}

// discard is the handler of connections the Factory declined.
type discard struct{}

func (discard) Data(Side, *Chunk) bool { return false }
func (discard) Gap(Side, *Gap)         {}
func (discard) Note(Side, *Note)       {}
func (discard) Close(CloseReason)      {}
