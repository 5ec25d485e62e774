// Package tunnel recognises byte streams tunnelled through WebSocket binary
// messages (websockify, wstunnel, SSH/VNC web clients, proxies): SSH, TLS,
// HTTP/1.x, SOCKS 4/5 and VNC's RFB, from the first bytes of each
// direction. websockify's "base64" subprotocol carries the stream
// base64-encoded in text messages; the decoder decodes it first.
package tunnel

import (
	"bytes"
	"encoding/base64"
	"strconv"

	"github.com/wsdissect/wsdissect/subproto/app"
)

// Protocols recognised.
const (
	Unknown = ""
	SSH     = "ssh"
	TLS     = "tls"
	HTTP    = "http"
	SOCKS4  = "socks4"
	SOCKS5  = "socks5"
	RFB     = "rfb"
)

// sniffLen is how many first bytes of a direction are looked at.
const sniffLen = 512

// Record is one message of a tunnelled stream.
type Record struct {
	// Tunnel is the protocol recognised for the connection so far.
	Tunnel string
	Dir    app.Dir
	// Offset is the stream offset of the message's first byte in its
	// direction; Len its length after any base64 decoding.
	Offset uint64
	Len    int
	// Info describes what the first bytes said: the SSH banner, the HTTP
	// request or status line, the TLS handshake message and server name,
	// the RFB version, the SOCKS request. Empty after the first messages.
	Info string
	// Data is the stream bytes of the message (decoded from base64 if the
	// connection uses websockify's base64 subprotocol).
	Data []byte

	err string
}

// Protocol implements app.Record.
func (r *Record) Protocol() string { return "tunnel" }

// Malformed implements app.Record.
func (r *Record) Malformed() string { return r.err }

// Decoder follows one connection's tunnelled stream.
type Decoder struct {
	base64 bool
	proto  string
	dirs   [2]dirState
	rec    Record
	out    []app.Record
	dec    []byte
}

type dirState struct {
	offset uint64
	head   []byte // first bytes, until sniffLen
	done   bool
}

// NewDecoder returns a tunnel decoder; b64 selects websockify's base64
// mode (text messages hold base64 of the stream bytes).
func NewDecoder(b64 bool) *Decoder { return &Decoder{base64: b64} }

// Tunnel returns the protocol recognised so far.
func (d *Decoder) Tunnel() string { return d.proto }

// Decode implements app.Decoder.
func (d *Decoder) Decode(m app.Message) []app.Record {
	r := &d.rec
	*r = Record{Dir: m.Dir}
	d.out = append(d.out[:0], r)
	data := m.Payload
	if d.base64 && m.Opcode == app.Text {
		var err error
		d.dec, err = base64.StdEncoding.AppendDecode(d.dec[:0], bytes.TrimSpace(data))
		if err != nil {
			r.err = "text message is not base64"
		}
		data = d.dec
	}
	st := &d.dirs[m.Dir&1]
	r.Offset = st.offset
	r.Len = len(data)
	r.Data = data
	st.offset += uint64(len(data))
	if !st.done {
		n := min(len(data), sniffLen-len(st.head))
		st.head = append(st.head, data[:n]...)
		proto, info, sure := Identify(st.head, m.Dir)
		if sure || len(st.head) >= sniffLen {
			st.done = true
		}
		if proto != Unknown {
			st.done = true
			if d.proto == Unknown {
				d.proto = proto
			}
			r.Info = info
		}
		if st.done {
			st.head = nil
		}
	}
	r.Tunnel = d.proto
	return d.out
}

// Identify names the protocol that starts with b (the first bytes of one
// direction) and describes its opening. sure is false when more bytes may
// still change the answer.
func Identify(b []byte, dir app.Dir) (proto, info string, sure bool) {
	switch {
	case len(b) == 0:
		return Unknown, "", false
	case bytes.HasPrefix(b, []byte("SSH-")):
		line, ok := firstLine(b)
		if !ok {
			return SSH, string(b), false
		}
		return SSH, string(line), true
	case bytes.HasPrefix(b, []byte("RFB ")):
		line, ok := firstLine(b)
		return RFB, string(line), ok
	case bytes.HasPrefix(b, []byte("HTTP/1.")):
		line, ok := firstLine(b)
		return HTTP, string(line), ok
	case isHTTPRequest(b):
		line, ok := firstLine(b)
		return HTTP, string(line), ok
	case len(b) >= 5 && b[0] >= 20 && b[0] <= 23 && b[1] == 3 && b[2] <= 4:
		return TLS, tlsInfo(b), true
	case b[0] == 5:
		return socks5(b, dir)
	case b[0] == 4 && len(b) >= 9 && (b[1] == 1 || b[1] == 2) && dir == app.ClientToServer:
		port := int(b[2])<<8 | int(b[3])
		host := strconv.Itoa(int(b[4])) + "." + strconv.Itoa(int(b[5])) + "." + strconv.Itoa(int(b[6])) + "." + strconv.Itoa(int(b[7]))
		if b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0 {
			// SOCKS4a: the host name follows the user id
			if z := bytes.IndexByte(b[8:], 0); z >= 0 {
				rest := b[8+z+1:]
				if e := bytes.IndexByte(rest, 0); e >= 0 {
					host = string(rest[:e])
				}
			}
		}
		cmd := "CONNECT"
		if b[1] == 2 {
			cmd = "BIND"
		}
		return SOCKS4, cmd + " " + host + ":" + strconv.Itoa(port), true
	}
	return Unknown, "", len(b) >= 16
}

