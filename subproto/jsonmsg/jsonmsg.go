// Package jsonmsg decodes WebSocket messages that carry plain JSON: one
// value per message, or several separated by whitespace (newline-delimited
// JSON), each a record whose NDJSON form is the value itself.
package jsonmsg

import (
	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

// Record is one JSON value.
type Record struct {
	// Value is the raw JSON text as sent.
	Value []byte
	// Index and Count place the value among those of its message (Count 1
	// for a message of one value).
	Index, Count int
	err          string
	// compact is Value without whitespace and with strings made valid
	// UTF-8, as NDJSON shows it: Value itself when it is compact already,
	// else a part of the decoder's buffer. Decode makes it in the pass that
	// validates Value.
	compact []byte
	at      int // where compact starts in the decoder's buffer, -1 for Value
}

// Protocol implements app.Record.
func (r *Record) Protocol() string { return "json" }

// Malformed implements app.Record.
func (r *Record) Malformed() string { return r.err }

// Kind returns "object", "array", "string", "number", "bool" or "null".
func (r *Record) Kind() string {
	if len(r.Value) == 0 {
		return ""
	}
	switch r.Value[0] {
	case '{':
		return "object"
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}

// Decoder decodes plain JSON messages. It keeps no state between messages.
type Decoder struct {
	pool []*Record
	out  []app.Record
	buf  []byte // the compact forms of the values of the last message that needed one
}

// NewDecoder returns a JSON decoder.
func NewDecoder() *Decoder { return &Decoder{} }

func (d *Decoder) next() *Record {
	n := len(d.out)
	if n == len(d.pool) {
		d.pool = append(d.pool, new(Record))
	}
	r := d.pool[n]
	*r = Record{}
	d.out = append(d.out, r)
	return r
}

// MaxValues bounds the values taken from one message; the rest is reported
// as one malformed record.
const MaxValues = 10000

// Decode implements app.Decoder.
func (d *Decoder) Decode(m app.Message) []app.Record {
	d.out = d.out[:0]
	p := m.Payload
	i := jsonx.SkipSpace(p, 0)
	if i == len(p) {
		r := d.next()
		r.err = "empty message"
		return d.out
	}
	d.buf = d.buf[:0]
	for i < len(p) {
		if len(d.out) >= MaxValues {
			r := d.next()
			r.Value = p[i:]
			r.err = "more than 10000 JSON values in one message"
			break
		}
		// one pass validates the value and makes its compact form
		var end, at int
		var err error
		d.buf, end, at, err = jsonx.CompactValue(d.buf, p, i)
		if err != nil {
			r := d.next()
			r.Value = p[i:]
			r.err = "not valid JSON"
			break
		}
		r := d.next()
		r.Value = p[i:end]
		r.at = at
		i = jsonx.SkipSpace(p, end)
	}
	// d.buf may have moved while it grew: point into it only now
	from := len(d.buf)
	for k := len(d.out) - 1; k >= 0; k-- {
		x := d.out[k].(*Record)
		x.Index, x.Count = k, len(d.out)
		switch {
		case x.err != "":
		case x.at < 0:
			x.compact = x.Value
		default:
			x.compact = d.buf[x.at:from:from]
			from = x.at
		}
	}
	return d.out
}

// AppendSummary implements app.Record: `JSON object {"a":1}` (cut).
func (r *Record) AppendSummary(b []byte) []byte {
	b = append(b, "JSON"...)
	if r.err != "" {
		b = append(b, " [malformed: "...)
		b = append(b, r.err...)
		return append(b, ']')
	}
	b = append(b, ' ')
	b = append(b, r.Kind()...)
	b = append(b, ' ')
	s := len(b)
	b = append(b, r.compact...)
	if len(b)-s > 200 {
		n := s + 200
		for n > s && b[n]&0xC0 == 0x80 {
			n--
		}
		b = append(b[:n], "…"...)
	}
	return b
}

// AppendJSON implements app.Record: the value itself, compacted, or null
// for a malformed record.
func (r *Record) AppendJSON(b []byte) []byte {
	if r.err != "" {
		return append(b, "null"...)
	}
	return append(b, r.compact...)
}

// Tree implements app.Record: the value, members one level deeper.
func (r *Record) Tree(emit func(depth int, name, value string)) {
	emit = app.OneLine(emit)
	if r.err != "" {
		emit(0, "JSON", "")
		emit(1, "Malformed", r.err)
		return
	}
	jsonx.Tree(r.Value, "JSON", 0, 1000, emit)
}

// Fields returns the plain-JSON filter fields. Paths into the value are
// the filter's existing json.PATH fields, which apply to any JSON text.
func Fields() []app.Field {
	return []app.Field{
		{Name: "json.kind", Kind: app.String, Desc: "kind of a JSON message's value (object, array, string, number, bool, null)", Get: func(r app.Record, d []app.Value) []app.Value {
			if x, ok := r.(*Record); ok && x.err == "" {
				d = append(d, app.Value{B: []byte(x.Kind())})
			}
			return d
		}},
	}
}
