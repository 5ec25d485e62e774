package engine

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/netpkt"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/source"
)

// MaxWorkers is the largest number of workers RunParallel uses.
const MaxWorkers = 64

// Limits of one round: the unit in which the reader hands work to the
// workers and the merger writes their output.
const (
	// roundCmds is the most commands (packets, connection ends) per round.
	roundCmds = 4096
	// roundData is the payload bytes after which a round is handed over.
	roundData = 512 << 10
	// roundsPerWorker is how many rounds per worker may be in flight; it
	// bounds memory and lets busy workers run ahead of idle ones. Fewer
	// rounds keep the buffers they cycle through warmer in the caches: on
	// 2 cores, 2 per worker took 5-8% less CPU than 3 on plain, compressed
	// and short-connection captures alike, and 6 or 1 were slower.
	roundsPerWorker = 2
	// keepBuf is the largest batch buffer kept for reuse.
	keepBuf = 4 << 20
)

// SinkFactory makes the output stage of one worker of RunParallel: a sink
// whose output goes to w, and flush, which writes anything the sink buffers
// to w. It is called once per worker, sequentially, before any packet is
// read. The sinks of different workers run concurrently, so they must not
// share mutable state.
type SinkFactory func(w io.Writer) (sink dissect.Sink, flush func() error)

// RunParallel reads src to its end like Run, spreading the work over
// opts.Workers workers (0 means runtime.GOMAXPROCS), and writes the output
// of the sinks newSink makes to out in the order a single-threaded Run would
// produce it: the output is byte-identical to
//
//	sink, flush := newSink(out)
//	Run(src, sink, opts); flush()
//
// which is exactly what RunParallel does with one worker.
//
// The calling goroutine reads the packets, decodes their headers and keeps
// the table of TCP connections, a reassembly.Table like the one inside
// reassembly.Assembler.Process: it numbers connections (tcp.stream) and
// decides when they expire, are evicted or are replaced by a new connection
// on the same addresses. Each connection belongs to one worker, chosen by a
// hash of its addresses; the worker has its own reassembler and dissector,
// which follow the reader's decisions (reassembly.Assembler.Open, Segment
// and Close, with no table of its own), and renders its records into
// memory. The reader hands packets to the workers in rounds, copying their payloads into reusable buffers,
// and a merger goroutine writes each round's output to out in packet order,
// with the records of one packet in the order Run emits them (idle
// expiries, then the packet's own connection, evictions, the packet itself;
// at the end of the input, connections in stream order).
//
// opts.Epoch, when set, is called from the calling goroutine with the first
// packet's time before any record is emitted; it may configure every
// worker's sink (the workers start on that packet afterwards).
//
// The returned Stats add up the workers' counters; Reassembly.PeakBuffered
// is the sum of the workers' peaks.
//
// Differences from Run, all in corner cases: the out-of-order buffer limit
// opts.Reassembly.MaxBufferedTotal is split evenly among the workers (each
// enforces its share), so output differs only when more than that share is
// buffered at once by one worker; and whether a SYN reuses a connection's
// addresses is decided from the initial sequence numbers seen in SYNs of the
// connection even after it was closed or its handler stopped wanting data,
// which Run ignores, so a SYN repeating a sequence number first seen after
// that point can be numbered differently. A sink error stops the run as in
// Run, but the output written before it may differ.
func RunParallel(src PacketSource, newSink SinkFactory, opts Options, out io.Writer) (Stats, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, MaxWorkers)
	staller, _ := src.(Staller)
	if workers == 1 {
		sink, flush := newSink(out)
		if staller != nil {
			staller.OnStall(func() { _ = flush() })
		}
		st, err := Run(src, sink, opts)
		if ferr := flush(); ferr != nil && err == nil {
			err = fmt.Errorf("writing output: %w", ferr)
		}
		return st, err
	}
	p := newParallel(workers, newSink, opts)
	if staller != nil {
		staller.OnStall(p.flushOut)
	}
	return p.run(src, out)
}

