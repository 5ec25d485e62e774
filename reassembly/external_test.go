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
			st = a.Open(seg, side, pkt, t0.Add(s.dt), stream, false)
			streams[stream] = st
		}
		streams[stream] = a.Segment(st, side, seg, pkt, t0.Add(s.dt))
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

// TestClosedStreamReused checks that Segment hands a closed connection's
// stream back for reuse at once and stands in for it with the shared closed
// stream, which ignores later segments and which Close leaves alone.
func TestClosedStreamReused(t *testing.T) {
	f := &numbered{t: t}
	a := New(f, Config{})
	other := netip.AddrPortFrom(cliAddr.Addr(), 40000)

	syn := mkseg(step{flags: fS, seq: 100})
	s1 := a.Open(syn, SideA, 1, t0, 1, false)
	if st := a.Segment(s1, SideA, syn, 1, t0); st != s1 {
		t.Fatal("Segment replaced the stream of an open connection")
	}
	closed := a.Segment(s1, SideA, mkseg(step{flags: fR, seq: 101}), 2, t0)
	if closed == s1 {
		t.Fatal("Segment kept the stream of a connection closed by a RST")
	}
	if r := f.conns[0]; r.closes != 1 || r.reason != ClosedRST {
		t.Fatalf("connection closed %d times with %d, want once with %d", r.closes, r.reason, ClosedRST)
	}

	ignored := a.Stats().Ignored
	if st := a.Segment(closed, SideA, mkseg(step{flags: fPA, seq: 101, payload: "late"}), 3, t0); st != closed {
		t.Error("a segment of a closed connection changed its stream")
	}
	if got := a.Stats().Ignored; got != ignored+1 {
		t.Errorf("%d segments ignored, want %d", got, ignored+1)
	}
	a.Close(closed, ClosedEOF, 4, t0)
	if r := f.conns[0]; r.closes != 1 {
		t.Errorf("Close of the closed stream closed the connection again (%d closes)", r.closes)
	}

	syn2 := mkseg(step{cli: other, flags: fS, seq: 7})
	s2 := a.Open(syn2, SideA, 5, t0, 2, false)
	if s2 != s1 {
		t.Error("Open did not reuse the closed connection's stream")
	}
	s2 = a.Segment(s2, SideA, syn2, 5, t0)
	a.Segment(s2, SideA, mkseg(step{cli: other, flags: fPA, seq: 8, payload: "x"}), 6, t0)
	if got, want := eventsString(f.conns[1].events), "data 0 @0 \"x\" p6\n"; got != want {
		t.Errorf("new connection on the reused stream:\n%s\nwant:\n%s", got, want)
	}
	if got, want := eventsString(f.conns[0].events), "note 0 kind3 @0+0 p2\nclose 2\n"; got != want {
		t.Errorf("closed connection saw:\n%s\nwant only its RST:\n%s", got, want)
	}
	if st := a.Stats(); st.Active != 1 || st.Conns != 2 {
		t.Errorf("stats %+v, want 1 active connection of 2", st)
	}
}
