package reassembly

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/internal/membudget"
)

// TestBufferedByMemory checks that out-of-order pieces count what they
// occupy: a 1,024-byte segment sits in a 2,048-byte pooled buffer.
func TestBufferedByMemory(t *testing.T) {
	steps := handshake(ci, si)
	// The first 1,024 bytes are lost; four later segments are buffered.
	for k := 1; k <= 4; k++ {
		steps = append(steps, step{flags: fPA, seq: uint32(1001 + 1024*k), ack: 5001, payload: strings.Repeat("x", 1024)})
	}
	a, _ := run(t, Config{}, steps, false)
	if got, want := a.Stats().Buffered, 4*(poolBufCap+pieceOverhead); got != want {
		t.Errorf("Buffered = %d, want %d (the buffers' capacity, not the 4,096 payload bytes)", got, want)
	}
}

// TestMemoryBudget checks the reassembler's reactions to an exhausted
// budget: holes are given up (gap reason "memory budget") once the buffered
// pieces exceed it, a new connection ends the least recently active one
// (ClosedMemory), and everything charged is given back in the end.
func TestMemoryBudget(t *testing.T) {
	t.Run("holes given up", func(t *testing.T) {
		b := membudget.New(8 << 10)
		steps := handshake(ci, si)
		for k := 1; k <= 8; k++ {
			steps = append(steps, step{flags: fPA, seq: uint32(1001 + 1024*k), ack: 5001, payload: strings.Repeat("y", 1024)})
		}
		a, f := run(t, Config{Memory: b}, steps, true)
		gaps := f.conns[0].of("gap")
		if len(gaps) == 0 || !strings.Contains(gaps[0].String(), GapMemory) {
			t.Fatalf("no gap for the memory budget: %s", eventsString(f.conns[0].events))
		}
		if a.Stats().PeakBuffered > 8<<10+poolBufCap+pieceOverhead {
			t.Errorf("peak buffered %d beyond the 8 KiB budget", a.Stats().PeakBuffered)
		}
		if b.Used() > 2<<16 {
			t.Errorf("%d bytes still charged", b.Used())
		}
	})
	t.Run("least recently active connection ended", func(t *testing.T) {
		b := membudget.New(3 * ConnCost)
		var steps []step
		for i := range 5 {
			cli := netip.AddrPortFrom(cliAddr.Addr(), uint16(40000+i))
			steps = append(steps, step{cli: cli, flags: fS, seq: 100, dt: time.Duration(i) * time.Millisecond})
		}
		a, f := run(t, Config{Memory: b}, steps, true)
		var memory int
		for _, r := range f.conns {
			if r.reason == ClosedMemory {
				memory++
			}
		}
		if memory != 2 || a.Stats().Evictions != 2 {
			t.Errorf("%d connections ended for the budget (%d evictions), want 2", memory, a.Stats().Evictions)
		}
		if b.Used() > 2<<16 {
			t.Errorf("%d bytes still charged", b.Used())
		}
	})
}
