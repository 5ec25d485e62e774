package app

// Kind is the type of a field's values.
type Kind uint8

// Field kinds.
const (
	// String values are in Value.B (text, not necessarily valid UTF-8).
	String Kind = iota
	// Uint values are in Value.N.
	Uint
	// Bool values are in Value.N, 0 or 1.
	Bool
	// Bytes values are in Value.B (binary, compared as bytes).
	Bytes
	// Duration values are in Value.N, nanoseconds.
	Duration
	// Int values are in Value.N as the bits of an int64 (Value.Int).
	Int
)

// String returns the kind's name as "wsdissect fields" would print it.
func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Uint:
		return "uint"
	case Bool:
		return "bool"
	case Bytes:
		return "bytes"
	case Duration:
		return "duration"
	case Int:
		return "int"
	}
	return "unknown"
}

// Value is one value of a field. B may point into the record (and so into
// the message payload); copy it to keep it.
type Value struct {
	B []byte
	N uint64
}

// Field describes one filterable field of a protocol. The list of a
// protocol is plain data: a registry can list, index and look them up by
// Name.
type Field struct {
	// Name is the field's full name, under Wireshark's name where
	// Wireshark has a dissector for the protocol (mqtt.topic).
	Name string
	Kind Kind
	// Desc is a one-line description.
	Desc string
	// Get appends the field's values in r to dst and returns it; none when
	// r has no such field or is not of this protocol's record type. Several
	// values mean several occurrences (as Wireshark's repeated fields).
	Get func(r Record, dst []Value) []Value
}

// Int returns the value of an Int field.
func (v Value) Int() int64 { return int64(v.N) }

// Signed returns an Int value.
func Signed(n int64) Value { return Value{N: uint64(n)} }

// Str returns a String or Bytes value.
func Str(b []byte) Value { return Value{B: b} }

// Num returns a Uint value.
func Num(n uint64) Value { return Value{N: n} }

// Flag returns a Bool value.
func Flag(b bool) Value {
	if b {
		return Value{N: 1}
	}
	return Value{}
}
