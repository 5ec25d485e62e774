// Package audit checks a capture's WebSocket handshakes and messages for
// security weaknesses and reports findings with evidence.
//
// An Auditor is a dissect.Sink: feed it every record of one capture (frame
// records give the most: compressed sizes for the decompression ratio; message
// records work too), then call Findings. It copies what it keeps, keeps a few
// dozen bytes per connection plus at most Config.ScanLimit bytes per message
// in progress, and shortens every piece of evidence; secrets in evidence are
// redacted to their first and last characters.
//
// Findings are deduplicated per check, host and path (without the query): one
// finding lists every connection it was seen on. Each check is documented in
// README.md (section "Security audit") with the evidence it uses and its known
// false positives.
package audit

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// Severity grades a finding.
type Severity uint8

// Severities, from least to most serious.
const (
	Info Severity = iota
	Low
	Medium
	High
)

// String returns "info", "low", "medium" or "high".
func (s Severity) String() string {
	switch s {
	case Low:
		return "low"
	case Medium:
		return "medium"
	case High:
		return "high"
	}
	return "info"
}

// ParseSeverity parses a severity name (case-insensitive).
func ParseSeverity(s string) (Severity, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "info":
		return Info, true
	case "low":
		return Low, true
	case "medium":
		return Medium, true
	case "high":
		return High, true
	}
	return Info, false
}

// Finding ids. They are stable: tools match on them.
const (
	IDCSWSH                 = "cswsh"
	IDCSWSHNoOrigin         = "cswsh-no-origin"
	IDCSWSHSameSite         = "cswsh-same-site"
	IDOriginChecked         = "origin-checked"
	IDCleartextCredentials  = "cleartext-credentials"
	IDTokenInURL            = "token-in-url"
	IDSecretInMessage       = "secret-in-message"
	IDSubprotocolNotOffered = "subprotocol-not-offered"
	IDExtensionNotOffered   = "extension-not-offered"
	IDCORSOriginReflected   = "cors-origin-reflected"
	IDAcceptNotValidated    = "accept-not-validated"
	IDVersionNot13          = "version-not-13"
	IDOversizedMessage      = "oversized-message"
	IDDecompressionBomb     = "decompression-bomb"
	IDPingFlood             = "ping-flood"
	IDHandshakeFlood        = "handshake-flood"
	IDTunnelledProtocol     = "tunnelled-protocol"
	IDCompressionSecrets    = "compression-with-secrets"
	IDProxyCredentials      = "proxy-cleartext-credentials"
)

// CheckInfo documents one finding id.
type CheckInfo struct {
	ID    string
	Title string
	Why   string
	Fix   string
}

