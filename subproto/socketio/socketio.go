// Package socketio decodes Engine.IO (protocol 3 and 4) packets carried
// over WebSocket and the Socket.IO packets (protocol 4 and 5, as used by
// socket.io 2.x and 3.x/4.x) inside their "message" packets.
//
// A Socket.IO BINARY_EVENT or BINARY_ACK is followed by one binary
// WebSocket message per attachment; the decoder holds the packet back until
// its attachments have arrived and returns it with the attachments joined
// into the placeholders of its arguments, as the receiving library does.
package socketio

import (
	"strconv"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

// Engine.IO packet types.
const (
	Open    = 0
	Close   = 1
	Ping    = 2
	Pong    = 3
	Message = 4
	Upgrade = 5
	Noop    = 6
)

var eioNames = [7]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// EIOName returns the name of Engine.IO packet type t ("message").
func EIOName(t uint8) string {
	if int(t) < len(eioNames) {
		return eioNames[t]
	}
	return "unknown"
}

// Socket.IO packet types.
const (
	Connect      = 0
	Disconnect   = 1
	Event        = 2
	Ack          = 3
	ConnectError = 4
	BinaryEvent  = 5
	BinaryAck    = 6
)

var sioNames = [7]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// TypeName returns the name of Socket.IO packet type t ("EVENT").
func TypeName(t uint8) string {
	if int(t) < len(sioNames) {
		return sioNames[t]
	}
	return "UNKNOWN"
}

// DefaultMaxAttachments bounds the attachments one packet may announce.
const DefaultMaxAttachments = 1024

// MaxAttachmentBytes bounds the attachment bytes held for one packet; past
// it the packet is reported malformed and the rest of its attachments are
// not kept.
const MaxAttachmentBytes = 64 << 20

// Record is one Engine.IO packet and, for a message packet that holds
// one, its Socket.IO packet.
type Record struct {
	// EIO is the Engine.IO packet type; EIOVersion 3 or 4.
	EIO        uint8
	EIOVersion uint8
	// Binary is true for a packet sent as a binary WebSocket message.
	Binary bool
	// Data is the Engine.IO packet's data: the handshake JSON of open, the
	// "probe" of ping/pong, the message text or binary data.
	Data []byte

	// HasSIO is true when Data held a Socket.IO packet.
	HasSIO bool
	Type   uint8
	// Namespace is "/" when the packet names none.
	Namespace []byte
	AckID     uint64
	HasAck    bool
	// Attachments is the count announced by a binary packet; Attached are
	// the binary messages that followed (copies).
	Attachments int
	Attached    [][]byte
	// Event is the event name (first element) of EVENT and BINARY_EVENT.
	Event []byte
	// Payload is the packet's JSON data as sent (placeholders included).
	Payload []byte
	// Args is the JSON array of an event's arguments after the name, or of
	// an ack's arguments, compacted and with placeholders replaced by
	// {"_binary":"<base64>"}; for other packets the compacted payload.
	Args []byte
	// Messages is the number of WebSocket messages the record spans.
	Messages int
	// SID is the Engine.IO session id, which links the session's
	// long-polling requests and its WebSocket connection: from the
	// handshake URL (SetSID) or the open packet; "" while unknown.
	SID string

	err  string
	buf  []byte // owned copy of a held-back packet's text
	abuf []byte // storage of Args and Event
	attb [][]byte
}

// Protocol implements app.Record.
func (r *Record) Protocol() string { return "socketio" }

// Malformed implements app.Record.
func (r *Record) Malformed() string { return r.err }

func (r *Record) reset() {
	buf, abuf, attb := r.buf[:0], r.abuf[:0], r.attb
	*r = Record{buf: buf, abuf: abuf, attb: attb}
}

// Decoder decodes one connection's Engine.IO/Socket.IO traffic.
type Decoder struct {
	// MaxAttachments bounds the attachments of one packet
	// (DefaultMaxAttachments if 0).
	MaxAttachments int
	version        uint8
	dirs           [2]dirState
	out            []app.Record
	pool           []*Record
	npool          int
	polling        []byte // decoded binary packets of a polling payload
	auto           bool   // version not known from the URL yet
	sid            string // the session id, once known
}

// SetSID sets the Engine.IO session id the records carry, as the sid
// parameter of the handshake or polling URL gives it; an open packet's sid
// replaces it.
func (d *Decoder) SetSID(sid string) { d.sid = sid }

// SID returns the session id known so far.
func (d *Decoder) SID() string { return d.sid }

type dirState struct {
	pending *Record // a binary packet waiting for attachments
	spare   *Record
}

// NewDecoder returns a decoder for Engine.IO protocol version eio (3 or
// 4), as given by the EIO query parameter of the handshake URL. Other
// values (0 when the URL is unknown) choose by what the traffic shows:
// version 4 until the client sends a plain ping ("2"), which only
// Engine.IO 3 clients do (in version 4 the server pings).
func NewDecoder(eio int) *Decoder {
	switch eio {
	case 3:
		return &Decoder{version: 3}
	case 4:
		return &Decoder{version: 4}
	}
	return &Decoder{version: 4, auto: true}
}

// Version returns the Engine.IO version in effect.
func (d *Decoder) Version() int { return int(d.version) }

func (d *Decoder) rec() *Record {
	if d.npool == len(d.pool) {
		d.pool = append(d.pool, nil)
	}
	r := d.pool[d.npool]
	if r == nil {
		r = new(Record)
		d.pool[d.npool] = r
	}
	d.npool++
	r.reset()
	r.EIOVersion = d.version
	r.Messages = 1
	r.SID = d.sid
	return r
}

// Decode implements app.Decoder.
func (d *Decoder) Decode(m app.Message) []app.Record {
	d.out = d.out[:0]
	d.npool = 0
	return d.decode(m)
}

// decode appends the records of one Engine.IO packet (one WebSocket
// message) to d.out.
func (d *Decoder) decode(m app.Message) []app.Record {
	st := &d.dirs[m.Dir&1]
	p := m.Payload
	if m.Opcode == app.Binary {
		if d.version == 3 {
			// Engine.IO 3 prefixes binary data with its packet type byte.
			if len(p) == 0 || p[0] > Noop {
				r := d.rec()
				r.Binary = true
				r.EIO = Message
				r.Data = p
				r.err = "Engine.IO 3 binary packet without a valid type byte"
				d.out = append(d.out, r)
				return d.out
			}
			if p[0] != Message {
				r := d.rec()
				r.Binary, r.EIO, r.Data = true, p[0], p[1:]
				d.out = append(d.out, r)
				return d.out
			}
			p = p[1:]
		}
		if pr := st.pending; pr != nil {
			held := 0
			for _, a := range pr.Attached {
				held += len(a)
			}
			if held+len(p) > MaxAttachmentBytes {
				p = nil
				if pr.err == "" {
					pr.err = "attachments longer than " + strconv.Itoa(MaxAttachmentBytes) + " bytes; not kept"
				}
			}
			pr.attb = append(pr.attb, append(nextBuf(pr, len(pr.Attached)), p...))
			pr.Attached = pr.attb
			pr.Messages++
			if len(pr.Attached) == pr.Attachments {
				st.pending = nil
				st.spare = pr
				d.finish(pr)
				d.out = append(d.out, pr)
			}
			return d.out
		}
		r := d.rec()
		r.Binary, r.EIO, r.Data = true, Message, p
		d.out = append(d.out, r)
		return d.out
	}
	if pr := st.pending; pr != nil {
		st.pending = nil
		st.spare = pr
		pr.err = "packet announced " + strconv.Itoa(pr.Attachments) + " attachments, got " + strconv.Itoa(len(pr.Attached))
		d.finish(pr)
		d.out = append(d.out, pr)
	}
	r := d.rec()
	if len(p) == 0 {
		r.err = "empty Engine.IO packet"
		d.out = append(d.out, r)
		return d.out
	}
	if p[0] < '0' || p[0] > '6' {
		r.EIO = 255
		r.Data = p
		r.err = "unknown Engine.IO packet type " + strconv.Quote(string(p[:1]))
		d.out = append(d.out, r)
		return d.out
	}
	r.EIO = p[0] - '0'
	r.Data = p[1:]
	if d.auto && len(r.Data) == 0 && (r.EIO == Ping || r.EIO == Pong) {
		// Engine.IO 3: the client pings and the server answers; 4: the
		// reverse. The first plain ping or pong settles the version.
		if (r.EIO == Ping) == (m.Dir == app.ClientToServer) {
			d.version = 3
		}
		d.auto = false
		r.EIOVersion = d.version
	}
	switch r.EIO {
	case Open:
		if !jsonx.Valid(r.Data) {
			r.err = "open packet without a JSON handshake"
		} else if sid, ok := jsonx.Member(r.Data, "sid"); ok && jsonx.IsString(sid) {
			if s := jsonx.AppendUnquote(nil, sid); string(s) != d.sid {
				d.sid = string(s)
			}
			r.SID = d.sid
		}
	case Message:
		d.parseSIO(r, st)
		if r == st.pending {
			return d.out
		}
	}
	d.out = append(d.out, r)
	return d.out
}

// nextBuf returns a reusable byte slice for attachment i of r.
func nextBuf(r *Record, i int) []byte {
	if i < cap(r.attb) {
		return r.attb[:i+1][i][:0]
	}
	return nil
}

// parseSIO parses the Socket.IO packet in r.Data.
func (d *Decoder) parseSIO(r *Record, st *dirState) {
	s := r.Data
	if len(s) == 0 || s[0] < '0' || s[0] > '6' {
		if len(s) == 0 {
			r.err = "empty Socket.IO packet"
		} else {
			r.err = "unknown Socket.IO packet type " + strconv.Quote(string(s[:1]))
		}
		return
	}
	r.HasSIO = true
	r.Type = s[0] - '0'
	i := 1
	if r.Type == BinaryEvent || r.Type == BinaryAck {
		j := i
		n := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' && n <= 1<<20 {
			n = n*10 + int(s[j]-'0')
			j++
		}
		if j == i || j >= len(s) || s[j] != '-' {
			r.err = "binary packet without an attachment count"
			return
		}
		maxa := d.MaxAttachments
		if maxa <= 0 {
			maxa = DefaultMaxAttachments
		}
		if n > maxa {
			r.err = "binary packet announces " + strconv.Itoa(n) + " attachments, more than " + strconv.Itoa(maxa)
			return
		}
		r.Attachments = n
		i = j + 1
	}
	r.Namespace = slash
	if i < len(s) && s[i] == '/' {
		j := i
		for j < len(s) && s[j] != ',' {
			j++
		}
		r.Namespace = s[i:j]
		if j < len(s) {
			j++
		}
		i = j
	}
	if i < len(s) && s[i] >= '0' && s[i] <= '9' {
		j := i
		var id uint64
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if id > (1<<64-1)/10-1 {
				r.err = "ack id out of range"
				return
			}
			id = id*10 + uint64(s[j]-'0')
			j++
		}
		r.AckID, r.HasAck = id, true
		i = j
	}
	r.Payload = s[i:]
	if len(r.Payload) > 0 && !jsonx.Valid(r.Payload) {
		r.err = "payload is not JSON"
		return
	}
	switch r.Type {
	case Event, BinaryEvent, Ack, BinaryAck:
		if len(jsonx.Trim(r.Payload)) == 0 || jsonx.Trim(r.Payload)[0] != '[' {
			r.err = TypeName(r.Type) + " payload is not an array"
			return
		}
		if (r.Type == Ack || r.Type == BinaryAck) && !r.HasAck {
			r.err = TypeName(r.Type) + " without an ack id"
			return
		}
	}
	if r.Attachments > 0 {
		// Hold the packet back until its attachments arrive: copy its text
		// (the payload is only valid during this call) and swap it out of
		// the pool.
		r.buf = append(r.buf[:0], r.Data...)
		rebase(r, r.Data, r.buf)
		r.attb = r.attb[:0]
		r.Attached = r.attb
		st.pending = r
		d.pool[d.npool-1] = st.spare
		st.spare = nil
		return
	}
	d.finish(r)
}

