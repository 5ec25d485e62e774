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
	"unsafe"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/membudget"
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
	// roundKeep bounds the buffer capacity one round keeps for reuse over
	// all its batches: without it, a round of n batches could keep n
	// buffers each grown by a round whose data went mostly to that worker.
	// A round's batches start at twice their even share (2 × its data
	// size in all), which the allocator rounds up to its size classes (up
	// to a quarter more); a bound without that room dropped one of them
	// at every reset.
	roundKeep = 2*roundData + roundData/2
	// partSize is the output after which a worker hands what it rendered
	// to the merger, between records if need be.
	partSize = 256 << 10
	// partsPerWorker is how many parts of output each worker has: when all
	// but the one it renders into await the merger, it waits. A worker's
	// output not yet written is so bounded by partsPerWorker × partSize
	// (plus one record), whatever the input and the number of workers.
	partsPerWorker = 4
	// keepPart is the largest part buffer kept for reuse (2 × the part
	// size).
	keepPart = 2 * partSize
)

// keepFor returns the payload buffer capacity a round of roundData bytes
// keeps (roundKeep for roundData).
func keepFor(roundData int) int { return 2*roundData + roundData/2 }

// queueBytes is the most memory one worker's share of the queues between
// the reader, the workers and the merger holds at full size: its rounds'
// payload buffers and commands, and its parts of output.
const queueBytes = roundsPerWorker*(roundKeep+roundCmds*int64(unsafe.Sizeof(command{}))) +
	partsPerWorker*keepPart

// Smallest queue sizes a small memory budget can scale them down to.
const (
	minRoundCmds = 128
	minRoundData = 16 << 10
	minPartSize  = 8 << 10
)

// queueSizes are the sizes of the queues of one RunParallel call: the
// constants above, scaled down when a quarter of the memory budget could
// not hold them for every worker.
type queueSizes struct {
	roundCmds, roundData, partSize int
}

// sizeQueues returns the queue sizes for workers workers within a memory
// budget of memory bytes (0: none), and the bytes they hold at most.
func sizeQueues(workers int, memory int64) (queueSizes, int64) {
	q := queueSizes{roundCmds: roundCmds, roundData: roundData, partSize: partSize}
	if memory > 0 {
		if share := memory / 4 / int64(workers); share < queueBytes {
			scale := func(n, least int) int { return max(least, int(int64(n)*share/queueBytes)) }
			q = queueSizes{scale(roundCmds, minRoundCmds), scale(roundData, minRoundData), scale(partSize, minPartSize)}
		}
	}
	per := roundsPerWorker*(int64(keepFor(q.roundData))+int64(q.roundCmds)*int64(unsafe.Sizeof(command{}))) +
		partsPerWorker*2*int64(q.partSize)
	return q, int64(workers) * per
}

// SinkFactory makes the output stage of one worker of RunParallel: a sink
// whose output goes to w, and flush, which writes anything the sink buffers
// to w. It is called once per worker, sequentially, before any packet is
// read. The sinks of different workers run concurrently, so they must not
// share mutable state.
type SinkFactory func(w io.Writer) (sink dissect.Sink, flush func() error)

// MemoryUser is a sink that keeps data between records and charges it to
// the run's memory budget: Run and RunParallel give it an account of its
// own (nil without a budget) before the first record.
type MemoryUser interface {
	UseMemory(a *membudget.Account)
}

// giveMemory hands sink an account of b when it is a MemoryUser.
func giveMemory(sink dissect.Sink, b *membudget.Budget) {
	if u, ok := sink.(MemoryUser); ok {
		u.UseMemory(b.Account())
	}
}

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
		return runSingle(src, newSink, opts, out, staller)
	}
	q, qBytes := sizeQueues(workers, opts.Memory)
	if opts.Memory > 0 && 4*qBytes > opts.Memory {
		// Even at their smallest, the queues of so many workers would take
		// more than a quarter of the budget: use fewer.
		workers = max(1, int(opts.Memory/4/(qBytes/int64(workers))))
		if workers == 1 {
			return runSingle(src, newSink, opts, out, staller)
		}
		q, qBytes = sizeQueues(workers, opts.Memory)
	}
	mem := withBudget(&opts)
	p := newParallel(workers, newSink, opts, q)
	if staller != nil {
		staller.OnStall(p.flushOut)
	}
	if mem != nil {
		// The queues between the reader, the workers and the merger are
		// sized once: their bytes are taken from the budget up front.
		mem.Reserve(qBytes)
	}
	st, err := p.run(src, out)
	st.Memory = memStats(mem)
	return st, err
}

