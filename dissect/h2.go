package dissect

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/net/http2/hpack"

	"github.com/wsdissect/wsdissect/h2"
	"github.com/wsdissect/wsdissect/http1"
	"github.com/wsdissect/wsdissect/internal/inflate"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/reassembly"
)

// HTTP/2 (RFC 9113) and WebSockets over it (RFC 8441).
//
// A connection enters HTTP/2 mode (modeH2) when the client's first bytes are
// the connection preface (prior knowledge), after a 101 answer to
// "Upgrade: h2c", or when the TLS layer calls startHTTP2 because ALPN chose
// "h2". The h2 package turns the bytes into streams; each extended CONNECT
// answered with 2xx becomes a session (h2Session, the wsSession of its
// decoders) with its own Conn (same TCP stream number, H2Stream set) and two
// wsDir decoders fed with the stream's DATA payloads. The parent connState's Conn (H2Stream 0) carries
// the anomalies of the HTTP/2 connection as a whole.

// h2State is the HTTP/2 side of a connection.
type h2State struct {
	c        *connState
	conn     *h2.Conn
	sessions map[uint32]*h2Session
	// tunnels are the open CONNECT tunnels (h2tunnel.go); tunnelShown is
	// set once one that ended was listed.
	tunnels     map[uint32]*h2Tunnel
	tunnelShown bool
	lastPkt     uint64
	lastTS      time.Time
}

// h2Detect looks for the start of HTTP/2 on a side whose role is not known
// yet: the client preface, or (role 3) a server's SETTINGS frame sent before
// the client's preface arrived. It reports whether hs.buf was taken care
// of (so HTTP/1.1 detection must not run).
func (c *connState) h2Detect(side reassembly.Side, hs *httpSide) bool {
	b := hs.buf
	n := min(len(b), len(h2.Preface))
	if bytes.Equal(b[:n], []byte(h2.Preface[:n])) {
		if n < len(h2.Preface) {
			return true // wait for the rest of the preface
		}
		other := &c.http[side.Other()]
		held := other.buf
		if other.role != 3 && other.role != 0 {
			return false
		}
		c.startHTTP2(side)
		c.mode = modeH2
		// The server's held bytes (its SETTINGS) arrived first.
		if len(held) > 0 {
			c.h2Data(side.Other(), held, other.lastPkt, other.lastTS)
		}
		c.h2Data(side, b, hs.lastPkt, hs.lastTS)
		c.d.keepHTTPBufs(&c.http)
		c.http = [2]httpSide{}
		return true
	}
	if c.http[side.Other()].role == 0 && looksLikeH2Settings(b) {
		if len(b) > c.d.opts.MaxHTTPHeader {
			hs.role = 0
			c.notHTTP()
			return true
		}
		hs.role = 3
		return true
	}
	if hs.role == 3 {
		hs.role = 0
	}
	return false
}

// looksLikeH2Settings reports whether b starts like a SETTINGS frame (type
// 4, no flags, stream 0, a length that is a multiple of 6), as a server
// sends first.
func looksLikeH2Settings(b []byte) bool {
	want := [9]byte{0, 0, 0, 4, 0, 0, 0, 0, 0}
	for i := 0; i < len(b) && i < 9; i++ {
		if i < 3 {
			continue
		}
		if b[i] != want[i] {
			return false
		}
	}
	if len(b) >= 3 {
		l := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
		return l%6 == 0 && l <= 16384
	}
	return true
}

// startHTTP2 sets up HTTP/2 decoding of c with clientSide as the side that
// sends the connection preface. It does not change how c routes its TCP
// bytes: the cleartext paths (preface, h2c upgrade) then set modeH2, whose
// Data and Gap go to h2Data and h2Gap.
//
// It is the entry point of the TLS layer when ALPN chose "h2": call
// startHTTP2 once the TLS handshake is done, then h2Data with each piece of
// decrypted application data in order (the client's starts with the
// preface), h2Gap for application bytes lost, and Close as usual (Close
// ends the HTTP/2 sessions whenever c.h2 is set, whatever the mode).
func (c *connState) startHTTP2(clientSide reassembly.Side) {
	c.setClient(clientSide)
	// (In a tunnel on an HTTP/2 stream, the stream is TunnelStream's now.)
	c.conn.HTTP2, c.conn.H2Stream = true, 0
	hs := &h2State{c: c, sessions: make(map[uint32]*h2Session)}
	hs.conn = h2.NewConn(hs, h2.Limits{
		MaxHeaderBlock: c.d.opts.MaxHTTPHeader,
		MaxSearch:      c.d.opts.MaxSearch,
		Budget:         c.d.mem,
	})
	c.d.mem.Force(h2ConnCost)
	c.h2 = hs
}

