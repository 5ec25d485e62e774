package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// syncTail is the empty stored block a permessage-deflate sender strips.
var syncTail = []byte{0, 0, 0xff, 0xff}

// ---- data generators ----

var vocabulary = strings.Fields(`the of and to a in is it you that he was for on are with as I his they be
at one have this from or had by hot word but what some we can out other were all there when up use your
how said an each she which do their time if will way about many then them write would like so these her
long make thing see him two has look more day could go come did number sound no most people my over know
water than call first who may down side been now find any new work part take get place made live where
after back little only round man year came show every good me give our under name very through just form
sentence great think say help low line differ turn cause much mean before move right boy old too same tell
websocket frame opcode payload mask fin rsv1 deflate inflate window context takeover handshake upgrade`)

// textData returns n bytes of pseudo-English text: compressible, with long
// and short repeats.
func textData(rng *rand.Rand, n int) []byte {
	var b bytes.Buffer
	for b.Len() < n {
		// Zipf-like: small indexes much more likely.
		i := int(float64(len(vocabulary)) * rng.Float64() * rng.Float64() * rng.Float64())
		b.WriteString(vocabulary[i])
		switch rng.IntN(12) {
		case 0:
			b.WriteString(".\n")
		case 1:
			b.WriteString(", ")
		default:
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}

func randData(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// mixedData alternates text, random bytes and runs.
func mixedData(rng *rand.Rand, n int) []byte {
	var b []byte
	for len(b) < n {
		k := 1 + rng.IntN(3000)
		switch rng.IntN(3) {
		case 0:
			b = append(b, textData(rng, k)...)
		case 1:
			b = append(b, randData(rng, k)...)
		default:
			b = append(b, bytes.Repeat([]byte{byte(rng.Uint32())}, k)...)
		}
	}
	return b[:n]
}

// ---- compression helpers ----

func compress(t testing.TB, data []byte, level int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatalf("flate.NewWriter(%d): %v", level, err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("flate write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("flate close: %v", err)
	}
	return buf.Bytes()
}

// randomPieces splits n bytes into pieces of 1..maxPiece bytes.
func randomPieces(rng *rand.Rand, n, maxPiece int) []int {
	var ps []int
	for n > 0 {
		k := min(n, 1+rng.IntN(maxPiece))
		ps = append(ps, k)
		n -= k
	}
	return ps
}

// feed appends the decoded output of in, split into pieces, to dst.
func feed(t testing.TB, z *Inflater, dst, in []byte, pieces []int) []byte {
	t.Helper()
	var err error
	for _, k := range pieces {
		dst, err = z.Append(dst, in[:k], 1<<30)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		if z.Pending() > 8 {
			t.Fatalf("Pending() = %d, want <= 8", z.Pending())
		}
		in = in[k:]
	}
	if len(in) != 0 {
		t.Fatalf("pieces do not cover input: %d bytes left", len(in))
	}
	return dst
}

func onePiece(n int) []int { return []int{n} }

func ones(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = 1
	}
	return p
}

var levels = []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression}

// ---- tests ----

func TestFixedTables(t *testing.T) {
	l, d := fixedLens()
	d = append(d, 5, 5) // the fixed distance code has 32 five-bit codes; 30 and 31 are invalid
	var lt litTable
	var dt distTable
	if !buildTable(lt[:], l, litInfo[:], litRootBits) || !buildTable(dt[:], d, distInfo[:], distRootBits) {
		t.Fatal("fixed code lengths rejected")
	}
	if lt != *fixedLit || dt != *fixedDist {
		t.Fatal("fixed tables differ from a fresh build")
	}
	// Literal/length and distance descriptions agree with the RFC tables.
	for i, base := range testLenBase {
		e := litInfo[257+i]
		if int(e>>entValShift) != base || uint(e>>entExtShift&entExtMask) != testLenExtra[i] || e&fBase == 0 {
			t.Errorf("length symbol %d: entry %#x, want base %d extra %d", 257+i, e, base, testLenExtra[i])
		}
	}
	for i, base := range testDstBase {
		e := distInfo[i]
		if int(e>>entValShift) != base || uint(e>>entExtShift&entExtMask) != testDstExtra[i] || e&fBase == 0 {
			t.Errorf("distance symbol %d: entry %#x, want base %d extra %d", i, e, base, testDstExtra[i])
		}
	}
}

func TestNewWindowBits(t *testing.T) {
	tests := []struct{ bits, window int }{
		{8, 256}, {9, 512}, {12, 4096}, {15, 32768}, {7, 32768}, {16, 32768}, {0, 32768}, {-1, 32768},
	}
	for _, tc := range tests {
		z := New(tc.bits)
		if z.window != tc.window || len(z.win) < tc.window || len(z.win) < minRing {
			t.Errorf("New(%d): window %d ring %d, want window %d", tc.bits, z.window, len(z.win), tc.window)
		}
	}
}

func TestZeroValue(t *testing.T) {
	var z Inflater
	comp := compress(t, []byte("zero value zero value"), flate.BestSpeed)
	got, err := z.Append(nil, comp, 100)
	if err != nil || string(got) != "zero value zero value" || !z.Final() || z.window != 1<<15 {
		t.Fatalf("got %q, %v", got, err)
	}
	var zd Inflater
	if n, err := zd.Discard(comp, 100); err != nil || n != 21 {
		t.Fatalf("Discard: %d, %v", n, err)
	}
}

func TestRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	inputs := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"byte", []byte{'x'}},
		{"text", textData(rng, 150_000)},
		{"random", randData(rng, 70_000)},
		{"zeros", make([]byte, 300_000)},
		{"mixed", mixedData(rng, 120_000)},
	}
	for _, in := range inputs {
		for _, level := range levels {
			comp := compress(t, in.data, level)
			splits := []struct {
				name   string
				pieces []int
			}{
				{"whole", onePiece(len(comp))},
				{"random", randomPieces(rng, len(comp), 2000)},
				{"small", randomPieces(rng, len(comp), 9)},
			}
			if len(comp) <= 20_000 {
				splits = append(splits, struct {
					name   string
					pieces []int
				}{"ones", ones(len(comp))})
			}
			for _, sp := range splits {
				t.Run(fmt.Sprintf("%s/level%d/%s", in.name, level, sp.name), func(t *testing.T) {
					z := New(15)
					got := feed(t, z, nil, comp, sp.pieces)
					if !bytes.Equal(got, in.data) {
						t.Fatalf("output differs: got %d bytes, want %d", len(got), len(in.data))
					}
					if !z.Final() || !z.AtBlockBoundary() || z.Pending() != 0 || z.Total() != uint64(len(in.data)) {
						t.Fatalf("after stream: Final %v AtBlockBoundary %v Pending %d Total %d",
							z.Final(), z.AtBlockBoundary(), z.Pending(), z.Total())
					}
					// Visit shows the same bytes, in order, across the
					// window's wraps.
					zv := New(15)
					var seen []byte
					off := 0
					for _, k := range sp.pieces {
						n, err := zv.Visit(comp[off:off+k], 1<<30, func(p []byte) { seen = append(seen, p...) })
						if err != nil || n < 0 {
							t.Fatalf("Visit at %d: %d, %v", off, n, err)
						}
						off += k
					}
					if !bytes.Equal(seen, in.data) || !zv.Final() {
						t.Fatalf("Visit showed %d bytes (Final %v), want %d", len(seen), zv.Final(), len(in.data))
					}
				})
			}
		}
	}
}