// Staller is implemented by packet sources whose input can stall (a pipe):
// OnStall sets a function that Next calls, in its caller's goroutine,
// before it waits for more input. RunParallel uses it to write out the
// records of the packets read so far instead of holding them until a
// buffer is full.
type Staller interface {
	OnStall(fn func())
}

// flushOut hands the current round over (an empty one when there is none)
// and has the merger flush its output after it. It runs in the reading
// goroutine, between packets.
func (p *parallel) flushOut() {
	if p.failed() {
		return
	}
	if p.cur == nil {
		p.cur = <-p.free
	}
	p.cur.flush = true
	p.dispatch()
}

// cmdKind is what a command asks a worker to do.
type cmdKind uint8

const (
	// cmdSegment processes a TCP segment.
	cmdSegment cmdKind = iota
	// cmdEnd ends a connection (idle, evicted, reused, end of input).
	cmdEnd
)

// command is one unit of work for a worker, in the global order of the
// single-threaded run. It is kept small (the reader writes and a worker reads
// thousands per round): the connection's endpoints and number are in its
// flow, which is never changed after creation except for fields only the
// reader uses.
type command struct {
	f      *flow
	pkt    uint64
	ts     time.Time
	seq    uint32
	ack    uint32
	off    uint32 // the payload is data[off:off+n] of the batch
	n      uint32
	plen   uint32 // the payload length the IP header claims
	window uint16
	flags  uint8
	kind   cmdKind
	reason reassembly.CloseReason // cmdEnd
	side   reassembly.Side        // cmdSegment: the side that sent it
}

// batch is one worker's share of a round.
type batch struct {
	cmds []command
	data []byte // payloads of the segments
	out  []byte // rendered output, filled by the worker
	ends []int  // out[:ends[i]] is the output up to command i
}

// round is a run of consecutive commands spread over the workers.
type round struct {
	batches []batch
	route   []uint8 // the worker of each command, in order
	data    int     // payload bytes in all batches
	flush   bool    // the merger flushes its output after this round
	wg      sync.WaitGroup
}

// parallel is the state of one RunParallel call.
type parallel struct {
	opts    Options
	workers []*worker
	free    chan *round
	work    []chan *round
	merge   chan *round

	mu   sync.Mutex
	err  error       // first error of a worker or the merger
	stop atomic.Bool // set on the first error

	// Reader state.
	table *reassembly.Table[flow]
	cur   *round
	stats Stats
	last  uint64
}

// worker owns the connections hashed to it.
type worker struct {
	id    int
	asm   *reassembly.Assembler
	dis   *dissect.Dissector
	count countSink
	flush func() error
	out   memWriter
}

// countSink counts the records passed on to the worker's sink.
type countSink struct {
	next dissect.Sink
	n    uint64
}

// Emit implements dissect.Sink.
func (c *countSink) Emit(r *dissect.Record) error {
	c.n++
	return c.next.Emit(r)
}

// memWriter appends what is written to a byte slice. It implements
// render.Appender, so a renderer formats records straight into it, without
// a buffer of its own.
type memWriter struct{ b []byte }

// Unbuffered implements render.Unbuffered.
func (m *memWriter) Unbuffered() {}

// Buffer implements render.Appender.
func (m *memWriter) Buffer() *[]byte { return &m.b }

// Write implements io.Writer; it never fails.
func (m *memWriter) Write(p []byte) (int, error) {
	m.b = append(m.b, p...)
	return len(p), nil
}

// newParallel sets up n workers, their sinks and the rounds in flight.
func newParallel(n int, newSink SinkFactory, opts Options) *parallel {
	cfg := opts.Reassembly
	if cfg.MaxBufferedTotal <= 0 {
		cfg.MaxBufferedTotal = reassembly.DefaultMaxBufferedTotal
	}
	cfg.MaxBufferedTotal = max(cfg.MaxBufferedTotal/int64(n), 1)
	p := &parallel{opts: opts}
	p.table = reassembly.NewTable(opts.Reassembly, (*flowEnder)(p))
	nr := roundsPerWorker * n
	p.free = make(chan *round, nr)
	p.merge = make(chan *round, nr)
	for range nr {
		p.free <- newRound(n)
	}
	for i := range n {
		w := &worker{id: i}
		sink, flush := newSink(&w.out)
		w.count.next = sink
		w.flush = flush
		w.dis = dissect.New(&w.count, opts.Dissect)
		w.asm = reassembly.New(w.dis, cfg)
		p.workers = append(p.workers, w)
		p.work = append(p.work, make(chan *round, nr))
	}
	return p
}

