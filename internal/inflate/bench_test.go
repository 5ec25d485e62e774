package inflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
)

const benchPiece = 1400 // a typical TCP segment payload

var benchLevels = []int{flate.BestSpeed, flate.DefaultCompression, flate.BestCompression}

func benchInput(b *testing.B, level int) (data, comp []byte) {
	b.Helper()
	data = textData(rand.New(rand.NewPCG(99, 100)), 1<<20)
	return data, compress(b, data, level)
}

// BenchmarkInflate feeds ~1 MB of compressed text in 1400-byte pieces.
func BenchmarkInflate(b *testing.B) {
	for _, level := range benchLevels {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			data, comp := benchInput(b, level)
			z := New(15)
			dst := make([]byte, 0, len(data))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				z.Reset(false)
				dst = dst[:0]
				var err error
				for in := comp; len(in) > 0; {
					k := min(len(in), benchPiece)
					if dst, err = z.Append(dst, in[:k], 1<<30); err != nil {
						b.Fatal(err)
					}
					in = in[k:]
				}
			}
			b.StopTimer()
			if !bytes.Equal(dst, data) {
				b.Fatal("output differs")
			}
		})
	}
}

// BenchmarkInflateDiscard is BenchmarkInflate without copying the output out.
func BenchmarkInflateDiscard(b *testing.B) {
	for _, level := range benchLevels {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			data, comp := benchInput(b, level)
			z := New(15)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				z.Reset(false)
				for in := comp; len(in) > 0; {
					k := min(len(in), benchPiece)
					if _, err := z.Discard(in[:k], 1<<30); err != nil {
						b.Fatal(err)
					}
					in = in[k:]
				}
			}
		})
	}
}

// BenchmarkFlateReader is the compress/flate baseline on the same input: a
// pull reader over the whole compressed stream, output copied out.
func BenchmarkFlateReader(b *testing.B) {
	for _, level := range benchLevels {
		b.Run(fmt.Sprintf("level%d", level), func(b *testing.B) {
			data, comp := benchInput(b, level)
			br := bytes.NewReader(comp)
			r := flate.NewReader(br)
			var dst bytes.Buffer
			dst.Grow(len(data))
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				br.Reset(comp)
				if err := r.(flate.Resetter).Reset(br, nil); err != nil {
					b.Fatal(err)
				}
				dst.Reset()
				if _, err := io.Copy(&dst, r); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if !bytes.Equal(dst.Bytes(), data) {
				b.Fatal("output differs")
			}
		})
	}
}
