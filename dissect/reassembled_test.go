package dissect

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/reassembly"
)

// reassembledSink records each frame's reassembled message and each
// message's index.
type reassembledSink struct{ out []string }

func (s *reassembledSink) Emit(r *Record) error {
	switch r.Kind {
	case KindFrame:
		if m := r.Frame.Reassembled; m != nil {
			s.out = append(s.out, fmt.Sprintf("frame %s reassembled %q frames=%d len=%d first=%d", OpcodeName(r.Frame.Opcode), m.Payload, m.Frames, m.Len, m.FirstPacket))
		} else {
			s.out = append(s.out, fmt.Sprintf("frame %s", OpcodeName(r.Frame.Opcode)))
		}
	case KindMessage:
		s.out = append(s.out, fmt.Sprintf("message %d %s %q", r.Message.Index, OpcodeName(r.Message.Opcode), r.Message.Payload))
	}
	return nil
}

// TestReassembledAndMessageIndex checks that in frame mode the last frame of
// a fragmented message carries the whole message, and that message records
// number data and control messages of a direction in the order they end.
func TestReassembledAndMessageIndex(t *testing.T) {
	srv := upgradeResp("")
	srv = append(srv, cat(
		wsFrame{op: OpText, payload: []byte("frag")},
		wsFrame{fin: true, op: OpPing, payload: []byte("p")},
		wsFrame{op: OpContinuation, payload: []byte("men")},
		wsFrame{fin: true, op: OpContinuation, payload: []byte("t!")},
		text("single"),
		wsFrame{fin: true, op: OpPong},
	)...)
	steps := []step{c2s(upgradeReq("")), s2c(srv)}
	for _, tt := range []struct {
		messages bool
		want     []string
	}{
		{false, []string{"frame text", "frame ping", "frame continuation",
			`frame continuation reassembled "fragment!" frames=3 len=9 first=2`, "frame text", "frame pong"}},
		{true, []string{`message 0 ping "p"`, `message 1 text "fragment!"`, `message 2 text "single"`, `message 3 pong ""`}},
	} {
		var s reassembledSink
		feedConn(New(&s, Options{Messages: tt.messages}), true, false, steps...)
		if fmt.Sprint(s.out) != fmt.Sprint(tt.want) {
			t.Errorf("messages=%v:\n got %q\nwant %q", tt.messages, s.out, tt.want)
		}
	}
}

// frameCounter counts frame records.
type frameCounter struct{ frames int }

func (s *frameCounter) Emit(r *Record) error {
	if r.Kind == KindFrame {
		s.frames++
	}
	return nil
}

// TestHoldIsBoundedInTime checks that a direction whose search cannot decide
// (its peer went quiet inside a frame header) holds up the other
// direction's records for at most maxHold of capture time, not until the
// connection ends: live output must not stall.
func TestHoldIsBoundedInTime(t *testing.T) {
	var s frameCounter
	d := New(&s, Options{})
	info := &reassembly.ConnInfo{Stream: 1, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	h := d.NewConn(info)
	t0 := time.Unix(1700000000, 0)
	var off [2]uint64
	send := func(side reassembly.Side, b []byte, pkt uint64, ts time.Time) {
		h.Data(side, &reassembly.Chunk{Data: b, Offset: off[side], Packet: pkt, Time: ts})
		off[side] += uint64(len(b))
	}
	// The client's bytes: the start of a masked frame header, then nothing.
	send(reassembly.SideA, []byte{0x81, 0x85, 0x01}, 1, t0)
	send(reassembly.SideB, cat(text("one"), text("two"), text("three")), 2, t0.Add(time.Millisecond))
	before := s.frames
	send(reassembly.SideB, text("four").bytes(), 3, t0.Add(2*time.Second))
	if s.frames != before+4 || before != 0 {
		t.Errorf("frames emitted: %d before the hold expired (want 0), %d after (want 4)", before, s.frames)
	}
	h.Close(reassembly.ClosedEOF)
}
