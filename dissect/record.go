// Package dissect turns the reassembled byte streams of TCP connections into
// WebSocket handshakes, frames, messages and anomaly reports.
package dissect

import (
	"iter"
	"net/netip"
	"time"

	"github.com/wsdissect/wsdissect/http1"
)

// Dir is the direction of travel of a frame or message on a WebSocket connection.
type Dir uint8

const (
	// ClientToServer is traffic sent by the side that sent the HTTP Upgrade request.
	ClientToServer Dir = 0
	// ServerToClient is traffic sent by the side that answered it.
	ServerToClient Dir = 1
)

// String returns "c2s" or "s2c", the names used in JSON output and filters.
func (d Dir) String() string {
	if d == ServerToClient {
		return "s2c"
	}
	return "c2s"
}

// Kind says which of the record's parts is set.
type Kind uint8

const (
	// KindConn is a connection record: a handshake completed or was rejected,
	// or a connection was picked up mid-stream.
	KindConn Kind = iota + 1
	// KindFrame is one WebSocket frame.
	KindFrame
	// KindMessage is one WebSocket message (a control frame is a message too).
	KindMessage
	// KindAnomaly is a problem that belongs to no single frame or message.
	KindAnomaly
	// KindEnd closes a connection that had a conn record: how it ended and
	// what each direction carried.
	KindEnd
	// KindHTTP is one plain HTTP/1.1 request and its response, with their
	// bodies, on a connection that is not WebSocket: only for the requests
	// Options.KeepHTTP selects (Engine.IO long-polling, say).
	KindHTTP
)

// String returns the JSON "type" value of the kind.
func (k Kind) String() string {
	switch k {
	case KindConn:
		return "conn"
	case KindFrame:
		return "frame"
	case KindMessage:
		return "message"
	case KindAnomaly:
		return "anomaly"
	case KindEnd:
		return "end"
	case KindHTTP:
		return "http"
	}
	return "unknown"
}

// Opcodes defined by RFC 6455 section 5.2.
const (
	OpContinuation uint8 = 0x0
	OpText         uint8 = 0x1
	OpBinary       uint8 = 0x2
	OpClose        uint8 = 0x8
	OpPing         uint8 = 0x9
	OpPong         uint8 = 0xA
)

// OpcodeName returns the lower-case name of an opcode, or "reserved".
func OpcodeName(op uint8) string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "reserved"
}

// IsControl reports whether op is a control opcode (0x8-0xF).
func IsControl(op uint8) bool { return op&0x8 != 0 }

// Severity grades an anomaly.
type Severity uint8

const (
	// SevInfo is worth knowing but not a protocol violation.
	SevInfo Severity = iota
	// SevWarning is suspicious or a violation peers commonly tolerate.
	SevWarning
	// SevError is a clear protocol violation or lost data.
	SevError
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case SevWarning:
		return "warning"
	case SevError:
		return "error"
	}
	return "info"
}

// Anomaly is one problem found in the traffic.
type Anomaly struct {
	// ID is a stable kebab-case identifier, listed in the README.
	ID string
	// Severity grades the problem.
	Severity Severity
	// Msg is a human-readable explanation.
	Msg string
	// Offset is the byte offset the problem refers to, or -1 when none applies.
	// For payload problems it is relative to the start of the (unmasked,
	// inflated) message or frame payload; for stream problems it is the offset
	// in the direction's byte stream.
	Offset int64
}

// Header is one HTTP header field; Name is lower-case and repeated fields are
// joined with ", ". It is the http1 layer's type.
type Header = http1.Header

