package reassembly

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"time"

	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/netpkt"
)

// SweepInterval is how much capture time must pass between two walks of a
// Table's idle list (Config.IdleTimeout): Track walks it at the first packet
// whose time is at least SweepInterval after the previous walk (or, for the
// first walk, after the first packet).
const SweepInterval = time.Second

// connKey identifies a connection by its two endpoints in a canonical order
// (lower address/port first), so both directions map to one key. It is a
// comparable fixed-size value of whole words: map lookups with it do not
// allocate, and eq compares it without a call.
type connKey struct {
	// The endpoints' 16-byte addresses (IPv4 as IPv4-mapped IPv6), each
	// as its big-endian high and low halves: a is the first endpoint.
	aHi, aLo, bHi, bLo uint64
	// ports holds the first endpoint's port in bits 16-31 and the
	// second's in bits 0-15.
	ports uint64
}

// eq reports whether k and o are the same key.
func (k *connKey) eq(o *connKey) bool {
	return k.aLo == o.aLo && k.bLo == o.bLo && k.ports == o.ports && k.aHi == o.aHi && k.bHi == o.bHi
}

// makeKey returns the key of seg's connection and whether seg's source is the
// key's first endpoint.
func makeKey(seg *netpkt.Segment) (k connKey, srcFirst bool) {
	s, d := seg.Src.As16(), seg.Dst.As16()
	// Lexicographic order of the 16-byte addresses, then of the ports.
	sh, sl := binary.BigEndian.Uint64(s[:8]), binary.BigEndian.Uint64(s[8:])
	dh, dl := binary.BigEndian.Uint64(d[:8]), binary.BigEndian.Uint64(d[8:])
	srcFirst = sh < dh || sh == dh && (sl < dl || sl == dl && seg.SrcPort <= seg.DstPort)
	if srcFirst {
		k = connKey{aHi: sh, aLo: sl, bHi: dh, bLo: dl, ports: uint64(seg.SrcPort)<<16 | uint64(seg.DstPort)}
	} else {
		k = connKey{aHi: dh, aLo: dl, bHi: sh, bLo: sl, ports: uint64(seg.DstPort)<<16 | uint64(seg.SrcPort)}
	}
	return k, srcFirst
}

// hash mixes the key into 64 bits (not seeded: it spreads connections over
// cache slots and workers, where a crafted collision only costs speed).
func (k *connKey) hash() uint64 {
	h := k.aLo*0x9e3779b97f4a7c15 ^ k.bLo*0xc2b2ae3d27d4eb4f ^
		(k.aHi+k.bHi)*0x165667b19e3779f9 ^ k.ports*0xd6e8feb86659fd93
	h ^= h >> 32
	h *= 0x9e3779b97f4a7c15
	h ^= h >> 29
	return h
}

// pureSYN reports whether seg opens a connection: SYN without ACK or RST.
func pureSYN(seg *netpkt.Segment) bool {
	return seg.Flags&(netpkt.FlagSYN|netpkt.FlagACK|netpkt.FlagRST) == netpkt.FlagSYN
}

// Entry is what a Table keeps of one tracked connection: its identity, its
// number, when it was last active and the initial sequence numbers that
// decide whether a SYN reuses its addresses. Each element of a Table[T]
// holds its own Entry[T] (typically embedded), which the table links to the
// element when it starts tracking it.
type Entry[T any] struct {
	elem   *T
	stream uint64
	key    connKey
	// isn holds the initial sequence numbers learned, by side.
	isn      [2]uint32
	isnState [2]isnState
	aFirst   bool  // SideA is the key's first endpoint
	lastSeen int64 // capture time of the last activity, as by nanos
	lru      links[Entry[T]]
	// exp links the entry into the table's list of connections that may
	// expire when idle (see Entry.expirable), while inExp is set.
	exp   links[Entry[T]]
	inExp bool
	// What the table saw of the connection's segments: payload, a RST,
	// FINs by side (bit 1<<side).
	sawData, sawRST bool
	fins            uint8
	// evicted is set when the connection's addresses belonged to a
	// connection evicted from the full table, and its first segment here
	// does not open a new connection: it continues the evicted one.
	evicted bool
}

// Evicted reports whether the connection continues one that was evicted from
// the full table (Config.MaxConns): the connection's earlier packets belong
// to another stream number, and whatever state they built is gone.
func (e *Entry[T]) Evicted() bool { return e.evicted }

// expirable reports whether the idle timeout may end the connection: it
// never carried payload (a SYN flood's half-open connections, port scans),
// or it already ended (a RST, or FINs from both sides; what remains is a
// tombstone). A connection that carried data is never expired, however
// long it is quiet: expiry would split it into two streams and lose its
// handshake and compression context.
func (e *Entry[T]) expirable() bool {
	return !e.sawData || e.sawRST || e.fins == 3
}