// fail records the first error and stops the run.
func (p *parallel) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
		p.stop.Store(true)
	}
}

// failed reports whether the run was stopped by an error. The reader asks
// before every packet: an atomic load costs next to nothing there, a select
// on a channel did not.
func (p *parallel) failed() bool { return p.stop.Load() }

// run reads src in the calling goroutine while the workers and the merger
// run in their own.
func (p *parallel) run(src PacketSource, out io.Writer) (Stats, error) {
	var wg sync.WaitGroup
	for i, w := range p.workers {
		wg.Go(func() { w.run(p, p.work[i]) })
	}
	var mergeDone sync.WaitGroup
	mergeDone.Go(func() { p.mergeRounds(out) })

	var pk source.Packet
	var seg netpkt.Segment
	var readErr error
	for !p.failed() {
		if err := src.Next(&pk); err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		if p.stats.Packets == 0 {
			p.stats.First = pk.Time
			if p.opts.Epoch != nil {
				p.opts.Epoch(pk.Time)
			}
		}
		p.stats.Packets++
		p.stats.Last = pk.Time
		p.last = pk.Number
		err := netpkt.Decode(pk.LinkType, pk.Data, &seg)
		switch {
		case err == nil:
			p.stats.TCP++
			p.segment(&seg, pk.Number, pk.Time)
		case errors.Is(err, netpkt.ErrNotTCP):
		default:
			p.stats.countFailure(err, pk.LinkType)
		}
	}
	if !p.failed() {
		p.table.EndAll(p.last, p.stats.Last)
	}
	if p.cur != nil {
		p.dispatch()
	}
	for _, ch := range p.work {
		close(ch)
	}
	close(p.merge)
	wg.Wait()
	mergeDone.Wait()

	st := p.stats
	for _, w := range p.workers {
		addReassembly(&st.Reassembly, w.asm.Stats())
		ds := w.dis.Stats()
		st.Dissect.Conns += ds.Conns
		st.Dissect.Midstream += ds.Midstream
		st.Dissect.Frames += ds.Frames
		st.Dissect.Messages += ds.Messages
		st.Dissect.Anomalies += ds.Anomalies
	}
	if p.err != nil {
		return st, p.err
	}
	return st, readErr
}

// addReassembly adds the counters of s to t.
func addReassembly(t *reassembly.Stats, s reassembly.Stats) {
	t.Conns += s.Conns
	t.Active += s.Active
	t.Packets += s.Packets
	t.BytesDelivered += s.BytesDelivered
	t.Gaps += s.Gaps
	t.BytesLost += s.BytesLost
	t.Retransmissions += s.Retransmissions
	t.Evictions += s.Evictions
	t.OutOfOrder += s.OutOfOrder
	t.OldSegments += s.OldSegments
	t.Ignored += s.Ignored
	t.Buffered += s.Buffered
	t.PeakBuffered += s.PeakBuffered
}

// batch returns worker w's batch of the current round, ready to take one
// more command with n payload bytes; the caller appends the command and the
// payload.
func (p *parallel) batch(w uint8, n int) *batch {
	if p.cur == nil {
		p.cur = <-p.free
	}
	r := p.cur
	b := &r.batches[w]
	// A batch that must grow starts at twice its even share of a round:
	// growing from nothing by doubling, in every batch of every round, cost
	// more than a short run's whole decoding. Only the batches of workers
	// that get work are allocated at all, and no more than twice what they
	// hold (rounds × workers batches exist).
	if len(b.cmds) == cap(b.cmds) {
		b.cmds = slices.Grow(b.cmds, max(len(b.cmds), 2*roundCmds/len(r.batches)))
	}
	if len(b.data)+n > cap(b.data) {
		b.data = slices.Grow(b.data, max(len(b.data), 2*roundData/len(r.batches), n))
	}
	r.route = append(r.route, w)
	r.data += n
	return b
}

