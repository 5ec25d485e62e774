package inflate

import "math/bits"

// Decoding table entries are packed into a uint32:
//
//	bits  0-3   code length in bits (for a link entry: index bits of the sub-table)
//	bits  4-5   zero, so that the low six bits are the code length too
//	bits  6-9   number of extra bits that follow the code (lengths and distances)
//	bits 10-14  kind flags (see below)
//	bits 16-31  value: literal byte, length or distance base, sub-table offset
//
// A primary table is indexed by the next rootBits input bits (LSB first, as
// DEFLATE packs Huffman codes bit-reversed). Codes longer than rootBits go
// through a link entry to a sub-table indexed by the following bits; entries
// in sub-tables carry the full code length so the consumer always shifts by
// the low bits of the final entry. The decoder shifts by e&entShiftMask:
// six bits, which a 64-bit shift masks to anyway, so the compiler emits no
// masking instruction on the critical path.
const (
	entLenMask   = 0xF
	entShiftMask = 0x3F
	entExtShift  = 6
	entExtMask   = 0xF

	fLiteral = 1 << 10 // value is a literal byte (or a code-length symbol)
	fBase    = 1 << 11 // value is a length/distance base, followed by extra bits
	fEOB     = 1 << 12 // end of block
	fLink    = 1 << 13 // value is the offset of a sub-table
	fInvalid = 1 << 14 // no valid symbol decodes to this bit pattern

	entValShift = 16

	// holeEntry marks bit patterns that an incomplete code leaves unused.
	// Its length of one bit means "invalid as soon as any bit is available",
	// which is exact for the only incomplete codes accepted (empty code and
	// a single one-bit code).
	holeEntry = fInvalid | 1
)

const (
	litRootBits  = 9
	litRootMask  = 1<<litRootBits - 1
	distRootBits = 8
	distRootMask = 1<<distRootBits - 1
	clRootBits   = 7
	clRootMask   = 1<<clRootBits - 1

	// Table capacities: the primary table plus room for every sub-table an
	// acceptable code can need. For 286 symbols, a 9-bit root and 15-bit
	// codes the worst case is 852 entries (the figure zlib's enough.c
	// computes for the same sizing rule; zlib's ENOUGH_LENS). For distances, a complete
	// sub-table of 2^s entries needs at least s+1 codes, so 30 codes fill
	// at most 30*128/8 = 480 sub-table entries beyond the 256 root entries.
	// buildTable checks the bound anyway and rejects rather than overflows.
	litTableSize  = 852
	distTableSize = 1<<distRootBits + 480
	clTableSize   = 1 << clRootBits

	maxCodeLen = 15
	maxLitSyms = 286 // HLIT upper bound accepted (RFC 1951 3.2.7)
	maxDstSyms = 30  // HDIST upper bound accepted
	numCLSyms  = 19
	maxMatch   = 258
)

// litTable, distTable and clTable are decoding tables of fixed capacity, so
// masked primary lookups need no bounds checks.
type (
	litTable  [litTableSize]uint32
	distTable [distTableSize]uint32
	clTable   [clTableSize]uint32
)

// symbol descriptions (entries without the code length), immutable.
var (
	litInfo  = makeLitInfo()
	distInfo = makeDistInfo()
	clInfo   = makeCLInfo()

	// Tables for fixed-Huffman blocks (RFC 1951 3.2.6), built once, read-only.
	fixedLit, fixedDist = makeFixedTables()
)

// rev9 holds every 9-bit number bit-reversed: the primary index of a code
// c of length l <= 9 is rev9[c<<(9-l)]. One load costs less than
// bits.Reverse16's two.
var rev9 = makeRev9()

func makeRev9() [1 << 9]uint16 {
	var t [1 << 9]uint16
	for c := range t {
		t[c] = bits.Reverse16(uint16(c)) >> 7
	}
	return t
}

// clOrder is the order in which code-length code lengths are transmitted.
var clOrder = [numCLSyms]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func makeLitInfo() [288]uint32 {
	var t [288]uint32
	for s := range 256 {
		t[s] = fLiteral | uint32(s)<<entValShift
	}
	t[256] = fEOB
	// Lengths 3..258: symbols 257..284 come in groups of four sharing an
	// extra-bit count (0 for the first eight), 285 is 258 with no extra bits.
	base := uint32(3)
	for s := 257; s < 285; s++ {
		extra := uint32(0)
		if s >= 265 {
			extra = uint32(s-261) / 4
		}
		t[s] = fBase | base<<entValShift | extra<<entExtShift
		base += 1 << extra
	}
	t[285] = fBase | 258<<entValShift
	t[286] = fInvalid
	t[287] = fInvalid
	return t
}

