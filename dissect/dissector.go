package dissect

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/http1"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// Options configures a Dissector. The zero value of a field selects its default.
type Options struct {
	// MaxMessage caps the payload bytes retained per message (and per
	// frame). It limits what is kept, not what is decoded: a longer
	// compressed message is still inflated to its end (keeping the deflate
	// context of later messages exact), and its Len is its real length.
	// Default 64 MiB.
	MaxMessage int64
	// MaxDecompressed caps the bytes one compressed message may inflate to
	// (the decompression-bomb guard); beyond it the message is cut off
	// (decompression-limit) and the direction's deflate context is lost.
	// Default 1 GiB.
	MaxDecompressed int64
	// MaxHTTPHeader caps an HTTP header block. Default 64 KiB.
	MaxHTTPHeader int
	// MaxSearch caps the bytes buffered per direction while looking for a
	// frame boundary (mid-stream pickup, resync after a gap). Default 256 KiB.
	MaxSearch int
	// Messages selects message records instead of frame records.
	Messages bool
	// WSPorts are ports whose connections are treated as WebSocket even
	// without a handshake (like Wireshark's Decode As).
	WSPorts []uint16
	// NoMidstream disables the mid-stream heuristic for connections whose
	// handshake is not in the capture.
	NoMidstream bool
	// KeyLog holds the TLS secrets used to decrypt connections that start
	// with a TLS ClientHello (on any port); nil decrypts nothing, but such
	// connections are still listed. It is safe for concurrent use, so one
	// KeyLog can be shared by the Dissectors of several workers.
	KeyLog *tlsdecrypt.KeyLog
	// WaitEarlier, when set, returns once everything before the current
	// point of the single-threaded order was decoded by every Dissector
	// running beside this one (see tlsdecrypt.EarlierWaiter). It is called
	// by a TLS 1.2 connection resuming a session not remembered yet.
	WaitEarlier func()
	// Memory, when set, is the memory budget the dissector charges its
	// connections' state and buffers to (see budget.go); when it is
	// exhausted, buffers stop growing and what they would have held is
	// dropped with a memory-budget anomaly.
	Memory *membudget.Budget
	// KeepHTTP, when set, selects the plain HTTP/1.1 requests (not
	// upgrades) whose exchange becomes a KindHTTP record with its bodies,
	// given the request's method and target; others are skipped as before.
	KeepHTTP func(method, target string) bool
	// PayloadCost is how many bytes of memory each retained payload byte
	// stands for in the budget (0 means 1): a renderer that formats a
	// record in memory holds its payload several times over (a hex dump
	// about five times), so retaining less of it keeps the whole within
	// the budget.
	PayloadCost int
	// DiscardPayload decodes data frames without keeping their payload:
	// text is still unmasked and validated as UTF-8 as it passes, and
	// lengths, anomalies and compression are unchanged, but frame and
	// message records carry no payload bytes of data messages (control
	// frames keep theirs; compressed messages are inflated and validated
	// straight from the inflater's window, and marked truncated past
	// MaxMessage as when kept). For runs that only count records (-q
	// without a filter), where copying every payload into a buffer was a
	// sixth of the time.
	DiscardPayload bool
	// PreviewBytes, when positive (and below MaxMessage), keeps only the
	// first PreviewBytes bytes of each uncompressed data frame's payload
	// (of each message's, with Messages) for connections whose sink says
	// it needs no more (a PreviewPolicy; a sink that is none gets whole
	// payloads): a summary line shows a preview and the length. Text is still
	// unmasked and validated as it passes, lengths and anomalies are
	// unchanged, and Frame.Preview and Message.Preview mark the records.
	// Payloads that arrive whole in one delivery are shown whole.
	PreviewBytes int
}

// PreviewPolicy is implemented by a Sink that knows, per connection,
// whether its records need whole payloads when Options.PreviewBytes is set
// (an application-protocol decoder does; a summary of plain JSON does not).
// WholePayload is asked at the start of each data message.
type PreviewPolicy interface {
	WholePayload(c *Conn) bool
}

// Default limits.
const (
	DefaultMaxMessage      = 64 << 20
	DefaultMaxDecompressed = 1 << 30
	DefaultMaxHTTPHeader   = 64 << 10
	DefaultMaxSearch       = 256 << 10
)

func (o *Options) setDefaults() {
	if o.MaxMessage <= 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	if o.MaxDecompressed <= 0 {
		o.MaxDecompressed = DefaultMaxDecompressed
	}
	if o.MaxHTTPHeader <= 0 {
		o.MaxHTTPHeader = DefaultMaxHTTPHeader
	}
	if o.MaxSearch <= 0 {
		o.MaxSearch = DefaultMaxSearch
	}
	if o.PayloadCost <= 0 {
		o.PayloadCost = 1
	}
}

// Stats counts what the dissector found.
type Stats struct {
	Conns, Midstream, Frames, Messages, Anomalies uint64
	// H2Requests counts the ordinary (non-WebSocket) HTTP/2 requests seen.
	H2Requests uint64
}

// Add adds the counters of o, from a dissector of other connections (a
// worker's), to s.
func (s *Stats) Add(o Stats) {
	s.Conns += o.Conns
	s.Midstream += o.Midstream
	s.Frames += o.Frames
	s.Messages += o.Messages
	s.Anomalies += o.Anomalies
	s.H2Requests += o.H2Requests
}

// Dissector turns reassembled TCP connections into WebSocket records. It
// implements reassembly.Factory. It is not safe for concurrent use; run one
// per worker.
type Dissector struct {
	sink  Sink
	opts  Options
	err   error
	stats Stats
	pool  dirPool
	bufs  bufPool // message buffers shared by the directions
	// policy is the sink as a PreviewPolicy, nil when it is none.
	policy PreviewPolicy
	tls    []*tlsConn // TLS layers (and sessions) of closed connections, for reuse
	mem    *membudget.Account
	// searchers are the directions holding search bytes (watermark.go).
	searchers searchers
	// rec is the record being emitted. Records are valid only during
	// the sink call, so one serves every connection and direction: kept
	// in each of them, it made an idle connection 384 bytes larger.
	rec Record
	// tlsScratch is the plaintext buffer and key derivation state all the
	// dissector's TLS sessions share (one goroutine feeds them).
	tlsScratch tlsdecrypt.Scratch
	// tlsNested are the scratch space of TLS sessions inside the tunnels
	// of decrypted ones (an HTTPS proxy's), by depth from 1: a session
	// decrypts while the one around it is handing it plaintext.
	tlsNested []*tlsdecrypt.Scratch
}

// previewOnly reports whether the records of a data message of c starting
// now may carry only a preview of its payload.
func (d *Dissector) previewOnly(c *Conn) bool {
	return d.opts.PreviewBytes > 0 && int64(d.opts.PreviewBytes) < d.opts.MaxMessage &&
		d.policy != nil && !d.policy.WholePayload(c)
}

// New returns a Dissector that emits records to sink.
func New(sink Sink, opts Options) *Dissector {
	opts.setDefaults()
	d := &Dissector{sink: sink, opts: opts, mem: opts.Memory.Account()}
	d.bufs.mem = d.mem
	d.policy, _ = sink.(PreviewPolicy)
	d.pool.conns.Max, d.pool.lazy.Max = maxFreeConns, maxFreeConns
	return d
}

// Err returns the first error the sink returned, if any.
func (d *Dissector) Err() error { return d.err }

// Stats returns the counters so far.
func (d *Dissector) Stats() Stats { return d.stats }

// emit hands a record to the sink, remembering the first error.
func (d *Dissector) emit(r *Record) {
	switch r.Kind {
	case KindConn:
		d.stats.Conns++
		if r.Conn.Midstream {
			d.stats.Midstream++
		}
	case KindFrame:
		d.stats.Frames++
	case KindMessage:
		d.stats.Messages++
	}
	d.stats.Anomalies += uint64(len(r.Anomalies))
	if err := d.sink.Emit(r); err != nil && d.err == nil {
		d.err = err
	}
}

