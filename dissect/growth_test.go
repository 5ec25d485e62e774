package dissect

import (
	"runtime"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/internal/membudget"
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

// TestGrowthWithinBudget checks what a budget too small for a frame keeps
// of it: a buffer the budget cannot grow straight to the frame's end still
// doubles while the budget allows, and once the budget has cut the payload
// nothing later is appended (a budget that frees up must not make the
// retained payload anything but the frame's beginning).
func TestGrowthWithinBudget(t *testing.T) {
	const size = 16 << 20
	bin := make([]byte, size)
	for i := range bin {
		bin[i] = byte(i / 1000)
	}
	steps := []step{c2s(upgradeReq("")), s2c(upgradeResp(""))}
	frame := wsFrame{fin: true, op: OpBinary, payload: bin}.bytes()
	for b := frame; len(b) > 0; b = b[min(len(b), 1448):] {
		steps = append(steps, s2c(b[:min(len(b), 1448)]))
	}
	var sink payloadPrefix
	sink.want = bin
	d := New(&sink, Options{MaxMessage: size, Memory: membudget.New(10 << 20)})
	feedConn(d, true, false, steps...)
	if sink.frames == 0 {
		t.Fatal("no frame")
	}
	if sink.kept < 4<<20 || sink.kept >= size {
		t.Errorf("kept %d bytes of the 16 MiB frame under a 10 MiB budget, want between 4 and 16 MiB", sink.kept)
	}
	if !sink.prefix {
		t.Errorf("the %d bytes kept are not the frame's first bytes", sink.kept)
	}
}

// payloadPrefix checks that the last frame's payload is a prefix of want.
type payloadPrefix struct {
	want   []byte
	frames int
	kept   int
	prefix bool
}

func (p *payloadPrefix) Emit(r *Record) error {
	if r.Frame != nil {
		p.frames++
		p.kept = len(r.Frame.Payload)
		p.prefix = len(r.Frame.Payload) <= len(p.want) && string(r.Frame.Payload) == string(p.want[:len(r.Frame.Payload)])
	}
	return nil
}