// checkTable is the immutable list behind Checks.
var checkTable = []CheckInfo{
	{IDCSWSH, "Cross-Site WebSocket Hijacking: a foreign Origin was accepted with ambient credentials",
		"any web page the victim visits can open this WebSocket with the victim's cookies or HTTP auth and read and send messages as the victim",
		"check Origin against an allow-list before accepting the upgrade (or authenticate with a token sent in the first message)"},
	{IDCSWSHNoOrigin, "WebSocket accepted with ambient credentials and no Origin header",
		"the server accepts cookie or HTTP-auth sessions without an Origin; whether it would refuse a foreign Origin cannot be seen, and browsers always send one",
		"require an Origin header and check it against an allow-list"},
	{IDCSWSHSameSite, "WebSocket accepted from another origin of the same site with ambient credentials",
		"a page on a sibling subdomain or port (XSS there, a subdomain takeover) can hijack the session; SameSite cookies do not stop same-site requests",
		"allow exactly the origins that need the socket, not the whole site"},
	{IDOriginChecked, "A foreign Origin was refused: the server checks Origin",
		"the upgrade from a cross-origin page was rejected, which is the defence against cross-site WebSocket hijacking",
		"nothing to fix; keep the allow-list"},
	{IDCleartextCredentials, "Credentials sent over unencrypted WebSocket (ws://)",
		"anyone on the network path can read and replay the cookie, Authorization header or token",
		"serve the socket over wss:// (TLS) only and mark cookies Secure"},
	{IDTokenInURL, "Credential in the WebSocket URL query",
		"URLs are written to proxy, server and browser logs and history, so the token leaks even over TLS",
		"send the token in the first message or a header, not in the URL"},
	{IDSecretInMessage, "Secret inside a WebSocket message over ws://",
		"messages on an unencrypted connection can be read by anyone on the network path",
		"use wss:// and keep secrets out of messages where possible"},
	{IDSubprotocolNotOffered, "Server selected a subprotocol the client did not offer",
		"the client and server disagree about the protocol spoken; clients that do not check may mis-parse messages (RFC 6455 4.1 requires failing the connection)",
		"select only a subprotocol from the client's Sec-WebSocket-Protocol list"},
	{IDExtensionNotOffered, "Server selected an extension the client did not offer",
		"an extension the client did not ask for changes framing (e.g. compression) behind its back (RFC 6455 9.1)",
		"negotiate only extensions the client offered"},
	{IDCORSOriginReflected, "Server reflects a foreign Origin in Access-Control-Allow-Origin",
		"echoing any Origin (with credentials allowed) shows the origin check accepts everything; the same logic usually guards the socket",
		"compare Origin with an allow-list instead of echoing it"},
	{IDAcceptNotValidated, "Client went on after a wrong or missing Sec-WebSocket-Accept",
		"a client that does not validate the handshake can be talked to by non-WebSocket servers and caching proxies (RFC 6455 4.1 requires failing the connection)",
		"validate Sec-WebSocket-Accept in the client (use a maintained WebSocket library)"},
	{IDVersionNot13, "Server accepted a WebSocket version other than 13",
		"pre-RFC drafts (hixie-76, hybi-00..12) lack masking and handshake checks and have known attacks",
		"refuse versions other than 13 with 426 and Sec-WebSocket-Version: 13"},
	{IDOversizedMessage, "Message or frame over the size threshold",
		"very large messages exhaust memory on peers that buffer whole messages (denial of service)",
		"set a read limit on the receiving side (e.g. SetReadLimit) suited to the application"},
	{IDDecompressionBomb, "Compressed message inflates far beyond its size (decompression bomb)",
		"a small compressed message that inflates to megabytes exhausts memory or CPU on the receiver",
		"cap the inflated size of a message (read limit applied after decompression)"},
	{IDPingFlood, "Ping flood",
		"many pings per second make the peer answer each with a pong: cheap amplification and CPU load",
		"rate-limit control frames and close connections that flood them"},
	{IDHandshakeFlood, "Many WebSocket handshakes per second from one client",
		"a burst of upgrades from one address is connection exhaustion or brute forcing of handshake credentials",
		"rate-limit upgrades per client address"},
	{IDTunnelledProtocol, "Another protocol tunnelled inside WebSocket",
		"a WebSocket carrying SSH, TLS or HTTP is a tunnel (websockify, wstunnel, proxies) that bypasses egress filtering and inspection",
		"confirm the tunnel is intended and restrict who may open it"},
	{IDProxyCredentials, "Credentials sent in clear to the proxy the WebSocket went through",
		"the client authenticated to its HTTP proxy (Proxy-Authorization: Basic is a reversible encoding) or SOCKS proxy (user name and password) on an unencrypted connection, even when the WebSocket inside is wss://; proxy credentials are often the user's network or domain login",
		"use a proxy reached over TLS or one that authenticates without sending the password (Kerberos/Negotiate), and keep proxy and directory passwords apart"},
	{IDCompressionSecrets, "Compression with context takeover on messages carrying secrets",
		"when attacker-influenced data is compressed in the same context as a secret, message sizes leak the secret (CRIME/BREACH)",
		"negotiate no_context_takeover or do not compress messages that carry secrets"},
}

// Checks lists every finding id with its title, why it matters and the fix.
func Checks() []CheckInfo { return slices.Clone(checkTable) }

// checkByID returns the documentation of id.
func checkByID(id string) CheckInfo {
	for _, c := range checkTable {
		if c.ID == id {
			return c
		}
	}
	return CheckInfo{ID: id}
}

