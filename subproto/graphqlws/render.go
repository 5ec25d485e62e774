package graphqlws

import (
	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

const summaryMax = 200

func appendPrintable(b, s []byte) []byte {
	cut := len(s) > summaryMax
	if cut {
		s = s[:summaryMax]
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		b = append(b, c)
	}
	if cut {
		b = append(b, "…"...)
	}
	return b
}

// AppendSummary implements app.Record: `GraphQL subscribe id=1 subscription
// OnMessage`, `GraphQL next id=1 OnMessage {"data":...}`.
func (r *Record) AppendSummary(b []byte) []byte {
	b = append(b, "GraphQL "...)
	b = appendPrintable(b, r.Type)
	if r.HasID {
		b = append(b, " id="...)
		b = appendPrintable(b, r.ID)
	}
	if len(r.OperationType) > 0 && (string(r.Type) == "subscribe" || string(r.Type) == "start") {
		b = append(b, ' ')
		b = append(b, r.OperationType...)
	}
	if len(r.Operation) > 0 {
		b = append(b, ' ')
		b = appendPrintable(b, r.Operation)
	}
	switch {
	case r.Errors != nil:
		b = append(b, " errors "...)
		b = appendPrintable(b, jsonx.AppendCompact(nil, r.Errors))
	case r.Data != nil:
		b = append(b, ' ')
		b = appendPrintable(b, jsonx.AppendCompact(nil, r.Data))
	}
	if r.err != "" {
		b = append(b, " [malformed: "...)
		b = append(b, r.err...)
		b = append(b, ']')
	}
	return b
}

// AppendJSON implements app.Record.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = jsonx.AppendString(b, r.Type)
	if r.Legacy {
		b = append(b, `,"legacy":true`...)
	}
	if r.HasID {
		b = append(b, `,"id":`...)
		b = jsonx.AppendString(b, r.ID)
	}
	if len(r.OperationType) > 0 {
		b = append(b, `,"operation_type":`...)
		b = jsonx.AppendString(b, r.OperationType)
	}
	if len(r.Operation) > 0 {
		b = append(b, `,"operation":`...)
		b = jsonx.AppendString(b, r.Operation)
	}
	if r.Query != nil {
		b = append(b, `,"query":`...)
		b = jsonx.AppendString(b, r.Query)
	}
	if r.Variables != nil {
		b = append(b, `,"variables":`...)
		b = jsonx.AppendCompact(b, r.Variables)
	}
	if r.Data != nil {
		b = append(b, `,"data":`...)
		b = jsonx.AppendCompact(b, r.Data)
	}
	if r.Errors != nil {
		b = append(b, `,"errors":`...)
		b = jsonx.AppendCompact(b, r.Errors)
	}
	if r.Payload != nil && r.Query == nil && r.Data == nil && r.Errors == nil {
		b = append(b, `,"payload":`...)
		b = jsonx.AppendCompact(b, r.Payload)
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
	emit(0, "GraphQL", string(r.Type))
	if r.Legacy {
		emit(1, "Protocol", "subscriptions-transport-ws (graphql-ws)")
	} else {
		emit(1, "Protocol", "graphql-transport-ws")
	}
	emit(1, "Type", string(r.Type))
	if r.HasID {
		emit(1, "Id", string(r.ID))
	}
	if len(r.OperationType) > 0 {
		emit(1, "Operation type", string(r.OperationType))
	}
	if len(r.Operation) > 0 {
		emit(1, "Operation", string(r.Operation))
	}
	if r.Query != nil {
		emit(1, "Query", string(r.Query))
	}
	if r.Variables != nil {
		jsonx.Tree(r.Variables, "Variables", 1, 200, emit)
	}
	if r.Data != nil {
		jsonx.Tree(r.Data, "Data", 1, 200, emit)
	}
	if r.Errors != nil {
		jsonx.Tree(r.Errors, "Errors", 1, 200, emit)
	}
	if r.Payload != nil && r.Query == nil && r.Data == nil && r.Errors == nil {
		jsonx.Tree(r.Payload, "Payload", 1, 200, emit)
	}
	if r.err != "" {
		emit(1, "Malformed", r.err)
	}
}

func get(r app.Record) *Record {
	x, _ := r.(*Record)
	return x
}

// Fields returns the GraphQL-over-WebSocket filter fields.
func Fields() []app.Field {
	return []app.Field{
		{Name: "graphql.type", Kind: app.String, Desc: "message type (connection_init, subscribe, next, start, data, ...)", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.Type != nil {
				d = append(d, app.Str(x.Type))
			}
			return d
		}},
		{Name: "graphql.id", Kind: app.String, Desc: "operation id", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.HasID {
				d = append(d, app.Str(x.ID))
			}
			return d
		}},
		{Name: "graphql.operation", Kind: app.String, Desc: "operation name (operationName or from the query), also on the results of its id", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && len(x.Operation) > 0 {
				d = append(d, app.Str(x.Operation))
			}
			return d
		}},
		{Name: "graphql.operation_type", Kind: app.String, Desc: "query, mutation or subscription", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && len(x.OperationType) > 0 {
				d = append(d, app.Str(x.OperationType))
			}
			return d
		}},
		{Name: "graphql.query", Kind: app.String, Desc: "query document", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.Query != nil {
				d = append(d, app.Str(x.Query))
			}
			return d
		}},
		{Name: "graphql.errors", Kind: app.Bool, Desc: "the message carries GraphQL errors", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil {
				d = append(d, app.Flag(x.Errors != nil))
			}
			return d
		}},
	}
}