// connMode is the state of a connection's dissection.
type connMode uint8

const (
	modeHTTP   connMode = iota // looking for / parsing HTTP
	modeWS                     // WebSocket frames
	modeProbe                  // no handshake: looking for frames heuristically
	modeIgnore                 // not WebSocket
	modeH2                     // HTTP/2 (see h2.go)
)

// pendingReq is a request awaiting its response.
type pendingReq struct {
	head    *http1.Head
	upgrade bool
	connect bool // a CONNECT request: a 2xx answer opens a tunnel
	h2c     bool // the upgrade asks for h2c (RFC 7540 section 3.2)
	pkt     uint64
	ts      time.Time
	ex      *HTTPExchange // a request KeepHTTP selected
}

// maxHeldSegs bounds httpSide.segs.
const maxHeldSegs = 16

// httpSide is the HTTP parsing state of one side.
type httpSide struct {
	buf     []byte
	scan    int
	body    http1.BodyKind
	left    int64
	chunk   http1.ChunkSkipper
	role    int8 // 0 unknown, 1 client, 2 server, 3 HTTP/2 server settings before the client preface
	hold    bool // client waits for the upgrade's response
	lastPkt uint64
	lastTS  time.Time
	// waitReq: this side's response came before any byte of the other
	// side of a connection whose start is in the capture. HTTP servers do
	// not speak first, so the request was sent first and is captured
	// after it (capture order is not wire order) or not at all: the
	// response waits for the other side's first bytes or gap (see
	// releaseResponses).
	waitReq bool
	// segs are where the chunks buffered in buf ended, kept for a
	// connection without a SYN while nothing of buf has been parsed (up to
	// maxHeldSegs): a frame search the buffer is replayed to weighs
	// segment boundaries (see chainAt).
	segs []mark
	// collect is the exchange whose body (the request's when collectReq)
	// this side is reading, when KeepHTTP selected it.
	collect    *HTTPExchange
	collectReq bool
	keepMax    int // MaxHTTPBody, or smallPayload while the memory budget is tight
}

// setKeepMax sets how much of a body keepBody keeps now.
func (c *connState) setKeepMax(hs *httpSide) {
	hs.keepMax = MaxHTTPBody
	if tight(c.d.mem) {
		hs.keepMax = smallPayload
	}
}

// keepBody adds body bytes b to the exchange being collected, up to
// MaxHTTPBody.
func (hs *httpSide) keepBody(b []byte) {
	ex := hs.collect
	if ex == nil || len(b) == 0 {
		return
	}
	dst, cut := &ex.ResponseBody, &ex.ResponseTruncated
	if hs.collectReq {
		dst, cut = &ex.RequestBody, &ex.RequestTruncated
	}
	if room := hs.keepMax - len(*dst); len(b) > room {
		b = b[:max(room, 0)]
		*cut = true
	}
	*dst = append(*dst, b...)
}

// connState dissects one TCP connection; it implements reassembly.Handler.
type connState struct {
	d          *Dissector
	info       *reassembly.ConnInfo
	mode       connMode
	conn       Conn
	clientSide reassembly.Side
	sideKnown  bool
	http       [2]httpSide
	reqs       []pendingReq
	reqBuf     [1]pendingReq // backs reqs while it holds one request
	ws         [2]*wsDir     // by Dir
	connSent   bool
	// h2Sessions: a WebSocket session over HTTP/2 emitted its conn record;
	// the connection is described by its sessions (see tlsConn.listed).
	h2Sessions bool
	forced     bool // a --ws-port connection
	// evident: an upgrade was seen but not decoded (its head too large,
	// bytes of the handshake lost, a 101 answer cut short), so frames found
	// need no more evidence than a resync's (see unproven).
	evident bool
	// headTooLarge: a header block exceeded --max-http-header; draining:
	// the held events are being replayed (order.go).
	headTooLarge, draining bool

	// proxy is the tunnel the connection runs in (Conn.Proxy); tunnel is
	// set when a CONNECT was answered with 2xx: the handler starts the
	// connection afresh inside (lazyConn).
	proxy  *ProxyTunnel
	tunnel *tunnelStart

	// tunnels and depth are those of the handler the connection state
	// belongs to (lazyConn), for the tunnels its HTTP/2 streams open.
	tunnels, depth int

	probed   uint64 // bytes searched before the connection proved to be WebSocket
	h2       *h2State
	httpHeld int64 // header buffer bytes charged to the memory budget

	// Events held back so that records come out in packet order (order.go).
	held      []heldItem
	heldHead  int
	heldFor   [2]int // held items by side
	heldBytes int
	heldTS    time.Time // the latest capture time seen (see maxHold)
	// hole is, per reassembly side, the packet and time of the bytes
	// waiting behind a hole in the reassembler (reassembly.NoteHole), pkt
	// 0 when none (NoteHoleDone): they are delivered once the hole is
	// filled or declared lost, so the other side's later bytes wait too
	// (order.go).
	hole [2]mark

	// What the end record will say: the last packet seen, FINs, RST and
	// close frames so far.
	lastPkt  uint64
	lastTS   time.Time
	end      End
	finSide  [2]bool // by reassembly side
	rstSide  int8    // 0 none, else side+1
	firstFIN int8    // 0 none, else side+1
	// closeReason is why the TCP connection ended, once Close runs (HTTP/2
	// sessions still open then end with it), and closeCause the
	// reassembler's reason (for its HTTP/2 tunnels).
	closeReason EndReason
	closeCause  reassembly.CloseReason
	// endAs, when set, is how what carries the connection (an HTTP/2
	// tunnel's stream) ended: the end record says it instead of
	// closeReason (lazyConn.carrierEnded).
	endAs EndReason
}

// seen remembers the latest packet of the connection.
func (c *connState) seen(pkt uint64, ts time.Time) {
	if pkt >= c.lastPkt {
		c.lastPkt, c.lastTS = pkt, ts
	}
}

// sawClose notes a close frame sent in direction d.
func (c *connState) sawClose(d Dir, f *Frame) {
	if c.end.HasClose {
		return
	}
	c.end.HasClose, c.end.CloseFrom = true, d
	c.end.HasCloseCode, c.end.CloseCode = f.HasCloseCode, f.CloseCode
}

// NewConn implements reassembly.Factory. The connection's state is only
// set up when it delivers bytes or a gap (see lazyConn).
func (d *Dissector) NewConn(info *reassembly.ConnInfo) reassembly.Handler {
	l := d.pool.lazy.Get()
	l.d, l.info = d, info
	return l
}

// newConnState returns the state of the connection described by info.
func (d *Dissector) newConnState(info *reassembly.ConnInfo) *connState {
	c := d.pool.conns.Get()
	c.d, c.info = d, info
	d.mem.Force(stateCost)
	c.conn.Stream, c.conn.FirstPacket = info.Stream, info.FirstPacket
	for _, p := range d.opts.WSPorts {
		if info.Addr[0].Port() == p || info.Addr[1].Port() == p {
			c.forced = true
		}
	}
	return c
}