// h2ConnCost is what an HTTP/2 connection's decoder costs besides what
// h2.Conn charges itself: its state and the two HPACK decoders with their
// dynamic tables (4 KiB each).
const h2ConnCost = int64(unsafe.Sizeof(h2State{}) + unsafe.Sizeof(h2.Conn{}) + 2*(4096+512))

// h2SessionCost is what a WebSocket session over HTTP/2 costs: its state
// and, once it is open, its two direction decoders (their buffers are
// charged as they grow).
const (
	h2SessionCost  = int64(unsafe.Sizeof(h2Session{}))
	h2DecodersCost = 2 * int64(unsafe.Sizeof(wsDir{}))
)

// upgradeH2C switches to HTTP/2 after a 101 answer to "Upgrade: h2c": the
// request becomes stream 1; rest are the server's bytes after the 101.
func (c *connState) upgradeH2C(req pendingReq, rest []byte, pkt uint64, ts time.Time) {
	c.startHTTP2(c.clientSide)
	c.mode = modeH2
	h := req.head
	fields := []hpack.HeaderField{{Name: ":method", Value: h.Method}, {Name: ":path", Value: h.Target}}
	for _, f := range h.Headers {
		fields = append(fields, hpack.HeaderField{Name: f.Name, Value: f.Value})
	}
	c.h2.conn.UpgradeStream1(fields, h2.Meta{Packet: req.pkt, Time: req.ts})
	cs := &c.http[c.clientSide]
	held, hpkt, hts := cs.buf, cs.lastPkt, cs.lastTS
	if len(rest) > 0 {
		c.h2Data(c.clientSide.Other(), rest, pkt, ts)
	}
	if len(held) > 0 {
		c.h2Data(c.clientSide, held, hpkt, hts)
	}
	c.d.keepHTTPBufs(&c.http)
	c.http = [2]httpSide{}
}

// h2DirOf maps a side to an HTTP/2 direction.
func (c *connState) h2DirOf(side reassembly.Side) h2.Dir {
	if c.dirOf(side) == ServerToClient {
		return h2.ServerToClient
	}
	return h2.ClientToServer
}

// h2Data feeds bytes of one side to the HTTP/2 layer.
func (c *connState) h2Data(side reassembly.Side, b []byte, pkt uint64, ts time.Time) {
	c.h2.lastPkt, c.h2.lastTS = pkt, ts
	c.h2.conn.Feed(c.h2DirOf(side), b, h2.Meta{Packet: pkt, Time: ts})
}

// h2Gap reports n bytes of one side missing.
func (c *connState) h2Gap(side reassembly.Side, n uint64, pkt uint64, ts time.Time) {
	if !c.h2.conn.Gap(c.h2DirOf(side), n, h2.Meta{Packet: pkt, Time: ts}) {
		c.anomalyRecord(side, true, newAnomaly(AnTCPGap, -1,
			fmt.Sprintf("%d bytes of the HTTP/2 connection are missing from the capture", n)), pkt, ts)
	}
}

// h2Close ends the HTTP/2 connection and its sessions.
func (c *connState) h2Close() {
	hs := c.h2
	hs.conn.Close(h2.Meta{Packet: hs.lastPkt, Time: hs.lastTS})
	for _, s := range hs.sessions {
		// End was not called (cannot happen once Close ran); free anyway.
		hs.freeSession(s)
	}
	for id, t := range hs.tunnels {
		// (Likewise.)
		hs.endTunnel(id, t, h2.EndReason{Kind: h2.EndConnClosed}, h2.Meta{Packet: hs.lastPkt, Time: hs.lastTS})
	}
	c.d.stats.H2Requests += hs.conn.Stats().Requests
	c.d.mem.Give(h2ConnCost)
	c.h2 = nil
}

// Frame implements h2.Handler.
func (hs *h2State) Frame(*h2.Frame, h2.Meta) {}

// Request implements h2.Handler: ordinary requests are counted only.
func (hs *h2State) Request(*h2.Stream, h2.Meta) {}

// h2Session is a WebSocket session on one HTTP/2 stream: the wsSession of
// its two direction decoders, which are fed with the stream's DATA. Its
// records carry their own Conn (the TCP connection's stream number and
// addresses, H2Stream set).
type h2Session struct {
	p          *connState // the TCP connection's state
	conn       Conn
	clientSide reassembly.Side
	ws         [2]*wsDir // by Dir
	end        End
	rec        Record
	cost       int64 // charged to the memory budget
}

