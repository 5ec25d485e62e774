// Package progress draws a progress line on a terminal for long file reads.
//
// A Bar polls a position function from its own goroutine and redraws one
// line, "\r 42% 120.3 MB/s ETA 0:07", about five times a second until
// stopped; Stop clears the line. Whether to show a bar at all is the
// caller's decision: only when the output it draws on (standard error) is a
// terminal, never when it is piped (see IsTerminal), and never on standard
// output.
package progress

import (
	"io"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/term"
)

// DefaultInterval is how often a Bar redraws its line.
const DefaultInterval = 200 * time.Millisecond

// Options configure a Bar. The zero value selects the defaults.
type Options struct {
	// Interval is the time between redraws; zero means DefaultInterval.
	Interval time.Duration
	// Now returns the current time; nil means time.Now. Tests use a fake
	// clock.
	Now func() time.Time
	// Tick returns a channel that delivers a value every d, and a function
	// that stops it; nil uses a time.Ticker. Tests use a fake ticker.
	Tick func(d time.Duration) (<-chan time.Time, func())
}

// Bar redraws a progress line until Stop is called.
type Bar struct {
	w     io.Writer
	pos   func() (pos, size int64)
	now   func() time.Time
	tick  <-chan time.Time
	stopT func()
	start time.Time

	stop chan struct{}
	done chan struct{}
	once sync.Once

	// Owned by the drawing goroutine (and by Stop after it ended).
	buf   []byte
	width int // length of the longest line drawn, for clearing
}

// IsTerminal reports whether f is a terminal. A nil f is not.
func IsTerminal(f *os.File) bool {
	return f != nil && term.IsTerminal(int(f.Fd()))
}

// Start returns a Bar that draws on w the progress reported by pos: pos
// returns the bytes read so far and the total (size <= 0 when unknown: the
// bar then shows the bytes read and the rate, without percentage and ETA).
// pos is called from the Bar's goroutine, so it must be safe to call
// concurrently with the reading (source.File's Pos and Size are).
func Start(w io.Writer, pos func() (pos, size int64), opts Options) *Bar {
	b := &Bar{
		w:    w,
		pos:  pos,
		now:  opts.Now,
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	if b.now == nil {
		b.now = time.Now
	}
	interval := opts.Interval
	if interval <= 0 {
		interval = DefaultInterval
	}
	if opts.Tick != nil {
		b.tick, b.stopT = opts.Tick(interval)
	} else {
		t := time.NewTicker(interval)
		b.tick, b.stopT = t.C, t.Stop
	}
	b.start = b.now()
	go b.loop()
	return b
}

// loop redraws on every tick until stopped.
func (b *Bar) loop() {
	defer close(b.done)
	for {
		select {
		case <-b.stop:
			return
		case <-b.tick:
			b.draw()
		}
	}
}

// Stop stops redrawing and clears the line (if anything was drawn). It
// waits for the drawing goroutine to end and may be called more than once.
func (b *Bar) Stop() {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
		b.stopT()
		if b.width > 0 {
			b.buf = append(b.buf[:0], '\r')
			for range b.width {
				b.buf = append(b.buf, ' ')
			}
			b.buf = append(b.buf, '\r')
			_, _ = b.w.Write(b.buf) // a progress line is best effort
		}
	})
}

// draw writes the current progress line.
func (b *Bar) draw() {
	pos, size := b.pos()
	elapsed := b.now().Sub(b.start)
	b.buf = Line(b.buf[:0], pos, size, elapsed)
	n := len(b.buf) - 1 // without the leading \r
	for k := n; k < b.width; k++ {
		b.buf = append(b.buf, ' ') // cover what a longer line left
	}
	b.width = max(b.width, n)
	_, _ = b.w.Write(b.buf) // a progress line is best effort
}

// Line appends the progress line for pos of size bytes read in elapsed to
// dst: "\r 42% 120.3 MB/s ETA 0:07". Rates are in MB/s (10^6 bytes). With an
// unknown size (<= 0) it shows the bytes read and the rate; before any time
// has passed, or any byte was read, the rate and ETA are "-".
func Line(dst []byte, pos, size int64, elapsed time.Duration) []byte {
	dst = append(dst, '\r', ' ')
	pos = max(pos, 0)
	if size > 0 {
		pct := min(pos*100/size, 100)
		if pct < 10 {
			dst = append(dst, ' ')
		}
		dst = strconv.AppendInt(dst, pct, 10)
		dst = append(dst, "% "...)
	} else {
		dst = appendMB(dst, float64(pos)/1e6)
		dst = append(dst, " MB "...)
	}
	var rate float64 // bytes per second
	if elapsed > 0 {
		rate = float64(pos) / elapsed.Seconds()
	}
	if rate <= 0 {
		dst = append(dst, "- MB/s"...)
	} else {
		dst = appendMB(dst, rate/1e6)
		dst = append(dst, " MB/s"...)
	}
	if size <= 0 {
		return dst
	}
	dst = append(dst, " ETA "...)
	if rate <= 0 {
		return append(dst, '-')
	}
	left := time.Duration(float64(max(size-pos, 0)) / rate * float64(time.Second))
	return appendClock(dst, left)
}

// appendMB appends v with one decimal.
func appendMB(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, v, 'f', 1, 64)
}

// appendClock appends d rounded up to seconds as M:SS, or H:MM:SS from an
// hour on.
func appendClock(dst []byte, d time.Duration) []byte {
	s := int64((d + time.Second - 1) / time.Second)
	h, m := s/3600, s/60%60
	s %= 60
	if h > 0 {
		dst = strconv.AppendInt(dst, h, 10)
		dst = append(dst, ':')
		dst = append2(dst, m)
	} else {
		dst = strconv.AppendInt(dst, m, 10)
	}
	dst = append(dst, ':')
	return append2(dst, s)
}

// append2 appends v (0-99) as two digits.
func append2(dst []byte, v int64) []byte {
	return append(dst, byte('0'+v/10), byte('0'+v%10))
}
