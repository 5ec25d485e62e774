package filter

import (
	"bytes"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
)

// node is one element of a compiled expression. Nodes are immutable after
// Compile; per-evaluation state lives in the Filter.
type node interface {
	// eval reports whether r satisfies the node.
	eval(f *Filter, r *dissect.Record) bool
	// format writes the canonical form of the node.
	format(b *strings.Builder)
	// prec is the binding strength: or 1, and 2, not 3, test 4.
	prec() int
}

type orNode struct{ kids []node }

func (n *orNode) add(k node) {
	if o, ok := k.(*orNode); ok {
		n.kids = append(n.kids, o.kids...)
		return
	}
	n.kids = append(n.kids, k)
}

func (n *orNode) eval(f *Filter, r *dissect.Record) bool {
	for _, k := range n.kids {
		if k.eval(f, r) {
			return true
		}
	}
	return false
}

func (n *orNode) prec() int { return 1 }

func (n *orNode) format(b *strings.Builder) {
	for i, k := range n.kids {
		if i > 0 {
			b.WriteString(" || ")
		}
		k.format(b)
	}
}

type andNode struct{ kids []node }

func (n *andNode) add(k node) {
	if a, ok := k.(*andNode); ok {
		n.kids = append(n.kids, a.kids...)
		return
	}
	n.kids = append(n.kids, k)
}

func (n *andNode) eval(f *Filter, r *dissect.Record) bool {
	for _, k := range n.kids {
		if !k.eval(f, r) {
			return false
		}
	}
	return true
}

func (n *andNode) prec() int { return 2 }

func (n *andNode) format(b *strings.Builder) {
	for i, k := range n.kids {
		if i > 0 {
			b.WriteString(" && ")
		}
		formatParen(b, k, k.prec() < 2)
	}
}

type notNode struct{ kid node }

func (n *notNode) eval(f *Filter, r *dissect.Record) bool { return !n.kid.eval(f, r) }

func (n *notNode) prec() int { return 3 }

func (n *notNode) format(b *strings.Builder) {
	b.WriteByte('!')
	paren := n.kid.prec() < 3
	if t, ok := n.kid.(*test); ok && t.op != opExists {
		paren = true // "!(port in {80 443})" reads better than "!port in ..."
	}
	formatParen(b, n.kid, paren)
}

func formatParen(b *strings.Builder, n node, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	n.format(b)
	if paren {
		b.WriteByte(')')
	}
}

// op is a test's operator.
type op uint8

const (
	opExists op = iota
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
	opContains
	opMatches
	opIn
)

var opText = [...]string{
	opEq: "==", opNe: "!=", opLt: "<", opLe: "<=", opGt: ">", opGe: ">=",
	opContains: "contains", opMatches: "matches", opIn: "in",
}

// elem is one value a test compares with; which members are used depends on
// the field's type.
type elem struct {
	// Numbers: the inclusive range lo..hi (lo == hi for one value), or an
	// opcode group.
	lo, hi  uint64
	special uint8
	isRange bool
	// Bools and JSON true/false.
	flag bool
	// Strings and bytes, in both forms; quoted records how a bytes value was
	// written.
	s      string
	b      []byte
	quoted bool
	// Addresses: one address, the range addr..addrHi, or a prefix.
	addr, addrHi netip.Addr
	prefix       netip.Prefix
	isPrefix     bool
	// Directions.
	dir dissect.Dir
	// JSON literals: kind, and number (or range num..numHi).
	jk         jsonKind
	num, numHi jnum
}

// test compares one field with values.
type test struct {
	spec *field.Field
	// name is the field name as written, for error messages.
	name  string
	path  []pathStep
	op    op
	elems []elem
	// re and pattern are the compiled and written regular expression of
	// a matches test.
	re      *regexp.Regexp
	pattern string
	// presence is set for a bare bool field written with its Wireshark name
	// (websocket.fin): as in Wireshark it tests presence, not truth.
	presence bool
}

func (t *test) prec() int { return 4 }

func (t *test) eval(f *Filter, r *dissect.Record) bool {
	if t.spec.Type == tJSON {
		return t.evalJSON(f, r)
	}
	n := 1
	if t.spec.Multi {
		n = int(^uint(0) >> 1)
	}
	present := false
	for i := 0; i < n; i++ {
		v, ok := t.spec.Get(r, i, &f.joinBuf)
		if !ok {
			break
		}
		if t.spec.Relative {
			if f.epoch == 0 {
				f.epoch = v.U
			}
			v.U -= min(v.U, f.epoch)
		}
		switch t.op {
		case opExists:
			if t.spec.Type == tBool && !t.presence {
				return v.Flag
			}
			return true
		case opNe:
			// Wireshark's "!=": the field is present and no value equals.
			if t.match(v, opEq) {
				return false
			}
			present = true
		default:
			if t.match(v, t.op) {
				return true
			}
		}
	}
	return t.op == opNe && present
}