// runSingle is RunParallel with one worker: Run, with the output put in
// packet order across connections (see order.go).
func runSingle(src PacketSource, newSink SinkFactory, opts Options, out io.Writer, staller Staller) (Stats, error) {
	o := newOrderedOut(out, opts.Memory, opts.FlushEach)
	sink, flush := newSink(o)
	e := New(&orderSink{next: sink, out: o}, opts)
	giveMemory(sink, e.mem)
	if staller != nil {
		staller.OnStall(func() {
			// Holes waiting for data captured out of order: the
			// data would have come by now.
			e.asm.Stalled(e.rd.last, e.rd.stats.Last)
			if flush() == nil && o.ord.flush() == nil {
				_ = o.writeOut()
			}
		})
	}
	st, err := e.run(src, func(ts time.Time) error {
		wm, ok := watermark(e.dis, e.asm)
		return o.step(ts, wm, ok)
	})
	ferr := o.ord.flush()
	if ferr == nil {
		ferr = flush()
	}
	if ferr == nil {
		ferr = o.writeOut()
	}
	if ferr != nil && err == nil {
		err = fmt.Errorf("writing output: %w", ferr)
	}
	return st, err
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
	wscale uint8
	flags  uint8
	kind   cmdKind
	reason reassembly.CloseReason // cmdEnd
	side   reassembly.Side        // cmdSegment: the side that sent it
	// group marks the first command of a TCP packet, or of the end of
	// the input: the merger's orderer steps before it (order.go).
	group bool
}

// batch is one worker's share of a round.
type batch struct {
	cmds []command
	data []byte // payloads of the segments
}

// part is a piece of one worker's rendered output on its way to the merger.
// A worker's parts, in the order it sends them, hold its output in command
// order: ends[i] is where the output of the i-th command that finished in
// this part ends in out; bytes after the last end belong to the next
// command, whose output continues in the next part. wms[i] is the worker's
// watermark after that command (noMark: none), and tags say where each
// record's output ends and to which packet it belongs (order.go).
type part struct {
	out  []byte
	ends []int
	wms  []uint64
	tags []outTag
}

// outTag marks the end of one record's output in a part, or with open
// the end of a portion of it that goes on in the next part (a large
// payload formatted in pieces).
type outTag struct {
	end  int
	pkt  uint64
	open bool
}

// reset empties the part for reuse.
func (pt *part) reset() {
	pt.out, pt.ends, pt.wms, pt.tags = pt.out[:0], pt.ends[:0], pt.wms[:0], pt.tags[:0]
}

// round is a run of consecutive commands spread over the workers.
type round struct {
	batches []batch
	route   []uint8 // the worker of each command, in order
	data    int     // payload bytes in all batches
	keep    int     // payload buffer bytes kept for reuse (see reset)
	// spare are payload buffers kept for reuse that no batch holds: a
	// batch that needs one takes it, whichever worker had it before.
	spare [][]byte
	flush bool // the merger flushes its output after this round
	wg    sync.WaitGroup
	// seq numbers the round (from 1); prev[w] is the seq of the last
	// earlier round that gave worker w commands (0: none). See
	// worker.waitEarlier.
	seq  uint32
	prev []uint32
}

// parallel is the state of one RunParallel call.
type parallel struct {
	opts    Options
	q       queueSizes
	workers []*worker
	free    chan *round
	work    []chan *round
	merge   chan *round

	mu   sync.Mutex
	err  error         // first error of a worker or the merger
	stop atomic.Bool   // set on the first error
	quit chan struct{} // closed on the first error

	// Waits for earlier commands (worker.waitEarlier): waiters counts the
	// workers waiting, on a cache line of its own since every worker reads
	// it after every command; cond (on mu) wakes them.
	_       [64]byte
	waiters atomic.Int32
	_       [60]byte
	cond    *sync.Cond
	// seq is the seq of the last round dispatched; lastRound[w] that of
	// the last round that gave worker w commands (reader state).
	seq       uint32
	lastRound []uint32

	// Reader state.
	rd    reader
	table *reassembly.Table[flow]
	cur   *round
	group bool // the next command starts a group (command.group)
}

