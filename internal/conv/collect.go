// Package conv collects a capture's WebSocket sessions and messages from
// dissect records into per-connection summaries and transcripts, and writes
// them as transcripts, files, HAR and Zeek logs.
//
// A Collector is a dissect.Sink fed frame records (not message records: it
// needs each frame's size on the wire to count wire bytes and compression).
// It assembles messages from the frames itself, keeps a Session per
// connection with its statistics, and keeps the payloads of the connections
// Options.Keep selects, so a transcript of one stream in a huge capture holds
// only that stream. Records are only valid during Emit: everything kept is
// copied.
package conv

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/communityid"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// ErrMessageRecord is returned by Emit for message records: a Collector
// assembles messages from frame records itself.
var ErrMessageRecord = errors.New("conv: the collector needs frame records, not message records")

// maxRTTSamples bounds the ping round-trip samples kept per connection for
// the median; count, minimum and maximum stay exact beyond it.
const maxRTTSamples = 4096

// maxPendingPings bounds the unanswered pings remembered per connection.
const maxPendingPings = 64

// ID names a session: the TCP connection's stream number and, for a
// WebSocket over HTTP/2 (RFC 8441), the HTTP/2 stream that carries it (0
// over HTTP/1.1, where a connection carries one session). Several sessions
// of one HTTP/2 connection share Stream.
type ID struct {
	Stream uint64
	// Tunnel is the HTTP/2 stream of the proxy tunnel an HTTP/2
	// connection runs in (dissect.Conn.TunnelStream), 0 otherwise.
	Tunnel   uint32
	H2Stream uint32
}

// IDOf returns the ID of the session c belongs to.
func IDOf(c *dissect.Conn) ID {
	return ID{Stream: c.Stream, Tunnel: c.TunnelStream(), H2Stream: c.H2Stream}
}

// String returns the ID as the conns table shows it and follow takes it:
// "7", "7/3" for HTTP/2 stream 3 of TCP stream 7, or "7/5/3" for HTTP/2
// stream 3 of the connection in the proxy tunnel on HTTP/2 stream 5.
func (id ID) String() string {
	s := strconv.FormatUint(id.Stream, 10)
	if id.Tunnel != 0 {
		s += "/" + strconv.FormatUint(uint64(id.Tunnel), 10)
	}
	if id.H2Stream != 0 {
		s += "/" + strconv.FormatUint(uint64(id.H2Stream), 10)
	}
	return s
}

// ParseID parses the form String returns.
func ParseID(text string) (ID, error) {
	parts := strings.Split(text, "/")
	n, err := strconv.ParseUint(parts[0], 10, 64)
	if err != nil || len(parts) > 3 {
		return ID{}, fmt.Errorf("%q is not a stream number (N, N/M for HTTP/2 stream M of TCP stream N, or N/T/M for HTTP/2 stream M in the proxy tunnel on its stream T)", text)
	}
	id := ID{Stream: n}
	var ids []uint32
	for _, p := range parts[1:] {
		m, err := strconv.ParseUint(p, 10, 31)
		if err != nil || m == 0 {
			return ID{}, fmt.Errorf("%q: %q is not an HTTP/2 stream id (1 to 2^31-1)", text, p)
		}
		ids = append(ids, uint32(m))
	}
	switch len(ids) {
	case 1:
		id.H2Stream = ids[0]
	case 2:
		id.Tunnel, id.H2Stream = ids[0], ids[1]
	}
	return id, nil
}

// Options configure a Collector.
type Options struct {
	// Keep reports whether the messages of a session are kept, payloads
	// included, in Session.Messages; nil keeps none.
	Keep func(id ID) bool
	// OnMessage, when set, is called with every completed message of every
	// connection, in completion order (the message and its payload are valid
	// during the call only, unless the session keeps them). An error stops
	// the run: Emit returns it.
	OnMessage func(s *Session, m *Message) error
	// Payloads, when set, says which sessions' data messages OnMessage
	// gets with their payloads; the others' payloads are not assembled (nil
	// in OnMessage). Nil means all.
	Payloads func(id ID) bool
}

