package filter

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
)

// maxDepth bounds the nesting of parentheses and negations.
const maxDepth = 200

// parser turns tokens into a checked tree of nodes.
type parser struct {
	reg    *field.Registry
	expr   string
	toks   []token
	i      int
	depth  int
	parens []int // positions of the open parentheses
	// bare is true when the last test parsed was a bare field, so an
	// operator could have followed.
	bare bool
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tkEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) *Error {
	return errorf(p.expr, t.pos, format, args...)
}

// parse parses the whole expression.
func (p *parser) parse() (node, *Error) {
	if p.peek().kind == tkEOF {
		return nil, p.errAt(p.peek(), "empty filter expression; expected a field name such as opcode")
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tkEOF {
		return nil, p.unexpectedAfterTest(t)
	}
	return n, nil
}

// unexpectedAfterTest reports token t where a complete test or group ended.
func (p *parser) unexpectedAfterTest(t token) *Error {
	var want []string
	if p.bare {
		want = append(want, "an operator")
	}
	want = append(want, `"and"`, `"or"`)
	if len(p.parens) > 0 {
		want = append(want, `")"`)
	} else {
		want = append(want, "the end of the expression")
	}
	last := len(want) - 1
	return p.errAt(t, "unexpected %s; expected %s or %s", t.describe(), strings.Join(want[:last], ", "), want[last])
}

func (p *parser) parseOr() (node, *Error) {
	n, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tkOr {
		return n, nil
	}
	or := &orNode{}
	or.add(n)
	for p.peek().kind == tkOr {
		p.next()
		k, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		or.add(k)
	}
	return or, nil
}

func (p *parser) parseAnd() (node, *Error) {
	n, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	if p.peek().kind != tkAnd {
		return n, nil
	}
	and := &andNode{}
	and.add(n)
	for p.peek().kind == tkAnd {
		p.next()
		k, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		and.add(k)
	}
	return and, nil
}

func (p *parser) parseNot() (node, *Error) {
	if p.peek().kind != tkNot {
		return p.parsePrimary()
	}
	t := p.next()
	if p.depth++; p.depth > maxDepth {
		return nil, p.errAt(t, "expression nested too deeply")
	}
	k, err := p.parseNot()
	p.depth--
	if err != nil {
		return nil, err
	}
	return &notNode{kid: k}, nil
}

func (p *parser) parsePrimary() (node, *Error) {
	t := p.peek()
	switch t.kind {
	case tkLParen:
		p.next()
		if p.depth++; p.depth > maxDepth {
			return nil, p.errAt(t, "expression nested too deeply")
		}
		p.parens = append(p.parens, t.pos)
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.peek(); c.kind != tkRParen {
			if c.kind == tkEOF {
				return nil, p.errAt(c, `missing ")" to close the "(" at column %d`, column(p.expr, t.pos))
			}
			return nil, p.unexpectedAfterTest(c)
		}
		p.next()
		p.parens = p.parens[:len(p.parens)-1]
		p.depth--
		p.bare = false
		return n, nil
	case tkWord:
		return p.parseTest()
	case tkEOF:
		return nil, p.errAt(t, `unexpected end of expression; expected a field name, "not" or "("`)
	case tkString:
		return nil, p.errAt(t, "expected a field name, found the string %s", t.text)
	}
	return nil, p.errAt(t, `unexpected %s; expected a field name, "not" or "("`, t.describe())
}

// parseTest parses a field and what follows it: a comparison, a search, a
// set membership or nothing (a presence or truth test).
func (p *parser) parseTest() (node, *Error) {
	ft := p.next()
	t, err := p.resolveField(ft)
	if err != nil {
		return nil, err
	}
	p.bare = false
	opTok := p.peek()
	switch opTok.kind {
	case tkEq, tkNe, tkLt, tkLe, tkGt, tkGe, tkContains, tkMatches:
		p.next()
		t.op = opFromToken(opTok.kind)
		if err := p.checkOp(t, opTok); err != nil {
			return nil, err
		}
		v := p.peek()
		if v.kind != tkWord && v.kind != tkString {
			if v.kind == tkEOF {
				return nil, p.errAt(v, "unexpected end of expression; expected a value after %s", quoteDisplay(opTok.text))
			}
			return nil, p.errAt(v, "unexpected %s; expected a value after %s", v.describe(), quoteDisplay(opTok.text))
		}
		p.next()
		if t.op == opMatches {
			return t, p.compileRegexp(t, v)
		}
		e, err := p.literal(t, v)
		if err != nil {
			return nil, err
		}
		if err := p.checkElem(t, opTok, v, &e); err != nil {
			return nil, err
		}
		t.elems = []elem{e}
		return t, nil
	case tkIn:
		p.next()
		t.op = opIn
		if err := p.checkOp(t, opTok); err != nil {
			return nil, err
		}
		return t, p.parseSet(t)
	case tkNot:
		if p.toks[p.i+1].kind == tkIn {
			p.next()
			p.next()
			t.op = opIn
			if err := p.checkOp(t, opTok); err != nil {
				return nil, err
			}
			if err := p.parseSet(t); err != nil {
				return nil, err
			}
			return &notNode{kid: t}, nil
		}
	}
	t.op = opExists
	t.presence = t.spec.Type == tBool && strings.HasPrefix(t.name, "websocket.")
	p.bare = true
	return t, nil
}

func opFromToken(k tokKind) op {
	switch k {
	case tkEq:
		return opEq
	case tkNe:
		return opNe
	case tkLt:
		return opLt
	case tkLe:
		return opLe
	case tkGt:
		return opGt
	case tkGe:
		return opGe
	case tkContains:
		return opContains
	case tkMatches:
		return opMatches
	}
	return opIn
}

// resolveField looks up the field named by t.
func (p *parser) resolveField(t token) (*test, *Error) {
	name := t.text
	if name == "json" || strings.HasPrefix(name, "json.") || strings.HasPrefix(name, "json[") {
		path, err := p.jsonPath(t)
		if err != nil {
			return nil, err
		}
		return &test{spec: p.reg.Lookup("json"), name: name, path: path}, nil
	}
	if s := p.reg.Lookup(name); s != nil {
		return &test{spec: s, name: name}, nil
	}
	if r, _ := utf8.DecodeRuneInString(name); !unicode.IsLetter(r) && r != '_' {
		return nil, p.errAt(t, "expected a field name, found %s", t.describe())
	}
	if s := suggest(p.reg, name); s != "" {
		return nil, p.errAt(t, "unknown field %q; did you mean %q?", name, s)
	}
	return nil, p.errAt(t, `unknown field %q; "wsdissect fields" lists the fields`, name)
}

// jsonPath parses the path of a json field: .key, [index] and ["key"].
func (p *parser) jsonPath(t token) ([]pathStep, *Error) {
	s := t.text
	var path []pathStep
	i := len("json")
	for i < len(s) {
		at := t.pos + i
		switch s[i] {
		case '.':
			j := i + 1
			for j < len(s) && s[j] != '.' && s[j] != '[' && s[j] != ']' {
				j++
			}
			if j == i+1 {
				return nil, errorf(p.expr, at, "empty key in JSON path %q", s)
			}
			path = append(path, pathStep{key: s[i+1 : j]})
			i = j
		case '[':
			if i+1 < len(s) && s[i+1] == '"' {
				key, end, err := scanString(p.expr, t.pos+i+1, false)
				if err != nil {
					return nil, err
				}
				path = append(path, pathStep{key: key})
				i = end - t.pos + 1 // past the ']' checked by the lexer
				continue
			}
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j == i+1 || j >= len(s) || s[j] != ']' {
				return nil, errorf(p.expr, at, `invalid JSON path %q: expected an index such as [0] or a quoted key such as ["a b"]`, s)
			}
			n, err := strconv.Atoi(s[i+1 : j])
			if err != nil || n > math.MaxInt32 {
				return nil, errorf(p.expr, at+1, "array index %s is out of range", s[i+1:j])
			}
			path = append(path, pathStep{index: n, isIndex: true})
			i = j + 1
		default:
			return nil, errorf(p.expr, at, "invalid JSON path %q: unexpected %q", s, s[i])
		}
	}
	return path, nil
}

// opsFor lists the operators a type supports, for error messages.
func opsFor(t field.Type) string {
	switch t {
	case tNumber, tAddr, tSecs:
		return "==, !=, <, <=, >, >= and in"
	case tBool, tDir:
		return "==, != and in"
	}
	return "==, !=, <, <=, >, >=, contains, matches and in"
}

// checkOp rejects operators the field's type does not support.
func (p *parser) checkOp(t *test, opTok token) *Error {
	ok := true
	switch t.spec.Type {
	case tNumber, tAddr, tSecs:
		ok = t.op != opContains && t.op != opMatches
	case tBool, tDir:
		ok = t.op == opEq || t.op == opNe || t.op == opIn
	case tProto:
		return p.errAt(opTok, "%s is a protocol; it can only be tested for presence (%s, !%s)", t.name, t.name, t.name)
	}
	if !ok {
		return p.errAt(opTok, "operator %s does not apply to %s (%s); it supports %s",
			quoteDisplay(opTok.text), t.name, t.spec.Type, opsFor(t.spec.Type))
	}
	return nil
}

// checkElem checks a single comparison value against its operator.
func (p *parser) checkElem(t *test, opTok token, v token, e *elem) *Error {
	relational := t.op >= opLt && t.op <= opGe
	switch {
	case relational && e.special != 0:
		return p.errAt(v, "%s names a group of opcodes and cannot be used with %s; use == or in", v.text, quoteDisplay(opTok.text))
	case relational && t.spec.Type == tAddr && e.isPrefix:
		return p.errAt(v, "a CIDR prefix cannot be used with %s; use == or in", quoteDisplay(opTok.text))
	case relational && t.spec.Type == tJSON && e.jk != jsonString && e.jk != jsonNumber:
		return p.errAt(v, "%s cannot be used with %s; only numbers and strings are ordered", v.text, quoteDisplay(opTok.text))
	case t.op == opContains && t.spec.Type == tJSON && e.jk != jsonString:
		return p.errAt(v, "contains needs a quoted string, not %s", v.text)
	}
	return nil
}

func (p *parser) compileRegexp(t *test, v token) *Error {
	if v.kind != tkString {
		return p.errAt(v, "matches needs a regular expression in double quotes, not %s", v.describe())
	}
	// Like Wireshark, matching is case-insensitive unless the pattern
	// says (?-i).
	if _, err := regexp.Compile(v.val); err != nil {
		msg := strings.TrimPrefix(err.Error(), "error parsing regexp: ")
		return p.errAt(v, "invalid regular expression: %s", msg)
	}
	re, err := regexp.Compile("(?i)" + v.val)
	if err != nil {
		return p.errAt(v, "invalid regular expression: %v", err)
	}
	t.re, t.pattern = re, v.val
	return nil
}

// parseSet parses "{ elem [..elem] ... }" after "in".
func (p *parser) parseSet(t *test) *Error {
	open := p.peek()
	if open.kind != tkLBrace {
		return p.errAt(open, `unexpected %s; expected "{" to start the set after "in"`, open.describe())
	}
	p.next()
	// Split words such as 1000..1015 into their parts.
	var toks []token
	for {
		tk := p.peek()
		if tk.kind == tkRBrace {
			p.next()
			break
		}
		switch tk.kind {
		case tkEOF:
			return p.errAt(tk, `missing "}" to close the set at column %d`, column(p.expr, open.pos))
		case tkWord:
			toks = append(toks, splitRange(tk)...)
		case tkString, tkComma:
			toks = append(toks, tk)
		default:
			return p.errAt(tk, `unexpected %s in a set; expected values separated by spaces or commas, or "}"`, tk.describe())
		}
		p.next()
	}
	for k := 0; k < len(toks); k++ {
		tk := toks[k]
		switch tk.kind {
		case tkComma:
			continue
		case tkRange:
			return p.errAt(tk, `a range needs a value before ".."`)
		}
		e, err := p.literal(t, tk)
		if err != nil {
			return err
		}
		if k+1 < len(toks) && toks[k+1].kind == tkRange {
			if k+2 >= len(toks) || toks[k+2].kind == tkComma || toks[k+2].kind == tkRange {
				return p.errAt(toks[k+1], `a range needs a value after ".."`)
			}
			hiTok := toks[k+2]
			hi, err := p.literal(t, hiTok)
			if err != nil {
				return err
			}
			if err := p.makeRange(t, &e, hi, tk, hiTok); err != nil {
				return err
			}
			k += 2
		}
		t.elems = append(t.elems, e)
	}
	if len(t.elems) == 0 {
		return p.errAt(open, "empty set; list at least one value")
	}
	return nil
}

// splitRange splits a word containing ".." into value and range tokens.
func splitRange(t token) []token {
	i := strings.Index(t.text, "..")
	if i < 0 {
		return []token{t}
	}
	var out []token
	if i > 0 {
		out = append(out, token{kind: tkWord, pos: t.pos, text: t.text[:i]})
	}
	out = append(out, token{kind: tkRange, pos: t.pos + i, text: ".."})
	if rest := t.text[i+2:]; rest != "" {
		out = append(out, token{kind: tkWord, pos: t.pos + i + 2, text: rest})
	}
	return out
}

// makeRange turns e into the range e..hi.
func (p *parser) makeRange(t *test, e *elem, hi elem, loTok, hiTok token) *Error {
	bad := func() *Error {
		return p.errAt(hiTok, "range %s..%s is empty", loTok.text, hiTok.text)
	}
	switch {
	case (t.spec.Type == tNumber || t.spec.Type == tSecs) && e.special == 0 && hi.special == 0:
		if hi.hi < e.lo {
			return bad()
		}
		e.hi = hi.hi
	case t.spec.Type == tAddr && !e.isPrefix && !hi.isPrefix:
		if e.addr.Is4() != hi.addr.Is4() {
			return p.errAt(hiTok, "range %s..%s mixes IPv4 and IPv6", loTok.text, hiTok.text)
		}
		if hi.addr.Less(e.addr) {
			return bad()
		}
		e.addrHi = hi.addr
	case t.spec.Type == tJSON && e.jk == jsonNumber && hi.jk == jsonNumber:
		if compareNum(hi.num, e.num) < 0 {
			return bad()
		}
		e.numHi = hi.num
	default:
		return p.errAt(loTok, "ranges need numbers or addresses, not %s..%s", loTok.text, hiTok.text)
	}
	e.isRange = true
	return nil
}

// literal converts a value token into an element for field t.
func (p *parser) literal(t *test, v token) (elem, *Error) {
	var e elem
	word := v.kind == tkWord
	text := v.text
	if !word {
		text = v.val
	}
	switch t.spec.Type {
	case tSecs:
		if !word {
			break
		}
		if sec, err := strconv.ParseFloat(text, 64); err == nil && sec >= 0 && sec < 1<<33 && !strings.ContainsAny(text, "xXpPnN") {
			e.lo = uint64(math.Round(sec * 1e9))
			e.hi = e.lo
			return e, nil
		}
	case tNumber:
		for k, sym := range t.spec.Symbols {
			if strings.EqualFold(text, sym.Name) {
				e.lo, e.hi = sym.Value, sym.Value
				if sym.Group != nil {
					e.special = uint8(k + 1)
				}
				return e, nil
			}
		}
		if !word {
			break
		}
		u, err := parseUint(text)
		switch {
		case err == errOctal:
			return e, p.errAt(v, "%s", octalMsg(text))
		case err == errRange || err == nil && u > t.spec.Max:
			return e, p.errAt(v, "%s is out of range for %s (0 to %d)", text, t.name, t.spec.Max)
		case err == nil:
			e.lo, e.hi = u, u
			return e, nil
		case strings.HasPrefix(text, "-") && isNumberWord(text[1:]):
			return e, p.errAt(v, "%s is out of range for %s (0 to %d)", text, t.name, t.spec.Max)
		}
	case tBool:
		if !word {
			break
		}
		switch {
		case strings.EqualFold(text, "true"):
			e.flag = true
			return e, nil
		case strings.EqualFold(text, "false"):
			return e, nil
		}
		if u, err := parseUint(text); err == nil {
			e.flag = u != 0
			return e, nil
		}
	case tBytes:
		if !word {
			e.s, e.b, e.quoted = text, []byte(text), true
			return e, nil
		}
		if b, ok := parseByteString(text); ok {
			e.s, e.b = string(b), b
			return e, nil
		}
	case tString:
		if !word {
			e.s, e.b = text, []byte(text)
			return e, nil
		}
	case tAddr:
		if !word {
			break
		}
		if a, err := netip.ParseAddr(text); err == nil && a.Zone() == "" {
			e.addr = a.Unmap()
			return e, nil
		}
		if pf, err := netip.ParsePrefix(text); err == nil {
			e.prefix, e.isPrefix = unmapPrefix(pf), true
			return e, nil
		}
	case tDir:
		switch strings.ToLower(text) {
		case "c2s", "client":
			e.dir = dissect.ClientToServer
			return e, nil
		case "s2c", "server":
			e.dir = dissect.ServerToClient
			return e, nil
		}
	case tJSON:
		if !word {
			e.jk, e.s, e.b = jsonString, text, []byte(text)
			return e, nil
		}
		switch strings.ToLower(text) {
		case "true", "false":
			e.jk, e.flag = jsonBool, strings.EqualFold(text, "true")
			return e, nil
		case "null":
			e.jk = jsonNull
			return e, nil
		}
		if n, ok, err := parseNumberLiteral(text); ok {
			e.jk, e.num = jsonNumber, n
			return e, nil
		} else if err != "" {
			return e, p.errAt(v, "%s", err)
		}
	}
	return e, p.typeError(t, v)
}

// typeError explains that literal v does not fit field t.
func (p *parser) typeError(t *test, v token) *Error {
	if v.kind == tkWord {
		if strings.Contains(v.text, "..") {
			return p.errAt(v, "ranges such as %s are only allowed in sets: %s in {%s}", v.text, t.name, v.text)
		}
		if p.reg.Lookup(v.text) != nil {
			return p.errAt(v, "cannot compare %s with the field %s; the right-hand side must be a value", t.name, v.text)
		}
	}
	if v.kind == tkWord {
		switch {
		case t.spec.Type == tAddr && strings.ContainsAny(v.text, ".:"):
			return p.errAt(v, "%s is not a valid IP address or CIDR prefix", v.text)
		case t.spec.Type == tBytes && strings.ContainsAny(v.text, ":-.") && strings.Trim(v.text, "0123456789abcdefABCDEF:-.") == "":
			return p.errAt(v, `invalid byte string %s: write one or two hex digits per byte, separated by ":", "-" or "." (aa:bb:cc)`, v.text)
		}
	}
	var takes string
	switch t.spec.Type {
	case tSecs:
		takes = "seconds such as 5 or 1.25"
	case tNumber:
		takes = "numbers"
		if len(t.spec.Symbols) > 0 {
			names := make([]string, len(t.spec.Symbols))
			for k, sym := range t.spec.Symbols {
				names[k] = sym.Name
			}
			takes = "numbers or the names " + strings.Join(names, ", ")
		}
	case tBool:
		takes = "true, false, 1 or 0"
	case tBytes:
		takes = "quoted strings or byte strings such as aa:bb:cc"
	case tString:
		takes = "quoted strings"
		if v.kind == tkWord {
			takes += ", such as " + quoteLit(v.text)
		}
	case tAddr:
		takes = "IPv4 or IPv6 addresses and CIDR prefixes such as 10.0.0.0/8"
	case tDir:
		takes = "c2s, s2c, client or server"
	case tJSON:
		takes = "quoted strings, numbers, true, false or null"
	}
	return p.errAt(v, "cannot compare %s (%s) with %s (%s): %s takes %s",
		t.name, t.spec.Type, v.text, describeLiteral(v), t.name, takes)
}

// describeLiteral guesses the type of a literal for error messages.
func describeLiteral(v token) string {
	if v.kind == tkString {
		return "string"
	}
	s := v.text
	switch {
	case strings.EqualFold(s, "true"), strings.EqualFold(s, "false"):
		return "bool"
	}
	if _, err := parseUint(s); err == nil || err == errRange || err == errOctal {
		return "number"
	}
	if _, ok, _ := parseNumberLiteral(s); ok {
		return "number"
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return "address"
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return "address"
	}
	if _, ok := parseByteString(s); ok {
		return "bytes"
	}
	return "unquoted word"
}

func unmapPrefix(pf netip.Prefix) netip.Prefix {
	if a := pf.Addr(); a.Is4In6() && pf.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), pf.Bits()-96).Masked()
	}
	return pf.Masked()
}

