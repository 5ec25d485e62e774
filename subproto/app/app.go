// Package app holds the types shared by wsdissect's application-protocol
// decoders (the packages under subproto/): the message a decoder is fed, the
// Record it returns, and the declarative Field list each protocol offers to
// filters and renderers.
//
// It is a leaf package so that every decoder and the selection in package
// subproto can import it without cycles.
package app

import (
	"time"
)

// Dir is the direction of a WebSocket message.
type Dir uint8

// Directions.
const (
	ClientToServer Dir = iota
	ServerToClient
)

// String returns "c2s" or "s2c", as in wsdissect's NDJSON.
func (d Dir) String() string {
	if d == ServerToClient {
		return "s2c"
	}
	return "c2s"
}

// Opcode is the opcode of a WebSocket data message.
type Opcode uint8

// Data opcodes (RFC 6455 section 5.2).
const (
	Text   Opcode = 1
	Binary Opcode = 2
)

// Message is one complete WebSocket data message as fed to a decoder.
// Payload is valid only during the Decode call unless the caller keeps it
// unchanged while it uses the records returned (see Decoder).
type Message struct {
	Dir     Dir
	Opcode  Opcode
	Payload []byte
	// Time is when the message's last byte was captured; JSON-RPC uses it
	// for request/response latency. The zero time is allowed.
	Time time.Time
}

// Record is one application-level record decoded from one or more
// WebSocket messages. Concrete types are pointers to structs that the
// decoder reuses: a Record is valid until the next Decode call on the same
// decoder, and may point into the payload given to that call.
type Record interface {
	// Protocol is the decoder's name and the record's NDJSON key and
	// filter-field prefix: "socketio", "stomp", "mqtt", "graphql",
	// "jsonrpc", "json" or "tunnel".
	Protocol() string
	// AppendSummary appends a one-line human summary, such as
	// `MQTT PUBLISH sensors/t1 QoS1 id=7 (12 bytes)`.
	AppendSummary(dst []byte) []byte
	// AppendJSON appends the record as one JSON object (no newlines), the
	// value of the NDJSON key Protocol().
	AppendJSON(dst []byte) []byte
	// Tree calls emit for each line of the record's detail tree, depth 0
	// for the top level; a line with an empty value heads its children.
	Tree(emit func(depth int, name, value string))
	// Malformed is "" for a well-formed record, else the reason the bytes
	// did not parse; the integrator reports it as the anomaly
	// "<protocol>-malformed".
	Malformed() string
}

// Decoder decodes the messages of one WebSocket connection, both
// directions, in capture order. It keeps per-direction state (partial
// packets, pending attachments) and per-connection state (protocol version,
// request ids). Decode never panics on any input.
//
// The returned slice and its records are valid until the next Decode call;
// they may refer to m.Payload, so the caller must not modify the payload
// before it is done with them. A message may yield no record (part of a
// packet that continues in a later message) or several.
type Decoder interface {
	Decode(m Message) []Record
}

// Holder is a Decoder that keeps bytes from one message to the next:
// unfinished packets, attachments waiting for their packet, requests
// waiting for their answer, and the buffers it reuses. The integrator
// charges Held to its memory budget and, when the budget runs out, calls
// Gap for both directions (see Gapper) and then Shrink.
type Holder interface {
	// Held returns about how many bytes the decoder keeps now.
	Held() int
	// Shrink frees what the decoder keeps for reuse or to match later
	// messages (their answers then go unmatched); unfinished packets are
	// Gap's to give up.
	Shrink()
	// HoldAtMost bounds, from now on, the unfinished packet a direction
	// may hold to n bytes (0 lifts the bound): a larger one is reported
	// malformed and skipped, as one over the decoder's own limit is, and
	// never copied. Decoders that hold no unfinished packets ignore it.
	HoldAtMost(n int)
}

// Summary returns r's one-line summary as a string.
func Summary(r Record) string { return string(r.AppendSummary(nil)) }

// JSON returns r's JSON object as a string.
func JSON(r Record) string { return string(r.AppendJSON(nil)) }

// OneLine wraps a tree callback so that names and values reach it on one
// line: control characters are escaped as \n, \r, \t or \xNN. Each
// decoder's Tree applies it, so renderers may print values as they are.
func OneLine(emit func(depth int, name, value string)) func(depth int, name, value string) {
	return func(depth int, name, value string) {
		emit(depth, escapeControls(name), escapeControls(value))
	}
}

func escapeControls(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] != 0x7f {
		i++
	}
	if i == len(s) {
		return s
	}
	const hx = "0123456789abcdef"
	b := make([]byte, 0, len(s)+8)
	b = append(b, s[:i]...)
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'x', hx[c>>4], hx[c&15])
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// Gapper is implemented by decoders that keep bytes of one direction
// between messages (MQTT packets, STOMP frames, Socket.IO attachments).
// Gap tells them that data of direction dir is missing (a TCP gap, a
// message truncated or incomplete in the capture): they drop what they
// hold and return it as malformed records, so that nothing decoded is lost
// and nothing is joined across the hole. The records follow Decode's
// lifetime rules.
type Gapper interface {
	Gap(dir Dir) []Record
}

// Pending describes the part of an application message that a decoder
// holds after a WebSocket message, waiting for later messages to complete
// it: an MQTT packet or STOMP frame split over messages, a Socket.IO
// binary packet waiting for its attachments.
type Pending struct {
	// What names what is unfinished: "MQTT PUBLISH packet", "STOMP frame",
	// "Socket.IO BINARY_EVENT".
	What string
	// Have is how much of it was seen, Want how much it needs in all (0
	// when not known yet), both in Unit ("bytes" or "attachments").
	Have, Want int
	Unit       string
	// Messages is how many WebSocket messages carried it so far.
	Messages int
}

// Pender is implemented by decoders that can hold part of an application
// message between WebSocket messages (see Gapper). Pending reports what
// direction dir holds after the last Decode call, ok false when nothing.
type Pender interface {
	Pending(dir Dir) (p Pending, ok bool)
}
