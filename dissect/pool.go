package dissect

import (
	"math/bits"

	"github.com/wsdissect/wsdissect/internal/freelist"
	"github.com/wsdissect/wsdissect/internal/inflate"
	"github.com/wsdissect/wsdissect/internal/membudget"
)

// Limits of what a Dissector keeps from closed connections for reuse, so
// that captures of many connections do not allocate every connection's
// buffers and inflaters anew.
const (
	// maxFreeDirs bounds the recycled direction decoders.
	maxFreeDirs = 128
	// maxFreeInflaters bounds the recycled inflaters per window size.
	maxFreeInflaters = 64
	// maxKeepBuf is the largest buffer a recycled direction decoder keeps.
	maxKeepBuf = 256 << 10
	// maxFreeConns bounds the recycled connection states.
	maxFreeConns = 128
	// maxFreeHTTPBufs bounds the recycled HTTP header buffers, and
	// maxKeepHTTPBuf the capacity of one kept.
	maxFreeHTTPBufs = 256
	maxKeepHTTPBuf  = 16 << 10
)

// Limits of the message buffers a Dissector's directions share (bufPool).
const (
	// keepMsgBuf is the largest message buffer a direction keeps between
	// messages; a larger one goes back to the dissector's bufPool when its
	// message ends.
	keepMsgBuf = 4 << 10
	// maxPoolBufs and maxPoolBytes bound the buffers a bufPool holds.
	maxPoolBufs  = 64
	maxPoolBytes = 8 << 20
)

// bufPool holds the message buffers that directions gave back when their
// message ended, for the next direction whose message outgrows its own.
// Without it each direction kept a buffer the size of the largest message
// it ever sent: on 600 connections of realistic traffic 12 MB of the 15 MB
// live heap, and with the garbage collector's headroom five times that in
// fresh pages. With it a dissector holds about as many large buffers as
// it has large messages in progress at once, warm in the caches. The
// pooled bytes are charged to the dissector's budget account.
type bufPool struct {
	// byClass holds the pooled buffers by capacity class: those of
	// capacity c in byClass[bits.Len(c)].
	byClass [poolClasses][][]byte
	n       int // buffers pooled
	bytes   int64
	mem     *membudget.Account
}

// poolClasses is the number of capacity classes of a bufPool; buffers
// above freeIdleAlways are not pooled.
const poolClasses = 22

// put takes b, whose contents are no longer needed, unless the pool is
// full, b is larger than an idle direction may keep (freeIdleAlways), or
// the budget is more than half used or could not spare four times b.
func (p *bufPool) put(b []byte) {
	c := int64(cap(b))
	if p.n >= maxPoolBufs || p.bytes+c > maxPoolBytes || c > freeIdleAlways ||
		tight(p.mem) || 4*c > p.mem.Avail() {
		return
	}
	k := bits.Len64(uint64(c))
	p.byClass[k] = append(p.byClass[k], b[:0])
	p.n++
	p.bytes += c
	p.mem.Force(c)
}

// grow returns a buffer holding b's bytes with a capacity of at least size:
// a pooled one when one is large enough, else a new one (growCap, as a nil
// pool always does). b goes to the pool when it is larger than a direction
// keeps.
func (p *bufPool) grow(b []byte, size int64) []byte {
	if p == nil {
		return growCap(b, size)
	}
	var nb []byte
	for k := bits.Len64(uint64(size)); k < poolClasses && nb == nil; k++ {
		if s := p.byClass[k]; len(s) > 0 && int64(cap(s[len(s)-1])) >= size {
			nb = p.pop(k)
		}
	}
	if nb == nil {
		return growCap(b, size)
	}
	nb = append(nb, b...)
	if cap(b) > keepMsgBuf {
		p.put(b)
	}
	return nb
}

// take removes a buffer of the largest class pooled from the pool and
// returns it empty; nil when the pool is empty.
func (p *bufPool) take() []byte {
	for k := poolClasses - 1; k >= 0; k-- {
		if len(p.byClass[k]) > 0 {
			return p.pop(k)
		}
	}
	return nil
}

// pop removes the last buffer of class k (there is one) from the pool.
func (p *bufPool) pop(k int) []byte {
	s := p.byClass[k]
	b := s[len(s)-1]
	s[len(s)-1] = nil
	p.byClass[k] = s[:len(s)-1]
	c := int64(cap(b))
	p.n--
	p.bytes -= c
	p.mem.Give(c)
	return b[:0]
}