// worker owns the connections hashed to it.
type worker struct {
	id    int
	p     *parallel
	asm   *reassembly.Assembler
	dis   *dissect.Dissector
	count countSink
	flush func() error
	out   memWriter

	cur   *part      // the part being rendered into (its out is in out.b)
	parts chan *part // filled parts, to the merger, in order
	free  chan *part // parts the merger is done with

	// r is the round whose batch the worker processes and i the index of
	// the command in hand; progress is what others may know of it (see
	// publish).
	r        *round
	i        int
	progress atomic.Uint64
}

// countSink counts the records passed on to the worker's sink and hands
// the worker's output to the merger when it grows past partSize, so that a
// packet rendering to megabytes is not held whole.
type countSink struct {
	next dissect.Sink
	n    uint64
	w    *worker
}

// WholePayload implements dissect.PreviewPolicy for the worker's sink.
func (c *countSink) WholePayload(cn *dissect.Conn) bool { return wholePayload(c.next, cn) }

// Emit implements dissect.Sink.
func (c *countSink) Emit(r *dissect.Record) error {
	c.n++
	w := c.w
	w.out.pkt, w.out.start = r.Packet, len(w.out.b)
	err := c.next.Emit(r)
	if len(w.out.b) > w.out.start {
		w.cur.tags = append(w.cur.tags, outTag{end: len(w.out.b), pkt: r.Packet})
	}
	if err == nil && len(w.out.b) >= w.p.q.partSize {
		if err = w.flush(); err == nil {
			w.sendPart()
		}
	}
	return err
}

// sendPart hands the current part to the merger and takes a free one,
// waiting for the merger when all are in use: this is the back-pressure
// that bounds the output awaiting the merger.
func (w *worker) sendPart() {
	if w.p.opts.NoOutput {
		// The merger takes no parts: output here broke the promise.
		if len(w.out.b) > 0 {
			w.p.fail(errWroteOutput)
			w.out.b = w.out.b[:0]
		}
		return
	}
	if w.r != nil {
		// A worker waiting for earlier commands may be waiting for those
		// this one did before it blocks here.
		w.publish(w.r.seq, uint32(w.i))
	}
	pt := w.cur
	pt.out = w.out.b
	w.out.b = nil
	select {
	case w.parts <- pt:
	case <-w.p.quit:
		pt.reset()
		w.out.b = pt.out
		return
	}
	select {
	case pt = <-w.free:
	case <-w.p.quit:
		pt = &part{}
	}
	w.cur = pt
	pt.reset()
	w.out.b = pt.out
}

// memWriter appends what is written to a byte slice. It implements
// render.Appender, so a renderer formats records straight into it, without
// a buffer of its own.
type memWriter struct {
	b []byte
	// For Spill: the worker, the packet of the record being rendered and
	// where its output not yet tagged starts in b.
	w     *worker
	pkt   uint64
	start int
}

// PartSize implements render.PartSizer: the size from which the worker
// hands its output to the merger.
func (m *memWriter) PartSize() int { return m.w.p.q.partSize }

