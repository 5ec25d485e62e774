// Package inflate implements a push-based, resumable decoder for raw DEFLATE
// streams (RFC 1951), as used by the WebSocket permessage-deflate extension
// (RFC 7692).
//
// Unlike compress/flate, which pulls input from an io.Reader, an Inflater is
// fed input in arbitrary pieces (TCP segments, WebSocket fragments) and
// returns everything decodable so far after each piece. Memory is bounded by
// the sliding window, the decoding tables and at most eight bytes of
// held-back input; output is appended to a caller-supplied slice and capped
// by a per-call limit, which guards against decompression bombs.
//
// A permessage-deflate receiver appends 00 00 ff ff to each message and
// feeds it; after the message the Inflater is at a block boundary. With
// context takeover the same stream simply continues with the next message;
// without it the caller calls Reset(false) between messages. An empty
// message is normally sent as the single byte 0x00 (the header of an empty
// stored block); a zero-length payload plus 00 00 ff ff is not a complete
// block (it leaves the Inflater mid-header, AtBlockBoundary false), so
// callers should treat a zero-length compressed payload as an empty message
// without feeding it.
package inflate

import (
	"encoding/binary"
	"math"
)

// Decoder states.
const (
	sHeader       uint8 = iota // at a block boundary, reading BFINAL/BTYPE
	sStoredHeader              // reading LEN/NLEN of a stored block
	sStored                    // copying stored block data
	sDynHeader                 // reading HLIT/HDIST/HCLEN
	sCLLens                    // reading code-length code lengths
	sLens                      // reading literal/length and distance code lengths
	sHuffman                   // decoding compressed data
	sDone                      // final block completed; further input is ignored
	sFailed                    // corrupt input seen; sticky until Reset
)

const (
	minWindowBits     = 8
	maxWindowBits     = 15
	defaultWindowBits = 15
	// minRing is the smallest ring allocated; small windows still get a ring
	// big enough for the fast decoding path (the distance limit stays at the
	// configured window).
	minRing = 4096
	// copySlack is the room after the ring, and the least distance between
	// the window and the ring size, that lets the fast decoding path copy
	// matches eight bytes at a time, overshooting by up to seven bytes.
	copySlack = 8
	// maxBudget caps the per-call limit so position arithmetic cannot overflow.
	maxBudget = math.MaxInt64 >> 2
)

// internal stop conditions of the state machine.
type stop uint8

const (
	goOn      stop = iota // state advanced, keep going
	needInput             // input exhausted
	limitHit              // output budget exhausted
	failed                // z.err is set
)

// Inflater decodes one raw DEFLATE stream incrementally. Not safe for
// concurrent use. The zero value is usable and behaves like New(15).
//
// Output is appended to the caller's slice; the Inflater keeps only the
// sliding window as history. Input that ends in the middle of a code, header
// or field is held back (at most eight bytes, in a bit buffer) and decoded
// when more input arrives.
type Inflater struct {
	win    []byte // ring of past output; see newRing for its size
	window int    // largest back-reference distance allowed
	wpos   int    // next write position in win
	rpos   int    // first byte of win not yet handed to the caller
	hist   int    // len(win) once win has wrapped (all of it is history), else 0

	bits  uint64 // unconsumed input bits, LSB first; zero above nbits between calls
	nbits uint   // number of valid bits in bits (<= 63)

	// Per-call state.
	in      []byte       // input of the current call
	p       int          // next byte of in to load
	out     []byte       // destination of the current Append
	discard bool         // current call is Discard or Visit: do not copy output
	visit   func([]byte) // the current Visit's function, else nil
	budget  int          // output bytes the current call may still produce

	inOff      int64  // input bytes consumed before the current call
	blockStart int64  // bit offset of the current block's header
	finalEnd   int64  // byte offset just past the final block
	total      uint64 // output bytes produced since Reset
	unconsumed int    // bytes of the last call's input left unread by ErrLimit

	state      uint8
	final      bool // current block has BFINAL set
	err        error
	storedLeft int // bytes of the current stored block still to copy
	copyLen    int // bytes of an interrupted match still to copy
	copyDist   int // distance of the interrupted match

	// Dynamic header parsing.
	nlit, ndist, nclen int
	idx                int
	// lens holds the code lengths of the current dynamic block, valid at
	// the indexes listed in used (the nonzero ones) and at idx-1; the
	// other entries, zero lengths inside runs, may be left over from an
	// earlier block.
	lens   [maxLitSyms + maxDstSyms]uint8
	used   [maxLitSyms + maxDstSyms]uint16 // indexes of nonzero lengths, ascending
	nused  int                             // entries of used filled so far
	bk     buckets                         // scratch for build
	clLens [numCLSyms]uint8

	lit     *litTable  // current literal/length table: litDyn or fixedLit
	dist    *distTable // current distance table: distDyn or fixedDist
	litDyn  litTable
	distDyn distTable
	clTab   clTable

	// The code whose tables litDyn and distDyn hold (valid when dynOK):
	// a dynamic block with the same code lengths reuses them. In streams of
	// similar messages most blocks repeat the previous block's code, and
	// building the tables was a tenth of the inflater's time.
	dynOK     bool
	dynNlit   int
	dynNdist  int
	dynNused  int
	dynUsed   [maxLitSyms + maxDstSyms]uint16 // as used before the split
	dynLens   [maxLitSyms + maxDstSyms]uint8  // as lens, valid at dynUsed
	dynReused uint64                          // blocks that reused the tables
}

