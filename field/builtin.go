package field

import (
	"net/netip"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/communityid"
)

// Builtin returns a registry of the fields of the layers every run decodes:
// TCP/IP addressing, the HTTP/1.1 upgrade handshake and WebSocket frames and
// messages. Callers add the fields of further layers to it.
func Builtin() *Registry {
	r, err := New(TCP(), TLS(), HTTP(), HTTP2(), WebSocket())
	if err != nil {
		// The built-in tables are fixed; a clash is a programming error
		// that every test run would show.
		panic(err)
	}
	return r
}

func frameOf(r *dissect.Record) *dissect.Frame {
	if r.Kind == dissect.KindFrame {
		return r.Frame
	}
	return nil
}

func messageOf(r *dissect.Record) *dissect.Message {
	if r.Kind == dissect.KindMessage {
		return r.Message
	}
	return nil
}

// TextPayload returns the payload of a text frame or message; close frames
// (whose reason is text too) are excluded.
func TextPayload(r *dissect.Record) ([]byte, bool) {
	if fr := frameOf(r); fr != nil {
		if fr.IsText && !dissect.IsControl(fr.Opcode) {
			return fr.Payload, true
		}
		return nil, false
	}
	if m := messageOf(r); m != nil && m.Opcode == dissect.OpText {
		return m.Payload, true
	}
	return nil, false
}

// Endpoints returns the sender and receiver of the record: client to server
// unless the record travels from the server.
func Endpoints(r *dissect.Record) (src, dst netip.AddrPort) {
	c := r.Conn
	if r.HasDir && r.Dir == dissect.ServerToClient {
		return c.Server, c.Client
	}
	return c.Client, c.Server
}

// BoolValue, NumValue and StrValue build values; StrValue reports an empty
// string as absent.
func BoolValue(b bool) (Value, bool)  { return Value{Flag: b}, true }
func NumValue(u uint64) (Value, bool) { return Value{U: u}, true }
func StrValue(s string) (Value, bool) {
	if s == "" {
		return Value{}, false
	}
	return Value{S: s}, true
}

// BytesValue is a bytes or string value held in a byte slice.
func BytesValue(b []byte) (Value, bool) { return Value{B: b, IsB: true}, true }

// timeValue is the record's time in nanoseconds since 1970 (absent before
// it).
func timeValue(r *dissect.Record) (Value, bool) {
	ns := r.Time.UnixNano()
	if r.Time.IsZero() || ns < 0 {
		return Value{}, false
	}
	return Value{U: uint64(ns)}, true
}

func addrValue(ap netip.AddrPort, v6only bool) (Value, bool) {
	if !ap.IsValid() {
		return Value{}, false
	}
	a := ap.Addr().Unmap()
	if v6only && !a.Is6() {
		return Value{}, false
	}
	return Value{Addr: a}, true
}

func portValue(ap netip.AddrPort) (Value, bool) {
	if !ap.IsValid() {
		return Value{}, false
	}
	return Value{U: uint64(ap.Port())}, true
}

// connGetter adapts a getter of connection values, absent when the record
// has no connection.
func connGetter(g func(c *dissect.Conn) (Value, bool)) Getter {
	return func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
		if r.Conn == nil {
			return Value{}, false
		}
		return g(r.Conn)
	}
}

// connString is a getter of one string of the connection.
func connString(s func(c *dissect.Conn) string) Getter {
	return connGetter(func(c *dissect.Conn) (Value, bool) { return StrValue(s(c)) })
}

// listGetter returns the i-th element of a list of the connection.
func listGetter(l func(c *dissect.Conn) []string) Getter {
	return func(r *dissect.Record, i int, _ *[]byte) (Value, bool) {
		if r.Conn == nil {
			return Value{}, false
		}
		if vs := l(r.Conn); i < len(vs) {
			return Value{S: vs[i]}, true
		}
		return Value{}, false
	}
}