// Finding is one weakness, seen on one or more connections with the same
// host and path.
type Finding struct {
	// ID is the stable check id.
	ID string
	// Severity grades the finding.
	Severity Severity
	// Title, Why and Fix are the check's documentation.
	Title, Why, Fix string
	// Host and Path are the request's Host header and path without query
	// ("" for connections picked up mid-stream).
	Host, Path string
	// Streams are the TCP stream numbers of the connections the finding was
	// seen on, in order of appearance (at most MaxStreams listed; Conns
	// counts all).
	Streams []uint64
	// H2Streams is nil unless a connection is a WebSocket over HTTP/2 (RFC
	// 8441): then it holds, for each of Streams, the HTTP/2 stream of that
	// session (0 for a connection over HTTP/1.1). Several sessions of one
	// HTTP/2 connection repeat its TCP stream in Streams.
	H2Streams []uint32
	// TunnelStreams is nil unless a connection is a WebSocket over HTTP/2
	// inside a proxy's HTTP/2 CONNECT tunnel (dissect.Conn.TunnelStream):
	// then it holds, for each of Streams, the HTTP/2 stream of the tunnel
	// (0 for the others), whose own HTTP/2 connection numbers its streams
	// afresh: sessions in two tunnels of one connection may have the same
	// H2Streams.
	TunnelStreams []uint32
	// Conns counts the connections (WebSocket sessions).
	Conns int
	// Packet is the packet the first evidence is in; Time its capture time.
	Packet uint64
	Time   time.Time
	// Client and Server are the endpoints of the first connection.
	Client, Server netip.AddrPort
	// Evidence is a short excerpt of what was seen, with secrets redacted.
	Evidence string
}

// MaxStreams caps the stream numbers listed per finding.
const MaxStreams = 1000

// Detector recognises a protocol from the first bytes of a WebSocket
// message; it returns the protocol's name and a short excerpt of what it saw,
// or ok false.
type Detector func(payload []byte) (proto, excerpt string, ok bool)

// Config sets the thresholds and the pluggable parts. The zero value uses
// the defaults.
type Config struct {
	// MaxSize: a frame or message whose length is over it is reported
	// (default DefaultMaxSize).
	MaxSize uint64
	// MaxRatio: a compressed message whose inflated size is over MaxRatio
	// times its compressed size (and at least MinBombSize) is reported
	// (default DefaultMaxRatio).
	MaxRatio float64
	// MinBombSize is the smallest inflated size checked against MaxRatio
	// (default DefaultMinBombSize).
	MinBombSize uint64
	// MaxPings: more pings than this within one second in one direction of
	// one connection are reported (default DefaultMaxPings).
	MaxPings int
	// MaxHandshakes: more upgrade requests than this within one second from
	// one client address are reported (default DefaultMaxHandshakes).
	MaxHandshakes int
	// ScanLimit is the number of bytes of each message scanned for secrets
	// and protocol banners (default DefaultScanLimit).
	ScanLimit int
	// IsTLS reports whether a connection is encrypted (wss://). Nil treats
	// every connection as unencrypted ws://.
	IsTLS func(c *dissect.Conn) bool
	// Tunnel recognises a protocol tunnelled in a message. Nil uses
	// SniffTunnel (SSH, TLS, HTTP and SOCKS5 banners).
	Tunnel Detector
}

// Defaults of Config.
const (
	DefaultMaxSize       = 16 << 20
	DefaultMaxRatio      = 100
	DefaultMinBombSize   = 64 << 10
	DefaultMaxPings      = 50
	DefaultMaxHandshakes = 20
	DefaultScanLimit     = 64 << 10
)

func (c *Config) setDefaults() {
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.MaxRatio <= 0 {
		c.MaxRatio = DefaultMaxRatio
	}
	if c.MinBombSize == 0 {
		c.MinBombSize = DefaultMinBombSize
	}
	if c.MaxPings <= 0 {
		c.MaxPings = DefaultMaxPings
	}
	if c.MaxHandshakes <= 0 {
		c.MaxHandshakes = DefaultMaxHandshakes
	}
	if c.ScanLimit <= 0 {
		c.ScanLimit = DefaultScanLimit
	}
	if c.IsTLS == nil {
		c.IsTLS = func(*dissect.Conn) bool { return false }
	}
	if c.Tunnel == nil {
		c.Tunnel = SniffTunnel
	}
}