// Message is one WebSocket message, assembled from its frames; a control
// frame is a message of one frame.
type Message struct {
	// N numbers the messages of the connection from 1, both directions
	// together, in completion order.
	N int
	// Dir is the direction of travel.
	Dir dissect.Dir
	// Opcode is the first frame's opcode (0 when that frame is missing).
	Opcode uint8
	// Time is the capture time of the packet that completed the message;
	// FirstTime of the packet with its first frame.
	Time, FirstTime time.Time
	// FirstPacket and Packet are the packets of its first and last frame.
	FirstPacket, Packet uint64
	// Len is the payload length after unmasking and inflating; WireLen the
	// bytes of its frames as sent (headers and compressed payloads). For a
	// message the capture holds only part of, both count what it holds
	// where that is known.
	Len, WireLen uint64
	// Frames counts its frames.
	Frames int
	// Payload is the retained payload (unmasked, inflated); nil unless the
	// connection is kept or during OnMessage.
	Payload []byte
	// Text is true for text messages (and close messages, whose reason is text).
	Text bool
	// Compressed, Truncated (payload cut at --max-message) and Incomplete
	// (bytes missing from the capture) as in dissect.Message.
	Compressed, Truncated, Incomplete bool
	// HasCloseCode, CloseCode and CloseReason describe a close message.
	HasCloseCode bool
	CloseCode    uint16
	CloseReason  string
	// Anomalies are the ids of the anomalies on its frames.
	Anomalies []string
}

// DirStats counts one direction of a session.
type DirStats struct {
	// Frames and Messages count frames and messages (control frames are
	// messages); Text, Binary, Ping, Pong and Close count messages by opcode.
	Frames, Messages                uint64
	Text, Binary, Ping, Pong, Close uint64
	// WireBytes are the WebSocket bytes as sent: frame headers plus payloads
	// (compressed payloads as compressed).
	WireBytes uint64
	// DataWire is the payload bytes of data frames as sent; DataBytes the
	// same payloads after inflating. DataBytes/DataWire is the compression
	// ratio. A compressed message cut off at --max-message counts what was
	// inflated.
	DataWire, DataBytes uint64
	// Compressed counts compressed messages.
	Compressed uint64
	// Largest is the longest message (after inflating).
	Largest uint64
}

// Ratio returns the compression ratio of the direction's data payloads
// (inflated bytes per byte sent), or 0 when nothing was sent.
func (d *DirStats) Ratio() float64 {
	if d.DataWire == 0 {
		return 0
	}
	return float64(d.DataBytes) / float64(d.DataWire)
}

// Close is the first close frame one side sent.
type Close struct {
	// Seen is false when the side sent no close frame.
	Seen bool
	// Time and Packet are when it arrived.
	Time   time.Time
	Packet uint64
	// HasCode, Code and Reason are its payload.
	HasCode bool
	Code    uint16
	Reason  string
}

// RTTs summarises the ping-to-pong round trips of a session: a pong answers
// the oldest unanswered ping of the other side with the same payload.
type RTTs struct {
	// Count, Min and Max cover every matched pair.
	Count    int
	Min, Max time.Duration
	// samples holds up to maxRTTSamples round trips for the median.
	samples []time.Duration
}

// Median returns the median round trip (of the first 4096 when there were
// more), or 0 when there was none.
func (r *RTTs) Median() time.Duration {
	if len(r.samples) == 0 {
		return 0
	}
	s := slices.Clone(r.samples)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r *RTTs) add(d time.Duration) {
	if r.Count == 0 || d < r.Min {
		r.Min = d
	}
	if r.Count == 0 || d > r.Max {
		r.Max = d
	}
	r.Count++
	if len(r.samples) < maxRTTSamples {
		r.samples = append(r.samples, d)
	}
}

// End describes how the TCP connection ended, as far as the records tell.
type End struct {
	// Reason is "fin", "rst", "idle", "evicted", "reused" or "capture-end"
	// (over HTTP/2 "h2-end-stream", "h2-rst-stream" or "h2-goaway", how the
	// session's stream ended) once the dissector reports the end (its end
	// record, or Collector.Ended), followed for fin and rst by ":" and the
	// direction that sent the first FIN or the RST ("fin:s2c"); empty while
	// the records do not tell.
	Reason string
	// Time and Packet are when it ended (zero when unknown).
	Time   time.Time
	Packet uint64
}