func makeDistInfo() [32]uint32 {
	var t [32]uint32
	base := uint32(1)
	for s := range 30 {
		extra := uint32(0)
		if s >= 4 {
			extra = uint32(s-2) / 2
		}
		t[s] = fBase | base<<entValShift | extra<<entExtShift
		base += 1 << extra
	}
	t[30] = fInvalid
	t[31] = fInvalid
	return t
}

// fRepeatPrev marks, in the code-length code's table, symbol 16: repeat
// the previous length (the flag is fEOB's, which that table has no use for).
const fRepeatPrev = fEOB

// makeCLInfo describes the code-length code's symbols: 0-15 are lengths
// (fLiteral), 16-18 repeat counts with their base and extra bits (fBase),
// of the previous length (16, fRepeatPrev) or of zeros (17, 18).
func makeCLInfo() [numCLSyms]uint32 {
	var t [numCLSyms]uint32
	for s := range 16 {
		t[s] = fLiteral | uint32(s)<<entValShift
	}
	t[16] = fBase | fRepeatPrev | 3<<entValShift | 2<<entExtShift
	t[17] = fBase | 3<<entValShift | 3<<entExtShift
	t[18] = fBase | 11<<entValShift | 7<<entExtShift
	return t
}

func makeFixedTables() (*litTable, *distTable) {
	var lens [288]uint8
	for s := range lens {
		switch {
		case s < 144:
			lens[s] = 8
		case s < 256:
			lens[s] = 9
		case s < 280:
			lens[s] = 7
		default:
			lens[s] = 8
		}
	}
	// Both codes are complete, so building cannot fail (TestFixedTables).
	lit := new(litTable)
	buildTable(lit[:], lens[:], litInfo[:], litRootBits)
	var dlens [32]uint8
	for s := range dlens {
		dlens[s] = 5
	}
	dist := new(distTable)
	buildTable(dist[:], dlens[:], distInfo[:], distRootBits)
	return lit, dist
}

// buildTable fills tab with a decoding table for the canonical Huffman code
// given by lens (one length per symbol, 0 = unused; every length at most
// maxCodeLen; at most maxSyms symbols). info[s] supplies the entry bits
// for symbol s. It reports false when the lengths do not form an acceptable
// code: over-subscribed, or incomplete other than the empty code and the
// single one-bit code (both of which zlib and compress/flate accept; unused
// patterns then decode as invalid).
func buildTable(tab []uint32, lens []uint8, info []uint32, rootBits uint) bool {
	var used [maxSyms]uint16
	var bk buckets
	if len(lens) > len(used) {
		return false
	}
	return build(tab, lens, usedSymbols(used[:], lens), &bk, info, rootBits)
}

// usedSymbols stores the symbols of lens whose length is not zero in dst,
// in increasing order, and returns them. dst must be as long as lens.
func usedSymbols(dst []uint16, lens []uint8) []uint16 {
	n := 0
	for s, l := range lens {
		dst[n] = uint16(s)
		if l != 0 {
			n++
		}
	}
	return dst[:n]
}

// maxSyms is the most symbols a code handed to build may have.
const maxSyms = maxLitSyms + 2

// buckets is build's scratch space: the symbols of each code length, in
// increasing order, the bucket of length l starting at bucketOff[l].
type buckets [bucketsSize]uint16

// A code that is not over-subscribed has at most 1<<l codes of length l, so
// that is the room of the short lengths' buckets; the long lengths get room
// for every symbol. A bucket of an over-subscribed length may run over into
// the next ones, which is harmless as build then rejects the code; the last
// bucket has room for maxSyms symbols, so no write leaves the array.
var bucketOff = makeBucketOff()

// bucketsSize is bucketOff[maxCodeLen] + maxSyms: 1<<l for l = 0..8, maxSyms
// for l = 9..15 (TestBucketOffsets).
const bucketsSize = 1<<9 - 1 + (maxCodeLen-8)*maxSyms

func makeBucketOff() [maxCodeLen + 1]uint16 {
	var off [maxCodeLen + 1]uint16
	for l := 1; l <= maxCodeLen; l++ {
		off[l] = off[l-1] + uint16(min(1<<(l-1), maxSyms))
	}
	return off
}

