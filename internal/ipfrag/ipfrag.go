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
	// DefaultMaxBytes bounds the memory fragments hold at once: their
	// bytes and pieceCost for each.
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
	// pieceCost is what a fragment costs besides its bytes (its record and
	// the allocation of its copy), so that fragments of no bytes (cut by
	// the snap length) are bounded too.
	pieceCost = 64
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
	// complete in time, did not fit the bounds, had fragments that
	// contradict each other (two different ends, one beyond the end), or
	// overlapped over IPv6 (RFC 5722); a fragment of more to come whose
	// length is not a multiple of 8 bytes is dropped alone (RFC 791, RFC
	// 8200 4.5).
	Dropped uint64
}

// key identifies a datagram: addresses, identification and (IPv4) protocol.
type key struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8
	v6       bool
}

// piece is one fragment held: its place in the payload, its length per IP,
// the bytes captured of it and its rank of arrival.
type piece struct {
	off, n int
	data   []byte
	seq    int
	pkt    uint64 // the packet that carried it
}

// datagram is a datagram in progress.
type datagram struct {
	k      key
	gen    uint32 // changes when the datagram is released (see slot)
	first  time.Time
	pieces []piece
	total  int // payload length, -1 until the last fragment arrives
	maxEnd int // the end of the piece that ends last
	claims int // sum of the pieces' lengths per IP
	held   int // memory held: bytes plus pieceCost a piece
	frag   netpkt.Fragment
	head   bool // frag is the first fragment's (offset 0)
}

// slot is a datagram in the order of first arrival; it is stale once the
// datagram was released (its generation moved on).
type slot struct {
	d   *datagram
	gen uint32
}