// Session is one WebSocket connection (or, over HTTP/2, one session of a
// connection): its handshake, statistics and, when kept, its messages.
type Session struct {
	// Stream is the TCP connection number (Wireshark's tcp.stream).
	Stream uint64
	// H2Stream is the HTTP/2 stream id of a WebSocket over HTTP/2
	// (Wireshark's http2.streamid), or of the proxy tunnel a connection
	// over HTTP/1.1 runs in (dissect.Conn.H2Stream), 0 otherwise; HTTP2
	// says which; TunnelStream is that of an HTTP/2 connection
	// (ID.Tunnel).
	H2Stream     uint32
	HTTP2        bool
	TunnelStream uint32
	// Client and Server are the endpoints; CommunityID is the connection's
	// Community ID v1.
	Client, Server netip.AddrPort
	CommunityID    string
	// Midstream is true when no handshake was seen.
	Midstream bool
	// TLS describes the TLS layer of a connection over TLS (wss://); nil
	// in clear.
	TLS *TLSInfo
	// Status and StatusText are the HTTP status code and reason phrase of
	// the upgrade response (0 and "" when none).
	Status     int
	StatusText string
	// Method, Host, Path, Origin and UserAgent are from the request.
	Method, Host, Path, Origin, UserAgent string
	// Proxy and ProxyProtocol are the CONNECT target and the protocol
	// (HTTP, SOCKS4, SOCKS5) of the proxy tunnel the session runs in (""
	// for none).
	Proxy, ProxyProtocol string
	// Tunnel is the encapsulation the session was captured in (Conn.Tunnel),
	// TunnelID its identifier (nil when it has none).
	Tunnel   string
	TunnelID *uint32
	// SubprotocolsOffered, ExtensionsOffered: what the client offered;
	// Subprotocol and Extensions what the server selected.
	SubprotocolsOffered, ExtensionsOffered []string
	Subprotocol                            string
	Extensions                             []string
	// Request and Response are the raw HTTP header blocks of the handshake;
	// RequestHeaders and ResponseHeaders its header fields.
	Request, Response               string
	RequestHeaders, ResponseHeaders []dissect.Header
	// RequestTime and ResponseTime are when the request and the 101 arrived.
	RequestTime, ResponseTime time.Time
	// Start is the request's time (or, without a handshake, the first
	// record's); Last the time of the last record.
	Start, Last time.Time
	// FirstPacket and LastPacket are the packets of the first and last record.
	FirstPacket, LastPacket uint64
	// Dirs are the per-direction counts, indexed by dissect.Dir.
	Dirs [2]DirStats
	// RTT summarises ping-to-pong round trips; UnansweredPings counts pings
	// never answered, UnmatchedPongs pongs that answered no ping seen.
	RTT                             RTTs
	UnansweredPings, UnmatchedPongs int
	// Closes are the first close frame of each direction; FirstCloser is the
	// direction that sent a close first (valid when either Closes[i].Seen).
	Closes      [2]Close
	FirstCloser dissect.Dir
	// Anomalies counts the anomalies on the connection's records (over
	// HTTP/2, the session's and those of the HTTP/2 connection itself);
	// AnomalyIDs counts them by id.
	Anomalies  int
	AnomalyIDs map[string]int
	// End is how the TCP connection ended, when the records tell.
	End End
	// Messages are the kept messages, in completion order.
	Messages []Message

	accepted bool // the last handshake was accepted (dissect.Conn.Upgraded)
	tlsOnly  bool // a TLS connection listed undissected (dissect.Conn.TLSListing)
	kept     bool // messages are kept in Messages
	payloads bool // OnMessage gets the payloads of data messages
	n        int
	partial  [2]partial
	pings    []ping
}

// Accepted reports whether the server accepted the handshake: 101 over
// HTTP/1.1, 2xx for an extended CONNECT over HTTP/2.
func (s *Session) Accepted() bool { return s.accepted }

// TLSInfo is what a session's records say of its TLS layer.
type TLSInfo struct {
	// Version ("TLS 1.3"), Cipher (IANA name), SNI and ALPN (negotiated)
	// as the handshake said; empty when unknown.
	Version, Cipher, SNI, ALPN string
	// Decrypted is true when records were decrypted; Reason says why the
	// connection was not (or not wholly) decrypted or dissected.
	Decrypted bool
	Reason    string
	// ClientBytes and ServerBytes are the TLS bytes each way of a
	// connection listed without a dissected handshake.
	ClientBytes, ServerBytes uint64
}