// observe records what seg, sent from side, tells about the connection's
// life, and keeps e on the expirable list accordingly.
func (t *Table[T]) observe(e *Entry[T], side Side, seg *netpkt.Segment) {
	if seg.PayloadLen > 0 || len(seg.Payload) > 0 {
		e.sawData = true
	}
	if seg.Flags&netpkt.FlagRST != 0 {
		e.sawRST = true
	}
	if seg.Flags&netpkt.FlagFIN != 0 {
		e.fins |= 1 << side
	}
	switch x := e.expirable(); {
	case x && !e.inExp:
		t.exp.pushFront(&e.exp, e)
		e.inExp = true
	case !x && e.inExp:
		t.exp.remove(&e.exp)
		e.inExp = false
	}
}

// isnState tells what was learned of one side's initial sequence number.
type isnState uint8

const (
	// isnNone: nothing was learned of the side.
	isnNone isnState = iota
	// isnSeen: a segment of the side was learned, but not its initial
	// sequence number.
	isnSeen
	// isnKnown: Entry.isn holds the side's initial sequence number.
	isnKnown
)

// Stream returns the connection's number (like Wireshark's tcp.stream).
func (e *Entry[T]) Stream() uint64 { return e.stream }

// Hash returns a hash of the connection's endpoints, the same for both
// directions; it suits spreading connections over workers.
func (e *Entry[T]) Hash() uint64 { return e.key.hash() }

// Learn records what seg, a segment of the connection from side, tells about
// the sides' initial sequence numbers: a SYN gives its sender's (the first
// one seen wins), and a SYN-ACK also gives the peer's when no segment of the
// peer was learned before. Track decides with them whether a SYN reuses the
// connection's addresses.
func (e *Entry[T]) Learn(side Side, seg *netpkt.Segment) {
	switch {
	case seg.Flags&netpkt.FlagSYN != 0 && e.isnState[side] != isnKnown:
		e.isn[side], e.isnState[side] = seg.Seq, isnKnown
	case e.isnState[side] == isnNone:
		e.isnState[side] = isnSeen
	}
	if peer := side.Other(); seg.Flags&(netpkt.FlagSYN|netpkt.FlagACK) == netpkt.FlagSYN|netpkt.FlagACK && e.isnState[peer] == isnNone {
		e.isn[peer], e.isnState[peer] = seg.Ack-1, isnKnown
	}
}

// sideOf returns the side of the endpoint that is (srcFirst) or is not the
// key's first endpoint.
func (e *Entry[T]) sideOf(srcFirst bool) Side {
	if srcFirst == e.aFirst {
		return SideA
	}
	return SideB
}

// isReuse reports whether a pure SYN with sequence number seq from side
// starts a new connection: it does unless it repeats the SYN learned from
// that side.
func (e *Entry[T]) isReuse(side Side, seq uint32) bool {
	return e.isnState[side] != isnKnown || e.isn[side] != seq
}

// Ender is told when a Table stops tracking a connection.
type Ender[T any] interface {
	// EndConn is called when the table stops tracking the connection of
	// element x, for reason (ClosedIdle, ClosedEvicted, ClosedReused or
	// ClosedEOF), while handling packet pkt captured at ts. x is still in
	// the table during the call and is dropped right after it; EndConn must
	// not call the table.
	EndConn(x *T, reason CloseReason, pkt uint64, ts time.Time)
}

// Table is the TCP connection table: it maps segments to the tracked
// connections (elements of type T), numbers new connections from 0 like
// Wireshark's tcp.stream, and decides when connections end because they are
// idle (Config.IdleTimeout, by capture time; only connections that never
// carried payload, or that already ended with a RST or FINs both ways, ever
// expire), because the table is full
// (Config.MaxConns, least recently active first) or because a SYN with a new
// initial sequence number reuses their addresses; its Ender is told of each.
// It is not safe for concurrent use.
type Table[T any] struct {
	ev    Ender[T]
	conns map[connKey]*Entry[T]
	// lru lists the connections, most recently active first.
	lru list[Entry[T]]
	// exp lists the expirable connections (see Entry.expirable), most
	// recently active first: the idle sweep walks only these.
	exp list[Entry[T]]
	// evicted holds the keys of connections evicted from the full table
	// (at most maxEvictedKeys, then it starts over), so that their next
	// packet is known to continue an evicted connection.
	evicted map[connKey]struct{}
	// recent caches tracked connections by a hash of their key, so that
	// most lookups skip the map: slot key.hash()>>recentShift holds the
	// last connection looked up or added there, if still tracked.
	recent *[recentSlots]*Entry[T]

	maxConns   int
	mem        *membudget.Account // charged ConnCost per tracked connection
	idle       int64              // nanoseconds
	nextStream uint64
	lastSweep  int64 // as by nanos
	sweepInit  bool
}

