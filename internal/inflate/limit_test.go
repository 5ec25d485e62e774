package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"math/rand/v2"
	"runtime"
	"testing"
)

// bomb returns 10 MB of zeros compressed at level 9 (about 10 KB).
func bomb(t testing.TB) []byte {
	t.Helper()
	return compress(t, make([]byte, 10<<20), flate.BestCompression)
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

func TestLimitBomb(t *testing.T) {
	comp := bomb(t)
	if len(comp) > 20_000 {
		t.Fatalf("bomb compressed to %d bytes", len(comp))
	}
	const limit = 1 << 20

	z := New(15)
	buf := make([]byte, 0, limit)
	out, err := z.Append(buf, comp, limit)
	if !errors.Is(err, ErrLimit) || len(out) != limit {
		t.Fatalf("got %d bytes, %v; want %d bytes and ErrLimit", len(out), err, limit)
	}
	if bytes.IndexFunc(out, func(r rune) bool { return r != 0 }) >= 0 {
		t.Fatal("output is not all zeros")
	}
	if z.Total() != limit || z.Unconsumed() >= len(comp) {
		t.Fatalf("Total %d Unconsumed %d", z.Total(), z.Unconsumed())
	}

	// With a buffer of sufficient capacity nothing is allocated at all.
	allocs := testing.AllocsPerRun(5, func() {
		z.Reset(false)
		out, err = z.Append(buf[:0], comp, limit)
	})
	if allocs != 0 || len(out) != limit {
		t.Fatalf("Append with capacity: %v allocations per run", allocs)
	}

	// Growing dst from nil allocates in proportion to the limit (append's
	// amortized growth: a few times the final size), not to the 10 MB of
	// output.
	const small = limit / 4
	before := totalAlloc()
	z.Reset(false)
	out, err = z.Append(nil, comp, small)
	if grown := totalAlloc() - before; !errors.Is(err, ErrLimit) || len(out) != small || grown > 8*small {
		t.Fatalf("Append from nil: %v, %d bytes allocated", err, grown)
	}

	// Discard runs through all 10 MB without allocating in proportion.
	before = totalAlloc()
	z.Reset(false)
	n, err := z.Discard(comp, 20<<20)
	if grown := totalAlloc() - before; err != nil || n != 10<<20 || !z.Final() || grown > 64<<10 {
		t.Fatalf("Discard: %d, %v, Final %v, %d bytes allocated", n, err, z.Final(), grown)
	}
	z.Reset(false)
	n, err = z.Discard(comp, limit)
	if !errors.Is(err, ErrLimit) || n != limit {
		t.Fatalf("Discard with limit: %d, %v", n, err)
	}
}

func TestLimitExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	data := textData(rng, 5000)
	for _, level := range levels {
		comp := compress(t, data, level)
		z := New(15)
		// Exactly enough: no ErrLimit even though the stream continues with
		// end-of-block codes and empty blocks after the last byte.
		out, err := z.Append(nil, comp, len(data))
		if err != nil || !bytes.Equal(out, data) || !z.Final() {
			t.Fatalf("level %d exact limit: %d bytes, %v, Final %v", level, len(out), err, z.Final())
		}
		// One short.
		z.Reset(false)
		out, err = z.Append(nil, comp, len(data)-1)
		if !errors.Is(err, ErrLimit) || !bytes.Equal(out, data[:len(data)-1]) {
			t.Fatalf("level %d limit-1: %d bytes, %v", level, len(out), err)
		}
		// Resume with the unconsumed input.
		rest := comp[len(comp)-z.Unconsumed():]
		out, err = z.Append(out, rest, 10)
		if err != nil || !bytes.Equal(out, data) || !z.Final() {
			t.Fatalf("level %d resume: %d bytes, %v", level, len(out), err)
		}
	}
}

// TestLimitStoredExact: a limit that runs out exactly where a stored block's
// input runs out is not an error; the rest decodes in the next call.
func TestLimitStoredExact(t *testing.T) {
	stream := []byte{0x01, 0x06, 0x00, 0xf9, 0xff, 'a', 'b', 'c', 'd', 'e', 'f'}
	z := New(15)
	out, err := z.Append(nil, stream[:8], 3)
	if err != nil || string(out) != "abc" {
		t.Fatalf("first piece: %q, %v", out, err)
	}
	if out, err = z.Append(out, nil, 0); err != nil || string(out) != "abc" {
		t.Fatalf("empty call: %q, %v", out, err)
	}
	if out, err = z.Append(out, stream[8:], 2); !errors.Is(err, ErrLimit) || string(out) != "abcde" || z.Unconsumed() != 1 {
		t.Fatalf("second piece: %q, %v, Unconsumed %d", out, err, z.Unconsumed())
	}
	if out, err = z.Append(out, stream[10:], 2); err != nil || string(out) != "abcdef" || !z.Final() {
		t.Fatalf("last piece: %q, %v", out, err)
	}
}

