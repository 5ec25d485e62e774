package reassembly

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

// Flag shorthands for test scripts.
const (
	fS  = netpkt.FlagSYN
	fA  = netpkt.FlagACK
	fF  = netpkt.FlagFIN
	fR  = netpkt.FlagRST
	fSA = netpkt.FlagSYN | netpkt.FlagACK
	fFA = netpkt.FlagFIN | netpkt.FlagACK
	fPA = netpkt.FlagPSH | netpkt.FlagACK
)

var (
	cliAddr = netip.MustParseAddrPort("10.0.0.1:40000")
	srvAddr = netip.MustParseAddrPort("10.0.0.2:80")
	altCli  = netip.MustParseAddrPort("10.0.0.1:40001")
	t0      = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
)

// event is one handler call, recorded.
type event struct {
	kind   string // data, gap, note, close
	side   Side
	off, n uint64
	data   string
	pkt    uint64
	reason string
	note   NoteKind
	close  CloseReason
}

func (e event) String() string {
	switch e.kind {
	case "data":
		return fmt.Sprintf("data %d @%d %q p%d", e.side, e.off, e.data, e.pkt)
	case "gap":
		return fmt.Sprintf("gap %d @%d+%d %s", e.side, e.off, e.n, e.reason)
	case "note":
		return fmt.Sprintf("note %d kind%d @%d+%d p%d", e.side, e.note, e.off, e.n, e.pkt)
	}
	return fmt.Sprintf("close %d", e.close)
}

// recConn records the calls of one connection and checks the API contract
// (contiguous offsets, nothing after Close).
type recConn struct {
	t       testing.TB
	info    ConnInfo
	events  []event
	holes   []event   // NoteHole and NoteHoleDone notes
	next    [2]uint64 // next expected offset per side
	stream  [2][]byte // delivered bytes; gaps filled with '?'
	gapped  [2]uint64
	closes  int
	reason  CloseReason
	dataN   int
	stopAt  int // return false on this Data call (1-based); 0 = never
	stopped bool
}

func (r *recConn) Data(side Side, c *Chunk) bool {
	r.check()
	if r.stopped {
		r.t.Errorf("stream %d: Data after returning false", r.info.Stream)
	}
	if c.Offset != r.next[side] {
		r.t.Errorf("stream %d side %d: data at %d, want %d", r.info.Stream, side, c.Offset, r.next[side])
	}
	if len(c.Data) == 0 {
		r.t.Errorf("stream %d side %d: empty chunk", r.info.Stream, side)
	}
	r.next[side] = c.Offset + uint64(len(c.Data))
	r.stream[side] = append(r.stream[side], c.Data...)
	r.events = append(r.events, event{kind: "data", side: side, off: c.Offset, n: uint64(len(c.Data)), data: string(c.Data), pkt: c.Packet})
	r.dataN++
	if r.stopAt > 0 && r.dataN >= r.stopAt {
		r.stopped = true
		return false
	}
	return true
}

func (r *recConn) Gap(side Side, g *Gap) {
	r.check()
	if r.stopped {
		r.t.Errorf("stream %d: Gap after returning false", r.info.Stream)
	}
	if g.Offset != r.next[side] || g.Len == 0 {
		r.t.Errorf("stream %d side %d: gap %d+%d, want offset %d and len > 0", r.info.Stream, side, g.Offset, g.Len, r.next[side])
	}
	r.next[side] = g.Offset + g.Len
	r.gapped[side] += g.Len
	if g.Len < 1<<20 {
		r.stream[side] = append(r.stream[side], strings.Repeat("?", int(g.Len))...)
	}
	r.events = append(r.events, event{kind: "gap", side: side, off: g.Offset, n: g.Len, reason: g.Reason, pkt: g.Packet})
}

func (r *recConn) Note(side Side, n *Note) {
	r.check()
	if n.Kind == NoteHole || n.Kind == NoteHoleDone {
		// Checked on their own (TestHoleNotes); the other tests' events
		// leave them out.
		r.holes = append(r.holes, event{kind: "hole", side: side, off: n.Offset, n: n.Len, note: n.Kind, pkt: n.Packet})
		return
	}
	r.events = append(r.events, event{kind: "note", side: side, off: n.Offset, n: n.Len, note: n.Kind, pkt: n.Packet})
}

func (r *recConn) Close(reason CloseReason) {
	r.check()
	r.closes++
	r.reason = reason
	r.events = append(r.events, event{kind: "close", close: reason})
}

func (r *recConn) check() {
	if r.closes > 0 {
		r.t.Errorf("stream %d: call after Close", r.info.Stream)
	}
}

// of returns the events of one kind.
func (r *recConn) of(kind string) []event {
	var out []event
	for _, e := range r.events {
		if e.kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// recorder is a Factory of recConns.
type recorder struct {
	t      testing.TB
	conns  []*recConn
	stopAt int
}

func (f *recorder) NewConn(info *ConnInfo) Handler {
	if info.Stream != uint64(len(f.conns)) {
		f.t.Errorf("stream number %d, want %d", info.Stream, len(f.conns))
	}
	r := &recConn{t: f.t, info: *info, stopAt: f.stopAt}
	f.conns = append(f.conns, r)
	return r
}

// step is one packet of a test script.
type step struct {
	fromSrv  bool
	flags    uint8
	seq, ack uint32
	payload  string
	cut      int           // bytes cut off by the snap length
	dt       time.Duration // time since t0
	cli, srv netip.AddrPort
}

// mkseg builds a segment for s.
func mkseg(s step) *netpkt.Segment {
	c, v := cliAddr, srvAddr
	if s.cli.IsValid() {
		c = s.cli
	}
	if s.srv.IsValid() {
		v = s.srv
	}
	from, to := c, v
	if s.fromSrv {
		from, to = v, c
	}
	return &netpkt.Segment{
		Src: from.Addr(), Dst: to.Addr(), SrcPort: from.Port(), DstPort: to.Port(),
		Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: 1000,
		Payload: []byte(s.payload), PayloadLen: len(s.payload) + s.cut,
	}
}

// run feeds steps (packet numbers from 1) to a new assembler and returns it
// with its recorder; flush calls FlushAll after the last packet.
func run(t testing.TB, cfg Config, steps []step, flush bool) (*Assembler, *recorder) {
	t.Helper()
	f := &recorder{t: t}
	a := New(f, cfg)
	feed(a, steps, 1)
	if flush {
		a.FlushAll(uint64(len(steps)+1), t0.Add(time.Hour))
	}
	return a, f
}

// feed feeds steps numbered from first.
func feed(a *Assembler, steps []step, first uint64) {
	for i, s := range steps {
		a.Process(mkseg(s), first+uint64(i), t0.Add(s.dt))
	}
}

// handshake returns the three packets opening a connection with client ISN
// ci and server ISN si.
func handshake(ci, si uint32) []step {
	return []step{
		{flags: fS, seq: ci},
		{fromSrv: true, flags: fSA, seq: si, ack: ci + 1},
		{flags: fA, seq: ci + 1, ack: si + 1},
	}
}

func join(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func eventsString(evs []event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}