// NewTable returns an empty Table that tells ev when connections end; of
// cfg, only MaxConns and IdleTimeout matter (zero means their defaults).
func NewTable[T any](cfg Config, ev Ender[T]) *Table[T] {
	t := new(Table[T])
	t.init(cfg, ev)
	return t
}

// init makes t an empty table (see NewTable).
func (t *Table[T]) init(cfg Config, ev Ender[T]) {
	cfg = cfg.withDefaults()
	*t = Table[T]{
		ev:       ev,
		conns:    make(map[connKey]*Entry[T]),
		recent:   new([recentSlots]*Entry[T]),
		maxConns: cfg.MaxConns,
		mem:      cfg.Memory.Account(),
		idle:     int64(cfg.IdleTimeout),
	}
}

// Len returns the number of tracked connections.
func (t *Table[T]) Len() int { return len(t.conns) }

// Track finds the connection of seg, a segment of packet pkt captured at ts,
// applying the table's rules first, in this order:
//   - every SweepInterval of capture time, the expirable connections idle
//     for longer than the idle timeout are ended (ClosedIdle), least
//     recently active first;
//   - seg's connection is ended if it is expirable and idle for longer than
//     the idle timeout (ClosedIdle);
//   - seg's connection is ended if seg is a SYN (without ACK or RST) whose
//     sequence number differs from the initial sequence number learned from
//     that side, or none was learned (ClosedReused).
//
// It returns the connection's element, now the most recently active, and the
// side that sent seg; or nil when seg starts a new connection, which the
// caller then passes to Add before the next Track.
func (t *Table[T]) Track(seg *netpkt.Segment, pkt uint64, ts time.Time) (*T, Side) {
	now := nanos(ts)
	if !t.sweepInit || since(now, t.lastSweep) >= int64(SweepInterval) {
		t.sweep(pkt, ts, now)
	}
	key, srcFirst := makeKey(seg)
	e := t.find(&key)
	if e == nil {
		return nil, SideA
	}
	if e.inExp && since(now, e.lastSeen) > t.idle {
		t.end(e, ClosedIdle, pkt, ts)
		return nil, SideA
	}
	side := e.sideOf(srcFirst)
	if pureSYN(seg) && e.isReuse(side, seg.Seq) {
		t.end(e, ClosedReused, pkt, ts)
		return nil, SideA
	}
	t.touch(e, now)
	t.observe(e, side, seg)
	return e.elem, side
}

// Add starts tracking x, whose Entry is e, as the connection that seg (for
// which Track returned nil) starts, with the next number. When the table is
// full, the least recently active connections are ended first
// (ClosedEvicted). When the memory budget (Config.Memory) cannot pay for
// the new connection, the least recently active one is ended first
// (ClosedMemory): one per new connection, since what it frees may only be
// returned later (by another goroutine's reassembler). It returns the side
// that sent seg: SideA is the sender of a SYN, the receiver of a SYN-ACK, or
// else seg's source.
func (t *Table[T]) Add(x *T, e *Entry[T], seg *netpkt.Segment, pkt uint64, ts time.Time) Side {
	for len(t.conns) >= t.maxConns {
		old := t.lru.back()
		if old == nil {
			break
		}
		t.rememberEvicted(old.key)
		t.end(old, ClosedEvicted, pkt, ts)
	}
	if !t.mem.Take(ConnCost) {
		if old := t.lru.back(); old != nil {
			t.end(old, ClosedMemory, pkt, ts)
		}
		t.mem.Force(ConnCost)
	}
	return t.insert(x, e, seg, pkt, ts)
}

// EndAll ends every tracked connection (ClosedEOF) in order of number, at
// packet pkt captured at ts, leaving the table empty. Numbers continue
// after the ones given out; the idle sweep starts over at the next packet.
func (t *Table[T]) EndAll(pkt uint64, ts time.Time) {
	if len(t.conns) > 0 {
		all := make([]*Entry[T], 0, len(t.conns))
		for e := t.lru.front(); e != nil; e = e.lru.nextElem() {
			all = append(all, e)
		}
		slices.SortFunc(all, func(x, y *Entry[T]) int { return cmp.Compare(x.stream, y.stream) })
		for _, e := range all {
			t.end(e, ClosedEOF, pkt, ts)
		}
	}
	t.sweepInit = false
}

// Size of Table.recent: 1<<recentBits slots.
const (
	recentBits  = 10
	recentSlots = 1 << recentBits
	recentShift = 64 - recentBits
)