// TestSplitEverywhere feeds small streams in two pieces split at every
// position, and a tiny one in three pieces split at every pair of positions.
func TestSplitEverywhere(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	datas := map[string][]byte{
		"text":   textData(rng, 700),
		"random": randData(rng, 300),
		"mixed":  mixedData(rng, 900),
	}
	for name, data := range datas {
		for _, level := range levels {
			comp := compress(t, data, level)
			z := New(15)
			for i := 0; i <= len(comp); i++ {
				z.Reset(false)
				got := feed(t, z, nil, comp, []int{i, len(comp) - i})
				if !bytes.Equal(got, data) || !z.Final() {
					t.Fatalf("%s level %d split at %d: output differs (final %v)", name, level, i, z.Final())
				}
			}
		}
	}
	data := textData(rng, 120)
	for _, level := range levels {
		comp := compress(t, data, level)
		z := New(15)
		for i := 0; i <= len(comp); i++ {
			for j := i; j <= len(comp); j++ {
				z.Reset(false)
				got := feed(t, z, nil, comp, []int{i, j - i, len(comp) - j})
				if !bytes.Equal(got, data) {
					t.Fatalf("level %d split at %d,%d: output differs", level, i, j)
				}
			}
		}
	}
}

// message compresses msgs like a permessage-deflate sender: with takeover
// one writer flushes after each message; without, each message gets a fresh
// writer. It returns the payloads with the sync tail stripped.
func pmdPayloads(t testing.TB, msgs [][]byte, level int, takeover bool) [][]byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		if !takeover {
			w.Reset(&buf)
		}
		if _, err := w.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		p := bytes.Clone(buf.Bytes())
		buf.Reset()
		if !bytes.HasSuffix(p, syncTail) {
			t.Fatalf("flushed payload does not end with 00 00 ff ff: % x", p[max(0, len(p)-8):])
		}
		out = append(out, p[:len(p)-4])
	}
	return out
}

