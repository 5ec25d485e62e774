package reassembly

import (
	"net/netip"
	"testing"
	"time"
)

// numbered is a Factory of recConns that accepts any stream numbers.
type numbered struct {
	t     testing.TB
	conns []*recConn
}

func (f *numbered) NewConn(info *ConnInfo) Handler {
	r := &recConn{t: f.t, info: *info}
	f.conns = append(f.conns, r)
	return r
}

func TestProcessStreamAndEnd(t *testing.T) {
	port := func(p uint16) netip.AddrPort { return netip.AddrPortFrom(cliAddr.Addr(), p) }
	f := &numbered{t: t}
	// MaxConns and IdleTimeout must not matter: the caller decides.
	a := New(f, Config{MaxConns: 1, IdleTimeout: time.Second})
	pkt := uint64(0)
	proc := func(s step, stream uint64) {
		pkt++
		a.ProcessStream(mkseg(s), pkt, t0.Add(s.dt), stream)
	}
	end := func(cli netip.AddrPort, stream uint64, reason CloseReason) {
		pkt++
		a.End(srvAddr, cli, stream, reason, pkt, t0.Add(time.Hour))
	}

	proc(step{cli: port(1), flags: fPA, seq: 1, payload: "a"}, 5)
	proc(step{cli: port(1), flags: fPA, seq: 3, payload: "c"}, 5) // hole
	proc(step{cli: port(2), flags: fPA, seq: 1, payload: "b", dt: time.Minute}, 2)
	proc(step{cli: port(3), flags: fS, seq: 100, dt: 2 * time.Minute}, 9)
	if len(f.conns) != 3 || a.Stats().Active != 3 || a.Stats().Evictions != 0 {
		t.Fatalf("%d connections, stats %+v: the assembler swept or evicted by itself", len(f.conns), a.Stats())
	}
	for i, want := range []uint64{5, 2, 9} {
		if got := f.conns[i].info.Stream; got != want {
			t.Errorf("connection %d numbered %d, want %d", i, got, want)
		}
	}

	end(port(1), 6, ClosedIdle)   // wrong number: nothing happens
	end(port(7), 5, ClosedIdle)   // unknown addresses: nothing happens
	end(port(1), 5, ClosedIdle)   // expires 5, declaring its hole lost
	end(port(2), 2, ClosedReused) // a new connection takes port 2
	if got, want := eventsString(f.conns[0].events), `data 0 @0 "a" p1
gap 0 @1+1 idle timeout
data 0 @2 "c" p2
close 3
`; got != want {
		t.Errorf("connection 5:\n%s\nwant:\n%s", got, want)
	}
	if f.conns[1].reason != ClosedReused {
		t.Errorf("connection 2 closed with %d, want %d", f.conns[1].reason, ClosedReused)
	}

	// The addresses of an ended connection start a new one with the given
	// number; one still tracked under another number is replaced.
	proc(step{cli: port(1), flags: fPA, seq: 10, payload: "d"}, 11)
	proc(step{cli: port(3), flags: fS, seq: 500}, 12)
	if len(f.conns) != 5 || f.conns[3].info.Stream != 11 || f.conns[4].info.Stream != 12 {
		t.Fatalf("connections after reuse: %d", len(f.conns))
	}
	if f.conns[2].reason != ClosedReused {
		t.Errorf("connection 9 closed with %d, want %d (replaced)", f.conns[2].reason, ClosedReused)
	}

	// Eviction counts open connections only; a tombstone is just dropped.
	proc(step{cli: port(1), flags: fR, seq: 11}, 11) // 11 closes (RST), stays as a tombstone
	end(port(1), 11, ClosedEvicted)
	end(port(3), 12, ClosedEvicted)
	if st := a.Stats(); st.Evictions != 1 {
		t.Errorf("evictions %d, want 1", st.Evictions)
	}
	if f.conns[3].reason != ClosedRST || f.conns[3].closes != 1 || f.conns[4].reason != ClosedEvicted {
		t.Errorf("close reasons %d (%d times), %d", f.conns[3].reason, f.conns[3].closes, f.conns[4].reason)
	}

	// End of input.
	proc(step{cli: port(4), flags: fPA, seq: 1, payload: "e"}, 13)
	end(port(4), 13, ClosedEOF)
	if r := f.conns[5]; r.reason != ClosedEOF || r.closes != 1 {
		t.Errorf("connection 13 closed %d times with %d, want once with %d", r.closes, r.reason, ClosedEOF)
	}
	if st := a.Stats(); st.Active != 0 || st.Conns != 6 {
		t.Errorf("stats %+v, want no active connections of 6", st)
	}
}