var slash = []byte("/")

// rebase points the slices of r that were inside old into nw, a copy.
func rebase(r *Record, old, nw []byte) {
	move := func(s []byte) []byte {
		if len(s) == 0 || cap(old) == 0 {
			return s
		}
		off := cap(old) - cap(s)
		if off < 0 || off > len(old) {
			return s
		}
		return nw[off : off+len(s)]
	}
	r.Data = nw
	if len(r.Namespace) > 0 && &r.Namespace[0] != &slash[0] {
		r.Namespace = move(r.Namespace)
	}
	r.Payload = move(r.Payload)
}

// finish extracts the event name and the arguments.
func (d *Decoder) finish(r *Record) {
	pl := jsonx.Trim(r.Payload)
	if len(pl) == 0 {
		return
	}
	switch r.Type {
	case Event, BinaryEvent:
		it, err := jsonx.Array(pl)
		if err != nil {
			return
		}
		name, ok := it.Next()
		if !ok || !jsonx.IsString(name) {
			if r.err == "" {
				r.err = "event without a name"
			}
			return
		}
		b := append(r.abuf[:0], '[')
		b = appendReplaced(b, it.Rest(), r.Attached, 0)
		b = append(b, ']')
		nameStart := len(b)
		b = jsonx.AppendUnquote(b, name)
		r.abuf = b
		r.Event = b[nameStart:]
		r.Args = b[:nameStart:nameStart]
	default:
		r.abuf = appendReplaced(r.abuf[:0], pl, r.Attached, 0)
		r.Args = r.abuf
	}
}