// lazyConn is the Handler of a connection: it sets up the connection's
// state (a connState, about a kilobyte) at its first bytes or gap, so that
// connections that never carry data (a SYN flood's, port scans') cost a few
// words each while the connection table tracks them. Before that, notes
// and the close have nothing to act on: a connState without data ignores
// them too.
type lazyConn struct {
	d    *Dissector
	info *reassembly.ConnInfo
	c    *connState
	t    *tlsConn // set when the connection starts with a TLS ClientHello
	// proxy is the tunnel once the connection is one (Conn.Proxy);
	// tunnels counts the tunnels entered; skipGap is the side (plus one)
	// whose next gap at stream offset 0 was lost before the tunnel (its
	// CONNECT), not in it.
	proxy   *ProxyTunnel
	tunnels int
	skipGap int8
	// s follows a SOCKS handshake at the connection's start; noSocks is
	// set once the bytes held for it were found not to be one.
	s       *socksStart
	noSocks bool
	// tls is set when the bytes are those a TLS connection decrypted
	// (tlsConn.plainHandler): their connection states describe it, the
	// tunnels they open are to an HTTPS proxy, and neither SOCKS nor a
	// TLS pickup is looked for. depth is the number of TLS layers around
	// the bytes.
	tls   *TLS
	depth int
	// tunneled is set once this handler opened a tunnel (startTunnel).
	tunneled bool
	// h2Stream is the HTTP/2 stream of the tunnel the bytes run in, when
	// a proxy that speaks HTTP/2 opened it (h2tunnel.go); 0 otherwise.
	h2Stream uint32
}

// state returns the connection's state, setting it up on first use.
func (l *lazyConn) state() *connState {
	if l.c == nil {
		l.c = l.d.newConnState(l.info)
		l.c.proxy = l.proxy
		if l.tls != nil {
			l.c.conn.TLS = l.tls
		}
		l.c.conn.H2Stream = l.h2Stream
		l.c.tunnels, l.c.depth = l.tunnels, l.depth
	}
	return l.c
}

// newTLS starts the TLS layer of the connection, whose side client sent
// its first TLS bytes.
func (l *lazyConn) newTLS(client reassembly.Side) *tlsConn {
	l.t = l.d.newTLSConn(l.info, client)
	l.t.setProxy(l.proxy)
	l.t.tunnels, l.t.depth = l.tunnels, l.depth
	l.t.h2Stream, l.t.conn.H2Stream = l.h2Stream, l.h2Stream
	l.t.s.SetScratch(l.d.scratchAt(l.depth))
	return l.t
}

// scratchAt returns the scratch space of TLS sessions depth tunnels deep
// in decrypted TLS (0: a TCP connection's own).
func (d *Dissector) scratchAt(depth int) *tlsdecrypt.Scratch {
	if depth == 0 {
		return &d.tlsScratch
	}
	for len(d.tlsNested) < depth {
		d.tlsNested = append(d.tlsNested, new(tlsdecrypt.Scratch))
	}
	return d.tlsNested[depth-1]
}

// shownConn returns the Conn the connection's records are listed under, or
// nil while none was listed (see tlsConn.listed).
func (l *lazyConn) shownConn() *Conn {
	switch {
	case l.t != nil:
		return l.t.innerShown()
	case l.c != nil && (l.c.connSent || l.c.h2Sessions || (l.c.h2 != nil && l.c.h2.tunnelShown)):
		return &l.c.conn
	}
	return nil
}

// socksData follows a SOCKS handshake (see socks.go).
func (l *lazyConn) socksData(side reassembly.Side, ch *reassembly.Chunk) bool {
	switch l.s.add(side, ch.Data, ch.Packet, ch.Time) {
	case socksMore:
		return true
	case socksTunnel:
		tu := l.s.start()
		l.s = nil
		return l.startTunnel(tu)
	}
	return l.dropSocks()
}

// dropSocks hands the bytes held for a SOCKS handshake that was not one
// (or was refused, or cut by a gap or the close) to the connection's
// other handlers, chunk by chunk as they came.
func (l *lazyConn) dropSocks() bool {
	s := l.s
	l.s, l.noSocks = nil, true
	var start [2]int
	for _, c := range s.chunks {
		ch := reassembly.Chunk{Data: s.buf[c.side][start[c.side]:c.end], Packet: c.pkt, Time: c.ts}
		start[c.side] = c.end
		if !l.Data(c.side, &ch) {
			return false
		}
	}
	return true
}

// maxTunnels bounds the CONNECT tunnels nested in one connection (a
// tunnel inside a tunnel is legal; a thousand are an attack).
const maxTunnels = 4

// enterTunnel starts the connection afresh after a CONNECT was answered
// with 2xx: the bytes that follow are decoded as those of a new
// connection (a TLS ClientHello goes to the TLS layer, HTTP to the
// handshake parser), listed with the CONNECT target as Conn.Proxy. It
// reports whether the handler wants more data.
func (l *lazyConn) enterTunnel() bool {
	c := l.c
	tu := c.tunnel
	c.tunnel = nil
	if l.tunnels >= maxTunnels {
		c.anomalyRecord(c.clientSide, false, newAnomaly(AnTunnelNotFollowed, -1,
			fmt.Sprintf("the tunnel to %q is not decoded: it would be nested %d deep (at most %d are followed)", tu.proxy.Target, l.tunnels+1, maxTunnels)), c.lastPkt, c.lastTS)
	}
	c.ignore()
	c.Close(reassembly.ClosedEOF)
	l.c = nil
	return l.startTunnel(tu)
}

// startTunnel decodes the rest of the connection as a connection of its
// own inside tunnel tu, starting with the bytes each side sent after the
// tunnel's opening.
func (l *lazyConn) startTunnel(tu *tunnelStart) bool {
	l.tunnels++
	if l.tunnels > maxTunnels {
		return false
	}
	l.tunneled = true
	tu.proxy.Outer = l.proxy // (nil unless tunnels nest)
	l.proxy = &tu.proxy
	if l.tls != nil && tu.proxy.Protocol == "HTTP" {
		tu.proxy.Protocol = "HTTPS" // the CONNECT went to the proxy over TLS
		tu.proxy.TLS = l.tls
	}
	if tu.lostRequest {
		// The first gap of the client side is the lost CONNECT, not
		// bytes of the tunnel.
		l.skipGap = int8(tu.client) + 1
	}
	slices.SortStableFunc(tu.chunks, func(a, b tunnelBytes) int { return cmp.Compare(a.pkt, b.pkt) })
	for _, c := range tu.chunks {
		ch := reassembly.Chunk{Data: c.data, Packet: c.pkt, Time: c.ts}
		if !l.Data(c.side, &ch) {
			return false
		}
	}
	return true
}

// Data implements reassembly.Handler. A connection whose first bytes are a
// TLS ClientHello goes to the TLS layer (see tlsConn), whatever its port.
func (l *lazyConn) Data(side reassembly.Side, ch *reassembly.Chunk) bool {
	if l.t != nil {
		return l.t.Data(side, ch)
	}
	if l.s != nil {
		return l.socksData(side, ch)
	}
	pickup := l.tls == nil && !l.info.SawSYN
	if l.c != nil && l.c.mode == modeProbe && !l.c.connSent && !l.c.forced && pickup {
		// Picked up inside a TLS record: ciphertext first, then records
		// that start segments. Whatever was searched goes (nothing of it
		// was emitted) and the connection is listed as TLS from here.
		if yes, _ := tlsdecrypt.LooksLikeRecords(ch.Data); yes {
			l.c.ignore()
			l.c.Close(reassembly.ClosedEOF)
			l.c = nil
			t := l.newTLS(pickedUpClient(l.info, side))
			t.s.PickUp()
			return t.Data(side, ch)
		}
	}
	if l.c == nil {
		if !l.noSocks && l.tls == nil && l.tunnels == 0 && l.info.SawSYN && side == reassembly.SideA && looksLikeSocks(ch.Data) {
			l.s = &socksStart{}
			return l.socksData(side, ch)
		}
		if yes, _ := tlsdecrypt.LooksLikeClientHello(ch.Data); yes && (l.tls == nil || l.tunneled) {
			// In decrypted bytes, only a tunnel (to the server, through
			// an HTTPS proxy) starts another TLS layer: each layer needs
			// one more tunnel than the layer around it, and startTunnel
			// refuses more than maxTunnels, so depth stays below it.
			return l.newTLS(side).Data(side, ch)
		}
		if yes, _ := tlsdecrypt.LooksLikeRecords(ch.Data); yes && pickup {
			// Picked up mid-stream inside TLS: listed as a TLS
			// connection that cannot be decrypted, not searched for
			// WebSocket frames (ciphertext chains up as garbage frames).
			t := l.newTLS(pickedUpClient(l.info, side))
			t.s.PickUp()
			return t.Data(side, ch)
		}
	}
	c := l.state()
	more := c.Data(side, ch)
	if c.tunnel != nil {
		return l.enterTunnel()
	}
	return more
}

