package reassembly

import (
	"bytes"
	"time"
	"unsafe"
)

// Piece buffers of poolMinLen..poolBufCap bytes come from a per-assembler free
// list (typical full-sized segments); other sizes are allocated exactly.
const (
	poolBufCap = 2048
	poolMinLen = 1024
	maxFree    = 512
	// keepPieces is the capacity of a drained piece list kept for reuse.
	keepPieces = 64
	// minRing is the initial size of a recent window ring.
	minRing = 256
)

// pieceOverhead is what each buffered piece is charged on top of its bytes.
const pieceOverhead = int64(unsafe.Sizeof(piece{}))

// track is an element of the assembler's connection table: a connection's
// place in it (its Entry) and, while the connection is open, its state. Once
// the connection closes, the state is reused for later connections and the
// track remains alone as a tombstone until idle, so that late packets do not
// start a new stream: a closed connection costs its Entry, not its state.
type track struct {
	Entry[track]
	c *conn // nil once the connection closed
}

// conn is the state of one open connection.
type conn struct {
	// ent is the connection's table entry, whose initial sequence numbers
	// processSegment keeps up to date; nil for a Stream, whose caller keeps
	// the table.
	ent  *Entry[track]
	info ConnInfo
	h    Handler
	half [2]half

	// buf links the connections that buffer out-of-order data.
	buf      links[conn]
	buffered int64

	closed  bool // the connection ended (Close was called); the state awaits reuse
	stopped bool // the handler wants no more data
}

// oldestSide returns the side holding the earliest buffered packet.
func (c *conn) oldestSide() Side {
	a, b := c.half[SideA].live(), c.half[SideB].live()
	switch {
	case len(a) == 0:
		return SideB
	case len(b) == 0:
		return SideA
	case b[0].pkt < a[0].pkt:
		return SideB
	}
	return SideA
}

// half is the state of one direction of a connection. Its flags share one
// word with nextSeq, keeping conn within a smaller allocation size class.
type half struct {
	// known is set once the stream's start is known; nextSeq is then the
	// sequence number of offset nextOff, the next byte to deliver.
	known bool
	// ackKnown is set once acked holds what the peer acknowledged.
	ackKnown bool
	// finKnown is set once finOff holds the FIN's offset; finDone once the
	// stream reached it.
	finKnown, finDone bool
	nextSeq           uint32
	nextOff           uint64

	// pieces[head:] are the buffered out-of-order pieces, sorted and not
	// overlapping, all at or after nextOff.
	pieces   []piece
	head     int
	buffered int64

	// ring remembers the ringLen bytes delivered just before nextOff; the
	// byte at offset o is at ring[o%len(ring)].
	ring    []byte
	ringLen int

	// acked is the highest offset the peer acknowledged.
	acked uint64

	// The side's SYN: seen, and its window scale option (netpkt.Segment.WScale).
	synSeen bool
	wscale  uint8
	// wndEnd is the end of the receive window the peer last advertised for
	// this side's data (as a stream offset), when wndKnown; oowNoted is set
	// once an out-of-window segment of this side was noted.
	wndKnown, oowNoted bool
	// ackWait is the packet number (its low 32 bits, made odd) at which
	// the first hole was found acknowledged with data beyond it, 0 when
	// none is (see checkAcked). It fills what was padding.
	ackWait uint32
	wndEnd  uint64
	wndSize uint64

	// The FIN: its offset, packet and time.
	finOff  uint64
	finPkt  uint64
	finTime time.Time
}

// rel returns the stream offset of sequence number seq, using a 32-bit signed
// difference from the next expected byte (so wrap-around is handled).
func (h *half) rel(seq uint32) int64 {
	return int64(h.nextOff) + int64(int32(seq-h.nextSeq))
}

// advance moves the next expected byte n bytes on.
func (h *half) advance(n uint64) {
	h.nextOff += n
	h.nextSeq += uint32(n)
}

// live returns the buffered pieces.
func (h *half) live() []piece { return h.pieces[h.head:] }

// popFront drops the first buffered piece. When none is left, a large
// backing array is freed, so that memory held by a connection that once
// buffered a lot is not kept for its lifetime.
func (h *half) popFront() {
	h.pieces[h.head] = piece{}
	h.head++
	if h.head == len(h.pieces) {
		h.pieces, h.head = h.pieces[:0], 0
		if cap(h.pieces) > keepPieces {
			h.pieces = nil
		}
	}
}