// TLSOnly reports whether the session is a TLS connection listed without
// a dissected handshake (not decrypted, or not WebSocket).
func (s *Session) TLSOnly() bool { return s.tlsOnly }

// NotDecrypted reports whether the session is a TLS connection that was not
// decrypted (TLS.Reason says why).
func (s *Session) NotDecrypted() bool { return s.tlsOnly && s.TLS != nil && !s.TLS.Decrypted }

// NotDecrypted counts the sessions of ss that are TLS connections not
// decrypted, by reason.
func NotDecrypted(ss []*Session) tlsdecrypt.Tally {
	t := tlsdecrypt.Tally{}
	for _, s := range ss {
		if s.NotDecrypted() {
			t.Add(s.TLS.Reason)
		}
	}
	return t
}

// ID returns the session's name.
func (s *Session) ID() ID { return ID{Stream: s.Stream, Tunnel: s.TunnelStream, H2Stream: s.H2Stream} }

// Duration is the time from Start to Last.
func (s *Session) Duration() time.Duration { return s.Last.Sub(s.Start) }

// Bytes returns the wire bytes of both directions.
func (s *Session) Bytes() uint64 { return s.Dirs[0].WireBytes + s.Dirs[1].WireBytes }

// Msgs returns the messages of both directions.
func (s *Session) Msgs() uint64 { return s.Dirs[0].Messages + s.Dirs[1].Messages }

// Largest returns the longest message of either direction.
func (s *Session) Largest() uint64 { return max(s.Dirs[0].Largest, s.Dirs[1].Largest) }

// WSEnd says how the WebSocket closing handshake went: "closed" (both sides
// sent close), "c2s-closed" or "s2c-closed" (only that side did), or "" (no
// close frame).
func (s *Session) WSEnd() string {
	switch {
	case s.Closes[0].Seen && s.Closes[1].Seen:
		return "closed"
	case s.Closes[0].Seen:
		return "c2s-closed"
	case s.Closes[1].Seen:
		return "s2c-closed"
	}
	return ""
}

// partial is a data message in progress in one direction.
type partial struct {
	active bool
	m      Message
	buf    []byte // scratch payload for messages that are not kept
}

// ping is an unanswered ping.
type ping struct {
	dir     dissect.Dir
	t       time.Time
	payload string
}

// Collector is a dissect.Sink that builds Sessions. It is not safe for
// concurrent use; feed it from one engine.Run.
type Collector struct {
	opts     Options
	sessions []*Session
	byID     map[ID]*Session
	// h2Anomalies counts, by TCP stream, the anomalies of HTTP/2
	// connections themselves, added to each of their sessions by Finish.
	h2Anomalies map[uint64]map[string]int
}

// New returns an empty Collector.
func New(opts Options) *Collector {
	return &Collector{opts: opts, byID: make(map[ID]*Session)}
}

// Sessions returns the sessions in order of first appearance.
func (c *Collector) Sessions() []*Session { return c.sessions }

// Session returns the session named id, or nil.
func (c *Collector) Session(id ID) *Session { return c.byID[id] }

// idOf returns the ID of the session rec belongs to.
func idOf(rec *dissect.Record) ID { return IDOf(rec.Conn) }

// session returns the session of rec's connection, creating it.
func (c *Collector) session(rec *dissect.Record) *Session {
	id := idOf(rec)
	if s := c.byID[id]; s != nil {
		return s
	}
	cn := rec.Conn
	s := &Session{
		Stream: cn.Stream, H2Stream: cn.H2Stream, HTTP2: cn.HTTP2, TunnelStream: cn.TunnelStream(), Client: cn.Client, Server: cn.Server,
		CommunityID: communityid.V1(cn.Client, cn.Server, communityid.ProtoTCP, 0),
		Start:       rec.Time, FirstPacket: rec.Packet,
	}
	s.kept = c.opts.Keep != nil && c.opts.Keep(id)
	s.payloads = c.opts.OnMessage != nil && (c.opts.Payloads == nil || c.opts.Payloads(id))
	c.byID[id] = s
	c.sessions = append(c.sessions, s)
	return s
}