// setTunnel records the encapsulation info says the connection's first
// packet came in.
func (c *Conn) setTunnel(info *reassembly.ConnInfo) {
	c.Tunnel, c.TunnelIDName = info.Tunnel.String(), info.Tunnel.IDName()
	c.HasTunnelID, c.TunnelID = info.HasTunnelID, info.TunnelID
}

// pickedUpClient guesses the client of a connection picked up mid-stream
// whose first bytes came from side first: the side with the higher port
// (servers listen on low ports, clients get ephemeral ones), else first.
func pickedUpClient(info *reassembly.ConnInfo, first reassembly.Side) reassembly.Side {
	if info.Addr[first].Port() < info.Addr[first.Other()].Port() {
		return first.Other()
	}
	return first
}

// Gap implements reassembly.Handler.
func (l *lazyConn) Gap(side reassembly.Side, g *reassembly.Gap) {
	if l.t != nil {
		l.t.Gap(side, g)
		return
	}
	if l.s != nil && !l.dropSocks() {
		return
	}
	if l.t != nil {
		l.t.Gap(side, g)
		return
	}
	if l.skipGap == int8(side)+1 {
		l.skipGap = 0
		if g.Offset == 0 {
			return // the CONNECT that opened the tunnel
		}
	}
	c := l.state()
	c.Gap(side, g)
	if c.tunnel != nil {
		// The gap is what showed the tunnel's answer or request missing:
		// it belongs before the tunnel.
		l.enterTunnel()
	}
}

// Note implements reassembly.Handler.
func (l *lazyConn) Note(side reassembly.Side, n *reassembly.Note) {
	switch {
	case l.t != nil:
		l.t.Note(side, n)
	case l.c != nil:
		l.c.Note(side, n)
	}
}

// Close implements reassembly.Handler; l is reused for a later connection.
func (l *lazyConn) Close(reason reassembly.CloseReason) {
	l.finish()
	switch {
	case l.t != nil:
		l.t.Close(reason)
	case l.c != nil:
		l.c.Close(reason)
	}
	l.d.pool.lazy.Put(l)
}

// finish decodes what the connection held for a decision its end makes:
// bytes held for a SOCKS handshake, a proxy's answer still waiting for its
// CONNECT, a CONNECT whose answer is not in the capture while the client
// sent through the tunnel (what is in the tunnel is decoded). Close calls
// it first; a TLS layer calls it before deciding how its connection is
// listed. It may be called more than once.
func (l *lazyConn) finish() {
	if l.s != nil {
		l.dropSocks()
	}
	if c := l.c; c != nil && c.h2 != nil {
		c.h2.finishTunnels()
	}
	if c := l.c; c != nil && c.mode == modeHTTP {
		c.releaseResponses(true)
		if c.tunnel == nil && c.heldAfterRequest() && c.reqs[len(c.reqs)-1].connect {
			c.answerMissing(c.clientSide)
		}
		if c.tunnel != nil {
			l.enterTunnel()
		}
	}
}

// resetConn clears what an earlier handshake of the connection filled in
// its Conn, keeping what identifies the connection.
func (c *connState) resetConn() {
	o := &c.conn
	c.conn = Conn{Stream: o.Stream, FirstPacket: o.FirstPacket, Client: o.Client, Server: o.Server, TLS: o.TLS, H2Stream: o.H2Stream}
}

// dirOf maps a reassembly side to a WebSocket direction.
func (c *connState) dirOf(s reassembly.Side) Dir {
	if s == c.clientSide {
		return ClientToServer
	}
	return ServerToClient
}

// setClient fixes which side is the client.
func (c *connState) setClient(s reassembly.Side) {
	c.clientSide, c.sideKnown = s, true
	c.conn.Client = c.info.Addr[s]
	c.conn.Server = c.info.Addr[s.Other()]
}

// Data implements reassembly.Handler.
func (c *connState) Data(side reassembly.Side, ch *reassembly.Chunk) bool {
	c.seen(ch.Packet, ch.Time)
	if c.mode == modeIgnore {
		return false
	}
	c.dispatch(side, ch.Data, ch.Packet, ch.Time)
	if c.d.mem != nil {
		c.settle()
	}
	return c.mode != modeIgnore
}

// dispatch hands bytes of side to the layer the connection is in.
func (c *connState) dispatch(side reassembly.Side, b []byte, pkt uint64, ts time.Time) {
	switch c.mode {
	case modeWS:
		c.wsData(side, b, pkt, ts)
	case modeProbe:
		c.probeData(side, b, pkt, ts)
	case modeHTTP:
		c.httpData(side, b, pkt, ts)
	case modeH2:
		c.h2Data(side, b, pkt, ts)
	}
}

// Gap implements reassembly.Handler.
func (c *connState) Gap(side reassembly.Side, g *reassembly.Gap) {
	c.seen(g.Packet, g.Time)
	if c.d.mem != nil {
		defer c.settle()
	}
	if c.mode == modeHTTP {
		// A response waiting for its request: the request is lost.
		c.releaseResponses(true)
		if c.tunnel != nil {
			return // the handler enters the tunnel
		}
		if n := len(c.reqs); n > 0 && c.reqs[n-1].connect && c.http[c.clientSide].hold {
			// Bytes lost while a CONNECT waits for its answer: when they
			// are the proxy's, so is the answer, and the tunnel is taken
			// to be open; when they are the client's, they were sent in
			// the tunnel, whose decoder will find its way.
			if side != c.clientSide {
				c.answerMissing(c.clientSide)
			}
			return
		}
	}
	switch c.mode {
	case modeWS:
		c.wsGap(side, g)
	case modeH2:
		c.h2Gap(side, g.Len, g.Packet, g.Time)
	case modeHTTP:
		if c.http[side].role == 0 && len(c.reqs) == 0 && !c.anyHTTP() {
			// Nothing recognised yet: whatever follows may be WebSocket.
			c.startProbe()
			return
		}
		c.flushKept(g.Packet, g.Time, true)
		upgrading := c.http[side].hold || c.hasUpgradePending()
		if upgrading {
			c.anomalyRecord(side, true, newAnomaly(AnTCPGap, int64(g.Offset),
				fmt.Sprintf("%d bytes lost at stream offset %d during the HTTP handshake; looking for WebSocket frames instead", g.Len, g.Offset)), g.Packet, g.Time)
		}
		c.startProbe()
		c.evident = upgrading
	case modeProbe:
		if c.ws[0] != nil {
			c.wsGap(side, g)
		}
	}
}

// anyHTTP reports whether HTTP was recognised on either side.
func (c *connState) anyHTTP() bool { return c.http[0].role != 0 || c.http[1].role != 0 }

// hasUpgradePending reports whether an upgrade request awaits its response.
func (c *connState) hasUpgradePending() bool {
	for _, r := range c.reqs {
		if r.upgrade {
			return true
		}
	}
	return false
}

