// Package subproto chooses and runs the decoder of the application protocol
// carried inside a WebSocket connection's messages: Socket.IO/Engine.IO,
// STOMP, MQTT, GraphQL over WebSocket, JSON-RPC 2.0, plain JSON, or a
// tunnelled byte stream (SSH, TLS, HTTP/1.x, SOCKS, VNC).
//
// The choice, in order of precedence:
//
//  1. forced: Config.Force names a protocol (--decode-as PROTO), or "none"
//     to decode nothing;
//  2. the negotiated Sec-WebSocket-Protocol (mqtt, v12.stomp, graphql-ws,
//     graphql-transport-ws, wamp.2.json, binary/base64 of websockify, ...);
//  3. the handshake's request URL (/socket.io/?EIO=4&transport=websocket);
//  4. sniffing the first messages (up to SniffMessages of them): an MQTT
//     CONNECT, a STOMP command line, an Engine.IO open or Socket.IO packet,
//     a graphql-ws connection_init, a JSON-RPC 2.0 object, any JSON, or the
//     opening of a tunnelled protocol in a binary message.
//
// Conn records which decoder was chosen and why (Choice). Messages looked
// at while sniffing without a match yield no records; the message that
// matches is decoded.
package subproto

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/graphqlws"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
	"github.com/wsdissect/wsdissect/subproto/jsonmsg"
	"github.com/wsdissect/wsdissect/subproto/jsonrpc"
	"github.com/wsdissect/wsdissect/subproto/mqtt"
	"github.com/wsdissect/wsdissect/subproto/socketio"
	"github.com/wsdissect/wsdissect/subproto/stomp"
	"github.com/wsdissect/wsdissect/subproto/tunnel"
)

// Protocol names, as Record.Protocol returns them, as --decode-as takes
// them, and as NDJSON keys and filter-field prefixes.
const (
	SocketIO = "socketio"
	STOMP    = "stomp"
	MQTT     = "mqtt"
	GraphQL  = "graphql"
	JSONRPC  = "jsonrpc"
	JSON     = "json"
	Tunnel   = "tunnel"
	// None turns decoding off when forced.
	None = "none"
)

// Protocols returns the protocol names that Force accepts (besides None).
func Protocols() []string {
	return []string{SocketIO, STOMP, MQTT, GraphQL, JSONRPC, JSON, Tunnel}
}

// CheckForce validates a --decode-as value.
func CheckForce(s string) error {
	if s == "" || s == None {
		return nil
	}
	for _, p := range Protocols() {
		if s == p {
			return nil
		}
	}
	return fmt.Errorf("unknown protocol %q for --decode-as (want one of %s or none)", s, strings.Join(Protocols(), ", "))
}

// Method is how a decoder was chosen.
type Method uint8

// Methods.
const (
	// Undecided: nothing at the handshake decided, the first messages
	// are sniffed ("sniffing").
	Undecided Method = iota
	Forced
	BySubprotocol
	ByURL
	BySniffing
	// NotFound: sniffing gave up, or decoding is off.
	NotFound
)

func (m Method) String() string {
	switch m {
	case Forced:
		return "forced"
	case BySubprotocol:
		return "subprotocol"
	case ByURL:
		return "url"
	case BySniffing:
		return "sniffed"
	case NotFound:
		return "none"
	}
	return "sniffing"
}

// Choice is the decoder chosen for a connection and why.
type Choice struct {
	// Protocol is one of the names above, "" when none.
	Protocol string
	Method   Method
	// Reason says what decided, e.g. `subprotocol "v12.stomp"`,
	// `URL /socket.io/?EIO=4&transport=websocket`, `sniffed: MQTT CONNECT
	// in message 1 (c2s)`.
	Reason string
}

// SniffMessages is how many messages are looked at before giving up.
const SniffMessages = 8

// The choice's reasons while sniffing and after giving up: constants (the
// digit spelled out, checked by a test against SniffMessages), so that a
// connection's decoder costs no string building.
const (
	sniffMessagesText = "8"
	reasonSniffing    = "no subprotocol or URL decides: sniffing the first " + sniffMessagesText + " messages"
	reasonGaveUp      = "no protocol recognised in the first " + sniffMessagesText + " messages"
)

// Config says what is known about a connection when it starts.
type Config struct {
	// Subprotocol is the Sec-WebSocket-Protocol the server selected.
	Subprotocol string
	// URL is the request target of the handshake (path and query).
	URL string
	// Force is --decode-as: "" to choose automatically, None, or a
	// protocol name (validated by CheckForce; unknown names mean None).
	Force string
}

