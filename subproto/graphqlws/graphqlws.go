// Package graphqlws decodes GraphQL over WebSocket: the graphql-transport-ws
// protocol of the graphql-ws library (subprotocol "graphql-transport-ws")
// and the legacy subscriptions-transport-ws protocol (subprotocol
// "graphql-ws"). It names each operation (operationName, or the name in the
// query document) and carries that name to the results, errors and
// completions of the same id.
package graphqlws

import (
	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

// DefaultMaxOperations bounds the operations remembered per connection.
const DefaultMaxOperations = 4096

// Record is one GraphQL-over-WebSocket message.
type Record struct {
	// Legacy is true for subscriptions-transport-ws.
	Legacy bool
	// Type is the message type ("subscribe", "next", "start", "data", ...).
	Type []byte
	// ID is the operation id (unquoted); empty for connection messages.
	ID    []byte
	HasID bool
	// Operation is the operation's name; OperationType is "query",
	// "mutation" or "subscription" (from subscribe/start, remembered for
	// the messages of the same id).
	Operation     []byte
	OperationType []byte
	// Query is the query document (unquoted) of subscribe/start.
	Query []byte
	// Variables, Payload, Data and Errors are raw JSON as sent (Payload is
	// the whole payload; Data and Errors its members, or the payload of an
	// error message).
	Variables, Payload, Data, Errors []byte

	err string
	buf []byte
}

// Protocol implements app.Record.
func (r *Record) Protocol() string { return "graphql" }

// Malformed implements app.Record.
func (r *Record) Malformed() string { return r.err }

func (r *Record) reset() {
	buf := r.buf[:0]
	*r = Record{buf: buf}
}

type op struct{ name, typ string }

// Decoder decodes one connection's GraphQL-over-WebSocket messages.
type Decoder struct {
	// MaxOperations bounds the remembered operations
	// (DefaultMaxOperations if 0).
	MaxOperations int
	legacy        bool
	auto          bool
	ops           map[string]op
	held          int // bytes the entries of ops take (see opCost)
	rec           Record
	out           []app.Record
}

// NewDecoder returns a decoder for graphql-transport-ws, or for the legacy
// protocol when legacy is true.
func NewDecoder(legacy bool) *Decoder {
	return &Decoder{legacy: legacy, ops: make(map[string]op)}
}

// NewAutoDecoder returns a decoder for a connection whose protocol the
// subprotocol did not name: it starts as graphql-transport-ws and turns to
// the legacy protocol at the first message type that only the legacy
// protocol has (start, stop, data, ka, connection_terminate,
// connection_error), unless a type only graphql-transport-ws has came
// first.
func NewAutoDecoder() *Decoder {
	return &Decoder{auto: true, ops: make(map[string]op)}
}

// Legacy reports whether the decoder reads the legacy protocol.
func (d *Decoder) Legacy() bool { return d.legacy }

func (d *Decoder) settle(t []byte) {
	switch string(t) {
	case "start", "stop", "data", "ka", "connection_terminate", "connection_error":
		d.legacy, d.auto = true, false
	case "subscribe", "next", "ping", "pong":
		d.auto = false
	}
}

var (
	knownNew    = []string{"connection_init", "connection_ack", "ping", "pong", "subscribe", "next", "error", "complete"}
	knownLegacy = []string{"connection_init", "connection_ack", "connection_error", "ka", "connection_terminate", "start", "data", "error", "complete", "stop"}
)

func known(list []string, t []byte) bool {
	for _, k := range list {
		if string(t) == k {
			return true
		}
	}
	return false
}

// Decode implements app.Decoder.
func (d *Decoder) Decode(m app.Message) []app.Record {
	r := &d.rec
	r.reset()
	r.Legacy = d.legacy
	d.out = append(d.out[:0], r)
	it, err := jsonx.Object(m.Payload)
	if err != nil {
		r.err = "message is not a JSON object"
		return d.out
	}
	var typ, id, payload []byte
	for {
		k, v, ok := it.Next()
		if !ok {
			break
		}
		switch string(k) {
		case "type":
			typ = v
		case "id":
			id = v
		case "payload":
			payload = v
		}
	}
	if !jsonx.IsString(typ) {
		r.err = "message without a string type"
		return d.out
	}
	r.buf = jsonx.AppendUnquote(r.buf, typ)
	te := len(r.buf)
	if id != nil {
		if !jsonx.IsString(id) {
			r.err = "id is not a string"
		}
		r.buf = jsonx.AppendUnquote(r.buf, id)
		r.HasID = true
	}
	ie := len(r.buf)
	r.Type = r.buf[:te:te]
	r.ID = r.buf[te:ie:ie]
	if d.auto {
		d.settle(r.Type)
		r.Legacy = d.legacy
	}
	r.Payload = payload
	list := knownNew
	if d.legacy {
		list = knownLegacy
	}
	if !known(list, r.Type) {
		d.fail("unknown message type " + string(r.Type))
	}
	t := string(r.Type)
	needsID := t == "subscribe" || t == "next" || t == "complete" || t == "start" || t == "data" || t == "stop" ||
		(t == "error" && !d.legacy)
	if needsID && !r.HasID {
		d.fail(t + " without an id")
	}
	switch t {
	case "subscribe", "start":
		d.subscribe(r, payload)
	case "next", "data":
		if payload != nil {
			if po, err := jsonx.Object(payload); err == nil {
				for {
					k, v, ok := po.Next()
					if !ok {
						break
					}
					switch string(k) {
					case "data":
						r.Data = v
					case "errors":
						r.Errors = v
					}
				}
			} else {
				d.fail(t + " payload is not an object")
			}
		}
	case "error":
		r.Errors = payload
		if !d.legacy && (payload == nil || jsonx.Trim(payload)[0] != '[') {
			d.fail("error payload is not an array")
		}
	}
	if r.HasID && t != "subscribe" && t != "start" {
		if o, ok := d.ops[string(r.ID)]; ok {
			s := len(r.buf)
			r.buf = append(r.buf, o.name...)
			r.Operation = r.buf[s:len(r.buf):len(r.buf)]
			r.OperationType = opType(o.typ)
			if t == "complete" || t == "stop" || t == "error" {
				delete(d.ops, string(r.ID))
				d.held -= opCost(string(r.ID), o)
			}
		}
	}
	return d.out
}

func (d *Decoder) fail(s string) {
	if d.rec.err == "" {
		d.rec.err = s
	}
}

func (d *Decoder) subscribe(r *Record, payload []byte) {
	po, err := jsonx.Object(payload)
	if err != nil {
		d.fail(string(r.Type) + " payload is not an object")
		return
	}
	var q, name []byte
	for {
		k, v, ok := po.Next()
		if !ok {
			break
		}
		switch string(k) {
		case "query":
			q = v
		case "operationName":
			name = v
		case "variables":
			r.Variables = v
		}
	}
	if !jsonx.IsString(q) {
		d.fail(string(r.Type) + " without a query string")
	} else {
		s := len(r.buf)
		r.buf = jsonx.AppendUnquote(r.buf, q)
		r.Query = r.buf[s:len(r.buf):len(r.buf)]
	}
	typ, qname := operationOf(r.Query)
	s := len(r.buf)
	if jsonx.IsString(name) {
		r.buf = jsonx.AppendUnquote(r.buf, name)
	} else {
		r.buf = append(r.buf, qname...)
	}
	r.Operation = r.buf[s:len(r.buf):len(r.buf)]
	r.OperationType = opType(typ)
	maxo := d.MaxOperations
	if maxo <= 0 {
		maxo = DefaultMaxOperations
	}
	if len(d.ops) >= maxo {
		clear(d.ops)
		d.held = 0
	}
	if r.HasID {
		id := string(r.ID)
		if old, ok := d.ops[id]; ok {
			d.held -= opCost(id, old)
		}
		o := op{name: string(r.Operation), typ: typ}
		d.ops[id] = o
		d.held += opCost(id, o)
	}
}

// opCost is about what a remembered operation takes.
func opCost(id string, o op) int { return len(id) + len(o.name) + 96 }

// operationOf returns the type and name of the first operation in a
// GraphQL document: "query" with no name for the shorthand `{ ... }`.
func operationOf(q []byte) (typ string, name []byte) {
	i := 0
	for i < len(q) {
		c := q[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == 0xEF || c == 0xBB || c == 0xBF:
			i++
		case c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '{':
			return "query", nil
		case isNameStart(c):
			j := i
			for j < len(q) && isName(q[j]) {
				j++
			}
			word := string(q[i:j])
			if word == "fragment" {
				// skip the fragment definition to its closing brace
				depth := 0
				for j < len(q) {
					if q[j] == '{' {
						depth++
					} else if q[j] == '}' {
						depth--
						if depth == 0 {
							j++
							break
						}
					}
					j++
				}
				i = j
				continue
			}
			if word != "query" && word != "mutation" && word != "subscription" {
				return "", nil
			}
			k := j
			for k < len(q) && (q[k] == ' ' || q[k] == '\t' || q[k] == '\n' || q[k] == '\r') {
				k++
			}
			e := k
			for e < len(q) && isName(q[e]) {
				e++
			}
			return word, q[k:e]
		default:
			return "", nil
		}
	}
	return "", nil
}

var opTypes = [...][]byte{[]byte("query"), []byte("mutation"), []byte("subscription")}

// opType returns the shared bytes of an operation type (nil for "").
func opType(t string) []byte {
	for _, o := range opTypes {
		if string(o) == t {
			return o[:len(o):len(o)]
		}
	}
	return nil
}

func isNameStart(c byte) bool { return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') }
func isName(c byte) bool      { return isNameStart(c) || (c >= '0' && c <= '9') }
