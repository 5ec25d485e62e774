// Package tlsdecrypt turns the two captured byte streams of a TLS connection
// into the two plaintext streams, given the connection's secrets from an NSS
// key log (SSLKEYLOGFILE).
//
// A Session is fed each direction's TCP payload in order (Feed, Gap) and
// hands decrypted application data to its Handler. It frames records split
// over or packed into TCP segments, follows the handshake (ClientHello,
// ServerHello, HelloRetryRequest, EncryptedExtensions, Finished,
// EndOfEarlyData, KeyUpdate, NewSessionTicket) and switches keys where the
// peers do. TLS 1.3 (AES-128/256-GCM, ChaCha20-Poly1305, 0-RTT when the
// early secret is logged) and TLS 1.2 (AES-GCM, ChaCha20-Poly1305, AES-CBC
// with HMAC-SHA1/256/384, with or without encrypt_then_mac; resumption by
// session id or ticket when the resumed session was seen) are decrypted.
//
// Records that fail authentication are reported with their stream offset
// and never passed on. After a gap, the session looks for the next record
// header whose record authenticates under one of the next sequence numbers.
// In the steady state a record costs no allocation.
package tlsdecrypt

import (
	"encoding/hex"
	"fmt"
)

// Dir is a direction of a TLS connection.
type Dir uint8

const (
	// Client is the direction from the TLS client (the ClientHello's sender).
	Client Dir = 0
	// Server is the other direction.
	Server Dir = 1
)

// ProblemKind classifies a Problem.
type ProblemKind uint8

const (
	// ProblemNoKey: the key log has no (or not every needed) secret for the
	// connection; nothing (more) of it is decrypted.
	ProblemNoKey ProblemKind = iota + 1
	// ProblemUnsupported: a version or cipher suite this package cannot
	// decrypt.
	ProblemUnsupported
	// ProblemDecrypt: a record failed authentication (wrong key or corrupt
	// record); its bytes are dropped.
	ProblemDecrypt
	// ProblemMalformed: bytes that are not valid TLS records or handshake
	// messages, or a record cut short by the end of the capture.
	ProblemMalformed
	// ProblemResync: after a gap, decryption resumed at a later record (or
	// could not).
	ProblemResync
	// ProblemAlert: an alert record (Msg names it; Fatal is set for fatal
	// ones). close_notify is reported too.
	ProblemAlert
	// ProblemEarlySkipped: 0-RTT data that was rejected by the server, or
	// whose secret is not logged, was skipped.
	ProblemEarlySkipped
)

// Problem is something a Session reports besides plaintext.
type Problem struct {
	Kind ProblemKind
	Dir  Dir
	// Offset is the stream offset (in Dir's TLS byte stream, 0 = first byte
	// fed) of the record concerned, or -1.
	Offset int64
	// Len is the size of the record (or bytes) concerned, when known.
	Len int
	Msg string
	// Fatal is set on fatal alerts.
	Fatal bool
	// CloseNotify is set on a close_notify alert.
	CloseNotify bool
}

// Handler receives a Session's output. Calls are made from Feed, Gap and
// Close, never concurrently.
type Handler interface {
	// Plaintext delivers decrypted application data of one direction; data
	// is only valid during the call.
	Plaintext(dir Dir, data []byte)
	// Problem reports a problem or notable event.
	Problem(p Problem)
}

// EarlierWaiter may be implemented by a Handler whose session is decoded
// beside the sessions of other connections, in other goroutines (engine's
// RunParallel). A TLS 1.2 abbreviated handshake resumes a session that
// another connection set up, whose master secret the key log remembers
// when that connection's handshake is decoded (KeyLog.Remember); when it is
// not remembered yet, the session calls WaitEarlier, which returns once
// everything before the current point of the single-threaded order was
// decoded, and looks again, so that the outcome does not depend on how the
// connections were spread.
type EarlierWaiter interface {
	WaitEarlier()
}

// Info describes the connection as far as the session has seen it.
type Info struct {
	// Version is the negotiated version (VersionTLS12, VersionTLS13), or 0
	// before the ServerHello.
	Version uint16
	// CipherSuite is the negotiated suite, 0 before the ServerHello.
	CipherSuite uint16
	// SNI is the ClientHello's server name.
	SNI string
	// ALPN is the negotiated protocol ("" when none was negotiated).
	ALPN string
	// OfferedALPN lists the client's protocols.
	OfferedALPN []string
	// ClientRandom identifies the connection in the key log.
	ClientRandom [32]byte
	// HelloSeen is set once a ClientHello was parsed.
	HelloSeen bool
	// HelloRetry is set when the server sent a HelloRetryRequest.
	HelloRetry bool
	// Resumed is set for a resumed session (TLS 1.2 abbreviated handshake,
	// TLS 1.3 PSK).
	Resumed bool
	// EarlyData is set when the server accepted 0-RTT data.
	EarlyData bool
	// KeyUpdates counts TLS 1.3 KeyUpdate messages seen.
	KeyUpdates int
	// Decrypted is set once a record was decrypted.
	Decrypted bool
	// Reason says why (some of) the connection was not decrypted; "" when
	// nothing was left undecrypted.
	Reason string
}

// phase is a TLS 1.3 direction's key epoch.
type phase uint8