// find returns the connection with key k, or nil.
func (t *Table[T]) find(k *connKey) *Entry[T] {
	slot := &t.recent[k.hash()>>recentShift]
	if e := *slot; e != nil && e.key.eq(k) {
		return e
	}
	e := t.conns[*k]
	if e != nil {
		*slot = e
	}
	return e
}

// insert starts tracking x (whose Entry is e) as seg's connection with the
// next number, and returns the side that sent seg. A connection tracked with
// seg's addresses is ended first (ClosedReused).
func (t *Table[T]) insert(x *T, e *Entry[T], seg *netpkt.Segment, pkt uint64, ts time.Time) Side {
	key, srcFirst := makeKey(seg)
	if old := t.conns[key]; old != nil {
		// Only a caller breaking the Track/Add pairing gets here; keep
		// the table consistent.
		t.end(old, ClosedReused, pkt, ts)
	}
	// SideA is the SYN sender, the SYN-ACK receiver, or else the first
	// packet's source.
	srcIsA := seg.Flags&(netpkt.FlagSYN|netpkt.FlagACK) != netpkt.FlagSYN|netpkt.FlagACK
	*e = Entry[T]{elem: x, key: key, aFirst: srcFirst == srcIsA, stream: t.nextStream, lastSeen: nanos(ts)}
	if _, ok := t.evicted[key]; ok {
		delete(t.evicted, key)
		e.evicted = !pureSYN(seg)
	}
	t.nextStream++
	t.conns[key] = e
	t.lru.pushFront(&e.lru, e)
	t.recent[key.hash()>>recentShift] = e
	side := SideB
	if srcIsA {
		side = SideA
	}
	t.observe(e, side, seg)
	return side
}

// maxEvictedKeys bounds the keys of evicted connections a Table remembers.
const maxEvictedKeys = 1 << 16

// rememberEvicted notes that the connection with key k is being evicted.
func (t *Table[T]) rememberEvicted(k connKey) {
	if t.evicted == nil || len(t.evicted) >= maxEvictedKeys {
		t.evicted = make(map[connKey]struct{})
	}
	t.evicted[k] = struct{}{}
}

// touch records activity on e at now (as by nanos).
func (t *Table[T]) touch(e *Entry[T], now int64) {
	if now > e.lastSeen {
		e.lastSeen = now
	}
	if t.lru.head != &e.lru {
		t.lru.moveToFront(&e.lru)
	}
	if e.inExp && t.exp.head != &e.exp {
		t.exp.moveToFront(&e.exp)
	}
}

// end tells the Ender that e ends for reason and stops tracking it.
func (t *Table[T]) end(e *Entry[T], reason CloseReason, pkt uint64, ts time.Time) {
	t.mem.Give(ConnCost)
	t.ev.EndConn(e.elem, reason, pkt, ts)
	t.lru.remove(&e.lru)
	if e.inExp {
		t.exp.remove(&e.exp)
		e.inExp = false
	}
	if t.conns[e.key] == e {
		delete(t.conns, e.key)
	}
	if slot := &t.recent[e.key.hash()>>recentShift]; *slot == e {
		*slot = nil
	}
}

// sweep ends idle connections, walking from the least recently active; Track
// calls it when capture time advanced by SweepInterval since the last walk
// (the first call only starts the clock).
func (t *Table[T]) sweep(pkt uint64, ts time.Time, now int64) {
	if !t.sweepInit {
		t.lastSweep, t.sweepInit = now, true
		return
	}
	t.lastSweep = now
	for e := t.exp.back(); e != nil; {
		if since(now, e.lastSeen) <= t.idle {
			break
		}
		prev := e.exp.prevElem()
		t.end(e, ClosedIdle, pkt, ts)
		e = prev
	}
}

// Bounds of the seconds nanos can represent.
const (
	minNanosSec = math.MinInt64/int64(time.Second) + 1
	maxNanosSec = math.MaxInt64/int64(time.Second) - 1
)

// nanos returns ts as nanoseconds since 1970, saturated to the int64 range
// (pcapng timestamps may lie beyond 2262). The table compares capture times
// as such integers: time.Time.Sub costs more than the rest of a lookup.
func nanos(ts time.Time) int64 {
	switch s := ts.Unix(); {
	case s < minNanosSec:
		return math.MinInt64
	case s > maxNanosSec:
		return math.MaxInt64
	default:
		return s*int64(time.Second) + int64(ts.Nanosecond())
	}
}

// since returns now-then, saturated to the int64 range like time.Time.Sub.
func since(now, then int64) int64 {
	d := now - then
	if (now^then) < 0 && (d^now) < 0 { // the signs differ and it overflowed
		if now < 0 {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return d
}