// Note implements reassembly.Handler.
func (c *connState) Note(side reassembly.Side, n *reassembly.Note) {
	c.seen(n.Packet, n.Time)
	switch n.Kind {
	case reassembly.NoteHole:
		c.hole[side] = mark{pkt: n.Packet, ts: n.Time}
		return
	case reassembly.NoteHoleDone:
		c.hole[side] = mark{}
		return
	case reassembly.NoteFIN:
		c.finSide[side] = true
		if c.firstFIN == 0 {
			c.firstFIN = int8(side) + 1
		}
		return
	case reassembly.NoteRST:
		if c.rstSide == 0 {
			c.rstSide = int8(side) + 1
		}
		return
	}
	if n.Kind == reassembly.NoteEvicted && (c.mode == modeWS || c.mode == modeProbe && c.connSent) {
		c.anomalyRecord(side, false, newAnomaly(AnConnEvicted, -1,
			fmt.Sprintf("connection dropped at packet %d: the connection table is full (--max-conns); its later packets, if any, are decoded as a new connection", n.Packet)), n.Packet, n.Time)
		return
	}
	if n.Kind == reassembly.NoteOutOfWindow && c.mode != modeIgnore {
		c.anomalyRecord(side, true, newAnomaly(AnOutOfWindow, int64(n.Offset),
			fmt.Sprintf("segment at stream offset %d (%d bytes) lies far beyond the receiver's advertised window; ignored, like any further ones of this direction", n.Offset, n.Len)), n.Packet, n.Time)
		return
	}
	if n.Kind != reassembly.NoteRetransmitDiffers || c.mode != modeWS && c.mode != modeH2 {
		return
	}
	c.anomalyRecord(side, true, newAnomaly(AnRetransmitDiffers, int64(n.Offset),
		fmt.Sprintf("retransmitted bytes at stream offset %d (%d bytes) differ from the first copy, which was used", n.Offset, n.Len)), n.Packet, n.Time)
}

// Close implements reassembly.Handler.
func (c *connState) Close(reason reassembly.CloseReason) {
	if int(reason) < len(endReasons) {
		c.closeReason = endReasons[reason]
	}
	c.closeCause = reason
	if c.endAs != 0 {
		c.closeReason = c.endAs
	}
	if c.mode == modeHTTP {
		c.releaseResponses(true) // its request never came
	}
	if c.heldAfterRequest() && !c.reqs[len(c.reqs)-1].connect {
		c.answerMissing(c.clientSide)
	}
	c.closeAnomaly(reason)
	if c.d.mem != nil {
		c.release()
	}
	if c.h2 != nil {
		c.h2Close()
	}
	switch c.mode {
	case modeWS, modeProbe:
		c.drainHeld(true)
		for _, w := range c.ws {
			if w != nil {
				w.finish()
			}
		}
		c.collectTotals()
		c.recycleDirs()
	case modeHTTP:
		c.flushKept(c.lastPkt, c.lastTS, false)
		for _, r := range c.reqs {
			if r.upgrade {
				c.anomalyRecord(c.clientSide, false, newAnomaly(AnUpgradeUnanswered, -1,
					fmt.Sprintf("upgrade request for %s got no response in the capture", r.head.Target)), r.pkt, r.ts)
			}
		}
	}
	if c.connSent {
		c.emitEnd(c.closeReason)
	}
	c.mode = modeIgnore
	c.reqs = nil
	clear(c.held)
	c.held, c.heldHead, c.heldFor, c.heldBytes = c.held[:0], 0, [2]int{}, 0
	c.d.keepHTTPBufs(&c.http)
	c.http = [2]httpSide{}
	c.d.pool.conns.Put(c)
}

// addTotals adds b to a, saturating.
func addTotals(a, b DirTotals) DirTotals {
	return DirTotals{Frames: satAdd(a.Frames, b.Frames), Messages: satAdd(a.Messages, b.Messages),
		WireBytes: satAdd(a.WireBytes, b.WireBytes), Bytes: satAdd(a.Bytes, b.Bytes)}
}

// endReasons maps the reassembler's close reasons to end reasons.
var endReasons = [...]EndReason{
	reassembly.ClosedFIN:     EndFIN,
	reassembly.ClosedRST:     EndRST,
	reassembly.ClosedIdle:    EndIdle,
	reassembly.ClosedEvicted: EndEvicted,
	reassembly.ClosedEOF:     EndCaptureEnd,
	reassembly.ClosedReused:  EndReused,
	reassembly.ClosedMemory:  EndEvicted,
}

// collectTotals adds what the direction decoders counted to the end
// record's totals; call it once, before they are recycled.
func (c *connState) collectTotals() {
	if !c.connSent {
		return
	}
	for i, w := range c.ws {
		if w != nil && (i == 0 || w != c.ws[0]) {
			t := &c.end.Totals[w.dir]
			*t = addTotals(*t, w.tot)
		}
	}
}

// emitEnd emits the connection's end record.
func (c *connState) emitEnd(reason EndReason) {
	e := &c.end
	e.Reason = reason
	if e.Reason == EndCaptureEnd && c.rstSide != 0 {
		e.Reason = EndRST
	}
	for s := reassembly.SideA; s <= reassembly.SideB; s++ {
		if c.finSide[s] {
			e.FIN[c.dirOf(s)] = true
		}
	}
	if c.firstFIN != 0 {
		e.HasFIN, e.FirstFIN = true, c.dirOf(reassembly.Side(c.firstFIN-1))
	}
	if c.rstSide != 0 {
		e.HasRST, e.RSTFrom = true, c.dirOf(reassembly.Side(c.rstSide-1))
	}
	c.d.rec = Record{Kind: KindEnd, Conn: &c.conn, Packet: c.lastPkt, Time: c.lastTS, End: e}
	c.d.emit(&c.d.rec)
}

// anomalyRecord emits a KindAnomaly record.
func (c *connState) anomalyRecord(side reassembly.Side, hasDir bool, a Anomaly, pkt uint64, ts time.Time) {
	if !c.sideKnown {
		c.setClient(reassembly.SideA)
		c.sideKnown = false
	}
	c.d.emitAnomaly(&c.d.rec, &c.conn, c.dirOf(side), hasDir, a, pkt, ts)
}

// emitAnomaly emits a as an anomaly record of conn (in direction dir when
// hasDir), built in rec.
func (d *Dissector) emitAnomaly(rec *Record, conn *Conn, dir Dir, hasDir bool, a Anomaly, pkt uint64, ts time.Time) {
	*rec = Record{Kind: KindAnomaly, Conn: conn, Packet: pkt, Time: ts, HasDir: hasDir}
	if hasDir {
		rec.Dir = dir
	}
	var one [1]Anomaly
	one[0] = a
	rec.Anomalies = one[:]
	d.emit(rec)
}

// evictedEarlier says that the connection's earlier packets were decoded
// under another stream number (the table was full).
func evictedEarlier() Anomaly {
	return newAnomaly(AnConnEvicted, -1,
		"the connection table was full (--max-conns): this connection's earlier packets were decoded under another stream number, and its handshake and compression context are lost")
}

// emitConn emits the connection record, once.
func (c *connState) emitConn(pkt uint64, ts time.Time, an []Anomaly) {
	if !c.connSent {
		c.end.Start = ts
		if !c.conn.RequestTime.IsZero() {
			c.end.Start = c.conn.RequestTime
		}
	}
	c.conn.Proxy = c.proxy
	c.conn.setTunnel(c.info)
	c.d.rec = Record{Kind: KindConn, Conn: &c.conn, Packet: pkt, Time: ts}
	c.d.emit(&c.d.rec)
	c.connSent = true
	if c.info.Evicted {
		c.anomalyRecord(c.clientSide, false, evictedEarlier(), pkt, ts)
	}
	for _, a := range an {
		c.anomalyRecord(c.clientSide, false, a, pkt, ts)
	}
}

