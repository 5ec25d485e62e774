package carry

import (
	"bytes"
	"testing"
)

// TestKeepLeavesRecordsIntact checks that a tail carried over never
// overwrites bytes a record of the same call points into, and that Join
// joins the tail with the next message.
func TestKeepLeavesRecordsIntact(t *testing.T) {
	var b Buffer
	data := b.Join([]byte("AB|CD"))
	b.Keep(data, 3) // "CD" is unfinished
	if got := string(b.Held()); got != "CD" || b.Msgs != 1 {
		t.Fatalf("held %q msgs %d", got, b.Msgs)
	}
	data = b.Join([]byte("EF|GH"))
	if string(data) != "CDEF|GH" || b.Msgs != 2 {
		t.Fatalf("joined %q msgs %d", data, b.Msgs)
	}
	record := data[:4] // a record of this call points into the held buffer
	b.Msgs = 1
	b.Keep(data, 5)
	if !bytes.Equal(record, []byte("CDEF")) {
		t.Errorf("the record's bytes changed to %q", record)
	}
	if string(b.Held()) != "GH" {
		t.Errorf("held %q", b.Held())
	}
	held := b.Held()
	b.Release()
	if string(held) != "GH" || len(b.Held()) != 0 || b.Msgs != 0 {
		t.Errorf("after Release: record %q, held %q, msgs %d", held, b.Held(), b.Msgs)
	}
	data = b.Join([]byte("xy"))
	b.Keep(data, 2)
	if len(b.Held()) != 0 || b.Msgs != 0 {
		t.Errorf("a message used up whole left %q, msgs %d", b.Held(), b.Msgs)
	}
}