// Errors of parseUint; never returned to users.
var (
	errOctal  = errors.New("leading zero")
	errRange  = errors.New("out of range")
	errSyntax = errors.New("not a number")
)

// octalMsg explains why a decimal number with a leading zero is refused.
func octalMsg(s string) string {
	sign, body := "", s
	if strings.HasPrefix(s, "-") {
		sign, body = "-", s[1:]
	}
	dec := strings.TrimLeft(body, "0")
	if dec == "" {
		dec = "0"
	}
	return fmt.Sprintf("ambiguous number %s: numbers do not start with 0 (write %s%s for decimal, %s0o%s for octal)", s, sign, dec, sign, body[1:])
}

// isNumberWord reports whether s starts like a number (a decimal digit).
func isNumberWord(s string) bool { return s != "" && isDigit(s[0]) }

// parseUint parses a decimal, 0x hex, 0b binary or 0o octal number. A
// decimal with a leading zero is rejected: C and Wireshark read it as octal.
func parseUint(s string) (uint64, error) {
	base, digits := 10, s
	if len(s) > 2 && s[0] == '0' {
		switch s[1] {
		case 'x', 'X':
			base, digits = 16, s[2:]
		case 'b', 'B':
			base, digits = 2, s[2:]
		case 'o', 'O':
			base, digits = 8, s[2:]
		}
	}
	if digits == "" || digits[0] == '+' || digits[0] == '-' || strings.Contains(digits, "_") {
		return 0, errSyntax
	}
	u, err := strconv.ParseUint(digits, base, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, errRange
		}
		return 0, errSyntax
	}
	if base == 10 && len(s) > 1 && s[0] == '0' {
		return 0, errOctal
	}
	return u, nil
}

