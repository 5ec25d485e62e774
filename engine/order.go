package engine

import (
	"io"
	"math"
	"slices"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/reassembly"
)

// Output in packet order across connections. A direction searching for a
// frame boundary (a mid-stream start, a resync after lost bytes) decodes
// the bytes it held only once the search decides, so its records, which
// belong to the packets that carried those bytes, are emitted after the
// records of later packets of other connections. The dissector keeps one
// connection's records in order itself (dissect/order.go); across
// connections the rendered output is put in order here, in the
// single-threaded run and in RunParallel's merger alike, by one orderer
// fed the same sequence of events in both, so their output stays
// byte-identical:
//
//   - each record's rendered bytes, tagged with the record's packet;
//   - after each TCP packet (in RunParallel: before the first command of the
//     next packet), a step: the packet's time and the watermark, the
//     earliest packet whose records may still be emitted: by a search
//     (dissect.Dissector.SearchFrom) or from out-of-order bytes the
//     reassembler buffers until a hole is filled or declared lost
//     (reassembly.Assembler.HeldFrom); the least over the workers.
//
// Output of a record at or before the watermark is written at once; later
// output is held, in packet order, until the watermark passes it. What is
// held is bounded: by holdTime of capture time since the first of it was
// held and by holdBytes (a sixteenth of the memory budget when that is
// smaller); beyond either, everything held is written (order gives way to
// latency and memory), as it is when the input stalls.

const (
	// holdTime is how much capture time held output may wait for a
	// search, like dissect's limit for one connection.
	holdTime = time.Second
	// holdBytes is the most rendered output held at once.
	holdBytes = 4 << 20
)

// noMark is the watermark of a worker with no search (RunParallel).
const noMark = math.MaxUint64

// heldOut is one record's output held by an orderer: buf[off:off+n].
type heldOut struct {
	pkt, seq uint64
	off, n   int
}

// orderer puts rendered output in packet order (see above). It writes
// through write, which it calls with bytes to append to the output.
type orderer struct {
	write func([]byte) error
	limit int // the most held bytes

	held  []heldOut // sorted by packet, then by arrival
	buf   []byte    // the bytes of held, in arrival order
	moves []int     // scratch for release: indexes of held in buf's order
	seq   uint64

	wm   uint64 // the watermark at the last step
	wmOK bool
	// The open record (begin): its packet, whether its output is held,
	// and the seq of its last held portion (0: none yet).
	openPkt  uint64
	openHeld bool
	openSeq  uint64
	now      time.Time // the latest packet time of a step
	since    time.Time // now when the oldest held output was held
}

// newOrderer returns an orderer writing through write, holding at most the
// smaller of holdBytes and a sixteenth of memory (when memory > 0).
func newOrderer(write func([]byte) error, memory int64) *orderer {
	o := &orderer{write: write, limit: holdBytes}
	if memory > 0 {
		o.limit = int(min(int64(holdBytes), max(memory/16, 64<<10)))
	}
	return o
}

// direct reports whether output of a record of packet pkt goes out at
// once: no search may still emit records of earlier packets.
func (o *orderer) direct(pkt uint64) bool { return !o.wmOK || pkt <= o.wm }

// hold keeps b, the output of a record of packet pkt, until a step lets it
// out, or writes everything held when that is too much.
func (o *orderer) hold(pkt uint64, b []byte) error {
	if len(o.held) == 0 {
		o.since = o.now
	}
	o.seq++
	h := heldOut{pkt: pkt, seq: o.seq, off: len(o.buf), n: len(b)}
	o.buf = append(o.buf, b...)
	i := len(o.held)
	for i > 0 && o.held[i-1].pkt > pkt {
		i--
	}
	o.held = slices.Insert(o.held, i, h)
	if len(o.buf) > o.limit {
		return o.release(len(o.held))
	}
	return nil
}

// chunk passes on b, the whole output of a record of packet pkt.
func (o *orderer) chunk(pkt uint64, b []byte) error {
	o.begin(pkt)
	return o.part(b)
}

// begin starts the output of a record of packet pkt, which part passes on
// in one or more portions (a large payload is formatted in pieces).
func (o *orderer) begin(pkt uint64) {
	o.openPkt, o.openHeld, o.openSeq = pkt, !o.direct(pkt), 0
}

// holding reports whether the open record's next portion is held: its
// output is held and no earlier portion of it was let out (everything held
// is let out when too much is held).
func (o *orderer) holding() bool {
	if !o.openHeld {
		return false
	}
	if o.openSeq != 0 {
		held := false
		for i := len(o.held) - 1; i >= 0; i-- {
			if o.held[i].seq == o.openSeq {
				held = true
				break
			}
		}
		if !held {
			o.openHeld = false
		}
	}
	return o.openHeld
}

// part passes on a portion of the open record's output: written when the
// record goes out at once (or its start already went out), else held just
// after its earlier portions.
func (o *orderer) part(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if !o.holding() {
		return o.write(b)
	}
	o.openSeq = o.seq + 1
	return o.hold(o.openPkt, b)
}

// step ends a packet of time ts; wm is the watermark after it (ok false:
// none). Held output up to the watermark is written.
func (o *orderer) step(ts time.Time, wm uint64, ok bool) error {
	o.wm, o.wmOK = wm, ok
	if len(o.held) == 0 {
		// Nothing waits: now only matters from the next hold on (the
		// common case skips the comparison).
		o.now = ts
		return nil
	}
	if ts.After(o.now) {
		o.now = ts
	}
	if !ok || o.now.Sub(o.since) > holdTime {
		return o.release(len(o.held))
	}
	n := 0
	for n < len(o.held) && o.held[n].pkt <= wm {
		n++
	}
	return o.release(n)
}