// pushed hands the current round over when it is full.
func (p *parallel) pushed() {
	if r := p.cur; len(r.route) >= roundCmds || r.data >= roundData {
		p.dispatch()
	}
}

// dispatch hands the current round to its workers and the merger.
func (p *parallel) dispatch() {
	r := p.cur
	p.cur = nil
	for i := range r.batches {
		if len(r.batches[i].cmds) > 0 {
			r.wg.Add(1)
			p.work[i] <- r
		}
	}
	p.merge <- r
}

// run processes the worker's batches of the rounds it receives.
func (w *worker) run(p *parallel, in <-chan *round) {
	for r := range in {
		b := &r.batches[w.id]
		if !p.failed() {
			w.process(p, b)
		}
		r.wg.Done()
	}
}

// process runs a batch's commands, rendering their output into b.out.
func (w *worker) process(p *parallel, b *batch) {
	w.out.b = b.out[:0]
	b.ends = b.ends[:0]
	var seg netpkt.Segment
	for i := range b.cmds {
		c := &b.cmds[i]
		before := w.count.n
		f := c.f
		switch c.kind {
		case cmdSegment:
			seg.Seq, seg.Ack, seg.Flags, seg.Window = c.seq, c.ack, c.flags, c.window
			seg.Payload = b.data[c.off : c.off+c.n : c.off+c.n]
			seg.PayloadLen = int(c.plen)
			if f.ws == nil {
				// A flow's first command is the segment that created it,
				// sent by a; only opening a connection needs addresses.
				seg.Src, seg.SrcPort = f.a.Addr(), f.a.Port()
				seg.Dst, seg.DstPort = f.b.Addr(), f.b.Port()
				f.ws = w.asm.Open(&seg, c.side, c.pkt, c.ts, f.stream)
			}
			f.ws = w.asm.Segment(f.ws, c.side, &seg, c.pkt, c.ts)
		case cmdEnd:
			if f.ws != nil {
				w.asm.Close(f.ws, c.reason, c.pkt, c.ts)
			}
		}
		if w.count.n != before {
			if err := w.dis.Err(); err != nil {
				p.fail(fmt.Errorf("writing output: %w", err))
				break
			}
			if err := w.flush(); err != nil {
				p.fail(fmt.Errorf("writing output: %w", err))
				break
			}
		}
		b.ends = append(b.ends, len(w.out.b))
	}
	b.out = w.out.b
	w.out.b = nil
}

// mergeRounds writes the rounds' output to out in command order and
// recycles the rounds.
func (p *parallel) mergeRounds(out io.Writer) {
	bw := bufio.NewWriterSize(out, 256<<10)
	var next [MaxWorkers]int // per worker: the next command of its batch
	var from [MaxWorkers]int // per worker: where its next output starts
	for r := range p.merge {
		r.wg.Wait()
		if !p.failed() {
			clear(next[:len(r.batches)])
			clear(from[:len(r.batches)])
			if err := writeRound(bw, r, next[:], from[:]); err != nil {
				p.fail(fmt.Errorf("writing output: %w", err))
			} else if r.flush {
				if err := bw.Flush(); err != nil {
					p.fail(fmt.Errorf("writing output: %w", err))
				}
			}
		}
		r.reset()
		p.free <- r
	}
	if !p.failed() {
		if err := bw.Flush(); err != nil {
			p.fail(fmt.Errorf("writing output: %w", err))
		}
	}
}