// New returns an Inflater whose sliding window is 1<<windowBits bytes
// (8..15; 15 when out of range). Back-references further than the window are
// an error (ErrDistance).
func New(windowBits int) *Inflater {
	if windowBits < minWindowBits || windowBits > maxWindowBits {
		windowBits = defaultWindowBits
	}
	z := new(Inflater)
	z.init(windowBits)
	return z
}

// init allocates the window for 1<<windowBits bytes and resets z.
func (z *Inflater) init(windowBits int) {
	z.window = 1 << windowBits
	z.win = newRing(z.window)
	z.Reset(false)
}

// newRing allocates the sliding window ring for a window of the given size.
// The fast decoding path writes matches in eight-byte pieces and may write up
// to seven bytes past a match's end. Those bytes are either beyond the ring
// (in the copySlack bytes of capacity after it) or ring bytes that are older
// than the window: the ring is at least copySlack bytes longer than the
// window, so the bytes just after the write position are never referenced
// before being rewritten.
func newRing(window int) []byte {
	n := max(window+copySlack, minRing)
	return make([]byte, n, n+copySlack)
}

// Reset starts a new stream. keepWindow keeps the sliding window (context
// takeover: RFC 7692 lets back-references reach into earlier messages'
// output); otherwise the history is cleared. Reset also clears a failed
// state, an interrupted match and any held-back input, and restarts the
// offsets reported by Total, Error.Offset and Trailing.
func (z *Inflater) Reset(keepWindow bool) {
	if !keepWindow {
		z.wpos, z.hist = 0, 0
	}
	z.rpos = z.wpos
	z.bits, z.nbits = 0, 0
	z.in, z.p, z.out = nil, 0, nil
	z.inOff, z.blockStart, z.finalEnd = 0, 0, 0
	z.total, z.unconsumed = 0, 0
	z.state, z.final, z.err = sHeader, false, nil
	z.storedLeft, z.copyLen, z.copyDist = 0, 0, 0
}

// Append decodes as much of in (appended to any input held back from earlier
// calls) as possible, appends the output to dst and returns it. Bytes that
// end mid-code or mid-header are held back and decoded when more input
// arrives; in is not retained after the call.
//
// limit is the most bytes this call may append (negative means 0). When the
// stream has more output than that, Append appends exactly limit bytes and
// returns ErrLimit. ErrLimit does not break the Inflater: it stops at the
// exact point reached, and the caller may Reset, stop, or continue the
// stream by feeding in[len(in)-Unconsumed():] (and later input) to Append
// or Discard.
//
// On corrupt input Append returns the output decoded before the bad data
// and a *Error wrapping ErrCorrupt or ErrDistance; the Inflater then stays
// failed, returning the same error, until Reset.
//
// Once a block with BFINAL set has been completed, Final reports true and
// any further input, in this call or later ones, is ignored (and counted by
// Trailing); permessage-deflate receivers see this when a sender sets BFINAL
// and the receiver re-appends 00 00 ff ff. Call Reset to start a new stream.
func (z *Inflater) Append(dst, in []byte, limit int) ([]byte, error) {
	z.out = dst
	z.discard = false
	err := z.run(in, limit)
	dst = z.out
	z.out = nil
	return dst, err
}

// Discard decodes in like Append but does not return the output: it only
// counts it, while still updating the window, so that a caller that has
// truncated a message can keep the stream's context. n is the number of
// output bytes produced by this call, at most limit; when the stream has
// more, Discard returns ErrLimit with the same resumption rules as Append.
func (z *Inflater) Discard(in []byte, limit int) (n int, err error) {
	z.discard = true
	before := z.total
	err = z.run(in, limit)
	return int(z.total - before), err
}