// maxConnState bounds the per-connection states kept at once; past it the
// oldest half is dropped (their later messages are still scanned, without
// the handshake context).
const maxConnState = 1 << 16

// maxFindings bounds the distinct (check, host, path) findings; past it,
// further ones are folded into host and path "*".
const maxFindings = 4096

// maxClients bounds the client addresses tracked for handshake floods.
const maxClients = 1 << 16

// Auditor collects findings from the records of one capture. It is a
// dissect.Sink; it is not safe for concurrent use.
type Auditor struct {
	cfg      Config
	conns    map[connID]*connState
	order    []connID // connections in order of first sight, for eviction
	clients  map[netip.Addr]*rate
	findings map[findingKey]*Finding
	seq      []*Finding // in order of first sight
	free     [][]byte   // message buffers to reuse
	cover    Coverage
}

// Coverage says what of a capture the audit could check: a report of no
// findings means little when the WebSocket traffic was inside TLS without
// its keys, or was picked up without its handshake.
type Coverage struct {
	// Handshakes counts the WebSocket handshakes checked (upgrades accepted
	// or refused; over HTTP/2, extended CONNECTs).
	Handshakes int
	// Midstream counts connections picked up without their handshake:
	// only their messages were checked.
	Midstream int
	// NotDecrypted counts TLS connections that were not decrypted (so not
	// checked), by reason.
	NotDecrypted tlsdecrypt.Tally
}

// Coverage returns what the audit could check so far; the map is the
// caller's.
func (a *Auditor) Coverage() Coverage {
	c := a.cover
	c.NotDecrypted = maps.Clone(a.cover.NotDecrypted)
	return c
}

// count adds the connection of a conn record to the coverage, and reports
// whether it is a WebSocket connection the checks apply to (not the listing
// of a TLS connection that was not dissected).
func (a *Auditor) count(c *dissect.Conn) bool {
	switch {
	case c.TLSListing():
		if !c.TLS.Decrypted {
			a.cover.NotDecrypted.Add(c.TLS.Reason)
		}
		return false
	case c.Midstream:
		a.cover.Midstream++
	default:
		a.cover.Handshakes++
	}
	return true
}

type findingKey struct{ id, host, path string }

// rate counts events in a one-second window.
type rate struct {
	start   time.Time
	n       int
	flagged bool
}

// hit counts an event at t and reports whether the window now holds more
// than limit events; first is true for the first such event of the window.
func (r *rate) hit(t time.Time, limit int) (over, first bool) {
	if r.n == 0 || t.Sub(r.start) >= time.Second || t.Before(r.start) {
		r.start, r.n, r.flagged = t, 0, false
	}
	r.n++
	if r.n <= limit {
		return false, false
	}
	first = !r.flagged
	r.flagged = true
	return true, first
}

// New returns an Auditor with the given configuration.
func New(cfg Config) *Auditor {
	cfg.setDefaults()
	return &Auditor{
		cfg:      cfg,
		conns:    map[connID]*connState{},
		clients:  map[netip.Addr]*rate{},
		findings: map[findingKey]*Finding{},
		cover:    Coverage{NotDecrypted: tlsdecrypt.Tally{}},
	}
}