// newSession returns the session of the extended CONNECT on stream s.
func (hs *h2State) newSession(s *h2.Stream) *h2Session {
	p := hs.c
	ch := &h2Session{p: p, clientSide: p.clientSide}
	ch.conn.Stream, ch.conn.FirstPacket = p.conn.Stream, p.info.FirstPacket
	ch.conn.Client, ch.conn.Server = p.info.Addr[p.clientSide], p.info.Addr[p.clientSide.Other()]
	ch.conn.HTTP2, ch.conn.H2Stream = true, s.ID
	ch.conn.TLS = p.conn.TLS
	ch.conn.Proxy = p.proxy
	ch.conn.setTunnel(p.info)
	ch.cost = h2SessionCost
	p.d.mem.Force(ch.cost)
	return ch
}

func (ch *h2Session) wsConn() *Conn                       { return &ch.conn }
func (ch *h2Session) options() *Options                   { return &ch.p.d.opts }
func (ch *h2Session) memory() *membudget.Account          { return ch.p.d.mem }
func (ch *h2Session) inflater(bits int) *inflate.Inflater { return ch.p.d.inflater(bits) }
func (ch *h2Session) probing() bool                       { return false }
func (ch *h2Session) unproven() bool                      { return false }
func (ch *h2Session) emit(r *Record)                      { ch.p.d.emit(r) }
func (ch *h2Session) record() *Record                     { return &ch.p.d.rec }
func (ch *h2Session) watermark() *searchers               { return &ch.p.d.searchers }
func (ch *h2Session) buffers() *bufPool                   { return &ch.p.d.bufs }
func (ch *h2Session) previewOnly() bool                   { return ch.p.d.previewOnly(&ch.conn) }
func (ch *h2Session) releaseInflater(infl *inflate.Inflater, bits int) {
	ch.p.d.keepInflater(infl, bits)
}

// drainHeld implements wsSession: a session holds nothing back (synced
// replays at once).
func (ch *h2Session) drainHeld(bool) {}

// sawClose implements wsSession.
func (ch *h2Session) sawClose(d Dir, f *Frame) {
	if ch.end.HasClose {
		return
	}
	ch.end.HasClose, ch.end.CloseFrom = true, d
	ch.end.HasCloseCode, ch.end.CloseCode = f.HasCloseCode, f.CloseCode
}

// dirOf maps a side of the TCP connection to a WebSocket direction.
func (ch *h2Session) dirOf(s reassembly.Side) Dir {
	if s == ch.clientSide {
		return ClientToServer
	}
	return ServerToClient
}

// anomalyRecord implements wsSession.
func (ch *h2Session) anomalyRecord(side reassembly.Side, hasDir bool, a Anomaly, pkt uint64, ts time.Time) {
	ch.p.d.emitAnomaly(&ch.rec, &ch.conn, ch.dirOf(side), hasDir, a, pkt, ts)
}

// synced implements wsSession: the stream's directions are not kept in
// order with each other, so the bytes are replayed at once, after the
// anomaly saying what the search skipped.
func (ch *h2Session) synced(w *wsDir, p *syncPoint) {
	prev, first := 0, true
	for _, m := range p.marks {
		lo := max(prev, p.at)
		if m.end > lo {
			if first && p.skipped > 0 {
				ch.anomalyRecord(w.side, true, resyncAnomaly(p.base+uint64(p.at), p.skipped), m.pkt, m.ts)
			}
			first = false
			w.feed(p.data[lo:m.end], m.pkt, m.ts)
		}
		prev = m.end
	}
}

// emitConn emits the session's connection record and the anomalies of its
// handshake.
func (ch *h2Session) emitConn(pkt uint64, ts time.Time, an []Anomaly) {
	ch.end.Start = ts
	if !ch.conn.RequestTime.IsZero() {
		ch.end.Start = ch.conn.RequestTime
	}
	ch.rec = Record{Kind: KindConn, Conn: &ch.conn, Packet: pkt, Time: ts}
	ch.p.d.emit(&ch.rec)
	ch.p.h2Sessions = true
	if ch.p.info.Evicted {
		ch.anomalyRecord(ch.clientSide, false, evictedEarlier(), pkt, ts)
	}
	for _, a := range an {
		ch.anomalyRecord(ch.clientSide, false, a, pkt, ts)
	}
}

