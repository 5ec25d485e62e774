package reassembly

import (
	"fmt"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

// tconn is a Table element for tests.
type tconn struct {
	Entry[tconn]
	ended int
}

// tlog is a Table driver that logs what the table decides.
type tlog struct {
	t     *testing.T
	table *Table[tconn]
	b     strings.Builder
	pkt   uint64
}

// EndConn implements Ender.
func (l *tlog) EndConn(x *tconn, reason CloseReason, pkt uint64, _ time.Time) {
	x.ended++
	if x.ended > 1 {
		l.t.Errorf("stream %d ended twice", x.Stream())
	}
	fmt.Fprintf(&l.b, "p%d end %d %s\n", pkt, x.Stream(), reasonName(reason))
}

func reasonName(r CloseReason) string {
	switch r {
	case ClosedIdle:
		return "idle"
	case ClosedEvicted:
		return "evicted"
	case ClosedReused:
		return "reused"
	case ClosedEOF:
		return "eof"
	}
	return fmt.Sprintf("reason%d", r)
}

// top is one operation of a table test script.
type top struct {
	kind  string // track, endall
	s     step
	learn bool // track: call Learn with the segment
}

// trk tracks s and learns from it; trkNo tracks without learning.
func trk(s step) top   { return top{kind: "track", s: s, learn: true} }
func trkNo(s step) top { return top{kind: "track", s: s} }

func port(p uint16) netip.AddrPort { return netip.AddrPortFrom(cliAddr.Addr(), p) }

func (l *tlog) do(o top) {
	l.pkt++
	seg := mkseg(o.s)
	ts := t0.Add(o.s.dt)
	var x *tconn
	var side Side
	switch o.kind {
	case "track":
		x, side = l.table.Track(seg, l.pkt, ts)
		if x == nil {
			x = new(tconn)
			side = l.table.Add(x, &x.Entry, seg, l.pkt, ts)
			ev := ""
			if x.Evicted() {
				ev = " after eviction"
			}
			fmt.Fprintf(&l.b, "p%d new %d%s\n", l.pkt, x.Stream(), ev)
		}
	case "endall":
		l.table.EndAll(l.pkt, ts)
		return
	}
	if x.ended > 0 {
		l.t.Errorf("packet %d: Track returned ended stream %d", l.pkt, x.Stream())
	}
	if o.learn {
		x.Learn(side, seg)
	}
	fmt.Fprintf(&l.b, "p%d %d %c\n", l.pkt, x.Stream(), "AB"[side])
}

func TestTable(t *testing.T) {
	p1, p2, p3 := port(1), port(2), port(3)
	tests := []struct {
		name string
		cfg  Config
		ops  []top
		want string
	}{
		{
			name: "numbering and sides",
			ops: []top{
				trk(step{flags: fS, seq: 100}),
				trk(step{fromSrv: true, flags: fSA, seq: 500, ack: 101}),
				trk(step{flags: fA, seq: 101, ack: 501}),
				trk(step{cli: p1, flags: fPA, seq: 7, payload: "x"}),
				trk(step{cli: p1, fromSrv: true, flags: fA, ack: 8}),
			},
			want: "p1 new 0\np1 0 A\np2 0 B\np3 0 A\np4 new 1\np4 1 A\np5 1 B\n",
		},
		{
			name: "SYN-ACK first: its receiver is side A",
			ops: []top{
				trk(step{fromSrv: true, flags: fSA, seq: 500, ack: 101}),
				trk(step{flags: fA, seq: 101, ack: 501}),
			},
			want: "p1 new 0\np1 0 B\np2 0 A\n",
		},
		{
			name: "retransmitted SYN continues, new ISN reuses",
			ops: []top{
				trk(step{flags: fS, seq: 100}),
				trk(step{flags: fS, seq: 100, dt: time.Second}),
				trk(step{flags: fS, seq: 900, dt: 2 * time.Second}),
				trk(step{flags: fSA, seq: 900, dt: 3 * time.Second}), // not a pure SYN
				trk(step{flags: fS | fR, seq: 5, dt: 3 * time.Second}),
			},
			want: "p1 new 0\np1 0 A\np2 0 A\np3 end 0 reused\np3 new 1\np3 1 A\np4 1 A\np5 1 A\n",
		},
		{
			name: "SYN-ACK tells the client's ISN",
			ops: []top{
				trk(step{fromSrv: true, flags: fSA, seq: 500, ack: 101}),
				trk(step{flags: fS, seq: 100}), // the SYN, late
				trk(step{flags: fS, seq: 101}),
			},
			want: "p1 new 0\np1 0 B\np2 0 A\np3 end 0 reused\np3 new 1\np3 1 A\n",
		},
		{
			name: "SYN-ACK after the peer was seen tells nothing",
			ops: []top{
				trk(step{flags: fA, seq: 101, ack: 501}),
				trk(step{fromSrv: true, flags: fSA, seq: 500, ack: 101}),
				trk(step{flags: fS, seq: 100}),
			},
			want: "p1 new 0\np1 0 A\np2 0 B\np3 end 0 reused\np3 new 1\np3 1 A\n",
		},
		{
			name: "nothing learned: every SYN reuses",
			ops: []top{
				trkNo(step{flags: fS, seq: 100}),
				trkNo(step{flags: fS, seq: 100}),
			},
			want: "p1 new 0\np1 0 A\np2 end 0 reused\np2 new 1\np2 1 A\n",
		},
		{
			name: "idle connection without data ends at its next packet",
			cfg:  Config{IdleTimeout: 10 * time.Second},
			ops: []top{
				trk(step{flags: fS, seq: 1}),
				trk(step{flags: fS, seq: 1, dt: 10 * time.Second}),
				trk(step{flags: fA, seq: 2, dt: 20*time.Second + 1}),
			},
			want: "p1 new 0\np1 0 A\np2 0 A\np3 end 0 idle\np3 new 1\np3 1 A\n",
		},
		{
			name: "connection with data never expires while open",
			cfg:  Config{IdleTimeout: 10 * time.Second},
			ops: []top{
				trk(step{cli: p1, flags: fPA, seq: 1, payload: "a"}),
				trk(step{cli: p1, fromSrv: true, flags: fFA, seq: 1, ack: 2}), // one FIN: still open
				trk(step{cli: p2, flags: fA, seq: 1, dt: 3 * time.Hour}),      // sweep
				trk(step{cli: p1, flags: fPA, seq: 2, payload: "b", dt: 3 * time.Hour}),
			},
			want: "p1 new 0\np1 0 A\np2 0 B\np3 new 1\np3 1 A\np4 0 A\n",
		},
		{
			name: "ended connections expire: RST, FINs both ways",
			cfg:  Config{IdleTimeout: 10 * time.Second},
			ops: []top{
				trk(step{cli: p1, flags: fPA, seq: 1, payload: "a"}),
				trk(step{cli: p1, fromSrv: true, flags: fR, seq: 1}),
				trk(step{cli: p2, flags: fPA, seq: 1, payload: "a"}),
				trk(step{cli: p2, flags: fFA, seq: 2}),
				trk(step{cli: p2, fromSrv: true, flags: fFA, seq: 1, ack: 3}),
				trk(step{cli: p3, flags: fA, seq: 1, dt: time.Minute}), // sweep
			},
			want: "p1 new 0\np1 0 A\np2 0 B\np3 new 1\np3 1 A\np4 1 A\np5 1 B\n" +
				"p6 end 0 idle\np6 end 1 idle\np6 new 2\np6 2 A\n",
		},
		{
			name: "sweep ends idle connections, least recently active first",
			cfg:  Config{IdleTimeout: 10 * time.Second},
			ops: []top{
				trk(step{cli: p1, flags: fA, seq: 1}),
				trk(step{cli: p2, flags: fA, seq: 1, dt: time.Second}),
				trk(step{cli: p1, flags: fA, seq: 1, dt: 2 * time.Second}),
				trk(step{cli: p3, flags: fA, seq: 1, dt: 12*time.Second + 500*time.Millisecond}),
			},
			want: "p1 new 0\np1 0 A\np2 new 1\np2 1 A\np3 0 A\n" +
				"p4 end 1 idle\np4 end 0 idle\np4 new 2\np4 2 A\n",
		},
		{
			name: "between sweeps an idle connection ends at its next packet",
			cfg:  Config{IdleTimeout: 10 * time.Second},
			ops: []top{
				trk(step{cli: p1, flags: fA, seq: 1}),
				trk(step{cli: p2, flags: fA, seq: 1, dt: 9500 * time.Millisecond}),  // sweep
				trk(step{cli: p2, flags: fA, seq: 1, dt: 10400 * time.Millisecond}), // no sweep
				trk(step{cli: p1, flags: fA, seq: 1, dt: 10450 * time.Millisecond}), // no sweep
				trk(step{cli: p2, flags: fA, seq: 1, dt: 10500 * time.Millisecond}), // sweep
			},
			want: "p1 new 0\np1 0 A\np2 new 1\np2 1 A\np3 1 A\n" +
				"p4 end 0 idle\np4 new 2\np4 2 A\np5 1 A\n",
		},
		{
			name: "full table evicts the least recently active",
			cfg:  Config{MaxConns: 2},
			ops: []top{
				trk(step{cli: p1, flags: fA, seq: 1}),
				trk(step{cli: p2, flags: fA, seq: 1}),
				trk(step{cli: p1, flags: fA, seq: 1}),
				trk(step{cli: p3, flags: fA, seq: 1}),
				trk(step{cli: p2, flags: fA, seq: 1}),
			},
			want: "p1 new 0\np1 0 A\np2 new 1\np2 1 A\np3 0 A\n" +
				"p4 end 1 evicted\np4 new 2\np4 2 A\np5 end 0 evicted\np5 new 3 after eviction\np5 3 A\n",
		},
		{
			name: "a SYN after eviction opens a new connection",
			cfg:  Config{MaxConns: 1},
			ops: []top{
				trk(step{cli: p1, flags: fA, seq: 1}),
				trk(step{cli: p2, flags: fA, seq: 1}),
				trk(step{cli: p1, flags: fS, seq: 9}),
			},
			want: "p1 new 0\np1 0 A\np2 end 0 evicted\np2 new 1\np2 1 A\np3 end 1 evicted\np3 new 2\np3 2 A\n",
		},
		{
			name: "end of input in stream order, numbers continue",
			ops: []top{
				trk(step{cli: p1, flags: fA, seq: 1}),
				trk(step{cli: p2, flags: fA, seq: 1}),
				trk(step{cli: p3, flags: fA, seq: 1}),
				trk(step{cli: p1, flags: fA, seq: 1}),
				{kind: "endall"},
				trk(step{cli: p2, flags: fA, seq: 1}),
			},
			want: "p1 new 0\np1 0 A\np2 new 1\np2 1 A\np3 new 2\np3 2 A\np4 0 A\n" +
				"p5 end 0 eof\np5 end 1 eof\np5 end 2 eof\np6 new 3\np6 3 A\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &tlog{t: t}
			l.table = NewTable[tconn](tt.cfg, l)
			for _, o := range tt.ops {
				l.do(o)
			}
			if got := l.b.String(); got != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestEntryHashIsSymmetric(t *testing.T) {
	seg := mkseg(step{flags: fA})
	rev := mkseg(step{fromSrv: true, flags: fA})
	other := mkseg(step{cli: altCli, flags: fA})
	hash := func(s *netpkt.Segment) uint64 {
		k, _ := makeKey(s)
		return k.hash()
	}
	if hash(seg) != hash(rev) {
		t.Errorf("the two directions hash to %x and %x", hash(seg), hash(rev))
	}
	if hash(seg) == hash(other) {
		t.Errorf("different connections hash alike (%x)", hash(seg))
	}
}

func TestMakeKeyOrder(t *testing.T) {
	v4 := netip.MustParseAddr("10.0.0.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name         string
		src, dst     netip.Addr
		sport, dport uint16
		srcFirst     bool
	}{
		{"lower address first", v4, v6, 9, 1, true},
		{"higher address second", v6, v4, 1, 9, false},
		{"same address, lower port first", v4, v4, 1, 2, true},
		{"same address, higher port second", v4, v4, 2, 1, false},
		{"same endpoint", v4, v4, 5, 5, true},
		{"low half decides", netip.MustParseAddr("::1"), netip.MustParseAddr("::2"), 9, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg := &netpkt.Segment{Src: tt.src, Dst: tt.dst, SrcPort: tt.sport, DstPort: tt.dport}
			k, srcFirst := makeKey(seg)
			if srcFirst != tt.srcFirst {
				t.Errorf("srcFirst %v, want %v", srcFirst, tt.srcFirst)
			}
			rev := &netpkt.Segment{Src: tt.dst, Dst: tt.src, SrcPort: tt.dport, DstPort: tt.sport}
			if k2, _ := makeKey(rev); k2 != k {
				t.Errorf("the two directions have different keys")
			}
		})
	}
}

// nopEnder ends nothing visible.
type nopEnder struct{}

func (nopEnder) EndConn(*tconn, CloseReason, uint64, time.Time) {}

func TestTrackDoesNotAllocate(t *testing.T) {
	table := NewTable[tconn](Config{}, nopEnder{})
	var segs [4]*netpkt.Segment
	for i := range segs {
		segs[i] = mkseg(step{cli: port(uint16(i + 1)), flags: fA, seq: 1})
		x := new(tconn)
		table.Add(x, &x.Entry, segs[i], 1, t0)
	}
	ts := t0
	n := testing.AllocsPerRun(500, func() {
		for _, seg := range segs {
			ts = ts.Add(time.Millisecond)
			for range 2 {
				x, side := table.Track(seg, 2, ts)
				if x == nil {
					t.Fatal("connection lost")
				}
				x.Learn(side, seg)
			}
		}
	})
	if n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

func TestNanosSince(t *testing.T) {
	far := time.Unix(1<<40, 0)
	tests := []struct {
		name      string
		now, then time.Time
		want      int64
	}{
		{"ordinary", time.Unix(100, 5), time.Unix(99, 7), int64(time.Second) - 2},
		{"backwards", time.Unix(99, 0), time.Unix(100, 0), -int64(time.Second)},
		{"before 1970", time.Unix(-5, 0), time.Unix(5, 0), -10 * int64(time.Second)},
		{"beyond 2262 saturates", far, time.Unix(0, 0), math.MaxInt64},
		{"far back saturates", time.Unix(-1<<40, 0), far, math.MinInt64},
		{"difference overflows", time.Unix(9e9, 0), time.Unix(-9e9, 0), math.MaxInt64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := since(nanos(tc.now), nanos(tc.then))
			if got != tc.want {
				t.Errorf("since = %d, want %d", got, tc.want)
			}
			// time.Time.Sub agrees wherever it does not saturate at
			// its own (smaller) bound.
			if d := tc.now.Sub(tc.then); d != math.MaxInt64 && d != math.MinInt64 && int64(d) != got {
				t.Errorf("since = %d, Sub = %d", got, d)
			}
		})
	}
}

// TestTableSlotCollisions tracks connections whose keys share a slot of the
// table's cache of recent connections, and keys that differ only in the
// high half of an IPv6 address, in alternation: every segment must find
// its own connection.
func TestTableSlotCollisions(t *testing.T) {
	srv := netip.MustParseAddrPort("[2001:dbf::80]:443") // above every client
	clients := []netip.AddrPort{
		netip.MustParseAddrPort("[2001:db8::1]:5000"),
		netip.MustParseAddrPort("[2001:db9::1]:5000"), // same low half
	}
	// Find client ports whose keys fall into the first client's slot.
	first := mkseg(step{cli: clients[0], srv: srv, flags: fA})
	k0, _ := makeKey(first)
	for p := uint16(1); len(clients) < 5 && p < math.MaxUint16; p++ {
		c := netip.AddrPortFrom(clients[0].Addr(), p)
		k, _ := makeKey(mkseg(step{cli: c, srv: srv, flags: fA}))
		if k.hash()>>recentShift == k0.hash()>>recentShift && k != k0 {
			clients = append(clients, c)
		}
	}
	// And a client whose address differs only in its high half.
	for x := 0; x < math.MaxUint16 && len(clients) < 6; x++ {
		c := netip.AddrPortFrom(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, byte(x >> 8), byte(x), 15: 1}), 5000)
		k, _ := makeKey(mkseg(step{cli: c, srv: srv, flags: fA}))
		if k.hash()>>recentShift == k0.hash()>>recentShift && k != k0 {
			clients = append(clients, c)
		}
	}
	if len(clients) < 6 {
		t.Fatal("found too few colliding keys")
	}
	l := &tlog{t: t}
	table := NewTable[tconn](Config{}, l)
	conns := make([]*tconn, len(clients))
	for round := range 3 {
		for i, c := range clients {
			seg := mkseg(step{cli: c, srv: srv, flags: fA, fromSrv: round == 1})
			x, _ := table.Track(seg, uint64(round*len(clients)+i+1), t0)
			if x == nil {
				if round > 0 {
					t.Fatalf("round %d: client %d lost its connection", round, i)
				}
				x = new(tconn)
				table.Add(x, &x.Entry, seg, uint64(i+1), t0)
				conns[i] = x
				continue
			}
			if x != conns[i] {
				t.Fatalf("round %d: client %d found stream %d, want %d", round, i, x.Stream(), conns[i].Stream())
			}
		}
	}
}