// Emit implements dissect.Sink.
func (c *Collector) Emit(rec *dissect.Record) error {
	if rec.Conn == nil {
		return nil
	}
	if rec.Kind == dissect.KindMessage {
		return ErrMessageRecord
	}
	if rec.Kind == dissect.KindEnd && rec.End != nil {
		if s := c.byID[idOf(rec)]; s != nil && !rec.End.Start.IsZero() && rec.End.Start.Before(s.Start) {
			// A connection listed when it ended (TLS not decrypted) started
			// before its conn record.
			s.Start = rec.End.Start
		}
		c.Ended(idOf(rec), endReason(rec.End), rec.Packet, rec.Time)
		return nil
	}
	if rec.Conn.HTTP2 && rec.Conn.H2Stream == 0 {
		// An anomaly of an HTTP/2 connection itself (preface, settings,
		// framing, lost bytes): no session of its own.
		if len(rec.Anomalies) > 0 {
			if c.h2Anomalies == nil {
				c.h2Anomalies = make(map[uint64]map[string]int)
			}
			m := c.h2Anomalies[rec.Conn.Stream]
			if m == nil {
				m = make(map[string]int)
				c.h2Anomalies[rec.Conn.Stream] = m
			}
			for _, a := range rec.Anomalies {
				m[a.ID]++
			}
		}
		return nil
	}
	s := c.session(rec)
	s.Last, s.LastPacket = rec.Time, rec.Packet
	for _, a := range rec.Anomalies {
		s.countAnomaly(a.ID, 1)
	}
	switch rec.Kind {
	case dissect.KindConn:
		c.conn(s, rec)
	case dissect.KindFrame:
		if rec.Frame != nil {
			return c.frame(s, rec)
		}
	}
	return nil
}

// conn copies the handshake (the record's strings may live in reused buffers).
func (c *Collector) conn(s *Session, rec *dissect.Record) {
	cn := rec.Conn
	s.Midstream = cn.Midstream
	s.accepted, s.tlsOnly = cn.Upgraded(), cn.TLSListing()
	if t := cn.TLS; t != nil {
		s.TLS = &TLSInfo{Version: t.Version, Cipher: t.Cipher, SNI: strings.Clone(t.SNI), ALPN: strings.Clone(t.ALPN),
			Decrypted: t.Decrypted, Reason: strings.Clone(t.Reason), ClientBytes: t.ClientBytes, ServerBytes: t.ServerBytes}
	}
	s.Status, s.StatusText = cn.Status, strings.Clone(cn.Reason)
	s.Method, s.Host, s.Path = strings.Clone(cn.Method), strings.Clone(cn.Host), strings.Clone(cn.Path)
	s.Origin, s.UserAgent = strings.Clone(cn.Origin), strings.Clone(cn.UserAgent)
	if p := cn.Proxy; p != nil {
		s.Proxy, s.ProxyProtocol = strings.Clone(p.Target), p.Protocol
	}
	s.Tunnel = cn.Tunnel
	if cn.HasTunnelID {
		id := cn.TunnelID
		s.TunnelID = &id
	}
	s.SubprotocolsOffered = cloneStrings(cn.SubprotocolsOffered)
	s.ExtensionsOffered = cloneStrings(cn.ExtensionsOffered)
	s.Subprotocol = strings.Clone(cn.Subprotocol)
	s.Extensions = cloneStrings(cn.Extensions)
	s.Request, s.Response = strings.Clone(cn.Request), strings.Clone(cn.Response)
	s.RequestHeaders, s.ResponseHeaders = cloneHeaders(cn.RequestHeaders), cloneHeaders(cn.ResponseHeaders)
	s.RequestTime, s.ResponseTime = cn.RequestTime, cn.ResponseTime
	if !cn.RequestTime.IsZero() && cn.RequestTime.Before(s.Start) {
		s.Start = cn.RequestTime
		s.FirstPacket = cn.RequestPacket
	}
}

func cloneStrings(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = strings.Clone(v)
	}
	return out
}