// insertAt inserts p before live()[i].
func (h *half) insertAt(i int, p piece) {
	if h.head > 0 && len(h.pieces) == cap(h.pieces) {
		n := copy(h.pieces, h.pieces[h.head:])
		clear(h.pieces[n:])
		h.pieces, h.head = h.pieces[:n], 0
	}
	at := h.head + i
	h.pieces = append(h.pieces, piece{})
	copy(h.pieces[at+1:], h.pieces[at:])
	h.pieces[at] = p
}

// remember records delivered bytes at offset off (== nextOff) in the recent
// window. The ring starts small and grows to the window's size as data is
// delivered, so quiet connections stay cheap.
func (h *half) remember(off uint64, data []byte, window int, pool *ringPool) {
	if window <= 0 || len(data) == 0 {
		return
	}
	if want := min(window, h.ringLen+len(data)); len(h.ring) < want {
		h.growRing(ringSize(want, window), pool)
	}
	w := len(h.ring)
	total := len(data)
	if len(data) > w {
		off += uint64(len(data) - w)
		data = data[len(data)-w:]
	}
	pos := int(off % uint64(w))
	n := copy(h.ring[pos:], data)
	copy(h.ring, data[n:])
	h.ringLen = min(w, h.ringLen+total)
}

// ringSize returns the size of the ring to hold want bytes (<= window) of
// a recent window of window bytes: the smallest minRing times a power of two
// that holds them, or the whole window from half of it on. So rings come in
// a few sizes, which the pool reuses, and a connection of full-sized
// segments gets its final ring at its first delivery instead of copying its
// window through two or three growing ones.
func ringSize(want, window int) int {
	size := minRing
	for size < want {
		size *= 2
	}
	if 2*size >= window {
		return window
	}
	return size
}

// growRing moves the recent window into a ring of size bytes (size >=
// ringLen), taken from pool, to which the old ring goes back.
func (h *half) growRing(size int, pool *ringPool) {
	ring := pool.get(size)
	// Copy in contiguous runs: each ends where either ring wraps.
	old, ns := uint64(len(h.ring)), uint64(size)
	for o, end := h.nextOff-uint64(h.ringLen), h.nextOff; o < end; {
		from, to := o%old, o%ns
		n := min(end-o, old-from, ns-to)
		copy(ring[to:to+n], h.ring[from:from+n])
		o += n
	}
	pool.put(h.ring)
	h.ring = ring
}

// compareRecent compares data, seen again at offset off, with the remembered
// delivered bytes, widening diff over the bytes that differ.
func (h *half) compareRecent(off uint64, data []byte, diff *diffRange) {
	if h.ringLen == 0 {
		return
	}
	lo := h.nextOff - uint64(h.ringLen)
	end := off + uint64(len(data))
	if off < lo {
		if end <= lo {
			return
		}
		data = data[lo-off:]
		off = lo
	}
	if end > h.nextOff {
		data = data[:h.nextOff-off]
	}
	w := uint64(len(h.ring))
	for len(data) > 0 {
		pos := off % w
		n := min(uint64(len(data)), w-pos)
		diff.compare(off, data[:n], h.ring[pos:pos+n])
		data = data[n:]
		off += n
	}
}