// report adds an occurrence of check id on conn c.
func (a *Auditor) report(id string, sev Severity, c *dissect.Conn, pkt uint64, t time.Time, evidence string) {
	host, path := "", ""
	if !c.Midstream {
		host, path = c.Host, c.Path
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
	}
	k := findingKey{id, host, path}
	f := a.findings[k]
	if f == nil && len(a.findings) >= maxFindings {
		// Bound memory on captures with endless hosts or paths: fold the
		// rest into one finding per check.
		host, path = "*", "*"
		k = findingKey{id, host, path}
		f = a.findings[k]
	}
	if f == nil {
		info := checkByID(id)
		f = &Finding{
			ID: id, Severity: sev, Title: info.Title, Why: info.Why, Fix: info.Fix,
			Host: strings.Clone(host), Path: strings.Clone(path), Packet: pkt, Time: t,
			Client: c.Client, Server: c.Server, Evidence: clip(evidence, maxEvidence),
		}
		a.findings[k] = f
		a.seq = append(a.seq, f)
	}
	if sev > f.Severity {
		f.Severity = sev
	}
	// Other evidence of the same finding (another secret, another cookie)
	// is added while there is room.
	if ev := clip(evidence, maxEvidence); !strings.Contains(f.Evidence, ev) && len(f.Evidence)+len(ev) <= 2*maxEvidence {
		f.Evidence += " | " + ev
	}
	sid := idOf(c)
	if f.hasSession(sid) {
		return
	}
	f.Conns++
	if len(f.Streams) >= MaxStreams {
		return
	}
	if sid.h2 != 0 && f.H2Streams == nil {
		f.H2Streams = make([]uint32, len(f.Streams), len(f.Streams)+1)
	}
	if sid.tunnel != 0 && f.TunnelStreams == nil {
		f.TunnelStreams = make([]uint32, len(f.Streams), len(f.Streams)+1)
	}
	f.Streams = append(f.Streams, sid.stream)
	if f.H2Streams != nil {
		f.H2Streams = append(f.H2Streams, sid.h2)
	}
	if f.TunnelStreams != nil {
		f.TunnelStreams = append(f.TunnelStreams, sid.tunnel)
	}
}

// hasSession reports whether f lists the connection id; the last one listed
// is checked first.
func (f *Finding) hasSession(id connID) bool {
	for i := len(f.Streams) - 1; i >= 0; i-- {
		if f.Streams[i] == id.stream && f.h2At(i) == id.h2 && f.tunnelAt(i) == id.tunnel {
			return true
		}
	}
	return false
}

// h2At returns the HTTP/2 stream of the i-th connection listed, 0 for one
// over HTTP/1.1.
func (f *Finding) h2At(i int) uint32 {
	if f.H2Streams == nil {
		return 0
	}
	return f.H2Streams[i]
}

// tunnelAt returns the proxy tunnel's HTTP/2 stream of the i-th connection
// listed, 0 for one that is not a WebSocket over HTTP/2 in such a tunnel.
func (f *Finding) tunnelAt(i int) uint32 {
	if f.TunnelStreams == nil {
		return 0
	}
	return f.TunnelStreams[i]
}

// Findings returns the findings so far, most severe first, then by host,
// path and id. The slice and findings are the caller's.
func (a *Auditor) Findings() []Finding {
	out := make([]Finding, 0, len(a.seq))
	for _, f := range a.seq {
		g := *f
		g.Streams, g.H2Streams, g.TunnelStreams = slices.Clone(f.Streams), slices.Clone(f.H2Streams), slices.Clone(f.TunnelStreams)
		out = append(out, g)
	}
	slices.SortStableFunc(out, func(x, y Finding) int {
		if x.Severity != y.Severity {
			return cmp.Compare(y.Severity, x.Severity)
		}
		return cmp.Or(cmp.Compare(x.Host, y.Host), cmp.Compare(x.Path, y.Path), cmp.Compare(x.ID, y.ID))
	})
	return out
}

// Emit implements dissect.Sink.
func (a *Auditor) Emit(r *dissect.Record) error {
	c := r.Conn
	if c == nil {
		return nil
	}
	for i := range r.Anomalies {
		if r.Anomalies[i].ID == dissect.AnDecompressLimit {
			a.report(IDDecompressionBomb, Medium, c, r.Packet, r.Time,
				"inflating a message exceeded the --max-message limit: "+r.Anomalies[i].Msg)
		}
	}
	switch r.Kind {
	case dissect.KindEnd:
		// The connection is over: its state can go.
		if st := a.conns[idOf(c)]; st != nil {
			a.release(st)
			delete(a.conns, idOf(c))
		}
	case dissect.KindConn:
		a.proxyCredentials(r)
		// A TLS connection that was not dissected is no upgrade request
		// (nor one for the handshake-flood count).
		if a.count(c) {
			a.handshake(r)
		}
	case dissect.KindFrame:
		a.frame(r)
	case dissect.KindMessage:
		m := r.Message
		st := a.state(c)
		a.message(r, st, m.Dir, m.Opcode, m.Payload, m.Len, 0, m.Compressed, m.Index, m.FirstPacket)
	}
	return nil
}