// TCP returns the fields of the TCP/IP layer.
func TCP() []Field {
	const layer = "tcp"
	return []Field{
		{Name: "stream", Aliases: []string{"tcp.stream"}, Type: Number, Layer: layer,
			Description: "TCP connection number, as Wireshark's tcp.stream",
			Get:         connGetter(func(c *dissect.Conn) (Value, bool) { return NumValue(c.Stream) })},
		{Name: "frame.time_relative", Type: Seconds, Relative: true, Layer: layer,
			Description: "seconds from the first packet of the capture to the packet that completed the record",
			Get:         func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) { return timeValue(r) }},
		{Name: "frame.time_epoch", Type: Seconds, Layer: layer,
			Description: "capture time of the packet that completed the record, in seconds since 1970",
			Get:         func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) { return timeValue(r) }},
		{Name: "packet", Aliases: []string{"frame.number"}, Type: Number, Layer: layer,
			Description: "number of the packet in which the record's last byte arrived",
			Get:         func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) { return NumValue(r.Packet) }},
		{Name: "ip.src", Type: Addr, Layer: layer,
			Description: "IP address of the sender (the client on records without a direction)",
			Get:         srcAddr(false)},
		{Name: "ip.dst", Type: Addr, Layer: layer,
			Description: "IP address of the receiver (the server on records without a direction)",
			Get:         dstAddr(false)},
		{Name: "ip.addr", Type: Addr, Multi: true, Layer: layer,
			Description: "either IP address of the connection", Get: eitherAddr(false)},
		{Name: "ipv6.src", Type: Addr, Layer: layer,
			Description: "as ip.src, on IPv6 connections only", Get: srcAddr(true)},
		{Name: "ipv6.dst", Type: Addr, Layer: layer,
			Description: "as ip.dst, on IPv6 connections only", Get: dstAddr(true)},
		{Name: "ipv6.addr", Type: Addr, Multi: true, Layer: layer,
			Description: "as ip.addr, on IPv6 connections only", Get: eitherAddr(true)},
		{Name: "port", Aliases: []string{"tcp.port"}, Type: Number, Max: 0xffff, Multi: true, Layer: layer,
			Description: "either TCP port of the connection",
			Get: func(r *dissect.Record, i int, _ *[]byte) (Value, bool) {
				if r.Conn == nil {
					return Value{}, false
				}
				switch i {
				case 0:
					return portValue(r.Conn.Client)
				case 1:
					return portValue(r.Conn.Server)
				}
				return Value{}, false
			}},
		{Name: "tcp.srcport", Type: Number, Max: 0xffff, Layer: layer,
			Description: "TCP port of the sender (the client on records without a direction)",
			Get: func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
				if r.Conn == nil {
					return Value{}, false
				}
				src, _ := Endpoints(r)
				return portValue(src)
			}},
		{Name: "tcp.dstport", Type: Number, Max: 0xffff, Layer: layer,
			Description: "TCP port of the receiver (the server on records without a direction)",
			Get: func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
				if r.Conn == nil {
					return Value{}, false
				}
				_, dst := Endpoints(r)
				return portValue(dst)
			}},
		{Name: "community_id", Type: String, Layer: layer,
			Description: "the connection's Community ID v1 flow hash (seed 0), as in NDJSON and Zeek logs",
			Get: func(r *dissect.Record, _ int, scratch *[]byte) (Value, bool) {
				if r.Conn == nil {
					return Value{}, false
				}
				b := communityid.AppendV1((*scratch)[:0], r.Conn.Client, r.Conn.Server, communityid.ProtoTCP, 0)
				*scratch = b
				if len(b) == 0 {
					return Value{}, false
				}
				return BytesValue(b)
			}},
		{Name: "client", Type: String, Layer: layer,
			Description: "the client's address and port as ip:port ([addr]:port for IPv6), as in NDJSON",
			Get:         addrPortText(func(c *dissect.Conn) netip.AddrPort { return c.Client })},
		{Name: "server", Type: String, Layer: layer,
			Description: "the server's address and port, as client",
			Get:         addrPortText(func(c *dissect.Conn) netip.AddrPort { return c.Server })},
	}
}

func srcAddr(v6 bool) Getter {
	return func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
		if r.Conn == nil {
			return Value{}, false
		}
		src, _ := Endpoints(r)
		return addrValue(src, v6)
	}
}

func dstAddr(v6 bool) Getter {
	return func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
		if r.Conn == nil {
			return Value{}, false
		}
		_, dst := Endpoints(r)
		return addrValue(dst, v6)
	}
}

func eitherAddr(v6 bool) Getter {
	return func(r *dissect.Record, i int, _ *[]byte) (Value, bool) {
		if r.Conn == nil {
			return Value{}, false
		}
		switch i {
		case 0:
			return addrValue(r.Conn.Client, v6)
		case 1:
			return addrValue(r.Conn.Server, v6)
		}
		return Value{}, false
	}
}

func addrPortText(get func(c *dissect.Conn) netip.AddrPort) Getter {
	return func(r *dissect.Record, _ int, scratch *[]byte) (Value, bool) {
		if r.Conn == nil {
			return Value{}, false
		}
		ap := get(r.Conn)
		if !ap.IsValid() {
			return Value{}, false
		}
		b := ap.AppendTo((*scratch)[:0])
		*scratch = b
		return BytesValue(b)
	}
}

