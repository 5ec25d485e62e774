package filter

import (
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
)

// Filter is a compiled filter expression.
//
// A Filter keeps small scratch buffers so that Match does not allocate; it is
// therefore not safe for concurrent use. Give each goroutine its own copy
// with Clone.
type Filter struct {
	root node
	// canon is the canonical form of the expression.
	canon string

	// Per-Match state: whether the text payload of the current record was
	// checked to be JSON, and the answer.
	jsonChecked, jsonOK bool
	// Scratch buffers for unescaping JSON keys and values and for joining
	// the extensions list; they grow once and are then reused.
	keyBuf, valBuf, joinBuf []byte
	// epoch is the first packet's time in nanoseconds since 1970, for
	// relative times (frame.time_relative); 0 until SetEpoch or the first
	// record that needs it.
	epoch uint64
}

// SetEpoch sets the time relative times are measured from: the first
// packet of the capture (the engine's Epoch callback gives it). Without it,
// the first record that needs a relative time sets it.
func (f *Filter) SetEpoch(t time.Time) {
	if f != nil && !t.IsZero() && t.UnixNano() > 0 {
		f.epoch = uint64(t.UnixNano())
	}
}

// Compile parses and type-checks expr once against the built-in fields
// (field.Builtin). Every problem with the expression is reported as an
// *Error.
func Compile(expr string) (*Filter, error) {
	return CompileWith(expr, field.Builtin())
}

// CompileWith is Compile against the fields of reg, which must not change
// while the filter is in use.
func CompileWith(expr string, reg *field.Registry) (*Filter, error) {
	toks, lerr := lex(expr)
	if lerr != nil {
		return nil, lerr
	}
	p := parser{reg: reg, expr: expr, toks: toks}
	root, perr := p.parse()
	if perr != nil {
		return nil, perr
	}
	var b strings.Builder
	root.format(&b)
	return &Filter{root: root, canon: b.String()}, nil
}

// Match reports whether the record satisfies the filter. A nil record
// matches nothing.
//
// Match does not allocate once the filter's scratch buffers have grown to
// the sizes the traffic needs. The exceptions are rare: comparing a JSON
// number written with more than 32 characters (that is not an integer of up
// to 18 digits) allocates, and matches may allocate when a garbage collection
// has emptied the regexp package's pool of matching machines.
func (f *Filter) Match(r *dissect.Record) bool {
	if r == nil || f == nil || f.root == nil {
		return false
	}
	f.jsonChecked = false
	return f.root.eval(f, r)
}

// String returns the canonical form of the compiled expression: canonical
// field names, symbolic operators, normalised literals and only the
// parentheses that are needed. It compiles to an equivalent filter.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	return f.canon
}

// Clone returns a filter that evaluates the same expression with its own
// scratch state, for use in another goroutine. The compiled expression is
// shared; it is never modified.
func (f *Filter) Clone() *Filter {
	if f == nil {
		return nil
	}
	return &Filter{root: f.root, canon: f.canon, epoch: f.epoch}
}

// isJSON reports whether doc, the text payload of the record being matched,
// is a JSON document; the answer is computed once per Match.
func (f *Filter) isJSON(doc []byte) bool {
	if !f.jsonChecked {
		f.jsonChecked = true
		f.jsonOK = validJSON(doc)
	}
	return f.jsonOK
}