// Open implements h2.Handler: a WebSocket session or a tunnel starts.
func (hs *h2State) Open(s *h2.Stream, m h2.Meta) {
	if s.Tunnel {
		hs.openTunnel(s, m)
		return
	}
	ch := hs.newSession(s)
	an := fillH2Handshake(&ch.conn, s)
	ch.emitConn(m.Packet, m.Time, an)
	ch.cost += h2DecodersCost
	hs.c.d.mem.Force(h2DecodersCost)
	for d := ClientToServer; d <= ServerToClient; d++ {
		w := hs.c.d.newDir(ch, d)
		w.side = ch.clientSide
		if d == ServerToClient {
			w.side = ch.clientSide.Other()
		}
		ch.ws[d] = w
	}
	hs.sessions[s.ID] = ch
}

// Rejected implements h2.Handler: the session has its connection record
// now and, like every session, an end record when its stream ends (it has
// no decoders: no WebSocket data follows a refusal). A refused tunnel
// carries nothing, and is not listed (as over HTTP/1.1).
func (hs *h2State) Rejected(s *h2.Stream, m h2.Meta) {
	if s.Tunnel {
		return
	}
	ch := hs.newSession(s)
	an := fillH2Handshake(&ch.conn, s)
	ch.emitConn(m.Packet, m.Time, an)
	hs.sessions[s.ID] = ch
}

// Data implements h2.Handler.
func (hs *h2State) Data(s *h2.Stream, d h2.Dir, b []byte, m h2.Meta) {
	if t := hs.tunnels[s.ID]; t != nil {
		hs.tunnelData(t, d, b, m)
		return
	}
	if ch := hs.sessions[s.ID]; ch != nil && ch.ws[Dir(d)] != nil {
		ch.ws[Dir(d)].feed(b, m.Packet, m.Time)
	}
}

// DataGap implements h2.Handler.
func (hs *h2State) DataGap(s *h2.Stream, d h2.Dir, n uint64, exact bool, m h2.Meta) {
	if t := hs.tunnels[s.ID]; t != nil {
		hs.tunnelGap(t, d, n, exact, m)
		return
	}
	ch := hs.sessions[s.ID]
	if ch == nil || ch.ws[Dir(d)] == nil {
		return
	}
	w := ch.ws[Dir(d)]
	if !exact && w.st == stPayload && n < w.left {
		// The frame layer lost its place: how much of this stream's data is
		// gone is unknown, so the WebSocket frame cannot be resumed.
		n = w.left
	}
	reason := "lost from the capture"
	if !exact {
		reason = "lost from the capture; the HTTP/2 frame layer resynchronised, so this is only an upper bound"
	}
	w.gap(&reassembly.Gap{Offset: w.off, Len: n, Packet: m.Packet, Time: m.Time, Reason: reason})
}

// End implements h2.Handler.
func (hs *h2State) End(s *h2.Stream, r h2.EndReason, m h2.Meta) {
	if t := hs.tunnels[s.ID]; t != nil {
		hs.endTunnel(s.ID, t, r, m)
		return
	}
	ch := hs.sessions[s.ID]
	if ch == nil {
		return
	}
	e := &ch.end
	if !s.Rejected {
		for _, w := range ch.ws {
			w.finish()
		}
		ch.anomalyRecord(ch.clientSide, false, newAnomaly(AnH2StreamClosed, -1,
			fmt.Sprintf("WebSocket session on HTTP/2 stream %d ended: %s", s.ID, r)), m.Packet, m.Time)
		for _, w := range ch.ws {
			e.Totals[w.dir] = addTotals(e.Totals[w.dir], w.tot)
		}
	}
	switch r.Kind {
	case h2.EndStream:
		e.Reason = EndH2Stream
	case h2.EndReset:
		e.Reason = EndH2Reset
		e.HasRST, e.RSTFrom = true, ClientToServer
		if r.By == h2.ServerToClient {
			e.RSTFrom = ServerToClient
		}
	case h2.EndGoAway:
		e.Reason = EndH2GoAway
	case h2.EndDropped:
		e.Reason = EndEvicted
	default:
		// The TCP connection ended with the session still open.
		e.Reason = hs.c.closeReason
	}
	ch.rec = Record{Kind: KindEnd, Conn: &ch.conn, Packet: m.Packet, Time: m.Time, End: e}
	ch.p.d.emit(&ch.rec)
	hs.freeSession(ch)
}