const (
	phasePlain phase = iota
	phaseEarly
	phaseHandshake
	phaseApp
)

// dirState is one direction's record layer.
type dirState struct {
	off     int64  // stream offset of the next byte fed
	in      []byte // bytes not consumed yet (a partial record, or records waiting for keys)
	inOff   int64  // stream offset of in[0]
	hs      []byte // handshake message reassembly
	hsSkip  int    // bytes of an uninteresting handshake message still to skip
	keys    *recordKeys
	phase   phase
	on      bool // TLS 1.2: after ChangeCipherSpec
	resync  bool // looking for a record boundary after a gap
	gapLen  uint64
	dead    bool // no longer decrypted: records are only framed
	noFrame bool // framing lost for good: bytes are only counted
	fails   int  // consecutive authentication failures
	anyOK   bool
	skipped bool // early-data skip reported
	bytes   uint64
	// waitApp: TLS 1.3, the direction's Finished was seen while its
	// traffic secret was not in a followed key log yet; its records are
	// held until it is (see Session.waitHello).
	waitApp bool
}

// Session decrypts one TLS connection. It is not safe for concurrent use.
type Session struct {
	kl      *KeyLog
	h       Handler
	info    Info
	sec     *Secrets
	suite   *suite
	ch      *ClientHello
	sh      *ServerHello
	hs13    [2]*recordKeys // in slots
	keys12  [2]*recordKeys // in slots
	master  []byte
	stopped bool // decryption impossible; records are only framed
	// pickedUp is set when the capture starts inside the connection
	// (PickUp): records are framed and counted, nothing else.
	pickedUp bool
	eeSeen   bool
	// waitHello: the key log is followed (KeyLog.Follow) and had not the
	// connection's handshake secrets (TLS 1.3) or master secret (TLS 1.2)
	// at the ServerHello at stream offset waitOff: records that need them
	// are held (mustWait), and the key log is read again as bytes arrive
	// (awaitKeys), until they come, too much is held, or Close.
	waitHello bool
	waitOff   int64
	// ticket is a TLS 1.2 NewSessionTicket seen while waiting for the
	// master secret: it is remembered once the secret arrives.
	ticket []byte
	dirs   [2]dirState

	// slots hold the connection's record keys (hs13, keys12 and the
	// directions' keys point into it); see the slot constants.
	slots [slotCount]recordKeys

	// sc holds the plaintext buffer and the key derivation state: the
	// session's own, or shared with other sessions (SetScratch). Kept
	// across connections (Reset).
	sc *Scratch
	// chBuf and shBuf are the hellos ch and sh point to, kept across
	// connections (Reset) for their memory and strings.
	chBuf ClientHello
	shBuf ServerHello
}

// Slots of Session.slots: TLS 1.3 handshake and application keys and
// TLS 1.2 keys (each + Dir), and TLS 1.3 0-RTT keys.
const (
	slotHS13  = 0
	slotApp13 = 2
	slot12    = 4
	slotEarly = 6
	slotCount = 7
)

// Scratch is working memory of Sessions that one goroutine feeds one at a
// time (a worker's connections): the buffer records are decrypted into and
// the key derivation state. A record's plaintext is only valid during the
// Handler's Plaintext call, so such sessions can share one buffer, which
// then stays in the processor's caches however many connections are open,
// where a buffer per session would be cold for each connection's next
// record. Sessions sharing a Scratch must not be used concurrently, and a
// Handler must not feed another of them from within its calls. The zero
// Scratch is ready to use.
type Scratch struct {
	out []byte
	kdf [2]*kdf // by hash: SHA-256, SHA-384
}

// kdfFor returns the session's kdf for the negotiated suite's hash.
func (s *Session) kdfFor() *kdf {
	i := 0
	if s.suite.hashLen != 32 {
		i = 1
	}
	if s.sc.kdf[i] == nil || s.sc.kdf[i].size != s.suite.hashLen {
		s.sc.kdf[i] = newKDF(s.suite.hash)
	}
	return s.sc.kdf[i]
}

// NewSession returns a session that looks secrets up in kl (which may be
// nil: nothing is decrypted, but the handshake is still read) and reports
// to h. It has a Scratch of its own until SetScratch gives it another.
func NewSession(kl *KeyLog, h Handler) *Session {
	s := &Session{}
	s.Reset(kl, h)
	return s
}

// SetScratch makes s use sc, which other sessions fed by the same
// goroutine may share (see Scratch), instead of its own.
func (s *Session) SetScratch(sc *Scratch) {
	if sc != nil {
		s.sc = sc
	}
}

// Reset prepares s for a new connection, keeping its buffers and Scratch.
func (s *Session) Reset(kl *KeyLog, h Handler) {
	var bufs [2][2][]byte
	for i := range s.dirs {
		d := &s.dirs[i]
		bufs[i] = [2][]byte{keepBuf(d.in), keepBuf(d.hs)}
	}
	*s = Session{kl: kl, h: h, sc: s.sc, chBuf: s.chBuf, shBuf: s.shBuf}
	if s.sc == nil {
		s.sc = new(Scratch)
	}
	for i := range s.dirs {
		d := &s.dirs[i]
		d.in, d.hs = bufs[i][0], bufs[i][1]
	}
}

