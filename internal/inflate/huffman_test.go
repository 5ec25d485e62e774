package inflate

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// randomCompleteLengths returns code lengths (at most maxLen) of a random
// complete prefix code over n of the symbols 0..numSyms-1. deep biases the
// growth towards long codes, which produces many and wide sub-tables.
func randomCompleteLengths(rng *rand.Rand, n, numSyms int, maxLen uint8, deep bool) []uint8 {
	leaves := []uint8{0} // depths of the leaves of a growing binary tree
	for len(leaves) < n {
		i := -1
		for range 64 { // pick a leaf that can still be split
			j := rng.IntN(len(leaves))
			if leaves[j] < maxLen && (i < 0 || (deep && leaves[j] > leaves[i])) {
				i = j
				if !deep {
					break
				}
			}
		}
		if i < 0 {
			break
		}
		leaves[i]++
		leaves = append(leaves, leaves[i])
	}
	lens := make([]uint8, numSyms)
	for k, sym := range rng.Perm(numSyms)[:len(leaves)] {
		lens[sym] = leaves[k]
	}
	return lens
}

// lookup decodes the code c (length l, MSB first) through tab.
func lookup(tab []uint32, rootBits uint, c uint32, l uint8) uint32 {
	in := uint64(bits.Reverse32(c) >> (32 - uint(l)))
	e := tab[in&(1<<rootBits-1)]
	if e&fLink != 0 {
		e = tab[e>>entValShift+uint32(in>>rootBits)&(1<<(e&entLenMask)-1)]
	}
	return e
}

// TestBuildTableRandomCodes builds tables for random complete codes, checks
// that every code decodes to its symbol and length, and that the tables fit
// the capacities chosen for them.
func TestBuildTableRandomCodes(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	tests := []struct {
		name     string
		numSyms  int
		info     []uint32
		rootBits uint
		capacity int
		maxLen   uint8
	}{
		{"literal/length", maxLitSyms, litInfo[:maxLitSyms], litRootBits, litTableSize, maxCodeLen},
		{"distance", maxDstSyms, distInfo[:maxDstSyms], distRootBits, distTableSize, maxCodeLen},
		{"code length", numCLSyms, clInfo[:], clRootBits, clTableSize, 7},
	}
	for _, tc := range tests {
		maxUsed := 0
		for iter := range 400 {
			n := 2 + rng.IntN(tc.numSyms-1)
			lens := randomCompleteLengths(rng, n, tc.numSyms, tc.maxLen, iter%2 == 0)
			tab := make([]uint32, 4096)
			if !buildTable(tab, lens, tc.info, tc.rootBits) {
				t.Fatalf("%s: complete code rejected: %v", tc.name, lens)
			}
			used := 0
			for i, e := range tab {
				if e != 0 {
					used = i + 1
				}
			}
			maxUsed = max(maxUsed, used)
			if used > tc.capacity {
				t.Fatalf("%s: table needs %d entries, capacity %d", tc.name, used, tc.capacity)
			}
			codes := canonical(lens)
			for sym, l := range lens {
				if l == 0 {
					continue
				}
				e := lookup(tab, tc.rootBits, codes[sym], l)
				if e&entLenMask != uint32(l) || e&^entLenMask != tc.info[sym] {
					t.Fatalf("%s: symbol %d (len %d) decodes to entry %#x", tc.name, sym, l, e)
				}
			}
		}
		t.Logf("%s: largest table %d of %d entries", tc.name, maxUsed, tc.capacity)
	}
}

// TestBucketOffsets checks that build's buckets have the room their
// comment promises.
func TestBucketOffsets(t *testing.T) {
	for l := 1; l <= maxCodeLen; l++ {
		if room := int(bucketOff[l] - bucketOff[l-1]); room < min(1<<(l-1), maxSyms) {
			t.Errorf("bucket %d has room for %d symbols", l-1, room)
		}
	}
	if got := int(bucketOff[maxCodeLen]) + maxSyms; got != bucketsSize {
		t.Errorf("bucketOff[maxCodeLen]+maxSyms = %d, bucketsSize = %d", got, bucketsSize)
	}
}

func TestBuildTableIncomplete(t *testing.T) {
	tests := []struct {
		name string
		lens []uint8
		ok   bool
	}{
		{"empty", []uint8{0, 0, 0}, true},
		{"single one-bit code", []uint8{0, 1, 0}, true},
		{"single two-bit code", []uint8{0, 2, 0}, false},
		{"two one-bit codes", []uint8{1, 1}, true},
		{"over-subscribed", []uint8{1, 1, 1}, false},
		{"incomplete", []uint8{1, 2}, false},
		{"over-subscribed deep", []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15, 15}, false},
		{"complete deep", []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 15}, true},
	}
	var small [1<<litRootBits + 1]uint32
	if buildTable(small[:], []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 12}, litInfo[:], litRootBits) {
		t.Error("buildTable overflowed a table without room for a sub-table")
	}
	for _, tc := range tests {
		var tab litTable
		info := litInfo[:len(tc.lens)]
		if got := buildTable(tab[:], tc.lens, info, litRootBits); got != tc.ok {
			t.Errorf("%s: buildTable = %v, want %v", tc.name, got, tc.ok)
			continue
		}
		if tc.ok && tc.lens[1] == 1 && tc.lens[0] == 0 {
			// The unused pattern "1" is a one-bit hole.
			for i := 1; i < 1<<litRootBits; i += 2 {
				if e := tab[i]; e != holeEntry {
					t.Errorf("%s: pattern %#x decodes to %#x, want hole", tc.name, i, e)
				}
			}
		}
	}
}

// messageCodes returns the code lengths (literal/length and distance) of
// the last dynamic block of each message of a benchmark case, as the
// Inflater recorded them for table reuse.
func messageCodes(b *testing.B, tc messageCase) (lit, dist [][]uint8) {
	s := tc.stream(b)
	z := New(15)
	s.inflate(b, z, tc.takeover, nil, func() {
		lens := make([]uint8, z.dynNlit+z.dynNdist)
		for _, u := range z.dynUsed[:z.dynNused] {
			lens[u] = z.dynLens[u]
		}
		lit = append(lit, lens[:z.dynNlit])
		dist = append(dist, lens[z.dynNlit:])
	})
	return lit, dist
}

// BenchmarkBuild builds the decoding tables of the messages' dynamic blocks
// (realistic JSON at level 1), as a dynamic block header does: the
// per-message setup that BenchmarkMessages pays, without reading it.
func BenchmarkBuild(b *testing.B) {
	var tc messageCase
	for _, c := range messageCases() {
		if c.name == "realistic/level1/no-takeover" {
			tc = c
		}
	}
	lits, dists := messageCodes(b, tc)
	usedOf := func(lens []uint8) []uint16 {
		return usedSymbols(make([]uint16, len(lens)), lens)
	}
	litUsed, distUsed := make([][]uint16, len(lits)), make([][]uint16, len(dists))
	for i := range lits {
		litUsed[i], distUsed[i] = usedOf(lits[i]), usedOf(dists[i])
	}
	var lt litTable
	var dt distTable
	var bk buckets
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for i := range lits {
			if !build(lt[:], lits[i], litUsed[i], &bk, litInfo[:], litRootBits) ||
				!build(dt[:], dists[i], distUsed[i], &bk, distInfo[:], distRootBits) {
				b.Fatal("bad code")
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lits)), "ns/block")
}
