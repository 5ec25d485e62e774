package dissect

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/reassembly"
)

// Memory budget (Options.Memory): each connection's state is charged when
// it is set up, and each direction decoder's buffers (the partial frame or
// message, the control frame, the frame-boundary search) by the memory they
// occupy, settled after every delivery. When the budget is exhausted, a
// buffer that would have to grow is not grown: the payload beyond it is
// dropped (the frame and message are marked truncated), the oldest search
// bytes are skipped, and a memory-budget anomaly says what was dropped.
// Large buffers no longer in use are freed instead of kept while the budget
// is more than half used.

// stateCost is what a connection's state is charged: the connState and,
// once it decodes frames, two direction decoders.
var stateCost = int64(unsafe.Sizeof(connState{}) + 2*unsafe.Sizeof(wsDir{}))

// Sizes above which idle buffers are freed: always, and while the budget is
// more than half used.
const (
	freeIdleAlways   = 1 << 20
	freeIdleMemTight = 16 << 10
)

// smallPayload is retained whatever the budget says: a connection's small
// messages are always shown (how many connections there are is bounded by
// the connection table, which the budget also trims).
const smallPayload = 4 << 10

// tight reports whether the budget of account mem is more than half used.
func tight(mem *membudget.Account) bool {
	b := mem.Budget()
	return b != nil && b.Limit() > 0 && 2*b.Used() > b.Limit()
}

// settle charges the connection's buffers to the budget after a delivery,
// freeing large ones that are idle.
func (c *connState) settle() {
	http := int64(cap(c.http[0].buf) + cap(c.http[1].buf))
	// bodies kept for http records (Options.KeepHTTP) until they go out
	for _, r := range c.reqs {
		if r.ex != nil {
			http += int64(cap(r.ex.RequestBody))
		}
	}
	for s := range c.http {
		if ex := c.http[s].collect; ex != nil && !c.http[s].collectReq {
			http += int64(cap(ex.RequestBody) + cap(ex.ResponseBody))
		}
	}
	if d := http - c.httpHeld; d != 0 {
		c.d.mem.Force(d)
		c.httpHeld = http
	}
	for i, w := range c.ws {
		if w != nil && (i == 0 || w != c.ws[0]) {
			w.settle()
		}
	}
}

// release gives back everything the connection is charged.
func (c *connState) release() {
	c.d.mem.Give(c.httpHeld + stateCost)
	c.httpHeld = 0
	for i, w := range c.ws {
		if w != nil && (i == 0 || w != c.ws[0]) {
			c.d.mem.Give(w.held)
			w.held = 0
		}
	}
}

// settle charges the direction's buffers to the budget, first freeing
// large buffers that hold nothing needed.
func (w *wsDir) settle() {
	opts := w.opts
	// Idle buffers larger than this are freed.
	limit := freeIdleAlways
	if tight(w.mem) {
		limit = freeIdleMemTight
	}
	if w.infl == nil && max(cap(w.msgBuf), cap(w.ctl), cap(w.search), cap(w.scratch)) <= limit {
		// Nothing to free and no inflater to give back: the usual case
		// costs the charge alone.
		w.charge()
		return
	}
	if w.st != stPayload && w.hn == 0 {
		// Between frames: in frame mode the payload buffer is reset at
		// the next frame, in message mode when no message is in progress.
		if (!opts.Messages || !w.inMsg) && cap(w.msgBuf) > limit {
			w.msgBuf = nil
		}
		if cap(w.ctl) > limit {
			w.ctl = nil
		}
		if w.st != stSearch && cap(w.search) > limit {
			w.search, w.marks = nil, nil
		}
	}
	if cap(w.scratch) > limit {
		w.scratch = nil
	}
	if w.infl != nil && !w.inMsg && w.st != stPayload && !w.ctxLost && w.noContextTakeover() {
		// Between messages of a sender that resets its window after each
		// (no_context_takeover), the inflater keeps nothing the next
		// message needs: an idle connection need not hold its window
		// and tables (~50 KB a direction). The next compressed message
		// takes one from the pool again.
		w.dropInflater()
	}
	w.charge()
}

