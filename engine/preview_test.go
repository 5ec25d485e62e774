package engine

import (
	"io"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// previewCounter counts data records and those carrying a preview; as a
// dissect.PreviewPolicy it wants no payload whole.
type previewCounter struct{ data, previews int }

func (c *previewCounter) WholePayload(*dissect.Conn) bool { return false }

func (c *previewCounter) Emit(r *dissect.Record) error {
	if r.Kind == dissect.KindFrame && r.Frame.Opcode < 8 {
		c.data++
		if r.Frame.Preview {
			c.previews++
		}
	}
	return nil
}

// TestPreviewPolicyReachesTheDissector checks that the engine's wrappers
// around a sink (the ordered output of one worker, the workers' counters)
// pass its PreviewPolicy on: with Options.Dissect.PreviewBytes the records
// of long payloads carry previews with one worker and with several.
func TestPreviewPolicyReachesTheDissector(t *testing.T) {
	data := synthCapture(t, 8, 4, 8, false)
	for _, workers := range []int{1, 3} {
		var sinks []*previewCounter
		newSink := func(io.Writer) (dissect.Sink, func() error) {
			s := &previewCounter{}
			sinks = append(sinks, s)
			return s, func() error { return nil }
		}
		opts := Options{Workers: workers}
		opts.Dissect.PreviewBytes = 100
		if _, err := RunParallel(openMem(t, data), newSink, opts, io.Discard); err != nil {
			t.Fatal(err)
		}
		var total previewCounter
		for _, s := range sinks {
			total.data += s.data
			total.previews += s.previews
		}
		// Half the messages are longer than 100 bytes and come in several
		// segments or masked; only a few are lent whole.
		if total.data == 0 || total.previews == 0 {
			t.Errorf("%d workers: %d data frames, %d with previews", workers, total.data, total.previews)
		}
	}
}
