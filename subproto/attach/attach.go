// Package attach runs the application-protocol decoders of package subproto
// on the WebSocket messages dissect emits and attaches what they decode to
// the records, as a sink between dissect and the filter; it also declares
// their filter fields and anomaly ids for the registries.
package attach

import (
	"strings"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/socketio"
)

// connKey identifies a WebSocket connection: its TCP stream, and its
// HTTP/2 stream when several share one TCP connection.
type connKey struct {
	stream     uint64
	tunnel, h2 uint32 // see dissect.Conn.TunnelStream
}

// maxConns bounds the connections whose decoder state is kept; a capture
// with more open at once loses the application view of the oldest (their
// WebSocket records are unaffected).
const maxConns = 1 << 16

// conn is one connection's decoder and what was said about its choice.
type conn struct {
	dec       *subproto.Conn
	announced bool // the choice was attached to a record
	// choice is the layer that says it; it lives with the connection, as
	// a conn record's layers must (a filter may hold the record back).
	choice choiceLayer
	// charged is what the memory budget holds for the decoder's state;
	// bounded says the decoder may hold little (see Sink.bound).
	charged int64
	bounded bool
}

// recentSlots is the size of Sink.recent (a power of two).
const recentSlots = 1024

// recentConn is a slot of Sink.recent.
type recentConn struct {
	k connKey
	c *conn
}

// slot returns k's slot in s.recent.
func (s *Sink) slot(k connKey) *recentConn {
	return &s.recent[(k.stream^uint64(k.h2)*0x9e3779b9)&(recentSlots-1)]
}

// lookup returns the state of connection k, or nil.
func (s *Sink) lookup(k connKey) *conn {
	e := s.slot(k)
	if e.c != nil && e.k == k {
		return e.c
	}
	c := s.conns[k]
	if c != nil {
		*e = recentConn{k, c}
	}
	return c
}

// forget drops the state of connection k.
func (s *Sink) forget(k connKey) {
	if c := s.lookup(k); c != nil && c.charged != 0 {
		s.release(&c.charged)
	}
	delete(s.conns, k)
	if e := s.slot(k); e.k == k {
		*e = recentConn{}
	}
}

// Sink decodes the application protocol of every connection's messages
// and attaches the results to the records it passes on. It is not safe for
// concurrent use; each worker runs its own (connections never span
// workers).
type Sink struct {
	next  dissect.Sink
	force string
	// PlainJSON decodes connections that carry plain JSON (no protocol
	// above it): their records only add the value as an NDJSON object and
	// tree lines, so summary output leaves it off and saves the parsing.
	PlainJSON bool
	conns     map[connKey]*conn
	order     []connKey // in order of creation, for the bound
	// recent caches entries of conns by key (direct-mapped): most records
	// would otherwise pay a map lookup, a noticeable share of the summary
	// on captures of many interleaved connections.
	recent [recentSlots]recentConn
	// polls are the Engine.IO decoders of long-polling sessions, by sid
	// (see polling).
	polls map[string]*poll
	// mem is charged what the decoders keep (see UseMemory); shedNote
	// adds the anomaly saying a decoder gave its state up to the record
	// attach sends next.
	mem      *membudget.Account
	shedNote bool

	layers  []dissect.Layer
	wrapped []recordLayer
	an      []dissect.Anomaly
	rec     dissect.Record
	app     appLayer
}

// NewSink returns a sink that decodes into next. force is --decode-as: ""
// chooses by subprotocol, URL and sniffing, subproto.None turns decoding
// off, a protocol name forces that decoder (validate it with
// subproto.CheckForce first).
func NewSink(next dissect.Sink, force string) *Sink {
	return &Sink{next: next, force: force, conns: map[connKey]*conn{}, PlainJSON: true}
}