// match compares one value under o (opNe is handled by the caller).
func (t *test) match(v fval, o op) bool {
	if o == opEq || o == opIn {
		for i := range t.elems {
			if t.equal(v, &t.elems[i]) {
				return true
			}
		}
		return false
	}
	if o == opMatches {
		if v.IsB {
			return t.re.Match(v.B)
		}
		return t.re.MatchString(v.S)
	}
	e := &t.elems[0]
	switch t.spec.Type {
	case tNumber, tSecs:
		return ordered(cmpU64(v.U, e.lo), o)
	case tAddr:
		return v.Addr.BitLen() == e.addr.BitLen() && ordered(v.Addr.Compare(e.addr), o)
	case tBytes, tString:
		if o == opContains {
			if v.IsB {
				return bytes.Contains(v.B, e.b)
			}
			return strings.Contains(v.S, e.s)
		}
		if v.IsB {
			return ordered(bytes.Compare(v.B, e.b), o)
		}
		return ordered(strings.Compare(v.S, e.s), o)
	}
	return false
}

// equal reports whether v equals (or lies in) e.
func (t *test) equal(v fval, e *elem) bool {
	switch t.spec.Type {
	case tNumber, tSecs:
		if e.special != 0 {
			return t.spec.Symbols[e.special-1].Group(v.U)
		}
		return e.lo <= v.U && v.U <= e.hi
	case tBool:
		return v.Flag == e.flag
	case tBytes, tString:
		if v.IsB {
			return string(v.B) == e.s
		}
		return v.S == e.s
	case tAddr:
		switch {
		case e.isPrefix:
			return e.prefix.Contains(v.Addr)
		case e.isRange:
			return v.Addr.BitLen() == e.addr.BitLen() && e.addr.Compare(v.Addr) <= 0 && v.Addr.Compare(e.addrHi) <= 0
		}
		return v.Addr == e.addr
	case tDir:
		return v.Dir == e.dir
	}
	return false
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ordered applies a relational operator to a comparison result.
func ordered(c int, o op) bool {
	switch o {
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	case opEq:
		return c == 0
	}
	return false
}

// evalJSON evaluates a json.PATH test.
func (t *test) evalJSON(f *Filter, r *dissect.Record) bool {
	doc, ok := field.TextPayload(r)
	if !ok || !f.isJSON(doc) {
		return false
	}
	raw, kind, ok := lookup(doc, t.path, &f.keyBuf)
	if !ok {
		return false
	}
	switch t.op {
	case opExists:
		return true
	case opNe:
		return !t.jsonMatch(f, raw, kind, opEq)
	}
	return t.jsonMatch(f, raw, kind, t.op)
}

// jsonMatch compares a JSON value (raw bytes and kind) under o.
func (t *test) jsonMatch(f *Filter, raw []byte, kind jsonKind, o op) bool {
	switch o {
	case opContains, opMatches:
		text := raw
		if kind == jsonString {
			text = stringContents(raw, &f.valBuf)
		}
		if o == opMatches {
			return t.re.Match(text)
		}
		return bytes.Contains(text, t.elems[0].b)
	case opEq, opIn:
		for i := range t.elems {
			if t.jsonEqual(f, raw, kind, &t.elems[i]) {
				return true
			}
		}
		return false
	}
	e := &t.elems[0]
	switch {
	case kind == jsonNumber && e.jk == jsonNumber:
		n, ok := parseJSONNumber(raw)
		return ok && ordered(compareNum(n, e.num), o)
	case kind == jsonString && e.jk == jsonString:
		return ordered(bytes.Compare(stringContents(raw, &f.valBuf), e.b), o)
	}
	return false
}

func (t *test) jsonEqual(f *Filter, raw []byte, kind jsonKind, e *elem) bool {
	if kind != e.jk {
		return false
	}
	switch kind {
	case jsonString:
		return string(stringContents(raw, &f.valBuf)) == e.s
	case jsonNumber:
		n, ok := parseJSONNumber(raw)
		if !ok {
			return false
		}
		if e.isRange {
			return compareNum(e.num, n) <= 0 && compareNum(n, e.numHi) <= 0
		}
		return compareNum(n, e.num) == 0
	case jsonBool:
		return (raw[0] == 't') == e.flag
	case jsonNull:
		return true
	}
	return false
}

// format writes the canonical form of the test.
func (t *test) format(b *strings.Builder) {
	if t.presence {
		b.WriteString(t.name) // the Wireshark name carries the presence meaning
		return
	}
	b.WriteString(t.spec.Name)
	for _, st := range t.path {
		switch {
		case st.isIndex:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(st.index))
			b.WriteByte(']')
		case plainKey(st.key):
			b.WriteByte('.')
			b.WriteString(st.key)
		default:
			b.WriteByte('[')
			b.WriteString(quoteLit(st.key))
			b.WriteByte(']')
		}
	}
	switch t.op {
	case opExists:
		return
	case opMatches:
		b.WriteString(" matches ")
		b.WriteString(quoteLit(t.pattern))
		return
	case opIn:
		b.WriteString(" in {")
		for i := range t.elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			t.formatElem(b, &t.elems[i])
		}
		b.WriteByte('}')
		return
	}
	b.WriteByte(' ')
	b.WriteString(opText[t.op])
	b.WriteByte(' ')
	t.formatElem(b, &t.elems[0])
}