// Spill implements render.Spiller: once a part's worth of a large record
// is formatted, it goes to the merger (tagged as a portion of the record)
// instead of growing the buffer to the whole record.
func (m *memWriter) Spill() error {
	w := m.w
	if len(m.b) < w.p.q.partSize {
		return nil
	}
	if len(m.b) > m.start {
		w.cur.tags = append(w.cur.tags, outTag{end: len(m.b), pkt: m.pkt, open: true})
	}
	w.sendPart()
	m.start = len(m.b)
	return nil
}

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
func newParallel(n int, newSink SinkFactory, opts Options, q queueSizes) *parallel {
	cfg := opts.Reassembly
	if cfg.MaxBufferedTotal <= 0 {
		cfg.MaxBufferedTotal = reassembly.DefaultMaxBufferedTotal
	}
	cfg.MaxBufferedTotal = max(cfg.MaxBufferedTotal/int64(n), 1)
	p := &parallel{opts: opts, q: q, quit: make(chan struct{}), lastRound: make([]uint32, n)}
	p.cond = sync.NewCond(&p.mu)
	p.table = reassembly.NewTable(opts.Reassembly, (*flowEnder)(p))
	nr := roundsPerWorker * n
	p.free = make(chan *round, nr)
	p.merge = make(chan *round, nr)
	for range nr {
		p.free <- newRound(n, q)
	}
	for i := range n {
		w := &worker{id: i, p: p}
		w.parts = make(chan *part, partsPerWorker)
		w.free = make(chan *part, partsPerWorker)
		for range partsPerWorker - 1 {
			w.free <- &part{}
		}
		w.cur = &part{}
		w.out.w = w
		sink, flush := newSink(&w.out)
		giveMemory(sink, opts.Dissect.Memory)
		w.count.next = sink
		w.count.w = w
		w.flush = flush
		wopts := opts
		wopts.Reassembly = cfg
		wopts.Dissect.WaitEarlier = w.waitEarlier
		w.dis, w.asm = newStages(&w.count, wopts)
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
		close(p.quit)
		p.cond.Broadcast()
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

	p.rd.epoch, p.rd.datagram = p.opts.Epoch, p.opts.Datagram
	readErr, _ := p.rd.loop(src, p.failed, func(pk *source.Packet) error {
		p.group = true
		p.segment(&p.rd.seg, pk.Number, pk.Time)
		return nil
	})
	if !p.failed() {
		p.group = true
		p.table.EndAll(p.rd.last, p.rd.stats.Last)
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

	st := p.rd.statsNow()
	for _, w := range p.workers {
		st.Reassembly.Add(w.asm.Stats())
		st.Dissect.Add(w.dis.Stats())
	}
	if p.err != nil {
		return st, p.err
	}
	return st, readErr
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
		b.cmds = slices.Grow(b.cmds, max(len(b.cmds), 2*p.q.roundCmds/len(r.batches)))
	}
	if len(b.data)+n > cap(b.data) {
		if cap(b.data) == 0 {
			b.data = r.takeSpare(n)
		}
		if len(b.data)+n > cap(b.data) {
			// Doubling stops at what a round can hold (its data size and
			// the packet that ends it), which the capacity rounds keep
			// (reset) holds: doubled past it, the buffer of a batch that
			// takes whole rounds (one busy connection) was dropped and
			// allocated anew every round.
			grow := max(len(b.data), 2*p.q.roundData/len(r.batches), n)
			if most := p.q.roundData + n - len(b.data); grow > most {
				grow = max(most, n)
			}
			b.data = slices.Grow(b.data, grow)
		}
	}
	r.route = append(r.route, w)
	r.data += n
	return b
}

// takeGroup returns whether the command being made starts a group.
func (p *parallel) takeGroup() bool {
	g := p.group
	p.group = false
	return g
}

// pushed hands the current round over when it is full.
func (p *parallel) pushed() {
	if r := p.cur; len(r.route) >= p.q.roundCmds || r.data >= p.q.roundData {
		p.dispatch()
	}
}

// dispatch hands the current round to its workers and the merger.
func (p *parallel) dispatch() {
	r := p.cur
	p.cur = nil
	p.seq++
	r.seq = p.seq
	copy(r.prev, p.lastRound) // before any worker has the round
	for i := range r.batches {
		if len(r.batches[i].cmds) > 0 {
			p.lastRound[i] = r.seq
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
		w.r, w.i = r, 0
		if !p.failed() {
			w.process(p, b)
		}
		w.publish(r.seq, batchDone)
		w.r = nil
		r.wg.Done()
	}
}

// process runs a batch's commands, rendering their output into parts for
// the merger; the last part is sent when the batch is done.
func (w *worker) process(p *parallel, b *batch) {
	var seg netpkt.Segment
	for i := range b.cmds {
		c := &b.cmds[i]
		w.i = i
		before := w.count.n
		f := c.f
		switch c.kind {
		case cmdSegment:
			seg.Seq, seg.Ack, seg.Flags, seg.Window, seg.WScale = c.seq, c.ack, c.flags, c.window, c.wscale
			seg.Payload = b.data[c.off : c.off+c.n : c.off+c.n]
			seg.PayloadLen = int(c.plen)
			if f.ws == nil {
				// A flow's first command is the segment that created it,
				// sent by a; only opening a connection needs addresses.
				seg.Src, seg.SrcPort = f.a.Addr(), f.a.Port()
				seg.Dst, seg.DstPort = f.b.Addr(), f.b.Port()
				seg.Tunnel, seg.HasTunnelID, seg.TunnelID = f.tunnel, f.hasTunnelID, f.tunnelID
				f.ws = w.asm.Open(&seg, c.side, c.pkt, c.ts, f.stream, f.evicted)
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
		if p.opts.NoOutput {
			// Nothing to put in order: only progress, for waitEarlier.
			if len(w.out.b) > 0 {
				p.fail(errWroteOutput)
				break
			}
			if p.waiters.Load() > 0 {
				w.publish(w.r.seq, uint32(i+1))
			}
			continue
		}
		w.cur.ends = append(w.cur.ends, len(w.out.b))
		wm := uint64(noMark)
		if pkt, ok := watermark(w.dis, w.asm); ok {
			wm = pkt
		}
		w.cur.wms = append(w.cur.wms, wm)
		if p.waiters.Load() > 0 {
			w.publish(w.r.seq, uint32(i+1))
		}
	}
	w.sendPart()
}

// errWroteOutput stops a run whose sinks wrote output under
// Options.NoOutput.
var errWroteOutput = errors.New("engine: a sink wrote output under Options.NoOutput")

// batchDone is the count of commands done published for a finished batch.
const batchDone = math.MaxUint32

// publish makes known that the worker did the first done commands of its
// batch of round seq, and wakes the workers waiting for earlier commands.
// Progress is published after every command while a worker waits, and
// always before a worker blocks (in sendPart, in waitEarlier, at the end
// of a batch), so a waiting worker never waits for one that is blocked
// with progress it did not publish.
func (w *worker) publish(seq, done uint32) {
	w.progress.Store(uint64(seq)<<32 | uint64(done))
	if p := w.p; p.waiters.Load() > 0 {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// waitEarlier returns once every other worker did all its commands that
// come before the one in hand in the single-threaded order (or the run
// failed): a TLS 1.2 connection resuming a session remembered by another
// connection then sees what Run would have (dissect.Options.WaitEarlier).
// It cannot deadlock with the merger's back-pressure: the worker hands its
// output so far to the merger before it waits, so the merger can write
// every command before this one, and any worker blocked on the merger has
// published its progress first (see publish). The earliest waiting command
// therefore always has its earlier commands done or in the hands of
// running workers.
func (w *worker) waitEarlier() {
	p, r := w.p, w.r
	if r == nil || p.failed() {
		return
	}
	// need[o] is how many of worker o's commands of this round come before
	// this one; the i-th command of a batch is the worker's i-th in route.
	need := make([]uint32, len(p.workers))
	mine := 0
	for _, o := range r.route {
		if int(o) != w.id {
			need[o]++
		} else if mine++; mine > w.i {
			break
		}
	}
	if len(w.out.b) > 0 || len(w.cur.ends) > 0 {
		if err := w.flush(); err != nil {
			p.fail(fmt.Errorf("writing output: %w", err))
			return
		}
		w.sendPart()
	}
	w.publish(r.seq, uint32(w.i))
	p.waiters.Add(1)
	p.mu.Lock()
	for !p.stop.Load() && !p.earlierDone(w.id, r, need) {
		p.cond.Wait()
	}
	p.mu.Unlock()
	p.waiters.Add(-1)
}

// earlierDone reports whether every worker but self did its commands of
// rounds before r and its first need[o] commands of r.
func (p *parallel) earlierDone(self int, r *round, need []uint32) bool {
	for o, ow := range p.workers {
		var want uint64
		switch {
		case o == self:
			continue
		case need[o] > 0:
			want = uint64(r.seq)<<32 | uint64(need[o])
		case r.prev[o] > 0:
			want = uint64(r.prev[o])<<32 | batchDone
		default:
			continue
		}
		if ow.progress.Load() < want {
			return false
		}
	}
	return true
}

// mergeRounds writes the rounds' output to out in command order, put in
// packet order across connections by an orderer, and recycles the rounds.
func (p *parallel) mergeRounds(out io.Writer) {
	bw := bufio.NewWriterSize(out, 256<<10)
	m := merger{w: bw, p: p, at: make([]mergeAt, len(p.workers)), wm: make([]uint64, len(p.workers))}
	for i := range m.wm {
		m.wm[i] = noMark
	}
	m.ord = newOrderer(m.write, p.opts.Memory)
	if p.opts.NoOutput {
		// No output to put in order: rounds only need recycling.
		for r := range p.merge {
			r.wg.Wait()
			r.reset()
			p.free <- r
		}
		return
	}
	for r := range p.merge {
		if !p.failed() {
			err := m.writeRound(r)
			if err == nil && r.flush {
				if err = m.ord.flush(); err == nil {
					err = bw.Flush()
				}
			}
			if err != nil {
				p.fail(fmt.Errorf("writing output: %w", err))
			}
		}
		r.wg.Wait()
		r.reset()
		p.free <- r
	}
	if !p.failed() {
		err := m.ord.flush()
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			p.fail(fmt.Errorf("writing output: %w", err))
		}
	}
}

// merger is the state of mergeRounds: where it stands in each worker's
// parts.
type merger struct {
	w  io.Writer
	p  *parallel
	at []mergeAt // by worker
	// run is the part whose bytes run[runFrom:runTo] are written next.
	run            *part
	runFrom, runTo int

	ord     *orderer
	cont    bool      // the next output continues a record in portions
	wm      []uint64  // each worker's watermark after its latest command
	started bool      // a group was seen
	groupTS time.Time // the time of the current group's packet
}

// mergeAt is where the merger stands in one worker's output: in part pt,
// the next command's output starts at from and ends at pt.ends[i]; tag is
// the next record tag of pt, and cmd the worker's next command in the
// round.
type mergeAt struct {
	pt   *part
	i    int
	from int
	tag  int
	cmd  int
}

// writeRound writes r's output in command order, taking each worker's
// parts as they come, each run of consecutive output in one piece.
func (m *merger) writeRound(r *round) error {
	for i := range m.at {
		m.at[i].cmd = 0
	}
	for _, wk := range r.route {
		a := &m.at[wk]
		c := &r.batches[wk].cmds[a.cmd]
		a.cmd++
		m.cont = false
		if c.group {
			if m.started {
				if err := m.step(); err != nil {
					return err
				}
			}
			m.started, m.groupTS = true, c.ts
		}
		for {
			if a.pt == nil {
				select {
				case a.pt = <-m.p.workers[wk].parts:
				case <-m.p.quit:
					return nil
				}
				a.i, a.from, a.tag = 0, 0, 0
			}
			pt := a.pt
			if a.i < len(pt.ends) {
				end := pt.ends[a.i]
				m.wm[wk] = pt.wms[a.i]
				a.i++
				if err := m.piece(a, end, c.pkt); err != nil {
					return err
				}
				if a.i == len(pt.ends) && a.from == len(pt.out) {
					if err := m.done(wk, pt); err != nil {
						return err
					}
					a.pt = nil
				}
				break
			}
			// The command's output goes on in the worker's next part.
			if err := m.piece(a, len(pt.out), c.pkt); err != nil {
				return err
			}
			if err := m.done(wk, pt); err != nil {
				return err
			}
			a.pt = nil
		}
	}
	return m.flushRun()
}

// step ends the current group: the orderer learns the least watermark of
// the workers.
func (m *merger) step() error {
	wm := slices.Min(m.wm)
	return m.ord.step(m.groupTS, wm, wm != noMark)
}

// piece passes on a.pt.out[a.from:to], output of a command of packet pkt,
// record by record when the orderer may hold some, and moves a.from to to.
func (m *merger) piece(a *mergeAt, to int, pkt uint64) error {
	pt := a.pt
	if !m.ord.wmOK {
		// No search anywhere: everything goes out in turn.
		for a.tag < len(pt.tags) && pt.tags[a.tag].end <= to {
			a.tag++
		}
		err := m.add(pt, a.from, to)
		a.from = to
		return err
	}
	for a.from < to {
		end, rp, open := to, pkt, false
		if a.tag < len(pt.tags) && pt.tags[a.tag].end <= to {
			t := pt.tags[a.tag]
			end, rp, open = t.end, t.pkt, t.open
			a.tag++
		}
		if !m.cont {
			m.ord.begin(rp)
		}
		m.cont = open
		var err error
		if !m.ord.holding() {
			err = m.add(pt, a.from, end)
		} else if err = m.flushRun(); err == nil {
			err = m.ord.part(pt.out[a.from:end])
		}
		if err != nil {
			return err
		}
		a.from = end
	}
	return nil
}

// write writes b after the run of output collected (the orderer's output).
func (m *merger) write(b []byte) error {
	if err := m.flushRun(); err != nil {
		return err
	}
	_, err := m.w.Write(b)
	return err
}

// add adds pt.out[from:to] to the output, extending the run of output
// written next when it continues it.
func (m *merger) add(pt *part, from, to int) error {
	if to <= from {
		return nil
	}
	if m.run == pt && m.runTo == from {
		m.runTo = to
		return nil
	}
	if err := m.flushRun(); err != nil {
		return err
	}
	m.run, m.runFrom, m.runTo = pt, from, to
	return nil
}

// flushRun writes the run of output collected.
func (m *merger) flushRun() error {
	pt := m.run
	if pt == nil {
		return nil
	}
	m.run = nil
	_, err := m.w.Write(pt.out[m.runFrom:m.runTo])
	return err
}

// done gives a part the merger has written back to worker wk, dropping a
// very large buffer.
func (m *merger) done(wk uint8, pt *part) error {
	if m.run == pt {
		if err := m.flushRun(); err != nil {
			return err
		}
	}
	if cap(pt.out) > 2*m.p.q.partSize {
		pt.out = nil
	}
	pt.reset()
	select {
	case m.p.workers[wk].free <- pt:
	default: // after an error a worker may have made parts of its own
	}
	return nil
}

// newRound returns an empty round for n workers. The batches get their
// buffers when first used (see push).
func newRound(n int, q queueSizes) *round {
	return &round{batches: make([]batch, n), route: make([]uint8, 0, q.roundCmds+64), keep: keepFor(q.roundData), prev: make([]uint32, n)}
}

// takeSpare removes the largest spare payload buffer of r with room for n
// bytes from the spares and returns it empty; nil when there is none.
func (r *round) takeSpare(n int) []byte {
	best := -1
	for i, sp := range r.spare {
		if cap(sp) >= n && (best < 0 || cap(sp) > cap(r.spare[best])) {
			best = i
		}
	}
	if best < 0 {
		return nil
	}
	out := r.spare[best]
	last := len(r.spare) - 1
	r.spare[best], r.spare[last] = r.spare[last], nil
	r.spare = r.spare[:last]
	return out[:0]
}

// reset empties a round for reuse, dropping very large buffers and, beyond
// roundKeep bytes of payload buffers in all, the rest. The buffers kept
// become spare, whichever batch had them: work moves between workers from
// one use of a round to the next (with many workers and a small --memory a
// round may carry a packet or two), and a batch that needs a buffer takes
// a spare one instead of allocating it; buffers tied to their batch made
// ~30 MB of garbage a run with 8 workers under a 4 MiB --memory.
func (r *round) reset() {
	r.route = r.route[:0]
	r.data = 0
	r.flush = false
	// The buffers this round used come first (they are sized to the
	// traffic and warm), then those it left spare.
	old := len(r.spare)
	kept := 0
	for i := range r.batches {
		b := &r.batches[i]
		// The old commands are not cleared: the flows they point to stay
		// reachable until overwritten, which bounds what they hold to the
		// rounds in flight, and clearing them cost ~1% of a run.
		b.cmds = b.cmds[:0]
		if c := cap(b.data); c > 0 && c <= keepBuf && kept+c <= r.keep {
			kept += c
			r.spare = append(r.spare, b.data[:0])
		}
		b.data = nil
	}
	spare := r.spare[:0]
	for _, sp := range r.spare[:old] {
		if c := cap(sp); kept+c <= r.keep {
			kept += c
			spare = append(spare, sp)
		}
	}
	spare = append(spare, r.spare[old:]...)
	clear(r.spare[len(spare):])
	r.spare = spare
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
	a, b    netip.AddrPort // the first packet's source and destination
	stream  uint64
	evicted bool          // continues an evicted connection (reassembly.Entry.Evicted)
	tunnel  netpkt.Tunnel // the first packet's outermost encapsulation
	// hasTunnelID and tunnelID are the encapsulation's identifier.
	hasTunnelID bool
	tunnelID    uint32
	_           [64]byte

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
		f.evicted = f.Evicted()
		f.tunnel, f.hasTunnelID, f.tunnelID = seg.Tunnel, seg.HasTunnelID, seg.TunnelID
		f.worker = uint8(f.Hash() % uint64(len(p.workers)))
	}
	f.Learn(side, seg)
	b := p.batch(f.worker, len(seg.Payload))
	b.cmds = append(b.cmds, command{
		kind: cmdSegment, f: f, pkt: pkt, ts: ts, side: side, group: p.takeGroup(),
		seq: seg.Seq, ack: seg.Ack, flags: seg.Flags, window: seg.Window, wscale: seg.WScale,
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
	b.cmds = append(b.cmds, command{kind: cmdEnd, f: f, reason: reason, pkt: pkt, ts: ts, off: uint32(len(b.data)), group: p.takeGroup()})
	p.pushed()
}