// Visit decodes in like Discard but shows the output to fn, in pieces that
// are valid only during the call (they alias the sliding window), in order,
// without copying it: for a caller that only looks at the output once. n is
// the number of output bytes produced by this call; ErrLimit and the other
// errors are as for Discard. fn must not call the Inflater.
func (z *Inflater) Visit(in []byte, limit int, fn func([]byte)) (n int, err error) {
	z.discard, z.visit = true, fn
	before := z.total
	err = z.run(in, limit)
	z.visit = nil
	return int(z.total - before), err
}

// Pending reports how many input bytes are held back undecoded (at most 8).
// It is 0 after the final block and after a failure.
func (z *Inflater) Pending() int {
	if z.state == sDone || z.state == sFailed {
		return 0
	}
	return int(z.nbits+7) / 8
}

// AtBlockBoundary reports whether the decoder is between blocks (after the
// final sync-flush empty stored block of a permessage-deflate message it
// must be). It is true after the final block too.
func (z *Inflater) AtBlockBoundary() bool {
	return z.state == sHeader || z.state == sDone
}

// Final reports whether a block with BFINAL=1 has been completed.
func (z *Inflater) Final() bool { return z.state == sDone }

// Total returns the number of output bytes produced since the last Reset,
// including output counted by Discard.
func (z *Inflater) Total() uint64 { return z.total }

// Unconsumed reports how many bytes at the end of the input passed to the
// most recent Append or Discard were left unread because that call returned
// ErrLimit; it is 0 after any other outcome.
func (z *Inflater) Unconsumed() int { return z.unconsumed }

// Trailing reports how many input bytes after the end of the final block
// have been ignored since the last Reset (0 while Final is false).
func (z *Inflater) Trailing() int64 {
	if z.state != sDone {
		return 0
	}
	return z.inOff - z.finalEnd
}

// run drives the state machine over in with an output budget of limit.
func (z *Inflater) run(in []byte, limit int) error {
	z.unconsumed = 0
	if z.state == sFailed {
		return z.err
	}
	if z.win == nil { // zero Inflater
		z.init(defaultWindowBits)
	}
	z.budget = min(max(limit, 0), maxBudget)
	z.in, z.p = in, 0

	st := goOn
	for st == goOn {
		switch z.state {
		case sHeader:
			st = z.blockHeader()
		case sStoredHeader:
			st = z.storedHeader()
		case sStored:
			st = z.stored()
		case sDynHeader:
			st = z.dynHeader()
		case sCLLens:
			st = z.codeLenLens()
		case sLens:
			st = z.codeLens()
		case sHuffman:
			st = z.huffman()
		default: // sDone: ignore the rest
			z.p = len(z.in)
			st = needInput
		}
	}

	z.flush()
	z.inOff += int64(z.p)
	var err error
	switch st {
	case limitHit:
		z.unconsumed = len(in) - z.p
		err = ErrLimit
	case failed:
		z.state = sFailed
		err = z.err
	}
	z.in = nil
	return err
}

// flush hands the output accumulated in the ring since the last flush to the
// caller (or just counts it when discarding).
func (z *Inflater) flush() {
	n := z.wpos - z.rpos
	if n == 0 {
		return
	}
	switch {
	case z.visit != nil:
		z.visit(z.win[z.rpos:z.wpos])
	case !z.discard:
		z.out = append(z.out, z.win[z.rpos:z.wpos]...)
	}
	z.total += uint64(n)
	z.rpos = z.wpos
}

// wrap flushes a full ring and restarts writing at its beginning.
func (z *Inflater) wrap() {
	z.flush()
	z.wpos, z.rpos, z.hist = 0, 0, len(z.win)
}

// bitPos returns the position, in bits since Reset, of the next unconsumed bit.
func (z *Inflater) bitPos() int64 {
	return (z.inOff+int64(z.p))*8 - int64(z.nbits)
}

// fail records a decoding error at bit position pos and returns failed.
func (z *Inflater) fail(sentinel error, pos int64, reason string) stop {
	z.err = &Error{Offset: pos / 8, Reason: reason, Err: sentinel}
	return failed
}

// fill loads input bytes until at least n bits are buffered (n <= 56). It
// reports whether it succeeded.
func (z *Inflater) fill(n uint) bool {
	for z.nbits < n {
		if z.p >= len(z.in) {
			return false
		}
		z.bits |= uint64(z.in[z.p]) << z.nbits
		z.p++
		z.nbits += 8
	}
	return true
}