// Info returns what is known of the connection.
func (s *Session) Info() *Info { return &s.info }

// keepBuf returns b emptied for reuse by the next connection, or nil when
// it grew past two records (held records waiting for keys): such a buffer
// is not kept idle.
func keepBuf(b []byte) []byte {
	if cap(b) > 2*maxRecord {
		return nil
	}
	return b[:0]
}

// Held returns how many bytes the session holds in its buffers: records
// waiting for keys or for the other direction's handshake, a record cut
// between two Feeds, a handshake message being reassembled.
func (s *Session) Held() int {
	c, v := &s.dirs[Client], &s.dirs[Server]
	return len(c.in) + len(c.hs) + len(v.in) + len(v.hs)
}

// Bytes returns how many TLS bytes of dir were fed (gaps included).
func (s *Session) Bytes(dir Dir) uint64 { return s.dirs[dir].bytes }

func (s *Session) problem(k ProblemKind, dir Dir, off int64, format string, args ...any) {
	s.h.Problem(Problem{Kind: k, Dir: dir, Offset: off, Msg: fmt.Sprintf(format, args...)})
}

// stop gives up decrypting the connection.
func (s *Session) stop(k ProblemKind, dir Dir, off int64, reason string) {
	if s.stopped {
		return
	}
	s.stopped = true
	if s.info.Reason == "" {
		s.info.Reason = reason
	}
	s.h.Problem(Problem{Kind: k, Dir: dir, Offset: off, Msg: reason})
}

// kill gives up decrypting one direction.
func (s *Session) kill(dir Dir, k ProblemKind, off int64, reason string) {
	d := &s.dirs[dir]
	if d.dead {
		return
	}
	d.dead = true
	if s.info.Reason == "" {
		s.info.Reason = reason
	}
	s.h.Problem(Problem{Kind: k, Dir: dir, Offset: off, Msg: reason})
}

// Feed hands the session the next bytes of one direction.
//
// Records wholly inside data are decrypted where they are; only a record
// that continues in a later Feed is copied, into the direction's buffer,
// and the next Feed completes it with just the bytes it lacks, so that
// the records after it in that data are not copied too.
func (s *Session) Feed(dir Dir, data []byte) {
	d := &s.dirs[dir]
	d.bytes += uint64(len(data))
	if s.waiting() {
		s.awaitKeys(false)
	}
	if d.noFrame {
		d.off += int64(len(data))
		return
	}
	for len(d.in) > 0 && len(data) > 0 {
		take := s.completing(d, len(data))
		d.in = append(d.in, data[:take]...)
		d.off += int64(take)
		data = data[take:]
		s.compact(dir, s.consume(dir, d.in, d.inOff))
	}
	if len(data) > 0 {
		n := s.consume(dir, data, d.off)
		d.in = d.in[:0]
		if n < len(data) {
			d.in = append(d.in, data[n:]...)
		}
		d.inOff = d.off + int64(n)
		d.off += int64(len(data))
	}
	if len(d.in) > maxWaitHeld && !d.resync && s.waiting() {
		// Held for secrets a followed key log did not get in time.
		s.awaitKeys(true)
		s.endWait()
	}
	if len(d.in) > 4*maxRecord && !d.resync {
		// Records held back for keys that never came.
		s.kill(dir, ProblemNoKey, d.inOff, "records held for keys that were never derived (no ServerHello?)")
		d.noFrame = true
		d.in = d.in[:0]
	}
	if dir == Server && len(s.dirs[Client].in) > 0 {
		s.compact(Client, s.consume(Client, s.dirs[Client].in, s.dirs[Client].inOff))
	}
	if len(d.in) == 0 && cap(d.in) > 2*maxRecord {
		// A buffer that grew for held records is not kept once empty
		// (what the session holds is charged by length, see Held).
		d.in = nil
	}
}

// completing returns how many of the avail bytes fed next to d (which
// holds bytes) to append to its buffer: those that complete the header or
// the record it holds, or all of them when that record is complete (it
// waits for keys) or the session looks for a record boundary.
func (s *Session) completing(d *dirState, avail int) int {
	if d.resync {
		return avail
	}
	if len(d.in) < 5 {
		return min(5-len(d.in), avail)
	}
	if !plausibleHeader(d.in[:5]) {
		return avail
	}
	n := 5 + (int(d.in[3])<<8 | int(d.in[4]))
	if n <= len(d.in) {
		return avail
	}
	return min(n-len(d.in), avail)
}

func (s *Session) compact(dir Dir, n int) {
	d := &s.dirs[dir]
	m := copy(d.in, d.in[n:])
	d.in = d.in[:m]
	d.inOff += int64(n)
}

// Gap tells the session that n bytes of dir are missing from the capture.
func (s *Session) Gap(dir Dir, n uint64) {
	if s.waiting() {
		// Records after a hole cannot be found again without keys:
		// the wait ends here, with what was held decrypted or not.
		s.awaitKeys(true)
		s.endWait()
	}
	d := &s.dirs[dir]
	d.bytes += n
	d.off += int64(n)
	d.in = d.in[:0]
	d.inOff = d.off
	d.hs = d.hs[:0]
	d.hsSkip = 0
	if d.noFrame {
		return
	}
	if d.dead || s.stopped || (d.keys == nil && !d.on && s.sh != nil) {
		// Without keys the records cannot be told apart from the bytes in
		// between; count what follows.
		if d.keys == nil && (d.dead || s.stopped) {
			d.noFrame = true
			return
		}
	}
	d.resync = true
	d.gapLen += n
}

