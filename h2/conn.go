package h2

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Dir is the direction of travel: the client (which sent the preface) to the
// server or back.
type Dir uint8

const (
	// ClientToServer is the direction of the connection preface.
	ClientToServer Dir = 0
	// ServerToClient is the other direction.
	ServerToClient Dir = 1
)

// String returns "c2s" or "s2c".
func (d Dir) String() string {
	if d == ServerToClient {
		return "s2c"
	}
	return "c2s"
}

// Preface is the client connection preface (RFC 9113 section 3.4).
const Preface = http2.ClientPreface

// frameHeaderLen is the size of a frame header.
const frameHeaderLen = 9

// Meta says where bytes were in the capture.
type Meta struct {
	// Packet is the capture's packet number.
	Packet uint64
	// Time is that packet's capture time.
	Time time.Time
}

// FrameHeader is the fixed 9-byte header of a frame.
type FrameHeader struct {
	Length   uint32
	Type     http2.FrameType
	Flags    http2.Flags
	StreamID uint32
}

// Frame is one complete frame as the Handler sees it.
type Frame struct {
	FrameHeader
	// Dir is the direction it travelled.
	Dir Dir
	// Offset is the offset of its first header byte in its direction's
	// stream (the client direction counts the preface).
	Offset uint64
	// PadLength is the padding length of a PADDED frame.
	PadLength uint8
	// Fields are the decoded header fields of the header block the frame
	// ends (HEADERS/PUSH_PROMISE with END_HEADERS, or the CONTINUATION
	// that completes one); nil otherwise or when the block was not decoded.
	Fields []hpack.HeaderField
	// Settings are a SETTINGS frame's parameters.
	Settings []http2.Setting
	// ErrCode is the error code of RST_STREAM and GOAWAY.
	ErrCode http2.ErrCode
	// LastStreamID is GOAWAY's last stream id; PromisedID PUSH_PROMISE's
	// promised stream.
	LastStreamID, PromisedID uint32
	// Increment is WINDOW_UPDATE's window size increment.
	Increment uint32
}

// EndKind says how a WebSocket session's or tunnel's stream ended.
type EndKind uint8

const (
	// EndStream: both directions sent END_STREAM.
	EndStream EndKind = iota + 1
	// EndReset: a RST_STREAM frame.
	EndReset
	// EndGoAway: a GOAWAY frame (the stream was above its last stream id,
	// or the connection ended after the GOAWAY).
	EndGoAway
	// EndConnClosed: the TCP connection (or the capture) ended.
	EndConnClosed
	// EndDropped: the stream was no longer tracked (more than
	// Limits.MaxStreams at once); an anomaly said so.
	EndDropped
)

// EndReason describes the end of a WebSocket session's or tunnel's stream.
type EndReason struct {
	Kind EndKind
	// By is the direction of the frame that ended it (Reset, GoAway).
	By Dir
	// Code is the RST_STREAM or GOAWAY error code.
	Code http2.ErrCode
}

// String describes the end for humans and the NDJSON output.
func (e EndReason) String() string {
	who := "client"
	if e.By == ServerToClient {
		who = "server"
	}
	switch e.Kind {
	case EndStream:
		return "END_STREAM in both directions"
	case EndReset:
		return fmt.Sprintf("RST_STREAM %s from the %s", e.Code, who)
	case EndGoAway:
		return fmt.Sprintf("GOAWAY %s from the %s", e.Code, who)
	case EndDropped:
		return "no longer tracked: too many streams at once"
	}
	return "connection ended without END_STREAM"
}

// Stream is the state of one HTTP/2 stream.
type Stream struct {
	// ID is the stream identifier.
	ID uint32
	// Request and Response are the decoded request and (final) response
	// header fields, pseudo-headers first as sent. They are kept for
	// WebSocket streams; an ordinary request's are valid only during
	// Handler.Request.
	Request, Response []hpack.HeaderField
	// RequestMeta and ResponseMeta locate the frames that completed them.
	RequestMeta, ResponseMeta Meta
	// Status is the final response status (0 before it).
	Status int
	// WebSocket is true for an extended CONNECT with :protocol websocket.
	WebSocket bool
	// Tunnel is true for a CONNECT without :protocol (RFC 9113 8.5): a
	// request to a proxy for a tunnel to :authority, whose DATA, once
	// answered with 2xx, is the tunnel's byte stream each way.
	Tunnel bool
	// Open is true while its WebSocket session or tunnel is open.
	Open bool
	// Rejected is true once the CONNECT (extended or not) was answered
	// with a status other than 2xx.
	Rejected bool
	// Anomalies found on the request or response headers, reported with
	// the session's opening.
	Anomalies []Anomaly

	ended   [2]bool       // END_STREAM seen per direction
	closed  bool          // finished: no more events
	pending []pendingData // client DATA (and holes) received before the response
	pendLen int
	cost    int64 // bytes of Conn.kept that are this stream's
	refused bool  // Limits.Budget refused to hold some of its pending data
}

// streamOverhead is what tracking a stream costs besides its fields and
// pending data: the Stream and its map entry.
const streamOverhead = int64(unsafe.Sizeof(Stream{})) + 64

// carries reports whether the stream's DATA, once answered with 2xx, is
// handed on: a WebSocket session's or a tunnel's.
func (s *Stream) carries() bool { return s.WebSocket || s.Tunnel }

