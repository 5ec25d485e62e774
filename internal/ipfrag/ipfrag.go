// Package ipfrag reassembles IPv4 and IPv6 datagrams from their fragments,
// within bounds on the memory held and the capture time a datagram takes.
package ipfrag

import (
	"net/netip"
	"slices"
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

// Defaults of Config.
const (
	// DefaultMaxBytes bounds the fragment bytes held at once.
	DefaultMaxBytes = 4 << 20
	// DefaultMaxDatagrams bounds the datagrams in progress at once.
	DefaultMaxDatagrams = 4096
	// DefaultTimeout is how long (in capture time) a datagram may take to
	// arrive whole: Linux's default ipfrag_time.
	DefaultTimeout = 30 * time.Second
	// maxPieces bounds the fragments of one datagram, so a datagram cut in
	// thousands of 8-byte pieces cannot make every arrival slow.
	maxPieces = 256
	// maxPayload is the largest payload an IPv4 or (non-jumbo) IPv6
	// datagram can have.
	maxPayload = 65535
)

// Config bounds a Reassembler; zero fields take the defaults.
type Config struct {
	MaxBytes     int
	MaxDatagrams int
	Timeout      time.Duration
}

// Stats counts what a Reassembler did.
type Stats struct {
	// Datagrams counts the datagrams reassembled.
	Datagrams uint64
	// Dropped counts the fragments given up: their datagram did not
	// complete in time, did not fit the bounds, or had fragments that
	// contradict each other (two different ends).
	Dropped uint64
}

// key identifies a datagram.
type key struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

// piece is one fragment held: its place in the payload, its length per IP
// and the bytes captured of it.
type piece struct {
	off, n int
	data   []byte
}

// datagram is a datagram in progress.
type datagram struct {
	k      key
	first  time.Time
	pieces []piece
	total  int // payload length, -1 until the last fragment arrives
	claims int // sum of the pieces' lengths per IP
	held   int // bytes held
	frag   netpkt.Fragment
}

// Reassembler collects fragments until their datagram is whole. It is not
// safe for concurrent use.
type Reassembler struct {
	cfg   Config
	m     map[key]*datagram
	order []*datagram // in order of first arrival, for expiry and eviction
	held  int
	buf   []byte
	free  []*datagram
	stats Stats
}

// New returns a Reassembler with the given bounds.
func New(cfg Config) *Reassembler {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxDatagrams <= 0 {
		cfg.MaxDatagrams = DefaultMaxDatagrams
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	return &Reassembler{cfg: cfg, m: map[key]*datagram{}}
}

// Stats returns the counters so far.
func (r *Reassembler) Stats() Stats { return r.stats }

// Held returns the fragment bytes held.
func (r *Reassembler) Held() int { return r.held }

// Add takes a fragment captured at ts. When it completes its datagram, Add
// returns the fragment that did (for netpkt.DecodeDatagram), the bytes
// captured from the start of the datagram's payload (valid until the next
// call), the payload's length per the IP headers, and true. Overlapping
// fragments keep the bytes that arrived first.
func (r *Reassembler) Add(f *netpkt.Fragment, ts time.Time) (payload []byte, claimed int, ok bool) {
	r.expire(ts)
	end := f.Offset + f.Len
	if f.Len < 0 || end > maxPayload || f.More && f.Len == 0 {
		r.stats.Dropped++
		return nil, 0, false
	}
	k := key{f.Src, f.Dst, f.ID, f.Proto, f.V6}
	d := r.m[k]
	if d == nil {
		for len(r.m) >= r.cfg.MaxDatagrams || r.held+len(f.Data) > r.cfg.MaxBytes && len(r.order) > 0 {
			r.drop(r.order[0])
		}
		d = r.newDatagram(k, ts)
	} else {
		for r.held+len(f.Data) > r.cfg.MaxBytes && r.order[0] != d {
			r.drop(r.order[0])
		}
	}
	if r.held+len(f.Data) > r.cfg.MaxBytes || len(d.pieces) >= maxPieces ||
		!f.More && d.total >= 0 && d.total != end || d.total >= 0 && end > d.total {
		r.stats.Dropped++
		r.drop(d)
		return nil, 0, false
	}
	if !f.More {
		d.total = end
		d.frag = *f
		d.frag.Data = nil
	}
	d.pieces = append(d.pieces, piece{off: f.Offset, n: f.Len, data: append([]byte(nil), f.Data...)})
	d.claims += f.Len
	d.held += len(f.Data)
	r.held += len(f.Data)
	if d.total < 0 || d.claims < d.total || !r.whole(d) {
		return nil, 0, false
	}
	payload = r.join(d)
	claimed = d.total
	*f = d.frag
	r.stats.Datagrams++
	r.release(d)
	return payload, claimed, true
}

// newDatagram starts datagram k.
func (r *Reassembler) newDatagram(k key, ts time.Time) *datagram {
	var d *datagram
	if n := len(r.free); n > 0 {
		d, r.free = r.free[n-1], r.free[:n-1]
	} else {
		d = &datagram{}
	}
	*d = datagram{k: k, first: ts, pieces: d.pieces[:0], total: -1}
	r.m[k] = d
	r.order = append(r.order, d)
	return d
}

// whole reports whether d's pieces cover its payload, sorting them by
// offset (the first to arrive first among equal offsets).
func (r *Reassembler) whole(d *datagram) bool {
	slices.SortStableFunc(d.pieces, func(a, b piece) int { return a.off - b.off })
	pos := 0
	for _, p := range d.pieces {
		if p.off > pos {
			return false
		}
		pos = max(pos, p.off+p.n)
	}
	return pos >= d.total
}

// join copies the captured bytes of d's payload, from its start up to the
// first byte the capture did not keep, into r.buf (d's pieces are sorted).
func (r *Reassembler) join(d *datagram) []byte {
	r.buf = r.buf[:0]
	for _, p := range d.pieces {
		pos := len(r.buf)
		if p.off > pos {
			break // a byte before this piece was not captured
		}
		if skip := pos - p.off; skip < len(p.data) {
			r.buf = append(r.buf, p.data[skip:]...)
		}
	}
	return r.buf[:min(len(r.buf), d.total)]
}

// expire drops the datagrams that began more than the timeout before now.
func (r *Reassembler) expire(now time.Time) {
	for len(r.order) > 0 && now.Sub(r.order[0].first) > r.cfg.Timeout {
		r.drop(r.order[0])
	}
}

// drop gives d up, counting its fragments as dropped.
func (r *Reassembler) drop(d *datagram) {
	r.stats.Dropped += uint64(len(d.pieces))
	r.release(d)
}

// release forgets d.
func (r *Reassembler) release(d *datagram) {
	delete(r.m, d.k)
	if i := slices.Index(r.order, d); i >= 0 {
		r.order = slices.Delete(r.order, i, i+1)
	}
	r.held -= d.held
	for i := range d.pieces {
		d.pieces[i].data = nil
	}
	d.pieces = d.pieces[:0]
	r.free = append(r.free, d)
}
