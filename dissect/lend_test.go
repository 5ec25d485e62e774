package dissect

import (
	"fmt"
	"reflect"
	"testing"
	"unsafe"
)

// lendSink collects records and counts those whose payload points into in,
// the bytes delivered to the dissector (wsDir.lent).
type lendSink struct {
	collect
	in   []byte
	lent int
}

func (s *lendSink) Emit(r *Record) error {
	var p []byte
	switch r.Kind {
	case KindFrame:
		p = r.Frame.Payload
	case KindMessage:
		p = r.Message.Payload
	}
	if len(p) > 0 && len(s.in) > 0 {
		at, lo := uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(unsafe.Pointer(unsafe.SliceData(s.in)))
		if at >= lo && at < lo+uintptr(len(s.in)) {
			s.lent++
		}
	}
	return s.collect.Emit(r)
}

// TestLentPayload checks that records showing the delivered bytes
// themselves (a whole unmasked frame in one delivery) say exactly what they
// say when the same frames arrive a byte at a time and are copied, and that
// only the frames that may be lent are.
func TestLentPayload(t *testing.T) {
	k := []byte{1, 2, 3, 4}
	tests := []struct {
		name   string
		server []byte
		opts   Options
		lent   int // records lending their payload, frames and messages mode alike
	}{
		{name: "text", server: text("hello ✓").bytes(), lent: 1},
		{name: "binary", server: wsFrame{fin: true, op: OpBinary, payload: []byte{0, 0xff, 7}}.bytes(), lent: 1},
		{name: "bad utf-8", server: text("ok\xc3(").bytes(), lent: 1},
		{name: "two messages", server: cat(text("one"), wsFrame{fin: true, op: OpBinary, payload: []byte("two")}), lent: 2},
		{name: "fragmented", server: cat(wsFrame{op: OpText, payload: []byte("ab")},
			wsFrame{fin: true, op: OpContinuation, payload: []byte("cd")})},
		{name: "rune across fragments", server: cat(wsFrame{op: OpText, payload: []byte("x\xe2\x82")},
			wsFrame{fin: true, op: OpContinuation, payload: []byte("\xac!")})},
		{name: "empty first fragment", server: cat(wsFrame{op: OpText},
			wsFrame{fin: true, op: OpContinuation, payload: []byte("all here")}), lent: 1},
		{name: "over max-message", server: text("longer than eight").bytes(), opts: Options{MaxMessage: 8}},
		{name: "at max-message", server: text("eight ok").bytes(), opts: Options{MaxMessage: 8}, lent: 1},
		{name: "control frames", server: cat(wsFrame{fin: true, op: OpPing, payload: []byte("p")}, closeF(1000, "bye", nil))},
		{name: "masked", server: wsFrame{fin: true, op: OpText, key: k, payload: []byte("masked")}.bytes()},
		{name: "payload discarded", server: text("gone").bytes(), opts: Options{DiscardPayload: true}},
	}
	for _, tc := range tests {
		for _, messages := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/messages=%v", tc.name, messages), func(t *testing.T) {
				opts := tc.opts
				opts.Messages = messages
				steps := []step{c2s(upgradeReq("")), s2c(upgradeResp("")), s2c(tc.server)}
				whole := &lendSink{in: tc.server}
				feedConn(New(whole, opts), true, false, steps...)
				copied := &lendSink{in: tc.server}
				feedConn(New(copied, opts), true, true, steps...)
				if !reflect.DeepEqual(whole.recs, copied.recs) {
					t.Errorf("whole frames:\n%+v\nbyte by byte:\n%+v", whole.recs, copied.recs)
				}
				if whole.lent != tc.lent {
					t.Errorf("%d records lent the delivered bytes, want %d", whole.lent, tc.lent)
				}
				if copied.lent != 0 {
					t.Errorf("%d records lent bytes delivered one at a time", copied.lent)
				}
			})
		}
	}
}

// TestLentPayloadOutlivesNothing checks that a lent payload is not kept: the
// next message of the direction, copied, is not mixed with it.
func TestLentPayloadOutlivesNothing(t *testing.T) {
	s := &collect{}
	d := New(s, Options{Messages: true})
	steps := []step{c2s(upgradeReq("")), s2c(upgradeResp("")),
		s2c(text("first, lent").bytes()),
		s2c(wsFrame{op: OpText, payload: []byte("sec")}.bytes()),
		s2c(wsFrame{fin: true, op: OpContinuation, payload: []byte("ond")}.bytes())}
	feedConn(d, true, false, steps...)
	var texts []string
	for _, r := range s.recs {
		if r.kind == "message" && r.dir == ServerToClient.String() {
			texts = append(texts, r.payload)
		}
	}
	if want := []string{"first, lent", "second"}; !reflect.DeepEqual(texts, want) {
		t.Errorf("server messages %q, want %q", texts, want)
	}
}
