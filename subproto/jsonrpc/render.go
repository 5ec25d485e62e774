package jsonrpc

import (
	"strconv"
	"time"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

const summaryMax = 200

func appendCut(b, raw []byte) []byte {
	start := len(b)
	b = jsonx.AppendCompact(b, raw)
	if len(b)-start > summaryMax {
		n := start + summaryMax
		for n > start && b[n]&0xC0 == 0x80 {
			n--
		}
		b = append(b[:n], "…"...)
	}
	return b
}

// AppendSummary implements app.Record: `JSON-RPC request subtract id=1
// [42,23]`, `JSON-RPC response id=1 (subtract, 1.2ms) 19`.
func (r *Record) AppendSummary(b []byte) []byte {
	b = append(b, "JSON-RPC "...)
	b = append(b, r.Kind.String()...)
	if r.Method != nil {
		b = append(b, ' ')
		b = appendPrintable(b, r.Method)
	}
	if len(r.ID) > 0 {
		b = append(b, " id="...)
		b = append(b, r.ID...)
	}
	if r.Linked {
		b = append(b, " ("...)
		b = appendPrintable(b, r.RequestMethod)
		if r.Latency != 0 {
			b = append(b, ", "...)
			b = append(b, r.Latency.Round(time.Microsecond).String()...)
		}
		b = append(b, ')')
	}
	switch {
	case r.Params != nil:
		b = append(b, ' ')
		b = appendCut(b, r.Params)
	case r.Result != nil:
		b = append(b, ' ')
		b = appendCut(b, r.Result)
	case r.Kind == Error && r.err == "":
		b = append(b, ' ')
		b = strconv.AppendInt(b, r.ErrorCode, 10)
		b = append(b, ' ')
		b = appendPrintable(b, r.ErrorMessage)
	}
	if r.BatchLen > 0 {
		b = append(b, " [batch "...)
		b = strconv.AppendInt(b, int64(r.Batch+1), 10)
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(r.BatchLen), 10)
		b = append(b, ']')
	}
	if r.err != "" {
		b = append(b, " [malformed: "...)
		b = append(b, r.err...)
		b = append(b, ']')
	}
	return b
}

func appendPrintable(b, s []byte) []byte {
	if len(s) > summaryMax {
		s = s[:summaryMax]
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

// AppendJSON implements app.Record.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"kind":"`...)
	b = append(b, r.Kind.String()...)
	b = append(b, '"')
	if r.Method != nil {
		b = append(b, `,"method":`...)
		b = jsonx.AppendString(b, r.Method)
	}
	if len(r.ID) > 0 {
		b = append(b, `,"id":`...)
		b = append(b, r.ID...)
	}
	if r.Params != nil {
		b = append(b, `,"params":`...)
		b = jsonx.AppendCompact(b, r.Params)
	}
	if r.Result != nil {
		b = append(b, `,"result":`...)
		b = jsonx.AppendCompact(b, r.Result)
	}
	if r.Kind == Error && r.err == "" {
		b = append(b, `,"error":{"code":`...)
		b = strconv.AppendInt(b, r.ErrorCode, 10)
		b = append(b, `,"message":`...)
		b = jsonx.AppendString(b, r.ErrorMessage)
		if r.ErrorData != nil {
			b = append(b, `,"data":`...)
			b = jsonx.AppendCompact(b, r.ErrorData)
		}
		b = append(b, '}')
	}
	if r.Linked {
		b = append(b, `,"request_method":`...)
		b = jsonx.AppendString(b, r.RequestMethod)
		if r.Latency != 0 {
			b = append(b, `,"latency_ns":`...)
			b = strconv.AppendInt(b, int64(r.Latency), 10)
		}
	}
	if r.BatchLen > 0 {
		b = append(b, `,"batch_index":`...)
		b = strconv.AppendInt(b, int64(r.Batch), 10)
		b = append(b, `,"batch_len":`...)
		b = strconv.AppendInt(b, int64(r.BatchLen), 10)
	}
	if r.err != "" {
		b = append(b, `,"malformed":`...)
		b = jsonx.AppendStr(b, r.err)
	}
	return append(b, '}')
}

// Tree implements app.Record.
func (r *Record) Tree(emit func(depth int, name, value string)) {
	emit = app.OneLine(emit)
	emit(0, "JSON-RPC", r.Kind.String())
	if r.BatchLen > 0 {
		emit(1, "Batch element", strconv.Itoa(r.Batch+1)+" of "+strconv.Itoa(r.BatchLen))
	}
	if r.Method != nil {
		emit(1, "Method", string(r.Method))
	}
	if len(r.ID) > 0 {
		emit(1, "Id", string(r.ID))
	}
	if r.Params != nil {
		jsonx.Tree(r.Params, "Params", 1, 200, emit)
	}
	if r.Result != nil {
		jsonx.Tree(r.Result, "Result", 1, 200, emit)
	}
	if r.Kind == Error && r.err == "" {
		emit(1, "Error", "")
		emit(2, "Code", strconv.FormatInt(r.ErrorCode, 10))
		emit(2, "Message", string(r.ErrorMessage))
		if r.ErrorData != nil {
			jsonx.Tree(r.ErrorData, "Data", 2, 200, emit)
		}
	}
	if r.Linked {
		emit(1, "Request method", string(r.RequestMethod))
		if r.Latency != 0 {
			emit(1, "Latency", r.Latency.String())
		}
	}
	if r.err != "" {
		emit(1, "Malformed", r.err)
	}
}

func get(r app.Record) *Record {
	x, _ := r.(*Record)
	return x
}

// Fields returns the JSON-RPC filter fields.
func Fields() []app.Field {
	return []app.Field{
		{Name: "jsonrpc.kind", Kind: app.String, Desc: "request, notification, response, error or invalid", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil {
				d = append(d, app.Value{B: []byte(x.Kind.String())})
			}
			return d
		}},
		{Name: "jsonrpc.method", Kind: app.String, Desc: "method of a request or notification, and of the request a response answers", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil {
				if x.Method != nil {
					d = append(d, app.Str(x.Method))
				} else if x.Linked {
					d = append(d, app.Str(x.RequestMethod))
				}
			}
			return d
		}},
		{Name: "jsonrpc.id", Kind: app.String, Desc: "id as compact JSON (strings keep their quotes)", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && len(x.ID) > 0 {
				d = append(d, app.Str(x.ID))
			}
			return d
		}},
		{Name: "jsonrpc.error.code", Kind: app.Int, Desc: "error code", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.Kind == Error && x.err == "" {
				d = append(d, app.Signed(x.ErrorCode))
			}
			return d
		}},
		{Name: "jsonrpc.error.message", Kind: app.String, Desc: "error message", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.Kind == Error && x.err == "" {
				d = append(d, app.Str(x.ErrorMessage))
			}
			return d
		}},
		{Name: "jsonrpc.latency", Kind: app.Duration, Desc: "time from the request to this response", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.Linked {
				d = append(d, app.Num(uint64(x.Latency)))
			}
			return d
		}},
		{Name: "jsonrpc.batch", Kind: app.Bool, Desc: "the message is part of a batch", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil {
				d = append(d, app.Flag(x.BatchLen > 0))
			}
			return d
		}},
	}
}