// Conn describes one TCP connection that carries (or tried to carry) WebSocket.
// A Conn is shared by every record of the connection and is updated as the
// handshake progresses; renderers must treat it as read-only.
type Conn struct {
	// Stream is the TCP connection number, as Wireshark's tcp.stream.
	Stream uint64
	// Client and Server are the endpoints; the client sent the Upgrade request
	// (or, mid-stream, masked its frames).
	Client, Server netip.AddrPort
	// Midstream is true when no handshake was seen.
	Midstream bool
	// FirstPacket is the connection's first packet in the capture (its SYN
	// when that was captured): with Client and Server it names the TCP
	// connection, and the packets from it up to a record are what the
	// record needs to be decoded again.
	FirstPacket uint64

	// Method and Path are from the request line; Path is the request target.
	Method, Path string
	// Host, Origin and UserAgent are from the request headers.
	Host, Origin, UserAgent string
	// HasCookie is true when the request carried a Cookie header.
	HasCookie bool
	// Version is the Sec-WebSocket-Version request header.
	Version string
	// Key is the Sec-WebSocket-Key request header; Accept the response's
	// Sec-WebSocket-Accept.
	Key, Accept string
	// AcceptValid is true when Accept matches Key (RFC 6455 section 4.2.2).
	AcceptValid bool
	// Status and Reason are the HTTP response status code and reason phrase.
	Status int
	Reason string
	// SubprotocolsOffered and ExtensionsOffered are what the client offered,
	// one element per comma-separated item, as sent.
	SubprotocolsOffered, ExtensionsOffered []string
	// Subprotocol is what the server selected.
	Subprotocol string
	// Extensions are the server's selected extensions, one per item, as sent.
	Extensions []string
	// RequestHeaders and ResponseHeaders are all header fields in order of
	// first appearance.
	RequestHeaders, ResponseHeaders []Header
	// Request and Response are the raw header blocks (request/status line and
	// headers, up to and including the blank line).
	Request, Response string
	// RequestPacket and ResponsePacket are the packets that completed the
	// request and response headers; RequestTime and ResponseTime their times.
	RequestPacket, ResponsePacket uint64
	RequestTime, ResponseTime     time.Time
	// Deflate is set when permessage-deflate (or x-webkit-deflate-frame) was
	// negotiated.
	Deflate *DeflateParams
	// HTTP2 is true when the connection speaks HTTP/2: the record belongs
	// to a WebSocket session on an HTTP/2 stream (RFC 8441), or, with
	// H2Stream 0, to the HTTP/2 connection itself. Method is then "CONNECT",
	// RequestHeaders and ResponseHeaders hold the pseudo-headers first,
	// Request and Response show the decoded header blocks as "name: value"
	// lines ending in "\n", and Key, Accept and AcceptValid are unused.
	HTTP2 bool
	// H2Stream is the HTTP/2 stream id of the session (0 for records of the
	// HTTP/2 connection as a whole and for HTTP/1.1), or, for a connection
	// in a tunnel on an HTTP/2 stream to a proxy (Proxy.H2Stream) that is
	// not HTTP/2 itself, the tunnel's stream.
	H2Stream uint32
	// TLS is set when the connection runs over TLS (wss://).
	TLS *TLS
	// Proxy is set when the connection runs in a tunnel through an HTTP
	// or SOCKS proxy; Server is then the proxy.
	Proxy *ProxyTunnel
	// Tunnel names the outermost encapsulation ("vxlan", "gre", "mpls"...)
	// the connection's first packet was captured in (netpkt.Tunnel), ""
	// when none. TunnelID is its identifier when HasTunnelID: the VNI,
	// GRE key, TEID... that TunnelIDName names.
	Tunnel       string
	TunnelIDName string
	HasTunnelID  bool
	TunnelID     uint32
}

// ProxyTunnel is a proxy tunnel a connection runs in.
type ProxyTunnel struct {
	// Target is what the client asked the proxy to connect to: the
	// CONNECT request's target, or the SOCKS request's address or host
	// name, as host:port.
	Target string
	// Protocol is "HTTP" (a CONNECT request), "HTTPS" (a CONNECT request
	// sent to the proxy over TLS, which the key log decrypted), "SOCKS4"
	// or "SOCKS5".
	Protocol string
	// Authorization is the CONNECT request's Proxy-Authorization header
	// (HTTP); User and Password what the client authenticated with to a
	// SOCKS proxy (the SOCKS 4 user id; the SOCKS 5 user name and
	// password). They crossed the network in clear unless the CONNECT
	// went to an HTTPS proxy or through one (see Outer).
	Authorization, User, Password string
	// Outer is the tunnel this one runs in when tunnels nest (a CONNECT
	// to a second proxy through the first), nil otherwise.
	Outer *ProxyTunnel
	// H2Stream is the HTTP/2 stream the CONNECT was sent on when the
	// client spoke HTTP/2 to the proxy (RFC 9113 8.5), 0 over HTTP/1.1.
	H2Stream uint32
	// TLS is the decrypted TLS session to the proxy the CONNECT was sent
	// in (Protocol "HTTPS"), nil otherwise.
	TLS *TLS
}

// TunnelStream returns the HTTP/2 stream of the proxy tunnel the
// connection runs in when it speaks HTTP/2 itself (WebSockets over HTTP/2
// to a server reached through a proxy that speaks HTTP/2, whose sessions
// have their own H2Stream), 0 otherwise. Stream, TunnelStream and H2Stream
// identify a session.
func (c *Conn) TunnelStream() uint32 {
	if !c.HTTP2 {
		return 0
	}
	for p := range c.Proxies() {
		if p.H2Stream != 0 {
			return p.H2Stream
		}
	}
	return 0
}

