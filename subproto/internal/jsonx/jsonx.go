// Package jsonx is a small allocation-free JSON scanner for the subproto
// decoders: it validates values, finds top-level object members and array
// elements as raw byte slices, unquotes strings into caller buffers, and
// appends JSON compactly (single line, valid UTF-8) for NDJSON output.
package jsonx

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 512

// Errors returned by the scanner.
var (
	ErrSyntax = errors.New("invalid JSON")
	ErrDepth  = errors.New("JSON nested too deeply")
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// SkipSpace returns the index of the first non-space byte at or after i.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// Trim returns b without leading and trailing JSON whitespace.
func Trim(b []byte) []byte {
	i := SkipSpace(b, 0)
	j := len(b)
	for j > i && isSpace(b[j-1]) {
		j--
	}
	return b[i:j]
}

// Valid reports whether b is exactly one JSON value (surrounding space
// allowed).
func Valid(b []byte) bool {
	end, err := Skip(b, SkipSpace(b, 0))
	return err == nil && SkipSpace(b, end) == len(b)
}

// Skip returns the index just after the value starting at b[i] (i at the
// value's first byte, not at space). It walks the value as CompactValue
// does, without compacting.
func Skip(b []byte, i int) (int, error) {
	c := compactor{b: b, check: true}
	return c.value(i, 0)
}

func lit(b []byte, i int, s string) (int, error) {
	if len(b)-i >= len(s) && string(b[i:i+len(s)]) == s {
		return i + len(s), nil
	}
	return 0, ErrSyntax
}

func skipNumber(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, ErrSyntax
	}
	if b[i] == '0' {
		i++
	} else if b[i]-'1' < 9 {
		i = skipDigits(b, i+1)
	} else {
		return 0, ErrSyntax
	}
	if i < len(b) && b[i] == '.' {
		s := i + 1
		if i = skipDigits(b, s); i == s {
			return 0, ErrSyntax
		}
	}
	if i < len(b) && b[i]|0x20 == 'e' {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		if i = skipDigits(b, s); i == s {
			return 0, ErrSyntax
		}
	}
	return i, nil
}

// skipDigits returns the index of the first byte at or after i that is not
// a decimal digit.
func skipDigits(b []byte, i int) int {
	for i < len(b) && b[i]-'0' < 10 {
		i++
	}
	return i
}

func skipString(b []byte, i int) (int, error) {
	i++
	for i < len(b) {
		switch c := b[i]; {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			n, err := escapeLen(b, i)
			if err != nil {
				return 0, err
			}
			i += n
		case c < 0x20:
			return 0, ErrSyntax
		default:
			i++
		}
	}
	return 0, ErrSyntax
}

// escapeLen validates the escape sequence at b[i] (a backslash) inside a
// string and returns its length.
func escapeLen(b []byte, i int) (int, error) {
	if i+1 >= len(b) {
		return 0, ErrSyntax
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
		if i+6 > len(b) {
			return 0, ErrSyntax
		}
		for _, h := range b[i+2 : i+6] {
			if unhex(h) < 0 {
				return 0, ErrSyntax
			}
		}
		return 6, nil
	}
	return 0, ErrSyntax
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Member finds the top-level member key of object obj (raw JSON, possibly
// with surrounding space) and returns its raw value. Keys are compared as
// raw bytes, so a key written with escapes does not match. ok is false
// when obj is not an object or has no such key; the last duplicate wins.
func Member(obj []byte, key string) (val []byte, ok bool) {
	it, err := Object(obj)
	if err != nil {
		return nil, false
	}
	for {
		k, v, more := it.Next()
		if !more {
			break
		}
		if string(k) == key {
			val, ok = v, true
		}
	}
	return val, ok
}

// ObjectIter walks the members of a JSON object that has been validated by
// Object.
type ObjectIter struct {
	b []byte
	i int
}

// Object validates obj as one JSON object and returns an iterator over its
// members.
func Object(obj []byte) (ObjectIter, error) {
	i := SkipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return ObjectIter{}, ErrSyntax
	}
	end, err := Skip(obj, i)
	if err != nil {
		return ObjectIter{}, err
	}
	if SkipSpace(obj, end) != len(obj) {
		return ObjectIter{}, ErrSyntax
	}
	return ObjectIter{b: obj[:end], i: SkipSpace(obj, i+1)}, nil
}

// Next returns the next member's raw key (without quotes, escapes left as
// they are) and raw value.
func (it *ObjectIter) Next() (key, val []byte, ok bool) {
	b := it.b
	if it.i >= len(b) || b[it.i] != '"' {
		return nil, nil, false
	}
	ke, _ := skipString(b, it.i)
	key = b[it.i+1 : ke-1]
	vs := SkipSpace(b, SkipSpace(b, ke)+1)
	ve, _ := Skip(b, vs)
	val = b[vs:ve]
	i := SkipSpace(b, ve)
	if i < len(b) && b[i] == ',' {
		i = SkipSpace(b, i+1)
	}
	it.i = i
	return key, val, true
}

// ArrayIter walks the elements of a validated JSON array.
type ArrayIter struct {
	b []byte
	i int
}

// Array validates arr as one JSON array and returns an iterator over its
// elements.
func Array(arr []byte) (ArrayIter, error) {
	i := SkipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return ArrayIter{}, ErrSyntax
	}
	end, err := Skip(arr, i)
	if err != nil {
		return ArrayIter{}, err
	}
	if SkipSpace(arr, end) != len(arr) {
		return ArrayIter{}, ErrSyntax
	}
	return ArrayIter{b: arr[:end], i: SkipSpace(arr, i+1)}, nil
}

