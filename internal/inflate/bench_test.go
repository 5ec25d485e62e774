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

// realisticMessages returns n JSON messages shaped like bench/gen's
// realistic sessions (realisticSession in bench/gen/realistic.go): trades,
// quotes, chat lines with some non-ASCII words and, above 1,500 bytes,
// order-book snapshots, of long-tailed sizes (about 60% 60-300 bytes, 30%
// 300-1,500, 9% 1.5-8 kB, 1% 8-32 kB; median ~250 bytes, mean ~1 kB).
func realisticMessages(rng *rand.Rand, n int) [][]byte {
	symbols := []string{"BTC-USD", "ETH-USD", "SOL-USD", "EUR-USD", "AAPL", "MSFT"}
	users := []string{"alice", "bob", "carol", "dave", "Hal Pline", "eve", "mallory"}
	words := []string{"the", "order", "is", "filled", "please", "check", "price", "update", "ok", "thanks",
		"deploy", "done", "ünïcödé", "✓", "later", "meeting", "at", "noon", "status", "green"}
	msgs := make([][]byte, n)
	for seq := range msgs {
		var size int
		switch p := rng.IntN(100); {
		case p < 60:
			size = 60 + rng.IntN(240)
		case p < 90:
			size = 300 + rng.IntN(1200)
		case p < 99:
			size = 1500 + rng.IntN(6500)
		default:
			size = 8000 + rng.IntN(24000)
		}
		b := make([]byte, 0, size+64)
		switch kind := rng.IntN(3); {
		case size > 1500:
			b = fmt.Appendf(b, `{"type":"book","symbol":"%s","seq":%d,"levels":[`, symbols[rng.IntN(len(symbols))], seq)
			for i := 0; len(b) < size-40; i++ {
				if i > 0 {
					b = append(b, ',')
				}
				b = fmt.Appendf(b, `[%.2f,%.4f,%d]`, 40000+rng.Float64()*5000, rng.Float64()*3, rng.IntN(40))
			}
			b = append(b, "]}"...)
		case kind == 0:
			b = fmt.Appendf(b, `{"type":"trade","symbol":"%s","price":%.2f,"qty":%.5f,"side":"%s","id":%d,"ts":%d}`,
				symbols[rng.IntN(len(symbols))], 100+rng.Float64()*50000, rng.Float64()*4, [2]string{"buy", "sell"}[rng.IntN(2)],
				rng.Int64N(1<<40), 1700000000000+int64(seq)*37)
		case kind == 1:
			b = fmt.Appendf(b, `{"type":"quote","symbol":"%s","bid":%.2f,"ask":%.2f,"seq":%d}`,
				symbols[rng.IntN(len(symbols))], 100+rng.Float64()*50000, 100+rng.Float64()*50000, seq)
		default:
			b = fmt.Appendf(b, `{"type":"chat","user":"%s","content":"`, users[rng.IntN(len(users))])
			for len(b) < size-30 {
				b = append(b, words[rng.IntN(len(words))]...)
				b = append(b, ' ')
			}
			b = fmt.Appendf(b, `","id":%d}`, seq)
		}
		// Pad small messages with a field so that the size mix holds.
		if len(b) < size && b[len(b)-1] == '}' {
			b = append(b[:len(b)-1], `,"meta":"`...)
			for len(b) < size-2 {
				b = append(b, byte('a'+rng.IntN(26)))
			}
			b = append(b, `"}`...)
		}
		msgs[seq] = b
	}
	return msgs
}

// messageCase is a stream of messages as a permessage-deflate sender
// compresses them: BenchmarkMessages and, with -tags zlib,
// BenchmarkZlibMessages inflate the same ones.
type messageCase struct {
	name     string
	msgs     func() [][]byte
	level    int
	takeover bool
}

// messageCases returns the message streams of the message benchmarks:
// uniform JSON updates of 500 and 4,000 bytes, and realistic JSON (see
// realisticMessages) at the level coder/websocket and gorilla/websocket
// use (1), with context takeover (coder) and without (gorilla).
func messageCases() []messageCase {
	uniform := func(size int) func() [][]byte {
		return func() [][]byte { return jsonMessages(rand.New(rand.NewPCG(11, 12)), 1000, size) }
	}
	realistic := func() [][]byte { return realisticMessages(rand.New(rand.NewPCG(13, 14)), 1000) }
	return []messageCase{
		{"json500/level1/takeover", uniform(500), flate.BestSpeed, true},
		{"json500/level6/takeover", uniform(500), flate.DefaultCompression, true},
		{"json500/level1/no-takeover", uniform(500), flate.BestSpeed, false},
		{"json4k/level1/takeover", uniform(4000), flate.BestSpeed, true},
		{"realistic/level1/takeover", realistic, flate.BestSpeed, true},
		{"realistic/level1/no-takeover", realistic, flate.BestSpeed, false},
	}
}

// messageStream is a case's messages and their compressed payloads, each
// followed by 00 00 ff ff as a receiver appends it.
type messageStream struct {
	msgs, payloads   [][]byte
	total, compTotal int // bytes of the messages and of the payloads
	maxLen           int // the longest message
}

// stream generates and compresses the case's messages.
func (tc messageCase) stream(b *testing.B) messageStream {
	b.Helper()
	s := messageStream{msgs: tc.msgs()}
	s.payloads = pmdPayloads(b, s.msgs, tc.level, tc.takeover)
	for i := range s.payloads {
		s.payloads[i] = append(s.payloads[i], syncTail...)
		s.total += len(s.msgs[i])
		s.compTotal += len(s.payloads[i])
		s.maxLen = max(s.maxLen, len(s.msgs[i]))
	}
	return s
}

// inflate feeds the stream's messages to z in order, as a receiver does (a
// reset before each one without context takeover), calling each, when set,
// after every message; it returns the last message, inflated into dst.
func (s *messageStream) inflate(b *testing.B, z *Inflater, takeover bool, dst []byte, each func()) []byte {
	for _, p := range s.payloads {
		if !takeover {
			z.Reset(false)
		}
		var err error
		if dst, err = z.Append(dst[:0], p, 1<<20); err != nil {
			b.Fatal(err)
		}
		if each != nil {
			each()
		}
	}
	return dst
}

// report adds the message benchmarks' own metrics: time per message and
// compression ratio.
func (s *messageStream) report(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(s.payloads)), "ns/msg")
	b.ReportMetric(float64(s.compTotal)/float64(s.total), "ratio")
}

// BenchmarkMessages mimics a permessage-deflate receiver: a stream of small
// JSON messages, each compressed by a compress/flate writer and
// sync-flushed (with context takeover one writer for all of them, without
// a fresh writer per message), fed one message plus 00 00 ff ff per Append.
// Per-block setup (reading the header, building the dynamic tables)
// dominates at these sizes.
func BenchmarkMessages(b *testing.B) {
	for _, tc := range messageCases() {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.stream(b)
			z := New(15)
			dst := make([]byte, 0, 2*s.maxLen)
			b.SetBytes(int64(s.total))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				z.Reset(false)
				dst = s.inflate(b, z, tc.takeover, dst, nil)
			}
			b.StopTimer()
			s.report(b)
			// Check the last message (and with it the whole chain of context).
			if !bytes.Equal(dst, s.msgs[len(s.msgs)-1]) {
				b.Fatal("output differs")
			}
		})
	}
}
