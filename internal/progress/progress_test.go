package progress

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name      string
		pos, size int64
		elapsed   time.Duration
		want      string
	}{
		{"start", 0, 1000, 0, "\r  0% - MB/s ETA -"},
		{"42%", 420e6, 1000e6, 3 * time.Second, "\r 42% 140.0 MB/s ETA 0:05"},
		{"rounds ETA up", 1e6, 3e6, time.Second, "\r 33% 1.0 MB/s ETA 0:02"},
		{"done", 5e6, 5e6, 2 * time.Second, "\r 100% 2.5 MB/s ETA 0:00"},
		{"past the end", 6e6, 5e6, time.Second, "\r 100% 6.0 MB/s ETA 0:00"},
		{"hours", 1e6, 4000e6, time.Second, "\r  0% 1.0 MB/s ETA 1:06:39"},
		{"unknown size", 12345678, 0, 2 * time.Second, "\r 12.3 MB 6.2 MB/s"},
		{"unknown size, no time", 0, -1, 0, "\r 0.0 MB - MB/s"},
		{"negative pos", -5, 100, time.Second, "\r  0% - MB/s ETA -"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Line(nil, tc.pos, tc.size, tc.elapsed)); got != tc.want {
				t.Errorf("Line(%d, %d, %v) = %q, want %q", tc.pos, tc.size, tc.elapsed, got, tc.want)
			}
		})
	}
}

// fakeClock is a clock the test advances.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// syncWriter records writes and announces each one.
type syncWriter struct {
	mu     sync.Mutex
	writes []string
	wrote  chan struct{}
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, string(p))
	w.mu.Unlock()
	select {
	case w.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *syncWriter) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

func TestBar(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1000, 0)}
	ticks := make(chan time.Time)
	var stopped atomic.Bool
	var gotInterval time.Duration
	w := &syncWriter{wrote: make(chan struct{}, 1)}
	var pos atomic.Int64
	b := Start(w, func() (int64, int64) { return pos.Load(), 200e6 }, Options{
		Now: clock.Now,
		Tick: func(d time.Duration) (<-chan time.Time, func()) {
			gotInterval = d
			return ticks, func() { stopped.Store(true) }
		},
	})
	if gotInterval != DefaultInterval {
		t.Errorf("interval %v, want %v", gotInterval, DefaultInterval)
	}
	tick := func() {
		t.Helper()
		ticks <- time.Time{}
		select {
		case <-w.wrote:
		case <-time.After(5 * time.Second):
			t.Fatal("no redraw after a tick")
		}
	}
	clock.advance(time.Second)
	pos.Store(50e6)
	tick()
	clock.advance(time.Second)
	pos.Store(100e6)
	tick()
	b.Stop()
	b.Stop() // idempotent
	if !stopped.Load() {
		t.Error("ticker not stopped")
	}
	got := w.all()
	want := []string{
		"\r 25% 50.0 MB/s ETA 0:03",
		"\r 50% 50.0 MB/s ETA 0:02",
		"\r" + strings.Repeat(" ", len(" 25% 50.0 MB/s ETA 0:03")) + "\r",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("writes\n%q\nwant\n%q", got, want)
	}
}

func TestBarShorterLineCoversLonger(t *testing.T) {
	clock := &fakeClock{now: time.Unix(0, 0)}
	ticks := make(chan time.Time)
	w := &syncWriter{wrote: make(chan struct{}, 1)}
	var size atomic.Int64
	size.Store(0)
	b := Start(w, func() (int64, int64) { return 123456789, size.Load() }, Options{
		Now:  clock.Now,
		Tick: func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} },
	})
	clock.advance(time.Second)
	ticks <- time.Time{}
	<-w.wrote
	size.Store(123456789) // the second line is shorter
	ticks <- time.Time{}
	<-w.wrote
	b.Stop()
	got := w.all()
	if len(got) != 3 {
		t.Fatalf("writes %q", got)
	}
	if len(got[1]) < len(got[0]) {
		t.Errorf("second line %q does not cover the first %q", got[1], got[0])
	}
}

func TestStopWithoutDrawing(t *testing.T) {
	w := &syncWriter{wrote: make(chan struct{}, 1)}
	b := Start(w, func() (int64, int64) { return 0, 0 }, Options{Interval: time.Hour})
	b.Stop()
	if got := w.all(); len(got) != 0 {
		t.Errorf("wrote %q without a redraw", got)
	}
}

func TestIsTerminal(t *testing.T) {
	if IsTerminal(nil) {
		t.Error("nil file is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "notatty")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if IsTerminal(f) {
		t.Error("a regular file is a terminal")
	}
}
