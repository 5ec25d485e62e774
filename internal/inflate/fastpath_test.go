package inflate

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// matchTokens returns n random tokens over history of hist bytes: literals,
// and matches of every kind the fast path copies differently (distance 1,
// 2..7, overlapping, non-overlapping, up to the window exactly).
func matchTokens(rng *rand.Rand, n, hist, window int) []tok {
	var toks []tok
	out := hist
	for range n {
		if rng.IntN(3) == 0 || out == 0 {
			toks = append(toks, tok{lit: byte(rng.Uint32())})
			out++
			continue
		}
		length := 3 + rng.IntN(256)
		maxDist := min(out, window)
		var d int
		switch rng.IntN(6) {
		case 0:
			d = 1
		case 1:
			d = 2 + rng.IntN(6)
		case 2:
			d = maxDist - rng.IntN(min(maxDist, 9)) // at or just below the limit
		case 3:
			d = 8 + rng.IntN(length) // overlapping
		default:
			d = 1 + rng.IntN(maxDist)
		}
		d = max(1, min(d, maxDist))
		toks = append(toks, match(length, d))
		out += length
	}
	return toks
}

// TestFastPathMatches decodes long fixed-Huffman blocks of matches whose
// distances reach exactly to the window edge, after history that has
// wrapped the ring, fed whole (fast path) and in random pieces. The fast
// path copies matches in eight-byte pieces that may overshoot the match;
// this checks that the overshoot never clobbers history still in reach.
func TestFastPathMatches(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	for _, bits := range []int{8, 9, 12, 13, 15} {
		w := 1 << bits
		ring := len(newRing(w))
		// Message 1: random history that wraps the ring, so message 2
		// starts at an arbitrary ring position.
		m1 := randData(rng, 2*ring+rng.IntN(ring))
		var bw bitWriter
		for rest := m1; len(rest) > 0; {
			k := min(len(rest), 65535)
			bw.storedBlock(false, rest[:k])
			rest = rest[k:]
		}
		p1 := bw.bytes()

		for iter := range 4 {
			// Message 2: matches into message 1 and into itself; its
			// output wraps the ring a few times too.
			var p2 bytes.Buffer
			var want []byte
			hist := append([]byte(nil), m1...)
			for len(want) < 3*ring {
				blk := matchTokens(rng, 500, len(hist), w)
				var bw2 bitWriter
				bw2.fixedBlock(false, blk)
				bw2.storedBlock(false, nil)
				p2.Write(bw2.bytes())
				out := expand(append(lits(string(hist)), blk...))[len(hist):]
				want = append(want, out...)
				hist = append(hist, out...)
			}
			for _, split := range []string{"whole", "pieces"} {
				t.Run(fmt.Sprintf("bits%d/%d/%s", bits, iter, split), func(t *testing.T) {
					z := New(bits)
					if got := feed(t, z, nil, p1, onePiece(len(p1))); !bytes.Equal(got, m1) {
						t.Fatal("message 1 differs")
					}
					in := p2.Bytes()
					pieces := onePiece(len(in))
					if split == "pieces" {
						pieces = randomPieces(rng, len(in), 3000)
					}
					got := feed(t, z, nil, in, pieces)
					if !bytes.Equal(got, want) {
						i := 0
						for i < min(len(got), len(want)) && got[i] == want[i] {
							i++
						}
						t.Fatalf("message 2 differs at byte %d of %d (got %d bytes)", i, len(want), len(got))
					}
				})
			}
		}
	}
}