// Next returns the next element's raw value.
func (it *ArrayIter) Next() (val []byte, ok bool) {
	b := it.b
	if it.i >= len(b) || b[it.i] == ']' {
		return nil, false
	}
	ve, _ := Skip(b, it.i)
	val = b[it.i:ve]
	i := SkipSpace(b, ve)
	if i < len(b) && b[i] == ',' {
		i = SkipSpace(b, i+1)
	}
	it.i = i
	return val, true
}

// Rest returns the raw text of the elements not yet returned by Next,
// without the brackets (empty when none are left).
func (it *ArrayIter) Rest() []byte {
	if it.i >= len(it.b)-1 {
		return nil
	}
	return Trim(it.b[it.i : len(it.b)-1])
}

// IsString reports whether raw is a JSON string.
func IsString(raw []byte) bool { return len(raw) >= 2 && raw[0] == '"' }

// AppendUnquote appends the value of the JSON string raw (with quotes) to
// dst. Invalid escapes and surrogates become U+FFFD; a raw that is not a
// string is appended as it is.
func AppendUnquote(dst, raw []byte) []byte {
	if !IsString(raw) {
		return append(dst, raw...)
	}
	s := raw[1 : len(raw)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := decodeU(s[i:])
			if r >= 0xD800 && r < 0xDC00 {
				r2, n2 := decodeU(s[i+n:])
				if r2 >= 0xDC00 && r2 < 0xE000 {
					r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
					n += n2
				} else {
					r = utf8.RuneError
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			i += n
			continue
		default:
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

// decodeU decodes `\uXXXX` at the start of s; n is 0 with r -1 if absent.
func decodeU(s []byte) (r rune, n int) {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1, 0
	}
	v := 0
	for _, h := range s[2:6] {
		d := unhex(h)
		if d < 0 {
			return utf8.RuneError, 6
		}
		v = v<<4 | d
	}
	return rune(v), 6
}

// AppendString appends s as a JSON string: quotes, escapes for '"', '\\'
// and control characters, invalid UTF-8 as U+FFFD.
func AppendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// AppendStr is AppendString for a string.
func AppendStr(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		// rare path: reuse the byte version on the rest
		dst = appendEscaped(dst, []byte(s[i:]))
		return append(dst, '"')
	}
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

func appendEscaped(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&15])
		} else {
			dst = append(dst, s[i:i+n]...)
		}
		i += n
	}
	return dst
}

// AppendCompact appends the valid JSON value raw without insignificant
// whitespace and with invalid UTF-8 inside strings replaced, so the result
// fits on one NDJSON line. raw must have passed Valid or Skip.
func AppendCompact(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if isSpace(c) {
			i++
			continue
		}
		if c != '"' {
			dst = append(dst, c)
			i++
			continue
		}
		end, err := skipString(raw, i)
		if err != nil {
			return append(dst, raw[i:]...)
		}
		s := raw[i:end]
		if utf8.Valid(s) && !hasLineSep(s) {
			dst = append(dst, s...)
		} else {
			dst = append(dst, '"')
			for j := 1; j < len(s)-1; {
				if s[j] == '\\' {
					n := 2
					if s[j+1] == 'u' {
						n = 6
					}
					dst = append(dst, s[j:j+n]...)
					j += n
					continue
				}
				r, n := utf8.DecodeRune(s[j : len(s)-1])
				switch {
				case r == utf8.RuneError && n == 1:
					dst = append(dst, `\ufffd`...)
				case r == '\u2028' || r == '\u2029':
					dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&15])
				default:
					dst = append(dst, s[j:j+n]...)
				}
				j += n
			}
			dst = append(dst, '"')
		}
		i = end
	}
	return dst
}

func hasLineSep(s []byte) bool {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == 0xe2 && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9) {
			return true
		}
	}
	return false
}

// Int parses raw as a JSON integer (no fraction or exponent).
func Int(raw []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(raw), 10, 64)
	return n, err == nil
}

// Tree emits the value raw as tree lines under name: scalars as one line,
// objects and arrays as a heading line followed by their members one level
// deeper (array elements named [0], [1], ...). Strings are shown unquoted.
// At most limit lines are emitted (0 means no limit); the rest is cut with
// a "…" line.
func Tree(raw []byte, name string, depth int, limit int, emit func(depth int, name, value string)) {
	n := 0
	treeValue(Trim(raw), name, depth, &n, limit, emit)
}

func treeValue(raw []byte, name string, depth int, n *int, limit int, emit func(int, string, string)) {
	if limit > 0 && *n >= limit {
		if *n == limit {
			emit(depth, "…", "")
			*n++
		}
		return
	}
	*n++
	if len(raw) == 0 {
		emit(depth, name, "")
		return
	}
	switch raw[0] {
	case '{':
		it, err := Object(raw)
		if err != nil {
			emit(depth, name, string(raw))
			return
		}
		emit(depth, name, "")
		for {
			k, v, ok := it.Next()
			if !ok {
				break
			}
			treeValue(v, string(AppendUnquote(nil, append(append([]byte{'"'}, k...), '"'))), depth+1, n, limit, emit)
		}
	case '[':
		it, err := Array(raw)
		if err != nil {
			emit(depth, name, string(raw))
			return
		}
		emit(depth, name, "")
		for i := 0; ; i++ {
			v, ok := it.Next()
			if !ok {
				break
			}
			treeValue(v, "["+strconv.Itoa(i)+"]", depth+1, n, limit, emit)
		}
	case '"':
		emit(depth, name, string(AppendUnquote(nil, raw)))
	default:
		emit(depth, name, string(raw))
	}
}
