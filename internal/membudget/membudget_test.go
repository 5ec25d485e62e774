package membudget

import (
	"sync"
	"testing"
)

func TestAccountTakeGive(t *testing.T) {
	tests := []struct {
		name     string
		limit    int64
		takes    []int64 // positive: Take, negative: Give
		wantOK   []bool
		wantUsed int64
	}{
		{"unlimited", 0, []int64{1 << 40, 5}, []bool{true, true}, 1<<40 + 5},
		{"within", 1 << 20, []int64{100, 200, -100}, []bool{true, true, true}, 200},
		{"refused beyond the limit", 1 << 20, []int64{1 << 19, 1 << 19, 1}, []bool{true, true, false}, 1 << 20},
		{"room again after give", 1 << 20, []int64{1 << 20, 1, -10, 5}, []bool{true, false, true, true}, 1<<20 - 5},
		{"slab larger than the limit", 1000, []int64{600, 400, 1}, []bool{true, true, false}, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := New(tc.limit)
			a := b.Account()
			for i, n := range tc.takes {
				if n < 0 {
					a.Give(-n)
					continue
				}
				if got := a.Take(n); got != tc.wantOK[i] {
					t.Errorf("step %d: Take(%d) = %v, want %v", i, n, got, tc.wantOK[i])
				}
			}
			if a.Used() != tc.wantUsed {
				t.Errorf("Used() = %d, want %d", a.Used(), tc.wantUsed)
			}
			if tc.limit > 0 && b.Used() > tc.limit {
				t.Errorf("budget used %d beyond its limit %d", b.Used(), tc.limit)
			}
			if b.Peak() < a.Used() {
				t.Errorf("Peak() = %d below what is used (%d)", b.Peak(), a.Used())
			}
		})
	}
}

func TestForceAndOver(t *testing.T) {
	b := New(1 << 16)
	a := b.Account()
	if !a.Force(1 << 15) {
		t.Fatal("Force within the limit reported over")
	}
	if a.Force(1<<16) || !a.Over() {
		t.Fatal("Force beyond the limit not reported")
	}
	if a.Avail() != 0 {
		t.Errorf("Avail() = %d while over", a.Avail())
	}
	a.Force(-(1 << 16))
	if a.Over() {
		t.Error("still over after giving back")
	}
	if b.Peak() < 3<<15 {
		t.Errorf("Peak() = %d, want at least %d", b.Peak(), 3<<15)
	}
}

func TestNilAccount(t *testing.T) {
	var b *Budget
	a := b.Account()
	if !a.Take(1<<50) || !a.Force(1) || a.Over() || a.Used() != 0 || a.Budget() != nil {
		t.Error("a nil account must accept everything and hold nothing")
	}
	a.Give(10)
}

// TestAccountsConcurrent checks that accounts of several goroutines keep
// the shared total within the limit and return to zero.
func TestAccountsConcurrent(t *testing.T) {
	b := New(8 << 20)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			a := b.Account()
			var held []int64
			for i := range 2000 {
				n := int64(1 + (i*7919+g)%40000)
				if a.Take(n) {
					held = append(held, n)
				}
				if len(held) > 50 {
					a.Give(held[0])
					held = held[1:]
				}
			}
			for _, n := range held {
				a.Give(n)
			}
			a.Give(a.have) // hand the slab back for the final check
		})
	}
	wg.Wait()
	if b.Peak() > b.Limit() {
		t.Errorf("peak %d beyond the limit %d", b.Peak(), b.Limit())
	}
}
