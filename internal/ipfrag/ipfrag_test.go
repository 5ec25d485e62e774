package ipfrag

import (
	"bytes"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

var (
	src = netip.MustParseAddr("192.0.2.1")
	dst = netip.MustParseAddr("192.0.2.2")
	t0  = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

// payload is a datagram payload of n bytes.
func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}

// frag is fragment [off, off+n) of p, of datagram id, cut to keep captured
// bytes when keep >= 0.
type frag struct {
	id      uint32
	off, n  int
	more    bool
	keep    int  // captured bytes (-1: all)
	garbage bool // different bytes than p's (an overlap that disagrees)
	at      time.Duration
	v6      bool
}

func (f frag) make(p []byte) netpkt.Fragment {
	var data []byte
	if f.off+f.n <= len(p) {
		data = bytes.Clone(p[f.off : f.off+f.n])
	} else {
		data = make([]byte, f.n)
	}
	if f.garbage {
		for i := range data {
			data[i] ^= 0xff
		}
	}
	if f.keep >= 0 {
		data = data[:f.keep]
	}
	return netpkt.Fragment{Src: src, Dst: dst, ID: f.id, Proto: 6, V6: f.v6, Offset: f.off, More: f.more, Data: data, Len: f.n, Encap: 1}
}

func TestAdd(t *testing.T) {
	p := payload(3000)
	all := func(id uint32) []frag {
		return []frag{{id: id, off: 0, n: 1480, more: true, keep: -1}, {id: id, off: 1480, n: 1480, more: true, keep: -1}, {id: id, off: 2960, n: 40, keep: -1}}
	}
	rev := all(1)
	rev[0], rev[2] = rev[2], rev[0]
	cases := []struct {
		name      string
		cfg       Config
		frags     []frag
		done      int    // index of the fragment that completes the datagram, -1 for none
		want      []byte // payload returned
		claimed   int
		datagrams uint64
		dropped   uint64
	}{
		{name: "in order", frags: all(1), done: 2, want: p, claimed: 3000, datagrams: 1},
		{name: "last first", frags: rev, done: 2, want: p, claimed: 3000, datagrams: 1},
		{name: "missing middle", frags: []frag{all(1)[0], all(1)[2]}, done: -1},
		{name: "duplicate first", frags: []frag{all(1)[0], all(1)[0], all(1)[2], all(1)[1]}, done: 3, want: p, claimed: 3000, datagrams: 1},
		{name: "overlap keeps the first bytes", frags: []frag{
			{id: 1, off: 0, n: 1600, more: true, keep: -1},
			{id: 1, off: 1480, n: 1520, keep: -1, garbage: true},
		}, done: 1, want: append(bytes.Clone(p[:1600]), xor(p[1600:])...), claimed: 3000, datagrams: 1},
		{name: "overlap keeps the first bytes at a higher offset", frags: []frag{
			{id: 1, off: 1480, n: 1520, keep: -1, garbage: true},
			{id: 1, off: 0, n: 1600, more: true, keep: -1},
		}, done: 1, want: append(bytes.Clone(p[:1480]), xor(p[1480:])...), claimed: 3000, datagrams: 1},
		{name: "ipv6 overlap discards the datagram", frags: []frag{
			{id: 1, off: 0, n: 1600, more: true, keep: -1, v6: true},
			{id: 1, off: 1480, n: 1520, keep: -1, v6: true},
		}, done: -1, dropped: 2},
		{name: "ipv6 exact duplicate", frags: []frag{
			{id: 1, off: 0, n: 1480, more: true, keep: -1, v6: true},
			{id: 1, off: 0, n: 1480, more: true, keep: -1, v6: true},
			{id: 1, off: 1480, n: 1520, keep: -1, v6: true},
		}, done: 2, want: p, claimed: 3000, datagrams: 1},
		{name: "more fragments of a length not a multiple of 8", frags: []frag{{id: 1, off: 0, n: 1481, more: true, keep: -1}}, done: -1, dropped: 1},
		{name: "beyond the end, arriving first", frags: []frag{{id: 1, off: 1520, n: 8, more: true, keep: -1}, {id: 1, off: 1480, n: 40, keep: -1}}, done: -1, dropped: 2},
		{name: "interleaved datagrams", frags: []frag{all(1)[0], all(2)[0], all(2)[1], all(1)[1], all(1)[2]}, done: 4, want: p, claimed: 3000, datagrams: 1},
		{name: "same id over ipv6 is another datagram", frags: []frag{all(1)[0], all(1)[1], {id: 1, off: 2960, n: 40, keep: -1, v6: true}}, done: -1},
		{name: "cut by the snap length", frags: []frag{{id: 1, off: 0, n: 1480, more: true, keep: 100}, {id: 1, off: 1480, n: 1520, keep: -1}}, done: 1, want: p[:100], claimed: 3000, datagrams: 1},
		{name: "two different ends", frags: []frag{{id: 1, off: 2960, n: 40, keep: -1}, {id: 1, off: 1480, n: 40, keep: -1}}, done: -1, dropped: 2},
		{name: "beyond the end", frags: []frag{{id: 1, off: 1480, n: 40, keep: -1}, {id: 1, off: 1520, n: 8, more: true, keep: -1}}, done: -1, dropped: 2},
		{name: "longer than an IP datagram", frags: []frag{{id: 1, off: 65528, n: 16, keep: 0}}, done: -1, dropped: 1},
		{name: "expired", frags: []frag{all(1)[0], all(1)[1], {id: 1, off: 2960, n: 40, keep: -1, at: 31 * time.Second}}, done: -1, dropped: 2},
		{name: "just in time", frags: []frag{all(1)[0], all(1)[1], {id: 1, off: 2960, n: 40, keep: -1, at: 30 * time.Second}}, done: 2, want: p, claimed: 3000, datagrams: 1},
		{name: "too many datagrams", cfg: Config{MaxDatagrams: 1}, frags: []frag{all(1)[0], all(2)[0], all(1)[1], all(1)[2]}, done: -1, dropped: 2},
		{name: "too many bytes", cfg: Config{MaxBytes: 2000}, frags: []frag{all(1)[0], all(2)[0], all(2)[1]}, done: -1, dropped: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := New(tc.cfg)
			done := -1
			for i, f := range tc.frags {
				fr := f.make(p)
				got, claimed, ok := r.Add(&fr, uint64(i+1), t0.Add(f.at))
				if !ok {
					continue
				}
				if done >= 0 {
					t.Fatalf("fragment %d completed a second datagram", i)
				}
				done = i
				if !bytes.Equal(got, tc.want) {
					t.Errorf("payload %d bytes, want %d (equal prefix: %v)", len(got), len(tc.want), bytes.HasPrefix(tc.want, got))
				}
				if claimed != tc.claimed {
					t.Errorf("claimed %d, want %d", claimed, tc.claimed)
				}
				if fr.Src != src || fr.Dst != dst || fr.Proto != 6 || fr.Encap != 1 || fr.Offset != 0 && !slices.ContainsFunc(tc.frags, func(f frag) bool { return f.off == fr.Offset }) {
					t.Errorf("completing fragment %+v", fr)
				}
			}
			if done != tc.done {
				t.Errorf("completed at fragment %d, want %d", done, tc.done)
			}
			st := r.Stats()
			if st.Datagrams != tc.datagrams || st.Dropped != tc.dropped {
				t.Errorf("stats %+v, want %d datagrams, %d dropped", st, tc.datagrams, tc.dropped)
			}
		})
	}
}

