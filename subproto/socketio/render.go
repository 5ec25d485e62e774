package socketio

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

func appendBase64(dst, b []byte) []byte { return base64.StdEncoding.AppendEncode(dst, b) }

// summaryArgs is the most argument text a summary shows.
const summaryArgs = 200

// AppendSummary implements app.Record: `Socket.IO EVENT /chat "message"
// ["hi"]`, or `Engine.IO ping probe` for transport packets.
func (r *Record) AppendSummary(b []byte) []byte {
	if !r.HasSIO {
		b = append(b, "Engine.IO "...)
		b = append(b, EIOName(r.EIO)...)
		switch {
		case r.Binary:
			b = append(b, " binary ("...)
			b = strconv.AppendInt(b, int64(len(r.Data)), 10)
			b = append(b, " bytes)"...)
		case len(r.Data) > 0:
			b = append(b, ' ')
			b = appendCut(b, r.Data)
		}
	} else {
		b = append(b, "Socket.IO "...)
		b = append(b, TypeName(r.Type)...)
		b = append(b, ' ')
		b = appendPrintable(b, r.Namespace)
		if r.Event != nil {
			b = append(b, ' ')
			b = jsonx.AppendString(b, r.Event)
		}
		if r.HasAck {
			b = append(b, " ack="...)
			b = strconv.AppendUint(b, r.AckID, 10)
		}
		if len(r.Args) > 0 {
			b = append(b, ' ')
			b = appendCut(b, r.Args)
		}
		if r.Attachments > 0 {
			b = append(b, " +"...)
			b = strconv.AppendInt(b, int64(r.Attachments), 10)
			b = append(b, " attachments"...)
		}
	}
	if r.err != "" {
		b = append(b, " [malformed: "...)
		b = append(b, r.err...)
		b = append(b, ']')
	}
	return b
}

func appendCut(b, s []byte) []byte {
	if len(s) <= summaryArgs {
		return appendPrintable(b, s)
	}
	n := summaryArgs
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	b = appendPrintable(b, s[:n])
	return append(b, "…"...)
}