// parseNumberLiteral parses a JSON comparison number: an optionally negative
// integer (decimal or 0x/0b/0o) or a decimal fraction with exponent. ok is
// false when s is not a number; msg explains a number that is malformed.
func parseNumberLiteral(s string) (n jnum, ok bool, msg string) {
	neg := strings.HasPrefix(s, "-")
	body := strings.TrimPrefix(s, "-")
	if !isNumberWord(body) && !(len(body) > 1 && body[0] == '.' && isDigit(body[1])) {
		return n, false, ""
	}
	if u, err := parseUint(body); err == nil {
		switch {
		case !neg && u <= math.MaxInt64:
			return jnum{i: int64(u), f: float64(u), isInt: true}, true, ""
		case neg && u <= 1<<63:
			i := int64(math.MinInt64)
			if u < 1<<63 {
				i = -int64(u)
			}
			return jnum{i: i, f: float64(i), isInt: true}, true, ""
		}
		f := float64(u)
		if neg {
			f = -f
		}
		return jnum{f: f}, true, ""
	} else if err == errOctal {
		return n, false, octalMsg(s)
	}
	if strings.Trim(body, "0123456789.eE+-") != "" {
		return n, false, ""
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return n, false, fmt.Sprintf("number %s is out of range", s)
		}
		return n, false, ""
	}
	return jnum{f: f}, true, ""
}

