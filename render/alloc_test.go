package render

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// allocOptions are the option sets whose per-record cost is checked.
var allocOptions = []struct {
	name string
	opts Options
}{
	{"summary", Options{}},
	{"summary-color-hex", Options{Color: true, Hex: true}},
	{"tree", Options{Format: FormatTree}},
	{"tree-color-hex", Options{Format: FormatTree, Color: true, Hex: true}},
	{"json", Options{Format: FormatJSON}},
	{"json-file", Options{Format: FormatJSON, File: "a.pcap"}},
}

// TestEmitAllocs proves that formatting a record allocates nothing once the
// Renderer's buffer has grown, in every format.
func TestEmitAllocs(t *testing.T) {
	fx := fixtures()
	for _, tc := range allocOptions {
		t.Run(tc.name, func(t *testing.T) {
			r := New(io.Discard, tc.opts)
			r.SetEpoch(epoch)
			for i := range fx { // warm up: grow the buffer
				if err := r.Emit(&fx[i].rec); err != nil {
					t.Fatal(err)
				}
			}
			for i := range fx {
				rec := &fx[i].rec
				allocs := testing.AllocsPerRun(50, func() {
					if err := r.Emit(rec); err != nil {
						t.Fatal(err)
					}
				})
				if allocs != 0 {
					t.Errorf("%s: %v allocations per record, want 0", fx[i].name, allocs)
				}
			}
		})
	}
}

// BenchmarkEmit measures formatting a typical masked text frame.
func BenchmarkEmit(b *testing.B) {
	fx := fixtures()
	rec := &fx[1].rec
	for _, tc := range allocOptions {
		b.Run(tc.name, func(b *testing.B) {
			r := New(io.Discard, tc.opts)
			r.SetEpoch(epoch)
			b.ReportAllocs()
			for b.Loop() {
				if err := r.Emit(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEmitPayloads measures formatting frames with payloads like those
// of the benchmark captures (bench/gen): JSON text of 1.4 kB, text with
// multi-byte characters, and 3.5 kB of binary, as summary lines and JSON.
func BenchmarkEmitPayloads(b *testing.B) {
	var js strings.Builder
	for i := 0; js.Len() < 1400; i++ {
		fmt.Fprintf(&js, `{"id":%d,"event":"tick","status":"ok"},`, i)
	}
	bin := make([]byte, 3500)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	payloads := []struct {
		name string
		p    []byte
		text bool
	}{
		{"json-text", []byte(js.String()), true},
		{"unicode-text", []byte(strings.Repeat("status: ünïcödé ✓ — 日本語 — all systems nominal ", 20)), true},
		{"binary", bin, false},
	}
	fx := fixtures()
	for _, pl := range payloads {
		rec := fx[1].rec // a masked text frame from client to server
		f := *rec.Frame
		f.Payload, f.Len, f.IsText = pl.p, uint64(len(pl.p)), pl.text
		if !pl.text {
			f.Opcode = dissect.OpBinary
		}
		rec.Frame = &f
		for _, format := range []Format{FormatSummary, FormatJSON} {
			b.Run(pl.name+"/"+format.String(), func(b *testing.B) {
				r := New(io.Discard, Options{Format: format})
				r.SetEpoch(epoch)
				b.SetBytes(int64(len(pl.p)))
				b.ReportAllocs()
				for b.Loop() {
					if err := r.Emit(&rec); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
