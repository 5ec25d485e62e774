package dissect

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/wsdissect/wsdissect/reassembly"
)

// SOCKS proxies (RFC 1928 and RFC 1929 for version 5, the SOCKS 4 and 4a
// protocol notes for version 4) tunnel a client's connection as an HTTP
// CONNECT does: ssh -D, Tor, proxychains and browsers configured with a
// SOCKS proxy open their WebSockets this way. A connection whose client
// starts with a SOCKS greeting is followed through the handshake; when the
// proxy grants a CONNECT, what follows is decoded as a connection of its
// own (lazyConn.enterTunnel), and anything else is handed to the HTTP path
// as it came.

// maxSocksHandshake bounds the bytes a SOCKS handshake may take (the
// longest legal one, with a 255-byte user name, password and host name, is
// under 1 KiB).
const maxSocksHandshake = 2048

// socksStart follows a SOCKS handshake at the start of a connection.
type socksStart struct {
	buf    [2][]byte // by reassembly side; SideA is the client (SawSYN)
	chunks []socksChunk
	proxy  ProxyTunnel
	ver    byte
}

// socksChunk is a chunk held while the handshake is followed, to be
// replayed when it is not one.
type socksChunk struct {
	side reassembly.Side
	end  int // end of the chunk in buf[side]
	pkt  uint64
	ts   time.Time
}

// socksResult is where a handshake stands.
type socksResult int8

const (
	socksMore   socksResult = iota // wait for more bytes
	socksTunnel                    // granted: the tunnel starts after the bytes parsed
	socksNot                       // not SOCKS, or refused: decode the bytes as they came
)

// looksLikeSocks reports whether a connection's first client bytes start a
// SOCKS 5 greeting (version 5, one to nine methods, each known) or a SOCKS
// 4 CONNECT request.
func looksLikeSocks(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	switch b[0] {
	case 5:
		n := int(b[1])
		if n == 0 || n > 9 || len(b) < 2+n {
			return false
		}
		for _, m := range b[2 : 2+n] {
			if m > 3 && m < 0x80 { // none, GSSAPI, user/password, CHAP; private 0x80-0xfe
				return false
			}
		}
		return true
	case 4:
		return b[1] == 1 && len(b) >= 9 && bytes.IndexByte(b[8:], 0) >= 0
	}
	return false
}

// add takes a chunk and reports where the handshake stands.
func (s *socksStart) add(side reassembly.Side, data []byte, pkt uint64, ts time.Time) socksResult {
	s.buf[side] = append(s.buf[side], data...)
	s.chunks = append(s.chunks, socksChunk{side: side, end: len(s.buf[side]), pkt: pkt, ts: ts})
	if len(s.buf[0])+len(s.buf[1]) > maxSocksHandshake {
		return socksNot
	}
	c, p := s.buf[reassembly.SideA], s.buf[reassembly.SideB]
	if len(c) == 0 {
		return socksNot // the server spoke first
	}
	s.ver = c[0]
	if s.ver == 4 {
		return s.parse4(c, p)
	}
	return s.parse5(c, p)
}

// parse4 follows SOCKS 4: the request, and the 8-byte answer (90:
// granted).
func (s *socksStart) parse4(c, p []byte) socksResult {
	if len(c) < 9 {
		return socksMore
	}
	end := bytes.IndexByte(c[8:], 0)
	if end < 0 {
		return socksMore
	}
	reqLen := 8 + end + 1
	user := c[8 : 8+end]
	port := binary.BigEndian.Uint16(c[2:4])
	ip := netip.AddrFrom4([4]byte(c[4:8]))
	host := ip.String()
	if c[4] == 0 && c[5] == 0 && c[6] == 0 && c[7] != 0 {
		// SOCKS 4a: the host name follows the user id.
		n := bytes.IndexByte(c[reqLen:], 0)
		if n < 0 {
			return socksMore
		}
		host = string(c[reqLen : reqLen+n])
		reqLen += n + 1
	}
	if len(p) < 8 {
		return socksMore
	}
	if p[0] != 0 || p[1] != 90 {
		return socksNot
	}
	s.proxy.Target, s.proxy.User = net.JoinHostPort(host, strconv.Itoa(int(port))), string(user)
	return s.tunnel(reqLen, 8)
}

