package filter

import (
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tkEOF tokKind = iota
	tkWord
	tkString
	tkLParen
	tkRParen
	tkLBrace
	tkRBrace
	tkComma
	tkRange // ".." inside a set (made by the parser from words)
	tkEq
	tkNe
	tkLt
	tkLe
	tkGt
	tkGe
	tkContains
	tkMatches
	tkIn
	tkAnd
	tkOr
	tkNot
)

// token is one lexical element. text is the source text; val is the decoded
// value of a string token.
type token struct {
	kind tokKind
	pos  int
	text string
	val  string
}

// describe names the token for error messages.
func (t token) describe() string {
	if t.kind == tkEOF {
		return "end of expression"
	}
	return quoteDisplay(t.text)
}

// quoteDisplay quotes source text for an error message.
func quoteDisplay(s string) string {
	if strings.ContainsRune(s, '"') {
		return "'" + s + "'"
	}
	return `"` + s + `"`
}

// keywords maps the word forms of operators to their token kinds; matched
// case-insensitively.
var keywords = [...]struct {
	word string
	kind tokKind
}{
	{"and", tkAnd}, {"or", tkOr}, {"not", tkNot},
	{"eq", tkEq}, {"ne", tkNe}, {"lt", tkLt}, {"le", tkLe}, {"gt", tkGt}, {"ge", tkGe},
	{"contains", tkContains}, {"matches", tkMatches}, {"in", tkIn},
}

func isWordByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	case c >= utf8.RuneSelf:
		return true
	}
	switch c {
	case '_', '.', ':', '-', '/', '+', '[', ']':
		return true
	}
	return false
}

// lex splits expr into tokens, ending with a tkEOF token.
func lex(expr string) ([]token, *Error) {
	var toks []token
	i := 0
	for {
		for i < len(expr) && (expr[i] == ' ' || expr[i] == '\t' || expr[i] == '\n' || expr[i] == '\r') {
			i++
		}
		if i >= len(expr) {
			return append(toks, token{kind: tkEOF, pos: len(expr)}), nil
		}
		start := i
		c := expr[i]
		two := ""
		if i+1 < len(expr) {
			two = expr[i : i+2]
		}
		sym := func(k tokKind, n int) {
			toks = append(toks, token{kind: k, pos: start, text: expr[start : start+n]})
			i = start + n
		}
		switch {
		case two == "==":
			sym(tkEq, 2)
		case two == "!=":
			sym(tkNe, 2)
		case two == "<=":
			sym(tkLe, 2)
		case two == ">=":
			sym(tkGe, 2)
		case two == "&&":
			sym(tkAnd, 2)
		case two == "||":
			sym(tkOr, 2)
		case c == '<':
			sym(tkLt, 1)
		case c == '>':
			sym(tkGt, 1)
		case c == '!':
			sym(tkNot, 1)
		case c == '~':
			sym(tkMatches, 1)
		case c == '(':
			sym(tkLParen, 1)
		case c == ')':
			sym(tkRParen, 1)
		case c == '{':
			sym(tkLBrace, 1)
		case c == '}':
			sym(tkRBrace, 1)
		case c == ',':
			sym(tkComma, 1)
		case c == '=':
			return nil, errorf(expr, start, `unexpected "="; did you mean "=="?`)
		case c == '&':
			return nil, errorf(expr, start, `unexpected "&"; did you mean "&&"?`)
		case c == '|':
			return nil, errorf(expr, start, `unexpected "|"; did you mean "||"?`)
		case c == '\'':
			return nil, errorf(expr, start, `unexpected "'"; strings are written in double quotes`)
		case c == '"' || two == `r"`:
			raw := c == 'r'
			q := start
			if raw {
				q++
			}
			val, end, err := scanString(expr, q, raw)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tkString, pos: start, text: expr[start:end], val: val})
			i = end
		case isWordByte(c):
			end, err := scanWord(expr, i)
			if err != nil {
				return nil, err
			}
			t := token{kind: tkWord, pos: start, text: expr[start:end]}
			for _, kw := range keywords {
				if strings.EqualFold(t.text, kw.word) {
					t.kind = kw.kind
					break
				}
			}
			toks = append(toks, t)
			i = end
		default:
			r, _ := utf8.DecodeRuneInString(expr[i:])
			return nil, errorf(expr, start, "unexpected character %s", quoteDisplay(string(r)))
		}
	}
}

