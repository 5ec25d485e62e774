package dissect

import (
	"time"

	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// maxHeldTLSAnomalies bounds the anomalies a TLS connection holds until it
// is listed.
const maxHeldTLSAnomalies = 8

// tlsConn is the TLS layer between TCP and HTTP: it owns a tlsdecrypt
// session for a connection that started with a ClientHello and feeds the
// decrypted bytes, as chunks stamped with the packet that completed each
// record, to the handler ALPN selects (plainHandler). A connection that was
// not decrypted (no key, unsupported suite, other ALPN) is listed with one
// conn record carrying its TLS description and byte counts.
type tlsConn struct {
	d      *Dissector
	info   *reassembly.ConnInfo
	s      *tlsdecrypt.Session
	client reassembly.Side

	inner     reassembly.Handler // nil until the first plaintext
	innerLazy *lazyConn          // inner, when it is the HTTP path
	chosen    bool               // inner was chosen (it may be nil: not dissected)
	innerDone bool               // inner wants no more data
	// tunnels is the number of proxy tunnels the connection runs in (its
	// decrypted bytes may open more, up to maxTunnels in all); depth the
	// number of TLS layers around it.
	tunnels, depth int
	// h2Stream is the HTTP/2 stream of the tunnel the connection runs in
	// (lazyConn.h2Stream); rstSide, the side (plus one) whose RST_STREAM
	// ended it.
	h2Stream uint32
	rstSide  int8
	// endAs, when set, is how what carries the connection ended
	// (lazyConn.carrierEnded).
	endAs EndReason

	pkt      uint64 // packet of the bytes being fed
	ts       time.Time
	plainOff [2]uint64
	chunk    reassembly.Chunk
	gap      reassembly.Gap

	// charged is what the session's buffers are charged to the memory
	// budget (chargeHeld).
	charged int64

	desc  TLS
	conn  Conn // the connection's Conn until (unless) inner lists it
	rec   Record
	held  []heldAnomaly // anomalies of a connection not listed yet
	start time.Time     // the first data's time
	end   End
	ans   []Anomaly // the held anomalies, on the conn record of list
}

// heldAnomaly is an anomaly waiting for its connection to be listed.
type heldAnomaly struct {
	a      Anomaly
	hasDir bool
	dir    Dir
	pkt    uint64 // the packet being processed when it was found
	ts     time.Time
}

// newTLSConn returns the TLS layer of a connection whose side client sent a
// ClientHello. It reuses a closed connection's layer and session when there
// is one: zeroed but for the session, whose buffers and parsed hellos are
// kept (Session.Reset). Every session of the dissector decrypts into its
// one tlsdecrypt.Scratch.
func (d *Dissector) newTLSConn(info *reassembly.ConnInfo, client reassembly.Side) *tlsConn {
	var t *tlsConn
	if n := len(d.tls); n > 0 {
		t = d.tls[n-1]
		d.tls[n-1] = nil
		d.tls = d.tls[:n-1]
		*t = tlsConn{s: t.s}
		t.s.Reset(d.opts.KeyLog, t)
	} else {
		t = &tlsConn{}
		t.s = tlsdecrypt.NewSession(d.opts.KeyLog, t)
		t.s.SetScratch(&d.tlsScratch)
	}
	t.d, t.info, t.client = d, info, client
	t.conn = Conn{Stream: info.Stream, FirstPacket: info.FirstPacket, Client: info.Addr[client], Server: info.Addr[client.Other()], TLS: &t.desc}
	t.conn.setTunnel(info)
	return t
}

// setProxy records the tunnel the TLS connection runs in (Conn.Proxy),
// nil for none.
func (t *tlsConn) setProxy(p *ProxyTunnel) { t.conn.Proxy = p }

// plainHandler returns the handler of the decrypted bytes for the
// negotiated ALPN protocol, or nil when that protocol is not dissected
// (the connection is then listed with the reason). "http/1.1" and no ALPN
// take the HTTP/1.1 -> WebSocket path; "h2" the same connection state,
// which recognises HTTP/2 by the client's connection preface (or the
// server's first SETTINGS) and decodes its RFC 8441 WebSocket sessions.
// The handler is the one a TCP connection starts with (lazyConn), so that
// a CONNECT to an HTTPS proxy opens a tunnel here too.
func (t *tlsConn) plainHandler(alpn string) reassembly.Handler {
	switch alpn {
	case "", "http/1.1", "h2":
		l := t.d.innerLazy(t.info, &t.desc, t.depth+1, t.tunnels, t.conn.Proxy, t.h2Stream)
		t.innerLazy = l
		return l
	}
	t.desc.Reason = "ALPN " + alpn + ": the decrypted protocol is not dissected"
	return nil
}

func (t *tlsConn) dir(side reassembly.Side) tlsdecrypt.Dir {
	if side == t.client {
		return tlsdecrypt.Client
	}
	return tlsdecrypt.Server
}

func (t *tlsConn) side(dir tlsdecrypt.Dir) reassembly.Side {
	if dir == tlsdecrypt.Client {
		return t.client
	}
	return t.client.Other()
}

// WaitEarlier implements tlsdecrypt.EarlierWaiter with the dissector's
// Options.WaitEarlier.
func (t *tlsConn) WaitEarlier() {
	if w := t.d.opts.WaitEarlier; w != nil {
		w()
	}
}

// Data implements reassembly.Handler.
func (t *tlsConn) Data(side reassembly.Side, ch *reassembly.Chunk) bool {
	t.pkt, t.ts = ch.Packet, ch.Time
	if t.start.IsZero() {
		t.start = ch.Time
	}
	t.s.Feed(t.dir(side), ch.Data)
	t.chargeHeld()
	return !t.innerDone
}

// chargeHeld charges the memory budget what the session holds now (see
// tlsdecrypt.Session.Held: records waiting for keys or for the other
// direction's handshake, a partial record or handshake message), giving
// back what it released. It forces the charge: the budget's pressure falls
// on whole connections (settle), not on one TLS record.
func (t *tlsConn) chargeHeld() {
	if held := int64(t.s.Held()); held != t.charged {
		t.recharge(held)
	}
}

// recharge charges the memory budget held bytes instead of t.charged.
func (t *tlsConn) recharge(held int64) {
	if d := held - t.charged; d > 0 {
		t.d.mem.Force(d)
	} else {
		t.d.mem.Give(-d)
	}
	t.charged = held
}

// Gap implements reassembly.Handler.
func (t *tlsConn) Gap(side reassembly.Side, g *reassembly.Gap) {
	t.pkt, t.ts = g.Packet, g.Time
	dir := t.dir(side)
	t.s.Gap(dir, g.Len)
	t.chargeHeld()
	t.plainGap(dir, g.Len, g.Reason)
}

// plainGap tells the plaintext handler that bytes of unknown length are
// missing (about n: the TLS bytes lost).
func (t *tlsConn) plainGap(dir tlsdecrypt.Dir, n uint64, reason string) {
	if t.inner == nil || t.innerDone {
		return
	}
	t.gap = reassembly.Gap{Offset: t.plainOff[dir], Len: n, Packet: t.pkt, Time: t.ts,
		Reason: "TLS: " + reason + "; the plaintext's length is unknown", Unsized: true}
	t.plainOff[dir] += n
	t.inner.Gap(t.side(dir), &t.gap)
}

// Note implements reassembly.Handler; offsets stay those of the TLS stream.
func (t *tlsConn) Note(side reassembly.Side, n *reassembly.Note) {
	if t.inner != nil && !t.innerDone {
		t.inner.Note(side, n)
	}
}

// Close implements reassembly.Handler.
func (t *tlsConn) Close(reason reassembly.CloseReason) {
	t.s.Close()
	t.d.mem.Give(t.charged)
	t.charged = 0
	t.update()
	if t.innerLazy != nil {
		// What the end decides (a tunnel taken open without its answer)
		// may list the connection inside.
		t.innerLazy.finish()
	}
	listed := t.listed()
	if listed {
		t.flushHeld()
	}
	tunneled := t.innerLazy != nil && t.innerLazy.t != nil
	if !listed && tunneled {
		// A TLS connection inside a proxy tunnel in this one lists the
		// connection when it closes, with what this one held.
		t.innerLazy.t.held = append(t.innerLazy.t.held, t.held...)
		t.held = t.held[:0]
	}
	if t.inner != nil {
		t.inner.Close(reason)
	}
	t.innerLazy = nil // back in the pool
	if !listed && !tunneled {
		t.list(reason)
	}
	t.held = nil
	t.inner = nil
	if len(t.d.tls) < maxFreeConns {
		t.s.Reset(nil, nil)
		t.d.tls = append(t.d.tls, t)
	}
}

// update copies the session's view of the handshake into the description.
func (t *tlsConn) update() {
	in := t.s.Info()
	t.desc.Version = tlsdecrypt.VersionName(in.Version)
	if in.CipherSuite != 0 && t.desc.Cipher == "" {
		t.desc.Cipher = tlsdecrypt.CipherSuiteName(in.CipherSuite)
	}
	t.desc.SNI, t.desc.ALPN, t.desc.ALPNOffered = in.SNI, in.ALPN, in.OfferedALPN
	t.desc.ClientRandom = in.ClientRandom
	t.desc.Decrypted = in.Decrypted
	if in.Reason != "" && t.desc.Reason == "" {
		t.desc.Reason = in.Reason
	}
	if !in.Decrypted && t.desc.Reason == "" {
		t.desc.Reason = "no record was decrypted"
	}
}

// list emits the conn record of a TLS connection that was not dissected,
// when it ends (it carries the bytes each way), with the anomalies it held
// (separate records after it would come out of packet order), then its end
// record.
func (t *tlsConn) list(reason reassembly.CloseReason) {
	t.desc.ClientBytes, t.desc.ServerBytes = t.s.Bytes(tlsdecrypt.Client), t.s.Bytes(tlsdecrypt.Server)
	t.ans = t.ans[:0]
	for _, h := range t.held {
		t.ans = append(t.ans, h.a)
	}
	t.held = t.held[:0]
	t.rec = Record{Kind: KindConn, Conn: &t.conn, Packet: t.pkt, Time: t.ts, Anomalies: t.ans}
	t.d.emit(&t.rec)
	t.end = End{Reason: EndCaptureEnd, Start: t.start}
	if int(reason) < len(endReasons) {
		t.end.Reason = endReasons[reason]
	}
	if t.endAs != 0 {
		t.end.Reason = t.endAs
	}
	if t.rstSide != 0 {
		t.end.HasRST, t.end.RSTFrom = true, ServerToClient
		if reassembly.Side(t.rstSide-1) == t.client {
			t.end.RSTFrom = ClientToServer
		}
	}
	t.rec = Record{Kind: KindEnd, Conn: &t.conn, Packet: t.pkt, Time: t.ts, End: &t.end}
	t.d.emit(&t.rec)
}

// listed reports whether the plaintext handler emitted the conn record, or
// over HTTP/2 the conn record of a WebSocket session, or the connection in
// a proxy tunnel in it was listed: such a connection is not listed as a TLS
// connection of its own.
func (t *tlsConn) listed() bool { return t.innerShown() != nil }

// innerShown returns the Conn the decrypted connection was listed under,
// nil while it was not (one walk down the layers).
func (t *tlsConn) innerShown() *Conn {
	if t.innerLazy == nil {
		return nil
	}
	return t.innerLazy.shownConn()
}

// shownConn returns the Conn the connection's records are listed under:
// the decrypted connection's once that was listed, else its own.
func (t *tlsConn) shownConn() *Conn {
	if c := t.innerShown(); c != nil {
		return c
	}
	return &t.conn
}

// flushHeld emits the anomalies held until the connection was listed.
func (t *tlsConn) flushHeld() {
	for _, h := range t.held {
		t.emitAnomaly(h.a, h.hasDir, h.dir, h.pkt, h.ts)
	}
	t.held = t.held[:0]
}

// Plaintext implements tlsdecrypt.Handler.
func (t *tlsConn) Plaintext(dir tlsdecrypt.Dir, data []byte) {
	if !t.chosen {
		t.chosen = true
		t.update()
		t.inner = t.plainHandler(t.desc.ALPN)
		if t.inner == nil {
			t.innerDone = true
		}
	}
	if t.innerDone {
		return
	}
	t.chunk = reassembly.Chunk{Data: data, Offset: t.plainOff[dir], Packet: t.pkt, Time: t.ts}
	t.plainOff[dir] += uint64(len(data))
	if !t.inner.Data(t.side(dir), &t.chunk) {
		t.innerDone = true
	}
	if len(t.held) > 0 && t.listed() {
		t.flushHeld()
	}
}

// Problem implements tlsdecrypt.Handler.
func (t *tlsConn) Problem(p tlsdecrypt.Problem) {
	var id string
	switch p.Kind {
	case tlsdecrypt.ProblemNoKey:
		id = AnTLSNoKey
	case tlsdecrypt.ProblemUnsupported:
		id = AnTLSUnsupported
	case tlsdecrypt.ProblemDecrypt:
		id = AnTLSDecryptFailed
		t.plainGap(p.Dir, uint64(p.Len), "a TLS record failed to decrypt")
	case tlsdecrypt.ProblemMalformed:
		id = AnTLSMalformed
		t.plainGap(p.Dir, uint64(p.Len), "bytes that are not TLS records")
	case tlsdecrypt.ProblemResync:
		id = AnTLSResync
	case tlsdecrypt.ProblemAlert:
		if p.CloseNotify {
			return
		}
		id = AnTLSAlert
	case tlsdecrypt.ProblemEarlySkipped:
		id = AnTLSEarlySkipped
	default:
		return
	}
	t.update()
	hasDir := p.Offset >= 0 && p.Kind != tlsdecrypt.ProblemNoKey && p.Kind != tlsdecrypt.ProblemUnsupported
	off := p.Offset
	if !hasDir {
		off = -1 // a connection-wide problem
	}
	t.note(newAnomaly(id, off, p.Msg), hasDir, Dir(p.Dir), t.pkt, t.ts)
}

// note emits anomaly a of the connection (in direction dir when hasDir),
// found at packet pkt, or holds it until the connection is listed.
func (t *tlsConn) note(a Anomaly, hasDir bool, dir Dir, pkt uint64, ts time.Time) {
	if !t.listed() {
		if len(t.held) < maxHeldTLSAnomalies {
			t.held = append(t.held, heldAnomaly{a, hasDir, dir, pkt, ts})
		}
		return
	}
	t.emitAnomaly(a, hasDir, dir, pkt, ts)
}

// emitAnomaly emits a KindAnomaly record on the connection's Conn.
func (t *tlsConn) emitAnomaly(a Anomaly, hasDir bool, dir Dir, pkt uint64, ts time.Time) {
	t.rec = Record{Kind: KindAnomaly, Conn: t.shownConn(), Packet: pkt, Time: ts, HasDir: hasDir, Dir: dir}
	t.rec.Anomalies = append(t.rec.Anomalies[:0], a)
	t.d.emit(&t.rec)
}
