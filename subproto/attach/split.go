package attach

import (
	"strconv"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
	"github.com/wsdissect/wsdissect/subproto/app"
)

// appLayer places a record among the application messages of its
// WebSocket message (NDJSON "app"): its index and their count when one
// message carried several (records split by Split), and what the decoder
// holds after the message for a later one to complete (pending).
type appLayer struct {
	index, count int // 1-based; count 0 when the message was not split
	pending      app.Pending
	hasPending   bool
}

// LayerName is the NDJSON key "app".
func (l *appLayer) LayerName() string { return "app" }

// AppendJSON appends {"index":2,"count":3,"pending":{...}}, each part
// present when it applies.
func (l *appLayer) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	if l.count > 0 {
		b = append(b, `"index":`...)
		b = strconv.AppendInt(b, int64(l.index), 10)
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(l.count), 10)
	}
	if l.hasPending {
		if l.count > 0 {
			b = append(b, ',')
		}
		p := &l.pending
		b = append(b, `"pending":{"what":`...)
		b = appendJSONString(b, p.What)
		b = append(b, `,"have":`...)
		b = strconv.AppendInt(b, int64(p.Have), 10)
		if p.Want > 0 {
			b = append(b, `,"want":`...)
			b = strconv.AppendInt(b, int64(p.Want), 10)
		}
		b = append(b, `,"unit":`...)
		b = appendJSONString(b, p.Unit)
		b = append(b, `,"messages":`...)
		b = strconv.AppendInt(b, int64(p.Messages), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// AppendSummary appends "(2 of 3)" and "(continued in a later message:
// MQTT PUBLISH packet, 1 of 130 bytes)".
func (l *appLayer) AppendSummary(b []byte) []byte {
	if l.count > 0 {
		b = append(b, '(')
		b = strconv.AppendInt(b, int64(l.index), 10)
		b = append(b, " of "...)
		b = strconv.AppendInt(b, int64(l.count), 10)
		b = append(b, ')')
	}
	if l.hasPending {
		if l.count > 0 {
			b = append(b, ' ')
		}
		b = append(b, "(continued in a later message: "...)
		b = appendPending(b, &l.pending)
		b = append(b, ')')
	}
	return b
}

// appendPending appends "MQTT PUBLISH packet, 1 of 130 bytes".
func appendPending(b []byte, p *app.Pending) []byte {
	b = append(b, p.What...)
	b = append(b, ", "...)
	b = strconv.AppendInt(b, int64(p.Have), 10)
	if p.Want > 0 {
		b = append(b, " of "...)
		b = strconv.AppendInt(b, int64(p.Want), 10)
	}
	b = append(b, ' ')
	if p.Have == 1 && p.Want == 0 && p.Unit == "bytes" {
		return append(b, "byte"...)
	}
	return append(b, p.Unit...)
}

// TreeLines shows the place and what is pending.
func (l *appLayer) TreeLines(line func(int, string)) {
	if l.count > 0 {
		line(0, "Application message "+strconv.Itoa(l.index)+" of "+strconv.Itoa(l.count)+" in this WebSocket message")
	}
	if l.hasPending {
		line(0, "Continued in a later message: "+string(appendPending(nil, &l.pending))+
			" (carried by "+strconv.Itoa(l.pending.Messages)+" messages so far)")
	}
}

// Split is a sink that turns a message record carrying several application
// messages (MQTT packets, STOMP frames, JSON values, JSON-RPC batch
// elements, the Engine.IO packets of a long-polling exchange) into one
// record per application message, each the message or http record with
// one protocol layer and an "app" layer giving its index and
// the count; what the decoder holds for a later message is noted on the
// last. The WebSocket message's own anomalies and the decoder choice go
// with the first; each malformed anomaly goes with its record. Frame
// records and records with one application message pass unchanged. Put it
// after statistics (which count WebSocket messages) and before the filter,
// so that a filter on an application field selects exactly the matching
// application messages. It is not safe for concurrent use.
type Split struct {
	next   dissect.Sink
	rec    dissect.Record
	layers []dissect.Layer
	an     []dissect.Anomaly
	place  appLayer
}

// NewSplit returns a Split sink that passes records on to next.
func NewSplit(next dissect.Sink) *Split { return &Split{next: next} }

// Emit implements dissect.Sink.
func (s *Split) Emit(r *dissect.Record) error {
	if r.Kind != dissect.KindMessage && r.Kind != dissect.KindHTTP || len(r.Layers) < 2 {
		return s.next.Emit(r)
	}
	n, bad := 0, 0
	var pend *appLayer
	for _, l := range r.Layers {
		switch l := l.(type) {
		case *recordLayer:
			n++
			if l.bad {
				bad++
			}
		case *appLayer:
			pend = l
		}
	}
	if n < 2 || bad > len(r.Anomalies) {
		return s.next.Emit(r)
	}
	own := len(r.Anomalies) - bad // the WebSocket message's anomalies come first
	next := own
	i := 0
	for _, l := range r.Layers {
		rl, ok := l.(*recordLayer)
		if !ok {
			continue
		}
		s.layers = s.layers[:0]
		s.an = s.an[:0]
		if i == 0 {
			for _, o := range r.Layers {
				switch o.(type) {
				case *recordLayer, *appLayer:
				default:
					s.layers = append(s.layers, o)
				}
			}
			s.an = append(s.an, r.Anomalies[:own]...)
		}
		s.layers = append(s.layers, rl)
		s.place = appLayer{index: i + 1, count: n}
		if i == n-1 && pend != nil {
			s.place.pending, s.place.hasPending = pend.pending, pend.hasPending
		}
		s.layers = append(s.layers, &s.place)
		if rl.bad {
			s.an = append(s.an, r.Anomalies[next])
			next++
		}
		s.rec = *r
		s.rec.Layers, s.rec.Anomalies = s.layers, s.an
		if err := s.next.Emit(&s.rec); err != nil {
			return err
		}
		i++
	}
	return nil
}

// appFields are the fields of the "app" layer.
func appFields() []field.Field {
	get := func(f func(l *appLayer, scratch *[]byte) (field.Value, bool)) func(*dissect.Record, int, *[]byte) (field.Value, bool) {
		return func(r *dissect.Record, i int, scratch *[]byte) (field.Value, bool) {
			if i != 0 {
				return field.Value{}, false
			}
			for _, l := range r.Layers {
				if al, ok := l.(*appLayer); ok {
					return f(al, scratch)
				}
			}
			return field.Value{}, false
		}
	}
	return []field.Field{
		{Name: "app.index", Type: field.Number, Layer: "app",
			Description: "with --messages, the place (from 1) of the record's application message among the several its WebSocket message carried",
			Get: get(func(l *appLayer, _ *[]byte) (field.Value, bool) {
				v, _ := field.NumValue(uint64(l.index))
				return v, l.count > 0
			})},
		{Name: "app.count", Type: field.Number, Layer: "app",
			Description: "with --messages, how many application messages the record's WebSocket message carried (present when more than one)",
			Get: get(func(l *appLayer, _ *[]byte) (field.Value, bool) {
				v, _ := field.NumValue(uint64(l.count))
				return v, l.count > 0
			})},
		{Name: "app.pending", Type: field.String, Layer: "app",
			Description: "what the message leaves unfinished for a later message to complete (\"MQTT PUBLISH packet\", \"STOMP frame\", \"Socket.IO BINARY_EVENT\")",
			Get: get(func(l *appLayer, scratch *[]byte) (field.Value, bool) {
				if !l.hasPending {
					return field.Value{}, false
				}
				*scratch = append((*scratch)[:0], l.pending.What...)
				return field.BytesValue(*scratch)
			})},
	}
}
