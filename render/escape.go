package render

import (
	"encoding/base64"
	"encoding/binary"
	"slices"
	"unicode/utf8"
)

// Tables of the bytes appendJSONEscaped writes as they are: printable ASCII
// other than '"' and '\\', and, in input known to be valid UTF-8, the
// non-ASCII bytes other than 0xE2, the lead byte of U+2028 and U+2029. They
// are built once and never changed.
var (
	jsonPlainASCII = makeJSONPlain(false)
	jsonPlainUTF8  = makeJSONPlain(true)
)

// makeJSONPlain builds jsonPlainASCII or, with utf8 set, jsonPlainUTF8.
func makeJSONPlain(utf8 bool) (t [256]bool) {
	for c := range t {
		switch {
		case c < 0x20 || c == '"' || c == '\\':
		case c < 0x80:
			t[c] = true
		default:
			t[c] = utf8 && c != 0xe2
		}
	}
	return t
}

// appendJSONChars appends the escaped characters of s without quotes. The
// result is valid UTF-8 for any input: bytes that are not UTF-8 become
// U+FFFD. U+2028 and U+2029 are escaped for the sake of JavaScript
// consumers.
func appendJSONChars[T ~string | ~[]byte](b []byte, s T) []byte {
	return appendJSONEscaped(b, s, false)
}

// appendValidJSONChars is appendJSONChars for input the caller has checked
// to be valid UTF-8, which lets multi-byte characters through unexamined.
func appendValidJSONChars(b, s []byte) []byte {
	return appendJSONEscaped(b, s, true)
}

// escChunk is how many input bytes appendJSONEscaped handles per reservation
// of output space.
const escChunk = 4096

// appendJSONEscaped appends s escaped for a JSON string. valid says that s is
// known to be valid UTF-8.
//
// Output space for the worst case (six bytes for each input byte) is
// reserved a chunk of input at a time, so that copyJSONPlain can write bytes
// straight into it: a byte that needs no escape costs a table look-up and a
// store, a quote or backslash two stores, and only the rare other bytes go
// to escapeJSONAt. On JSON text, where quotes come every few bytes and runs
// of plain bytes are short, this is about 2.8 times as fast as the byte scan
// with one append per run that it replaced, and as much on long plain runs.
// (A word-at-a-time scan for runs was slower on JSON text: its per-run
// overhead is higher still.)
func appendJSONEscaped[T ~string | ~[]byte](b []byte, s T, valid bool) []byte {
	plain := &jsonPlainASCII
	if valid {
		plain = &jsonPlainUTF8
	}
	for i := 0; i < len(s); {
		lim := min(len(s), i+escChunk)
		// The last character may run 3 bytes past lim; each input byte
		// becomes at most 6 output bytes.
		b = slices.Grow(b, 6*(lim-i)+32)
		dst := b[len(b):cap(b)]
		o := 0
		for i < lim {
			i, o = copyJSONPlain(dst, o, s[:lim], i, plain, valid)
			if i < lim {
				i, o = escapeJSONAt(dst, o, s, i, valid)
			}
		}
		b = b[:len(b)+o]
	}
	return b
}

// copyJSONPlain writes s[i:] to dst at o, up to the first byte that needs
// escapeJSONAt or the end of s: plain bytes as they are, quotes and
// backslashes escaped, and, when valid, 0xE2 bytes that do not start U+2028
// or U+2029 (which begin many typographic characters) as they are. It
// returns the positions reached in s and dst.
//
// It is kept out of line and free of calls so that the compiler keeps its
// loop in registers; inlined into appendJSONEscaped, whose loop also calls
// escapeJSONAt, the output position lives on the stack and the loop runs at
// two thirds of the speed.
//
//go:noinline
func copyJSONPlain[T ~string | ~[]byte](dst []byte, o int, s T, i int, plain *[256]bool, valid bool) (int, int) {
	tbl := plain[:] // one nil check, not one per byte
	for ; i < len(s); i++ {
		c := s[i]
		if tbl[c] {
			dst[o] = c
			o++
			continue
		}
		if c == '"' || c == '\\' {
			dst[o], dst[o+1] = '\\', c
			o += 2
			continue
		}
		// U+2028 and U+2029 are E2 80 A8 and E2 80 A9; one cut short by
		// the end of s is left to escapeJSONAt, which sees the rest.
		if c != 0xe2 || !valid || i+2 >= len(s) || s[i+1] == 0x80 && s[i+2]&^1 == 0xa8 {
			break
		}
		dst[o] = c
		o++
	}
	return i, o
}