// maxProxyChain bounds the tunnels Proxies yields (the dissector nests
// no more than a few).
const maxProxyChain = 16

// Proxies yields the proxy tunnels the connection runs in, innermost
// (Proxy) first, then each one's Outer.
func (c *Conn) Proxies() iter.Seq[*ProxyTunnel] { return c.Proxy.Chain() }

// Chain yields p and the tunnels it runs in (Outer), outward; nothing for
// a nil p.
func (p *ProxyTunnel) Chain() iter.Seq[*ProxyTunnel] {
	return func(yield func(*ProxyTunnel) bool) {
		for q, n := p, 0; q != nil && n < maxProxyChain; q, n = q.Outer, n+1 {
			if !yield(q) {
				return
			}
		}
	}
}

// HTTPVersion returns "2" for a WebSocket over HTTP/2 and "1.1" otherwise.
func (c *Conn) HTTPVersion() string {
	if c.HTTP2 {
		return "2"
	}
	return "1.1"
}

// TLSListing reports whether c is that of a record listing a TLS
// connection that was not dissected: no HTTP handshake was decoded from it
// (not decrypted, or not WebSocket).
func (c *Conn) TLSListing() bool {
	return c.TLS != nil && c.Method == "" && c.Status == 0 && !c.Midstream
}

// Upgraded reports whether the handshake succeeded: a 101 response over
// HTTP/1.1, a 2xx response to an extended CONNECT over HTTP/2.
func (c *Conn) Upgraded() bool {
	if c.HTTP2 {
		return c.Status >= 200 && c.Status < 300
	}
	return c.Status == 101
}

// TLS describes the TLS layer of a connection.
type TLS struct {
	// Version is "TLS 1.2", "TLS 1.3", ... ("" before the ServerHello).
	Version string
	// Cipher is the negotiated cipher suite's IANA name.
	Cipher string
	// SNI is the client's server name indication.
	SNI string
	// ALPN is the negotiated application protocol ("" when none, or when it
	// is encrypted and was not decrypted: TLS 1.3).
	ALPN string
	// ALPNOffered lists the protocols the client offered.
	ALPNOffered []string
	// Decrypted is true when records were decrypted.
	Decrypted bool
	// Reason says why (part of) the connection was not decrypted or
	// dissected.
	Reason string
	// ClientBytes and ServerBytes count the TLS bytes each way; they are set
	// on the record that lists a connection that was not dissected.
	ClientBytes, ServerBytes uint64
	// ClientRandom is the ClientHello's random, which names the
	// connection's secrets in key logs (zero before the ClientHello).
	ClientRandom [32]byte
}

// DeflateParams are the negotiated permessage-deflate parameters (RFC 7692).
type DeflateParams struct {
	// Name is the extension token as selected ("permessage-deflate" or
	// "x-webkit-deflate-frame").
	Name string
	// ServerNoContextTakeover and ClientNoContextTakeover reset the sliding
	// window after each message in that direction.
	ServerNoContextTakeover, ClientNoContextTakeover bool
	// ServerMaxWindowBits and ClientMaxWindowBits are 8..15 (15 when absent).
	ServerMaxWindowBits, ClientMaxWindowBits int
}

// Frame is one WebSocket frame.
type Frame struct {
	// Dir is the direction of travel.
	Dir Dir
	// Fin, RSV1-3 and Masked are the header bits.
	Fin, RSV1, RSV2, RSV3, Masked bool
	// Opcode is the 4-bit opcode.
	Opcode uint8
	// LenCode is the 7-bit length field (126 and 127 select extended lengths).
	LenCode uint8
	// Len is the payload length from the header, exactly as sent.
	Len uint64
	// Wire counts the payload bytes of the frame that were in the capture:
	// Len for a complete frame, less for an incomplete one (whose Len may
	// be any 64-bit number a sender or garbage put there).
	Wire uint64
	// HeaderLen is the header size in bytes (2 to 14).
	HeaderLen int
	// MaskKey is the masking key when Masked.
	MaskKey [4]byte
	// MessageOpcode is the opcode of the message the frame belongs to: the
	// first frame's opcode for a data frame (0 when that frame is not in the
	// capture), the frame's own for a control frame.
	MessageOpcode uint8
	// Offset is the offset of the frame's first header byte in its direction's
	// byte stream (0 is the first byte after the handshake).
	Offset uint64
	// Payload is the retained payload: unmasked and, for a compressed message,
	// this frame's share of the inflated message. It is at most the
	// --max-message limit long; Truncated says when bytes were dropped.
	Payload []byte
	// Truncated is true when Payload holds fewer bytes than were decoded.
	Truncated bool
	// Preview is true when Payload holds only the first bytes of the
	// frame's payload, as Options.PreviewBytes asked (not a truncation:
	// Len is the whole length).
	Preview bool
	// Incomplete is true when some of the frame's bytes are missing from the
	// capture (a TCP gap or the end of the capture).
	Incomplete bool
	// Compressed is true when the frame belongs to a compressed message.
	Compressed bool
	// NotInflated is true when the frame's compressed payload could not be
	// inflated (deflate-context-lost, decompression-failed): Payload holds
	// the compressed bytes as sent (unmasked), after whatever was inflated
	// before the failure.
	NotInflated bool
	// IsText is true when the frame belongs to a text message (or is a close
	// frame, whose reason is text).
	IsText bool
	// Packets are the packets that carried the frame, in stream order.
	Packets []uint64
	// HasCloseCode, CloseCode and CloseReason describe a close frame's payload.
	HasCloseCode bool
	CloseCode    uint16
	CloseReason  string
	// Reassembled is set on the last frame of a message of several frames
	// (frame records only): the whole message, reassembled (Payload up to
	// --max-message), as Wireshark shows it on the last fragment.
	Reassembled *Message
	// MessageIndex numbers the data messages of this direction from 0; it is
	// the message this frame belongs to (control frames have their own).
	MessageIndex uint64
}