// what names the stream's request in messages.
func (s *Stream) what() string {
	if s.Tunnel {
		return "CONNECT"
	}
	return "extended CONNECT"
}

// fieldsCost is what keeping fs costs, counted as SETTINGS_MAX_HEADER_LIST_SIZE
// counts header lists (name, value and 32 bytes each).
func fieldsCost(fs []hpack.HeaderField) int64 {
	var n int64
	for _, f := range fs {
		n += int64(f.Size())
	}
	return n
}

// pendingData is a piece of client DATA, or a hole in it (gap > 0), that
// arrived before the response opened the session.
type pendingData struct {
	b   []byte
	gap uint64
	m   Meta
}

// Get returns the first value of the header field name in fields.
func Get(fields []hpack.HeaderField, name string) (string, bool) {
	for _, f := range fields {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// Anomaly is a problem the frame or session layer found.
type Anomaly struct {
	// ID is one of the An* constants.
	ID string
	// Msg explains it.
	Msg string
	// Offset is the stream offset it refers to, or -1.
	Offset int64
}

// Anomaly ids; dissect registers them with severities and RFC references.
const (
	AnPrefaceMissing       = "h2-preface-missing"
	AnFrameInvalid         = "h2-frame-invalid"
	AnFrameTooLarge        = "h2-frame-too-large"
	AnHPACKError           = "h2-hpack-error"
	AnHeadersLost          = "h2-headers-lost"
	AnConnectNotEnabled    = "h2-connect-protocol-not-enabled"
	AnConnectPseudoMissing = "h2-connect-pseudo-header-missing"
	AnWebSocketKeyPresent  = "h2-websocket-key-present"
	AnDataAfterEndStream   = "h2-data-after-end-stream"
	AnStreamClosed         = "h2-stream-closed"
	AnResync               = "resync-skipped-bytes"
	AnTCPGap               = "tcp-gap"
	AnMemoryBudget         = "memory-budget"
	AnStreamsLimit         = "h2-streams-limit"
)

// Handler receives what a Conn finds. The *Frame and the slices passed to
// it are only valid during the call.
type Handler interface {
	// Frame is called for every complete frame (DATA when its last byte
	// arrived).
	Frame(f *Frame, m Meta)
	// Request is called when an ordinary (non-WebSocket) request's headers
	// are complete.
	Request(s *Stream, m Meta)
	// Open is called when an extended CONNECT for websocket, or a
	// CONNECT for a tunnel (Stream.Tunnel), is answered with 2xx; Rejected
	// when it is answered otherwise.
	Open(s *Stream, m Meta)
	Rejected(s *Stream, m Meta)
	// Data delivers payload bytes of an open WebSocket session's or
	// tunnel's stream.
	Data(s *Stream, d Dir, b []byte, m Meta)
	// DataGap says n bytes of the stream's data in direction d are missing;
	// exact is false when the count is only an upper bound (the frame
	// layer lost its place).
	DataGap(s *Stream, d Dir, n uint64, exact bool, m Meta)
	// End is called once when the stream of a session or tunnel that
	// Open or Rejected reported ends.
	End(s *Stream, r EndReason, m Meta)
	// Anomaly reports a problem; stream is 0 when it is connection-wide.
	Anomaly(d Dir, stream uint32, a Anomaly, m Meta)
}

// Limits bound a Conn's memory. The zero value of a field selects its
// default.
type Limits struct {
	// MaxFrame caps the payload of a non-DATA frame that is buffered and
	// decoded (default 1 MiB); larger frames are skipped.
	MaxFrame int
	// MaxHeaderBlock caps the decoded header fields kept per block
	// (default 64 KiB, counted as in SETTINGS_MAX_HEADER_LIST_SIZE).
	MaxHeaderBlock int
	// MaxStreams caps the streams tracked at once (default 1024).
	MaxStreams int
	// MaxSearch caps the bytes searched for a frame boundary after a gap
	// (default 256 KiB).
	MaxSearch int
	// MaxPending caps the client DATA kept for an extended CONNECT that
	// has no response yet (default 64 KiB).
	MaxPending int
	// Budget, when set, is charged what the Conn keeps: its tracked
	// streams with their header fields and held client data, its frame,
	// header and search buffers. Client data held before a response is
	// only kept while the budget allows (the rest becomes a hole);
	// everything else is charged with Force, and given back as it is
	// released (all of it by Close).
	Budget Budget
}

// Budget is a memory account (as internal/membudget's Account is).
type Budget interface {
	// Take reserves n bytes if the budget allows, and reports whether it
	// did.
	Take(n int64) bool
	// Force reserves n bytes whether or not the budget allows, and
	// reports whether it is still within its limit.
	Force(n int64) bool
	// Give returns n bytes.
	Give(n int64)
}

func (l *Limits) setDefaults() {
	if l.MaxFrame <= 0 {
		l.MaxFrame = 1 << 20
	}
	if l.MaxHeaderBlock <= 0 {
		l.MaxHeaderBlock = 64 << 10
	}
	if l.MaxStreams <= 0 {
		l.MaxStreams = 1024
	}
	if l.MaxSearch <= 0 {
		l.MaxSearch = 256 << 10
	}
	if l.MaxPending <= 0 {
		l.MaxPending = 64 << 10
	}
}

// Stats counts what a Conn found.
type Stats struct {
	Frames, Requests, WebSockets, Tunnels uint64
}

// Conn decodes one HTTP/2 connection. It is not safe for concurrent use.
type Conn struct {
	h       Handler
	lim     Limits
	dirs    [2]dirState
	streams map[uint32]*Stream
	ended   []endedStream // recently finished streams (ring), for late DATA
	endedAt int
	// connectEnabled is the server's SETTINGS_ENABLE_CONNECT_PROTOCOL.
	connectEnabled bool
	goaway         bool
	goawayBy       Dir
	goawayCode     http2.ErrCode
	stats          Stats
	closed         bool
	// kept is what the tracked streams hold (see Stream.cost); charged is
	// what Limits.Budget holds for the Conn (kept and the buffers).
	kept, charged int64
}

// endedStream remembers a finished stream.
type endedStream struct {
	id        uint32
	endStream [2]bool // END_STREAM was seen per direction
}

// dirState parses one direction.
type dirState struct {
	dir     Dir
	preface int // preface bytes matched; -1 once done or not expected
	off     uint64
	hdr     [frameHeaderLen]byte
	hn      int
	fh      FrameHeader
	fOff    uint64
	inPay   bool
	left    uint32 // payload bytes still to come
	skip    bool   // payload is skipped (too large)
	buf     []byte // non-DATA payload
	dataPad int    // DATA: -1 pad length byte still to come, else padding bytes at the end
	dataS   *Stream

	dec       *hpack.Decoder
	fields    []hpack.HeaderField
	fieldSize int
	fieldsCut bool
	hpackLost bool
	inBlock   bool // a header block awaits CONTINUATION
	blockType http2.FrameType
	blockID   uint32 // stream (or promised stream) of the block
	blockSID  uint32 // stream its frames carry
	blockES   bool   // the HEADERS had END_STREAM
	blockErr  bool

	maxFrame uint32 // the peer's SETTINGS_MAX_FRAME_SIZE (what this direction may send)

	frame    Frame           // reused for every Handler.Frame call
	settings []http2.Setting // backs frame.Settings

	searching bool
	search    []byte
	searchM   Meta
	skipped   uint64
	lastM     Meta
}

// NewConn returns a Conn that reports to h. The client direction is
// expected to start with the connection preface.
func NewConn(h Handler, lim Limits) *Conn {
	lim.setDefaults()
	c := &Conn{h: h, lim: lim, streams: make(map[uint32]*Stream)}
	for i := range c.dirs {
		d := &c.dirs[i]
		d.dir = Dir(i)
		d.maxFrame = 16384
		d.preface = -1
		d.dec = hpack.NewDecoder(4096, nil)
		d.dec.SetMaxStringLength(lim.MaxHeaderBlock)
		d.dec.SetEmitFunc(d.emitField(lim.MaxHeaderBlock))
	}
	c.dirs[ClientToServer].preface = 0
	return c
}

// emitField returns the hpack emit function of d: it keeps fields up to
// max bytes per block.
func (d *dirState) emitField(max int) func(hpack.HeaderField) {
	return func(f hpack.HeaderField) {
		if d.fieldsCut {
			return
		}
		if d.fieldSize+int(f.Size()) > max {
			d.fieldsCut = true
			return
		}
		d.fieldSize += int(f.Size())
		d.fields = append(d.fields, f)
	}
}

// Stats returns the counters so far.
func (c *Conn) Stats() Stats { return c.stats }

// UpgradeStream1 makes the HTTP/1.1 request of an "Upgrade: h2c" exchange
// stream 1 of the connection (RFC 7540 section 3.2): it is half-closed by
// the client and its response comes in HTTP/2 on stream 1. req are its
// fields (pseudo-headers first).
func (c *Conn) UpgradeStream1(req []hpack.HeaderField, m Meta) {
	s := &Stream{ID: 1, Request: req, RequestMeta: m}
	s.ended[ClientToServer] = true
	c.track(s)
	c.stats.Requests++
	c.h.Request(s, m)
	c.forget(s)
	c.charge()
}

// track starts tracking s, charging it with its request fields.
func (c *Conn) track(s *Stream) {
	c.streams[s.ID] = s
	s.cost = streamOverhead + fieldsCost(s.Request)
	c.kept += s.cost
}

// forget drops the fields of an ordinary request once it was reported: only
// its END_STREAMs matter from then on.
func (c *Conn) forget(s *Stream) {
	n := fieldsCost(s.Request)
	s.Request = nil
	s.cost -= n
	c.kept -= n
}

// charge brings what Limits.Budget holds for the Conn to what it keeps
// now.
func (c *Conn) charge() {
	if c.lim.Budget == nil {
		return
	}
	now := c.kept
	if !c.closed {
		for i := range c.dirs {
			ds := &c.dirs[i]
			now += int64(cap(ds.buf) + cap(ds.search) + ds.fieldSize)
		}
	}
	switch d := now - c.charged; {
	case d > 0:
		c.lim.Budget.Force(d)
	case d < 0:
		c.lim.Budget.Give(-d)
	}
	c.charged = now
}

// Feed consumes in-order bytes of direction d carried by the packet m.
func (c *Conn) Feed(d Dir, b []byte, m Meta) {
	if c.closed {
		return
	}
	c.feedDir(d, b, m)
	c.charge()
}

// feedDir is Feed without the charge.
func (c *Conn) feedDir(d Dir, b []byte, m Meta) {
	ds := &c.dirs[d]
	ds.lastM = m
	if ds.preface >= 0 {
		n := 0
		for n < len(b) && ds.preface < len(Preface) {
			if b[n] != Preface[ds.preface] {
				c.h.Anomaly(d, 0, Anomaly{ID: AnPrefaceMissing, Offset: int64(ds.off),
					Msg: "the client's first bytes are not the HTTP/2 connection preface; parsing frames from here"}, m)
				b = b[n:]
				// The bytes matched so far were not a preface either: they are
				// lost to the frame layer.
				ds.preface = -1
				ds.searching = true
				break
			}
			n++
			ds.preface++
		}
		if ds.preface == len(Preface) {
			ds.preface = -1
			ds.off += uint64(len(Preface))
			b = b[n:]
		} else if ds.preface > 0 {
			return
		}
	}
	if ds.searching {
		c.searchFeed(ds, b, m)
		return
	}
	c.feed(ds, b, m)
}

// feed parses frames from b.
func (c *Conn) feed(ds *dirState, b []byte, m Meta) {
	for len(b) > 0 {
		if !ds.inPay {
			if ds.hn == 0 {
				ds.fOff = ds.off
			}
			n := copy(ds.hdr[ds.hn:], b)
			ds.hn += n
			ds.off += uint64(n)
			b = b[n:]
			if ds.hn < frameHeaderLen {
				return
			}
			ds.hn = 0
			c.startFrame(ds, m)
			if ds.left == 0 {
				c.endFrame(ds, m)
			}
			continue
		}
		n := len(b)
		if uint32(n) > ds.left {
			n = int(ds.left)
		}
		c.payload(ds, b[:n], m)
		ds.left -= uint32(n)
		ds.off += uint64(n)
		b = b[n:]
		if ds.left == 0 {
			c.endFrame(ds, m)
		}
	}
}

// parseFrameHeader decodes a 9-byte frame header.
func parseFrameHeader(h []byte) FrameHeader {
	return FrameHeader{
		Length:   uint32(h[0])<<16 | uint32(h[1])<<8 | uint32(h[2]),
		Type:     http2.FrameType(h[3]),
		Flags:    http2.Flags(h[4]),
		StreamID: binary.BigEndian.Uint32(h[5:]) & (1<<31 - 1),
	}
}

// startFrame acts on a complete frame header.
func (c *Conn) startFrame(ds *dirState, m Meta) {
	fh := parseFrameHeader(ds.hdr[:])
	ds.fh = fh
	ds.inPay = fh.Length > 0
	ds.left = fh.Length
	ds.skip = false
	ds.buf = ds.buf[:0]
	ds.dataS = nil
	if fh.Length > ds.maxFrame {
		c.h.Anomaly(ds.dir, fh.StreamID, Anomaly{ID: AnFrameTooLarge, Offset: int64(ds.fOff),
			Msg: fmt.Sprintf("%s frame of %d bytes exceeds the peer's SETTINGS_MAX_FRAME_SIZE %d", fh.Type, fh.Length, ds.maxFrame)}, m)
	}
	if ds.inBlock && fh.Type != http2.FrameContinuation {
		c.h.Anomaly(ds.dir, fh.StreamID, Anomaly{ID: AnFrameInvalid, Offset: int64(ds.fOff),
			Msg: fmt.Sprintf("%s frame where a CONTINUATION of stream %d's header block was due; the block is lost", fh.Type, ds.blockID)}, m)
		c.loseHPACK(ds, m, "a header block was interrupted")
		ds.inBlock = false
	}
	if fh.Type == http2.FrameData {
		ds.dataPad = 0
		if fh.Flags.Has(http2.FlagDataPadded) {
			ds.dataPad = -1
		}
		if fh.StreamID == 0 {
			c.h.Anomaly(ds.dir, 0, Anomaly{ID: AnFrameInvalid, Offset: int64(ds.fOff), Msg: "DATA frame on stream 0"}, m)
			return
		}
		s := c.streams[fh.StreamID]
		if s == nil || s.closed || s.ended[ds.dir] {
			if (s != nil && s.ended[ds.dir]) || c.endedWith(fh.StreamID, ds.dir) {
				c.h.Anomaly(ds.dir, fh.StreamID, Anomaly{ID: AnDataAfterEndStream, Offset: int64(ds.fOff),
					Msg: fmt.Sprintf("DATA frame (%d bytes) on stream %d after its END_STREAM in this direction", fh.Length, fh.StreamID)}, m)
			}
			return
		}
		if s.carries() {
			ds.dataS = s
		}
		return
	}
	if int(fh.Length) > c.lim.MaxFrame {
		ds.skip = true
	}
}

// payload consumes payload bytes of the current frame.
func (c *Conn) payload(ds *dirState, b []byte, m Meta) {
	if ds.fh.Type != http2.FrameData {
		if !ds.skip {
			ds.buf = append(ds.buf, b...)
		}
		return
	}
	pos := ds.fh.Length - ds.left // payload offset of b[0]
	start, end := uint32(0), ds.fh.Length
	if ds.fh.Flags.Has(http2.FlagDataPadded) {
		if pos == 0 {
			pad := int(b[0])
			if uint32(pad) >= ds.fh.Length {
				c.h.Anomaly(ds.dir, ds.fh.StreamID, Anomaly{ID: AnFrameInvalid, Offset: int64(ds.fOff),
					Msg: fmt.Sprintf("DATA padding of %d bytes is not shorter than the frame (%d bytes)", pad, ds.fh.Length)}, m)
				ds.dataS = nil
				pad = 0
			}
			ds.dataPad = pad
		}
		start, end = 1, ds.fh.Length-uint32(max(ds.dataPad, 0))
	}
	lo, hi := max(pos, start), min(pos+uint32(len(b)), end)
	if ds.dataS != nil && lo < hi {
		c.streamData(ds.dataS, ds.dir, b[lo-pos:hi-pos], m)
	}
}

// streamData hands DATA payload of a WebSocket stream on.
func (c *Conn) streamData(s *Stream, d Dir, b []byte, m Meta) {
	if s.Open {
		c.h.Data(s, d, b, m)
		return
	}
	if s.Status != 0 {
		return // rejected: the data is not WebSocket
	}
	// Optimistic data before the response: keep a bounded amount, while
	// the budget allows; what does not fit becomes a hole.
	room := max(c.lim.MaxPending-s.pendLen, 0)
	if k := min(room, len(b)); k > 0 {
		if c.lim.Budget == nil || c.lim.Budget.Take(int64(k)) {
			s.pending = append(s.pending, pendingData{b: append([]byte(nil), b[:k]...), m: m})
			s.pendLen += k
			s.cost += int64(k)
			c.kept += int64(k)
			if c.lim.Budget != nil {
				c.charged += int64(k) // taken just now
			}
			b = b[k:]
		} else if !s.refused {
			s.refused = true
			c.h.Anomaly(d, s.ID, Anomaly{ID: AnMemoryBudget, Offset: -1,
				Msg: fmt.Sprintf("client data on stream %d sent before the %s was answered is not held: the memory budget is exhausted", s.ID, s.what())}, m)
		}
	}
	if len(b) > 0 {
		c.pendingGap(s, uint64(len(b)), m)
	}
}

// pendingGap records a hole in the client data held before the response.
func (c *Conn) pendingGap(s *Stream, n uint64, m Meta) {
	if k := len(s.pending); k > 0 && s.pending[k-1].gap > 0 {
		s.pending[k-1].gap += n
		return
	}
	s.pending = append(s.pending, pendingData{gap: n, m: m})
}

// endFrame acts on a complete frame.
func (c *Conn) endFrame(ds *dirState, m Meta) {
	ds.inPay = false
	fh := ds.fh
	c.stats.Frames++
	// The Frame handed to the Handler is reused: valid only during the call.
	f := &ds.frame
	*f = Frame{FrameHeader: fh, Dir: ds.dir, Offset: ds.fOff, Settings: ds.settings[:0]}
	if fh.Type == http2.FrameData {
		if fh.Flags.Has(http2.FlagDataPadded) && ds.dataPad > 0 {
			f.PadLength = uint8(ds.dataPad)
		}
		c.h.Frame(f, m)
		if fh.Flags.Has(http2.FlagDataEndStream) {
			if s := c.streams[fh.StreamID]; s != nil && !s.closed {
				c.endStream(s, ds.dir, m)
			}
		}
		return
	}
	if ds.skip {
		if fh.Type == http2.FrameHeaders || fh.Type == http2.FrameContinuation || fh.Type == http2.FramePushPromise {
			c.loseHPACK(ds, m, fmt.Sprintf("a %d-byte %s frame is larger than the %d bytes kept", fh.Length, fh.Type, c.lim.MaxFrame))
		}
		c.h.Frame(f, m)
		return
	}
	p := ds.buf
	bad := func(msg string) {
		c.h.Anomaly(ds.dir, fh.StreamID, Anomaly{ID: AnFrameInvalid, Offset: int64(ds.fOff), Msg: fh.Type.String() + " frame: " + msg}, m)
	}
	switch fh.Type {
	case http2.FrameHeaders, http2.FramePushPromise:
		if fh.StreamID == 0 {
			bad("on stream 0")
			c.loseHPACK(ds, m, "a header block on stream 0")
			break
		}
		var padded bool
		if fh.Type == http2.FrameHeaders {
			padded = fh.Flags.Has(http2.FlagHeadersPadded)
		} else {
			padded = fh.Flags.Has(http2.FlagPushPromisePadded)
		}
		if padded {
			if len(p) < 1 || int(p[0]) > len(p)-1 {
				bad("padding longer than the frame")
				c.loseHPACK(ds, m, "a malformed header frame")
				break
			}
			f.PadLength = p[0]
			p = p[1 : len(p)-int(p[0])]
		}
		ds.blockID = fh.StreamID
		if fh.Type == http2.FrameHeaders && fh.Flags.Has(http2.FlagHeadersPriority) {
			if len(p) < 5 {
				bad("too short for its priority fields")
				c.loseHPACK(ds, m, "a malformed header frame")
				break
			}
			p = p[5:]
		}
		if fh.Type == http2.FramePushPromise {
			if len(p) < 4 {
				bad("too short for the promised stream id")
				c.loseHPACK(ds, m, "a malformed header frame")
				break
			}
			f.PromisedID = binary.BigEndian.Uint32(p) & (1<<31 - 1)
			ds.blockID = f.PromisedID
			p = p[4:]
		}
		ds.blockType, ds.blockSID = fh.Type, fh.StreamID
		ds.blockES = fh.Type == http2.FrameHeaders && fh.Flags.Has(http2.FlagHeadersEndStream)
		ds.fields, ds.fieldSize, ds.fieldsCut, ds.blockErr = ds.fields[:0], 0, false, false
		ds.inBlock = true
		c.blockFragment(ds, p, m)
		if fh.Flags.Has(http2.FlagHeadersEndHeaders) {
			c.endBlock(ds, f, m)
			return
		}
	case http2.FrameContinuation:
		if !ds.inBlock || fh.StreamID != ds.blockSID {
			bad("without a header block in progress")
			break
		}
		c.blockFragment(ds, p, m)
		if fh.Flags.Has(http2.FlagContinuationEndHeaders) {
			c.endBlock(ds, f, m)
			return
		}
	case http2.FrameSettings:
		if fh.StreamID != 0 || len(p)%6 != 0 || fh.Flags.Has(http2.FlagSettingsAck) && len(p) != 0 {
			bad("malformed")
			break
		}
		for i := 0; i+6 <= len(p); i += 6 {
			st := http2.Setting{ID: http2.SettingID(binary.BigEndian.Uint16(p[i:])), Val: binary.BigEndian.Uint32(p[i+2:])}
			f.Settings = append(f.Settings, st)
			ds.settings = f.Settings
			c.applySetting(ds.dir, st)
		}
	case http2.FrameRSTStream:
		if len(p) != 4 || fh.StreamID == 0 {
			bad("malformed")
			break
		}
		f.ErrCode = http2.ErrCode(binary.BigEndian.Uint32(p))
		c.h.Frame(f, m)
		if s := c.streams[fh.StreamID]; s != nil && !s.closed {
			c.finishStream(s, EndReason{Kind: EndReset, By: ds.dir, Code: f.ErrCode}, m)
		}
		return
	case http2.FrameGoAway:
		if len(p) < 8 || fh.StreamID != 0 {
			bad("malformed")
			break
		}
		f.LastStreamID = binary.BigEndian.Uint32(p) & (1<<31 - 1)
		f.ErrCode = http2.ErrCode(binary.BigEndian.Uint32(p[4:]))
		c.h.Frame(f, m)
		c.goAway(ds.dir, f.LastStreamID, f.ErrCode, m)
		return
	case http2.FramePing:
		if len(p) != 8 || fh.StreamID != 0 {
			bad("malformed")
		}
	case http2.FrameWindowUpdate:
		if len(p) != 4 {
			bad("malformed")
			break
		}
		f.Increment = binary.BigEndian.Uint32(p) & (1<<31 - 1)
	case http2.FramePriority:
		if len(p) != 5 || fh.StreamID == 0 {
			bad("malformed")
		}
	}
	c.h.Frame(f, m)
}

// blockFragment decodes a header block fragment.
func (c *Conn) blockFragment(ds *dirState, p []byte, m Meta) {
	if ds.hpackLost || ds.blockErr {
		return
	}
	if _, err := ds.dec.Write(p); err != nil {
		ds.blockErr = true
		c.h.Anomaly(ds.dir, ds.blockID, Anomaly{ID: AnHPACKError, Offset: int64(ds.fOff),
			Msg: fmt.Sprintf("header block of stream %d cannot be decoded (%v); the rest of this direction's header blocks are lost", ds.blockID, err)}, m)
		ds.hpackLost = true
	}
}

// loseHPACK stops header decoding in ds's direction: the dynamic table may
// no longer match the sender's.
func (c *Conn) loseHPACK(ds *dirState, m Meta, why string) {
	if ds.hpackLost {
		return
	}
	ds.hpackLost = true
	c.h.Anomaly(ds.dir, 0, Anomaly{ID: AnHeadersLost, Offset: int64(ds.fOff),
		Msg: why + "; the HPACK dynamic table is no longer known, so the rest of this direction's header blocks are not decoded"}, m)
}

// endBlock finishes a header block and acts on its fields.
func (c *Conn) endBlock(ds *dirState, f *Frame, m Meta) {
	ds.inBlock = false
	ok := !ds.hpackLost && !ds.blockErr
	if ok {
		if err := ds.dec.Close(); err != nil {
			c.h.Anomaly(ds.dir, ds.blockID, Anomaly{ID: AnHPACKError, Offset: int64(ds.fOff),
				Msg: fmt.Sprintf("header block of stream %d is truncated (%v); the rest of this direction's header blocks are lost", ds.blockID, err)}, m)
			ds.hpackLost = true
			ok = false
		}
	}
	if ok {
		if ds.fieldsCut {
			c.h.Anomaly(ds.dir, ds.blockID, Anomaly{ID: AnHeadersLost, Offset: int64(ds.fOff),
				Msg: fmt.Sprintf("header block of stream %d decodes to more than %d bytes; the rest was not kept", ds.blockID, c.lim.MaxHeaderBlock)}, m)
		}
		f.Fields = ds.fields
	}
	c.h.Frame(f, m)
	if ds.blockType == http2.FramePushPromise {
		return // pushed streams are not WebSocket; decoding kept the table in step
	}
	c.headers(ds.dir, ds.blockID, f.Fields, ok, ds.blockES, m)
}

// applySetting applies a setting sent in direction d.
func (c *Conn) applySetting(d Dir, st http2.Setting) {
	other := &c.dirs[d^1]
	switch st.ID {
	case http2.SettingEnableConnectProtocol:
		if d == ServerToClient {
			c.connectEnabled = st.Val == 1
		}
	case http2.SettingHeaderTableSize:
		// The sender of the setting decodes; the other direction's encoder
		// may now use up to this size.
		other.dec.SetAllowedMaxDynamicTableSize(st.Val)
	case http2.SettingMaxFrameSize:
		if st.Val >= 16384 && st.Val <= 1<<24-1 {
			other.maxFrame = st.Val
		}
	}
}

// headers acts on a decoded (or lost, when !ok) HEADERS block.
func (c *Conn) headers(d Dir, id uint32, fields []hpack.HeaderField, ok, endStream bool, m Meta) {
	s := c.streams[id]
	if d == ClientToServer && s == nil {
		// A new request (streams that finished are not tracked: a late
		// HEADERS on one starts nothing).
		if c.recentlyEnded(id) {
			return
		}
		if len(c.streams) >= c.lim.MaxStreams {
			c.evict()
		}
		s = &Stream{ID: id}
		if ok {
			s.Request = append([]hpack.HeaderField(nil), fields...)
		}
		c.track(s)
		s.RequestMeta = m
		c.request(s, m)
	} else if s != nil && d == ServerToClient && s.Status == 0 && ok {
		st, _ := Get(fields, ":status")
		code, err := strconv.Atoi(st)
		if err != nil || code < 100 || code > 999 {
			code = 0
		}
		if code >= 100 && code < 200 {
			return // interim
		}
		if code != 0 {
			s.Status = code
			s.ResponseMeta = m
			if s.carries() {
				s.Response = append([]hpack.HeaderField(nil), fields...)
				n := fieldsCost(s.Response)
				s.cost += n
				c.kept += n
				c.answer(s, m)
			}
		}
	}
	if s != nil && endStream && !s.closed {
		c.endStream(s, d, m)
	}
}

// request classifies a new request.
func (c *Conn) request(s *Stream, m Meta) {
	method, _ := Get(s.Request, ":method")
	proto, hasProto := Get(s.Request, ":protocol")
	switch {
	case method == "CONNECT" && !hasProto:
		s.Tunnel = true
		c.stats.Tunnels++
	case method == "CONNECT" && strings.EqualFold(proto, "websocket"):
		s.WebSocket = true
		c.stats.WebSockets++
	default:
		c.stats.Requests++
		c.h.Request(s, m)
		c.forget(s)
		return
	}
	if c.lim.Budget != nil {
		// Charged now rather than with the next charge, to know whether
		// the budget still allows it.
		c.charged += s.cost
		if !c.lim.Budget.Force(s.cost) {
			c.shed(s, m)
		}
	}
	add := func(id, msg string) { s.Anomalies = append(s.Anomalies, Anomaly{ID: id, Msg: msg, Offset: -1}) }
	if s.Tunnel {
		if _, ok := Get(s.Request, ":authority"); !ok {
			add(AnConnectPseudoMissing, "CONNECT lacks the :authority pseudo-header naming the tunnel's target")
		}
		return
	}
	if !c.connectEnabled {
		add(AnConnectNotEnabled, "extended CONNECT (:protocol websocket) sent before the server's SETTINGS_ENABLE_CONNECT_PROTOCOL=1")
	}
	for _, p := range [...]string{":path", ":scheme", ":authority"} {
		if _, ok := Get(s.Request, p); !ok {
			add(AnConnectPseudoMissing, "extended CONNECT lacks the "+p+" pseudo-header")
		}
	}
	if _, ok := Get(s.Request, "sec-websocket-key"); ok {
		add(AnWebSocketKeyPresent, "extended CONNECT carries sec-websocket-key, which RFC 8441 does not use")
	}
}

// answer handles the final response to a WebSocket extended CONNECT or a
// tunnel's CONNECT.
func (c *Conn) answer(s *Stream, m Meta) {
	if _, ok := Get(s.Response, "sec-websocket-accept"); ok && s.WebSocket {
		s.Anomalies = append(s.Anomalies, Anomaly{ID: AnWebSocketKeyPresent, Offset: -1,
			Msg: "the response carries sec-websocket-accept, which RFC 8441 does not use"})
	}
	held := s.pending
	s.cost -= int64(s.pendLen)
	c.kept -= int64(s.pendLen)
	s.pending, s.pendLen = nil, 0
	if s.Status < 200 || s.Status > 299 {
		s.Rejected = true
		c.h.Rejected(s, m)
		return
	}
	s.Open = true
	c.h.Open(s, m)
	for _, p := range held {
		if !s.Open {
			break
		}
		if p.gap > 0 {
			c.h.DataGap(s, ClientToServer, p.gap, true, p.m)
		} else {
			c.h.Data(s, ClientToServer, p.b, p.m)
		}
	}
}

// endStream handles END_STREAM in direction d.
func (c *Conn) endStream(s *Stream, d Dir, m Meta) {
	s.ended[d] = true
	if s.ended[0] && s.ended[1] {
		c.finishStream(s, EndReason{Kind: EndStream}, m)
	}
}

// finishStream ends s for good.
func (c *Conn) finishStream(s *Stream, r EndReason, m Meta) {
	if s.closed {
		return
	}
	s.closed = true
	if s.Open || s.Rejected {
		s.Open = false
		c.h.End(s, r, m)
	}
	delete(c.streams, s.ID)
	c.kept -= s.cost
	s.cost = 0
	c.remember(endedStream{id: s.ID, endStream: s.ended})
}

// remember keeps a finished stream in a small ring.
func (c *Conn) remember(e endedStream) {
	const ringLen = 64
	if len(c.ended) < ringLen {
		c.ended = append(c.ended, e)
		return
	}
	c.ended[c.endedAt] = e
	c.endedAt = (c.endedAt + 1) % ringLen
}

// recentlyEnded reports whether stream id finished lately.
func (c *Conn) recentlyEnded(id uint32) bool {
	for _, e := range c.ended {
		if e.id == id {
			return true
		}
	}
	return false
}

// endedWith reports whether stream id finished lately after END_STREAM in
// direction d.
func (c *Conn) endedWith(id uint32, d Dir) bool {
	for _, e := range c.ended {
		if e.id == id {
			return e.endStream[d]
		}
	}
	return false
}

// shed stops tracking the oldest unanswered CONNECT (extended, or for a
// tunnel) other than keep, reporting it, when the memory budget is
// exhausted: each new CONNECT then takes the place of an old one, so an
// HTTP/2 connection holds no more than it did when the budget ran out.
func (c *Conn) shed(keep *Stream, m Meta) {
	var victim *Stream
	for _, s := range c.streams {
		if s != keep && s.carries() && !s.Open && !s.Rejected && (victim == nil || s.ID < victim.ID) {
			victim = s
		}
	}
	if victim != nil {
		c.untrack(victim, AnMemoryBudget, "the memory budget is exhausted", m)
	}
}

// untrack stops tracking s, reporting it when it is a CONNECT (extended,
// or for a tunnel) that an answer would have opened, or an open session or
// tunnel whose later DATA is then not decoded; why says what forced it.
func (c *Conn) untrack(s *Stream, id, why string, m Meta) {
	switch {
	case s.carries() && !s.Open && !s.Rejected:
		c.h.Anomaly(ClientToServer, s.ID, Anomaly{ID: id, Offset: -1,
			Msg: fmt.Sprintf("the %s of stream %d is no longer tracked (%s): an answer will not open it", s.what(), s.ID, why)}, m)
	case s.Open:
		c.h.Anomaly(ClientToServer, s.ID, Anomaly{ID: id, Offset: -1,
			Msg: fmt.Sprintf("the open %s of stream %d is no longer tracked (%s): its later data is not decoded", s.what(), s.ID, why)}, m)
	}
	c.finishStream(s, EndReason{Kind: EndDropped}, m)
}

// evict drops the oldest-numbered stream that is not an open WebSocket
// session or tunnel (the oldest of all when every one is).
func (c *Conn) evict() {
	var victim *Stream
	for _, s := range c.streams {
		if !s.Open && (victim == nil || s.ID < victim.ID) {
			victim = s
		}
	}
	if victim == nil {
		for _, s := range c.streams {
			if victim == nil || s.ID < victim.ID {
				victim = s
			}
		}
	}
	if victim != nil {
		c.untrack(victim, AnStreamsLimit, fmt.Sprintf("more than %d streams are open at once", c.lim.MaxStreams), c.dirs[0].lastM)
	}
}

// goAway handles a GOAWAY sent in direction d.
func (c *Conn) goAway(d Dir, last uint32, code http2.ErrCode, m Meta) {
	c.goaway, c.goawayBy, c.goawayCode = true, d, code
	r := EndReason{Kind: EndGoAway, By: d, Code: code}
	for _, s := range c.sortedStreams() {
		// Streams the receiver of the GOAWAY initiated above last were not
		// processed; with an error code every stream is over.
		initiatedByReceiver := (s.ID%2 == 1) == (d == ServerToClient)
		if (initiatedByReceiver && s.ID > last) || code != http2.ErrCodeNo {
			c.finishStream(s, r, m)
		}
	}
}

// sortedStreams returns the tracked streams in id order.
func (c *Conn) sortedStreams() []*Stream {
	out := make([]*Stream, 0, len(c.streams))
	for _, s := range c.streams {
		out = append(out, s)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// Close ends the connection: open sessions end (GOAWAY when one was seen,
// else connection closed).
func (c *Conn) Close(m Meta) {
	if c.closed {
		return
	}
	for i := range c.dirs {
		ds := &c.dirs[i]
		if ds.searching {
			c.searchEnd(ds, m)
		}
	}
	r := EndReason{Kind: EndConnClosed}
	if c.goaway {
		r = EndReason{Kind: EndGoAway, By: c.goawayBy, Code: c.goawayCode}
	}
	for _, s := range c.sortedStreams() {
		c.finishStream(s, r, m)
	}
	c.closed = true
	c.charge() // gives everything back
}

// OpenSessions calls fn for each open WebSocket session and tunnel.
func (c *Conn) OpenSessions(fn func(s *Stream)) {
	for _, s := range c.sortedStreams() {
		if s.Open {
			fn(s)
		}
	}
}