// startProbe switches the connection to heuristic frame detection, or
// ignores it when the heuristic is off.
func (c *connState) startProbe() {
	if c.d.opts.NoMidstream && !c.forced {
		c.mode = modeIgnore
		return
	}
	c.mode = modeProbe
	c.http = [2]httpSide{}
	c.reqs = nil
	for s := reassembly.SideA; s <= reassembly.SideB; s++ {
		w := newWSDir(c, ServerToClient)
		w.side = s
		w.startSearch()
		c.ws[s] = w
	}
	c.ws[0].partner, c.ws[1].partner = c.ws[1], c.ws[0]
}

// ignore stops looking at a connection that is not WebSocket after all: a
// probe's directions give up their searches, their buffers and their place
// in the watermark (which would otherwise hold up other connections'
// output until this one closes).
func (c *connState) ignore() {
	c.mode = modeIgnore
	c.recycleDirs()
}

// recycleDirs hands the direction decoders back to the dissector, with the
// budget their buffers were charged (none left after release).
func (c *connState) recycleDirs() {
	ws := c.ws
	c.ws = [2]*wsDir{}
	for i, w := range ws {
		if w != nil && (i == 0 || w != ws[0]) {
			if c.d.mem != nil {
				c.d.mem.Give(w.held)
				w.held = 0
			}
			c.d.recycle(w)
		}
	}
}

// probeData feeds bytes of a connection without a handshake to its
// directions' frame-boundary search.
func (c *connState) probeData(side reassembly.Side, b []byte, pkt uint64, ts time.Time) {
	c.probed += uint64(len(b))
	if !c.evident && len(b) >= 12 && string(b[:12]) == "HTTP/1.1 101" {
		if w := c.wsSide(side); w != nil && w.off == 0 && w.skipped == 0 {
			// A side starting with a 101 answer whose head was cut
			// (by the snap length, by lost bytes): an upgrade, though
			// not a decodable one.
			c.evident = true
		}
	}
	if c.probed > uint64(4*c.d.opts.MaxSearch) && !c.forced {
		// Megabytes without one verified frame chain: not WebSocket.
		c.ignore()
		return
	}
	c.wsData(side, b, pkt, ts)
}

// httpData parses HTTP on one side until the connection upgrades.
func (c *connState) httpData(side reassembly.Side, b []byte, pkt uint64, ts time.Time) {
	hs := &c.http[side]
	if hs.waitReq {
		// The side that answered speaks again before the other said
		// anything: the request is not coming soon.
		c.releaseResponses(true)
		if c.tunnel != nil {
			c.tunnel.add(side, b, pkt, ts) // the tunnel opened: b is in it
			return
		}
		if c.mode != modeHTTP {
			c.dispatch(side, b, pkt, ts)
			return
		}
	}
	if hs.buf == nil {
		hs.buf = c.d.httpBuf()
	}
	hs.buf = append(hs.buf, b...)
	hs.lastPkt, hs.lastTS = pkt, ts
	if hs.hold && len(hs.buf) > c.d.opts.MaxHTTPHeader {
		c.answerMissing(side)
		return
	}
	if hs.role == 0 && !c.info.SawSYN && len(hs.segs) < maxHeldSegs {
		hs.segs = append(hs.segs, mark{end: len(hs.buf), pkt: pkt, ts: ts})
	}
	if hs.role == 0 || hs.role == 3 {
		if c.h2Detect(side, hs) {
			return
		}
	}
	if hs.role == 0 {
		req, reqDecided := http1.LooksLikeRequest(hs.buf)
		resp, respDecided := http1.LooksLikeResponse(hs.buf)
		switch {
		case req:
			if c.http[side.Other()].role == 1 {
				c.notHTTP() // both sides send requests: not HTTP as we know it
				return
			}
			hs.role = 1
			c.setClient(side)
		case resp:
			hs.role = 2
		case reqDecided && respDecided, len(hs.buf) >= 24:
			if c.http[side.Other()].waitReq {
				// Not the request a response waits for: it goes without
				// one (an upgrade's takes these bytes as frames).
				c.releaseResponses(true)
				if c.mode != modeHTTP {
					return
				}
			}
			c.notHTTP()
			return
		default:
			return
		}
	}
	if hs.role == 2 && !hs.waitReq && c.requestMayFollow(side) {
		hs.waitReq = true
	}
	if hs.waitReq {
		if len(hs.buf) <= c.d.opts.MaxHTTPHeader {
			return
		}
		hs.waitReq = false // no longer: decode it without its request
	}
	if hs.role == 1 {
		c.parseRequests(side, hs, pkt, ts)
	} else {
		c.parseResponses(side, hs, pkt, ts)
	}
	if c.headTooLarge && c.mode == modeHTTP {
		c.tooLargeHead()
	}
	c.releaseResponses(false)
}

// requestMayFollow reports whether a response of side, with no request
// parsed yet, may have its request still to come in the capture: the
// connection's start was captured and the other side has sent nothing
// (not even lost bytes).
func (c *connState) requestMayFollow(side reassembly.Side) bool {
	o := &c.http[side.Other()]
	return c.info.SawSYN && len(c.reqs) == 0 && o.role == 0 && len(o.buf) == 0
}

// releaseResponses decodes a response held for its request (waitReq) once
// the other side has had its say: its bytes were recognised (a request is
// parsed), or, with force, it had a gap or the connection closes.
func (c *connState) releaseResponses(force bool) {
	for s := reassembly.SideA; s <= reassembly.SideB; s++ {
		hs := &c.http[s]
		if !hs.waitReq || c.mode != modeHTTP || !force && c.http[s.Other()].role == 0 {
			continue
		}
		hs.waitReq = false
		c.parseResponses(s, hs, hs.lastPkt, hs.lastTS)
		if c.headTooLarge && c.mode == modeHTTP {
			c.tooLargeHead()
		}
	}
}

// answerMissing handles a client that goes on sending after a request
// whose answer it must wait for (an upgrade, a CONNECT), beyond
// --max-http-header bytes or until the connection ends: the answer is not
// in the capture (a capture of one direction, a lost segment), and the
// bytes are not held any longer. After a CONNECT the tunnel is taken to be
// open; after an upgrade the bytes are searched for WebSocket frames, as
// when the handshake is picked up mid-stream, and the upgrade is reported
// unanswered.
func (c *connState) answerMissing(side reassembly.Side) {
	hs := &c.http[side]
	hs.hold = false
	if len(c.reqs) == 0 {
		return
	}
	req := c.reqs[len(c.reqs)-1]
	if req.connect {
		c.openTunnel(side.Other(), req, nil, hs.lastPkt, hs.lastTS)
		return
	}
	c.anomalyRecord(side, false, newAnomaly(AnUpgradeUnanswered, -1,
		fmt.Sprintf("upgrade request for %s got no response in the capture, and the client sent %d bytes after it: looking for WebSocket frames in them", req.head.Target, len(hs.buf))), req.pkt, req.ts)
	c.reqs = nil
	c.probeBuffered(true)
}

// heldAfterRequest reports whether the client sent bytes after a request
// whose answer it waits for (see answerMissing).
func (c *connState) heldAfterRequest() bool {
	cs := &c.http[c.clientSide]
	return c.mode == modeHTTP && c.sideKnown && cs.hold && len(cs.buf) > 0
}

// tooLargeHead handles a header block longer than --max-http-header: the
// connection is not given up (an upgrade with a huge header must not make
// it vanish) but looked at as if picked up mid-stream, which finds the
// frames after the head; an upgrade's head is reported.
func (c *connState) tooLargeHead() {
	c.headTooLarge = false
	for s := reassembly.SideA; s <= reassembly.SideB; s++ {
		hs := &c.http[s]
		if len(hs.buf) <= c.d.opts.MaxHTTPHeader || !mentionsWebSocket(hs.buf) {
			continue
		}
		what := "request"
		if hs.role == 2 {
			what = "response"
		}
		c.anomalyRecord(s, true, newAnomaly(AnHTTPHeaderTooLarge, -1,
			fmt.Sprintf("the upgrade %s's header block is larger than --max-http-header (%d bytes); looking for WebSocket frames after it", what, c.d.opts.MaxHTTPHeader)), hs.lastPkt, hs.lastTS)
	}
	// The search skips the heads in what was buffered.
	c.probeBuffered(true)
}