// connID identifies a WebSocket connection: its TCP stream and, for a
// WebSocket over HTTP/2, its stream id (several share a TCP connection).
type connID struct {
	stream     uint64
	tunnel, h2 uint32 // see dissect.Conn.TunnelStream
}

func idOf(c *dissect.Conn) connID { return connID{c.Stream, c.TunnelStream(), c.H2Stream} }

// connState is what the auditor keeps per connection.
type connState struct {
	tls        bool
	badAccept  bool   // 101 with a wrong or missing Sec-WebSocket-Accept
	acceptEvid string // evidence for accept-not-validated
	takeover   [2]bool
	pings      [2]rate
	cur        [2]msgBuf
	firstDone  [2]bool // the first data message was sniffed
	reported   uint32  // bit set of per-connection ids already reported
	secrets    uint32  // secret kinds reported, 4 bits per direction
}

// msgBuf assembles a message from frame records.
type msgBuf struct {
	active     bool
	opcode     uint8
	index      uint64
	first      uint64
	buf        []byte // at most ScanLimit bytes
	inflated   uint64
	wire       uint64
	compressed bool
}

// state returns the state of c's connection, creating it.
func (a *Auditor) state(c *dissect.Conn) *connState {
	if st := a.conns[idOf(c)]; st != nil {
		return st
	}
	if len(a.conns) >= maxConnState {
		drop := a.order[:len(a.order)/2]
		for _, s := range drop {
			if st := a.conns[s]; st != nil {
				a.release(st)
				delete(a.conns, s)
			}
		}
		a.order = slices.Delete(a.order, 0, len(drop))
	}
	st := &connState{tls: a.cfg.IsTLS(c)}
	if d := c.Deflate; d != nil {
		st.takeover[dissect.ClientToServer] = !d.ClientNoContextTakeover
		st.takeover[dissect.ServerToClient] = !d.ServerNoContextTakeover
	}
	a.conns[idOf(c)] = st
	a.order = append(a.order, idOf(c))
	if len(a.order) > 2*maxConnState {
		// Connections that ended left their ids behind: keep the live ones.
		live := a.order[:0]
		for _, id := range a.order {
			if a.conns[id] != nil {
				live = append(live, id)
			}
		}
		a.order = live
	}
	return st
}

// release returns a state's buffers to the free list.
func (a *Auditor) release(st *connState) {
	for i := range st.cur {
		a.releaseBuf(&st.cur[i])
	}
}

// once reports whether bit was not yet set on st, setting it.
func (st *connState) once(bit uint32) bool {
	if st.reported&bit != 0 {
		return false
	}
	st.reported |= bit
	return true
}

// Per-connection once bits.
const (
	onceAccept uint32 = 1 << iota
	oncePing0
	oncePing1
	onceSize0
	onceSize1
	onceBomb0
	onceBomb1
)

// frame assembles data frames into messages and checks control frames.
func (a *Auditor) frame(r *dissect.Record) {
	f := r.Frame
	st := a.state(r.Conn)
	a.clientSent(r, st, f.Dir)
	if f.Len > a.cfg.MaxSize && st.once(onceSize0<<f.Dir) {
		a.report(IDOversizedMessage, Low, r.Conn, r.Packet, r.Time,
			f.Dir.String()+" frame header announces "+fmtUint(f.Len)+" bytes (threshold "+fmtUint(a.cfg.MaxSize)+")")
	}
	if dissect.IsControl(f.Opcode) {
		a.message(r, st, f.Dir, f.Opcode, f.Payload, uint64(len(f.Payload)), f.Len, false, f.MessageIndex, r.Packet)
		return
	}
	m := &st.cur[f.Dir]
	if f.Opcode != dissect.OpContinuation && f.Fin {
		// A message in one frame: scan the frame's payload in place.
		m.active = false
		p := f.Payload[:min(a.cfg.ScanLimit, len(f.Payload))]
		a.message(r, st, f.Dir, f.MessageOpcode, p, uint64(len(f.Payload)), f.Len, f.Compressed, f.MessageIndex, r.Packet)
		a.releaseBuf(m)
		return
	}
	if f.Opcode != dissect.OpContinuation || !m.active {
		m.active, m.opcode, m.index = true, f.MessageOpcode, f.MessageIndex
		m.first, m.inflated, m.wire, m.compressed = r.Packet, 0, 0, f.Compressed
		if m.buf == nil && len(a.free) > 0 {
			m.buf, a.free = a.free[len(a.free)-1], a.free[:len(a.free)-1]
		}
		m.buf = m.buf[:0]
	}
	m.wire += f.Len
	m.inflated += uint64(len(f.Payload))
	if room := a.cfg.ScanLimit - len(m.buf); room > 0 {
		m.buf = append(m.buf, f.Payload[:min(room, len(f.Payload))]...)
	}
	if !f.Fin {
		return
	}
	m.active = false
	a.message(r, st, f.Dir, m.opcode, m.buf, m.inflated, m.wire, m.compressed, m.index, m.first)
	a.releaseBuf(m)
}

