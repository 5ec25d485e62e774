package tlsdecrypt

import "errors"

// Handshake message types.
const (
	hsClientHello         = 1
	hsServerHello         = 2
	hsNewSessionTicket    = 4
	hsEndOfEarlyData      = 5
	hsEncryptedExtensions = 8
	hsFinished            = 20
	hsKeyUpdate           = 24
)

// Extension types.
const (
	extServerName       = 0
	extALPN             = 16
	extEncryptThenMAC   = 22
	extExtendedMaster   = 23
	extSessionTicket    = 35
	extPreSharedKey     = 41
	extEarlyData        = 42
	extSupportedVersion = 43
)

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest (RFC
// 8446 section 4.1.3).
var helloRetryRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// reader reads TLS's length-prefixed fields.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u8() int {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v
}

func (r *reader) u16() int {
	if len(r.b) < 2 {
		r.bad = true
		return 0
	}
	v := int(r.b[0])<<8 | int(r.b[1])
	r.b = r.b[2:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.bad = true
		r.b = nil
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) vec8() []byte  { return r.bytes(r.u8()) }
func (r *reader) vec16() []byte { return r.bytes(r.u16()) }

// ClientHello is what this package reads from a ClientHello.
type ClientHello struct {
	Version      uint16 // legacy_version
	Random       [32]byte
	SessionID    []byte
	CipherSuites []uint16
	SNI          string
	ALPN         []string
	Versions     []uint16 // supported_versions
	Ticket       []byte   // TLS 1.2 session_ticket extension
	PSK          bool     // pre_shared_key offered
	EarlyData    bool     // early_data offered
}

// ParseClientHello parses a ClientHello message body (without the 4-byte
// handshake header).
func ParseClientHello(b []byte) (*ClientHello, error) {
	ch := &ClientHello{}
	if err := parseClientHello(ch, b); err != nil {
		return nil, err
	}
	return ch, nil
}

// parseClientHello parses a ClientHello body into ch, reusing the memory
// of ch's slices (a Session parses every connection's ClientHello into the
// same one). Its strings and ALPN list are immutable and shared: when the
// server name or the ALPN list are those of ch's previous hello, which is
// usual for the connections of one client, they are kept, not allocated
// again. On error ch is left partly filled.
func parseClientHello(ch *ClientHello, b []byte) error {
	prevSNI, prevALPN := ch.SNI, ch.ALPN
	*ch = ClientHello{SessionID: ch.SessionID[:0], CipherSuites: ch.CipherSuites[:0],
		Versions: ch.Versions[:0], Ticket: ch.Ticket[:0]}
	r := reader{b: b}
	ch.Version = uint16(r.u16())
	copy(ch.Random[:], r.bytes(32))
	ch.SessionID = append(ch.SessionID, r.vec8()...)
	cs := reader{b: r.vec16()}
	for len(cs.b) >= 2 {
		ch.CipherSuites = append(ch.CipherSuites, uint16(cs.u16()))
	}
	r.vec8() // compression methods
	if r.bad {
		return errors.New("ClientHello truncated")
	}
	if len(r.b) == 0 {
		return nil
	}
	exts := reader{b: r.vec16()}
	for len(exts.b) > 0 && !exts.bad {
		typ := exts.u16()
		e := reader{b: exts.vec16()}
		switch typ {
		case extServerName:
			list := reader{b: e.vec16()}
			for len(list.b) > 0 && !list.bad {
				kind := list.u8()
				name := list.vec16()
				if kind == 0 && ch.SNI == "" {
					ch.SNI = prevSNI
					if string(name) != prevSNI {
						ch.SNI = string(name)
					}
				}
			}
		case extALPN:
			raw := e.vec16()
			if sameALPN(raw, prevALPN) {
				ch.ALPN = prevALPN
			} else {
				ch.ALPN = parseALPN(raw)
			}
		case extSupportedVersion:
			vs := reader{b: e.vec8()}
			for len(vs.b) >= 2 {
				ch.Versions = append(ch.Versions, uint16(vs.u16()))
			}
		case extSessionTicket:
			ch.Ticket = append(ch.Ticket, e.b...)
		case extPreSharedKey:
			ch.PSK = true
		case extEarlyData:
			ch.EarlyData = true
		}
	}
	if exts.bad {
		return errors.New("ClientHello extensions truncated")
	}
	return nil
}

// sameALPN reports whether the protocol name list raw (the ALPN
// extension's, without its length) holds exactly the names of list, which
// is not empty.
func sameALPN(raw []byte, list []string) bool {
	if len(list) == 0 {
		return false
	}
	r := reader{b: raw}
	for _, p := range list {
		if string(r.vec8()) != p || r.bad {
			return false
		}
	}
	return len(r.b) == 0
}

func parseALPN(b []byte) []string {
	var out []string
	r := reader{b: b}
	for len(r.b) > 0 && !r.bad {
		p := r.vec8()
		if !r.bad {
			out = append(out, string(p))
		}
	}
	return out
}

// ServerHello is what this package reads from a ServerHello.
type ServerHello struct {
	Version        uint16 // negotiated: supported_versions if present
	Random         [32]byte
	SessionID      []byte
	CipherSuite    uint16
	HelloRetry     bool
	ALPN           string // TLS 1.2
	EncryptThenMAC bool
	ExtendedMaster bool
	PSK            bool
}

// ParseServerHello parses a ServerHello message body.
func ParseServerHello(b []byte) (*ServerHello, error) {
	sh := &ServerHello{}
	if err := parseServerHello(sh, b); err != nil {
		return nil, err
	}
	return sh, nil
}

// parseServerHello parses a ServerHello body into sh, reusing the memory of
// its session id, and its ALPN string when the protocol is the same. On
// error sh is left partly filled.
func parseServerHello(sh *ServerHello, b []byte) error {
	prevALPN := sh.ALPN
	*sh = ServerHello{SessionID: sh.SessionID[:0]}
	r := reader{b: b}
	sh.Version = uint16(r.u16())
	copy(sh.Random[:], r.bytes(32))
	sh.SessionID = append(sh.SessionID, r.vec8()...)
	sh.CipherSuite = uint16(r.u16())
	r.u8() // compression
	if r.bad {
		return errors.New("ServerHello truncated")
	}
	sh.HelloRetry = sh.Random == helloRetryRandom
	if len(r.b) == 0 {
		return nil
	}
	exts := reader{b: r.vec16()}
	for len(exts.b) > 0 && !exts.bad {
		typ := exts.u16()
		e := reader{b: exts.vec16()}
		switch typ {
		case extSupportedVersion:
			if v := e.u16(); !e.bad {
				sh.Version = uint16(v)
			}
		case extALPN:
			l := reader{b: e.vec16()}
			if p := l.vec8(); !l.bad && len(p) > 0 {
				sh.ALPN = prevALPN
				if string(p) != prevALPN {
					sh.ALPN = string(p)
				}
			}
		case extEncryptThenMAC:
			sh.EncryptThenMAC = true
		case extExtendedMaster:
			sh.ExtendedMaster = true
		case extPreSharedKey:
			sh.PSK = true
		}
	}
	if exts.bad {
		return errors.New("ServerHello extensions truncated")
	}
	return nil
}

// encryptedExtensions returns the ALPN protocol and whether early data was
// accepted, from a TLS 1.3 EncryptedExtensions body.
func encryptedExtensions(b []byte) (alpn string, early bool, err error) {
	r := reader{b: b}
	exts := reader{b: r.vec16()}
	for len(exts.b) > 0 && !exts.bad {
		typ := exts.u16()
		e := reader{b: exts.vec16()}
		switch typ {
		case extALPN:
			if l := parseALPN(e.vec16()); len(l) > 0 {
				alpn = l[0]
			}
		case extEarlyData:
			early = true
		}
	}
	if r.bad || exts.bad {
		return "", false, errors.New("EncryptedExtensions truncated")
	}
	return alpn, early, nil
}

// ticket12 returns the ticket of a TLS 1.2 NewSessionTicket body.
func ticket12(b []byte) []byte {
	r := reader{b: b}
	r.bytes(4) // lifetime hint
	t := r.vec16()
	if r.bad {
		return nil
	}
	return t
}

// LooksLikeClientHello reports whether b starts like a TLS record carrying a
// ClientHello; decided is false while b is too short to tell.
// LooksLikeRecords reports whether b, the first bytes seen of one direction
// of a connection picked up mid-stream, are TLS records: a chain of record
// headers (content type 20-23, version 3.0-3.4, length within a record's
// limit) whose records end where the data ends, or at least two of them.
// decided is false while b is too short to tell.
func LooksLikeRecords(b []byte) (yes, decided bool) {
	n := 0
	for p := 0; ; {
		if p == len(b) {
			return n > 0, true
		}
		if len(b)-p < 5 {
			if n >= 2 {
				return true, true
			}
			return false, n == 0 && len(b)-p > 0 && !recordStart(b[p:])
		}
		h := b[p : p+5]
		if !recordStart(h) {
			return false, true
		}
		l := int(h[3])<<8 | int(h[4])
		if l == 0 || l > maxPlain+2048 {
			return false, true
		}
		n++
		if n >= 2 && p+5+l > len(b) {
			return true, true
		}
		if p+5+l > len(b) {
			return false, false
		}
		p += 5 + l
	}
}

// recordStart reports whether b starts like a TLS record header (as far as
// it goes): content type 20-23, version 3.0-3.4.
func recordStart(b []byte) bool {
	if len(b) > 0 && (b[0] < 20 || b[0] > 23) {
		return false
	}
	if len(b) > 1 && b[1] != 3 {
		return false
	}
	return len(b) <= 2 || b[2] <= 4
}

func LooksLikeClientHello(b []byte) (yes, decided bool) {
	want := [...]byte{22, 3}
	for i := 0; i < len(want) && i < len(b); i++ {
		if b[i] != want[i] {
			return false, true
		}
	}
	if len(b) < 6 {
		return false, false
	}
	if b[2] > 4 {
		return false, true
	}
	n := int(b[3])<<8 | int(b[4])
	return n >= 4 && n <= maxPlain+2048 && b[5] == hsClientHello, true
}
