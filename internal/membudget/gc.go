package membudget

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The garbage collector lets the heap grow to (1 + GOGC/100) times the
// live heap before collecting again. With the lazy target wsdissect runs
// with (GOGC 400), a small live heap costs little, but a large one (a
// payload kept up to --max-message, many open connections) let garbage
// grow to four times it: a 64 MiB frame peaked above 350 MB. GCPacer keeps
// the garbage allowed at most a fixed headroom above the live heap, by
// lowering the collector's percentage after each collection in which the
// live heap was large, and putting it back when it is small again.

// minGCPercent is the lowest percentage GCPacer sets: below it the
// collector would run almost continuously on a large live heap.
const minGCPercent = 25

// liveMetric is the heap the last collection found live; gogcMetric the
// percentage (GOGC) in force.
const (
	liveMetric = "/gc/heap/live:bytes"
	gogcMetric = "/gc/gogc:percent"
)

// GCPacer adjusts the garbage collector's percentage (GOGC) after every
// collection so that the heap may grow by at most its headroom beyond what
// was live (but never more than the percentage it started with allows).
// The percentage is process-wide: run one pacer at a time.
type GCPacer struct {
	headroom int64
	base     int // the percentage at the start, restored by Stop

	mu      sync.Mutex
	cur     int
	stopped bool
	sample  []metrics.Sample
}

// StartGCPacer starts pacing the collector with the given headroom in
// bytes. With the collector off (GOGC=off) or headroom <= 0 it does
// nothing. Call Stop when done.
func StartGCPacer(headroom int64) *GCPacer {
	s := []metrics.Sample{{Name: gogcMetric}}
	metrics.Read(s)
	base := -1 // off, or a runtime without the metric: leave it alone
	if s[0].Value.Kind() == metrics.KindUint64 {
		if v := s[0].Value.Uint64(); v <= math.MaxInt32 {
			base = int(v)
		}
	}
	p := &GCPacer{headroom: headroom, base: base, cur: base,
		sample: []metrics.Sample{{Name: liveMetric}}}
	if base < 0 || headroom <= 0 {
		p.stopped = true
		return p
	}
	p.arm()
	return p
}

// gcSentinel is allocated for each collection to notice: its cleanup runs
// once a collection has found it unreachable. It is large enough not to be
// batched with other tiny objects, whose memory is freed together.
type gcSentinel struct{ _ [32]byte }

// arm makes the next collection call p.collected.
func (p *GCPacer) arm() {
	s := &gcSentinel{}
	runtime.AddCleanup(s, func(p *GCPacer) { p.collected() }, p)
}

// collected adjusts the percentage to the live heap just measured, and
// waits for the next collection.
func (p *GCPacer) collected() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	metrics.Read(p.sample)
	if p.sample[0].Value.Kind() == metrics.KindUint64 {
		if pct := gcPercentFor(p.base, int64(p.sample[0].Value.Uint64()), p.headroom); pct != p.cur {
			p.cur = pct
			debug.SetGCPercent(pct)
		}
	}
	p.arm()
}

// Percent returns the percentage the pacer set last.
func (p *GCPacer) Percent() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cur
}

// Stop ends the pacing and restores the percentage it started with.
func (p *GCPacer) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	if p.cur != p.base {
		debug.SetGCPercent(p.base)
		p.cur = p.base
	}
}

// gcPercentFor returns the percentage that lets a heap with live bytes
// grow by at most headroom, within [minGCPercent, base].
func gcPercentFor(base int, live, headroom int64) int {
	if live <= 0 || live*int64(base) <= headroom*100 {
		return base
	}
	return max(min(int(headroom*100/live), base), min(minGCPercent, base))
}
