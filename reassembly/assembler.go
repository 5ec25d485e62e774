package reassembly

import (
	"bytes"
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

// SweepInterval is how much capture time must pass between two walks of the
// idle list (Config.IdleTimeout): Process walks it at the first packet whose
// time is at least SweepInterval after the previous walk (or, for the first
// walk, after the first packet). A caller managing the connection table
// itself (see ProcessStream) uses it to walk its table at the same packets.
const SweepInterval = time.Second

// maxSegLen bounds the payload length a segment may claim, keeping sequence
// arithmetic (32-bit signed differences) meaningful for absurd header values.
const maxSegLen = 1 << 30

// connKey identifies a connection by its two endpoints in a canonical order
// (lower address/port first), so both directions map to one key. It is a
// comparable fixed-size value: map lookups with it do not allocate.
type connKey struct {
	addr [2][16]byte
	port [2]uint16
}

// makeKey returns the key of seg's connection and whether seg's source is the
// key's first endpoint.
func makeKey(seg *netpkt.Segment) (k connKey, srcFirst bool) {
	s, d := seg.Src.As16(), seg.Dst.As16()
	c := bytes.Compare(s[:], d[:])
	srcFirst = c < 0 || (c == 0 && seg.SrcPort <= seg.DstPort)
	if srcFirst {
		k.addr = [2][16]byte{s, d}
		k.port = [2]uint16{seg.SrcPort, seg.DstPort}
	} else {
		k.addr = [2][16]byte{d, s}
		k.port = [2]uint16{seg.DstPort, seg.SrcPort}
	}
	return k, srcFirst
}

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
// SYN with a new initial sequence number does.
type Assembler struct {
	factory Factory
	cfg     Config

	conns map[connKey]*conn
	// head is the most recently active tracked connection, tail the least.
	head, tail *conn
	// bufHead is the connection that has been buffering out-of-order data
	// the longest; bufTail the one that started most recently.
	bufHead, bufTail *conn

	nextStream uint64
	lastSweep  time.Time
	sweepInit  bool
	buffered   int64
	stats      Stats

	// free holds piece buffers of capacity poolBufCap for reuse.
	free [][]byte
	// rings holds recent-window rings for reuse.
	rings ringPool

	// Values handed to handlers by pointer; kept here so that passing them
	// does not allocate.
	chunk Chunk
	gap   Gap
	note  Note
}

// New returns an Assembler that asks f for a Handler for every new
// connection. Zero fields of cfg take their defaults (see Config).
func New(f Factory, cfg Config) *Assembler {
	return &Assembler{
		factory: f,
		cfg:     cfg.withDefaults(),
		conns:   make(map[connKey]*conn),
	}
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
	a.process(seg, pkt, ts, false, 0)
}

// process is Process; with external set the connection table is managed by
// the caller (see ProcessStream): no idle sweep, expiry, reuse detection or
// eviction happens here, and a new connection gets number stream.
func (a *Assembler) process(seg *netpkt.Segment, pkt uint64, ts time.Time, external bool, stream uint64) {
	if seg == nil {
		return
	}
	a.stats.Packets++
	if !external {
		a.maybeSweep(pkt, ts)
	}

	key, srcFirst := makeKey(seg)
	c := a.conns[key]
	if external {
		if c != nil && c.info.Stream != stream {
			// The caller ends connections before reusing their addresses;
			// this only guards against a caller that did not.
			a.endRemove(c, ClosedReused, pkt, ts)
			c = nil
		}
	} else {
		pureSYN := seg.Flags&(netpkt.FlagSYN|netpkt.FlagACK|netpkt.FlagRST) == netpkt.FlagSYN
		if c != nil && ts.Sub(c.lastSeen) > a.cfg.IdleTimeout {
			a.expire(c, pkt, ts)
			c = nil
		}
		if c != nil && pureSYN && c.isReuse(c.sideOf(srcFirst), seg.Seq) {
			if !c.closed {
				a.end(c, ClosedReused, GapReused, pkt, ts)
			}
			a.remove(c)
			c = nil
		}
	}
	if c == nil {
		if !external {
			for len(a.conns) >= a.cfg.MaxConns && a.tail != nil {
				a.evict(a.tail, pkt, ts)
			}
			stream = a.nextStream
		}
		c = a.newConn(key, srcFirst, seg, pkt, ts, stream)
	} else {
		a.touch(c, ts)
	}
	if c.closed {
		a.stats.Ignored++
		return
	}
	side := c.sideOf(srcFirst)
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
	open := make([]*conn, 0, a.stats.Active)
	for c := a.head; c != nil; c = c.next {
		if !c.closed {
			open = append(open, c)
		}
	}
	slices.SortFunc(open, func(x, y *conn) int { return cmp.Compare(x.info.Stream, y.info.Stream) })
	for _, c := range open {
		a.end(c, ClosedEOF, GapEOF, pkt, ts)
	}
	clear(a.conns)
	for c := a.head; c != nil; {
		next := c.next
		c.prev, c.next = nil, nil
		c = next
	}
	a.head, a.tail = nil, nil
	a.bufHead, a.bufTail = nil, nil
	a.sweepInit = false
}

// newConn starts tracking a connection whose first packet is seg, numbered
// stream.
func (a *Assembler) newConn(key connKey, srcFirst bool, seg *netpkt.Segment, pkt uint64, ts time.Time, stream uint64) *conn {
	// SideA is the SYN sender, the SYN-ACK receiver, or else the first
	// packet's source.
	srcIsA := seg.Flags&(netpkt.FlagSYN|netpkt.FlagACK) != netpkt.FlagSYN|netpkt.FlagACK
	c := &conn{key: key, lastSeen: ts, aFirst: srcFirst == srcIsA}
	src := netip.AddrPortFrom(seg.Src, seg.SrcPort)
	dst := netip.AddrPortFrom(seg.Dst, seg.DstPort)
	if srcIsA {
		c.info.Addr = [2]netip.AddrPort{src, dst}
	} else {
		c.info.Addr = [2]netip.AddrPort{dst, src}
	}
	c.info.SawSYN = seg.Flags&(netpkt.FlagSYN|netpkt.FlagACK|netpkt.FlagRST) == netpkt.FlagSYN
	c.info.Stream = stream
	c.info.FirstPacket = pkt
	c.info.FirstTime = ts
	a.nextStream = max(a.nextStream, stream+1)
	a.stats.Conns++
	a.stats.Active++
	a.conns[key] = c
	a.pushFront(c)
	if a.factory != nil {
		c.h = a.factory.NewConn(&c.info)
	}
	if c.h == nil {
		c.h = discard{}
		c.stopped = true
	}
	return c
}

// processSegment handles a segment of an open connection whose handler still
// wants data. It returns early when the handler stops or the connection
// closes.
func (a *Assembler) processSegment(c *conn, side Side, seg *netpkt.Segment, pkt uint64, ts time.Time) {
	h, peer := &c.half[side], &c.half[side.Other()]
	syn := seg.Flags&netpkt.FlagSYN != 0

	// Where the side's stream starts.
	if syn {
		if !h.known {
			h.known, h.nextSeq, h.nextOff = true, seg.Seq+1, 0
		}
		if !h.isnKnown {
			h.isn, h.isnKnown = seg.Seq, true
		}
		if seg.Flags&netpkt.FlagACK != 0 && !peer.known {
			peer.known, peer.nextSeq, peer.nextOff = true, seg.Ack, 0
			peer.isn, peer.isnKnown = seg.Ack-1, true
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
		if off := peer.rel(seg.Ack); off >= 0 && (!peer.ackKnown || uint64(off) > peer.acked) {
			peer.acked, peer.ackKnown = uint64(off), true
			if !a.checkAcked(c, side.Other(), pkt, ts) {
				return
			}
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
		if a.insert(c, side, off, end, data, pkt, ts, &diff) {
			seen = true
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
	h.remember(off, data, a.cfg.RecentWindow, &a.rings)
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
// when buffered data or the FIN lies beyond them. It reports whether the
// handler wants more.
func (a *Assembler) checkAcked(c *conn, side Side, pkt uint64, ts time.Time) bool {
	h := &c.half[side]
	if !h.ackKnown {
		return true
	}
	for {
		var to uint64
		if p := h.live(); len(p) > 0 {
			to = p[0].off
		} else if h.finKnown && !h.finDone {
			to = h.finOff
		} else {
			return true
		}
		if h.acked < to {
			return true
		}
		before, pieces := h.nextOff, len(h.live())
		a.gapTo(c, side, to, GapAcked, pkt, ts)
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
	for a.buffered > a.cfg.MaxBufferedTotal {
		v, s := c, side
		if c.stopped || c.buffered == 0 {
			v = a.bufHead
			if v == nil {
				break
			}
			s = v.oldestSide()
		} else if len(c.half[s].live()) == 0 {
			s = s.Other()
		}
		a.skipHole(v, s, pkt, ts)
	}
	return !c.stopped
}

// skipHole declares the first hole of side missing and delivers what follows
// it.
func (a *Assembler) skipHole(c *conn, side Side, pkt uint64, ts time.Time) {
	p := c.half[side].live()
	if len(p) == 0 {
		return
	}
	a.gapTo(c, side, p[0].off, GapBufferLimit, pkt, ts)
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
		a.gapTo(c, side, p[0].off, reason, pkt, ts)
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
		a.rings.put(h.ring)
		h.ring, h.ringLen = nil, 0
	}
}

// expire closes a connection (or drops a tombstone) idle for longer than the
// idle timeout.
func (a *Assembler) expire(c *conn, pkt uint64, ts time.Time) {
	a.end(c, ClosedIdle, GapIdle, pkt, ts)
	a.remove(c)
}

// evict drops the least recently active connection from a full table.
func (a *Assembler) evict(c *conn, pkt uint64, ts time.Time) {
	if !c.closed {
		a.stats.Evictions++
		a.end(c, ClosedEvicted, GapEvicted, pkt, ts)
	}
	a.remove(c)
}

// maybeSweep expires idle connections, walking from the least recently
// active, when capture time advanced by SweepInterval since the last walk.
func (a *Assembler) maybeSweep(pkt uint64, ts time.Time) {
	if !a.sweepInit {
		a.lastSweep, a.sweepInit = ts, true
		return
	}
	if ts.Sub(a.lastSweep) < SweepInterval {
		return
	}
	a.lastSweep = ts
	for c := a.tail; c != nil; {
		if ts.Sub(c.lastSeen) <= a.cfg.IdleTimeout {
			break
		}
		prev := c.prev
		a.expire(c, pkt, ts)
		c = prev
	}
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
	if a.buffered > a.stats.PeakBuffered {
		a.stats.PeakBuffered = a.buffered
	}
	switch {
	case was == 0 && c.buffered > 0:
		c.bprev, c.bnext = a.bufTail, nil
		if a.bufTail != nil {
			a.bufTail.bnext = c
		} else {
			a.bufHead = c
		}
		a.bufTail = c
	case was > 0 && c.buffered == 0:
		a.unlinkBuffering(c)
	}
}

// unlinkBuffering removes c from the list of buffering connections.
func (a *Assembler) unlinkBuffering(c *conn) {
	if c.bprev != nil {
		c.bprev.bnext = c.bnext
	} else if a.bufHead == c {
		a.bufHead = c.bnext
	}
	if c.bnext != nil {
		c.bnext.bprev = c.bprev
	} else if a.bufTail == c {
		a.bufTail = c.bprev
	}
	c.bprev, c.bnext = nil, nil
}

// pushFront puts c at the most recently active end of the LRU list.
func (a *Assembler) pushFront(c *conn) {
	c.prev, c.next = nil, a.head
	if a.head != nil {
		a.head.prev = c
	} else {
		a.tail = c
	}
	a.head = c
}

// unlink removes c from the LRU list.
func (a *Assembler) unlink(c *conn) {
	if c.prev != nil {
		c.prev.next = c.next
	} else if a.head == c {
		a.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else if a.tail == c {
		a.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

// touch records activity on c at ts.
func (a *Assembler) touch(c *conn, ts time.Time) {
	if ts.After(c.lastSeen) {
		c.lastSeen = ts
	}
	if a.head != c {
		a.unlink(c)
		a.pushFront(c)
	}
}

// remove drops c from the table.
func (a *Assembler) remove(c *conn) {
	a.unlink(c)
	if c.buffered > 0 {
		a.release(c)
	}
	if a.conns[c.key] == c {
		delete(a.conns, c.key)
	}
}

// discard is the handler of connections the Factory declined.
type discard struct{}

func (discard) Data(Side, *Chunk) bool { return false }
func (discard) Gap(Side, *Gap)         {}
func (discard) Note(Side, *Note)       {}
func (discard) Close(CloseReason)      {}
