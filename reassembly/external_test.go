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

func TestOpenSegmentClose(t *testing.T) {
	port := func(p uint16) netip.AddrPort { return netip.AddrPortFrom(cliAddr.Addr(), p) }
	f := &numbered{t: t}
	// MaxConns and IdleTimeout must not matter: the caller decides.
	a := New(f, Config{MaxConns: 1, IdleTimeout: time.Second})
	pkt := uint64(0)
	streams := map[uint64]*Stream{}
	proc := func(s step, stream uint64) {
		pkt++
		seg := mkseg(s)
		side := SideA
		if s.fromSrv {
			side = SideB
		}
		st := streams[stream]
		if st == nil {
			st = a.Open(seg, side, pkt, t0.Add(s.dt), stream)
			streams[stream] = st
		}
		a.Segment(st, side, seg, pkt, t0.Add(s.dt))
	}
	end := func(stream uint64, reason CloseReason) {
		pkt++
		a.Close(streams[stream], reason, pkt, t0.Add(time.Hour))
	}

	proc(step{cli: port(1), flags: fPA, seq: 1, payload: "a"}, 5)
	proc(step{cli: port(1), flags: fPA, seq: 3, payload: "c"}, 5) // hole
	proc(step{cli: port(2), flags: fPA, seq: 1, payload: "b", dt: time.Minute}, 2)
	proc(step{cli: port(3), flags: fS, seq: 100, dt: 2 * time.Minute}, 9)
	proc(step{cli: port(3), flags: fSA, seq: 700, ack: 101, fromSrv: true, dt: 2 * time.Minute}, 9)
	if len(f.conns) != 3 || a.Stats().Active != 3 || a.Stats().Evictions != 0 || a.Stats().Packets != 5 {
		t.Fatalf("%d connections, stats %+v: the assembler swept or evicted by itself", len(f.conns), a.Stats())
	}
	for i, want := range []uint64{5, 2, 9} {
		if got := f.conns[i].info.Stream; got != want {
			t.Errorf("connection %d numbered %d, want %d", i, got, want)
		}
	}
	if info := f.conns[2].info; !info.SawSYN || info.Addr[SideA] != port(3) || info.Addr[SideB] != srvAddr {
		t.Errorf("connection 9: %+v, want the SYN's sender as side A", info)
	}

	end(5, ClosedIdle)   // expires 5, declaring its hole lost
	end(2, ClosedReused) // a new connection takes port 2
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

	// Eviction counts open connections only; a closed one is just released.
	proc(step{cli: port(3), flags: fR, seq: 101, dt: 3 * time.Minute}, 9) // 9 closes (RST)
	proc(step{cli: port(4), flags: fPA, seq: 1, payload: "d"}, 11)
	end(9, ClosedEvicted)
	end(11, ClosedEvicted)
	if st := a.Stats(); st.Evictions != 1 {
		t.Errorf("evictions %d, want 1", st.Evictions)
	}
	if r := f.conns[2]; r.reason != ClosedRST || r.closes != 1 {
		t.Errorf("connection 9 closed %d times with %d, want once with %d", r.closes, r.reason, ClosedRST)
	}
	if r := f.conns[3]; r.reason != ClosedEvicted || r.closes != 1 {
		t.Errorf("connection 11 closed %d times with %d, want once with %d", r.closes, r.reason, ClosedEvicted)
	}

	// End of input; FlushAll does not know the caller's connections.
	proc(step{cli: port(5), flags: fPA, seq: 1, payload: "e"}, 13)
	a.FlushAll(pkt, t0.Add(time.Hour))
	if r := f.conns[4]; r.closes != 0 {
		t.Fatalf("FlushAll closed a connection the caller keeps")
	}
	end(13, ClosedEOF)
	if r := f.conns[4]; r.reason != ClosedEOF || r.closes != 1 {
		t.Errorf("connection 13 closed %d times with %d, want once with %d", r.closes, r.reason, ClosedEOF)
	}
	if st := a.Stats(); st.Active != 0 || st.Conns != 5 {
		t.Errorf("stats %+v, want no active connections of 5", st)
	}
}
