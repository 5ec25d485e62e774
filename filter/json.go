package filter

import (
	"bytes"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file holds a small JSON scanner that validates a document and walks
// it to a path without building a tree or allocating.

// jsonKind is the kind of a JSON value.
type jsonKind uint8

const (
	jsonInvalid jsonKind = iota
	jsonString
	jsonNumber
	jsonBool
	jsonNull
	jsonObject
	jsonArray
)

// maxJSONDepth bounds nesting so that validation cannot recurse without limit.
const maxJSONDepth = 512

// pathStep is one step of a JSON path: an object key or an array index.
type pathStep struct {
	key     string
	index   int
	isIndex bool
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isJSONSpace(b[i]) {
		i++
	}
	return i
}

// validJSON reports whether b is exactly one JSON value (RFC 8259), with
// optional surrounding white space. UTF-8 validity of strings is not checked.
func validJSON(b []byte) bool {
	i, ok := validValue(b, skipWS(b, 0), 0)
	return ok && skipWS(b, i) == len(b)
}

func validValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return i, false
	}
	switch b[i] {
	case '{':
		return validContainer(b, i, depth, '}')
	case '[':
		return validContainer(b, i, depth, ']')
	case '"':
		return validString(b, i)
	case 't':
		return validLiteral(b, i, "true")
	case 'f':
		return validLiteral(b, i, "false")
	case 'n':
		return validLiteral(b, i, "null")
	}
	return validNumber(b, i)
}

// validContainer validates an object (close '}') or array (close ']')
// starting at b[i].
func validContainer(b []byte, i, depth int, closer byte) (int, bool) {
	if depth >= maxJSONDepth {
		return i, false
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == closer {
		return i + 1, true
	}
	for {
		var ok bool
		if closer == '}' {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			if i, ok = validString(b, i); !ok {
				return i, false
			}
			i = skipWS(b, i)
			if i >= len(b) || b[i] != ':' {
				return i, false
			}
			i = skipWS(b, i+1)
		}
		if i, ok = validValue(b, i, depth+1); !ok {
			return i, false
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case closer:
			return i + 1, true
		default:
			return i, false
		}
	}
}

func validLiteral(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

func validString(b []byte, i int) (int, bool) {
	i++ // opening quote
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(b, i+2); !ok {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		default:
			i++
		}
	}
	return i, false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func validNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && isDigit(b[i]):
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return i, false
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	return i, true
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var v rune
	for k := 0; k < 4; k++ {
		d, ok := hexVal(b[i+k])
		if !ok {
			return 0, false
		}
		v = v<<4 | rune(d)
	}
	return v, true
}

// skipString returns the offset just past the string starting at b[i]. The
// document must have been validated.
func skipString(b []byte, i int) int {
	i++
	for i < len(b) {
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return len(b)
}

// skipValue returns the offset just past the value starting at b[i]. The
// document must have been validated.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// kindAt returns the kind of the value starting at b[i].
func kindAt(b []byte, i int) jsonKind {
	if i >= len(b) {
		return jsonInvalid
	}
	switch b[i] {
	case '"':
		return jsonString
	case '{':
		return jsonObject
	case '[':
		return jsonArray
	case 't', 'f':
		return jsonBool
	case 'n':
		return jsonNull
	}
	return jsonNumber
}

// lookup walks the validated document b along path and returns the raw bytes
// of the value found there and its kind. Keys are compared after unescaping
// (in scratch); the first member with a matching key wins.
func lookup(b []byte, path []pathStep, scratch *[]byte) ([]byte, jsonKind, bool) {
	i := skipWS(b, 0)
	for _, st := range path {
		if i >= len(b) {
			return nil, jsonInvalid, false
		}
		if st.isIndex {
			if b[i] != '[' {
				return nil, jsonInvalid, false
			}
			i = skipWS(b, i+1)
			for n := 0; ; n++ {
				if i >= len(b) || b[i] == ']' {
					return nil, jsonInvalid, false
				}
				if n == st.index {
					break
				}
				i = skipWS(b, skipValue(b, i))
				if i >= len(b) || b[i] != ',' {
					return nil, jsonInvalid, false
				}
				i = skipWS(b, i+1)
			}
			continue
		}
		if b[i] != '{' {
			return nil, jsonInvalid, false
		}
		i = skipWS(b, i+1)
		for {
			if i >= len(b) || b[i] != '"' {
				return nil, jsonInvalid, false
			}
			kend := skipString(b, i)
			match := keyEquals(b[i+1:max(kend-1, i+1)], st.key, scratch)
			i = skipWS(b, kend)
			if i >= len(b) || b[i] != ':' {
				return nil, jsonInvalid, false
			}
			i = skipWS(b, i+1)
			if match {
				break
			}
			i = skipWS(b, skipValue(b, i))
			if i >= len(b) || b[i] != ',' {
				return nil, jsonInvalid, false
			}
			i = skipWS(b, i+1)
		}
	}
	end := skipValue(b, i)
	if i >= end {
		return nil, jsonInvalid, false
	}
	return b[i:end], kindAt(b, i), true
}

// keyEquals compares the raw contents of a JSON string (between the quotes)
// with key.
func keyEquals(raw []byte, key string, scratch *[]byte) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw) == key
	}
	*scratch = unescapeJSON((*scratch)[:0], raw)
	return string(*scratch) == key
}