func cloneHeaders(in []dissect.Header) []dissect.Header {
	if len(in) == 0 {
		return nil
	}
	out := make([]dissect.Header, len(in))
	for i, h := range in {
		out[i] = dissect.Header{Name: strings.Clone(h.Name), Value: strings.Clone(h.Value)}
	}
	return out
}

// countAnomaly adds n anomalies with id.
func (s *Session) countAnomaly(id string, n int) {
	s.Anomalies += n
	if s.AnomalyIDs == nil {
		s.AnomalyIDs = make(map[string]int)
	}
	s.AnomalyIDs[id] += n
}

// frame counts a frame and adds it to its message.
func (c *Collector) frame(s *Session, rec *dissect.Record) error {
	f := rec.Frame
	d := &s.Dirs[f.Dir&1]
	d.Frames++
	// The payload bytes on the wire: as the header says, except for a frame
	// the capture holds only part of (then what it holds, when known).
	wire := f.Len
	if f.Incomplete && !f.Truncated && !f.Compressed {
		wire = min(wire, uint64(len(f.Payload)))
	}
	d.WireBytes += uint64(f.HeaderLen) + wire
	if dissect.IsControl(f.Opcode) {
		m := Message{
			Dir: f.Dir, Opcode: f.Opcode, Time: rec.Time, FirstTime: rec.Time,
			FirstPacket: firstPacket(f, rec), Packet: rec.Packet,
			Len: uint64(len(f.Payload)), WireLen: uint64(f.HeaderLen) + wire, Frames: 1,
			Text: f.Opcode == dissect.OpClose, Truncated: f.Truncated, Incomplete: f.Incomplete,
			HasCloseCode: f.HasCloseCode, CloseCode: f.CloseCode, CloseReason: f.CloseReason,
		}
		if !f.Truncated {
			m.Len = wire
		}
		m.Anomalies = anomalyIDs(nil, rec.Anomalies)
		c.control(s, rec, f)
		return c.finish(s, &m, f.Payload, false)
	}
	p := &s.partial[f.Dir&1]
	if p.active && f.Opcode != dissect.OpContinuation {
		// A new data frame interrupts a fragmented message: the rest of
		// the old one is not in the traffic.
		p.m.Incomplete = true
		if err := c.finishPartial(s, p); err != nil {
			return err
		}
	}
	if !p.active {
		p.active = true
		p.m = Message{
			Dir: f.Dir, Opcode: f.MessageOpcode, FirstTime: rec.Time, FirstPacket: firstPacket(f, rec),
			Text: f.IsText, Compressed: f.Compressed,
		}
		if f.Opcode == dissect.OpContinuation {
			// The message's first frame is not in the capture.
			p.m.Incomplete = true
		}
		if !s.kept && s.payloads {
			p.m.Payload = p.buf[:0]
		}
	}
	m := &p.m
	m.Frames++
	m.Time, m.Packet = rec.Time, rec.Packet
	m.WireLen += uint64(f.HeaderLen) + wire
	d.DataWire += wire
	share := wire
	if f.Compressed || f.Truncated {
		share = uint64(len(f.Payload))
	}
	m.Len += share
	d.DataBytes += share
	m.Truncated = m.Truncated || f.Truncated
	m.Incomplete = m.Incomplete || f.Incomplete
	m.Anomalies = anomalyIDs(m.Anomalies, rec.Anomalies)
	if s.kept || s.payloads {
		m.Payload = append(m.Payload, f.Payload...)
	}
	if f.Fin {
		return c.finishPartial(s, p)
	}
	return nil
}

// firstPacket is the packet that carried the frame's first byte.
func firstPacket(f *dissect.Frame, rec *dissect.Record) uint64 {
	if len(f.Packets) > 0 {
		return f.Packets[0]
	}
	return rec.Packet
}

func anomalyIDs(dst []string, as []dissect.Anomaly) []string {
	for _, a := range as {
		if !slices.Contains(dst, a.ID) {
			dst = append(dst, strings.Clone(a.ID))
		}
	}
	return dst
}