func TestMessages(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	base := textData(rng, 5000)
	msgs := [][]byte{
		[]byte("hello"),
		{},
		[]byte("hello hello hello"),
		base,
		base, // fully referencing the previous message with takeover
		{},
		randData(rng, 40_000), // wraps the ring
		textData(rng, 70_000),
		base[:100],
		[]byte("x"),
	}
	for _, level := range levels {
		for _, takeover := range []bool{true, false} {
			for _, resetKeep := range []bool{false, true} {
				if !takeover && resetKeep {
					continue
				}
				name := fmt.Sprintf("level%d/takeover=%v/reset=%v", level, takeover, resetKeep)
				t.Run(name, func(t *testing.T) {
					payloads := pmdPayloads(t, msgs, level, takeover)
					z := New(15)
					var dst []byte
					for i, p := range payloads {
						switch {
						case !takeover:
							z.Reset(false)
						case resetKeep:
							z.Reset(true)
						}
						in := append(bytes.Clone(p), syncTail...)
						dst = feed(t, z, dst[:0], in, randomPieces(rng, len(in), 1+rng.IntN(1500)))
						if !bytes.Equal(dst, msgs[i]) {
							t.Fatalf("message %d: got %d bytes, want %d", i, len(dst), len(msgs[i]))
						}
						if !z.AtBlockBoundary() || z.Pending() != 0 || z.Final() {
							t.Fatalf("message %d: AtBlockBoundary %v Pending %d Final %v",
								i, z.AtBlockBoundary(), z.Pending(), z.Final())
						}
					}
				})
			}
		}
	}
}

// TestMessagesBFINAL covers senders that end messages with a final block.
func TestMessagesBFINAL(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	z := New(15)
	for i, m := range [][]byte{[]byte("abcabcabc"), textData(rng, 3000), {}} {
		p := compress(t, m, flate.BestSpeed)
		p = bytes.TrimSuffix(p, syncTail) // a sender strips it when present
		in := append(bytes.Clone(p), syncTail...)
		z.Reset(false)
		got := feed(t, z, nil, in, randomPieces(rng, len(in), 7))
		if !bytes.Equal(got, m) || !z.Final() || z.Trailing() != 0 {
			t.Fatalf("message %d: equal %v Final %v Trailing %d", i, bytes.Equal(got, m), z.Final(), z.Trailing())
		}
	}
	// A final fixed block followed by the re-appended tail and more junk:
	// everything after the final block is ignored and counted.
	var w bitWriter
	w.fixedBlock(true, lits("final"))
	in := append(w.bytes(), syncTail...)
	in = append(in, 1, 2, 3)
	for split := 0; split <= len(in); split++ {
		z.Reset(true)
		got := feed(t, z, nil, in, []int{split, len(in) - split})
		if string(got) != "final" || !z.Final() || z.Trailing() != 7 || z.Pending() != 0 {
			t.Fatalf("split %d: got %q Final %v Trailing %d Pending %d", split, got, z.Final(), z.Trailing(), z.Pending())
		}
		// Later input is ignored too.
		got, err := z.Append(got[:0], []byte{9, 9}, 100)
		if err != nil || len(got) != 0 || z.Trailing() != 9 {
			t.Fatalf("after final: %q, %v, Trailing %d", got, err, z.Trailing())
		}
	}
}