func firstLine(b []byte) ([]byte, bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return b, false
	}
	return bytes.TrimSuffix(b[:i], []byte{'\r'}), true
}

var methods = []string{"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "}

func isHTTPRequest(b []byte) bool {
	for _, m := range methods {
		if bytes.HasPrefix(b, []byte(m)) {
			line, _ := firstLine(b)
			return bytes.Contains(line, []byte(" HTTP/1.")) || len(line) == len(b)
		}
	}
	return false
}

func socks5(b []byte, dir app.Dir) (string, string, bool) {
	if dir == app.ClientToServer {
		if len(b) < 2 {
			return Unknown, "", false
		}
		n := int(b[1])
		if n == 0 || len(b) < 2+n {
			return Unknown, "", len(b) >= 2 && n == 0
		}
		info := "greeting, " + strconv.Itoa(n) + " methods"
		rest := b[2+n:]
		if len(rest) >= 4 && rest[0] == 5 && rest[2] == 0 {
			info = socks5Request(rest)
		}
		return SOCKS5, info, true
	}
	if len(b) >= 2 && (b[1] <= 2 || b[1] == 0xff) {
		return SOCKS5, "method " + strconv.Itoa(int(b[1])), true
	}
	return Unknown, "", len(b) >= 2
}

func socks5Request(b []byte) string {
	cmd := "CONNECT"
	switch b[1] {
	case 2:
		cmd = "BIND"
	case 3:
		cmd = "UDP ASSOCIATE"
	}
	a := b[4:]
	var host string
	switch b[3] {
	case 1:
		if len(a) < 6 {
			return cmd
		}
		host = strconv.Itoa(int(a[0])) + "." + strconv.Itoa(int(a[1])) + "." + strconv.Itoa(int(a[2])) + "." + strconv.Itoa(int(a[3]))
		a = a[4:]
	case 3:
		if len(a) < 1 || len(a) < 1+int(a[0])+2 {
			return cmd
		}
		host = string(a[1 : 1+a[0]])
		a = a[1+a[0]:]
	case 4:
		if len(a) < 18 {
			return cmd
		}
		host = "[ipv6]"
		a = a[16:]
	default:
		return cmd
	}
	return cmd + " " + host + ":" + strconv.Itoa(int(a[0])<<8|int(a[1]))
}

// tlsInfo describes the first TLS record: the handshake message and, for
// a ClientHello, the server name.
func tlsInfo(b []byte) string {
	switch b[0] {
	case 20:
		return "ChangeCipherSpec"
	case 21:
		return "Alert"
	case 23:
		return "Application Data"
	}
	if len(b) < 6 {
		return "Handshake"
	}
	switch b[5] {
	case 1:
		if sni := serverName(b[5:]); sni != "" {
			return "ClientHello, server name " + sni
		}
		return "ClientHello"
	case 2:
		return "ServerHello"
	}
	return "Handshake"
}

// serverName returns the SNI host name of a ClientHello handshake message.
func serverName(h []byte) string {
	// type(1) len(3) version(2) random(32)
	p := 4 + 2 + 32
	if len(h) < p+1 {
		return ""
	}
	p += 1 + int(h[p]) // session id
	if len(h) < p+2 {
		return ""
	}
	p += 2 + (int(h[p])<<8 | int(h[p+1])) // cipher suites
	if len(h) < p+1 {
		return ""
	}
	p += 1 + int(h[p]) // compression methods
	if len(h) < p+2 {
		return ""
	}
	end := p + 2 + (int(h[p])<<8 | int(h[p+1]))
	p += 2
	if end > len(h) {
		end = len(h)
	}
	for p+4 <= end {
		typ := int(h[p])<<8 | int(h[p+1])
		l := int(h[p+2])<<8 | int(h[p+3])
		p += 4
		if p+l > end {
			return ""
		}
		if typ == 0 {
			e := h[p : p+l]
			// list length(2), name type(1), name length(2), name
			if len(e) >= 5 && e[2] == 0 {
				n := int(e[3])<<8 | int(e[4])
				if 5+n <= len(e) {
					return string(e[5 : 5+n])
				}
			}
			return ""
		}
		p += l
	}
	return ""
}