// Conn decodes the application protocol of one WebSocket connection. It
// is not safe for concurrent use; one goroutine feeds it the connection's
// messages in capture order.
type Conn struct {
	cfg    Config
	choice Choice
	dec    app.Decoder
	seen   int
	// sniffed is set when Choose sniffed a message and found nothing: the
	// Decode of the same message that may follow must not sniff it again.
	sniffed bool
}

// New returns the decoder state for one connection, with the choice made
// already when the configuration decides it.
func New(cfg Config) *Conn {
	c := &Conn{cfg: cfg}
	switch {
	case cfg.Force == None:
		c.choice = Choice{Method: NotFound, Reason: "decoding turned off (--decode-as none)"}
	case cfg.Force != "":
		if CheckForce(cfg.Force) != nil {
			c.choice = Choice{Method: NotFound, Reason: "unknown protocol " + strconv.Quote(cfg.Force)}
			break
		}
		c.set(cfg.Force, Forced, "--decode-as "+cfg.Force, 0)
	default:
		if p, v := fromSubprotocol(cfg.Subprotocol); p != "" {
			c.set(p, BySubprotocol, "subprotocol "+strconv.Quote(cfg.Subprotocol), v)
		} else if eio, ok := socketIOURL(cfg.URL); ok {
			c.set(SocketIO, ByURL, "URL "+cfg.URL, eio)
		} else {
			c.choice.Reason = reasonSniffing
		}
	}
	return c
}

// Choice returns the decoder chosen so far (Method Undecided while
// sniffing).
func (c *Conn) Choice() Choice { return c.choice }

// Decoder returns the protocol decoder in use, nil when none is (yet).
// Its concrete type is *mqtt.Decoder, *stomp.Decoder and so on.
func (c *Conn) Decoder() app.Decoder { return c.dec }

// Decode feeds one complete data message (text or binary, after
// unmasking and inflating) to the connection's decoder and returns the
// application records it completes; see app.Decoder for their lifetime.
// Control frames carry no application data: they are ignored.
func (c *Conn) Decode(m app.Message) []app.Record {
	if m.Opcode != app.Text && m.Opcode != app.Binary {
		return nil
	}
	if c.dec == nil {
		if c.sniffed {
			c.sniffed = false // Choose saw m: nothing to decode it with
			return nil
		}
		if c.sniff(m); c.dec == nil {
			return nil
		}
	}
	return c.dec.Decode(m)
}

// Choose makes the choice from data message m as Decode would before
// decoding it, and returns the choice, so that a caller can leave m
// undecoded for some protocols (plain JSON in summary output). A Decode(m)
// that follows decodes m without sniffing it again; a caller that does not
// decode m calls Choose or Decode next with the following message.
func (c *Conn) Choose(m app.Message) Choice {
	c.sniffed = false
	if c.dec == nil && (m.Opcode == app.Text || m.Opcode == app.Binary) {
		c.sniff(m)
		c.sniffed = c.dec == nil
	}
	return c.choice
}

// sniff looks for the protocol in m while the connection is undecided,
// installing its decoder when found.
func (c *Conn) sniff(m app.Message) {
	if c.choice.Method != Undecided {
		return
	}
	c.seen++
	p, v, why := Sniff(m, c.cfg.URL)
	if p == "" {
		if c.seen >= SniffMessages {
			c.choice = Choice{Method: NotFound, Reason: reasonGaveUp}
		}
		return
	}
	c.set(p, BySniffing, "sniffed: "+why+" in message "+strconv.Itoa(c.seen)+" ("+m.Dir.String()+")", v)
}

// Gap tells the decoder that data of direction dir is missing: call it
// for a TCP gap, and instead of Decode for a message that is truncated or
// incomplete in the capture. Decoders that hold bytes between messages
// (app.Gapper) return what they held as malformed records; the rest need
// nothing.
func (c *Conn) Gap(dir app.Dir) []app.Record {
	if g, ok := c.dec.(app.Gapper); ok {
		return g.Gap(dir)
	}
	return nil
}