// freeSession recycles a session's decoders.
func (hs *h2State) freeSession(ch *h2Session) {
	delete(hs.sessions, ch.conn.H2Stream)
	hs.c.d.mem.Give(ch.cost)
	ch.cost = 0
	for i, w := range ch.ws {
		if w != nil {
			ch.ws[i] = nil
			hs.c.d.recycle(w)
		}
	}
}

// Anomaly implements h2.Handler.
func (hs *h2State) Anomaly(d h2.Dir, stream uint32, a h2.Anomaly, m h2.Meta) {
	side := hs.c.clientSide
	if d == h2.ServerToClient {
		side = side.Other()
	}
	an := newAnomaly(a.ID, a.Offset, a.Msg)
	if ch := hs.sessions[stream]; ch != nil {
		ch.anomalyRecord(side, true, an, m.Packet, m.Time)
		return
	}
	hs.c.anomalyRecord(side, true, an, m.Packet, m.Time)
}

// fillH2Handshake fills c from the extended CONNECT of stream s and returns
// the handshake anomalies: those the h2 layer found and the negotiation
// checks shared with HTTP/1.1 (subprotocol and extensions).
func fillH2Handshake(c *Conn, s *h2.Stream) []Anomaly {
	an := streamAnomalies(s)
	get := func(fs []hpack.HeaderField, name string) string {
		v, _ := h2.Get(fs, name)
		return v
	}
	c.Method = get(s.Request, ":method")
	c.Path = get(s.Request, ":path")
	c.Host = get(s.Request, ":authority")
	c.Origin = get(s.Request, "origin")
	c.UserAgent = get(s.Request, "user-agent")
	_, c.HasCookie = h2.Get(s.Request, "cookie")
	c.Version = get(s.Request, "sec-websocket-version")
	c.RequestHeaders, c.Request = h2Headers(s.Request)
	c.ResponseHeaders, c.Response = h2Headers(s.Response)
	if v := joined(c.RequestHeaders, "sec-websocket-protocol"); v != "" {
		c.SubprotocolsOffered = http1.SplitList(v)
	}
	if v := joined(c.RequestHeaders, "sec-websocket-extensions"); v != "" {
		c.ExtensionsOffered = http1.SplitList(v)
	}
	c.RequestPacket, c.RequestTime = s.RequestMeta.Packet, s.RequestMeta.Time
	c.ResponsePacket, c.ResponseTime = s.ResponseMeta.Packet, s.ResponseMeta.Time
	c.Status = s.Status
	if s.Status < 200 || s.Status > 299 {
		an = append(an, newAnomaly(AnUpgradeRejected, -1,
			fmt.Sprintf("server answered the extended CONNECT on HTTP/2 stream %d with %d", s.ID, s.Status)))
		return an
	}
	c.Subprotocol = joined(c.ResponseHeaders, "sec-websocket-protocol")
	if v := joined(c.ResponseHeaders, "sec-websocket-extensions"); v != "" {
		c.Extensions = http1.SplitList(v)
	}
	an = append(an, negotiationAnomalies(c)...)
	return an
}

// streamAnomalies returns what the h2 layer found on the request and
// response headers of stream s.
func streamAnomalies(s *h2.Stream) []Anomaly {
	var an []Anomaly
	for _, a := range s.Anomalies {
		an = append(an, newAnomaly(a.ID, a.Offset, a.Msg))
	}
	return an
}

// joined returns the value of header name in hs (repeated fields are
// already joined).
func joined(hs []Header, name string) string {
	for _, h := range hs {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}

// h2Headers converts decoded fields to Headers (pseudo-headers first, as
// sent; repeated regular fields joined with ", ", cookie with "; ") and a
// text rendering of the block: one "name: value" line per field, each
// ending in "\n" (HTTP/2 has no CRLF or blank line).
func h2Headers(fs []hpack.HeaderField) ([]Header, string) {
	if len(fs) == 0 {
		return nil, ""
	}
	var out []Header
	var raw strings.Builder
	for _, f := range fs {
		raw.WriteString(f.Name)
		raw.WriteString(": ")
		raw.WriteString(f.Value)
		raw.WriteByte('\n')
		name := strings.ToLower(f.Name)
		found := false
		if !strings.HasPrefix(name, ":") {
			for i := range out {
				if out[i].Name == name {
					sep := ", "
					if name == "cookie" {
						sep = "; "
					}
					out[i].Value += sep + f.Value
					found = true
					break
				}
			}
		}
		if !found {
			out = append(out, Header{Name: name, Value: f.Value})
		}
	}
	return out, raw.String()
}