// probeBuffered switches the connection to the frame search and replays
// to it what both sides buffered while it was read as HTTP; evident says
// an upgrade was seen (see connState.evident).
func (c *connState) probeBuffered(evident bool) {
	held := c.http
	c.startProbe()
	c.evident = c.evident || evident
	c.replay(&held)
}

// replay feeds what the sides buffered while deciding on HTTP to the frame
// search, segment by segment where the segments are known.
func (c *connState) replay(held *[2]httpSide) {
	for s := reassembly.SideA; s <= reassembly.SideB; s++ {
		h := &held[s]
		if h.role != 0 {
			h.segs = nil // parsing consumed the buffer's start
		}
		prev := 0
		for _, m := range h.segs {
			if c.mode != modeProbe {
				return
			}
			c.probeData(s, h.buf[prev:m.end], m.pkt, m.ts)
			prev = m.end
		}
		if len(h.buf) > prev && c.mode == modeProbe {
			c.probeData(s, h.buf[prev:], h.lastPkt, h.lastTS)
		}
	}
}

// mentionsWebSocket reports whether an HTTP head (or its start) is a 101
// response or mentions websocket, as an upgrade's does.
func mentionsWebSocket(b []byte) bool {
	if len(b) >= 12 && bytes.HasPrefix(b, []byte("HTTP/1.")) && string(b[8:12]) == " 101" {
		return true
	}
	return containsFold(b, "websocket")
}

// notHTTP handles a connection whose first bytes are not HTTP.
func (c *connState) notHTTP() {
	if c.forced || !c.info.SawSYN {
		c.probeBuffered(false)
		return
	}
	c.mode = modeIgnore
}

// skipBody consumes body bytes from hs.buf[*i:]; it reports whether the body
// is finished.
// A body KeepHTTP selected is kept on the way (hs.collect).
func skipBody(hs *httpSide, i *int) bool {
	switch hs.body {
	case http1.BodyNone:
		return true
	case http1.BodyLength:
		n := int64(len(hs.buf) - *i)
		if n > hs.left {
			n = hs.left
		}
		hs.keepBody(hs.buf[*i : *i+int(n)])
		*i += int(n)
		hs.left -= n
		if hs.left == 0 {
			hs.body = http1.BodyNone
			return true
		}
		return false
	case http1.BodyChunked:
		hs.chunk.Keep = hs.collect != nil
		*i += hs.chunk.Consume(hs.buf[*i:])
		hs.keepBody(hs.chunk.Data)
		hs.chunk.Data = hs.chunk.Data[:0]
		if hs.chunk.Done {
			hs.body = http1.BodyNone
			hs.chunk = http1.ChunkSkipper{Data: hs.chunk.Data}
			return true
		}
		return false
	}
	hs.keepBody(hs.buf[*i:])
	*i = len(hs.buf)
	return false
}

// compact drops the first i bytes of hs.buf.
func (hs *httpSide) compact(i int) {
	n := copy(hs.buf, hs.buf[i:])
	hs.buf = hs.buf[:n]
	hs.scan -= i
	if hs.scan < 0 {
		hs.scan = 0
	}
}

// nextHead parses the header block starting at hs.buf[*i] and advances *i
// past it. It returns nil when the block is not complete yet, or when it is
// not HTTP or too large (then the connection is given up).
func (c *connState) nextHead(hs *httpSide, i *int, request bool) *http1.Head {
	if *i >= len(hs.buf) {
		return nil
	}
	end := http1.HeaderEnd(hs.buf[*i:], hs.scan-*i-3)
	if end < 0 {
		hs.scan = len(hs.buf)
		if len(hs.buf)-*i > c.d.opts.MaxHTTPHeader {
			c.headTooLarge = true // httpData takes it from here
		}
		return nil
	}
	h, ok := http1.Parse(hs.buf[*i:*i+end], request)
	*i += end
	hs.scan = *i
	if !ok {
		c.mode = modeIgnore
		return nil
	}
	return h
}

func (c *connState) parseRequests(side reassembly.Side, hs *httpSide, pkt uint64, ts time.Time) {
	c.setKeepMax(hs)
	i := 0
	defer func() { hs.compact(i) }()
	for i < len(hs.buf) && !hs.hold {
		if !skipBody(hs, &i) {
			return
		}
		hs.collect = nil
		h := c.nextHead(hs, &i, true)
		if h == nil {
			return
		}
		if len(c.reqs) >= 64 {
			c.mode = modeIgnore
			return
		}
		up := isUpgradeRequest(h)
		h2c := !up && h.HasToken("upgrade", "h2c")
		up = up || h2c
		connect := h.Method == "CONNECT"
		if len(c.reqs) == 0 {
			c.reqs = c.reqBuf[:0] // the usual single request needs no allocation
		}
		c.reqs = append(c.reqs, pendingReq{head: h, upgrade: up, h2c: h2c, connect: connect, pkt: pkt, ts: ts})
		if up || connect {
			// What follows depends on the answer: frames or HTTP/2 after a
			// 101, the tunnel's bytes after a CONNECT's 2xx.
			hs.hold = true
			return
		}
		hs.body, hs.left = http1.RequestBody(h)
		if keep := c.d.opts.KeepHTTP; keep != nil && keep(h.Method, h.Target) {
			ex := &HTTPExchange{Method: h.Method, Target: h.Target, Request: h.Raw, RequestPacket: pkt, RequestTime: ts}
			ex.Host, _ = h.Get("host")
			c.reqs[len(c.reqs)-1].ex = ex
			if hs.body != http1.BodyNone {
				hs.collect, hs.collectReq = ex, true
			}
		}
	}
}

// flushKept emits a kept exchange whose response is still being read:
// its body ends with the connection (a body to the close) or, when gap is
// set or the body had a length, is cut where the bytes stop.
func (c *connState) flushKept(pkt uint64, ts time.Time, gap bool) {
	for s := range c.http {
		hs := &c.http[s]
		if hs.collect == nil || hs.collectReq {
			continue
		}
		ex := hs.collect
		hs.collect = nil
		if gap || hs.body != http1.BodyUntilClose && hs.body != http1.BodyNone {
			ex.ResponseTruncated = true
		}
		c.emitHTTP(ex, pkt, ts)
	}
}

// emitHTTP emits a kept exchange once its response is complete; a request
// body still being read then is cut there.
func (c *connState) emitHTTP(ex *HTTPExchange, pkt uint64, ts time.Time) {
	if cs := &c.http[c.clientSide]; cs.collect == ex {
		cs.collect = nil
		if cs.body != http1.BodyNone {
			ex.RequestTruncated = true
		}
	}
	c.d.rec = Record{Kind: KindHTTP, Conn: &c.conn, Packet: pkt, Time: ts, HTTP: ex}
	c.d.emit(&c.d.rec)
}

