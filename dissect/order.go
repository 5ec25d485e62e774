package dissect

import (
	"bytes"
	"slices"
	"time"

	"github.com/wsdissect/wsdissect/reassembly"
)

// Records in packet order. A direction looking for a frame boundary (a
// mid-stream start, a resync after lost bytes) holds its bytes until a chain
// of frames proves where frames start, and then decodes them all at once:
// its records belong to packets that came before the other direction's
// latest ones. So that a connection's records come out in the order of the
// packets that complete them (as tshark shows them), bytes of a decoding
// direction that arrive in a later packet than the other direction's
// earliest held search bytes are held too (held, in packet order, never
// reordering one direction's own bytes), and decoded once the search
// decides. The connection record and the resync anomaly of a search are
// placed at the packet where the first found frame starts.
//
// What is held is bounded by Options.MaxSearch and by maxHold of capture
// time since the search's first bytes: beyond either, everything held is
// decoded at once (order gives way to memory, and to the latency of live
// output when the searching direction stays quiet).

// maxHold is how much capture time a search may hold up the other
// direction's records.
const maxHold = time.Second

// heldKind says what a held item is.
type heldKind uint8

const (
	heldData heldKind = iota
	heldGap
	heldSync // emit a search's connection record and resync anomaly
)

// heldItem is one delayed event of a direction.
type heldItem struct {
	kind heldKind
	side reassembly.Side
	pkt  uint64
	ts   time.Time
	data []byte
	gap  reassembly.Gap
	// heldSync: the search's first frame offset and skipped bytes.
	syncOff, skipped uint64
	conn             bool // heldSync: emit the connection record
}

// wsSide returns the direction decoder of side, or nil.
func (c *connState) wsSide(side reassembly.Side) *wsDir {
	for _, w := range c.ws {
		if w != nil && w.side == side {
			return w
		}
	}
	return nil
}

// searchMark returns the packet and time of the earliest bytes a searching
// direction of side holds, and whether it holds any.
func (c *connState) searchMark(side reassembly.Side) (mark, bool) {
	w := c.wsSide(side)
	if w == nil || w.st != stSearch || len(w.marks) == 0 {
		return mark{}, false
	}
	return w.marks[0], true
}

// blocked reports whether an event of side carried by packet pkt must wait
// for the other direction's search, or for bytes of the other direction
// waiting behind a hole in the reassembler.
func (c *connState) blocked(side reassembly.Side, pkt uint64) bool {
	if w := c.wsSide(side); w == nil || w.st == stSearch {
		return false // a search emits nothing while it buffers
	}
	if h := c.hole[side.Other()]; h.pkt != 0 && h.pkt < pkt && c.heldTS.Sub(h.ts) <= maxHold {
		return true
	}
	m, ok := c.searchMark(side.Other())
	return ok && m.pkt < pkt && c.heldTS.Sub(m.ts) <= maxHold
}

// mustHold reports whether an event of side in packet pkt must be held.
// No direction of the dissector searching with bytes held (its watermark
// register is empty) means none of this connection's is: the common case
// costs one comparison.
func (c *connState) mustHold(side reassembly.Side, pkt uint64) bool {
	if c.heldFor[side] > 0 {
		return true
	}
	return (len(c.d.searchers.list) > 0 || c.hole[side.Other()].pkt != 0) && c.blocked(side, pkt)
}

// wsData hands bytes of side to its direction decoder, or holds them.
func (c *connState) wsData(side reassembly.Side, b []byte, pkt uint64, ts time.Time) {
	if ts.After(c.heldTS) {
		c.heldTS = ts
	}
	// What waits and need not any more goes first (the other side's
	// bytes held while this side's waited behind a hole).
	c.drainHeld(false)
	if c.mustHold(side, pkt) {
		c.hold(heldItem{kind: heldData, side: side, pkt: pkt, ts: ts, data: bytes.Clone(b)})
	} else if w := c.wsSide(side); w != nil {
		w.feed(b, pkt, ts)
	}
	c.drainHeld(false)
}

// wsGap hands a gap of side to its direction decoder, or holds it.
func (c *connState) wsGap(side reassembly.Side, g *reassembly.Gap) {
	if g.Time.After(c.heldTS) {
		c.heldTS = g.Time
	}
	c.drainHeld(false)
	if c.mustHold(side, g.Packet) {
		c.hold(heldItem{kind: heldGap, side: side, pkt: g.Packet, ts: g.Time, gap: *g})
	} else if w := c.wsSide(side); w != nil {
		w.gap(g)
	}
	c.drainHeld(false)
}

// hold queues it in packet order, after every held item of its side.
func (c *connState) hold(it heldItem) {
	i := len(c.held)
	for i > c.heldHead && c.held[i-1].side != it.side && c.held[i-1].pkt > it.pkt {
		i--
	}
	c.held = slices.Insert(c.held, i, it)
	c.heldFor[it.side]++
	c.heldBytes += len(it.data)
}

// holdFirst queues items, all of one side and in order, before every held
// item of their side (they are bytes that side's search held back, which
// precede anything queued for it since), and in packet order with the other
// side's items.
func (c *connState) holdFirst(items []heldItem) {
	if len(items) == 0 {
		return
	}
	side := items[0].side
	old := c.held[c.heldHead:]
	out := make([]heldItem, 0, len(old)+len(items))
	i, j := 0, 0
	for i < len(items) || j < len(old) {
		if i < len(items) && (j == len(old) || old[j].side == side || items[i].pkt <= old[j].pkt) {
			out = append(out, items[i])
			c.heldFor[side]++
			c.heldBytes += len(items[i].data)
			i++
		} else {
			out = append(out, old[j])
			j++
		}
	}
	c.held, c.heldHead = out, 0
}

// drainHeld runs the held events that need not wait any more, in order; with
// force (the connection ends) or when too much is held, it runs them all.
func (c *connState) drainHeld(force bool) {
	if c.draining || c.heldHead == len(c.held) {
		return
	}
	c.draining = true
	for c.heldHead < len(c.held) {
		it := c.held[c.heldHead]
		if !force && c.heldBytes <= c.d.opts.MaxSearch && c.blocked(it.side, it.pkt) {
			break
		}
		c.held[c.heldHead] = heldItem{}
		c.heldHead++
		c.heldFor[it.side]--
		c.heldBytes -= len(it.data)
		if c.heldHead == len(c.held) {
			c.held, c.heldHead = c.held[:0], 0
		}
		w := c.wsSide(it.side)
		switch {
		case it.kind == heldSync:
			c.emitSync(w, &it)
		case w == nil:
		case it.kind == heldGap:
			w.gap(&it.gap)
		default:
			w.feed(it.data, it.pkt, it.ts)
		}
	}
	c.draining = false
}

// emitSync emits what a search's synchronisation reports, at the packet of
// the first frame found: the connection record of a mid-stream pickup and
// the bytes skipped to get there.
func (c *connState) emitSync(w *wsDir, it *heldItem) {
	if it.conn {
		c.emitConn(it.pkt, it.ts, nil)
	}
	if it.skipped > 0 {
		c.anomalyRecord(it.side, true, resyncAnomaly(it.syncOff, it.skipped), it.pkt, it.ts)
	}
}