// releaseBuf takes a finished message's buffer from its connection, so only
// messages in progress hold one, and keeps a few for reuse.
func (a *Auditor) releaseBuf(m *msgBuf) {
	if m.buf != nil && cap(m.buf) <= 2*a.cfg.ScanLimit && len(a.free) < 16 {
		a.free = append(a.free, m.buf[:0])
	}
	m.buf = nil
}

// clientSent notes traffic after a bad handshake.
func (a *Auditor) clientSent(r *dissect.Record, st *connState, d dissect.Dir) {
	if d == dissect.ClientToServer && st.badAccept && st.once(onceAccept) {
		a.report(IDAcceptNotValidated, Medium, r.Conn, r.Packet, r.Time, st.acceptEvid+"; the client sent a frame after it")
	}
}

// message checks one complete message (or control frame). wire is the
// compressed size on the wire when known (0 otherwise); payload holds at most
// ScanLimit bytes of the (inflated) message.
func (a *Auditor) message(r *dissect.Record, st *connState, d dissect.Dir, op uint8, payload []byte, n, wire uint64, compressed bool, index, first uint64) {
	c := r.Conn
	if r.Kind == dissect.KindMessage {
		a.clientSent(r, st, d)
	}
	if op == dissect.OpPing {
		if over, _ := st.pings[d].hit(r.Time, a.cfg.MaxPings); over && st.once(oncePing0<<d) {
			a.report(IDPingFlood, Low, c, r.Packet, r.Time,
				"more than "+fmtUint(uint64(a.cfg.MaxPings))+" "+d.String()+" pings within one second")
		}
		return
	}
	if dissect.IsControl(op) {
		return
	}
	if n > a.cfg.MaxSize && st.once(onceSize0<<d) {
		a.report(IDOversizedMessage, Low, c, r.Packet, r.Time,
			d.String()+" message of "+fmtUint(n)+" bytes (threshold "+fmtUint(a.cfg.MaxSize)+")")
	}
	if compressed {
		if wire > 0 && n >= a.cfg.MinBombSize && float64(n) > a.cfg.MaxRatio*float64(wire) && st.once(onceBomb0<<d) {
			a.report(IDDecompressionBomb, Medium, c, first, r.Time,
				d.String()+" message of "+fmtUint(wire)+" compressed bytes inflates to "+fmtUint(n)+
					" bytes (ratio "+fmtUint(n/wire)+", threshold "+fmtFloat(a.cfg.MaxRatio)+")")
		}
	}
	if !st.firstDone[d] {
		st.firstDone[d] = true
		if proto, ex, ok := a.cfg.Tunnel(payload); ok {
			a.report(IDTunnelledProtocol, Medium, c, first, r.Time,
				proto+" in the first "+d.String()+" message: "+ex)
		}
	}
	for _, sec := range scanSecrets(payload) {
		bit := uint32(1) << (uint(sec.kind) + 4*uint(d))
		if st.secrets&bit != 0 {
			continue
		}
		st.secrets |= bit
		ev := d.String() + " message " + fmtUint(index) + ": " + sec.desc
		if !st.tls {
			a.report(IDSecretInMessage, High, c, first, r.Time, ev)
		}
		if compressed && st.takeover[d] {
			a.report(IDCompressionSecrets, Info, c, first, r.Time,
				"permessage-deflate with "+d.String()+" context takeover; "+ev)
		}
	}
}