// charge brings what the direction is charged to what its buffers occupy
// now (retained payload counted PayloadCost times).
func (w *wsDir) charge() {
	held := int64(cap(w.msgBuf)+cap(w.ctl))*int64(w.opts.PayloadCost) + int64(cap(w.search)+cap(w.scratch))
	if delta := held - w.held; delta != 0 {
		w.mem.Force(delta)
		w.held = held
	}
}

// room returns how many of the k bytes about to be appended to *buf may be,
// within the budget, and makes room for them: all when they fit in its
// capacity or the budget can pay for growing it, else what fits. What is
// refused marks the frame (and the message) truncated, with a memory-budget
// anomaly once per frame.
//
// The buffer grows here rather than in append: append grows a large slice
// by a quarter at a time, so a 64 MiB payload left about 300 MiB of
// garbage behind (each step copying the last); doubling, up to what the
// buffer can still hold (the end of a frame whose length is known,
// --max-message), allocates the payload's size about twice in all.
func (w *wsDir) room(buf *[]byte, k int64) int64 {
	b := *buf
	free := int64(cap(b) - len(b))
	if k <= free {
		return k
	}
	if w.budgetCutBefore() {
		// Bytes after a cut would make the retained payload something
		// other than its beginning.
		return 0
	}
	mem := w.mem
	need := int64(len(b)) + k
	size := w.growTo(int64(cap(b)), int64(len(b)), need)
	affordable := func(size int64) bool {
		return mem == nil || need <= smallPayload || (size-int64(cap(b)))*int64(w.opts.PayloadCost) <= mem.Avail()
	}
	if !affordable(size) {
		// Growing straight to the frame's end is more than the budget
		// allows: doubling may still be within it.
		size = max(min(2*int64(cap(b)), size), need)
	}
	if affordable(size) {
		if buf == &w.msgBuf {
			*buf = w.bufs.grow(b, size)
		} else {
			*buf = growCap(b, size)
		}
		return k
	}
	w.f.Truncated = true
	if !w.isCtl {
		w.msg.Truncated = true
	}
	w.budgetCut(int64(len(b))+free, fmt.Sprintf("payload cut at %d bytes: the memory budget (--memory) is exhausted; the rest was not retained", int64(len(b))+free))
	return free
}

// growTo returns the capacity a retained-payload buffer of capacity c and
// length n grows to when it must hold need bytes: twice c, or the end of
// the current frame (its length is known) when that is nearer but still a
// quarter more than c (so that a message of many small frames still grows
// geometrically) or when a quarter of it has arrived, and no more than
// --max-message.
func (w *wsDir) growTo(c, n, need int64) int64 {
	size := max(2*c, need, 512)
	limit := w.opts.MaxMessage
	// w.left still counts the bytes being appended.
	if w.left < 1<<62 {
		end := n + int64(w.left)
		switch {
		case end < size && end >= c+c/4:
			size = end
		case min(end, limit) > size && 4*need >= min(end, limit):
			// A quarter of what the buffer will hold has arrived:
			// allocate the rest at once rather than double twice more
			// (a large payload is so copied once less, and its
			// buffer and the one before it peak at 1.25 times it
			// instead of 1.5).
			size = min(end, limit)
		}
	}
	return max(min(size, limit), need)
}

// growCap returns b with a capacity of at least size, its bytes copied.
func growCap(b []byte, size int64) []byte {
	if int64(cap(b)) >= size {
		return b
	}
	nb := make([]byte, len(b), size)
	copy(nb, b)
	return nb
}

// inflateRoom returns how much output one inflation call of in bytes may
// append to the message buffer within the budget.
func (w *wsDir) inflateRoom(in int) int64 {
	w.growForInflate(int64(in))
	mem := w.mem
	if mem == nil {
		return 1<<63 - 1
	}
	free := int64(cap(w.msgBuf) - len(w.msgBuf))
	// Growing by append may double the buffer: count half of what is
	// available as usable output.
	return free + mem.Avail()/2/int64(w.opts.PayloadCost)
}