// Emit implements dissect.Sink.
func (s *Sink) Emit(r *dissect.Record) error {
	if s.force == subproto.None || r.Conn == nil {
		return s.next.Emit(r)
	}
	k := connKey{r.Conn.Stream, r.Conn.TunnelStream(), r.Conn.H2Stream}
	switch r.Kind {
	case dissect.KindConn:
		c := s.open(k, r.Conn)
		return s.pass(r, c, nil, false)
	case dissect.KindEnd:
		s.forget(k)
		return s.next.Emit(r)
	case dissect.KindHTTP:
		return s.polling(r)
	case dissect.KindAnomaly:
		if c := s.lookup(k); c != nil && r.HasDir && hasGap(r.Anomalies) {
			return s.pass(r, c, c.dec.Gap(app.Dir(r.Dir)), false)
		}
		return s.next.Emit(r)
	}
	c := s.lookup(k)
	if c == nil {
		// A connection whose conn record this sink did not see (it
		// started before a limit dropped its state): start afresh.
		c = s.open(k, r.Conn)
	}
	m, ok := messageOf(r)
	if !ok || !s.PlainJSON && c.dec.Choice().Protocol == subproto.JSON {
		return s.next.Emit(r)
	}
	if m.Incomplete || m.Truncated || m.NotInflated {
		// Part of the message is missing or was not retained: the decoder
		// must not join across the hole.
		return s.pass(r, c, c.dec.Gap(app.Dir(r.Dir)), false)
	}
	am := app.Message{Dir: app.Dir(r.Dir), Opcode: app.Opcode(m.Opcode), Payload: m.Payload, Time: r.Time}
	if !s.PlainJSON && c.dec.Choice().Method == subproto.Undecided && c.dec.Choose(am).Protocol == subproto.JSON {
		// Sniffing found plain JSON: like the connection's later
		// messages, this one is not decoded (its choice is announced).
		return s.pass(r, c, nil, false)
	}
	s.bound(&c.bounded, c.dec.Decoder())
	recs := s.keep(&c.charged, c.dec.Decoder(), c.dec.Gap, c.dec.Decode(am))
	return s.pass(r, c, recs, true)
}

// WholePayload implements dissect.PreviewPolicy: a connection's messages
// must be whole while its decoder is undecided (sniffing) or decodes them;
// the records of plain JSON that is not decoded (PlainJSON off), of
// connections where no protocol was found and of --decode-as none pass
// through as they are.
func (s *Sink) WholePayload(cn *dissect.Conn) bool {
	if s.force == subproto.None {
		return false
	}
	c := s.lookup(connKey{cn.Stream, cn.TunnelStream(), cn.H2Stream})
	if c == nil {
		return true // opened, and sniffing, at its first record
	}
	switch ch := c.dec.Choice(); {
	case ch.Method == subproto.Undecided:
		return true
	case ch.Protocol == subproto.JSON:
		return s.PlainJSON
	default:
		return ch.Protocol != ""
	}
}

// open starts the decoder of a connection.
func (s *Sink) open(k connKey, cn *dissect.Conn) *conn {
	if old := s.lookup(k); old != nil {
		return old
	}
	if len(s.conns) >= maxConns {
		for len(s.order) > 0 && len(s.conns) >= maxConns/2 {
			s.forget(s.order[0])
			s.order = s.order[1:]
		}
	}
	c := &conn{dec: subproto.New(subproto.Config{Subprotocol: cn.Subprotocol, URL: cn.Path, Force: s.force})}
	s.conns[k] = c
	s.order = append(s.order, k)
	if len(s.order) > 2*maxConns {
		s.order = compact(s.order, s.conns)
	}
	return c
}

// compact drops the keys of connections that ended from order.
func compact(order []connKey, live map[connKey]*conn) []connKey {
	out := order[:0]
	for _, k := range order {
		if live[k] != nil {
			out = append(out, k)
		}
	}
	return out
}

// messageView is what the decoder is given of a record: a data message's
// opcode and payload and whether all of it is there.
type messageView struct {
	Opcode                             uint8
	Payload                            []byte
	Incomplete, Truncated, NotInflated bool
}

// messageOf returns the complete data message a record ends: a message
// record, or the frame record that completes a message (a single FIN
// frame, or the last frame carrying the reassembled message).
func messageOf(r *dissect.Record) (messageView, bool) {
	switch r.Kind {
	case dissect.KindMessage:
		m := r.Message
		if m == nil || (m.Opcode != dissect.OpText && m.Opcode != dissect.OpBinary) {
			return messageView{}, false
		}
		return messageView{m.Opcode, m.Payload, m.Incomplete, m.Truncated, m.NotInflated}, true
	case dissect.KindFrame:
		f := r.Frame
		if f == nil || !f.Fin {
			return messageView{}, false
		}
		if m := f.Reassembled; m != nil {
			if m.Opcode != dissect.OpText && m.Opcode != dissect.OpBinary {
				return messageView{}, false
			}
			return messageView{m.Opcode, m.Payload, m.Incomplete, m.Truncated, m.NotInflated}, true
		}
		if f.Opcode != dissect.OpText && f.Opcode != dissect.OpBinary {
			return messageView{}, false
		}
		return messageView{f.Opcode, f.Payload, f.Incomplete, f.Truncated, f.NotInflated}, true
	}
	return messageView{}, false
}

// hasGap reports whether the anomalies say bytes of the stream were lost.
func hasGap(as []dissect.Anomaly) bool {
	for _, a := range as {
		if a.ID == dissect.AnTCPGap {
			return true
		}
	}
	return false
}