// Close reports a record cut short by the end of the capture.
func (s *Session) Close() {
	if s.waiting() {
		s.awaitKeys(true)
		s.endWait()
	}
	for dir := Client; dir <= Server; dir++ {
		d := &s.dirs[dir]
		waiting := len(d.in) >= 5 && s.mustWait(dir, d.in[0])
		if len(d.in) > 0 && !d.noFrame && !d.resync && !waiting {
			s.h.Problem(Problem{Kind: ProblemMalformed, Dir: dir, Offset: d.inOff, Len: len(d.in),
				Msg: fmt.Sprintf("capture ends inside a TLS record (%d bytes of it at stream offset %d)", len(d.in), d.inOff)})
		}
		d.in = d.in[:0]
	}
	if s.info.HelloSeen && s.sh == nil && s.info.Reason == "" {
		s.info.Reason = "no ServerHello in the capture"
	}
}

// mustWait reports whether a record of type typ from dir must wait for the
// other direction's handshake before it can be decrypted.
func (s *Session) mustWait(dir Dir, typ byte) bool {
	if (s.waitHello && (typ == 23 || typ == 20)) || (s.dirs[dir].waitApp && typ == 23) {
		return true // for secrets not in the followed key log yet
	}
	if dir != Client || typ != 23 || s.stopped || s.dirs[Server].dead || s.dirs[Server].noFrame {
		return false
	}
	if s.sh == nil {
		return true
	}
	// TLS 1.3 0-RTT: wait for EncryptedExtensions to know if it was accepted.
	return s.info.Version == VersionTLS13 && s.dirs[Client].phase == phaseEarly && !s.eeSeen
}

// consume processes the complete records at the start of b (b[0] is at
// stream offset base) and returns how many bytes were used.
func (s *Session) consume(dir Dir, b []byte, base int64) int {
	d := &s.dirs[dir]
	i := 0
	for !d.noFrame {
		if d.resync {
			j, ok := s.resync(dir, b[i:], base+int64(i))
			i += j
			if !ok {
				return i
			}
			continue
		}
		if len(b)-i < 5 {
			return i
		}
		h := b[i : i+5]
		if !plausibleHeader(h) {
			s.problem(ProblemMalformed, dir, base+int64(i), "not a TLS record header (% x) at stream offset %d; looking for the next record", h, base+int64(i))
			d.resync = true
			i++
			continue
		}
		n := int(h[3])<<8 | int(h[4])
		if len(b)-i < 5+n {
			return i
		}
		if s.mustWait(dir, h[0]) {
			return i
		}
		s.record(dir, h, b[i+5:i+5+n], base+int64(i))
		i += 5 + n
	}
	return len(b)
}

// PickedUpReason is the Info.Reason of a session picked up mid-stream.
const PickedUpReason = "picked up mid-stream (no handshake in the capture)"

// PickUp tells the session that the capture starts inside the connection,
// at a record boundary of the direction fed first (see LooksLikeRecords):
// without the handshake nothing can be decrypted, so records are framed and
// counted, and none of them (application data, encrypted handshake
// messages and alerts) is taken for a protocol error. Call it before the
// first Feed.
func (s *Session) PickUp() {
	s.pickedUp, s.stopped = true, true
	if s.info.Reason == "" {
		s.info.Reason = PickedUpReason
	}
}

// record handles one complete record.
func (s *Session) record(dir Dir, hdr, body []byte, off int64) {
	if s.pickedUp {
		return
	}
	d := &s.dirs[dir]
	typ := hdr[0]
	switch {
	case s.info.Version == VersionTLS13 && typ == 23:
		if d.dead || s.stopped {
			return
		}
		s.decrypt(dir, hdr, body, off, true)
	case d.on:
		if d.dead || s.stopped {
			return
		}
		s.decrypt(dir, hdr, body, off, false)
	default:
		s.content(dir, typ, body, off)
	}
}

// decrypt opens one protected record and dispatches its content.
func (s *Session) decrypt(dir Dir, hdr, body []byte, off int64, tls13 bool) {
	d := &s.dirs[dir]
	etm := s.sh != nil && s.sh.EncryptThenMAC
	var seq uint64
	if d.keys != nil {
		seq = d.keys.seq
	}
	pt, typ, ok := d.keys.open(s.sc.out[:0], hdr, body, seq, tls13, etm)
	if !ok && tls13 && dir == Client && d.phase == phaseEarly {
		// Rejected or undecryptable 0-RTT data ends where the client's
		// handshake keys start to work.
		if hk := s.hs13[Client]; hk != nil {
			if pt, typ, ok = hk.open(s.sc.out[:0], hdr, body, 0, true, false); ok {
				d.keys, d.phase = hk, phaseHandshake
			}
		}
		if !ok {
			if !d.skipped {
				d.skipped = true
				why := "the server rejected it"
				if s.info.EarlyData {
					why = "CLIENT_EARLY_TRAFFIC_SECRET is not in the key log"
				}
				s.problem(ProblemEarlySkipped, dir, off, "0-RTT data skipped: %s", why)
			}
			return
		}
	}
	if !ok {
		if d.keys != nil {
			d.keys.seq++
		}
		d.fails++
		s.h.Problem(Problem{Kind: ProblemDecrypt, Dir: dir, Offset: off, Len: len(body) + 5,
			Msg: fmt.Sprintf("TLS record at stream offset %d (%d bytes) failed to decrypt: wrong key or corrupt record", off, len(body)+5)})
		if (d.fails >= 2 && !d.anyOK) || d.fails >= 8 {
			s.kill(dir, ProblemDecrypt, off, "records do not decrypt with the logged secrets (wrong key?)")
		}
		return
	}
	if cap(pt) > cap(s.sc.out) {
		s.sc.out = pt[:0]
	}
	d.keys.seq++
	d.fails = 0
	d.anyOK = true
	s.info.Decrypted = true
	s.content(dir, typ, pt, off)
}