// Message is one WebSocket message; a control frame is a message of one frame.
type Message struct {
	// Dir is the direction of travel.
	Dir Dir
	// Opcode is the opcode of the first frame.
	Opcode uint8
	// Len is the full payload length after unmasking and inflating, even when
	// Payload was truncated.
	Len uint64
	// Frames counts the frames of the message.
	Frames int
	// FirstPacket is the packet that carried the first frame's first byte.
	FirstPacket uint64
	// Payload is the retained payload (at most --max-message bytes).
	Payload []byte
	// Truncated is true when Payload holds fewer than Len bytes.
	Truncated bool
	// Preview is true when Payload holds only the first bytes of the
	// message, as Options.PreviewBytes asked (not a truncation).
	Preview bool
	// Incomplete is true when part of the message is not in the capture.
	Incomplete bool
	// Compressed is true when the message was sent compressed (RSV1).
	Compressed bool
	// NotInflated is true when the message could not be inflated: Payload
	// and Len are the compressed bytes as sent (unmasked), after whatever
	// was inflated before the failure.
	NotInflated bool
	// HasCloseCode, CloseCode and CloseReason describe a close message.
	HasCloseCode bool
	CloseCode    uint16
	CloseReason  string
	// Index numbers the messages of this direction, data and control
	// alike, from 0 in the order they are completed (the order of their
	// records).
	Index uint64
}

// Record is what the dissector emits: a connection, frame, message or anomaly.
// Records and everything they point to are only valid during the Sink call
// that receives them; a sink that keeps data must copy it.
type Record struct {
	// Kind says which of Frame, Message or Anomalies is the subject.
	Kind Kind
	// Conn is the connection the record belongs to; never nil.
	Conn *Conn
	// Packet is the packet in which the record's last byte arrived.
	Packet uint64
	// Time is that packet's capture time.
	Time time.Time
	// Dir is the direction for frame, message and direction-bound anomaly
	// records; HasDir is false for connection-wide anomalies.
	Dir    Dir
	HasDir bool
	// Frame is set for KindFrame.
	Frame *Frame
	// Message is set for KindMessage.
	Message *Message
	// End is set for KindEnd.
	End *End
	// HTTP is set for KindHTTP.
	HTTP *HTTPExchange
	// Anomalies lists the problems found on this record; a KindAnomaly record
	// carries exactly one.
	Anomalies []Anomaly
	// Layers are what decoders of further layers (an application protocol
	// carried in a message, say) made of the record, in the order they were
	// attached. Like the record, they are valid during the sink call only,
	// except on a conn record: there they stay valid until the
	// connection's end record, because a filter holds a conn record back
	// until a later record of its connection matches.
	Layers []Layer
}

// Layer is a decoded protocol layer attached to a record by a decoder of a
// layer above (or beside) WebSocket. Renderers show it without knowing its
// type; its filter fields are declared in the field registry by the package
// that decodes it, with getters that find it in Record.Layers.
type Layer interface {
	// LayerName is the layer's short name ("socketio", "mqtt"): the key of
	// its object in NDJSON and the title of its tree.
	LayerName() string
	// AppendJSON appends the layer's content as one JSON value.
	AppendJSON(b []byte) []byte
	// AppendSummary appends a one-line description for the summary line,
	// as plain text (the renderer escapes control characters).
	AppendSummary(b []byte) []byte
	// TreeLines calls line for each line of the layer's tree; depth 0 lines
	// stand directly under the layer's title.
	TreeLines(line func(depth int, text string))
}

