package dissect

import (
	"runtime"
	"strings"
	"testing"
)

// payloadLens is a sink that keeps only the payload lengths of the
// records, so that it allocates nothing per payload byte.
type payloadLens struct{ lens []int }

func (p *payloadLens) Emit(r *Record) error {
	switch {
	case r.Frame != nil:
		p.lens = append(p.lens, len(r.Frame.Payload))
	case r.Message != nil:
		p.lens = append(p.lens, len(r.Message.Payload))
	}
	return nil
}

// TestLargePayloadGrowth checks what retaining a large payload allocates:
// growing its buffer a quarter at a time (append's growth for large
// slices) allocated about five times the payload; doubling, straight to
// the end of the frame once a quarter of it has arrived, about twice.
func TestLargePayloadGrowth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 16 MiB payloads")
	}
	const size = 16 << 20
	bin := make([]byte, size+size/2) // a frame longer than --max-message
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	comp := deflateMsgs(t, true, strings.Repeat("inflated to sixteen MiB; ", size/25+1)[:size])
	tests := []struct {
		name  string
		ext   string
		frame []byte
		want  int
	}{
		{"plain frame", "", wsFrame{fin: true, op: OpBinary, payload: bin}.bytes(), size},
		{"compressed message", ext, wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[0]}.bytes(), size},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Delivered in 1,448-byte pieces, as TCP segments would be.
			steps := []step{c2s(upgradeReq(tc.ext)), s2c(upgradeResp(tc.ext))}
			for b := tc.frame; len(b) > 0; b = b[min(len(b), 1448):] {
				steps = append(steps, s2c(b[:min(len(b), 1448)]))
			}
			var sink payloadLens
			d := New(&sink, Options{MaxMessage: size})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			feedConn(d, true, false, steps...)
			runtime.ReadMemStats(&after)
			if len(sink.lens) == 0 || sink.lens[len(sink.lens)-1] != tc.want {
				t.Fatalf("payload lengths %v, want the last %d", sink.lens, tc.want)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 5*size/2 {
				t.Errorf("retaining a %d MiB payload allocated %.1f MiB, over 2.5 times it", size>>20, float64(alloc)/(1<<20))
			} else {
				t.Logf("retaining a %d MiB payload allocated %.1f MiB", size>>20, float64(alloc)/(1<<20))
			}
		})
	}
}