// content handles a record's plaintext content.
func (s *Session) content(dir Dir, typ byte, data []byte, off int64) {
	switch typ {
	case 23:
		if !s.dirs[dir].on && s.info.Version != VersionTLS13 {
			s.problem(ProblemMalformed, dir, off, "unencrypted application data record at stream offset %d before the handshake finished", off)
			return
		}
		if len(data) > 0 {
			s.h.Plaintext(dir, data)
		}
	case 22:
		s.handshake(dir, data, off)
	case 21:
		s.alert(dir, data, off)
	case 20:
		if s.info.Version != VersionTLS13 && s.sh != nil {
			s.changeCipherSpec(dir, off)
		}
	}
}

// changeCipherSpec switches a TLS 1.2 direction to its record keys.
func (s *Session) changeCipherSpec(dir Dir, off int64) {
	d := &s.dirs[dir]
	d.on = true
	if s.stopped {
		return
	}
	if s.keys12[dir] == nil {
		s.stop(ProblemNoKey, dir, off, s.noKeyReason("CLIENT_RANDOM"))
		return
	}
	d.keys = s.keys12[dir]
	d.keys.seq = 0
}

// wait reports whether the session waits for the secrets its ServerHello
// (at off) needs (waitHello): when they are not in the key log, which is
// followed, even after reading what was appended to it.
func (s *Session) wait(off int64) bool {
	if !s.kl.Following() {
		return false
	}
	if !s.hasHelloSecrets() {
		s.lookAgain(false)
	}
	if s.hasHelloSecrets() {
		return false
	}
	s.waitHello, s.waitOff = true, off
	return true
}

// hasHelloSecrets reports whether the secrets the connection's ServerHello
// needs are known: TLS 1.3 handshake secrets, or a TLS 1.2 master secret
// (logged, or remembered from the session it resumes).
func (s *Session) hasHelloSecrets() bool {
	if s.info.Version == VersionTLS13 {
		return s.sec != nil && s.sec.ClientHandshake != nil && s.sec.ServerHandshake != nil
	}
	if s.sec != nil && s.sec.Master != nil {
		return true
	}
	return s.sh != nil && len(s.sh.SessionID) > 0 && string(s.sh.SessionID) == string(s.ch.SessionID) && s.resumedMaster() != nil
}

// lookAgain reads what was appended to the followed key log (now, when
// force is set, else unless that was done a moment ago) and looks the
// connection's secrets up again.
func (s *Session) lookAgain(force bool) {
	s.kl.refresh(force)
	s.sec, _ = s.kl.Lookup(s.info.ClientRandom)
}

// maxWaitHeld bounds the bytes each direction holds while waiting for
// secrets a followed key log does not have yet: four full records, as
// for records waiting for the other direction's handshake.
const maxWaitHeld = 4 * maxRecord

// waiting reports whether records are held for secrets a followed key log
// does not have yet.
func (s *Session) waiting() bool {
	return s.waitHello || s.dirs[Client].waitApp || s.dirs[Server].waitApp
}

// awaitKeys reads what was appended to the followed key log (see
// lookAgain) and, when the secrets waited for are there, sets up the keys
// and decrypts the records held for them.
func (s *Session) awaitKeys(force bool) {
	s.lookAgain(force)
	if s.waitHello {
		if !s.hasHelloSecrets() {
			return
		}
		s.waitHello = false
		if s.info.Version == VersionTLS13 {
			s.serverHello13(s.waitOff)
		} else {
			s.serverHello12(s.waitOff)
		}
	}
	for dir := Client; dir <= Server; dir++ {
		if d := &s.dirs[dir]; d.waitApp {
			if secret, _ := s.secretOf(dir, phaseApp); secret != nil {
				d.waitApp = false
				s.rekey(dir, secret)
			}
		}
	}
	s.drainHeld()
}

// endWait gives up waiting for secrets: the session stops decrypting
// what waited (saying which secret was missing), and the records held are
// framed and counted.
func (s *Session) endWait() {
	if s.waitHello {
		s.waitHello = false
		label := ""
		if s.info.Version != VersionTLS13 {
			label = "CLIENT_RANDOM"
		}
		s.stop(ProblemNoKey, Server, s.waitOff, s.noKeyReason(label))
	}
	for dir := Client; dir <= Server; dir++ {
		if d := &s.dirs[dir]; d.waitApp {
			d.waitApp = false
			_, label := s.secretOf(dir, phaseApp)
			s.kill(dir, ProblemNoKey, d.inOff, s.noKeyReason(label))
		}
	}
	s.drainHeld()
}