// parse5 follows SOCKS 5: greeting, method choice, the user/password
// exchange when chosen, the CONNECT request and its reply (0: succeeded).
func (s *socksStart) parse5(c, p []byte) socksResult {
	ci, pi := 2+int(c[1]), 2
	if len(c) < ci || len(p) < pi {
		return socksMore
	}
	if p[0] != 5 {
		return socksNot
	}
	switch p[1] {
	case 0: // no authentication
	case 2: // user name and password (RFC 1929)
		if len(c) < ci+2 {
			return socksMore
		}
		ulen := int(c[ci+1])
		if len(c) < ci+2+ulen+1 {
			return socksMore
		}
		plen := int(c[ci+2+ulen])
		if len(c) < ci+3+ulen+plen {
			return socksMore
		}
		if c[ci] != 1 {
			return socksNot // not the RFC 1929 subnegotiation
		}
		s.proxy.User = string(c[ci+2 : ci+2+ulen])
		s.proxy.Password = string(c[ci+3+ulen : ci+3+ulen+plen])
		ci += 3 + ulen + plen
		pi += 2
		if len(p) < pi {
			return socksMore
		}
		if p[pi-2] != 1 || p[pi-1] != 0 {
			return socksNot // refused, or not RFC 1929
		}
	default:
		return socksNot // GSSAPI (encapsulated), CHAP, none acceptable (0xff)
	}
	// The request: 5, CONNECT (1), 0, the address, the port.
	req, ok, more := socks5Addr(c[ci:])
	if more {
		return socksMore
	}
	if !ok || c[ci+1] != 1 {
		return socksNot // BIND, UDP ASSOCIATE, or not SOCKS
	}
	_, ok, more = socks5Addr(p[pi:])
	if more {
		return socksMore
	}
	if !ok || p[pi+1] != 0 {
		return socksNot // refused
	}
	s.proxy.Target = req
	return s.tunnel(ci+socks5AddrLen(c[ci:]), pi+socks5AddrLen(p[pi:]))
}

// socks5Addr parses a SOCKS 5 request or reply (version, code, reserved,
// address type, address, port) and returns its address as host:port; more
// is set when b is cut short.
func socks5Addr(b []byte) (addr string, ok, more bool) {
	n := socks5AddrLen(b)
	if n == 0 {
		return "", false, false
	}
	if n < 0 || len(b) < n {
		return "", false, true
	}
	if b[0] != 5 || b[2] != 0 {
		return "", false, false
	}
	port := binary.BigEndian.Uint16(b[n-2 : n])
	switch b[3] {
	case 1:
		return net.JoinHostPort(netip.AddrFrom4([4]byte(b[4:8])).String(), strconv.Itoa(int(port))), true, false
	case 4:
		return net.JoinHostPort(netip.AddrFrom16([16]byte(b[4:20])).String(), strconv.Itoa(int(port))), true, false
	}
	return net.JoinHostPort(string(b[5:5+int(b[4])]), strconv.Itoa(int(port))), true, false
}

// socks5AddrLen returns the length of a SOCKS 5 request or reply from its
// header, -1 when too little of it is there to tell, 0 when its address
// type is unknown.
func socks5AddrLen(b []byte) int {
	if len(b) < 5 {
		return -1
	}
	switch b[3] {
	case 1:
		return 4 + 4 + 2
	case 4:
		return 4 + 16 + 2
	case 3:
		return 4 + 1 + int(b[4]) + 2
	}
	return 0
}

// start returns the tunnel the handshake opened: its target and the bytes
// each side sent after the handshake, with the packet of their last chunk.
func (s *socksStart) start() *tunnelStart {
	tu := &tunnelStart{proxy: s.proxy}
	tu.proxy.Protocol = "SOCKS" + strconv.Itoa(int(s.ver))
	var last [2]socksChunk
	for _, c := range s.chunks {
		last[c.side] = c
	}
	for side, c := range last {
		tu.add(reassembly.Side(side), s.buf[side], c.pkt, c.ts)
	}
	return tu
}

// tunnel keeps the bytes after the handshake (client bytes from c, proxy
// bytes from p) as the only ones held, and reports the tunnel open.
func (s *socksStart) tunnel(c, p int) socksResult {
	s.buf[reassembly.SideA] = s.buf[reassembly.SideA][c:]
	s.buf[reassembly.SideB] = s.buf[reassembly.SideB][p:]
	return socksTunnel
}