// Reassembler collects fragments until their datagram is whole. It is not
// safe for concurrent use.
type Reassembler struct {
	cfg   Config
	m     map[key]*datagram
	order []slot // by first arrival, for expiry and eviction; stale slots are skipped
	held  int
	held0 int // pieces held
	buf   []byte
	pkts  []uint64 // the packets of the datagram completed last
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

// Held returns the memory the fragments hold (bytes and their records).
func (r *Reassembler) Held() int { return r.held }

// Pending returns how many fragments wait for the rest of their datagram;
// at the end of a capture they are fragments that never completed.
func (r *Reassembler) Pending() int { return r.held0 }

// Packets returns the numbers of the packets that carried the fragments of
// the datagram the last Add completed, the completing one included, in the
// order they came (valid until the next call of Add).
func (r *Reassembler) Packets() []uint64 { return r.pkts }

// Add takes a fragment captured at ts in packet pkt. When it completes its datagram, Add
// returns the fragment (for netpkt.DecodeDatagram: the first fragment's
// header fields), the bytes captured from the start of the datagram's
// payload (valid until the next call), the payload's length per the IP
// headers, and true. Where IPv4 fragments overlap, the bytes that arrived
// first are kept; overlapping IPv6 fragments discard their datagram (RFC
// 5722), exact duplicates aside.
func (r *Reassembler) Add(f *netpkt.Fragment, pkt uint64, ts time.Time) (payload []byte, claimed int, ok bool) {
	r.expire(ts)
	end := f.Offset + f.Len
	if f.Len < 0 || end > maxPayload || f.More && (f.Len == 0 || f.Len%8 != 0) {
		r.stats.Dropped++
		return nil, 0, false
	}
	k := key{f.Src, f.Dst, f.ID, f.Proto, f.V6}
	if f.V6 {
		k.proto = 0 // RFC 8200: source, destination and identification
	}
	cost := len(f.Data) + pieceCost
	d := r.m[k]
	if d == nil {
		for len(r.m) > 0 && (len(r.m) >= r.cfg.MaxDatagrams || r.held+cost > r.cfg.MaxBytes) {
			r.drop(r.oldest())
		}
		d = r.newDatagram(k, ts)
	} else {
		for r.held+cost > r.cfg.MaxBytes && len(r.m) > 1 {
			o := r.oldest()
			if o == d {
				break
			}
			r.drop(o)
		}
	}
	if r.held+cost > r.cfg.MaxBytes || len(d.pieces) >= maxPieces || r.contradicts(d, f, end) {
		r.stats.Dropped++
		r.drop(d)
		return nil, 0, false
	}
	if !f.More {
		d.total = end
	}
	if !d.head && (f.Offset == 0 || len(d.pieces) == 0) {
		d.frag, d.head = *f, f.Offset == 0
		d.frag.Data = nil
	}
	d.pieces = append(d.pieces, piece{off: f.Offset, n: f.Len, data: append([]byte(nil), f.Data...), seq: len(d.pieces), pkt: pkt})
	d.claims += f.Len
	d.maxEnd = max(d.maxEnd, end)
	d.held += cost
	r.held += cost
	r.held0++
	if d.total < 0 || d.claims < d.total || !whole(d) {
		return nil, 0, false
	}
	payload = r.join(d)
	claimed = d.total
	r.pkts = r.pkts[:0]
	for i := len(d.pieces) - 1; i >= 0; i-- { // join left them latest first
		r.pkts = append(r.pkts, d.pieces[i].pkt)
	}
	*f = d.frag
	r.stats.Datagrams++
	r.release(d)
	return payload, claimed, true
}

// contradicts reports whether fragment f (ending at end) cannot belong with
// d's pieces: a second, different end, a piece beyond the end, or (IPv6) an
// overlap that is not an exact duplicate.
func (r *Reassembler) contradicts(d *datagram, f *netpkt.Fragment, end int) bool {
	switch {
	case !f.More && d.total >= 0 && d.total != end:
		return true
	case !f.More && d.maxEnd > end:
		return true
	case d.total >= 0 && end > d.total:
		return true
	}
	if f.V6 {
		for _, p := range d.pieces {
			if f.Offset < p.off+p.n && p.off < end && (f.Offset != p.off || f.Len != p.n) {
				return true
			}
		}
	}
	return false
}

// newDatagram starts datagram k.
func (r *Reassembler) newDatagram(k key, ts time.Time) *datagram {
	var d *datagram
	if n := len(r.free); n > 0 {
		d, r.free = r.free[n-1], r.free[:n-1]
	} else {
		d = &datagram{}
	}
	*d = datagram{k: k, gen: d.gen, first: ts, pieces: d.pieces[:0], total: -1}
	r.m[k] = d
	if len(r.order) > 2*len(r.m)+64 {
		r.compact()
	}
	r.order = append(r.order, slot{d, d.gen})
	return d
}

// oldest returns the datagram in progress that began first (r.m must not
// be empty), dropping stale slots from the front of the order.
func (r *Reassembler) oldest() *datagram {
	for {
		s := r.order[0]
		if s.gen == s.d.gen {
			return s.d
		}
		r.order = r.order[1:]
	}
}

// compact drops the stale slots of the order.
func (r *Reassembler) compact() {
	r.order = slices.DeleteFunc(r.order, func(s slot) bool { return s.gen != s.d.gen })
}

// whole reports whether d's pieces cover its payload, sorting them by
// offset.
func whole(d *datagram) bool {
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
// first byte the capture did not keep, into r.buf; where pieces overlap,
// the one that arrived first is copied last, so its bytes are kept. d's
// pieces are sorted by offset.
func (r *Reassembler) join(d *datagram) []byte {
	n := 0 // captured bytes from the start
	for _, p := range d.pieces {
		if p.off > n {
			break
		}
		n = max(n, p.off+len(p.data))
	}
	n = min(n, d.total)
	if cap(r.buf) < n {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	slices.SortFunc(d.pieces, func(a, b piece) int { return b.seq - a.seq })
	for _, p := range d.pieces {
		if p.off < n {
			copy(r.buf[p.off:], p.data)
		}
	}
	return r.buf
}

// expire drops the datagrams that began more than the timeout before now.
func (r *Reassembler) expire(now time.Time) {
	for len(r.m) > 0 {
		d := r.oldest()
		if now.Sub(d.first) <= r.cfg.Timeout {
			return
		}
		r.drop(d)
	}
}

// drop gives d up, counting its fragments as dropped.
func (r *Reassembler) drop(d *datagram) {
	r.stats.Dropped += uint64(len(d.pieces))
	r.release(d)
}

// release forgets d; its slot in the order goes stale.
func (r *Reassembler) release(d *datagram) {
	delete(r.m, d.k)
	d.gen++
	r.held -= d.held
	r.held0 -= len(d.pieces)
	for i := range d.pieces {
		d.pieces[i].data = nil
	}
	d.pieces = d.pieces[:0]
	if cap(d.pieces) <= 16 {
		r.free = append(r.free, d)
	}
}