// build is buildTable given, in used, the symbols whose length is not zero,
// in increasing order (the dynamic header decoder collects them as it reads
// the lengths, which spares a pass over the many unused symbols), and
// scratch space bk.
//
// One pass over used counts the lengths and sorts the symbols by length
// into buckets, which puts them in canonical code order: by length, then
// by symbol. The table is built without clearing it first: for a complete
// code every primary entry and every sub-table entry is written (each bit
// pattern starts with exactly one code, or with the primary prefix of
// longer ones), and only the two acceptable incomplete codes need holes
// filled in. The primary entries of codes up to rootBits long are written
// once each, in a table of 1<<l entries for codes of length l that is then
// doubled by copying as the lengths grow (the index is the code
// bit-reversed, so the bits that follow a code are the high bits of the
// index).
func build(tab []uint32, lens []uint8, used []uint16, bk *buckets, info []uint32, rootBits uint) bool {
	if len(used) > maxSyms {
		return false
	}
	var count [maxCodeLen + 1]uint16
	for _, s := range used {
		l := lens[s] & maxCodeLen
		bk[bucketOff[l]+count[l]] = s
		count[l]++
	}
	if count[0] != 0 {
		return false // a length of zero or above maxCodeLen among used
	}

	left := 1 // unassigned code space, in units of the current length
	minLen, maxLen := uint(0), uint(0)
	for l := uint(1); l <= maxCodeLen; l++ {
		left = left<<1 - int(count[l])
		if left < 0 {
			return false // over-subscribed
		}
		if count[l] != 0 {
			if minLen == 0 {
				minLen = l
			}
			maxLen = l
		}
	}
	if left != 0 && maxLen != 0 && (maxLen != 1 || count[1] != 1) {
		return false // incomplete
	}

	rootSize := 1 << rootBits
	if len(tab) < rootSize || rootBits > 9 { // 9: rev9's reach
		return false
	}
	root := tab[:rootSize]
	if maxLen == 0 { // the empty code: every pattern is a hole
		for i := range root {
			root[i] = holeEntry
		}
		return true
	}

	// Codes of at most rootBits bits, shortest first, with the table grown
	// by doubling between lengths.
	code := 0 // canonical code (MSB first) of the next symbol, at length codeLen
	codeLen := minLen
	if minLen <= rootBits {
		short := min(maxLen, rootBits)
		size := 1 << minLen
		for l := minLen; ; l++ {
			off := bucketOff[l]
			for _, s := range bk[off : off+count[l]] {
				root[rev9[(code<<(9-l))&(1<<9-1)]] = info[s] | uint32(l)
				code++
			}
			if l == short {
				break
			}
			copy(root[size:2*size], root[:size])
			size <<= 1
			code <<= 1
		}
		codeLen = short
		if left != 0 {
			// The single one-bit code 0: pattern 1 is a hole, copied
			// with the rest as the table doubles.
			root[1] = holeEntry
		}
		for ; size < rootSize; size <<= 1 {
			copy(root[size:2*size], root[:size])
		}
		if maxLen <= rootBits {
			return true
		}
	}

	// Longer codes go to sub-tables behind link entries. Their buckets are
	// first joined into one list in canonical order (moving each down, to
	// just after the previous one).
	first := max(minLen, rootBits+1)
	n := int(bucketOff[first] + count[first])
	for l := first + 1; l <= maxLen; l++ {
		off := int(bucketOff[l])
		n += copy(bk[n:], bk[off:off+int(count[l])])
	}
	sorted := bk[bucketOff[first]:n]
	next := rootSize // next free sub-table slot
	curPrefix := -1  // primary index of the sub-table being filled
	subOff, subBits := 0, uint(0)
	for i, sym := range sorted {
		l := uint(lens[sym])
		code <<= l - codeLen
		codeLen = l
		rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
		prefix := rev & (rootSize - 1)
		if prefix != curPrefix {
			// New sub-table: it must be wide enough for the longest code
			// sharing this prefix; codes with one prefix are consecutive.
			top := code >> (l - rootBits)
			maxL := l
			c, cl := code, l
			for _, s := range sorted[i+1:] {
				nl := uint(lens[s])
				c = (c + 1) << (nl - cl)
				cl = nl
				if c>>(cl-rootBits) != top {
					break
				}
				maxL = cl
			}
			curPrefix = prefix
			subOff = next
			subBits = maxL - rootBits
			next += 1 << subBits
			if next > len(tab) {
				return false
			}
			root[prefix] = fLink | uint32(subOff)<<entValShift | uint32(subBits)
		}
		e := info[sym] | uint32(l)
		sub := tab[subOff : subOff+1<<subBits]
		for j := rev >> rootBits; j < len(sub); j += 1 << (l - rootBits) {
			sub[j] = e
		}
		code++
	}
	return true
}
