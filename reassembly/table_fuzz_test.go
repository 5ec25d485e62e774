package reassembly

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/netpkt"
)

// FuzzTable drives the connection table with many flows: each 4 input
// bytes are one segment (which of 48 address pairs and direction, its flags,
// a sequence number variant, and how much capture time passes), under a
// small MaxConns, a short idle timeout and, when the first byte says so, a
// memory budget worth a few connections. It checks that the table never
// tracks more than MaxConns, numbers connections in order, ends each
// connection exactly once and leaves nothing charged to the budget.
func FuzzTable(f *testing.F) {
	f.Add([]byte{0, 1, 0x02, 0, 1, 1, 0x12, 0, 1, 1, 0x10, 0, 1, 2, 0x02, 5, 200})
	f.Add([]byte{1, 3, 0x02, 0, 0, 3, 0x02, 1, 0, 3, 0x04, 0, 9, 4, 0x11, 0, 250})
	f.Add([]byte{0, 0, 0x02, 0, 0, 1, 0x02, 0, 0, 2, 0x02, 0, 0, 3, 0x02, 0, 0, 4, 0x02, 0, 0, 5, 0x02, 0, 0, 6, 0x02, 0, 0, 7, 0x02, 0, 0, 8, 0x02, 0, 0, 9, 0x02, 0, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) == 0 {
			return
		}
		cfg := Config{MaxConns: 6, IdleTimeout: 3 * time.Second}
		var b *membudget.Budget
		if ops[0]&1 != 0 {
			b = membudget.New(4 * ConnCost)
			cfg.Memory = b
		}
		ops = ops[1:]
		l := &tlog{t: t}
		tab := NewTable(cfg, l)
		l.table = tab
		ts := time.Unix(1000, 0)
		next := uint64(0)
		var all []*tconn
		for i := 0; i+4 <= len(ops) && i < 4*4000; i += 4 {
			pair, flags, seqv, dt := ops[i], ops[i+1], ops[i+2], ops[i+3]
			ts = ts.Add(time.Duration(dt) * 50 * time.Millisecond)
			p := int(pair % 48)
			a := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(p % 8)}), uint16(1000+p/8))
			s := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 9, 0, 1}), 80)
			seg := netpkt.Segment{Src: a.Addr(), SrcPort: a.Port(), Dst: s.Addr(), DstPort: s.Port(),
				Flags: flags & (netpkt.FlagSYN | netpkt.FlagACK | netpkt.FlagFIN | netpkt.FlagRST), Seq: uint32(seqv) * 1000}
			if pair&0x80 != 0 {
				seg.Src, seg.SrcPort, seg.Dst, seg.DstPort = seg.Dst, seg.DstPort, seg.Src, seg.SrcPort
			}
			pkt := uint64(i/4 + 1)
			x, side := tab.Track(&seg, pkt, ts)
			if x == nil {
				x = new(tconn)
				side = tab.Add(x, &x.Entry, &seg, pkt, ts)
				if x.Stream() != next {
					t.Fatalf("packet %d: new connection numbered %d, want %d", pkt, x.Stream(), next)
				}
				next++
				all = append(all, x)
			}
			x.Learn(side, &seg)
			if tab.Len() > cfg.MaxConns {
				t.Fatalf("packet %d: %d connections tracked, MaxConns %d", pkt, tab.Len(), cfg.MaxConns)
			}
		}
		tab.EndAll(uint64(len(ops)), ts)
		if tab.Len() != 0 {
			t.Fatalf("%d connections left after EndAll", tab.Len())
		}
		for _, x := range all {
			if x.ended != 1 {
				t.Fatalf("stream %d ended %d times", x.Stream(), x.ended)
			}
		}
		if b != nil && b.Used() > 2<<16 {
			t.Fatalf("%d bytes still charged to the budget", b.Used())
		}
	})
}
