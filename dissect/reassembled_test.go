package dissect

import (
	"fmt"
	"testing"
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