// TestEmptyMessage: an empty permessage-deflate message is sent as the
// single byte 0x00 (the header of an empty stored block whose LEN/NLEN the
// sender stripped); with 00 00 ff ff re-appended it decodes to nothing and
// leaves the decoder at a block boundary, fresh or mid-stream.
func TestEmptyMessage(t *testing.T) {
	payload := append([]byte{0}, syncTail...)
	for _, limit := range []int{0, 10} {
		z := New(15)
		for round := range 3 {
			got, err := z.Append(nil, payload, limit)
			if err != nil || len(got) != 0 {
				t.Fatalf("limit %d round %d: got %q, %v", limit, round, got, err)
			}
			if !z.AtBlockBoundary() || z.Pending() != 0 || z.Final() || z.Total() != 0 {
				t.Fatalf("limit %d round %d: AtBlockBoundary %v Pending %d Final %v Total %d",
					limit, round, z.AtBlockBoundary(), z.Pending(), z.Final(), z.Total())
			}
		}
	}
	// A zero-length payload plus the tail is not a complete block: it
	// produces nothing and waits for the rest of a stored-block header.
	z := New(15)
	got, err := z.Append(nil, syncTail, 10)
	if err != nil || len(got) != 0 || z.AtBlockBoundary() || z.Pending() != 3 {
		t.Fatalf("bare tail: got %q, %v, AtBlockBoundary %v Pending %d", got, err, z.AtBlockBoundary(), z.Pending())
	}
}

// windowLimitedData returns data in which every repeated 3-byte string
// occurs only within 256 bytes: segment k is a 64-byte half repeated twice,
// where every third byte is the id k (< 200) and the others are random in
// [200, 256). Equal 3-grams contain the same ids at the same places, so they
// come from the same or adjacent segments.
func windowLimitedData(rng *rand.Rand, segments int) []byte {
	var b []byte
	for k := range segments {
		half := make([]byte, 64)
		for j := range half {
			if j%3 == 0 {
				half[j] = byte(k)
			} else {
				half[j] = byte(200 + rng.IntN(56))
			}
		}
		b = append(b, half...)
		b = append(b, half...)
	}
	return b
}

func TestSmallWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	data := windowLimitedData(rng, 199)
	for _, level := range levels {
		comp := compress(t, data, level)
		for _, bits := range []int{8, 9, 15} {
			z := New(bits)
			got := feed(t, z, nil, comp, randomPieces(rng, len(comp), 300))
			if !bytes.Equal(got, data) {
				t.Fatalf("level %d New(%d): output differs", level, bits)
			}
		}
	}

	// A back-reference of distance 300.
	prefix := textData(rng, 300)
	var w bitWriter
	w.fixedBlock(true, append(lits(string(prefix)), match(10, 300)))
	stream := w.bytes()
	want := append(bytes.Clone(prefix), prefix[:10]...)
	if ref, err := io.ReadAll(flate.NewReader(bytes.NewReader(stream))); err != nil || !bytes.Equal(ref, want) {
		t.Fatalf("compress/flate disagrees with the test stream: %v", err)
	}
	for _, bits := range []int{8, 9, 10, 15} {
		z := New(bits)
		got, err := z.Append(nil, stream, 1<<20)
		if bits == 8 {
			var e *Error
			if !errors.Is(err, ErrDistance) || !errors.As(err, &e) {
				t.Fatalf("New(8): err = %v, want ErrDistance", err)
			}
			// 3 header bits + 300 literals of 8 or 9 bits.
			bitsBefore := 3
			for _, c := range prefix {
				bitsBefore += 8
				if c >= 144 {
					bitsBefore++
				}
			}
			if e.Offset != int64(bitsBefore/8) {
				t.Errorf("New(8): offset %d, want %d", e.Offset, bitsBefore/8)
			}
			if !bytes.Equal(got, prefix) {
				t.Errorf("New(8): output before the error differs")
			}
			continue
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("New(%d): %v", bits, err)
		}
	}
}