// plainKey reports whether a JSON key can be written as .key.
func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func (t *test) formatElem(b *strings.Builder, e *elem) {
	switch t.spec.Type {
	case tSecs:
		b.Write(t.spec.AppendValue(nil, fval{U: e.lo}))
		if e.isRange {
			b.WriteString("..")
			b.Write(t.spec.AppendValue(nil, fval{U: e.hi}))
		}
	case tNumber:
		if e.special != 0 || len(t.spec.Symbols) > 0 && !e.isRange {
			b.WriteString(t.symbolLiteral(e))
			return
		}
		b.WriteString(strconv.FormatUint(e.lo, 10))
		if e.isRange {
			b.WriteString("..")
			b.WriteString(strconv.FormatUint(e.hi, 10))
		}
	case tBool:
		b.WriteString(strconv.FormatBool(e.flag))
	case tBytes:
		if e.quoted {
			b.WriteString(quoteLit(e.s))
			return
		}
		for i, c := range e.b {
			if i > 0 {
				b.WriteByte(':')
			}
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
		}
	case tString:
		b.WriteString(quoteLit(e.s))
	case tAddr:
		switch {
		case e.isPrefix:
			b.WriteString(e.prefix.String())
		case e.isRange:
			b.WriteString(e.addr.String())
			b.WriteString("..")
			b.WriteString(e.addrHi.String())
		default:
			b.WriteString(e.addr.String())
		}
	case tDir:
		b.WriteString(e.dir.String())
	case tJSON:
		switch e.jk {
		case jsonString:
			b.WriteString(quoteLit(e.s))
		case jsonBool:
			b.WriteString(strconv.FormatBool(e.flag))
		case jsonNull:
			b.WriteString("null")
		case jsonNumber:
			b.WriteString(formatNum(e.num))
			if e.isRange {
				b.WriteString("..")
				b.WriteString(formatNum(e.numHi))
			}
		}
	}
}

// symbolLiteral writes a number of a field with symbols by its symbol's
// name where it has one.
func (t *test) symbolLiteral(e *elem) string {
	if e.special != 0 {
		return t.spec.Symbols[e.special-1].Name
	}
	for _, sym := range t.spec.Symbols {
		if sym.Group == nil && sym.Value == e.lo {
			return sym.Name
		}
	}
	return strconv.FormatUint(e.lo, 10)
}

func formatNum(n jnum) string {
	if n.isInt {
		return strconv.FormatInt(n.i, 10)
	}
	if n.f == 0 {
		return "0" // -0 compares equal to 0 and would print as "-0"
	}
	return strconv.FormatFloat(n.f, 'g', -1, 64)
}

// quoteLit writes s as a filter string literal that decodes back to s.
func quoteLit(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
			i++
			continue
		case '\n':
			b.WriteString(`\n`)
			i++
			continue
		case '\t':
			b.WriteString(`\t`)
			i++
			continue
		case '\r':
			b.WriteString(`\r`)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if c < 0x20 || c == 0x7f || r == utf8.RuneError && size == 1 {
			b.WriteString(`\x`)
			b.WriteByte("0123456789abcdef"[c>>4])
			b.WriteByte("0123456789abcdef"[c&15])
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	b.WriteByte('"')
	return b.String()
}
