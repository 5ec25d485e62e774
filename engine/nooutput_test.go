package engine

import (
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// kindCounts counts the records of each kind that reach the sinks of a run,
// over all its workers.
type kindCounts struct {
	mu sync.Mutex
	n  map[dissect.Kind]int
}

// sink returns a SinkFactory whose sinks count into c and, for every
// record, write write bytes, in pieces handed on as they are written when
// spill is set (as render.Renderer does with a large hex dump).
func (c *kindCounts) sink(write int, spill bool) SinkFactory {
	return func(w io.Writer) (dissect.Sink, func() error) {
		piece := make([]byte, 64<<10)
		return sinkFunc(func(r *dissect.Record) error {
			c.mu.Lock()
			c.n[r.Kind]++
			c.mu.Unlock()
			for n := write; n > 0; n -= len(piece) {
				if _, err := w.Write(piece[:min(n, len(piece))]); err != nil {
					return err
				}
				if s, ok := w.(interface{ Spill() error }); ok && spill {
					if err := s.Spill(); err != nil {
						return err
					}
				}
			}
			return nil
		}), func() error { return nil }
	}
}

// sinkFunc is a dissect.Sink made of a function.
type sinkFunc func(*dissect.Record) error

// Emit implements dissect.Sink.
func (f sinkFunc) Emit(r *dissect.Record) error { return f(r) }

// TestNoOutput checks that Options.NoOutput (read -q) changes nothing the
// sinks see, with one worker and with several, and that a sink writing
// despite it stops the run with an error instead of losing its output.
func TestNoOutput(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		data := synthCapture(t, 24, 6, 9, deflate)
		pkts := memPackets(t, data)
		run := func(workers int, noOutput bool, write int, spill bool) (map[dissect.Kind]int, Stats, error) {
			c := &kindCounts{n: map[dissect.Kind]int{}}
			opts := Options{Workers: workers, NoOutput: noOutput, Dissect: dissect.Options{Messages: true}}
			type result struct {
				st  Stats
				err error
			}
			done := make(chan result, 1)
			go func() {
				st, err := RunParallel(&sliceSource{pkts: pkts}, c.sink(write, spill), opts, io.Discard)
				done <- result{st, err}
			}()
			select {
			case r := <-done:
				return c.n, r.st, r.err
			case <-time.After(30 * time.Second):
				t.Fatalf("workers=%d write=%d spill=%v: the run did not end", workers, write, spill)
				return nil, Stats{}, nil
			}
		}
		want, wantSt, err := run(1, false, 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if want[dissect.KindMessage] != 24*9+48 {
			t.Fatalf("deflate=%v: %d messages, want %d", deflate, want[dissect.KindMessage], 24*9+48)
		}
		for _, workers := range []int{1, 2, 3} {
			got, st, err := run(workers, true, 0, false)
			if err != nil {
				t.Fatalf("deflate=%v workers=%d: %v", deflate, workers, err)
			}
			if len(got) != len(want) {
				t.Errorf("deflate=%v workers=%d: kinds %v, want %v", deflate, workers, got, want)
			}
			for k, n := range want {
				if got[k] != n {
					t.Errorf("deflate=%v workers=%d: %d records of kind %v, want %d", deflate, workers, got[k], k, n)
				}
			}
			if st.Dissect != wantSt.Dissect || st.Packets != wantSt.Packets {
				t.Errorf("deflate=%v workers=%d: stats %+v, want %+v", deflate, workers, st.Dissect, wantSt.Dissect)
			}
		}
		// A sink that writes a byte, a part's worth or many parts' worth
		// (spilled piece by piece) under NoOutput must stop the run with
		// the error: not lose its output, not hang on the merger.
		for _, workers := range []int{2, 3} {
			for _, w := range []struct {
				n     int
				spill bool
			}{{1, false}, {1 << 20, false}, {1 << 20, true}} {
				if _, _, err := run(workers, true, w.n, w.spill); !errors.Is(err, errWroteOutput) {
					t.Errorf("deflate=%v workers=%d write=%d spill=%v: error %v, want %v", deflate, workers, w.n, w.spill, err, errWroteOutput)
				}
			}
		}
	}
}