// pass sends r on with the application records attached (and the choice,
// the first time it is known), plus a malformed anomaly per record that
// did not parse. decoded says r's message was just fed to the decoder:
// what the decoder then holds for later messages of that direction is
// noted on r (an "app" layer with "pending").
func (s *Sink) pass(r *dissect.Record, c *conn, recs []app.Record, decoded bool) error {
	ch := c.dec.Choice()
	announce := !c.announced && ch.Method != subproto.Undecided
	var pend app.Pending
	pending := false
	if decoded {
		if pd, ok := c.dec.Decoder().(app.Pender); ok {
			pend, pending = pd.Pending(app.Dir(r.Dir))
		}
	}
	if len(recs) == 0 && !announce && !pending {
		return s.next.Emit(r)
	}
	var choice *choiceLayer
	if announce {
		// The conn record says what the handshake (or --decode-as)
		// decided; when nothing did, the first record after sniffing
		// decided says so.
		c.announced = true
		c.choice = choiceLayer{c: ch, conn: r.Kind == dissect.KindConn}
		if d, ok := c.dec.Decoder().(*socketio.Decoder); ok {
			c.choice.sid = d.SID()
		}
		choice = &c.choice
	}
	var p *app.Pending
	if pending {
		p = &pend
	}
	return s.attach(r, recs, choice, p)
}

// attach sends r on with the application records as layers, after the
// decoder choice when given and before the pending note when given, plus a
// malformed anomaly per record that did not parse.
func (s *Sink) attach(r *dissect.Record, recs []app.Record, choice *choiceLayer, pend *app.Pending) error {
	s.rec = *r
	s.layers = append(s.layers[:0], r.Layers...)
	s.an = append(s.an[:0], r.Anomalies...)
	if choice != nil {
		s.layers = append(s.layers, choice)
	}
	if cap(s.wrapped) < len(recs) {
		s.wrapped = make([]recordLayer, len(recs))
	}
	s.wrapped = s.wrapped[:len(recs)]
	n := 0
	for _, ar := range recs {
		why := ar.Malformed()
		if why != "" && ar.Protocol() == subproto.JSON {
			// Plain JSON is no protocol with rules: a message that is not
			// JSON on a connection that carries JSON is just not JSON.
			continue
		}
		s.wrapped[n] = recordLayer{r: ar, bad: why != ""}
		s.layers = append(s.layers, &s.wrapped[n])
		n++
		if why != "" {
			s.an = append(s.an, dissect.Anomaly{ID: subproto.Anomaly(ar.Protocol()), Severity: dissect.SevWarning,
				Msg: ar.Protocol() + " message is malformed: " + why, Offset: -1})
		}
	}
	if pend != nil {
		s.app = appLayer{pending: *pend, hasPending: true}
		s.layers = append(s.layers, &s.app)
	}
	if s.shedNote {
		s.shedNote = false
		s.an = append(s.an, shedAnomaly)
	}
	s.rec.Layers, s.rec.Anomalies = s.layers, s.an
	return s.next.Emit(&s.rec)
}

// recordLayer shows an application record as a layer of a WebSocket record.
type recordLayer struct {
	r   app.Record
	bad bool // the record added a malformed anomaly (the record's last ones, in layer order)
}

// LayerName is the protocol name, the record's NDJSON key.
func (l *recordLayer) LayerName() string { return l.r.Protocol() }

// AppendJSON appends the record's JSON object.
func (l *recordLayer) AppendJSON(b []byte) []byte { return l.r.AppendJSON(b) }

// AppendSummary appends the record's summary, except for plain JSON, which
// the summary line shows already as the message text.
func (l *recordLayer) AppendSummary(b []byte) []byte {
	if l.r.Protocol() == subproto.JSON {
		return b
	}
	return l.r.AppendSummary(b)
}

// TreeLines lists the record's tree as "name: value" lines.
func (l *recordLayer) TreeLines(line func(int, string)) {
	l.r.Tree(func(depth int, name, value string) {
		if value == "" {
			line(depth, name)
			return
		}
		line(depth, name+": "+value)
	})
}

// choiceLayer says which decoder a connection got and why (NDJSON
// "decoder"): on the conn record, with what the handshake decided (or
// that the first messages will be sniffed), and on the first record after
// a choice made later.
type choiceLayer struct {
	c    subproto.Choice
	conn bool   // on a conn record
	sid  string // the Engine.IO session id the handshake URL named
}

// LayerName is the NDJSON key "decoder".
func (l *choiceLayer) LayerName() string { return "decoder" }