// escapeJSONAt writes the character at s[i], which is not in the plain
// table, escaped if need be, to dst at o; for a multi-byte character it
// writes the whole character. It returns the positions after it in s and
// dst. dst has room for at least 6 bytes at o.
func escapeJSONAt[T ~string | ~[]byte](dst []byte, o int, s T, i int, valid bool) (int, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		switch c {
		case '"', '\\':
			dst[o], dst[o+1] = '\\', c
			return i + 1, o + 2
		case '\n':
			dst[o], dst[o+1] = '\\', 'n'
			return i + 1, o + 2
		case '\r':
			dst[o], dst[o+1] = '\\', 'r'
			return i + 1, o + 2
		case '\t':
			dst[o], dst[o+1] = '\\', 't'
			return i + 1, o + 2
		}
		return i + 1, o + copy(dst[o:], []byte{'\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf]})
	}
	if valid {
		// c is 0xE2: U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
		if i+2 < len(s) && s[i+1] == 0x80 && s[i+2]&^1 == 0xa8 {
			return i + 3, o + copy(dst[o:], []byte{'\\', 'u', '2', '0', '2', '8' + s[i+2]&1})
		}
		dst[o] = c
		return i + 1, o + 1
	}
	r, size := decodeRune(s[i:])
	switch {
	case r == utf8.RuneError && size == 1:
		return i + 1, o + copy(dst[o:], `\ufffd`)
	case r == '\u2028' || r == '\u2029':
		return i + size, o + copy(dst[o:], []byte{'\\', 'u', '2', '0', '2', byte('0' + r - 0x2020)})
	}
	return i + size, o + copy(dst[o:], s[i:i+size])
}

// base64Pairs maps twelve bits to the two standard base64 characters that
// encode them, the first in the low byte. It is built once and never
// changed.
var base64Pairs = func() (t [1 << 12]uint16) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for v := range t {
		t[v] = uint16(alphabet[v>>6]) | uint16(alphabet[v&0x3f])<<8
	}
	return t
}()

// base64Word returns the eight characters encoding the top 48 bits of v,
// the first in the low byte.
func base64Word(v uint64) uint64 {
	return uint64(base64Pairs[v>>52&0xfff]) |
		uint64(base64Pairs[v>>40&0xfff])<<16 |
		uint64(base64Pairs[v>>28&0xfff])<<32 |
		uint64(base64Pairs[v>>16&0xfff])<<48
}

// appendBase64 appends p in standard, padded base64, exactly as
// base64.StdEncoding.AppendEncode does, but six input bytes at a time: each
// step loads a word, looks up four character pairs and stores one word.
func appendBase64(b, p []byte) []byte {
	n := base64.StdEncoding.EncodedLen(len(p))
	b = slices.Grow(b, n)
	dst := b[len(b) : len(b)+n]
	for len(p) >= 14 && len(dst) >= 16 {
		binary.LittleEndian.PutUint64(dst, base64Word(binary.BigEndian.Uint64(p)))
		binary.LittleEndian.PutUint64(dst[8:], base64Word(binary.BigEndian.Uint64(p[6:])))
		p = p[12:]
		dst = dst[16:]
	}
	for len(p) >= 8 && len(dst) >= 8 {
		binary.LittleEndian.PutUint64(dst, base64Word(binary.BigEndian.Uint64(p)))
		p = p[6:]
		dst = dst[8:]
	}
	// What is left starts on a three-byte boundary, so it encodes on its own.
	base64.StdEncoding.Encode(dst, p)
	return b[:len(b)+n]
}