func (c *connState) parseResponses(side reassembly.Side, hs *httpSide, pkt uint64, ts time.Time) {
	c.setKeepMax(hs)
	i := 0
	defer func() {
		if c.mode == modeHTTP {
			hs.compact(i)
		}
	}()
	for i < len(hs.buf) || hs.collect != nil {
		if !skipBody(hs, &i) {
			if hs.body == http1.BodyUntilClose && hs.collect == nil {
				c.mode = modeIgnore
			}
			// (a kept body that runs to the close is emitted by Close)
			return
		}
		if ex := hs.collect; ex != nil {
			hs.collect = nil
			c.emitHTTP(ex, pkt, ts)
		}
		h := c.nextHead(hs, &i, false)
		if h == nil {
			return
		}
		if !c.sideKnown {
			c.setClient(side.Other())
		}
		if len(c.reqs) == 0 {
			if h.Status == 101 && h.HasToken("upgrade", "websocket") {
				// The upgrade request is not in the capture: decode the
				// connection as picked up mid-stream, with what the
				// response negotiated.
				c.resetConn()
				c.conn.Midstream = true
				c.conn.ResponsePacket, c.conn.ResponseTime = pkt, ts
				an := fillResponseAlone(&c.conn, h)
				c.emitConn(pkt, ts, an)
				c.upgrade(hs.buf[i:], pkt, ts)
				i = len(hs.buf)
				return
			}
			if tunnelAnswer(h) {
				// A proxy's answer to a CONNECT the capture missed: the
				// tunnel's target is unknown, its bytes are not.
				c.openTunnel(side, pendingReq{}, hs.buf[i:], pkt, ts)
				i = len(hs.buf)
				return
			}
			// A response to a request we did not see: skip it.
			hs.body, hs.left = http1.ResponseBody(h, "GET")
			continue
		}
		req := c.reqs[0]
		if h.Status >= 100 && h.Status < 200 && h.Status != 101 {
			continue // interim response; the final one follows
		}
		c.reqs = c.reqs[1:]
		if req.h2c {
			if h.Status == 101 {
				c.upgradeH2C(req, hs.buf[i:], pkt, ts)
				i = len(hs.buf)
				return
			}
			// Refused: the connection stays HTTP/1.1.
			req.upgrade = false
			cs := &c.http[side.Other()]
			cs.hold = false
			defer c.parseRequests(side.Other(), cs, cs.lastPkt, cs.lastTS)
		}
		if req.connect {
			if h.Status >= 200 && h.Status < 300 {
				c.openTunnel(side, req, hs.buf[i:], pkt, ts)
				i = len(hs.buf)
				return
			}
			// Refused (407 asks for credentials): the client may try again
			// on the same connection.
			cs := &c.http[side.Other()]
			cs.hold = false
			defer c.parseRequests(side.Other(), cs, cs.lastPkt, cs.lastTS)
		}
		if !req.upgrade {
			hs.body, hs.left = http1.ResponseBody(h, req.head.Method)
			if req.ex != nil {
				req.ex.Status, req.ex.Response = h.Status, h.Raw
				hs.collect, hs.collectReq = req.ex, false
			}
			continue
		}
		// The answer to an upgrade request.
		c.resetConn()
		fillRequest(&c.conn, req.head)
		c.conn.RequestPacket, c.conn.RequestTime = req.pkt, req.ts
		c.conn.ResponsePacket, c.conn.ResponseTime = pkt, ts
		an := fillResponse(&c.conn, req.head, h)
		if h.Status == 101 {
			c.emitConn(pkt, ts, an)
			c.upgrade(hs.buf[i:], pkt, ts)
			i = len(hs.buf)
			return
		}
		c.emitConn(pkt, ts, an)
		hs.body, hs.left = http1.ResponseBody(h, req.head.Method)
		// The client may try again on the same connection.
		cs := &c.http[side.Other()]
		cs.hold = false
		c.parseRequests(side.Other(), cs, cs.lastPkt, cs.lastTS)
	}
}

// tunnelAnswer reports whether h, a response whose request is not in the
// capture, is a proxy's answer to a CONNECT: 2xx, no body length (RFC
// 9110 9.3.6 forbids one) and the reason phrase proxies give it
// ("Connection established": Squid, Burp, mitmproxy, Fiddler, tinyproxy).
// Read as the response to a GET, it would have a body to the close, and
// the WebSocket in the tunnel would be lost.
func tunnelAnswer(h *http1.Head) bool {
	if h.Status < 200 || h.Status > 299 || !containsFold(h.Reason, "established") {
		return false
	}
	_, cl := h.Get("content-length")
	_, te := h.Get("transfer-encoding")
	return !cl && !te
}

// containsFold reports whether s contains the lower-case ASCII word w
// (letters only, not empty) in any case.
func containsFold[T ~string | ~[]byte](s T, w string) bool {
	for i := 0; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == w[0] && strings.EqualFold(string(s[i:i+len(w)]), w) {
			return true
		}
	}
	return false
}

// tunnelStart is what a connection's handler needs to start it afresh
// inside an HTTP CONNECT tunnel: the target, and the bytes each side sent
// after the CONNECT exchange (copied), with their packets.
type tunnelStart struct {
	proxy  ProxyTunnel
	chunks []tunnelBytes
	// lostRequest: the CONNECT is not in the capture (a lost segment at
	// the start of client's stream); client is the client's side.
	lostRequest bool
	client      reassembly.Side
}

// tunnelBytes are bytes of one side that belong to the tunnel.
type tunnelBytes struct {
	side reassembly.Side
	data []byte // copied
	pkt  uint64
	ts   time.Time
}

// add appends a copy of bytes of side that belong to the tunnel.
func (tu *tunnelStart) add(side reassembly.Side, b []byte, pkt uint64, ts time.Time) {
	if len(b) > 0 {
		tu.chunks = append(tu.chunks, tunnelBytes{side: side, data: bytes.Clone(b), pkt: pkt, ts: ts})
	}
}

// openTunnel handles a 2xx answer (on side) to CONNECT request req: the
// bytes after it belong to whatever runs inside the tunnel (TLS, HTTP and
// WebSocket, anything), which the handler decodes as a connection of its
// own (lazyConn.enterTunnel). rest are the bytes after the answer.
func (c *connState) openTunnel(side reassembly.Side, req pendingReq, rest []byte, pkt uint64, ts time.Time) {
	tu := &tunnelStart{proxy: ProxyTunnel{Protocol: "HTTP"}}
	if req.head != nil {
		tu.proxy.Target = req.head.Target
		tu.proxy.Authorization, _ = req.head.Get("proxy-authorization")
	}
	tu.lostRequest, tu.client = req.head == nil, side.Other()
	tu.add(side, rest, pkt, ts)
	if cs := &c.http[side.Other()]; len(cs.buf) > 0 {
		tu.add(side.Other(), cs.buf, cs.lastPkt, cs.lastTS)
		cs.buf = cs.buf[:0]
	}
	c.tunnel = tu
	c.mode = modeIgnore
}

// upgrade switches the connection to WebSocket; rest are the server bytes
// after the 101 response.
func (c *connState) upgrade(rest []byte, pkt uint64, ts time.Time) {
	c.mode = modeWS
	c.ws[ClientToServer] = newWSDir(c, ClientToServer)
	c.ws[ClientToServer].side = c.clientSide
	c.ws[ServerToClient] = newWSDir(c, ServerToClient)
	c.ws[ServerToClient].side = c.clientSide.Other()
	cs := &c.http[c.clientSide]
	// The decoders copy what they keep of the bytes fed to them, so the
	// header buffers, which rest and the held client bytes are in, can be
	// reused once fed.
	// Bytes the client sent before the response arrived come first.
	if len(cs.buf) > 0 && cs.lastPkt < pkt {
		c.ws[ClientToServer].feed(cs.buf, cs.lastPkt, cs.lastTS)
		cs.buf = cs.buf[:0]
	}
	if len(rest) > 0 {
		c.ws[ServerToClient].feed(rest, pkt, ts)
	}
	if len(cs.buf) > 0 {
		c.ws[ClientToServer].feed(cs.buf, cs.lastPkt, cs.lastTS)
	}
	c.d.keepHTTPBufs(&c.http)
	c.http = [2]httpSide{}
}
