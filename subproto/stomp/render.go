package stomp

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

// AppendSummary implements app.Record: `STOMP SEND /queue/a (5 bytes)`.
func (f *Frame) AppendSummary(b []byte) []byte {
	if f.Heartbeat {
		return append(b, "STOMP heart-beat"...)
	}
	b = append(b, "STOMP "...)
	b = appendPrintable(b, f.Command)
	for _, h := range []string{"destination", "receipt-id", "message", "id"} {
		if v, ok := f.Header(h); ok {
			b = append(b, ' ')
			if h == "message" || h == "id" || h == "receipt-id" {
				b = append(b, h...)
				b = append(b, '=')
			}
			b = appendPrintable(b, v)
			break
		}
	}
	if len(f.Body) > 0 {
		b = append(b, " ("...)
		b = strconv.AppendInt(b, int64(len(f.Body)), 10)
		b = append(b, " bytes)"...)
	}
	if f.Messages > 1 {
		b = append(b, " [in "...)
		b = strconv.AppendInt(b, int64(f.Messages), 10)
		b = append(b, " messages]"...)
	}
	if f.err != "" {
		b = append(b, " [malformed: "...)
		b = append(b, f.err...)
		b = append(b, ']')
	}
	return b
}

func appendPrintable(b, s []byte) []byte {
	if len(s) > 200 {
		s = s[:200]
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

func versionName(v uint8) string {
	switch v {
	case V10:
		return "1.0"
	case V11:
		return "1.1"
	}
	return "1.2"
}

// AppendJSON implements app.Record.
func (f *Frame) AppendJSON(b []byte) []byte {
	if f.Heartbeat {
		b = append(b, `{"heartbeat":true`...)
	} else {
		b = append(b, `{"command":`...)
		b = jsonx.AppendString(b, f.Command)
	}
	b = append(b, `,"version":"`...)
	b = append(b, versionName(f.Version)...)
	b = append(b, '"')
	if f.Messages > 1 {
		b = append(b, `,"messages":`...)
		b = strconv.AppendInt(b, int64(f.Messages), 10)
	}
	if !f.Heartbeat {
		b = append(b, `,"headers":[`...)
		for i, h := range f.Headers {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = jsonx.AppendString(b, h.Name)
			b = append(b, ',')
			b = jsonx.AppendString(b, h.Value)
			b = append(b, ']')
		}
		b = append(b, ']')
		if len(f.Body) > 0 {
			if utf8.Valid(f.Body) {
				b = append(b, `,"body":`...)
				b = jsonx.AppendString(b, f.Body)
			} else {
				b = append(b, `,"body_b64":"`...)
				b = base64.StdEncoding.AppendEncode(b, f.Body)
				b = append(b, '"')
			}
		}
	}
	if f.err != "" {
		b = append(b, `,"malformed":`...)
		b = jsonx.AppendStr(b, f.err)
	}
	return append(b, '}')
}

// Tree implements app.Record.
func (f *Frame) Tree(emit func(depth int, name, value string)) {
	emit = app.OneLine(emit)
	if f.Heartbeat {
		emit(0, "STOMP", "heart-beat")
		return
	}
	emit(0, "STOMP", string(f.Command))
	emit(1, "Command", string(f.Command))
	emit(1, "Version", versionName(f.Version))
	if len(f.Headers) > 0 {
		emit(1, "Headers", "")
		for _, h := range f.Headers {
			emit(2, string(h.Name), string(h.Value))
		}
	}
	if len(f.Body) > 0 {
		if utf8.Valid(f.Body) {
			emit(1, "Body", string(f.Body))
		} else {
			emit(1, "Body", strconv.Itoa(len(f.Body))+" bytes of binary data")
		}
	}
	if f.Messages > 1 {
		emit(1, "WebSocket messages", strconv.Itoa(f.Messages))
	}
	if f.err != "" {
		emit(1, "Malformed", f.err)
	}
}

func get(r app.Record) *Frame {
	f, _ := r.(*Frame)
	return f
}

func headerField(name, header, desc string) app.Field {
	return app.Field{Name: name, Kind: app.String, Desc: desc, Get: func(r app.Record, d []app.Value) []app.Value {
		if f := get(r); f != nil {
			if v, ok := f.Header(header); ok {
				d = append(d, app.Str(v))
			}
		}
		return d
	}}
}

// Fields returns the STOMP filter fields.
func Fields() []app.Field {
	return []app.Field{
		{Name: "stomp.command", Kind: app.String, Desc: "frame command (SEND, MESSAGE, ...)", Get: func(r app.Record, d []app.Value) []app.Value {
			if f := get(r); f != nil && !f.Heartbeat {
				d = append(d, app.Str(f.Command))
			}
			return d
		}},
		{Name: "stomp.heartbeat", Kind: app.Bool, Desc: "the record is a heart-beat (EOLs only)", Get: func(r app.Record, d []app.Value) []app.Value {
			if f := get(r); f != nil {
				d = append(d, app.Flag(f.Heartbeat))
			}
			return d
		}},
		headerField("stomp.destination", "destination", "destination header"),
		headerField("stomp.subscription", "subscription", "subscription header of MESSAGE, ACK"),
		headerField("stomp.id", "id", "id header (subscription id, ack id)"),
		headerField("stomp.message_id", "message-id", "message-id header of MESSAGE"),
		headerField("stomp.receipt", "receipt", "receipt header"),
		headerField("stomp.receipt_id", "receipt-id", "receipt-id header of RECEIPT"),
		headerField("stomp.content_type", "content-type", "content-type header"),
		headerField("stomp.message", "message", "message header of ERROR"),
		{Name: "stomp.header", Kind: app.String, Desc: "every header as name:value", Get: func(r app.Record, d []app.Value) []app.Value {
			if f := get(r); f != nil {
				for _, h := range f.Headers {
					v := make([]byte, 0, len(h.Name)+1+len(h.Value))
					v = append(append(append(v, h.Name...), ':'), h.Value...)
					d = append(d, app.Str(v))
				}
			}
			return d
		}},
		{Name: "stomp.body", Kind: app.Bytes, Desc: "frame body", Get: func(r app.Record, d []app.Value) []app.Value {
			if f := get(r); f != nil && !f.Heartbeat {
				d = append(d, app.Str(f.Body))
			}
			return d
		}},
		{Name: "stomp.version", Kind: app.String, Desc: "STOMP version in effect (1.0, 1.1, 1.2)", Get: func(r app.Record, d []app.Value) []app.Value {
			if f := get(r); f != nil {
				d = append(d, app.Value{B: []byte(versionName(f.Version))})
			}
			return d
		}},
	}
}