func xor(b []byte) []byte {
	out := bytes.Clone(b)
	for i := range out {
		out[i] ^= 0xff
	}
	return out
}

// TestBounded feeds many datagrams that never complete and checks that the
// bytes held stay within the bound and that a whole datagram still gets
// through afterwards.
func TestBounded(t *testing.T) {
	r := New(Config{MaxBytes: 64 << 10, MaxDatagrams: 100})
	p := payload(3000)
	for i := range 5000 {
		f := frag{id: uint32(i), off: 0, n: 1480, more: true, keep: -1}.make(p)
		if _, _, ok := r.Add(&f, uint64(i+1), t0); ok {
			t.Fatal("an incomplete datagram completed")
		}
		live := 0
		for _, s := range r.order {
			if s.gen == s.d.gen {
				live++
			}
		}
		if r.Held() > 64<<10 || len(r.m) > 100 || live != len(r.m) || len(r.order) > 2*len(r.m)+65 {
			t.Fatalf("after %d: %d bytes, %d datagrams, %d in order (%d live)", i, r.Held(), len(r.m), len(r.order), live)
		}
	}
	for _, f := range []frag{{id: 9999, off: 1480, n: 1520, keep: -1}, {id: 9999, off: 0, n: 1480, more: true, keep: -1}} {
		fr := f.make(p)
		if got, _, ok := r.Add(&fr, 9, t0); ok && !bytes.Equal(got, p) {
			t.Fatal("wrong payload")
		} else if ok {
			if len(r.m) == 0 || r.Held() != len(r.m)*(1480+pieceCost) || r.Pending() != len(r.m) {
				t.Errorf("after completing: %d datagrams, %d bytes held", len(r.m), r.Held())
			}
			return
		}
	}
	t.Fatal("the last datagram did not complete")
}

// TestManyPieces cuts a datagram into 8-byte pieces: past the bound on
// pieces it is given up, not reassembled slowly.
func TestManyPieces(t *testing.T) {
	r := New(Config{})
	p := payload(8 * 1000)
	for i := range 1000 {
		f := frag{id: 1, off: 8 * i, n: 8, more: i < 999, keep: -1}.make(p)
		if _, _, ok := r.Add(&f, uint64(i+1), t0); ok {
			t.Fatal("completed")
		}
	}
	if r.Stats().Dropped == 0 {
		t.Error("nothing dropped")
	}
}

// TestEmptyFragmentsBounded: fragments cut to no bytes by the snap length
// still cost memory (their records); the bound counts them.
func TestEmptyFragmentsBounded(t *testing.T) {
	r := New(Config{})
	p := payload(3000)
	for i := range 100000 {
		f := frag{id: uint32(i / 200), off: 8 * (i % 200), n: 8, more: true, keep: 0}.make(p)
		r.Add(&f, uint64(i+1), t0)
		if r.Held() > DefaultMaxBytes || r.Pending()*pieceCost > DefaultMaxBytes {
			t.Fatalf("after %d: %d bytes held, %d fragments", i, r.Held(), r.Pending())
		}
	}
	if r.Pending() == 0 || r.Stats().Dropped == 0 {
		t.Errorf("%d pending, %d dropped", r.Pending(), r.Stats().Dropped)
	}
}
