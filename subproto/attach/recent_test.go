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