// flush writes everything held (the input stalled or ended).
func (o *orderer) flush() error { return o.release(len(o.held)) }

// release writes the first n held outputs and keeps the rest.
func (o *orderer) release(n int) error {
	if n == 0 {
		return nil
	}
	var err error
	for _, h := range o.held[:n] {
		if err == nil {
			err = o.write(o.buf[h.off : h.off+h.n])
		}
	}
	rest := o.held[n:]
	if len(rest) == 0 {
		o.held, o.buf = o.held[:0], o.buf[:0]
		if cap(o.buf) > o.limit {
			o.buf = nil
		}
		return err
	}
	// Keep the rest at the start of buf. held is in packet order, buf in
	// arrival order: the bytes are moved in buf's order, so that none is
	// overwritten before it has moved.
	o.moves = o.moves[:0]
	for i := range rest {
		o.moves = append(o.moves, i)
	}
	slices.SortFunc(o.moves, func(a, b int) int { return rest[a].off - rest[b].off })
	off := 0
	for _, i := range o.moves {
		h := &rest[i]
		copy(o.buf[off:], o.buf[h.off:h.off+h.n])
		h.off = off
		off += h.n
	}
	o.buf = o.buf[:off]
	o.held = append(o.held[:0], rest...)
	o.since = o.now
	return err
}

// watermark is the earliest packet whose records dis and asm may still
// emit (see above), and whether there is one.
func watermark(dis *dissect.Dissector, asm *reassembly.Assembler) (uint64, bool) {
	wm, ok := dis.SearchFrom()
	if p, held := asm.HeldFrom(); held && (!ok || p < wm) {
		wm, ok = p, true
	}
	return wm, ok
}

// orderedOut is the output of a single-threaded run (runSingle): a
// render.Appender the sink renders records into, put in packet order by
// an orderer, and written to out in large pieces.
type orderedOut struct {
	out io.Writer
	buf []byte // rendered output not yet written to out
	ord *orderer
	// each writes the output after every step (live capture).
	each  bool
	err   error
	start int // where the open record's output not yet passed on starts
}

// outChunk is how much output orderedOut collects before writing it.
const outChunk = 256 << 10

func newOrderedOut(out io.Writer, memory int64, each bool) *orderedOut {
	o := &orderedOut{out: out, each: each}
	o.ord = newOrderer(o.add, memory)
	return o
}

// Unbuffered implements render.Unbuffered.
func (o *orderedOut) Unbuffered() {}

// Buffer implements render.Appender.
func (o *orderedOut) Buffer() *[]byte { return &o.buf }

// Write implements io.Writer: output written outside a record (a sink's
// flush) goes out in turn.
func (o *orderedOut) Write(p []byte) (int, error) {
	o.buf = append(o.buf, p...)
	return len(p), nil
}

// add appends released output.
func (o *orderedOut) add(b []byte) error {
	o.buf = append(o.buf, b...)
	return nil
}

// begin starts a record of packet pkt, rendered from the end of buf on.
func (o *orderedOut) begin(pkt uint64) {
	o.ord.begin(pkt)
	o.start = len(o.buf)
}

// portion takes what the open record rendered since begin or the last
// portion out of line when it must be held; what goes out at once stays
// where it is.
func (o *orderedOut) portion() error {
	if len(o.buf) == o.start || !o.ord.holding() {
		o.start = len(o.buf)
		return nil
	}
	b := o.buf[o.start:]
	o.buf = o.buf[:o.start]
	err := o.ord.part(b) // may append output it lets out
	o.start = len(o.buf)
	return err
}

// Spill implements render.Spiller: the part of a large record formatted
// so far is passed on, and written out unless the record is held.
func (o *orderedOut) Spill() error {
	if err := o.portion(); err != nil {
		return err
	}
	if !o.ord.holding() && len(o.buf) >= outChunk {
		if err := o.writeOut(); err != nil {
			return err
		}
		o.start = 0
	}
	return nil
}

// step ends a packet (see orderer.step) and writes the output when enough
// has collected.
func (o *orderedOut) step(ts time.Time, wm uint64, ok bool) error {
	if err := o.ord.step(ts, wm, ok); err != nil {
		return err
	}
	if o.each || len(o.buf) >= outChunk {
		return o.writeOut()
	}
	return nil
}

// writeOut writes the collected output to out.
func (o *orderedOut) writeOut() error {
	if o.err != nil {
		return o.err
	}
	if len(o.buf) == 0 {
		return nil
	}
	_, o.err = o.out.Write(o.buf)
	if cap(o.buf) > 4*outChunk {
		o.buf = nil
	} else {
		o.buf = o.buf[:0]
	}
	return o.err
}

// orderSink is the sink in front of a single-threaded run's output stage:
// it tags each record's rendered output with the record's packet.
type orderSink struct {
	next dissect.Sink
	out  *orderedOut
}

// WholePayload implements dissect.PreviewPolicy for the sink it wraps.
func (s *orderSink) WholePayload(cn *dissect.Conn) bool { return wholePayload(s.next, cn) }

// wholePayload asks sink, when it is a dissect.PreviewPolicy, whether cn's
// records need whole payloads; a sink that cannot say gets them whole.
func wholePayload(sink dissect.Sink, cn *dissect.Conn) bool {
	p, ok := sink.(dissect.PreviewPolicy)
	return !ok || p.WholePayload(cn)
}

// Emit implements dissect.Sink.
func (s *orderSink) Emit(r *dissect.Record) error {
	s.out.begin(r.Packet)
	err := s.next.Emit(r)
	if herr := s.out.portion(); err == nil {
		err = herr
	}
	if err == nil && s.out.err != nil {
		err = s.out.err
	}
	return err
}
