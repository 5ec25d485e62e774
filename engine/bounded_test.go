package engine

import (
	"bytes"
	"io"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/render"
)

// countWriter counts what is written to it and keeps nothing.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// TestParallelOutputBounded runs a capture whose rendered output is ~60
// times its size (connections of 2-byte frames) through four workers with
// no memory budget, and checks that the heap stays far below the output:
// workers hand their output over in bounded parts instead of holding whole
// rounds of it (which took ~128 MiB here).
func TestParallelOutputBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("renders ~100 MB of JSON")
	}
	cp := capgen.NewCapture(capgen.CaptureOptions{Step: 50 * time.Microsecond})
	frame := capgen.Frame{Fin: true, Opcode: capgen.OpBinary, Payload: []byte{0xab, 0xcd}}.Bytes()
	chunk := bytes.Repeat(frame, 64<<10)
	var conns []*synthConn
	for i := range 8 {
		conns = append(conns, openSynth(t, cp, i, false))
	}
	for _, s := range conns {
		s.c.Send(capgen.Server, chunk)
	}
	for _, s := range conns {
		s.close()
	}
	pkts := memPackets(t, writePcap(t, cp))

	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base := sample[0].Value.Uint64()
	var peak uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	var out countWriter
	_, err := RunParallel(&sliceSource{pkts: pkts}, func(w io.Writer) (dissect.Sink, func() error) {
		r := render.New(w, render.Options{Format: render.FormatJSON})
		return r, r.Flush
	}, Options{Workers: 4}, &out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(peak) - int64(base)
	t.Logf("output %d MB, heap grew by at most %.1f MB", out.n>>20, float64(grew)/(1<<20))
	if out.n < 64<<20 {
		t.Fatalf("only %d bytes of output: the capture does not expand as intended", out.n)
	}
	if grew > 64<<20 {
		t.Errorf("heap grew by %.1f MiB while rendering %d MiB: output awaiting the merger is not bounded", float64(grew)/(1<<20), out.n>>20)
	}
}