// FindLayer returns the first layer of r named name, or nil.
func (r *Record) FindLayer(name string) Layer {
	for _, l := range r.Layers {
		if l.LayerName() == name {
			return l
		}
	}
	return nil
}

// EndReason says how a connection ended.
type EndReason uint8

// How connections end.
const (
	// EndFIN: the TCP connection was closed with FIN.
	EndFIN EndReason = iota + 1
	// EndRST: a RST ended it.
	EndRST
	// EndIdle: it was given up after being idle (see --idle-timeout).
	EndIdle
	// EndEvicted: it was dropped to make room (--max-conns, memory, or, on
	// an HTTP/2 stream, more streams at once than are tracked).
	EndEvicted
	// EndCaptureEnd: the capture ended while it was open.
	EndCaptureEnd
	// EndReused: a new connection reused its addresses and ports.
	EndReused
	// EndH2Stream: a WebSocket over HTTP/2, or the proxy tunnel on an
	// HTTP/2 stream the connection ran in, ended with END_STREAM both ways.
	EndH2Stream
	// EndH2Reset: RST_STREAM ended it (RSTFrom says who sent it).
	EndH2Reset
	// EndH2GoAway: GOAWAY ended it.
	EndH2GoAway
)

// String returns the name used in NDJSON: fin, rst, idle, evicted,
// capture-end, reused, h2-end-stream, h2-rst-stream or h2-goaway.
func (e EndReason) String() string {
	switch e {
	case EndFIN:
		return "fin"
	case EndRST:
		return "rst"
	case EndIdle:
		return "idle"
	case EndEvicted:
		return "evicted"
	case EndCaptureEnd:
		return "capture-end"
	case EndReused:
		return "reused"
	case EndH2Stream:
		return "h2-end-stream"
	case EndH2Reset:
		return "h2-rst-stream"
	case EndH2GoAway:
		return "h2-goaway"
	}
	return "unknown"
}

// DirTotals counts what one direction of a connection carried.
type DirTotals struct {
	// Frames and Messages count the frames and messages (control frames
	// are messages too), including incomplete ones.
	Frames, Messages uint64
	// WireBytes sums the frame payload bytes the capture carried (masked,
	// compressed, as sent); Bytes sums the messages' lengths after
	// inflating. Both stop at the largest uint64 instead of wrapping.
	WireBytes, Bytes uint64
}

// End describes how a connection ended.
type End struct {
	// Reason says how the TCP connection ended.
	Reason EndReason
	// FIN says which directions sent a FIN; FirstFIN is the first of them
	// when HasFIN.
	FIN      [2]bool
	FirstFIN Dir
	HasFIN   bool
	// RSTFrom is the direction that sent the first RST, when HasRST.
	RSTFrom Dir
	HasRST  bool
	// CloseFrom is the direction that sent the first WebSocket close frame,
	// when HasClose; CloseCode is its status code when HasCloseCode.
	CloseFrom    Dir
	HasClose     bool
	CloseCode    uint16
	HasCloseCode bool
	// Start is the time of the connection's first record (its request, or
	// the first frame of a connection picked up mid-stream).
	Start time.Time
	// Totals are per direction, indexed by Dir.
	Totals [2]DirTotals
}

// Sink receives records in the order they complete. Records are only valid
// during the call.
type Sink interface {
	Emit(r *Record) error
}

// MaxHTTPBody is how many bytes of each body an HTTPExchange keeps.
const MaxHTTPBody = 256 << 10

// HTTPExchange is one plain HTTP/1.1 request and its response (a KindHTTP
// record). Conn of its record has only the connection's stream and
// endpoints: the exchange is not a WebSocket handshake.
type HTTPExchange struct {
	// Method, Target and Host are from the request.
	Method, Target, Host string
	// Status is the response's status code.
	Status int
	// Request and Response are the raw header blocks.
	Request, Response string
	// RequestBody and ResponseBody are the bodies (de-chunked), at most
	// MaxHTTPBody bytes each (4 KiB while the memory budget is more than
	// half used); the Truncated flags say when more was sent or when part
	// of it is not in the capture.
	RequestBody, ResponseBody           []byte
	RequestTruncated, ResponseTruncated bool
	// RequestPacket and RequestTime are of the packet that completed the
	// request head; the record's Packet and Time are the response's end.
	RequestPacket uint64
	RequestTime   time.Time
}
