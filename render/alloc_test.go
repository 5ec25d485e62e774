package render

import (
	"io"
	"testing"
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