// AppendJSON appends the protocol, how it was chosen and why.
func (l *choiceLayer) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	if l.c.Protocol != "" {
		b = append(b, `"protocol":`...)
		b = appendJSONString(b, l.c.Protocol)
		b = append(b, ',')
	}
	b = append(b, `"method":`...)
	b = appendJSONString(b, l.c.Method.String())
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, l.c.Reason)
	if l.sid != "" {
		b = append(b, `,"sid":`...)
		b = appendJSONString(b, l.sid)
	}
	return append(b, '}')
}

// AppendSummary names the decoder on a conn record when the handshake
// (or --decode-as) chose it, "decoder=mqtt (subprotocol)"; elsewhere the
// decoded records say what they are.
func (l *choiceLayer) AppendSummary(b []byte) []byte {
	if !l.conn || l.c.Protocol == "" {
		return b
	}
	b = append(b, "decoder="...)
	b = append(b, l.c.Protocol...)
	b = append(b, " ("...)
	b = append(b, l.c.Method.String()...)
	return append(b, ')')
}

// TreeLines shows the choice.
func (l *choiceLayer) TreeLines(line func(int, string)) {
	if l.c.Protocol != "" {
		line(0, "Protocol: "+l.c.Protocol)
	}
	line(0, "Chosen by: "+l.c.Method.String()+" ("+l.c.Reason+")")
	if l.sid != "" {
		line(0, "Engine.IO session id: "+l.sid)
	}
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// Fields returns the filter fields of every application protocol, for the
// field registry: each looks for its protocol's records among a record's
// layers.
func Fields() []field.Field {
	var out []field.Field
	for _, f := range subproto.Fields() {
		if strings.HasPrefix(f.Name, "json.") {
			// json.PATH is the filter's own syntax for JSON payloads.
			continue
		}
		a := adapt(f)
		if f.Name == "socketio.sid" {
			a.Get = withChoiceSID(a.Get)
		}
		out = append(out, a)
	}
	return append(out, appFields()...)
}

// withChoiceSID extends the socketio.sid getter to the conn record, whose
// decoder choice carries the session id of the handshake URL.
func withChoiceSID(get func(*dissect.Record, int, *[]byte) (field.Value, bool)) func(*dissect.Record, int, *[]byte) (field.Value, bool) {
	return func(r *dissect.Record, i int, buf *[]byte) (field.Value, bool) {
		if v, ok := get(r, i, buf); ok || i != 0 {
			return v, ok
		}
		for _, l := range r.Layers {
			if cl, ok := l.(*choiceLayer); ok && cl.sid != "" {
				*buf = append((*buf)[:0], cl.sid...)
				return field.BytesValue(*buf)
			}
		}
		return field.Value{}, false
	}
}

// kinds maps the decoders' value kinds to field types.
var kinds = map[app.Kind]field.Type{
	app.String: field.String, app.Bytes: field.Bytes, app.Uint: field.Number,
	app.Bool: field.Bool, app.Duration: field.Number, app.Int: field.Number,
}

// adapt turns a decoder's field into a registry field.
func adapt(f app.Field) field.Field {
	proto := f.Name
	for i := 0; i < len(proto); i++ {
		if proto[i] == '.' {
			proto = proto[:i]
			break
		}
	}
	desc := f.Desc
	if f.Kind == app.Duration {
		desc += " (nanoseconds)"
	}
	kind := f.Kind
	get := f.Get
	return field.Field{
		Name: f.Name, Type: kinds[kind], Multi: true, Layer: proto, Description: desc,
		Get: func(r *dissect.Record, i int, _ *[]byte) (field.Value, bool) {
			var buf [4]app.Value
			for _, l := range r.Layers {
				rl, ok := l.(*recordLayer)
				if !ok {
					continue
				}
				vals := get(rl.r, buf[:0])
				if i < len(vals) {
					v := vals[i]
					switch kind {
					case app.String, app.Bytes:
						return field.BytesValue(v.B)
					case app.Bool:
						return field.BoolValue(v.N != 0)
					}
					return field.NumValue(v.N)
				}
				i -= len(vals)
			}
			return field.Value{}, false
		},
	}
}

// Anomalies declares the malformed-message anomaly of every protocol.
func Anomalies() []dissect.AnomalyInfo {
	var out []dissect.AnomalyInfo
	for _, p := range subproto.Protocols() {
		if p == subproto.JSON {
			continue // a message that is not JSON is not malformed JSON (see pass)
		}
		out = append(out, dissect.AnomalyInfo{ID: subproto.Anomaly(p), Severity: dissect.SevWarning, RFC: "-",
			Summary: "a " + p + " message carried in WebSocket did not parse (the reason says where); the WebSocket record is kept"})
	}
	return out
}
