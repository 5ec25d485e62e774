package engine

import (
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// kindCounts counts the records of each kind that reach the sinks of a run,
// over all its workers.
type kindCounts struct {
	mu sync.Mutex
	n  map[dissect.Kind]int
}

// sink returns a SinkFactory whose sinks count into c and write "x" for
// every record when write is set.
func (c *kindCounts) sink(write bool) SinkFactory {
	return func(w io.Writer) (dissect.Sink, func() error) {
		return sinkFunc(func(r *dissect.Record) error {
			c.mu.Lock()
			c.n[r.Kind]++
			c.mu.Unlock()
			if write {
				_, err := w.Write([]byte("x"))
				return err
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
		run := func(workers int, noOutput, write bool) (map[dissect.Kind]int, Stats, error) {
			c := &kindCounts{n: map[dissect.Kind]int{}}
			opts := Options{Workers: workers, NoOutput: noOutput, Dissect: dissect.Options{Messages: true}}
			st, err := RunParallel(&sliceSource{pkts: pkts}, c.sink(write), opts, io.Discard)
			return c.n, st, err
		}
		want, wantSt, err := run(1, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if want[dissect.KindMessage] != 24*9+48 {
			t.Fatalf("deflate=%v: %d messages, want %d", deflate, want[dissect.KindMessage], 24*9+48)
		}
		for _, workers := range []int{1, 2, 3} {
			got, st, err := run(workers, true, false)
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
		for _, workers := range []int{2, 3} {
			if _, _, err := run(workers, true, true); !errors.Is(err, errWroteOutput) {
				t.Errorf("deflate=%v workers=%d: a sink wrote under NoOutput: error %v, want %v", deflate, workers, err, errWroteOutput)
			}
		}
	}
}