// drainHeld processes the records each direction holds, the server's
// first (the client's may wait for its handshake).
func (s *Session) drainHeld() {
	for _, dir := range [...]Dir{Server, Client} {
		if d := &s.dirs[dir]; len(d.in) > 0 && !d.noFrame {
			s.compact(dir, s.consume(dir, d.in, d.inOff))
		}
	}
}

// NoKeyLog is the Info.Reason of a session that could not be decrypted
// because no key log was given at all.
const NoKeyLog = "no key log given"

func (s *Session) noKeyReason(label string) string {
	if s.kl.Len() == 0 && !s.kl.Following() {
		return NoKeyLog
	}
	cr := hex.EncodeToString(s.info.ClientRandom[:])
	if s.sec == nil {
		return fmt.Sprintf("no key for client random %s…", cr[:16])
	}
	return fmt.Sprintf("key log has no %s for client random %s…", label, cr[:16])
}

var alertNames = map[byte]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
	40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
	45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
	49: "access_denied", 50: "decode_error", 51: "decrypt_error", 70: "protocol_version",
	71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled",
	100: "no_renegotiation", 109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
	116: "certificate_required", 120: "no_application_protocol",
}

// alertTexts holds the Problem text of every known alert at both levels,
// keyed by alertKey, so that reporting one (a close_notify ends most
// connections) does not format a string.
var alertTexts = func() map[uint16]string {
	m := make(map[uint16]string, 2*len(alertNames))
	for code, name := range alertNames {
		for _, fatal := range []bool{false, true} {
			m[alertKey(fatal, code)] = formatAlert(fatal, name, code)
		}
	}
	return m
}()

func alertKey(fatal bool, code byte) uint16 {
	if fatal {
		return 1<<8 | uint16(code)
	}
	return uint16(code)
}

// formatAlert returns the text of an alert: "fatal alert
// handshake_failure (40)".
func formatAlert(fatal bool, name string, code byte) string {
	lvl := "warning"
	if fatal {
		lvl = "fatal"
	}
	return fmt.Sprintf("%s alert %s (%d)", lvl, name, code)
}

func (s *Session) alert(dir Dir, b []byte, off int64) {
	if len(b) < 2 {
		s.problem(ProblemMalformed, dir, off, "alert record with %d bytes", len(b))
		return
	}
	p := Problem{Kind: ProblemAlert, Dir: dir, Offset: off, Fatal: b[0] == 2, CloseNotify: b[1] == 0}
	msg, ok := alertTexts[alertKey(p.Fatal, b[1])]
	if !ok {
		msg = formatAlert(p.Fatal, "unknown", b[1])
	}
	p.Msg = msg
	s.h.Problem(p)
}

// interesting reports whether a handshake message type is parsed (and so
// buffered whole).
func interesting(t byte) bool {
	switch t {
	case hsClientHello, hsServerHello, hsNewSessionTicket, hsEndOfEarlyData, hsEncryptedExtensions, hsFinished, hsKeyUpdate:
		return true
	}
	return false
}

// handshake reassembles handshake messages of one direction.
func (s *Session) handshake(dir Dir, b []byte, off int64) {
	d := &s.dirs[dir]
	for len(b) > 0 {
		if d.hsSkip > 0 {
			n := min(d.hsSkip, len(b))
			d.hsSkip -= n
			b = b[n:]
			continue
		}
		if len(d.hs) < 4 {
			n := min(4-len(d.hs), len(b))
			d.hs = append(d.hs, b[:n]...)
			b = b[n:]
			if len(d.hs) < 4 {
				return
			}
		}
		typ := d.hs[0]
		n := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
		if !interesting(typ) || n > 1<<17 {
			d.hs = d.hs[:0]
			d.hsSkip = n
			continue
		}
		need := 4 + n - len(d.hs)
		take := min(need, len(b))
		d.hs = append(d.hs, b[:take]...)
		b = b[take:]
		if take < need {
			return
		}
		s.message(dir, typ, d.hs[4:], off)
		d.hs = d.hs[:0]
	}
}