// dirPool holds the connection states, direction decoders and inflaters of
// closed connections.
type dirPool struct {
	// conns are recycled connection states. Records point into one
	// (Record.Conn) only while the sink handles them; sinks copy what they
	// keep, and the list zeroes a state before handing it out again, so
	// slices a closed connection handed out are never written again.
	conns freelist.List[connState]
	// lazy are the recycled handlers of closed connections.
	lazy freelist.List[lazyConn]
	// httpBufs are the emptied header buffers (httpSide.buf) of closed
	// connections; parsed heads copy what they keep, so nothing else
	// refers to them.
	httpBufs [][]byte
	dirs     []*wsDir
	infl     [16][]*inflate.Inflater // by window bits
}

// newDir returns a direction decoder for session s, reusing the buffers
// of a recycled one when there is one.
func (d *Dissector) newDir(s wsSession, dir Dir) *wsDir {
	n := len(d.pool.dirs)
	if n == 0 {
		return newDecoder(s, dir, 0)
	}
	old := d.pool.dirs[n-1]
	d.pool.dirs[n-1] = nil
	d.pool.dirs = d.pool.dirs[:n-1]
	*old = wsDir{
		s: s, opts: s.options(), conn: s.wsConn(), mem: s.memory(), rec: s.record(), wm: s.watermark(), bufs: s.buffers(), dir: dir, need: 2, maskWant: -1,
		pkts: old.pkts[:0], fan: old.fan[:0], ctl: old.ctl[:0],
		msgBuf: old.msgBuf[:0], man: old.man[:0], scratch: old.scratch[:0],
		search: old.search[:0], marks: old.marks[:0], hbuf: old.hbuf[:0],
		visitFn: old.visitFn, // bound to old, which stays the decoder
	}
	return old
}

// recycle keeps the buffers and inflater of a finished direction decoder.
func (d *Dissector) recycle(w *wsDir) {
	d.searchers.moved()
	w.dropInflater()
	if len(d.pool.dirs) >= maxFreeDirs {
		return
	}
	if cap(w.msgBuf) > keepMsgBuf && w.bufs != nil {
		w.bufs.put(w.msgBuf)
		w.msgBuf = nil
	}
	for _, b := range []*[]byte{&w.ctl, &w.msgBuf, &w.scratch, &w.search} {
		if cap(*b) > maxKeepBuf {
			*b = nil
		}
	}
	clear(w.fan[:cap(w.fan)]) // drop the anomaly strings
	clear(w.man[:cap(w.man)])
	w.s, w.opts, w.conn, w.mem, w.rec, w.wm, w.bufs = nil, nil, nil, nil, nil, nil, nil
	w.f, w.msg = Frame{}, Message{}
	d.pool.dirs = append(d.pool.dirs, w)
}

// keepInflater takes an inflater made for 1<<bits-byte windows for reuse.
func (d *Dissector) keepInflater(infl *inflate.Inflater, bits int) {
	if infl != nil && bits > 0 && bits < len(d.pool.infl) && len(d.pool.infl[bits]) < maxFreeInflaters {
		d.pool.infl[bits] = append(d.pool.infl[bits], infl)
	}
}

// httpBuf returns an empty buffer for an HTTP side's header bytes.
func (d *Dissector) httpBuf() []byte {
	n := len(d.pool.httpBufs)
	if n == 0 {
		return nil
	}
	b := d.pool.httpBufs[n-1]
	d.pool.httpBufs[n-1] = nil
	d.pool.httpBufs = d.pool.httpBufs[:n-1]
	return b
}

// keepHTTPBufs takes the header buffers of a closed connection's sides
// for reuse.
func (d *Dissector) keepHTTPBufs(sides *[2]httpSide) {
	for i := range sides {
		b := sides[i].buf
		if cap(b) > 0 && cap(b) <= maxKeepHTTPBuf && len(d.pool.httpBufs) < maxFreeHTTPBufs {
			d.pool.httpBufs = append(d.pool.httpBufs, b[:0])
		}
	}
}

// inflater returns an inflater with an empty window of 1<<bits bytes.
func (d *Dissector) inflater(bits int) *inflate.Inflater {
	if bits > 0 && bits < len(d.pool.infl) {
		if free := d.pool.infl[bits]; len(free) > 0 {
			z := free[len(free)-1]
			free[len(free)-1] = nil
			d.pool.infl[bits] = free[:len(free)-1]
			z.Reset(false)
			return z
		}
	}
	return inflate.New(bits)
}
