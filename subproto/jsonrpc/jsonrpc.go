// Package jsonrpc decodes JSON-RPC 2.0 messages carried over WebSocket:
// requests, notifications, responses and errors, single or in batches, and
// links each response to its request (same id, opposite direction) to name
// the method and measure the latency.
package jsonrpc

import (
	"time"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

// Kind is what a JSON-RPC message is.
type Kind uint8

// Kinds.
const (
	Invalid Kind = iota
	Request
	Notification
	Response
	Error
)

var kindNames = [...]string{"invalid", "request", "notification", "response", "error"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// DefaultMaxPending bounds the requests remembered per connection while
// they wait for their responses; past it the oldest half is forgotten.
const DefaultMaxPending = 4096

// Record is one JSON-RPC message (one element of a batch).
type Record struct {
	Kind Kind
	// Batch is the element's index in a batch, BatchLen the batch's size
	// (0 for a message that is not a batch).
	Batch, BatchLen int
	// Method is the method of a request or notification (unquoted).
	Method []byte
	// ID is the raw JSON id (compact); empty for notifications.
	ID []byte
	// Params, Result and ErrorData are raw JSON values as sent.
	Params, Result, ErrorData []byte
	ErrorCode                 int64
	ErrorMessage              []byte
	// Linked is true for a response whose request was seen: RequestMethod
	// names it and Latency is the time between the two messages.
	Linked        bool
	RequestMethod []byte
	Latency       time.Duration

	err string
	buf []byte
}

// Protocol implements app.Record.
func (r *Record) Protocol() string { return "jsonrpc" }

// Malformed implements app.Record.
func (r *Record) Malformed() string { return r.err }

func (r *Record) reset() {
	buf := r.buf[:0]
	*r = Record{buf: buf}
}

type pendingKey struct {
	dir app.Dir
	id  string
}

type pending struct {
	method string
	t      time.Time
	seq    uint64
}

// Decoder decodes one connection's JSON-RPC messages; see app.Decoder.
type Decoder struct {
	// MaxPending bounds remembered requests (DefaultMaxPending if 0).
	MaxPending int
	pending    map[pendingKey]pending
	held       int // bytes the entries of pending take (see pendingCost)
	seq        uint64
	pool       []*Record
	out        []app.Record
}

// NewDecoder returns a JSON-RPC decoder for one connection.
func NewDecoder() *Decoder { return &Decoder{pending: make(map[pendingKey]pending)} }

func (d *Decoder) next() *Record {
	n := len(d.out)
	if n == len(d.pool) {
		d.pool = append(d.pool, new(Record))
	}
	r := d.pool[n]
	r.reset()
	d.out = append(d.out, r)
	return r
}

// Decode implements app.Decoder.
func (d *Decoder) Decode(m app.Message) []app.Record {
	d.out = d.out[:0]
	p := jsonx.Trim(m.Payload)
	if len(p) > 0 && p[0] == '[' {
		it, err := jsonx.Array(p)
		if err != nil {
			r := d.next()
			r.err = "batch is not valid JSON"
			return d.out
		}
		n := 0
		for cp := it; ; n++ {
			if _, ok := cp.Next(); !ok {
				break
			}
		}
		if n == 0 {
			r := d.next()
			r.err = "empty batch"
			return d.out
		}
		for i := 0; ; i++ {
			v, ok := it.Next()
			if !ok {
				break
			}
			r := d.next()
			r.Batch, r.BatchLen = i, n
			d.parse(r, v, m)
		}
		return d.out
	}
	d.parse(d.next(), p, m)
	return d.out
}

func (d *Decoder) parse(r *Record, v []byte, m app.Message) {
	it, err := jsonx.Object(v)
	if err != nil {
		if jsonx.Valid(v) {
			r.err = "not a JSON-RPC object"
		} else {
			r.err = "not valid JSON"
		}
		return
	}
	var version, method, id, params, result, errv []byte
	var hasID, hasResult, hasErr bool
	for {
		k, val, ok := it.Next()
		if !ok {
			break
		}
		switch string(k) {
		case "jsonrpc":
			version = val
		case "method":
			method = val
		case "id":
			id, hasID = val, true
		case "params":
			params = val
		case "result":
			result, hasResult = val, true
		case "error":
			errv, hasErr = val, true
		}
	}
	fail := func(s string) {
		if r.err == "" {
			r.err = s
		}
	}
	if string(version) != `"2.0"` {
		fail(`"jsonrpc" is not "2.0"`)
	}
	if hasID {
		if c := id[0]; c != '"' && c != '-' && (c < '0' || c > '9') && string(id) != "null" {
			fail("id is neither a string, a number nor null")
		}
		r.buf = jsonx.AppendCompact(r.buf, id)
	}
	idEnd := len(r.buf)
	switch {
	case method != nil:
		if !jsonx.IsString(method) {
			fail("method is not a string")
		}
		if hasResult || hasErr {
			fail("request with result or error")
		}
		if params != nil && params[0] != '[' && params[0] != '{' {
			fail("params is neither an array nor an object")
		}
		r.Kind = Notification
		if hasID {
			r.Kind = Request
		}
		r.buf = jsonx.AppendUnquote(r.buf, method)
		r.Params = params
	case hasResult && hasErr:
		fail("response with both result and error")
		r.Kind = Response
	case hasResult:
		r.Kind = Response
		r.Result = result
	case hasErr:
		r.Kind = Error
		eo, err := jsonx.Object(errv)
		if err != nil {
			fail("error is not an object")
			break
		}
		var code, msg []byte
		for {
			k, val, ok := eo.Next()
			if !ok {
				break
			}
			switch string(k) {
			case "code":
				code = val
			case "message":
				msg = val
			case "data":
				r.ErrorData = val
			}
		}
		n, ok := jsonx.Int(code)
		if !ok {
			fail("error code is not an integer")
		}
		r.ErrorCode = n
		if !jsonx.IsString(msg) {
			fail("error message is not a string")
		}
		ms := len(r.buf)
		r.buf = jsonx.AppendUnquote(r.buf, msg)
		r.ErrorMessage = r.buf[ms:]
	default:
		fail("neither a request nor a response")
	}
	if (r.Kind == Response || r.Kind == Error) && !hasID {
		fail("response without an id")
	}
	r.ID = r.buf[:idEnd:idEnd]
	if r.Kind == Request || r.Kind == Notification {
		r.Method = r.buf[idEnd:]
	}
	if r.Kind == Request && r.err == "" {
		d.remember(m.Dir, r.ID, r.Method, m.Time)
	}
	if (r.Kind == Response || r.Kind == Error) && hasID {
		d.link(r, m)
	}
}

func (d *Decoder) remember(dir app.Dir, id, method []byte, t time.Time) {
	maxp := d.MaxPending
	if maxp <= 0 {
		maxp = DefaultMaxPending
	}
	if len(d.pending) >= maxp {
		// forget the older half
		cut := d.seq - uint64(maxp/2)
		for k, v := range d.pending {
			if v.seq < cut {
				d.drop(k, v)
			}
		}
	}
	d.seq++
	k := pendingKey{dir, string(id)}
	if old, ok := d.pending[k]; ok {
		d.drop(k, old)
	}
	v := pending{method: string(method), t: t, seq: d.seq}
	d.pending[k] = v
	d.held += pendingCost(k, v)
}

// pendingCost is about what a remembered request takes.
func pendingCost(k pendingKey, v pending) int { return len(k.id) + len(v.method) + 96 }

// drop forgets the request k.
func (d *Decoder) drop(k pendingKey, v pending) {
	delete(d.pending, k)
	d.held -= pendingCost(k, v)
}

func (d *Decoder) link(r *Record, m app.Message) {
	k := pendingKey{m.Dir ^ 1, string(r.ID)}
	p, ok := d.pending[k]
	if !ok {
		return
	}
	d.drop(k, p)
	r.Linked = true
	ms := len(r.buf)
	r.buf = append(r.buf, p.method...)
	r.RequestMethod = r.buf[ms:]
	if !p.t.IsZero() && !m.Time.IsZero() {
		r.Latency = m.Time.Sub(p.t)
	}
}

// Pending returns how many requests wait for their response.
func (d *Decoder) Pending() int { return len(d.pending) }