func TestLimitZeroAndNegative(t *testing.T) {
	comp := compress(t, []byte("some data"), flate.BestSpeed)
	for _, limit := range []int{0, -1, -1 << 40} {
		z := New(15)
		out, err := z.Append(nil, comp, limit)
		if !errors.Is(err, ErrLimit) || len(out) != 0 {
			t.Fatalf("limit %d: %q, %v", limit, out, err)
		}
		n, err := z.Discard(comp[len(comp)-z.Unconsumed():], 1<<20)
		if err != nil || n != 9 || !z.Final() {
			t.Fatalf("limit %d: Discard after: %d, %v", limit, n, err)
		}
	}
	// Input without output never reports ErrLimit.
	z := New(15)
	for range 3 {
		if out, err := z.Append(nil, []byte{0, 0, 0, 0xff, 0xff}, 0); err != nil || len(out) != 0 {
			t.Fatalf("empty blocks with limit 0: %q, %v", out, err)
		}
	}
}

// TestLimitThenDiscardKeepsContext truncates a message, discards its rest to
// keep the window, and decodes a following message that refers back to it.
func TestLimitThenDiscardKeepsContext(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	m1 := textData(rng, 60_000)
	m2 := append(bytes.Clone(m1[50_000:52_000]), m1[59_000:]...)
	for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.BestCompression} {
		payloads := pmdPayloads(t, [][]byte{m1, m2}, level, true)
		z := New(15)
		in1 := append(payloads[0], syncTail...)
		var shown []byte
		var err error
		pieces := randomPieces(rng, len(in1), 1400)
		for i, k := range pieces {
			piece := in1[:k]
			in1 = in1[k:]
			if len(shown) < 1000 {
				shown, err = z.Append(shown, piece, 1000-len(shown))
				if err == nil {
					continue
				}
				if !errors.Is(err, ErrLimit) {
					t.Fatalf("piece %d: %v", i, err)
				}
				piece = piece[len(piece)-z.Unconsumed():]
			}
			if _, err := z.Discard(piece, 1<<20); err != nil {
				t.Fatalf("piece %d Discard: %v", i, err)
			}
		}
		if !bytes.Equal(shown, m1[:1000]) || z.Total() != uint64(len(m1)) || !z.AtBlockBoundary() {
			t.Fatalf("level %d: shown %d bytes, Total %d", level, len(shown), z.Total())
		}
		in2 := append(payloads[1], syncTail...)
		got := feed(t, z, nil, in2, randomPieces(rng, len(in2), 1400))
		if !bytes.Equal(got, m2) {
			t.Fatalf("level %d: message 2 differs", level)
		}
	}
}

// TestLimitEveryStep walks a stream with limit 1 per call to exercise every
// interruption point (literals, inside matches, inside stored blocks).
func TestLimitEveryStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	data := mixedData(rng, 20_000)
	type stream struct{ data, comp []byte }
	var streams []stream
	for _, level := range levels {
		streams = append(streams, stream{data, compress(t, data, level)})
	}
	{
		// Fixed blocks read ahead into the bit buffer past their end, so the
		// stored block between them starts from buffered bytes.
		text := textData(rng, 200)
		var w bitWriter
		w.fixedBlock(false, lits(string(text)))
		w.storedBlock(false, text[:50])
		w.fixedBlock(true, append(lits("tail"), match(100, 54)))
		streams = append(streams, stream{expand(append(append(lits(string(text)), lits(string(text[:50]))...), append(lits("tail"), match(100, 54))...)), w.bytes()})
	}
	for level, s := range streams {
		data, comp := s.data, s.comp
		z := New(15)
		var out []byte
		in := comp
		for range len(data) + 10 {
			var err error
			before := len(out)
			out, err = z.Append(out, in, 1)
			if len(out)-before > 1 {
				t.Fatalf("level %d: appended %d bytes with limit 1", level, len(out)-before)
			}
			if err == nil {
				break
			}
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("level %d: %v", level, err)
			}
			in = in[len(in)-z.Unconsumed():]
		}
		if !bytes.Equal(out, data) || !z.Final() {
			t.Fatalf("level %d: output differs (%d of %d bytes)", level, len(out), len(data))
		}
	}
}

func TestNoAllocsSteadyState(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	var msgs [][]byte
	for range 20 {
		msgs = append(msgs, textData(rng, 200+rng.IntN(4000)))
	}
	for _, takeover := range []bool{true, false} {
		payloads := pmdPayloads(t, msgs, flate.DefaultCompression, takeover)
		for i := range payloads {
			payloads[i] = append(payloads[i], syncTail...)
		}
		z := New(15)
		dst := make([]byte, 0, 8192)
		run := func() {
			z.Reset(false)
			for _, p := range payloads {
				if !takeover {
					z.Reset(false)
				}
				for len(p) > 0 {
					k := min(len(p), 700)
					var err error
					dst, err = z.Append(dst[:0], p[:k], 1<<20)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := z.Discard(nil, 0); err != nil {
						t.Fatal(err)
					}
					p = p[k:]
				}
			}
		}
		run() // warm up
		if allocs := testing.AllocsPerRun(10, run); allocs != 0 {
			t.Errorf("takeover=%v: %v allocations per run, want 0", takeover, allocs)
		}
	}
}