// message handles one complete handshake message.
func (s *Session) message(dir Dir, typ byte, body []byte, off int64) {
	d := &s.dirs[dir]
	switch {
	case typ == hsClientHello && dir == Client:
		if s.ch != nil {
			// The second ClientHello after a HelloRetryRequest: checked,
			// not kept.
			if _, err := ParseClientHello(body); err != nil {
				s.problem(ProblemMalformed, dir, off, "%v", err)
			}
			return
		}
		ch := &s.chBuf
		if err := parseClientHello(ch, body); err != nil {
			s.problem(ProblemMalformed, dir, off, "%v", err)
			return
		}
		s.ch = ch
		s.info.HelloSeen = true
		s.info.ClientRandom = ch.Random
		s.info.SNI = ch.SNI
		s.info.OfferedALPN = ch.ALPN
		s.sec, _ = s.kl.Lookup(ch.Random)
	case typ == hsServerHello && dir == Server:
		s.serverHello(body, off)
	case typ == hsEncryptedExtensions && dir == Server && s.info.Version == VersionTLS13:
		alpn, early, err := encryptedExtensions(body)
		if err != nil {
			s.problem(ProblemMalformed, dir, off, "%v", err)
		}
		s.info.ALPN, s.info.EarlyData, s.eeSeen = alpn, early, true
		if c := &s.dirs[Client]; c.phase == phaseEarly && !early {
			c.keys = nil // the server skips it; so do we
		}
	case typ == hsFinished && s.info.Version == VersionTLS13:
		if d.phase != phaseHandshake {
			return
		}
		secret, label := s.secretOf(dir, phaseApp)
		d.phase = phaseApp
		if secret == nil && s.kl.Following() {
			s.lookAgain(false)
			if secret, _ = s.secretOf(dir, phaseApp); secret == nil {
				d.keys, d.waitApp = nil, true
				return
			}
		}
		if secret == nil {
			d.keys = nil
			s.kill(dir, ProblemNoKey, off, s.noKeyReason(label))
			return
		}
		s.rekey(dir, secret)
	case typ == hsEndOfEarlyData && dir == Client && d.phase == phaseEarly:
		d.keys, d.phase = s.hs13[Client], phaseHandshake
	case typ == hsKeyUpdate && s.info.Version == VersionTLS13 && d.phase == phaseApp && d.keys != nil:
		s.info.KeyUpdates++
		s.rekey(dir, nextSecret13(s.kdfFor(), d.keys.secret))
	case typ == hsNewSessionTicket && dir == Server && s.info.Version == VersionTLS12:
		switch {
		case s.master != nil:
			s.kl.Remember(ticket12(body), s.master)
		case s.waitHello:
			s.ticket = append(s.ticket[:0], ticket12(body)...)
		}
	}
}

// rekey installs TLS 1.3 application keys derived from secret on dir.
func (s *Session) rekey(dir Dir, secret []byte) {
	k := &s.slots[slotApp13+int(dir)]
	k.set13(s.kdfFor(), s.suite, secret)
	s.dirs[dir].keys = k
}

// secretOf returns dir's logged secret for a TLS 1.3 phase and its label.
func (s *Session) secretOf(dir Dir, p phase) ([]byte, string) {
	var sec Secrets
	if s.sec != nil {
		sec = *s.sec
	}
	switch {
	case p == phaseEarly:
		return sec.ClientEarly, "CLIENT_EARLY_TRAFFIC_SECRET"
	case p == phaseHandshake && dir == Client:
		return sec.ClientHandshake, "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	case p == phaseHandshake:
		return sec.ServerHandshake, "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	case dir == Client:
		return sec.ClientTraffic0, "CLIENT_TRAFFIC_SECRET_0"
	}
	return sec.ServerTraffic0, "SERVER_TRAFFIC_SECRET_0"
}

func (s *Session) serverHello(body []byte, off int64) {
	sh := &s.shBuf
	if s.sh != nil {
		sh = new(ServerHello) // a ServerHello after the one kept
	}
	if err := parseServerHello(sh, body); err != nil {
		s.problem(ProblemMalformed, Server, off, "%v", err)
		return
	}
	if sh.HelloRetry {
		s.info.HelloRetry = true
		s.info.Version = sh.Version
		return
	}
	if s.sh != nil {
		return
	}
	s.sh = sh
	s.info.Version, s.info.CipherSuite = sh.Version, sh.CipherSuite
	if s.ch == nil {
		s.stop(ProblemNoKey, Server, off, "no ClientHello in the capture")
		return
	}
	su := suites[sh.CipherSuite]
	switch {
	case sh.Version != VersionTLS12 && sh.Version != VersionTLS13:
		s.stop(ProblemUnsupported, Server, off, "unsupported TLS version "+VersionName(sh.Version))
		return
	case su == nil || su.tls13 != (sh.Version == VersionTLS13):
		s.stop(ProblemUnsupported, Server, off, fmt.Sprintf("unsupported cipher suite 0x%04X", sh.CipherSuite))
		return
	}
	s.suite = su
	if sh.Version == VersionTLS13 {
		s.info.ALPN = ""
		s.info.Resumed = sh.PSK
		s.serverHello13(off)
		return
	}
	s.info.ALPN = sh.ALPN
	s.serverHello12(off)
}

func (s *Session) serverHello13(off int64) {
	if s.wait(off) {
		return
	}
	if s.kl.Len() == 0 || s.sec == nil {
		s.stop(ProblemNoKey, Server, off, s.noKeyReason(""))
		return
	}
	for dir := Client; dir <= Server; dir++ {
		secret, label := s.secretOf(dir, phaseHandshake)
		if secret == nil {
			s.stop(ProblemNoKey, dir, off, s.noKeyReason(label))
			return
		}
		k := &s.slots[slotHS13+int(dir)]
		k.set13(s.kdfFor(), s.suite, secret)
		s.hs13[dir] = k
	}
	sd := &s.dirs[Server]
	sd.keys, sd.phase = s.hs13[Server], phaseHandshake
	cd := &s.dirs[Client]
	if s.ch.EarlyData && !s.info.HelloRetry {
		cd.phase = phaseEarly
		if secret, _ := s.secretOf(Client, phaseEarly); secret != nil {
			cd.keys = &s.slots[slotEarly]
			cd.keys.set13(s.kdfFor(), s.suite, secret)
		}
		return
	}
	cd.keys, cd.phase = s.hs13[Client], phaseHandshake
}