// take consumes and returns the next n buffered bits.
func (z *Inflater) take(n uint) uint32 {
	v := uint32(z.bits & (1<<n - 1))
	z.bits >>= n
	z.nbits -= n
	return v
}

// blockDone moves past a completed block.
func (z *Inflater) blockDone() {
	if !z.final {
		z.state = sHeader
		return
	}
	z.state = sDone
	// Everything after this byte, including whole bytes already in the bit
	// buffer, is trailing input: it is counted as fed but never decoded.
	z.finalEnd = (z.bitPos() + 7) / 8
	z.bits, z.nbits = 0, 0
}

func (z *Inflater) blockHeader() stop {
	if !z.fill(3) {
		return needInput
	}
	z.blockStart = z.bitPos()
	v := z.take(3)
	z.final = v&1 != 0
	switch v >> 1 {
	case 0:
		z.state = sStoredHeader
	case 1:
		z.lit, z.dist = fixedLit, fixedDist
		z.state = sHuffman
	case 2:
		z.state = sDynHeader
	default:
		return z.fail(ErrCorrupt, z.blockStart, "reserved block type 3")
	}
	return goOn
}

func (z *Inflater) storedHeader() stop {
	// Skip to a byte boundary; the bits of the partial byte are padding.
	z.take(z.nbits % 8)
	if !z.fill(32) {
		return needInput
	}
	pos := z.bitPos()
	v := z.take(32)
	if uint16(v) != ^uint16(v>>16) {
		return z.fail(ErrCorrupt, pos, "stored block LEN does not match NLEN")
	}
	z.storedLeft = int(v & 0xffff)
	if z.storedLeft == 0 {
		z.blockDone()
	} else {
		z.state = sStored
	}
	return goOn
}

func (z *Inflater) stored() stop {
	for z.storedLeft > 0 {
		if z.wpos == len(z.win) {
			z.wrap()
		}
		n := min(z.storedLeft, len(z.win)-z.wpos, z.budget)
		if n == 0 {
			if z.nbits > 0 || z.p < len(z.in) {
				return limitHit
			}
			return needInput
		}
		if z.nbits > 0 {
			// Whole bytes read ahead into the bit buffer come first.
			k := min(n, int(z.nbits/8))
			for range k {
				z.win[z.wpos] = byte(z.bits)
				z.wpos++
				z.bits >>= 8
			}
			z.nbits -= uint(k) * 8
			z.storedLeft -= k
			z.budget -= k
			continue
		}
		k := copy(z.win[z.wpos:z.wpos+n], z.in[z.p:])
		if k == 0 {
			return needInput
		}
		z.p += k
		z.wpos += k
		z.storedLeft -= k
		z.budget -= k
	}
	z.blockDone()
	return goOn
}

func (z *Inflater) dynHeader() stop {
	if !z.fill(14) {
		return needInput
	}
	v := z.take(14)
	z.nlit = int(v&0x1f) + 257
	z.ndist = int(v>>5&0x1f) + 1
	z.nclen = int(v>>10) + 4
	if z.nlit > maxLitSyms {
		return z.fail(ErrCorrupt, z.blockStart, "too many literal/length codes")
	}
	if z.ndist > maxDstSyms {
		return z.fail(ErrCorrupt, z.blockStart, "too many distance codes")
	}
	z.clLens = [numCLSyms]uint8{}
	z.idx = 0
	z.state = sCLLens
	return goOn
}

func (z *Inflater) codeLenLens() stop {
	for z.idx < z.nclen {
		// All the remaining lengths at once when the input has them (at
		// most 18, 54 bits, per round), else one at a time.
		k := min(z.nclen-z.idx, 18)
		if !z.fill(uint(k) * 3) {
			if !z.fill(3) {
				return needInput
			}
			k = 1
		}
		v := z.bits
		for _, s := range clOrder[z.idx : z.idx+k] {
			z.clLens[s] = uint8(v & 7)
			v >>= 3
		}
		z.bits = v
		z.nbits -= uint(k) * 3
		z.idx += k
	}
	used := usedSymbols(z.used[:numCLSyms], z.clLens[:])
	if !build(z.clTab[:], z.clLens[:], used, &z.bk, clInfo[:], clRootBits) {
		return z.fail(ErrCorrupt, z.blockStart, "invalid code-length code")
	}
	z.idx, z.nused = 0, 0
	z.state = sLens
	return goOn
}

