package attach

import (
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

type nopSink struct{}

func (nopSink) Emit(*dissect.Record) error { return nil }

// TestRecentFollowsTheMap checks that the cache in front of the connection
// map never returns a connection the map no longer has: after its end
// record, after eviction by the bound, and for keys sharing a slot.
func TestRecentFollowsTheMap(t *testing.T) {
	s := NewSink(nopSink{}, "")
	open := func(k connKey) {
		t.Helper()
		if err := s.Emit(&dissect.Record{Kind: dissect.KindConn, Conn: &dissect.Conn{Stream: k.stream, H2Stream: k.h2}}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := connKey{stream: 1}, connKey{stream: 1 + recentSlots} // same slot
	open(a)
	ca := s.lookup(a)
	if ca == nil || s.slot(a).c != ca {
		t.Fatalf("connection %v not found and cached", a)
	}
	open(b)
	if s.lookup(b) == ca || s.lookup(a) != ca {
		t.Fatalf("keys sharing a slot got each other's state")
	}
	if err := s.Emit(&dissect.Record{Kind: dissect.KindEnd, Conn: &dissect.Conn{Stream: a.stream}}); err != nil {
		t.Fatal(err)
	}
	if s.lookup(a) != nil {
		t.Fatalf("ended connection %v still found", a)
	}
	// The bound: filling the map evicts the oldest connections.
	for i := range maxConns {
		open(connKey{stream: uint64(1<<20 + i)})
	}
	for i := range maxConns {
		k := connKey{stream: uint64(1<<20 + i)}
		if c := s.lookup(k); c != nil && s.conns[k] != c {
			t.Fatalf("connection %v: cache and map disagree", k)
		} else if c == nil && s.slot(k).k == k && s.slot(k).c != nil {
			t.Fatalf("evicted connection %v still cached", k)
		}
	}
	if len(s.conns) >= maxConns {
		t.Fatalf("%d connections kept, bound %d", len(s.conns), maxConns)
	}
}

// TestWholePayload checks which connections' messages must stay whole when
// the dissector keeps only previews: while sniffing and when a decoder
// reads them, not for plain JSON a summary does not decode, nor where no
// protocol was found or decoding is off.
func TestWholePayload(t *testing.T) {
	msg := func(s *Sink, stream uint64, payload string) {
		t.Helper()
		r := &dissect.Record{Kind: dissect.KindMessage, Conn: &dissect.Conn{Stream: stream}, HasDir: true,
			Message: &dissect.Message{Opcode: dissect.OpText, Len: uint64(len(payload)), Frames: 1, Payload: []byte(payload)}}
		if err := s.Emit(r); err != nil {
			t.Fatal(err)
		}
	}
	open := func(s *Sink, stream uint64, subprotocol string) *dissect.Conn {
		t.Helper()
		cn := &dissect.Conn{Stream: stream, Subprotocol: subprotocol}
		if err := s.Emit(&dissect.Record{Kind: dissect.KindConn, Conn: cn}); err != nil {
			t.Fatal(err)
		}
		return cn
	}
	tests := []struct {
		name      string
		force     string
		plainJSON bool
		sub       string
		msgs      []string
		whole     bool
	}{
		{name: "unseen connection", whole: true},
		{name: "sniffing", msgs: []string{"hello"}, whole: true},
		{name: "plain JSON, summary", msgs: []string{`{"a":1}`}, whole: false},
		{name: "plain JSON, decoded", plainJSON: true, msgs: []string{`{"a":1}`}, whole: true},
		{name: "nothing found", msgs: []string{"a", "b", "c", "d", "e", "f", "g", "h"}, whole: false},
		{name: "subprotocol decoded", sub: "mqtt", whole: true},
		{name: "decoding off", force: "none", whole: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSink(nopSink{}, tc.force)
			s.PlainJSON = tc.plainJSON
			cn := &dissect.Conn{Stream: 7}
			if tc.name != "unseen connection" {
				cn = open(s, 7, tc.sub)
			}
			for _, m := range tc.msgs {
				msg(s, 7, m)
			}
			if got := s.WholePayload(cn); got != tc.whole {
				t.Errorf("WholePayload = %v, want %v", got, tc.whole)
			}
		})
	}
}
