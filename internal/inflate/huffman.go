package inflate

import "math/bits"

// Decoding table entries are packed into a uint32:
//
//	bits  0-3   code length in bits (for a link entry: index bits of the sub-table)
//	bits  4-7   number of extra bits that follow the code (lengths and distances)
//	bits  8-12  kind flags (see below)
//	bits 16-31  value: literal byte, length or distance base, sub-table offset
//
// A primary table is indexed by the next rootBits input bits (LSB first, as
// DEFLATE packs Huffman codes bit-reversed). Codes longer than rootBits go
// through a link entry to a sub-table indexed by the following bits; entries
// in sub-tables carry the full code length so the consumer always shifts by
// the low four bits of the final entry.
const (
	entLenMask  = 0xF
	entExtShift = 4
	entExtMask  = 0xF

	fLiteral = 1 << 8  // value is a literal byte (or a code-length symbol)
	fBase    = 1 << 9  // value is a length/distance base, followed by extra bits
	fEOB     = 1 << 10 // end of block
	fLink    = 1 << 11 // value is the offset of a sub-table
	fInvalid = 1 << 12 // no valid symbol decodes to this bit pattern

	entValShift = 16

	// holeEntry marks bit patterns that an incomplete code leaves unused.
	// Its length of one bit means "invalid as soon as any bit is available",
	// which is exact for the only incomplete codes accepted (empty code and
	// a single one-bit code).
	holeEntry = fInvalid | 1
)

const (
	litRootBits  = 10
	litRootMask  = 1<<litRootBits - 1
	distRootBits = 8
	distRootMask = 1<<distRootBits - 1
	clRootBits   = 7
	clRootMask   = 1<<clRootBits - 1

	// Table capacities: the primary table plus room for every sub-table an
	// acceptable code can need. For 286 symbols, a 10-bit root and 15-bit
	// codes the worst case is 1332 entries (the figure zlib's enough.c
	// computes for the same sizing rule). For distances, a complete
	// sub-table of 2^s entries needs at least s+1 codes, so 30 codes fill
	// at most 30*128/8 = 480 sub-table entries beyond the 256 root entries.
	// buildTable checks the bound anyway and rejects rather than overflows.
	litTableSize  = 1332
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

func makeCLInfo() [numCLSyms]uint32 {
	var t [numCLSyms]uint32
	for s := range t {
		t[s] = fLiteral | uint32(s)<<entValShift
	}
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
// given by lens (one length per symbol, 0 = unused). info[s] supplies the
// entry bits for symbol s. It reports false when the lengths do not form an
// acceptable code: over-subscribed, or incomplete other than the empty code
// and the single one-bit code (both of which zlib and compress/flate accept;
// unused patterns then decode as invalid).
func buildTable(tab []uint32, lens []uint8, info []uint32, rootBits uint) bool {
	var count [maxCodeLen + 1]uint16
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0

	left := 1 // unassigned code space, in units of the current length
	maxLen := 0
	for l := 1; l <= maxCodeLen; l++ {
		left = left<<1 - int(count[l])
		if left < 0 {
			return false // over-subscribed
		}
		if count[l] != 0 {
			maxLen = l
		}
	}
	if left != 0 && maxLen != 0 && (maxLen != 1 || count[1] != 1) {
		return false // incomplete
	}

	rootSize := 1 << rootBits
	for i := range tab[:rootSize] {
		tab[i] = holeEntry
	}
	if maxLen == 0 {
		return true
	}

	// Symbols sorted by (length, symbol): canonical code order.
	var start [maxCodeLen + 2]uint16
	for l := 1; l <= maxCodeLen; l++ {
		start[l+1] = start[l] + count[l]
	}
	var sorted [maxLitSyms + 2]uint16
	n := 0
	for s, l := range lens {
		if l != 0 {
			sorted[start[l]] = uint16(s)
			start[l]++
			n++
		}
	}

	next := rootSize // next free sub-table slot
	curPrefix := -1  // root index of the sub-table being filled
	subOff, subBits := 0, uint(0)
	code := 0 // canonical code of sorted[i], MSB-first
	prevLen := uint(lens[sorted[0]])
	for i := range n {
		sym := sorted[i]
		l := uint(lens[sym])
		code <<= l - prevLen
		prevLen = l
		rev := int(bits.Reverse16(uint16(code)) >> (16 - l))
		e := info[sym] | uint32(l)
		if l <= rootBits {
			for j := rev; j < rootSize; j += 1 << l {
				tab[j] = e
			}
			code++
			continue
		}
		prefix := rev & (rootSize - 1)
		if prefix != curPrefix {
			// New sub-table: it must be wide enough for the longest code
			// sharing this prefix; codes with one prefix are consecutive.
			top := code >> (l - rootBits)
			maxL := l
			c, cl := code, l
			for j := i + 1; j < n; j++ {
				nl := uint(lens[sorted[j]])
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
			for j := subOff; j < next; j++ {
				tab[j] = holeEntry
			}
			tab[prefix] = fLink | uint32(subOff)<<entValShift | uint32(subBits)
		}
		for j := rev >> rootBits; j < 1<<subBits; j += 1 << (l - rootBits) {
			tab[subOff+j] = e
		}
		code++
	}
	return true
}