// growForInflate doubles a large message buffer ahead of an inflation
// call likely to fill it: the inflater appends its output, and append would
// grow the buffer a quarter at a time, copying it each time (a bomb
// inflating to 64 MiB allocated ~300 MiB so). The call's output is
// estimated from the size of the chunk being inflated (in bytes) and the
// message's ratio so far; small buffers are left to append, and growth the
// budget cannot pay for is not made ahead.
func (w *wsDir) growForInflate(in int64) {
	opts := w.opts
	c, n := int64(cap(w.msgBuf)), int64(len(w.msgBuf))
	if c < bigInflate {
		return
	}
	ratio := int64(4)
	if before := int64(w.compIn) - in; before > 0 {
		ratio = max(ratio, int64(w.inflated)/before)
	}
	end := n + min(opts.MaxMessage-n, opts.MaxDecompressed-int64(w.inflated))
	if c-n >= in*ratio || c >= end {
		return
	}
	size := min(max(2*c, n+in*ratio), end)
	if mem := w.mem; mem != nil && (size-c)*int64(opts.PayloadCost) > mem.Avail()/2 {
		return
	}
	w.msgBuf = w.bufs.grow(w.msgBuf, size)
}

// bigInflate is the message buffer size from which growForInflate grows it
// ahead of the inflater.
const bigInflate = 256 << 10

// budgetCutBefore reports whether the budget already cut the payload being
// retained: the current frame's, or (for a data frame) its message's.
func (w *wsDir) budgetCutBefore() bool {
	cut := func(as []Anomaly) bool {
		for i := range as {
			if as[i].ID == AnMemoryBudget {
				return true
			}
		}
		return false
	}
	return cut(w.fan) || (!w.isCtl && w.inMsg && cut(w.man))
}

// budgetCut reports, once per frame, that the budget cut its payload at
// offset off.
func (w *wsDir) budgetCut(off int64, msg string) {
	for i := range w.fan {
		if w.fan[i].ID == AnMemoryBudget {
			return
		}
	}
	w.frameAnomaly(AnMemoryBudget, off, msg)
}

// searchRoom makes room for n more search bytes within the budget: when the
// search buffer would have to grow and the budget cannot pay for it, the
// oldest bytes are skipped instead (reported once per search).
func (w *wsDir) searchRoom(n int, pkt uint64, ts time.Time) {
	mem := w.mem
	free := cap(w.search) - len(w.search)
	if n <= free || mem == nil {
		return
	}
	if grow := max(len(w.search)+n, 2*cap(w.search)) - cap(w.search); int64(grow) <= mem.Avail() {
		return
	}
	drop := min(n-free, len(w.search))
	if drop <= 0 {
		return
	}
	base := w.searchBase()
	w.dropSearch(drop)
	if !w.searchCut {
		w.searchCut = true
		w.s.anomalyRecord(w.side, true, newAnomaly(AnMemoryBudget, int64(base),
			fmt.Sprintf("%d bytes skipped at stream offset %d while looking for a frame boundary: the memory budget (--memory) is exhausted", drop, base)), pkt, ts)
	}
}

// closeAnomaly reports a connection dropped to stay within the budget.
func (c *connState) closeAnomaly(reason reassembly.CloseReason) {
	if reason != reassembly.ClosedMemory || (c.mode != modeWS && c.mode != modeProbe) {
		return
	}
	var pkt uint64
	var ts time.Time
	for _, w := range c.ws {
		if w != nil && w.lastPkt >= pkt {
			pkt, ts = w.lastPkt, w.lastTS
		}
	}
	c.anomalyRecord(c.clientSide, false, newAnomaly(AnMemoryBudget, -1,
		"connection dropped to stay within the memory budget (--memory): it was the least recently active when a new one arrived; its later packets start a new connection"), pkt, ts)
}
