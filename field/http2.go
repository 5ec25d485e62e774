package field

import "github.com/wsdissect/wsdissect/dissect"

// HTTP2 returns the fields of WebSocket sessions over HTTP/2 (RFC 8441) and
// the HTTP version of the handshake.
func HTTP2() []Field {
	const layer = "http2"
	return []Field{
		{Name: "http2.streamid", Aliases: []string{"h2_stream"}, Type: Number, Max: 1<<31 - 1, Layer: layer,
			Description: "HTTP/2 stream id of a WebSocket session over HTTP/2 (RFC 8441), or of the tunnel to a proxy that speaks HTTP/2 the connection runs in; absent over HTTP/1.1",
			Get: connGetter(func(c *dissect.Conn) (Value, bool) {
				if c.H2Stream == 0 {
					return Value{}, false
				}
				return NumValue(uint64(c.H2Stream))
			})},
		{Name: "http2.tunnel_streamid", Aliases: []string{"h2_tunnel_stream"}, Type: Number, Max: 1<<31 - 1, Layer: layer,
			Description: "HTTP/2 stream id of the proxy tunnel an HTTP/2 connection runs in (WebSockets over HTTP/2 through a proxy that speaks HTTP/2); absent otherwise",
			Get: connGetter(func(c *dissect.Conn) (Value, bool) {
				if t := c.TunnelStream(); t != 0 {
					return NumValue(uint64(t))
				}
				return Value{}, false
			})},
		{Name: "http2.type", Type: Number, Max: 255, Layer: layer,
			Description: "type of the HTTP/2 frame that carried the record: 1 (HEADERS) on the conn record of a session over HTTP/2, 0 (DATA) on its frame and message records",
			Get: func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
				if r.Conn == nil || r.Conn.H2Stream == 0 || !r.Conn.HTTP2 {
					return Value{}, false
				}
				switch r.Kind {
				case dissect.KindConn:
					return NumValue(1)
				case dissect.KindFrame, dissect.KindMessage:
					return NumValue(0)
				}
				return Value{}, false
			}},
		{Name: "http2.header.name", Type: String, Multi: true, Layer: layer,
			Description: "names of the header fields (pseudo-headers included) of an HTTP/2 session's extended CONNECT and its response",
			Get:         h2Header(true)},
		{Name: "http2.header.value", Type: String, Multi: true, Layer: layer,
			Description: "values of the header fields of an HTTP/2 session's extended CONNECT and its response",
			Get:         h2Header(false)},
		{Name: "http.version", Aliases: []string{"http_version"}, Type: String, Layer: "http",
			Description: `HTTP version of the handshake: "1.1" (Upgrade) or "2" (extended CONNECT); absent when no handshake was seen`,
			Get: connGetter(func(c *dissect.Conn) (Value, bool) {
				if c.Midstream {
					return Value{}, false
				}
				return StrValue(c.HTTPVersion())
			})},
	}
}

// h2Header returns the i-th header name or value of an HTTP/2 session's
// request, then its response.
func h2Header(name bool) Getter {
	return func(r *dissect.Record, i int, _ *[]byte) (Value, bool) {
		c := r.Conn
		if c == nil || !c.HTTP2 {
			return Value{}, false
		}
		hs := c.RequestHeaders
		if i >= len(hs) {
			i -= len(hs)
			hs = c.ResponseHeaders
		}
		if i >= len(hs) {
			return Value{}, false
		}
		if name {
			return Value{S: hs[i].Name}, true
		}
		return Value{S: hs[i].Value}, true
	}
}