// appendReplaced appends raw JSON (a value, or a list of array elements
// without brackets) compactly, replacing Socket.IO placeholders
// {"_placeholder":true,"num":N} with {"_binary":"<base64>"} of attachment
// N when it is present.
func appendReplaced(dst, raw []byte, att [][]byte, depth int) []byte {
	if len(att) == 0 || depth > 64 {
		return jsonx.AppendCompact(dst, raw)
	}
	i := jsonx.SkipSpace(raw, 0)
	first := true
	for i < len(raw) {
		end, err := jsonx.Skip(raw, i)
		if err != nil {
			return jsonx.AppendCompact(dst, raw[i:])
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendValueReplaced(dst, raw[i:end], att, depth)
		i = jsonx.SkipSpace(raw, end)
		if i < len(raw) && raw[i] == ',' {
			i = jsonx.SkipSpace(raw, i+1)
		}
	}
	return dst
}

func appendValueReplaced(dst, v []byte, att [][]byte, depth int) []byte {
	switch v[0] {
	case '{':
		if n, ok := placeholder(v); ok && n < len(att) {
			dst = append(dst, `{"_binary":"`...)
			dst = appendBase64(dst, att[n])
			return append(dst, `"}`...)
		}
		it, err := jsonx.Object(v)
		if err != nil {
			return jsonx.AppendCompact(dst, v)
		}
		dst = append(dst, '{')
		for first := true; ; first = false {
			k, val, ok := it.Next()
			if !ok {
				break
			}
			if !first {
				dst = append(dst, ',')
			}
			dst = append(dst, '"')
			dst = append(dst, k...)
			dst = append(dst, '"', ':')
			dst = appendValueReplaced(dst, val, att, depth+1)
		}
		return append(dst, '}')
	case '[':
		dst = append(dst, '[')
		dst = appendReplaced(dst, v[1:len(v)-1], att, depth+1)
		return append(dst, ']')
	}
	return jsonx.AppendCompact(dst, v)
}

// placeholder reports whether v is an attachment placeholder and its num.
func placeholder(v []byte) (int, bool) {
	ph, ok := jsonx.Member(v, "_placeholder")
	if !ok || string(ph) != "true" {
		return 0, false
	}
	num, ok := jsonx.Member(v, "num")
	if !ok {
		return 0, false
	}
	n, ok := jsonx.Int(num)
	if !ok || n < 0 || n > 1<<30 {
		return 0, false
	}
	return int(n), true
}

// Gap implements app.Gapper: a packet still waiting for attachments is
// returned malformed with those it got.
func (d *Decoder) Gap(dir app.Dir) []app.Record {
	d.out = d.out[:0]
	d.npool = 0
	st := &d.dirs[dir&1]
	if pr := st.pending; pr != nil {
		st.pending = nil
		st.spare = pr
		pr.err = "attachments lost to missing data: got " + strconv.Itoa(len(pr.Attached)) + " of " + strconv.Itoa(pr.Attachments)
		d.finish(pr)
		d.out = append(d.out, pr)
	}
	return d.out
}

// Pending implements app.Pender: a binary packet of direction dir waiting
// for its attachments.
func (d *Decoder) Pending(dir app.Dir) (app.Pending, bool) {
	pr := d.dirs[dir&1].pending
	if pr == nil {
		return app.Pending{}, false
	}
	return app.Pending{What: "Socket.IO " + TypeName(pr.Type), Have: len(pr.Attached), Want: pr.Attachments,
		Unit: "attachments", Messages: pr.Messages}, true
}
