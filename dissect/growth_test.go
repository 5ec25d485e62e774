package dissect

import (
	"bytes"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/reassembly"
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

// messagePayloads keeps each message record's payload and whether it is
// marked truncated.
type messagePayloads struct {
	payloads  [][]byte
	truncated []bool
}

func (m *messagePayloads) Emit(r *Record) error {
	if r.Message != nil && r.Message.Opcode == OpText {
		m.payloads = append(m.payloads, append([]byte(nil), r.Message.Payload...))
		m.truncated = append(m.truncated, r.Message.Truncated)
	}
	return nil
}

// TestInflatedCutStaysPrefix checks that once the budget has cut an
// inflated message, a budget that frees up before the message's next frame
// does not append that frame's output after the gap: the payload kept must
// stay the message's beginning (it once went on with later bytes, a silent
// hole in the text).
func TestInflatedCutStaysPrefix(t *testing.T) {
	const size = 8 << 20
	text := []byte(strings.Repeat("a budget cut must leave a prefix; ", size/34+1)[:size])
	comp := deflateMsgs(t, true, string(text))[0]
	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	half := len(comp) / 2
	first := wsFrame{rsv1: true, op: OpText, payload: comp[:half]}.bytes()
	second := wsFrame{fin: true, op: OpContinuation, payload: comp[half:]}.bytes()

	budget := membudget.New(16 << 20)
	hog := budget.Account()
	if !hog.Take(15 << 20) { // leave 1 MiB: the first frame inflates to 4 MiB
		t.Fatal("cannot take the hog")
	}
	var sink messagePayloads
	d := New(&sink, Options{Messages: true, MaxMessage: 2 * size, Memory: budget})
	info := &reassembly.ConnInfo{Stream: 1, SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	h := d.NewConn(info)
	var off [2]uint64
	feed := func(side reassembly.Side, b []byte) {
		for ; len(b) > 0; b = b[min(len(b), 1448):] {
			p := b[:min(len(b), 1448)]
			h.Data(side, &reassembly.Chunk{Data: p, Offset: off[side], Packet: 1, Time: time.Unix(1700000000, 0)})
			off[side] += uint64(len(p))
		}
	}
	feed(reassembly.SideA, upgradeReq(ext))
	feed(reassembly.SideB, upgradeResp(ext))
	feed(reassembly.SideB, first)
	hog.Give(15 << 20) // the budget frees up between the frames
	feed(reassembly.SideB, second)
	h.Close(reassembly.ClosedEOF)

	if len(sink.payloads) != 1 {
		t.Fatalf("%d text messages, want 1", len(sink.payloads))
	}
	got := sink.payloads[0]
	if !sink.truncated[0] || len(got) >= size {
		t.Errorf("kept %d of %d bytes, truncated %v: want a truncated message", len(got), size, sink.truncated[0])
	}
	if !bytes.Equal(got, text[:len(got)]) {
		i := 0
		for i < len(got) && got[i] == text[i] {
			i++
		}
		t.Errorf("the %d bytes kept are not the message's beginning: they differ from byte %d on", len(got), i)
	}
}