// HTTP returns the fields of the HTTP/1.1 upgrade handshake.
func HTTP() []Field {
	const layer = "http"
	return []Field{
		{Name: "host", Aliases: []string{"http.host"}, Type: String, Layer: layer,
			Description: "Host header of the Upgrade request", Get: connString(func(c *dissect.Conn) string { return c.Host })},
		{Name: "path", Aliases: []string{"http.request.uri"}, Type: String, Layer: layer,
			Description: "request target of the Upgrade request", Get: connString(func(c *dissect.Conn) string { return c.Path })},
		{Name: "method", Aliases: []string{"http.request.method"}, Type: String, Layer: layer,
			Description: "method of the Upgrade request", Get: connString(func(c *dissect.Conn) string { return c.Method })},
		{Name: "origin", Type: String, Layer: layer,
			Description: "Origin header of the Upgrade request", Get: connString(func(c *dissect.Conn) string { return c.Origin })},
		{Name: "user_agent", Aliases: []string{"http.user_agent"}, Type: String, Layer: layer,
			Description: "User-Agent header of the Upgrade request", Get: connString(func(c *dissect.Conn) string { return c.UserAgent })},
		{Name: "proxy", Type: String, Layer: layer,
			Description: "target (host:port) of the CONNECT the connection was tunnelled through, when the client went through an HTTP or SOCKS proxy",
			Get: connString(func(c *dissect.Conn) string {
				if c.Proxy == nil {
					return ""
				}
				return c.Proxy.Target
			})},
		{Name: "tunnel_type", Type: String, Layer: layer,
			Description: "encapsulation the connection was captured in (vxlan, geneve, gre, erspan, gtp-u, ip-in-ip, mpls, pppoe; outermost)",
			Get:         connString(func(c *dissect.Conn) string { return c.Tunnel })},
		{Name: "tunnel_id", Type: Number, Max: 0xffffffff, Layer: layer,
			Description: "identifier of that encapsulation, from the connection's first packet: VXLAN/Geneve VNI, GRE key, ERSPAN session, GTP-U TEID, MPLS label, PPPoE session",
			Get: connGetter(func(c *dissect.Conn) (Value, bool) {
				if !c.HasTunnelID {
					return Value{}, false
				}
				return NumValue(uint64(c.TunnelID))
			})},
		{Name: "has_cookie", Type: Bool, Layer: layer,
			Description: "the Upgrade request carried a Cookie header",
			Get:         connGetter(func(c *dissect.Conn) (Value, bool) { return BoolValue(c.HasCookie) })},
		{Name: "http.cookie", Type: String, Layer: layer,
			Description: "Cookie header of the Upgrade request",
			Get:         connString(func(c *dissect.Conn) string { return headerValue(c.RequestHeaders, "cookie") })},
		{Name: "status", Aliases: []string{"http.response.code"}, Type: Number, Max: 999, Layer: layer,
			Description: "HTTP status code of the response to the Upgrade request",
			Get: connGetter(func(c *dissect.Conn) (Value, bool) {
				if c.Status == 0 {
					return Value{}, false
				}
				return NumValue(uint64(c.Status))
			})},
		{Name: "subprotocol", Type: String, Layer: layer,
			Description: "subprotocol selected by the server", Get: connString(func(c *dissect.Conn) string { return c.Subprotocol })},
		{Name: "subprotocols_offered", Type: String, Multi: true, Layer: layer,
			Description: "subprotocols the client offered, one value each",
			Get:         listGetter(func(c *dissect.Conn) []string { return c.SubprotocolsOffered })},
		{Name: "extensions", Type: String, Layer: layer,
			Description: `extensions selected by the server, joined with ", "`,
			Get: func(r *dissect.Record, _ int, scratch *[]byte) (Value, bool) {
				if r.Conn == nil {
					return Value{}, false
				}
				switch es := r.Conn.Extensions; len(es) {
				case 0:
					return Value{}, false
				case 1:
					return StrValue(es[0])
				default:
					// Join into the caller's buffer: no allocation once it has grown.
					b := (*scratch)[:0]
					for k, e := range es {
						if k > 0 {
							b = append(b, ", "...)
						}
						b = append(b, e...)
					}
					*scratch = b
					return BytesValue(b)
				}
			}},
		{Name: "extensions_offered", Type: String, Multi: true, Layer: layer,
			Description: "extensions the client offered, one value each",
			Get:         listGetter(func(c *dissect.Conn) []string { return c.ExtensionsOffered })},
		{Name: "accept_valid", Type: Bool, Layer: layer,
			Description: "Sec-WebSocket-Accept matched the key (present once a 101 response was seen)",
			Get: connGetter(func(c *dissect.Conn) (Value, bool) {
				if c.Status != 101 {
					return Value{}, false
				}
				return BoolValue(c.AcceptValid)
			})},
		{Name: "midstream", Type: Bool, Layer: layer,
			Description: "the connection was picked up without its handshake",
			Get:         connGetter(func(c *dissect.Conn) (Value, bool) { return BoolValue(c.Midstream) })},
	}
}

// headerValue returns the value of the (lower-case) header name, or "".
func headerValue(hs []dissect.Header, name string) string {
	for _, h := range hs {
		if h.Name == name {
			return h.Value
		}
	}
	return ""
}