// stringContents returns the unescaped contents of the JSON string value raw
// (with its quotes), using scratch only when raw has escapes.
func stringContents(raw []byte, scratch *[]byte) []byte {
	if len(raw) < 2 {
		return nil
	}
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return in
	}
	*scratch = unescapeJSON((*scratch)[:0], in)
	return *scratch
}

// unescapeJSON appends the unescaped form of the validated string contents
// in to dst. Unpaired surrogates become U+FFFD.
func unescapeJSON(dst, in []byte) []byte {
	for i := 0; i < len(in); {
		c := in[i]
		if c != '\\' || i+1 >= len(in) {
			dst = append(dst, c)
			i++
			continue
		}
		e := in[i+1]
		i += 2
		switch e {
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
			r, ok := hex4(in, i)
			if !ok {
				dst = utf8.AppendRune(dst, utf8.RuneError)
				continue
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 <= len(in) && in[i] == '\\' && in[i+1] == 'u' {
					if lo, ok := hex4(in, i+2); ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
							i += 6
						}
					}
				}
				r = r2
			}
			dst = utf8.AppendRune(dst, r)
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
	}
	return dst
}

// jnum is a number from a JSON document or a filter literal. Integers that
// fit int64 are kept exactly; other numbers as float64.
type jnum struct {
	i     int64
	f     float64
	isInt bool
}

// parseJSONNumber parses the raw bytes of a validated JSON number.
func parseJSONNumber(raw []byte) (jnum, bool) {
	if len(raw) <= 18 && !bytes.ContainsAny(raw, ".eE") {
		var v int64
		neg := false
		for k, c := range raw {
			if k == 0 && c == '-' {
				neg = true
				continue
			}
			v = v*10 + int64(c-'0')
		}
		if neg {
			v = -v
		}
		return jnum{i: v, f: float64(v), isInt: true}, true
	}
	// The conversion does not escape, so for numbers of up to 32 bytes the
	// compiler keeps the string on the stack. raw is valid JSON, so the only
	// possible error is a range error, for which ParseFloat still returns
	// the nearest value (±Inf or 0).
	f, _ := strconv.ParseFloat(string(raw), 64)
	return jnum{f: f}, true
}

// compareNum returns -1, 0 or +1 as a is less than, equal to or greater than b.
func compareNum(a, b jnum) int {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	switch {
	case a.f < b.f:
		return -1
	case a.f > b.f:
		return 1
	}
	return 0
}