// set installs the decoder for protocol p; v is a protocol-specific
// variant: the Engine.IO version, the STOMP version, the MQTT level,
// 1 for legacy graphql-ws, 1 for websockify base64.
func (c *Conn) set(p string, how Method, why string, v int) {
	c.choice = Choice{Protocol: p, Method: how, Reason: why}
	switch p {
	case SocketIO:
		if v == 0 {
			v, _ = socketIOURL(c.cfg.URL) // 0 (decide from the traffic) when the URL says nothing
		}
		d := socketio.NewDecoder(v)
		if info, ok := socketio.ParseURL(c.cfg.URL); ok {
			d.SetSID(info.SID) // a WebSocket upgraded from long-polling names its session
		}
		c.dec = d
	case STOMP:
		if v == 0 {
			v = int(stomp.VersionFromSubprotocol(c.cfg.Subprotocol))
		}
		c.dec = stomp.NewDecoder(uint8(v))
	case MQTT:
		d := mqtt.NewDecoder()
		if v != 0 {
			d.SetLevel(uint8(v))
		}
		c.dec = d
	case GraphQL:
		switch {
		case c.cfg.Subprotocol == "graphql-ws" || v == 1:
			c.dec = graphqlws.NewDecoder(true)
		case c.cfg.Subprotocol == "graphql-transport-ws":
			c.dec = graphqlws.NewDecoder(false)
		default:
			c.dec = graphqlws.NewAutoDecoder()
		}
	case JSONRPC:
		c.dec = jsonrpc.NewDecoder()
	case JSON:
		c.dec = jsonmsg.NewDecoder()
	case Tunnel:
		c.dec = tunnel.NewDecoder(v == 1 || c.cfg.Subprotocol == "base64")
	}
}

// fromSubprotocol maps a negotiated subprotocol to a protocol and variant.
func fromSubprotocol(s string) (string, int) {
	switch strings.ToLower(s) {
	case "mqtt", "mqttv3.1.1", "mqttv5":
		return MQTT, 0
	case "mqttv3.1":
		return MQTT, 3
	case "v10.stomp":
		return STOMP, stomp.V10
	case "v11.stomp":
		return STOMP, stomp.V11
	case "v12.stomp", "stomp":
		return STOMP, stomp.V12
	case "graphql-transport-ws":
		return GraphQL, 0
	case "graphql-ws":
		return GraphQL, 1
	case "jsonrpc", "json-rpc", "jsonrpc2", "jsonrpc-2.0", "jsonrpc2.0":
		return JSONRPC, 0
	case "wamp.2.json", "ocpp1.6", "ocpp2.0", "ocpp2.0.1", "json":
		return JSON, 0
	case "binary":
		return Tunnel, 0
	case "base64":
		return Tunnel, 1
	}
	return "", 0
}

// socketIOURL reports whether a handshake URL is an Engine.IO WebSocket
// transport (transport=websocket with an EIO parameter, or a /socket.io/
// or /engine.io/ path) and its EIO version.
func socketIOURL(u string) (int, bool) {
	path, query, _ := strings.Cut(u, "?")
	q, err := url.ParseQuery(query)
	if err != nil && len(q) == 0 {
		return 0, false
	}
	eio, _ := strconv.Atoi(q.Get("EIO"))
	ws := q.Get("transport") == "websocket"
	if ws && (q.Has("EIO") || strings.Contains(path, "/socket.io/") || strings.Contains(path, "/engine.io/")) {
		if eio != 3 {
			eio = 4
		}
		return eio, true
	}
	return 0, false
}