// appendPrintable appends s with control characters as spaces.
func appendPrintable(b, s []byte) []byte {
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
	b = append(b, `{"eio":"`...)
	b = append(b, EIOName(r.EIO)...)
	b = append(b, `","eio_version":`...)
	b = strconv.AppendUint(b, uint64(r.EIOVersion), 10)
	if r.SID != "" {
		b = append(b, `,"sid":`...)
		b = jsonx.AppendStr(b, r.SID)
	}
	if r.Binary {
		b = append(b, `,"binary":true`...)
	}
	if r.Messages > 1 {
		b = append(b, `,"messages":`...)
		b = strconv.AppendInt(b, int64(r.Messages), 10)
	}
	if !r.HasSIO {
		switch {
		case r.Binary:
			b = append(b, `,"data_b64":"`...)
			b = appendBase64(b, r.Data)
			b = append(b, '"')
		case r.EIO == Open && r.err == "":
			b = append(b, `,"data":`...)
			b = jsonx.AppendCompact(b, r.Data)
		case len(r.Data) > 0:
			b = append(b, `,"data":`...)
			b = jsonx.AppendString(b, r.Data)
		}
	} else {
		b = append(b, `,"type":"`...)
		b = append(b, TypeName(r.Type)...)
		b = append(b, `","namespace":`...)
		b = jsonx.AppendString(b, r.Namespace)
		if r.HasAck {
			b = append(b, `,"ack_id":`...)
			b = strconv.AppendUint(b, r.AckID, 10)
		}
		if r.Event != nil {
			b = append(b, `,"event":`...)
			b = jsonx.AppendString(b, r.Event)
		}
		if r.Attachments > 0 {
			b = append(b, `,"attachments":`...)
			b = strconv.AppendInt(b, int64(r.Attachments), 10)
		}
		if len(r.Args) > 0 {
			if r.Type == Event || r.Type == BinaryEvent || r.Type == Ack || r.Type == BinaryAck {
				b = append(b, `,"args":`...)
			} else {
				b = append(b, `,"data":`...)
			}
			b = append(b, r.Args...)
		} else if r.err != "" && len(r.Payload) > 0 {
			b = append(b, `,"payload":`...)
			b = jsonx.AppendString(b, r.Payload)
		}
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
	if !r.HasSIO {
		emit(0, "Engine.IO", EIOName(r.EIO))
	} else {
		emit(0, "Socket.IO", TypeName(r.Type))
	}
	emit(1, "Engine.IO packet type", EIOName(r.EIO)+" ("+strconv.Itoa(int(r.EIO))+")")
	emit(1, "Engine.IO version", strconv.Itoa(int(r.EIOVersion)))
	if r.SID != "" {
		emit(1, "Session id", r.SID)
	}
	if !r.HasSIO {
		switch {
		case r.Binary:
			emit(1, "Binary data", strconv.Itoa(len(r.Data))+" bytes")
		case r.EIO == Open && r.err == "":
			jsonx.Tree(r.Data, "Handshake", 1, 200, emit)
		case len(r.Data) > 0:
			emit(1, "Data", string(r.Data))
		}
	} else {
		emit(1, "Packet type", TypeName(r.Type)+" ("+strconv.Itoa(int(r.Type))+")")
		emit(1, "Namespace", string(r.Namespace))
		if r.HasAck {
			emit(1, "Ack id", strconv.FormatUint(r.AckID, 10))
		}
		if r.Event != nil {
			emit(1, "Event", string(r.Event))
		}
		if r.Attachments > 0 {
			emit(1, "Attachments", strconv.Itoa(r.Attachments))
		}
		if len(r.Args) > 0 {
			name := "Data"
			if r.Type == Event || r.Type == BinaryEvent || r.Type == Ack || r.Type == BinaryAck {
				name = "Arguments"
			}
			jsonx.Tree(r.Args, name, 1, 200, emit)
		}
	}
	if r.Messages > 1 {
		emit(1, "WebSocket messages", strconv.Itoa(r.Messages))
	}
	if r.err != "" {
		emit(1, "Malformed", r.err)
	}
}

func get(r app.Record) *Record {
	x, _ := r.(*Record)
	return x
}

// Fields returns the Socket.IO filter fields (Wireshark has no Socket.IO
// dissector; the names follow its style under "socketio.").
func Fields() []app.Field {
	return []app.Field{
		{Name: "socketio.sid", Kind: app.String, Desc: "Engine.IO session id (from the handshake URL or the open packet), shared by the session's WebSocket connection and its long-polling requests", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.SID != "" {
				d = append(d, app.Value{B: []byte(x.SID)})
			}
			return d
		}},
		{Name: "socketio.eio_type", Kind: app.String, Desc: "Engine.IO packet type (open, close, ping, pong, message, upgrade, noop)", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil {
				d = append(d, app.Value{B: []byte(EIOName(x.EIO))})
			}
			return d
		}},
		{Name: "socketio.type", Kind: app.String, Desc: "Socket.IO packet type (CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK)", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.HasSIO {
				d = append(d, app.Value{B: []byte(TypeName(x.Type))})
			}
			return d
		}},
		{Name: "socketio.namespace", Kind: app.String, Desc: "Socket.IO namespace", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.HasSIO {
				d = append(d, app.Str(x.Namespace))
			}
			return d
		}},
		{Name: "socketio.event", Kind: app.String, Desc: "event name of EVENT and BINARY_EVENT", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.Event != nil {
				d = append(d, app.Str(x.Event))
			}
			return d
		}},
		{Name: "socketio.ack_id", Kind: app.Uint, Desc: "acknowledgement id", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.HasAck {
				d = append(d, app.Num(x.AckID))
			}
			return d
		}},
		{Name: "socketio.args", Kind: app.String, Desc: "arguments as compact JSON (attachments as {\"_binary\":base64})", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && len(x.Args) > 0 {
				d = append(d, app.Str(x.Args))
			}
			return d
		}},
		{Name: "socketio.attachments", Kind: app.Uint, Desc: "binary attachments of BINARY_EVENT/BINARY_ACK", Get: func(r app.Record, d []app.Value) []app.Value {
			if x := get(r); x != nil && x.Attachments > 0 {
				d = append(d, app.Num(uint64(x.Attachments)))
			}
			return d
		}},
	}
}