// control handles pings, pongs and closes.
func (c *Collector) control(s *Session, rec *dissect.Record, f *dissect.Frame) {
	switch f.Opcode {
	case dissect.OpPing:
		if len(s.pings) == maxPendingPings {
			s.pings = slices.Delete(s.pings, 0, 1)
			s.UnansweredPings++
		}
		s.pings = append(s.pings, ping{dir: f.Dir, t: rec.Time, payload: string(f.Payload)})
	case dissect.OpPong:
		for i, p := range s.pings {
			if p.dir != f.Dir && p.payload == string(f.Payload) {
				s.RTT.add(rec.Time.Sub(p.t))
				s.pings = slices.Delete(s.pings, i, i+1)
				return
			}
		}
		s.UnmatchedPongs++
	case dissect.OpClose:
		cl := &s.Closes[f.Dir&1]
		if cl.Seen {
			return
		}
		if !s.Closes[0].Seen && !s.Closes[1].Seen {
			s.FirstCloser = f.Dir
		}
		*cl = Close{Seen: true, Time: rec.Time, Packet: rec.Packet, HasCode: f.HasCloseCode, Code: f.CloseCode, Reason: strings.Clone(f.CloseReason)}
	}
}

// finishPartial completes the data message in progress.
func (c *Collector) finishPartial(s *Session, p *partial) error {
	p.active = false
	m := p.m
	payload := m.Payload
	if !s.kept && payload != nil {
		p.buf = payload[:0] // reuse the scratch buffer
		if cap(p.buf) > 64<<10 {
			p.buf = nil
		}
	}
	p.m = Message{}
	return c.finish(s, &m, payload, s.kept)
}

// finish counts a completed message, keeps it and hands it to OnMessage;
// owned says payload belongs to the message already (no copy is needed to
// keep it).
func (c *Collector) finish(s *Session, m *Message, payload []byte, owned bool) error {
	s.n++
	m.N = s.n
	d := &s.Dirs[m.Dir&1]
	d.Messages++
	d.Largest = max(d.Largest, m.Len)
	if m.Compressed {
		d.Compressed++
	}
	switch m.Opcode {
	case dissect.OpText:
		d.Text++
	case dissect.OpBinary:
		d.Binary++
	case dissect.OpPing:
		d.Ping++
	case dissect.OpPong:
		d.Pong++
	case dissect.OpClose:
		d.Close++
	}
	m.Payload = nil
	if s.kept {
		m.Payload = payload
		if !owned {
			m.Payload = slices.Clone(payload)
		}
		if m.Payload == nil {
			m.Payload = []byte{}
		}
		s.Messages = append(s.Messages, *m)
	}
	if c.opts.OnMessage != nil {
		m.Payload = payload
		return c.opts.OnMessage(s, m)
	}
	return nil
}

// Ended records how a session's TCP connection (or HTTP/2 stream) ended:
// reason is "fin", "rst", "idle", "evicted", "reused", "capture-end" or, over
// HTTP/2, "h2-end-stream", "h2-rst-stream" or "h2-goaway". It is meant for
// the dissector's end record; sessions never ended this way keep an empty
// End.
func (c *Collector) Ended(id ID, reason string, packet uint64, t time.Time) {
	if s := c.byID[id]; s != nil {
		s.End = End{Reason: reason, Packet: packet, Time: t}
		if t.After(s.Last) {
			s.Last, s.LastPacket = t, packet
		}
	}
}

// endReason describes how a connection ended: the dissector's reason, and
// which side sent the first FIN or the RST ("fin:s2c", "rst:c2s").
func endReason(e *dissect.End) string {
	r := e.Reason.String()
	switch {
	case e.HasRST:
		r += ":" + e.RSTFrom.String()
	case e.Reason == dissect.EndFIN && e.HasFIN:
		r += ":" + e.FirstFIN.String()
	}
	return r
}

// Finish completes the messages still in progress (their last frame is not
// in the capture), counts unanswered pings and adds the anomalies of HTTP/2
// connections to their sessions; call it once after the run.
func (c *Collector) Finish() error {
	for _, s := range c.sessions {
		if s.HTTP2 {
			for id, n := range c.h2Anomalies[s.Stream] {
				s.countAnomaly(id, n)
			}
		}
		for i := range s.partial {
			if p := &s.partial[i]; p.active {
				p.m.Incomplete = true
				if err := c.finishPartial(s, p); err != nil {
					return err
				}
			}
		}
		s.UnansweredPings += len(s.pings)
		s.pings = nil
	}
	return nil
}