func (z *Inflater) codeLens() stop {
	n := z.nlit + z.ndist
	lens := z.lens[:n]
	tab := &z.clTab
	in, p := z.in, z.p
	b, nb := z.bits, z.nbits
	idx := z.idx
	used, nu := &z.used, z.nused
	st := goOn
	// bad says why the input is corrupt. It is reported after the loop, so
	// that the loop makes no calls and its variables stay in registers.
	bad := ""
	for idx < n {
		// A code (<= 7 bits) and its extra bits (<= 7) need at most 14
		// bits; near the end of the input the refill may come up short.
		if nb < 14 {
			if p+8 <= len(in) {
				b |= binary.LittleEndian.Uint64(in[p:]) << (nb & 63)
				p += int((63 - nb) >> 3)
				nb |= 56
			} else {
				for nb < 56 && p < len(in) {
					b |= uint64(in[p]) << nb
					p++
					nb += 8
				}
			}
		}
		e := tab[b&clRootMask]
		l := uint(e & entLenMask)
		if l > nb {
			st = needInput
			break
		}
		if e&fLiteral != 0 {
			b >>= l
			nb -= l
			sym := e >> entValShift
			lens[idx] = uint8(sym)
			used[nu] = uint16(idx)
			nu += int(sym+15) >> 4 // counted if not zero, without a branch
			idx++
			continue
		}
		if e&fInvalid != 0 {
			bad = "invalid code-length code"
			break
		}
		extra := uint(e>>entExtShift) & entExtMask
		if l+extra > nb {
			st = needInput
			break
		}
		rep := int(e>>entValShift) + int(uint(b>>l)&(1<<extra-1))
		var val uint8
		if e&fRepeatPrev != 0 {
			if idx == 0 {
				bad = "code length repeat with no previous length"
				break
			}
			val = lens[idx-1]
		}
		if idx+rep > n {
			bad = "code length repeat overflows"
			break
		}
		b >>= l + extra
		nb -= l + extra
		if val == 0 {
			// Of a run of zeros only the last is stored, for a
			// following repeat code; see Inflater.lens.
			idx += rep
			lens[idx-1] = 0
			continue
		}
		for range rep {
			lens[idx] = val
			used[nu] = uint16(idx)
			nu++
			idx++
		}
	}
	if bad != "" {
		st = z.failBits(ErrCorrupt, p, nb, bad)
	}
	z.p, z.idx, z.nused = p, idx, nu
	z.bits, z.nbits = b&(1<<nb-1), nb
	if st != goOn {
		return st
	}
	if z.sameCode(nu) {
		z.dynReused++
		z.lit, z.dist = &z.litDyn, &z.distDyn
		z.state = sHuffman
		return goOn
	}
	z.keepCode(nu)
	// Split the used indexes into the two alphabets; distance symbols are
	// numbered from 0.
	nl := nu
	for nl > 0 && int(used[nl-1]) >= z.nlit {
		nl--
		used[nl] -= uint16(z.nlit)
	}
	if !build(z.litDyn[:], z.lens[:z.nlit], used[:nl], &z.bk, litInfo[:], litRootBits) {
		return z.fail(ErrCorrupt, z.blockStart, "invalid literal/length code lengths")
	}
	if !build(z.distDyn[:], z.lens[z.nlit:n], used[nl:nu], &z.bk, distInfo[:], distRootBits) {
		return z.fail(ErrCorrupt, z.blockStart, "invalid distance code lengths")
	}
	z.dynOK = true
	z.lit, z.dist = &z.litDyn, &z.distDyn
	z.state = sHuffman
	return goOn
}

// sameCode reports whether the dynamic block just read, whose nu nonzero
// code lengths are listed in z.used, has the code whose tables litDyn and
// distDyn hold.
func (z *Inflater) sameCode(nu int) bool {
	if !z.dynOK || z.nlit != z.dynNlit || z.ndist != z.dynNdist || nu != z.dynNused {
		return false
	}
	// With the same used symbols, the old lengths are at the same indexes.
	for i, u := range z.used[:nu] {
		if z.dynUsed[i] != u || z.dynLens[u] != z.lens[u] {
			return false
		}
	}
	return true
}

// keepCode records the code of the dynamic block just read (see sameCode)
// before its tables are built; they are only known valid, and z.dynOK set,
// once both builds succeed. It copies the lengths wholesale, stale entries
// too, rather than gathering the used ones: two block copies cost less.
func (z *Inflater) keepCode(nu int) {
	z.dynOK = false
	z.dynNlit, z.dynNdist, z.dynNused = z.nlit, z.ndist, nu
	copy(z.dynUsed[:nu], z.used[:nu])
	copy(z.dynLens[:], z.lens[:z.nlit+z.ndist])
}
