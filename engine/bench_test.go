package engine

import (
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/render"
)

// discardSink counts records and keeps nothing.
type discardSink struct{ n uint64 }

func (d *discardSink) Emit(*dissect.Record) error { d.n++; return nil }

// benchSinks are the sinks the end-to-end benchmarks run with.
var benchSinks = []struct {
	name string
	make func() (dissect.Sink, func() error)
}{
	{"discard", func() (dissect.Sink, func() error) { return &discardSink{}, func() error { return nil } }},
	{"stats", func() (dissect.Sink, func() error) { return render.NewStats(), func() error { return nil } }},
	{"summary", func() (dissect.Sink, func() error) {
		r := render.New(io.Discard, render.Options{})
		return r, r.Flush
	}},
	{"json", func() (dissect.Sink, func() error) {
		r := render.New(io.Discard, render.Options{Format: render.FormatJSON})
		return r, r.Flush
	}},
}

// BenchmarkEngine runs in-memory captures end to end: reading, header
// decoding, reassembly, dissection and a sink. allocs/pkt is the number of
// heap allocations per packet over the whole run, connection setup included.
func BenchmarkEngine(b *testing.B) {
	captures := []struct {
		conns, msgs int
		deflate     bool
	}{
		{1, 400, false},
		{1, 400, true},
		{200, 6, false},
	}
	for _, c := range captures {
		data := synthCapture(b, c.conns, 8, c.msgs, c.deflate)
		for _, s := range benchSinks {
			b.Run(describe(c.conns, c.msgs, c.deflate)+"/"+s.name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				var ms0, ms1 runtime.MemStats
				runtime.ReadMemStats(&ms0)
				var pkts uint64
				for b.Loop() {
					sink, flush := s.make()
					st, err := Run(openMem(b, data), sink, Options{})
					if err != nil {
						b.Fatal(err)
					}
					if err := flush(); err != nil {
						b.Fatal(err)
					}
					pkts += st.Packets
				}
				runtime.ReadMemStats(&ms1)
				b.ReportMetric(float64(ms1.Mallocs-ms0.Mallocs)/float64(pkts), "allocs/pkt")
			})
		}
	}
}

// TestSteadyStateDoesNotAllocate feeds the second half of a long connection
// (plain and permessage-deflate, frames and messages, rendered as JSON and
// summary lines) and requires zero allocations per packet once the first
// half has grown the buffers.
func TestSteadyStateDoesNotAllocate(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		cp := capgen.NewCapture(capgen.CaptureOptions{})
		s := openSynth(t, cp, 0, deflate)
		for m := range 400 {
			s.message(capgen.Side(m & 1))
		}
		s.close()
		pkts := memPackets(t, writePcap(t, cp))
		for _, messages := range []bool{false, true} {
			for _, format := range []render.Format{render.FormatJSON, render.FormatSummary} {
				name := describe(1, 400, deflate) + "/" + format.String()
				if messages {
					name += "/messages"
				}
				t.Run(name, func(t *testing.T) {
					r := render.New(io.Discard, render.Options{Format: format, Messages: messages})
					e := New(render.NewTee(render.NewStats(), r), Options{Dissect: dissect.Options{Messages: messages}})
					half := len(pkts) / 2
					for i := range pkts[:half] {
						e.Packet(&pkts[i])
					}
					// Leave the close handshake out of the measured part.
					const runs = 50
					per := (len(pkts) - half - 20) / (runs + 1)
					next := half
					allocs := testing.AllocsPerRun(runs, func() {
						for range per {
							e.Packet(&pkts[next])
							next++
						}
					})
					if allocs != 0 {
						t.Errorf("%.2f allocations per %d packets, want 0", allocs, per)
					}
					for ; next < len(pkts); next++ {
						e.Packet(&pkts[next])
					}
					e.Finish()
					if err := e.Err(); err != nil {
						t.Fatal(err)
					}
					if st := e.Stats(); st.Dissect.Frames+st.Dissect.Messages < 400 {
						t.Errorf("decoded only %+v", st.Dissect)
					}
				})
			}
		}
	}
}

// BenchmarkRunParallel renders a capture of many interleaved connections as
// JSON with one worker (the single-threaded Run) and with two and four; run
// it with -cpu 1,2,4 to see the speed-up the cores give.
func BenchmarkRunParallel(b *testing.B) {
	data := synthCapture(b, 400, 16, 6, false)
	for _, workers := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("workers-%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			newSink := func(w io.Writer) (dissect.Sink, func() error) {
				r := render.New(w, render.Options{Format: render.FormatJSON})
				return r, r.Flush
			}
			for b.Loop() {
				if _, err := RunParallel(openMem(b, data), newSink, Options{Workers: workers}, io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
