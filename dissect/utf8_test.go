package dissect

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// refUTF8 is what utf8Stream must find in text: whether it is valid, and
// if not the offset of its first bad byte (a truncated last character is
// bad at its first byte).
func refUTF8(text []byte) (bool, int64) {
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRune(text[i:])
		if r == utf8.RuneError && n <= 1 {
			return false, int64(i)
		}
		i += n
	}
	return true, 0
}

// TestUTF8StreamPieces feeds texts with ASCII runs of every length around
// the word sizes before, between and after characters and bad bytes, whole
// and split in two and three pieces at every point, and compares the result
// with decoding the whole text.
func TestUTF8StreamPieces(t *testing.T) {
	specials := []string{"", "é", "✓", "😀", "\xff", "\x80", "\xe2\x82", "\xed\xa0\x80", "\xf0\x9f\x98", "\xc3("}
	var texts []string
	for _, sp := range specials {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 31, 32, 33, 40} {
			a := strings.Repeat("a", n)
			texts = append(texts, a+sp, sp+a, a+sp+a, a+sp+"ü"+a+sp)
		}
	}
	for _, s := range texts {
		text := []byte(s)
		wantOK, wantOff := refUTF8(text)
		feed := func(cuts ...int) {
			t.Helper()
			var u utf8Stream
			last := 0
			for _, c := range append(cuts, len(text)) {
				u.write(text[last:c])
				last = c
			}
			ok, off := u.end()
			if ok != wantOK || !ok && off != wantOff {
				t.Fatalf("%q cut at %v: ok=%v off=%d, want ok=%v off=%d", s, cuts, ok, off, wantOK, wantOff)
			}
		}
		feed()
		for i := 0; i <= len(text); i++ {
			feed(i)
			for j := i; j <= len(text) && j < i+6; j++ {
				feed(i, j)
			}
		}
	}
}

// TestASCIILen puts a non-ASCII byte at every position of texts of every
// length up to a few words.
func TestASCIILen(t *testing.T) {
	for n := range 70 {
		p := []byte(strings.Repeat("x", n))
		if got := asciiLen(p); got != n {
			t.Fatalf("asciiLen(%d ASCII bytes) = %d", n, got)
		}
		for at := range n {
			for _, c := range []byte{0x80, 0xc3, 0xff} {
				q := append([]byte(nil), p...)
				q[at] = c
				if at+1 < n {
					q[n-1] = 0xe2 // a later non-ASCII byte must not win
				}
				if got := asciiLen(q); got != at {
					t.Fatalf("asciiLen(%q) = %d, want %d", q, got, at)
				}
			}
		}
	}
}

// TestMaskedASCIILen masks texts with a non-ASCII byte at every position,
// from every payload position modulo the key's length, and compares with
// asciiLen of the text in clear.
func TestMaskedASCIILen(t *testing.T) {
	key := [4]byte{0x8a, 0x13, 0xf0, 0x7c} // top bits set and clear
	for n := range 70 {
		for at := -1; at < n; at++ {
			text := []byte(strings.Repeat("y", n))
			if at >= 0 {
				text[at] = 0xc3
			}
			for pos := range uint64(5) {
				masked := append([]byte(nil), text...)
				maskBytes(masked, key, pos)
				if got, want := maskedASCIILen(masked, key, pos), asciiLen(text); got != want {
					t.Fatalf("n=%d at=%d pos=%d: maskedASCIILen = %d, want %d", n, at, pos, got, want)
				}
			}
		}
	}
}
