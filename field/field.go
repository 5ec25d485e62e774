// Package field declares the fields records can be filtered by, listed under
// and printed with: one registry that the filter, the renderers and
// `wsdissect fields` all read, to which every layer adds its own fields.
package field

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	"github.com/wsdissect/wsdissect/dissect"
)

// Type is the type of a field's values; it decides which literals and
// operators a filter comparison accepts.
type Type uint8

// Field types.
const (
	Number Type = iota + 1
	Bool
	Bytes
	String
	Addr
	Direction
	JSON
	// Protocol is a protocol name: it can only be tested for presence.
	Protocol
	// Seconds is a time in nanoseconds (Value.U), written and compared in
	// seconds with a fraction (1.5).
	Seconds
)

// String returns the type name shown by `wsdissect fields` and in filter
// error messages.
func (t Type) String() string {
	switch t {
	case Number:
		return "number"
	case Bool:
		return "bool"
	case Bytes:
		return "bytes"
	case String:
		return "string"
	case Addr:
		return "address"
	case Direction:
		return "direction"
	case JSON:
		return "json"
	case Protocol:
		return "protocol"
	case Seconds:
		return "seconds"
	}
	return "unknown"
}

// Value is one value of a field. Which members are meaningful depends on the
// field's Type: U for numbers, Flag for bools, S (or B when IsB is set, so
// that payloads are never converted) for strings and bytes, Addr for
// addresses, Dir for directions.
type Value struct {
	U    uint64
	S    string
	B    []byte
	IsB  bool
	Flag bool
	Addr netip.Addr
	Dir  dissect.Dir
}

// Getter returns the i-th value (from 0) of a field on r; ok is false when
// there is no such value. Only fields marked Multi have values beyond 0.
// scratch is a buffer the getter may grow and return a value in (the caller
// keeps it between calls so that getting a value does not allocate); such a
// value is valid until the next call with the same buffer.
type Getter func(r *dissect.Record, i int, scratch *[]byte) (v Value, ok bool)

// Symbol is a name accepted in place of a number for a field (opcode names)
// or, with Group set, a name that matches a set of numbers.
type Symbol struct {
	Name  string
	Value uint64
	Group func(uint64) bool
}

// Field declares one field.
type Field struct {
	// Name is the canonical name; Aliases are other accepted names,
	// Wireshark's among them.
	Name    string
	Aliases []string
	// Type is the type of the field's values; Max bounds a Number field.
	Type Type
	Max  uint64
	// Multi is set when a record can carry several values (any may satisfy
	// ==; != requires that none equals).
	Multi bool
	// Symbols are the names a Number field accepts besides numbers.
	Symbols []Symbol
	// Relative marks a Seconds field whose value is a time since the Unix
	// epoch that the user sees relative to the first packet of the capture
	// (the filter subtracts that, see filter.Filter.SetEpoch).
	Relative bool
	// Layer is the protocol layer the field belongs to ("websocket", "tcp",
	// "http", "tls", ...), for listings.
	Layer string
	// Description is a one-line explanation.
	Description string
	// Get extracts the field's values from a record. A Protocol or JSON
	// field's getter reports presence only.
	Get Getter
}

// Registry holds the declared fields. Build it once, before use; lookups do
// not modify it, so one Registry may be shared by goroutines.
type Registry struct {
	list   []*Field
	byName map[string]*Field
}

// New returns a registry holding fs (see Add).
func New(fs ...[]Field) (*Registry, error) {
	r := &Registry{byName: map[string]*Field{}}
	for _, l := range fs {
		if err := r.Add(l...); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Add declares fields. A name or alias already taken, a field without a
// getter or type is an error.
func (r *Registry) Add(fs ...Field) error {
	if r.byName == nil {
		r.byName = map[string]*Field{}
	}
	for i := range fs {
		f := fs[i]
		if f.Name == "" || f.Type == 0 || f.Get == nil {
			return fmt.Errorf("field %q: a name, a type and a getter are required", f.Name)
		}
		if f.Type == Number && f.Max == 0 {
			f.Max = ^uint64(0)
		}
		for _, n := range append([]string{f.Name}, f.Aliases...) {
			if _, dup := r.byName[n]; dup {
				return fmt.Errorf("field name %q is declared twice", n)
			}
		}
		p := &f
		r.list = append(r.list, p)
		r.byName[f.Name] = p
		for _, a := range f.Aliases {
			r.byName[a] = p
		}
	}
	return nil
}

// Lookup finds a field by name or alias; nil when there is none.
func (r *Registry) Lookup(name string) *Field {
	if r == nil {
		return nil
	}
	return r.byName[name]
}

// Fields returns the declared fields sorted by name.
func (r *Registry) Fields() []*Field {
	out := slices.Clone(r.list)
	slices.SortFunc(out, func(a, b *Field) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// All returns the declared fields in the order they were added (callers
// must not modify them).
func (r *Registry) All() []*Field { return r.list }

// Names returns every name and alias, sorted (for suggestions and shell
// completion).
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.byName))
	for n := range r.byName {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// AppendValue appends v as text in the form a user would type it in a
// filter (numbers in decimal, bytes as aa:bb:cc, strings as they are), for
// field listings such as `-T fields`.
func (f *Field) AppendValue(b []byte, v Value) []byte {
	switch f.Type {
	case Number:
		return strconv.AppendUint(b, v.U, 10)
	case Bool:
		if v.Flag {
			return append(b, '1')
		}
		return append(b, '0')
	case Bytes:
		p := v.B
		if !v.IsB {
			p = []byte(v.S)
		}
		const hex = "0123456789abcdef"
		for i, c := range p {
			if i > 0 {
				b = append(b, ':')
			}
			b = append(b, hex[c>>4], hex[c&15])
		}
		return b
	case String:
		if v.IsB {
			return append(b, v.B...)
		}
		return append(b, v.S...)
	case Addr:
		return v.Addr.AppendTo(b)
	case Direction:
		return append(b, v.Dir.String()...)
	case Seconds:
		b = strconv.AppendUint(b, v.U/1e9, 10)
		b = append(b, '.')
		frac := strconv.AppendUint(nil, v.U%1e9+1e9, 10)
		return append(b, frac[1:]...)
	}
	return b
}

// Values returns the values of f on r as text (see AppendValue), appending
// to dst.
func (f *Field) Values(dst []string, r *dissect.Record, scratch *[]byte) []string {
	n := 1
	if f.Multi {
		n = 1 << 16
	}
	for i := 0; i < n; i++ {
		v, ok := f.Get(r, i, scratch)
		if !ok {
			break
		}
		switch f.Type {
		case Protocol, JSON:
			dst = append(dst, f.Name)
		default:
			dst = append(dst, string(f.AppendValue(nil, v)))
		}
	}
	return dst
}
