package reassembly

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

// sink is a Handler that keeps nothing.
type sink struct{ bytes uint64 }

func (s *sink) Data(_ Side, c *Chunk) bool { s.bytes += uint64(len(c.Data)); return true }
func (s *sink) Gap(Side, *Gap)             {}
func (s *sink) Note(Side, *Note)           {}
func (s *sink) Close(CloseReason)          {}

type sinkFactory struct{ s *sink }

func (f sinkFactory) NewConn(*ConnInfo) Handler { return f.s }

const mss = 1460

// stream is an open connection fed data segments of mss bytes by the client,
// each acknowledged by the server.
type stream struct {
	a         *Assembler
	sink      *sink
	data, ack netpkt.Segment
	pkt       uint64
	ts        time.Time
}

func newStream() *stream {
	s := &stream{sink: &sink{}, ts: t0}
	s.a = New(sinkFactory{s.sink}, Config{})
	for i, st := range handshake(ci, si) {
		s.a.Process(mkseg(st), uint64(i+1), t0)
	}
	s.pkt = 3
	s.data = *mkseg(step{flags: fPA, seq: ci + 1, ack: si + 1, payload: string(make([]byte, mss))})
	s.ack = *mkseg(step{fromSrv: true, flags: fA, seq: si + 1})
	return s
}

// send processes the client segment k (from 0) and the server's ACK of it.
func (s *stream) send(k uint32) {
	s.pkt++
	s.ts = s.ts.Add(time.Millisecond)
	s.data.Seq = ci + 1 + k*mss
	s.a.Process(&s.data, s.pkt, s.ts)
}

func (s *stream) acknowledge(k uint32) {
	s.pkt++
	s.ack.Ack = ci + 1 + k*mss
	s.a.Process(&s.ack, s.pkt, s.ts)
}

func TestInOrderDoesNotAllocate(t *testing.T) {
	s := newStream()
	k := uint32(0)
	step := func() {
		s.send(k)
		k++
		s.acknowledge(k)
	}
	for range 100 { // warm up: the recent window is allocated once
		step()
	}
	if n := testing.AllocsPerRun(2000, step); n != 0 {
		t.Errorf("in-order segment: %v allocations, want 0", n)
	}
	if want := uint64(k) * mss; s.sink.bytes != want {
		t.Errorf("delivered %d bytes, want %d", s.sink.bytes, want)
	}
}

func TestOutOfOrderSteadyStateDoesNotAllocate(t *testing.T) {
	s := newStream()
	k := uint32(0)
	pair := func() { // segments k+1, k: one buffered, then both delivered
		s.send(k + 1)
		s.send(k)
		k += 2
	}
	for range 100 {
		pair()
	}
	if n := testing.AllocsPerRun(1000, pair); n != 0 {
		t.Errorf("swapped segments: %v allocations, want 0", n)
	}
	if st := s.a.Stats(); st.Buffered != 0 || st.Gaps != 0 || s.sink.bytes != uint64(k)*mss {
		t.Errorf("stats %+v, delivered %d", st, s.sink.bytes)
	}
}

func BenchmarkInOrder(b *testing.B) {
	s := newStream()
	b.SetBytes(mss)
	b.ReportAllocs()
	k := uint32(0)
	for b.Loop() {
		s.send(k)
		k++
		if k%2 == 0 {
			s.acknowledge(k)
		}
	}
}

func BenchmarkOutOfOrder(b *testing.B) {
	s := newStream()
	b.SetBytes(mss)
	b.ReportAllocs()
	k := uint32(0)
	for b.Loop() {
		// Segments go in swapped pairs: every other one is buffered.
		s.send(k ^ 1)
		k++
	}
}

// BenchmarkTableTrack looks up segments of 4,096 connections in an
// interleaved order, as the reader of a busy capture does.
func BenchmarkTableTrack(b *testing.B) {
	const conns = 4096
	segs := make([]netpkt.Segment, conns)
	for i := range segs {
		segs[i] = netpkt.Segment{
			Src: netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), SrcPort: uint16(40000 + i),
			Dst: netip.AddrFrom4([4]byte{10, 1, 0, 1}), DstPort: 80, Flags: netpkt.FlagACK,
		}
	}
	tab := NewTable[tconn](Config{}, nopEnder{})
	for i := range segs {
		x := new(tconn)
		tab.Add(x, &x.Entry, &segs[i], uint64(i+1), t0)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		// A stride coprime to the count visits every connection in a
		// cache-unfriendly order.
		seg := &segs[(i*2654435761)%conns]
		if x, _ := tab.Track(seg, uint64(i), t0); x == nil {
			b.Fatal("connection not found")
		}
	}
}
