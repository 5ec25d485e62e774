package dissect

import "unicode/utf8"

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
	if len(b) == 0 {
		return
	}
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