func (s *Session) serverHello12(off int64) {
	sh, ch := s.sh, s.ch
	abbreviated := len(sh.SessionID) > 0 && string(sh.SessionID) == string(ch.SessionID)
	s.info.Resumed = abbreviated
	if s.wait(off) {
		return
	}
	if s.sec != nil && s.sec.Master != nil {
		s.master = s.sec.Master
	} else if abbreviated {
		s.master = s.resumedMaster()
		if w, ok := s.h.(EarlierWaiter); ok && s.master == nil {
			w.WaitEarlier()
			s.master = s.resumedMaster()
		}
	}
	if s.master == nil {
		label := "CLIENT_RANDOM"
		if abbreviated {
			label = "CLIENT_RANDOM (resumed session not seen earlier)"
		}
		s.stop(ProblemNoKey, Server, off, s.noKeyReason(label))
		return
	}
	if !abbreviated {
		s.kl.Remember(sh.SessionID, s.master)
	} else if s.sec == nil || s.sec.Master == nil {
		// The key log names the secret of this connection too (a copy
		// of the capture with its secrets needs it).
		s.kl.learnMaster(ch.Random, s.master)
	}
	if len(s.ticket) > 0 {
		s.kl.Remember(s.ticket, s.master)
		s.ticket = s.ticket[:0]
	}
	s.keys12 = [2]*recordKeys{&s.slots[slot12+int(Client)], &s.slots[slot12+int(Server)]}
	set12(s.kdfFor(), s.suite, s.master, ch.Random, sh.Random, s.keys12[Client], s.keys12[Server])
}

// resumedMaster returns the master secret remembered for the session the
// ClientHello's ticket or the ServerHello's session id resumes.
func (s *Session) resumedMaster() []byte {
	if m := s.kl.Resumed(s.ch.Ticket); m != nil {
		return m
	}
	return s.kl.Resumed(s.sh.SessionID)
}

// resync looks for the next record of dir after a gap in b (at stream offset
// base). It returns how many bytes can be dropped and whether the record at
// that point is the next one to process.
func (s *Session) resync(dir Dir, b []byte, base int64) (int, bool) {
	d := &s.dirs[dir]
	for p := 0; p+5 <= len(b); p++ {
		h := b[p : p+5]
		if !plausibleHeader(h) {
			continue
		}
		n := int(h[3])<<8 | int(h[4])
		if p+5+n > len(b) {
			if len(b)-p > maxRecord+5 {
				continue
			}
			return p, false
		}
		if s.tryRecord(dir, h, b[p+5:p+5+n], p+5+n == len(b), b[p+5+n:]) {
			d.resync = false
			if p > 0 || d.gapLen > 0 {
				s.problem(ProblemResync, dir, base+int64(p), "resumed at the TLS record at stream offset %d after a gap", base+int64(p))
			}
			d.gapLen = 0
			return p, true
		}
	}
	if len(b) > 4 {
		return len(b) - 4, false
	}
	return 0, false
}

// tryRecord reports whether a candidate record after a gap is one: it
// authenticates under one of the next sequence numbers (and the keys are
// set to it), or, before encryption starts, a plausible record follows.
func (s *Session) tryRecord(dir Dir, hdr, body []byte, atEnd bool, after []byte) bool {
	d := &s.dirs[dir]
	encrypted := d.on || (s.info.Version == VersionTLS13 && hdr[0] == 23)
	if !encrypted || d.dead || s.stopped {
		return atEnd || (len(after) >= 5 && plausibleHeader(after[:5]))
	}
	tls13 := s.info.Version == VersionTLS13
	etm := s.sh != nil && s.sh.EncryptThenMAC
	window := d.gapLen/uint64(5+minRecord13) + 2
	window = min(window, 4096)
	try := func(k *recordKeys, from uint64) bool {
		if k == nil {
			return false
		}
		if !tls13 && k.s.kind == kindGCM && len(body) >= 8 {
			// Most stacks use the sequence number as the explicit nonce.
			var seq uint64
			for _, c := range body[:8] {
				seq = seq<<8 | uint64(c)
			}
			if seq >= from && seq-from <= window {
				if _, _, ok := k.open(s.sc.out[:0], hdr, body, seq, false, etm); ok {
					k.seq = seq
					return true
				}
			}
		}
		for seq := from; seq <= from+window; seq++ {
			if _, _, ok := k.open(s.sc.out[:0], hdr, body, seq, tls13, etm); ok {
				k.seq = seq
				return true
			}
		}
		return false
	}
	if d.keys != nil && try(d.keys, d.keys.seq) {
		return true
	}
	if tls13 && d.phase == phaseHandshake {
		// The Finished may have been lost: try the application keys.
		if secret, _ := s.secretOf(dir, phaseApp); secret != nil {
			k := &s.slots[slotApp13+int(dir)]
			if k.set13(s.kdfFor(), s.suite, secret); try(k, 0) {
				d.keys, d.phase = k, phaseApp
				return true
			}
		}
	}
	return false
}