// insert buffers the bytes [off, end) of side, of which data (from off) are
// present and the rest were cut by the snap length. Parts already buffered
// are kept (first copy wins) and compared. It reports whether any part was
// already buffered.
func (a *Assembler) insert(c *conn, side Side, off, end uint64, data []byte, pkt uint64, ts time.Time, diff *diffRange) bool {
	h := &c.half[side]
	dataEnd := off + uint64(len(data))
	// First piece ending after off.
	p := h.live()
	i, j := 0, len(p)
	for i < j {
		m := int(uint(i+j) >> 1)
		if p[m].end() <= off {
			i = m + 1
		} else {
			j = m
		}
	}
	seen := false
	for cur := off; cur < end; {
		p = h.live()
		if i < len(p) && p[i].off <= cur {
			q := &p[i]
			ovEnd := min(end, q.end())
			seen = true
			if !q.cut && cur < dataEnd {
				cmpEnd := min(ovEnd, dataEnd)
				diff.compare(cur, data[cur-off:cmpEnd-off], q.data[cur-q.off:cmpEnd-q.off])
			}
			cur = ovEnd
			i++
			continue
		}
		next := end
		if i < len(p) && p[i].off < next {
			next = p[i].off
		}
		if cur < dataEnd {
			e := min(next, dataEnd)
			buf := a.getBuf(int(e - cur))
			copy(buf, data[cur-off:e-off])
			np := piece{off: cur, n: e - cur, data: buf, pkt: pkt, ts: ts}
			h.insertAt(i, np)
			a.addBuffered(c, side, np.cost())
			i++
			cur = e
		}
		if cur < next {
			np := piece{off: cur, n: next - cur, cut: true, pkt: pkt, ts: ts}
			h.insertAt(i, np)
			a.addBuffered(c, side, np.cost())
			i++
			cur = next
		}
	}
	return seen
}

// getBuf returns a buffer of n bytes.
func (a *Assembler) getBuf(n int) []byte {
	if n < poolMinLen || n > poolBufCap {
		return make([]byte, n)
	}
	if k := len(a.free); k > 0 {
		b := a.free[k-1]
		a.free[k-1] = nil
		a.free = a.free[:k-1]
		return b[:n]
	}
	return make([]byte, n, poolBufCap)
}

// putBuf returns a buffer from getBuf for reuse.
func (a *Assembler) putBuf(b []byte) {
	if cap(b) == poolBufCap && len(a.free) < maxFree {
		a.free = append(a.free, b[:0])
	}
}

// piece is a run of buffered out-of-order bytes of one side: either bytes
// copied from a packet, or (cut) bytes the snap length cut off.
type piece struct {
	off, n uint64
	data   []byte
	pkt    uint64
	ts     time.Time
	cut    bool
}

// end returns the offset after the piece.
func (p *piece) end() uint64 { return p.off + p.n }

// cost returns what the piece counts against the buffer limits: the memory
// its bytes occupy (a 1,024-byte segment is kept in a 2,048-byte pooled
// buffer) and its bookkeeping.
func (p *piece) cost() int64 { return int64(cap(p.data)) + pieceOverhead }

// diffRange collects the span of bytes that differ between two copies.
type diffRange struct {
	lo, hi uint64
	ok     bool
}

// compare widens d over the bytes at which x and y (both at offset off, of
// equal length) differ.
func (d *diffRange) compare(off uint64, x, y []byte) {
	if bytes.Equal(x, y) {
		return
	}
	first, last := 0, len(x)-1
	for x[first] == y[first] {
		first++
	}
	for x[last] == y[last] {
		last--
	}
	lo, hi := off+uint64(first), off+uint64(last)+1
	if !d.ok {
		d.lo, d.hi, d.ok = lo, hi, true
		return
	}
	d.lo, d.hi = min(d.lo, lo), max(d.hi, hi)
}

// maxFreeRings bounds the recent-window rings kept for reuse per size.
const maxFreeRings = 64

// ringPool keeps the recent-window rings of closed connections (and those
// outgrown) for reuse, by size: rings grow through a few sizes (minRing,
// doubling, up to the window), so captures of many connections reuse them
// instead of allocating each connection's anew.
type ringPool struct {
	sizes []int
	free  [][][]byte // free[i] holds rings of sizes[i] bytes
}

// get returns a ring of size bytes (its contents are stale).
func (p *ringPool) get(size int) []byte {
	for i, s := range p.sizes {
		if s == size {
			if f := p.free[i]; len(f) > 0 {
				b := f[len(f)-1]
				f[len(f)-1] = nil
				p.free[i] = f[:len(f)-1]
				return b
			}
			break
		}
	}
	return make([]byte, size)
}

// put keeps ring for reuse (nil is ignored).
func (p *ringPool) put(ring []byte) {
	if len(ring) == 0 {
		return
	}
	for i, s := range p.sizes {
		if s == len(ring) {
			if len(p.free[i]) < maxFreeRings {
				p.free[i] = append(p.free[i], ring)
			}
			return
		}
	}
	if len(p.sizes) < 16 {
		p.sizes = append(p.sizes, len(ring))
		p.free = append(p.free, [][]byte{ring})
	}
}