// TestContextBeyondRing checks that history survives many ring wraps and
// Reset(true), at every window size.
func TestContextBeyondRing(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, bits := range []int{8, 10, 12, 13, 15} {
		w := 1 << bits
		// Message 1: random bytes (ring wraps several times for small windows).
		// Message 2: a copy of the last w bytes at distance exactly w.
		m1 := randData(rng, 3*max(w, minRing)+17)
		var bw bitWriter
		for rest := m1; len(rest) > 0; {
			k := min(len(rest), 65535)
			bw.storedBlock(false, rest[:k])
			rest = rest[k:]
		}
		bw.storedBlock(false, nil)
		p1 := bw.bytes()
		var bw2 bitWriter
		bw2.fixedBlock(false, []tok{match(258, w), match(258, w)})
		bw2.storedBlock(false, nil)
		p2 := bw2.bytes()
		tail := m1[len(m1)-w:]
		want2 := make([]byte, 516)
		for i := range want2 {
			want2[i] = tail[i%w]
		}
		z := New(bits)
		got := feed(t, z, nil, p1, randomPieces(rng, len(p1), 500))
		if !bytes.Equal(got, m1) {
			t.Fatalf("bits %d: message 1 differs", bits)
		}
		z.Reset(true)
		got = feed(t, z, nil, p2, ones(len(p2)))
		if !bytes.Equal(got, want2) {
			t.Fatalf("bits %d: message 2 differs", bits)
		}
		// Without the window the reference fails.
		z.Reset(false)
		if _, err := z.Append(nil, p2, 1000); !errors.Is(err, ErrDistance) {
			t.Fatalf("bits %d: after Reset(false) err = %v, want ErrDistance", bits, err)
		}
	}
}

func TestRandomized(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for iter := range 40 {
		var data []byte
		n := rng.IntN(1 << uint(4+rng.IntN(14)))
		switch rng.IntN(3) {
		case 0:
			data = textData(rng, n)
		case 1:
			data = randData(rng, n)
		default:
			data = mixedData(rng, n)
		}
		level := levels[rng.IntN(len(levels))]
		comp := compress(t, data, level)
		pieces := randomPieces(rng, len(comp), 1+rng.IntN(3000))
		z := New(15)
		// Random per-call limits: resume after ErrLimit through Unconsumed.
		var got []byte
		in := comp
		for _, k := range pieces {
			piece := in[:k]
			in = in[k:]
			for range 1 << 20 {
				limit := 1 + rng.IntN(5000)
				before := len(got)
				var err error
				got, err = z.Append(got, piece, limit)
				if len(got)-before > limit {
					t.Fatalf("iter %d: appended %d > limit %d", iter, len(got)-before, limit)
				}
				if err == nil {
					break
				}
				if !errors.Is(err, ErrLimit) || len(got)-before != limit {
					t.Fatalf("iter %d: err %v after %d bytes (limit %d)", iter, err, len(got)-before, limit)
				}
				piece = piece[len(piece)-z.Unconsumed():]
			}
		}
		if !bytes.Equal(got, data) || !z.Final() {
			t.Fatalf("iter %d (level %d, %d bytes): output differs", iter, level, len(data))
		}
	}
}

// TestRepeatedCodeReusesTables checks that a dynamic block with the code
// lengths of the previous one reuses its tables, and that the tables are
// rebuilt whenever the code changes: messages A A B B A, each compressed on
// its own (so equal messages give equal blocks), decode to themselves and
// reuse the tables exactly twice.
func TestRepeatedCodeReusesTables(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	a, b := textData(rng, 3000), bytes.ToUpper(textData(rng, 2000))
	msgs := [][]byte{a, a, b, b, a}
	payloads := pmdPayloads(t, msgs, flate.DefaultCompression, false)
	if payloads[2][0]&6 != 4 || payloads[0][0]&6 != 4 {
		t.Fatalf("the messages are not in dynamic blocks (headers %#x, %#x); the test lost its point",
			payloads[0][0], payloads[2][0])
	}
	z := New(15)
	var dst []byte
	for i, p := range payloads {
		z.Reset(false)
		in := append(bytes.Clone(p), syncTail...)
		dst = feed(t, z, dst[:0], in, randomPieces(rng, len(in), 1+rng.IntN(200)))
		if !bytes.Equal(dst, msgs[i]) {
			t.Fatalf("message %d: got %d bytes, want %d", i, len(dst), len(msgs[i]))
		}
	}
	if z.dynReused != 2 {
		t.Errorf("tables reused %d times, want 2 (A after A, B after B)", z.dynReused)
	}
}