// parseByteString parses hex bytes separated by ':', '-' or '.' (one or two
// digits each, one kind of separator), or an even run of hex digits, or a
// single-byte hex integer such as 0x7f.
func parseByteString(s string) ([]byte, bool) {
	if len(s) > 2 && len(s) <= 4 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		if u, err := strconv.ParseUint(s[2:], 16, 8); err == nil {
			return []byte{byte(u)}, true
		}
		return nil, false
	}
	sep := byte(0)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ':' || c == '-' || c == '.' {
			sep = c
			break
		}
	}
	var out []byte
	if sep == 0 {
		if len(s) == 0 || len(s)%2 != 0 {
			return nil, false
		}
		for i := 0; i < len(s); i += 2 {
			hi, ok1 := hexVal(s[i])
			lo, ok2 := hexVal(s[i+1])
			if !ok1 || !ok2 {
				return nil, false
			}
			out = append(out, hi<<4|lo)
		}
		return out, true
	}
	for part := range strings.SplitSeq(s, string(sep)) {
		if len(part) == 0 || len(part) > 2 {
			return nil, false
		}
		var v byte
		for i := 0; i < len(part); i++ {
			d, ok := hexVal(part[i])
			if !ok {
				return nil, false
			}
			v = v<<4 | d
		}
		out = append(out, v)
	}
	return out, true
}
