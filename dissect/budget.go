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
	opts, mem := w.opts, w.mem
	if w.st != stPayload && w.hn == 0 {
		// Between frames: in frame mode the payload buffer is reset at
		// the next frame, in message mode when no message is in progress.
		if (!opts.Messages || !w.inMsg) && w.idle(cap(w.msgBuf)) {
			w.msgBuf = nil
		}
		if w.idle(cap(w.ctl)) {
			w.ctl = nil
		}
		if w.st != stSearch && w.idle(cap(w.search)) {
			w.search, w.marks = nil, nil
		}
	}
	if w.idle(cap(w.scratch)) {
		w.scratch = nil
	}
	held := int64(cap(w.msgBuf)+cap(w.ctl))*int64(opts.PayloadCost) + int64(cap(w.search)+cap(w.scratch))
	if delta := held - w.held; delta != 0 {
		mem.Force(delta)
		w.held = held
	}
}

// idle reports whether an unused buffer of capacity n should be freed.
func (w *wsDir) idle(n int) bool {
	return n > freeIdleAlways || (n > freeIdleMemTight && tight(w.mem))
}

// room returns how many of the k bytes about to be appended to buf may be,
// within the budget: all when they fit in its capacity or the budget can pay
// for growing it, else what fits. What is refused marks the frame (and the
// message) truncated, with a memory-budget anomaly once per frame.
func (w *wsDir) room(buf []byte, k int64) int64 {
	free := int64(cap(buf) - len(buf))
	if k <= free || int64(len(buf))+k <= smallPayload {
		return k
	}
	mem := w.mem
	if mem == nil {
		return k
	}
	// append grows a slice to about twice its size.
	if grow := max(int64(len(buf))+k, 2*int64(cap(buf))) - int64(cap(buf)); grow*int64(w.opts.PayloadCost) <= mem.Avail() {
		return k
	}
	w.f.Truncated = true
	if !w.isCtl {
		w.msg.Truncated = true
	}
	w.budgetCut(int64(len(buf))+free, fmt.Sprintf("payload cut at %d bytes: the memory budget (--memory) is exhausted; the rest was not retained", int64(len(buf))+free))
	return free
}

// inflateRoom returns how much output one inflation call may append to the
// message buffer within the budget.
func (w *wsDir) inflateRoom() int64 {
	mem := w.mem
	if mem == nil {
		return 1<<63 - 1
	}
	free := int64(cap(w.msgBuf) - len(w.msgBuf))
	// Growing by append may double the buffer: count half of what is
	// available as usable output.
	return free + mem.Avail()/2/int64(w.opts.PayloadCost)
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
