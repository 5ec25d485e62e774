package membudget

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

func TestGCPercentFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name     string
		base     int
		live     int64
		headroom int64
		want     int
	}{
		{"small heap keeps the base", 400, 8 * mib, 64 * mib, 400},
		{"exactly the headroom", 400, 16 * mib, 64 * mib, 400},
		{"large heap gets the headroom", 400, 64 * mib, 64 * mib, 100},
		{"larger still", 400, 128 * mib, 64 * mib, 50},
		{"floor", 400, 4096 * mib, 64 * mib, minGCPercent},
		{"never above the base", 100, 32 * mib, 64 * mib, 100},
		{"base below the floor", 10, 4096 * mib, 64 * mib, 10},
		{"nothing live yet", 400, 0, 64 * mib, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := gcPercentFor(tc.base, tc.live, tc.headroom); got != tc.want {
				t.Errorf("gcPercentFor(%d, %d, %d) = %d, want %d", tc.base, tc.live, tc.headroom, got, tc.want)
			}
		})
	}
}

// TestGCPacer holds a live heap far larger than the headroom and checks
// that the pacer lowers the percentage after a collection and restores it
// when stopped.
func TestGCPacer(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	p := StartGCPacer(1 << 20)
	live := make([]byte, 64<<20)
	for i := range live {
		live[i] = byte(i)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Percent() == 400 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	runtime.KeepAlive(live)
	if got := p.Percent(); got != minGCPercent {
		t.Errorf("with 64 MiB live and 1 MiB of headroom the percentage is %d, want %d", got, minGCPercent)
	}
	p.Stop()
	if got := debug.SetGCPercent(400); got != 400 {
		t.Errorf("after Stop the percentage is %d, want 400 back", got)
	}
	off := debug.SetGCPercent(-1)
	q := StartGCPacer(1 << 20)
	q.Stop()
	if got := debug.SetGCPercent(off); got != -1 {
		t.Errorf("a pacer changed GOGC=off to %d", got)
	}
}
