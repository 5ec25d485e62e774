package inflate

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
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

// jsonMessages returns n JSON messages of about size bytes each, like the
// updates of a market-data or chat feed: the same keys in every message,
// values that vary.
func jsonMessages(rng *rand.Rand, n, size int) [][]byte {
	sides := []string{"buy", "sell"}
	events := []string{"trade", "quote", "book", "ticker", "heartbeat"}
	msgs := make([][]byte, n)
	for i := range msgs {
		m := []byte(`{"type":"update","seq":`)
		m = strconv.AppendInt(m, int64(1_000_000+i), 10)
		m = append(m, `,"items":[`...)
		for j := 0; len(m) < size-2; j++ {
			if j > 0 {
				m = append(m, ',')
			}
			m = append(m, `{"event":"`...)
			m = append(m, events[rng.IntN(len(events))]...)
			m = append(m, `","symbol":"`...)
			m = append(m, byte('A'+rng.IntN(26)), byte('A'+rng.IntN(26)), byte('A'+rng.IntN(26)))
			m = append(m, `","price":`...)
			m = strconv.AppendFloat(m, 100+rng.Float64()*50, 'f', 2, 64)
			m = append(m, `,"qty":`...)
			m = strconv.AppendInt(m, int64(rng.IntN(10_000)), 10)
			m = append(m, `,"side":"`...)
			m = append(m, sides[rng.IntN(2)]...)
			m = append(m, `","ts":`...)
			m = strconv.AppendInt(m, 1_700_000_000_000+int64(i)*37+int64(j), 10)
			m = append(m, '}')
		}
		msgs[i] = append(m, "]}"...)
	}
	return msgs
}

// BenchmarkMessages mimics a permessage-deflate receiver: a stream of small
// JSON messages, each compressed by a compress/flate writer and
// sync-flushed (with context takeover one writer for all of them, without
// a fresh writer per message), fed one message plus 00 00 ff ff per Append.
// Per-block setup (reading the header, building the dynamic tables)
// dominates at these sizes.
func BenchmarkMessages(b *testing.B) {
	tests := []struct {
		name     string
		size     int
		level    int
		takeover bool
	}{
		{"json500/level1/takeover", 500, flate.BestSpeed, true},
		{"json500/level6/takeover", 500, flate.DefaultCompression, true},
		{"json500/level1/no-takeover", 500, flate.BestSpeed, false},
		{"json4k/level1/takeover", 4000, flate.BestSpeed, true},
	}
	for _, tc := range tests {
		b.Run(tc.name, func(b *testing.B) {
			msgs := jsonMessages(rand.New(rand.NewPCG(11, 12)), 1000, tc.size)
			payloads := pmdPayloads(b, msgs, tc.level, tc.takeover)
			var total, compTotal int
			for i := range payloads {
				payloads[i] = append(payloads[i], syncTail...)
				total += len(msgs[i])
				compTotal += len(payloads[i])
			}
			z := New(15)
			dst := make([]byte, 0, 2*tc.size)
			b.SetBytes(int64(total))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				z.Reset(false)
				for _, p := range payloads {
					if !tc.takeover {
						z.Reset(false)
					}
					var err error
					if dst, err = z.Append(dst[:0], p, 1<<20); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(payloads)), "ns/msg")
			b.ReportMetric(float64(compTotal)/float64(total), "ratio")
			// Check the last message (and with it the whole chain of context).
			if !bytes.Equal(dst, msgs[len(msgs)-1]) {
				b.Fatal("output differs")
			}
		})
	}
}
