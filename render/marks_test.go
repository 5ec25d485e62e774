package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// markRecords are a compressed frame and message that could not be inflated
// and the last frame of a fragmented message, with its reassembly.
func markRecords() []fixture {
	v4, _, _, _ := newConns()
	raw := []byte{0xf2, 0x00, 0x11, 0x00, 0x00}
	return []fixture{
		{"frame-not-inflated", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 51, Time: at(3 * time.Second), Dir: dissect.ServerToClient, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, RSV1: true, Opcode: dissect.OpText, LenCode: 5, Len: 5, HeaderLen: 2,
				Payload: raw, IsText: true, Compressed: true, NotInflated: true}}},
		{"message-not-inflated", dissect.Record{Kind: dissect.KindMessage, Conn: v4, Packet: 51, Time: at(3 * time.Second), Dir: dissect.ServerToClient, HasDir: true,
			Message: &dissect.Message{Dir: dissect.ServerToClient, Opcode: dissect.OpText, Len: 5, Frames: 1, FirstPacket: 51, Payload: raw,
				Compressed: true, NotInflated: true, Index: 2}}},
		{"last-fragment", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 17, Time: at(9 * time.Millisecond), Dir: dissect.ClientToServer, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ClientToServer, Fin: true, Masked: true, Opcode: dissect.OpContinuation, LenCode: 4, Len: 4, HeaderLen: 6,
				Payload: []byte("ment"), IsText: true, MessageIndex: 1,
				Reassembled: &dissect.Message{Dir: dissect.ClientToServer, Opcode: dissect.OpText, Len: 8, Frames: 2, FirstPacket: 16, Payload: []byte("fragment")}}}},
	}
}

// TestNotInflatedAndReassembled checks how payloads that could not be
// inflated are marked, and how the last frame of a fragmented message shows
// the whole message, in every format.
func TestNotInflatedAndReassembled(t *testing.T) {
	fx := markRecords()
	render := func(opts Options, i int) string {
		out, err := renderAll(opts, fx[i:i+1])
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	json0 := func(i int) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(render(Options{Format: FormatJSON}, i)), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for i := range 2 {
		if got := json0(i)["inflated"]; got != false {
			t.Errorf("%s: json inflated = %v, want false", fx[i].name, got)
		}
		if s := render(Options{}, i); !strings.Contains(s, "[COMPRESSED] [NOT INFLATED]") {
			t.Errorf("%s: summary %q lacks [NOT INFLATED]", fx[i].name, s)
		}
		if s := render(Options{Format: FormatTree}, i); !strings.Contains(s, "[Compressed: NOT inflated") {
			t.Errorf("%s: tree %q lacks the not-inflated line", fx[i].name, s)
		}
	}
	m, _ := json0(2)["message"].(map[string]any)
	if m == nil || m["text"] != "fragment" || m["frames"] != 2.0 || m["len"] != 8.0 || m["first_packet"] != 16.0 {
		t.Errorf("json message of the last fragment: %v", m)
	}
	if s := render(Options{Format: FormatTree}, 2); !strings.Contains(s, "[Reassembled message: 2 frames, first packet 16, 8 bytes]") || !strings.Contains(s, "Text: fragment") {
		t.Errorf("tree of the last fragment:\n%s", s)
	}
	for _, name := range []string{"text-c2s", "compressed"} {
		out := renderOne(t, name, Options{Format: FormatJSON})
		if strings.Contains(out, `"inflated"`) || strings.Contains(out, `"message"`) {
			t.Errorf("%s: %s", name, out)
		}
	}
}