// Sniff looks at one message and names the protocol it starts, with the
// protocol variant (see set) and a short reason; "" when nothing matched.
func Sniff(m app.Message, handshakeURL string) (proto string, variant int, why string) {
	p := m.Payload
	bin := m.Opcode == app.Binary
	if bin && isMQTTConnect(p) {
		return MQTT, 0, "MQTT CONNECT"
	}
	// STOMP may travel in binary messages too (stompjs' forceBinaryWSFrames)
	if line, _, ok := strings.Cut(string(p[:min(len(p), 16)]), "\n"); ok {
		line = strings.TrimSuffix(line, "\r")
		switch line {
		case "CONNECT", "STOMP", "CONNECTED":
			return STOMP, 0, "STOMP " + line + " frame"
		case "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "MESSAGE", "RECEIPT", "ERROR", "ACK", "NACK", "BEGIN", "COMMIT", "ABORT", "DISCONNECT":
			if end := strings.TrimRight(string(p), "\r\n"); strings.HasSuffix(end, "\x00") {
				return STOMP, 0, "STOMP " + line + " frame"
			}
		}
	}
	if bin {
		if t, info, _ := tunnel.Identify(p, m.Dir); t != tunnel.Unknown {
			return Tunnel, 0, tunnel.Name(t) + " opening " + strconv.Quote(info)
		}
		return "", 0, ""
	}
	if len(p) > 1 && p[0] == '0' && p[1] == '{' {
		if sid, ok := jsonx.Member(p[1:], "sid"); ok && jsonx.IsString(sid) {
			// the version is the URL's, else the traffic's (see
			// socketio.NewDecoder)
			v, _ := socketIOURL(handshakeURL)
			return SocketIO, v, "Engine.IO open packet"
		}
	}
	if s := string(p); s == "2probe" || s == "3probe" || s == "40" || strings.HasPrefix(s, "40{") || strings.HasPrefix(s, "40/") {
		return SocketIO, 0, "Socket.IO packet " + strconv.Quote(s[:min(len(s), 8)])
	}
	// A JSON object, or an array (a JSON-RPC batch): the object, or the
	// array's first element when it is one, tells which protocol. Object
	// and Array validate what they are given, in the pass that finds the
	// members (every message of a connection is sniffed until one
	// decides).
	t := jsonx.Trim(p)
	if len(t) == 0 {
		return "", 0, ""
	}
	var obj []byte
	switch t[0] {
	case '{':
		obj = t
	case '[':
		it, err := jsonx.Array(t)
		if err != nil {
			return "", 0, ""
		}
		if first, ok := it.Next(); ok && first[0] == '{' {
			obj = first
		}
	default:
		return "", 0, ""
	}
	if obj != nil {
		it, err := jsonx.Object(obj)
		if err != nil {
			return "", 0, "" // (only t itself can be invalid here)
		}
		var rpc, typ []byte // the last of duplicate members wins
		for k, v, ok := it.Next(); ok; k, v, ok = it.Next() {
			switch string(k) {
			case "jsonrpc":
				rpc = v
			case "type":
				typ = v
			}
		}
		if string(rpc) == `"2.0"` {
			return JSONRPC, 0, "JSON-RPC 2.0 object"
		}
		switch string(typ) {
		case `"connection_init"`, `"subscribe"`:
			return GraphQL, 0, "graphql-ws " + string(typ)
		case `"start"`, `"ka"`, `"connection_terminate"`:
			return GraphQL, 1, "legacy graphql-ws " + string(typ)
		}
	}
	return JSON, 0, "JSON text"
}

// isMQTTConnect reports whether p starts like an MQTT CONNECT packet: the
// fixed header 0x10, a remaining length, and the protocol name "MQTT" (or
// 3.1's "MQIsdp"), as far as p goes. mqtt.js writes a packet in pieces, so
// its first WebSocket message is the lone byte 0x10: a message that ends
// early matches when everything in it agrees.
func isMQTTConnect(p []byte) bool {
	if len(p) == 0 || p[0] != 0x10 {
		return false
	}
	i := 1
	for ; i < len(p) && i < 5; i++ {
		if p[i]&0x80 == 0 {
			break
		}
	}
	if i >= 5 {
		return false
	}
	if i >= len(p) {
		return true // the message ends inside the remaining length
	}
	rest := string(p[i+1:])
	for _, name := range []string{"\x00\x04MQTT", "\x00\x06MQIsdp"} {
		n := min(len(rest), len(name))
		if rest[:n] == name[:n] {
			return true
		}
	}
	return false
}

// Fields returns every protocol's filter fields.
func Fields() []app.Field {
	var f []app.Field
	f = append(f, socketio.Fields()...)
	f = append(f, stomp.Fields()...)
	f = append(f, mqtt.Fields()...)
	f = append(f, graphqlws.Fields()...)
	f = append(f, jsonrpc.Fields()...)
	f = append(f, jsonmsg.Fields()...)
	f = append(f, tunnel.Fields()...)
	return f
}

// FieldsOf returns the filter fields of one protocol.
func FieldsOf(protocol string) []app.Field {
	switch protocol {
	case SocketIO:
		return socketio.Fields()
	case STOMP:
		return stomp.Fields()
	case MQTT:
		return mqtt.Fields()
	case GraphQL:
		return graphqlws.Fields()
	case JSONRPC:
		return jsonrpc.Fields()
	case JSON:
		return jsonmsg.Fields()
	case Tunnel:
		return tunnel.Fields()
	}
	return nil
}

// Anomaly returns the anomaly id for a malformed record of protocol p:
// "socketio-malformed", "mqtt-malformed", ...
func Anomaly(p string) string { return p + "-malformed" }
