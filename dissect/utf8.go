package dissect

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// utf8Stream validates UTF-8 text that arrives in pieces (fragments, TCP
// segments, inflated chunks), remembering the offset of the first bad byte.
type utf8Stream struct {
	np     int
	off    int64 // bytes seen so far
	badOff int64
	pend   [utf8.UTFMax]byte
	bad    bool
}

// reset starts a new text.
func (u *utf8Stream) reset() { *u = utf8Stream{} }

// write validates the next piece of the text.
func (u *utf8Stream) write(b []byte) {
	if u.bad {
		u.off += int64(len(b))
		return
	}
	start := u.off
	u.off += int64(len(b))
	// Complete a rune left pending by the previous piece.
	for u.np > 0 && len(b) > 0 {
		u.pend[u.np] = b[0]
		u.np++
		b = b[1:]
		start++
		if utf8.FullRune(u.pend[:u.np]) {
			if r, _ := utf8.DecodeRune(u.pend[:u.np]); r == utf8.RuneError {
				u.fail(start - int64(u.np))
				return
			}
			u.np = 0
		} else if u.np == utf8.UTFMax {
			u.fail(start - int64(u.np))
			return
		}
	}
	// Text is mostly ASCII: skip it a word at a time, the last bytes too
	// (utf8.Valid checks a piece's last 32 bytes one by one, which on
	// short pieces is most of its work).
	k := asciiLen(b)
	if k == len(b) {
		return
	}
	b, start = b[k:], start+int64(k)
	// Hold back an incomplete rune at the end.
	tail := 0
	for i := len(b) - 1; i >= 0 && i >= len(b)-(utf8.UTFMax-1); i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				tail = len(b) - i
			}
			break
		}
	}
	body := b[:len(b)-tail]
	if !utf8.Valid(body) {
		for i := 0; i < len(body); {
			r, n := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && n <= 1 {
				u.fail(start + int64(i))
				return
			}
			i += n
		}
	}
	u.np = copy(u.pend[:], b[len(b)-tail:])
}

// fail records the first bad byte.
func (u *utf8Stream) fail(off int64) {
	u.bad = true
	u.badOff = off
	u.np = 0
}

// end finishes the text and reports whether it was valid, and if not, the
// offset of the first bad byte.
func (u *utf8Stream) end() (ok bool, badOff int64) {
	if !u.bad && u.np > 0 {
		u.fail(u.off - int64(u.np))
	}
	return !u.bad, u.badOff
}

// asciiLen returns the length of the ASCII prefix of p.
func asciiLen(p []byte) int {
	const high = 0x8080808080808080 // each byte's top bit
	// Re-slicing q keeps the word offsets constant, which spares the
	// loads their bounds checks.
	q := p[:len(p):len(p)] // (a capacity equal to the length is cheaper to re-slice)
	for len(q) >= 32 {
		if (word(q[0:8])|word(q[8:16])|word(q[16:24])|word(q[24:32]))&high != 0 {
			break
		}
		q = q[32:]
	}
	for len(q) >= 8 {
		if m := word(q[:8]) & high; m != 0 {
			return len(p) - len(q) + bits.TrailingZeros64(m)>>3
		}
		q = q[8:]
	}
	if len(q) > 0 && len(p) >= 8 {
		// The last bytes, in one word that overlaps bytes found ASCII
		// already: a top bit set in it belongs to q.
		if m := word(p[len(p)-8:]) & high; m != 0 {
			return len(p) - 8 + bits.TrailingZeros64(m)>>3
		}
		return len(p)
	}
	for len(q) > 0 && q[0] < utf8.RuneSelf {
		q = q[1:]
	}
	return len(p) - len(q)
}

// word returns the first eight bytes of b as a little-endian word.
func word(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
