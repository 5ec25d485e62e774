package dissect

import (
	"github.com/wsdissect/wsdissect/internal/freelist"
	"github.com/wsdissect/wsdissect/internal/inflate"
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
		s: s, opts: s.options(), conn: s.wsConn(), mem: s.memory(), rec: s.record(), wm: s.watermark(), dir: dir, need: 2, maskWant: -1,
		pkts: old.pkts[:0], fan: old.fan[:0], ctl: old.ctl[:0],
		msgBuf: old.msgBuf[:0], man: old.man[:0], scratch: old.scratch[:0],
		search: old.search[:0], marks: old.marks[:0], hbuf: old.hbuf[:0],
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
	for _, b := range []*[]byte{&w.ctl, &w.msgBuf, &w.scratch, &w.search} {
		if cap(*b) > maxKeepBuf {
			*b = nil
		}
	}
	clear(w.fan[:cap(w.fan)]) // drop the anomaly strings
	clear(w.man[:cap(w.man)])
	w.s, w.opts, w.conn, w.mem, w.rec, w.wm = nil, nil, nil, nil, nil, nil
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