// writeRound writes r's output in command order, each run of consecutive
// commands of one worker in one piece.
func writeRound(w io.Writer, r *round, next, from []int) error {
	out := 0
	for i := range r.batches {
		out += len(r.batches[i].out)
	}
	if out == 0 {
		return nil // nothing to order (-q, or a filter that matched nothing)
	}
	run, runFrom, runTo := -1, 0, 0
	for _, wk := range r.route {
		k := int(wk)
		b := &r.batches[k]
		end := b.ends[next[k]]
		next[k]++
		if k != run {
			if runTo > runFrom {
				if _, err := w.Write(r.batches[run].out[runFrom:runTo]); err != nil {
					return err
				}
			}
			run, runFrom = k, from[k]
		}
		runTo = end
		from[k] = end
	}
	if run >= 0 && runTo > runFrom {
		if _, err := w.Write(r.batches[run].out[runFrom:runTo]); err != nil {
			return err
		}
	}
	return nil
}

// newRound returns an empty round for n workers. The batches get their
// buffers when first used (see push).
func newRound(n int) *round {
	return &round{batches: make([]batch, n), route: make([]uint8, 0, roundCmds+64)}
}

// reset empties a round for reuse, dropping very large buffers.
func (r *round) reset() {
	r.route = r.route[:0]
	r.data = 0
	r.flush = false
	for i := range r.batches {
		b := &r.batches[i]
		// The old commands are not cleared: the flows they point to stay
		// reachable until overwritten, which bounds what they hold to the
		// rounds in flight, and clearing them cost ~1% of a run.
		b.cmds = b.cmds[:0]
		b.ends = b.ends[:0]
		b.data = trim(b.data)
		b.out = trim(b.out)
	}
}

// trim returns b emptied, or nil when its capacity is above keepBuf.
func trim(b []byte) []byte {
	if cap(b) > keepBuf {
		return nil
	}
	return b[:0]
}

// flow is the reader's record of one tracked connection, an element of its
// connection table.
type flow struct {
	// ws is the connection in the worker's assembler; only the worker
	// that owns the flow touches it.
	ws *reassembly.Stream
	// a, b and stream are set when the flow is created and never change;
	// the worker reads them once, to open the connection. The reader
	// updates the fields after the padding, which keeps those writes off
	// the cache line the worker uses.
	a, b   netip.AddrPort // the first packet's source and destination
	stream uint64
	_      [64]byte

	reassembly.Entry[flow]
	worker uint8
}

// segment makes the commands for one TCP segment; the connection table
// decides, as the reassembler's Process does, which connection it belongs
// to and which connections end before it.
func (p *parallel) segment(seg *netpkt.Segment, pkt uint64, ts time.Time) {
	f, side := p.table.Track(seg, pkt, ts)
	if f == nil {
		f = new(flow) // never reused: commands in flight refer to it
		side = p.table.Add(f, &f.Entry, seg, pkt, ts)
		f.a = netip.AddrPortFrom(seg.Src, seg.SrcPort)
		f.b = netip.AddrPortFrom(seg.Dst, seg.DstPort)
		f.stream = f.Stream()
		f.worker = uint8(f.Hash() % uint64(len(p.workers)))
	}
	f.Learn(side, seg)
	b := p.batch(f.worker, len(seg.Payload))
	b.cmds = append(b.cmds, command{
		kind: cmdSegment, f: f, pkt: pkt, ts: ts, side: side,
		seq: seg.Seq, ack: seg.Ack, flags: seg.Flags, window: seg.Window,
		off: uint32(len(b.data)), n: uint32(len(seg.Payload)),
		plen: uint32(min(max(seg.PayloadLen, 0), math.MaxUint32)),
	})
	b.data = append(b.data, seg.Payload...)
	p.pushed()
}

// flowEnder is the reader as the Ender of its connection table.
type flowEnder parallel

// EndConn implements reassembly.Ender: it tells f's worker to end it.
func (e *flowEnder) EndConn(f *flow, reason reassembly.CloseReason, pkt uint64, ts time.Time) {
	p := (*parallel)(e)
	b := p.batch(f.worker, 0)
	b.cmds = append(b.cmds, command{kind: cmdEnd, f: f, reason: reason, pkt: pkt, ts: ts, off: uint32(len(b.data))})
	p.pushed()
}