// scanWord returns the end of the word starting at i. A word may contain a
// bracketed quoted string (a JSON key such as json["a b"]).
func scanWord(expr string, i int) (int, *Error) {
	for i < len(expr) {
		c := expr[i]
		if c == '[' && i+1 < len(expr) && expr[i+1] == '"' {
			_, end, err := scanString(expr, i+1, false)
			if err != nil {
				return 0, err
			}
			if end >= len(expr) || expr[end] != ']' {
				return 0, errorf(expr, end, `expected "]" after the quoted key`)
			}
			i = end + 1
			continue
		}
		if !isWordByte(c) {
			break
		}
		i++
	}
	return i, nil
}

// scanString decodes the double-quoted string whose opening quote is at q
// and returns its value and the offset just past the closing quote. In a raw
// string a backslash is kept literally (it still protects a quote).
func scanString(expr string, q int, raw bool) (string, int, *Error) {
	var b strings.Builder
	i := q + 1
	for i < len(expr) {
		c := expr[i]
		switch {
		case c == '"':
			return b.String(), i + 1, nil
		case c == '\\' && raw:
			if i+1 < len(expr) && (expr[i+1] == '"' || expr[i+1] == '\\') {
				b.WriteString(expr[i : i+2])
				i += 2
				continue
			}
			b.WriteByte(c)
			i++
		case c == '\\':
			n, err := unescapeAt(expr, i, &b)
			if err != nil {
				return "", 0, err
			}
			i += n
		default:
			b.WriteByte(c)
			i++
		}
	}
	return "", 0, errorf(expr, q, "unterminated string; add the closing \"")
}

// unescapeAt decodes the escape sequence at expr[i] (a backslash) into b and
// returns its length.
func unescapeAt(expr string, i int, b *strings.Builder) (int, *Error) {
	if i+1 >= len(expr) {
		return 0, errorf(expr, i, "unterminated string; add the closing \"")
	}
	c := expr[i+1]
	switch c {
	case '"', '\\', '\'':
		b.WriteByte(c)
		return 2, nil
	case 'a':
		b.WriteByte('\a')
		return 2, nil
	case 'b':
		b.WriteByte('\b')
		return 2, nil
	case 'f':
		b.WriteByte('\f')
		return 2, nil
	case 'n':
		b.WriteByte('\n')
		return 2, nil
	case 'r':
		b.WriteByte('\r')
		return 2, nil
	case 't':
		b.WriteByte('\t')
		return 2, nil
	case 'v':
		b.WriteByte('\v')
		return 2, nil
	case 'x':
		v, ok := hexDigits(expr, i+2, 2)
		if !ok {
			return 0, errorf(expr, i, `invalid escape: \x needs two hex digits`)
		}
		b.WriteByte(byte(v))
		return 4, nil
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		v, ok := hexDigits(expr, i+2, n)
		if !ok {
			return 0, errorf(expr, i, `invalid escape: \%c needs %d hex digits`, c, n)
		}
		if v > utf8.MaxRune || v >= 0xd800 && v <= 0xdfff {
			return 0, errorf(expr, i, `invalid escape: U+%X is not a valid code point`, v)
		}
		b.WriteRune(rune(v))
		return 2 + n, nil
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := 0
		n := 0
		for n < 3 && i+1+n < len(expr) && expr[i+1+n] >= '0' && expr[i+1+n] <= '7' {
			v = v*8 + int(expr[i+1+n]-'0')
			n++
		}
		if n != 3 || v > 0xff {
			return 0, errorf(expr, i, `invalid escape: octal escapes are \NNN with three digits up to \377`)
		}
		b.WriteByte(byte(v))
		return 4, nil
	}
	r, _ := utf8.DecodeRuneInString(expr[i+1:])
	return 0, errorf(expr, i, `invalid escape "\%c" in string; use \\ for a backslash`, r)
}

// hexDigits parses exactly n hex digits at expr[i:].
func hexDigits(expr string, i, n int) (uint32, bool) {
	if i+n > len(expr) {
		return 0, false
	}
	var v uint32
	for k := 0; k < n; k++ {
		d, ok := hexVal(expr[i+k])
		if !ok {
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
