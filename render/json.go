package render

import (
	"encoding/base64"
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/communityid"
)

// tsSecLayout is the part of the "ts" layout, RFC 3339 in UTC with a fixed
// nine-digit fraction ("2006-01-02T15:04:05.000000000Z07:00"), that changes
// once a second.
const tsSecLayout = "2006-01-02T15:04:05"

// appendJSON appends rec as one JSON object and a newline. Keys come in the
// documented order; absent optional keys are left out.
func (r *Renderer) appendJSON(b []byte, rec *dissect.Record) []byte {
	c := r.connOf(rec)
	b = append(b, `{"type":`...)
	b = appendJSONString(b, rec.Kind.String())
	if r.opts.File != "" {
		b = appendKey(b, "file")
		b = appendJSONString(b, r.opts.File)
	}
	b = appendKey(b, "stream")
	b = strconv.AppendUint(b, c.Stream, 10)
	if e := r.endpointsOf(c); e != nil {
		b = append(b, `,"client":"`...)
		b = append(b, e.clientBytes()...)
		b = append(b, `","server":"`...)
		b = append(b, e.serverBytes()...)
		if cid := e.communityID(); len(cid) > 0 {
			b = append(b, `","community_id":"`...)
			b = append(b, cid...)
		}
		b = append(b, '"')
	} else {
		b = appendKey(b, "client")
		b = appendAddrPort(b, c.Client)
		b = appendKey(b, "server")
		b = appendAddrPort(b, c.Server)
		var tmp [communityIDLen]byte
		if cid := communityid.AppendV1(tmp[:0], c.Client, c.Server, communityid.ProtoTCP, 0); len(cid) > 0 {
			b = append(b, `,"community_id":"`...)
			b = append(b, cid...)
			b = append(b, '"')
		}
	}
	if c.H2Stream != 0 {
		b = appendKey(b, "h2_stream")
		b = strconv.AppendUint(b, uint64(c.H2Stream), 10)
	}
	if t := c.TunnelStream(); t != 0 {
		b = appendKey(b, "h2_tunnel_stream")
		b = strconv.AppendUint(b, uint64(t), 10)
	}
	b = appendKey(b, "ts")
	b = r.appendTimestamp(b, rec.Time)
	b = appendKey(b, "packet")
	b = strconv.AppendUint(b, rec.Packet, 10)

	switch rec.Kind {
	case dissect.KindConn:
		b = appendConnJSON(b, c)
	case dissect.KindFrame:
		b = r.appendFrameJSON(b, rec.Frame)
	case dissect.KindMessage:
		b = r.appendMessageJSON(b, rec.Message)
	case dissect.KindAnomaly:
		if rec.HasDir {
			b = appendKey(b, "dir")
			b = appendJSONString(b, rec.Dir.String())
		}
	case dissect.KindEnd:
		b = r.appendEndJSON(b, rec.End, rec.Time)
	case dissect.KindHTTP:
		b = appendHTTPJSON(b, rec.HTTP)
	}

	for _, l := range rec.Layers {
		b = appendKey(b, l.LayerName())
		b = l.AppendJSON(b)
	}
	if len(rec.Anomalies) > 0 {
		b = appendKey(b, "anomalies")
		b = append(b, '[')
		for i := range rec.Anomalies {
			a := &rec.Anomalies[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendJSONString(b, a.ID)
			b = appendKey(b, "severity")
			b = appendJSONString(b, a.Severity.String())
			b = appendKey(b, "msg")
			b = appendJSONString(b, a.Msg)
			if a.Offset >= 0 {
				b = appendKey(b, "offset")
				b = strconv.AppendInt(b, a.Offset, 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}', '\n')
}

// appendTimestamp appends t as a quoted RFC 3339 UTC time with nine
// fractional digits. The part up to the seconds is formatted only when the
// second differs from the previous record's.
func (r *Renderer) appendTimestamp(b []byte, t time.Time) []byte {
	if sec := t.Unix(); sec != r.tsSec || r.tsLen == 0 {
		r.tsLen = copy(r.tsPrefix[:], t.UTC().AppendFormat(r.tsPrefix[:0], tsSecLayout))
		r.tsSec = sec
	}
	b = append(b, '"')
	b = append(b, r.tsPrefix[:r.tsLen]...)
	b = append(b, '.')
	b = appendNanos(b, t.Nanosecond())
	return append(b, 'Z', '"')
}

// appendNanos appends ns (0 to 999999999) as nine digits.
func appendNanos(b []byte, ns int) []byte {
	var d [9]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + ns%10)
		ns /= 10
	}
	return append(b, d[:]...)
}

// appendAddrPort appends an endpoint as a JSON string ("ip:port", IPv6 as
// "[addr]:port").
func appendAddrPort(b []byte, ap netip.AddrPort) []byte {
	b = append(b, '"')
	start := len(b)
	b = ap.AppendTo(b)
	// Zones are the only part of an address that can hold arbitrary bytes;
	// re-escape in place only when something needs it.
	for _, c := range b[start:] {
		if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			var tmp [128]byte
			s := append(tmp[:0], b[start:]...)
			b = appendJSONChars(b[:start], s)
			break
		}
	}
	return append(b, '"')
}

// appendConnJSON appends the keys of a connection record.
func appendConnJSON(b []byte, c *dissect.Conn) []byte {
	b = appendOptString(b, "tunnel", c.Tunnel)
	if c.HasTunnelID {
		b = appendKey(b, "tunnel_id")
		b = strconv.AppendUint(b, uint64(c.TunnelID), 10)
	}
	if p := c.Proxy; p != nil {
		b = appendProxyKeys(b, p)
		if p.Outer != nil {
			// The tunnels this one runs through, outward, each an
			// object of the same keys.
			b = appendKey(b, "proxy_outer")
			b = append(b, '[')
			for o := range p.Outer.Chain() {
				if o != p.Outer {
					b = append(b, ',')
				}
				b = append(b, '{')
				mark := len(b)
				b = closeObject(appendProxyKeys(b, o), mark)
			}
			b = append(b, ']')
		}
	}
	if c.TLS != nil {
		b = appendTLSJSON(b, c.TLS)
		if c.TLSListing() {
			b = appendKey(b, "midstream")
			return strconv.AppendBool(b, false)
		}
	}
	b = appendOptString(b, "host", c.Host)
	b = appendOptString(b, "path", c.Path)
	b = appendOptString(b, "origin", c.Origin)
	b = appendOptString(b, "user_agent", c.UserAgent)
	if !c.Midstream {
		b = appendKey(b, "has_cookie")
		b = strconv.AppendBool(b, c.HasCookie)
	}
	if c.Status != 0 {
		b = appendKey(b, "status")
		b = strconv.AppendInt(b, int64(c.Status), 10)
	}
	b = appendOptStrings(b, "subprotocols_offered", c.SubprotocolsOffered)
	b = appendOptString(b, "subprotocol", c.Subprotocol)
	b = appendOptStrings(b, "extensions_offered", c.ExtensionsOffered)
	b = appendOptStrings(b, "extensions", c.Extensions)
	if !c.Midstream && !c.HTTP2 {
		b = appendKey(b, "accept_valid")
		b = strconv.AppendBool(b, c.AcceptValid)
	}
	b = appendHeaders(b, "request_headers", c.RequestHeaders)
	b = appendHeaders(b, "response_headers", c.ResponseHeaders)
	if !c.Midstream {
		b = appendKey(b, "http_version")
		b = appendJSONString(b, c.HTTPVersion())
	}
	b = appendKey(b, "midstream")
	return strconv.AppendBool(b, c.Midstream)
}

// appendFrameJSON appends the keys of a frame record.
func (r *Renderer) appendFrameJSON(b []byte, f *dissect.Frame) []byte {
	b = appendKey(b, "dir")
	b = appendJSONString(b, f.Dir.String())
	b = appendBoolKey(b, "fin", f.Fin)
	b = appendBoolKey(b, "rsv1", f.RSV1)
	b = appendBoolKey(b, "rsv2", f.RSV2)
	b = appendBoolKey(b, "rsv3", f.RSV3)
	b = appendBoolKey(b, "masked", f.Masked)
	b = appendKey(b, "opcode")
	b = strconv.AppendUint(b, uint64(f.Opcode), 10)
	b = appendKey(b, "opcode_name")
	b = appendJSONString(b, dissect.OpcodeName(f.Opcode))
	if f.Masked {
		b = appendKey(b, "masking_key")
		b = append(b, '"')
		b = appendHex(b, f.MaskKey[:])
		b = append(b, '"')
	}
	b = appendKey(b, "len")
	b = strconv.AppendUint(b, f.Len, 10)
	if len(f.Packets) > 1 {
		b = appendKey(b, "packets")
		b = append(b, '[')
		for i, p := range f.Packets {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendUint(b, p, 10)
		}
		b = append(b, ']')
	}
	b = r.appendPayloadJSON(b, f.Payload, f.IsText && f.Opcode != dissect.OpClose)
	if f.HasCloseCode {
		b = appendKey(b, "close_code")
		b = strconv.AppendUint(b, uint64(f.CloseCode), 10)
		b = appendOptString(b, "close_reason", f.CloseReason)
	}
	b = appendTrue(b, "compressed", f.Compressed)
	b = appendNotInflated(b, f.Compressed && f.NotInflated)
	b = appendTrue(b, "truncated", f.Truncated)
	b = appendTrue(b, "preview", f.Preview)
	b = appendTrue(b, "incomplete", f.Incomplete)
	if m := f.Reassembled; m != nil {
		b = appendKey(b, "message")
		b = append(b, `{"len":`...)
		b = strconv.AppendUint(b, m.Len, 10)
		b = appendKey(b, "frames")
		b = strconv.AppendInt(b, int64(m.Frames), 10)
		b = appendKey(b, "first_packet")
		b = strconv.AppendUint(b, m.FirstPacket, 10)
		b = r.appendPayloadJSON(b, m.Payload, m.Opcode == dissect.OpText)
		b = appendTrue(b, "truncated", m.Truncated)
		b = appendTrue(b, "preview", m.Preview)
		b = appendTrue(b, "incomplete", m.Incomplete)
		b = append(b, '}')
	}
	return b
}

// appendMessageJSON appends the keys of a message record.
func (r *Renderer) appendMessageJSON(b []byte, m *dissect.Message) []byte {
	b = appendKey(b, "dir")
	b = appendJSONString(b, m.Dir.String())
	b = appendKey(b, "opcode")
	b = strconv.AppendUint(b, uint64(m.Opcode), 10)
	b = appendKey(b, "opcode_name")
	b = appendJSONString(b, dissect.OpcodeName(m.Opcode))
	b = appendKey(b, "len")
	b = strconv.AppendUint(b, m.Len, 10)
	b = appendKey(b, "frames")
	b = strconv.AppendInt(b, int64(m.Frames), 10)
	b = appendKey(b, "first_packet")
	b = strconv.AppendUint(b, m.FirstPacket, 10)
	b = r.appendPayloadJSON(b, m.Payload, m.Opcode == dissect.OpText)
	if m.HasCloseCode {
		b = appendKey(b, "close_code")
		b = strconv.AppendUint(b, uint64(m.CloseCode), 10)
		b = appendOptString(b, "close_reason", m.CloseReason)
	}
	b = appendTrue(b, "incomplete", m.Incomplete)
	b = appendTrue(b, "truncated", m.Truncated)
	b = appendTrue(b, "preview", m.Preview)
	b = appendTrue(b, "compressed", m.Compressed)
	return appendNotInflated(b, m.Compressed && m.NotInflated)
}

// appendNotInflated appends "inflated":false when raw is set: the payload
// is compressed bytes that could not be inflated.
func appendNotInflated(b []byte, raw bool) []byte {
	if !raw {
		return b
	}
	b = appendKey(b, "inflated")
	return append(b, "false"...)
}

// appendPayloadJSON appends "text" when the payload is text and valid UTF-8,
// "b64" otherwise.
func (r *Renderer) appendPayloadJSON(b, p []byte, text bool) []byte {
	if text && utf8.Valid(p) {
		b = appendKey(b, "text")
		b = append(b, '"')
		if len(p) < r.big {
			b = appendValidJSONChars(b, p)
		} else {
			b = r.pieces(b, p, len(p)+len(p)/8, r.runeCut, func(b, q []byte, _ int) []byte {
				return appendValidJSONChars(b, q)
			})
		}
		return append(b, '"')
	}
	b = appendKey(b, "b64")
	b = append(b, '"')
	if len(p) < r.big {
		b = appendBase64(b, p)
	} else {
		b = r.pieces(b, p, base64.StdEncoding.EncodedLen(len(p)), r.byteCut, func(b, q []byte, _ int) []byte {
			return appendBase64(b, q)
		})
	}
	return append(b, '"')
}

// appendProxyKeys appends the keys of proxy tunnel p.
func appendProxyKeys(b []byte, p *dissect.ProxyTunnel) []byte {
	b = appendOptString(b, "proxy", p.Target)
	b = appendOptString(b, "proxy_protocol", p.Protocol)
	if p.H2Stream != 0 {
		b = appendKey(b, "proxy_h2_stream")
		b = strconv.AppendUint(b, uint64(p.H2Stream), 10)
	}
	b = appendOptString(b, "proxy_authorization", p.Authorization)
	b = appendOptString(b, "proxy_user", p.User)
	return appendOptString(b, "proxy_password", p.Password)
}

// appendKey appends a comma and the quoted key with its colon. Keys are
// constants that need no escaping.
func appendKey(b []byte, key string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	return append(b, '"', ':')
}

// appendBoolKey appends a boolean key.
func appendBoolKey(b []byte, key string, v bool) []byte {
	b = appendKey(b, key)
	return strconv.AppendBool(b, v)
}

// appendTrue appends key:true when v is set and nothing otherwise.
func appendTrue(b []byte, key string, v bool) []byte {
	if !v {
		return b
	}
	b = appendKey(b, key)
	return append(b, "true"...)
}

// appendOptString appends a string key unless the value is empty.
func appendOptString(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	b = appendKey(b, key)
	return appendJSONString(b, v)
}

// appendOptStrings appends an array of strings unless it is nil.
func appendOptStrings(b []byte, key string, vs []string) []byte {
	if vs == nil {
		return b
	}
	b = appendKey(b, key)
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, v)
	}
	return append(b, ']')
}

// appendHeaders appends header fields as an object with lower-case names.
// Fields that share a name (which the dissector normally joins already) are
// joined with ", " so that the object has no duplicate keys.
func appendHeaders(b []byte, key string, hs []dissect.Header) []byte {
	if hs == nil {
		return b
	}
	b = appendKey(b, key)
	b = append(b, '{')
	first := true
	for i := range hs {
		if seenBefore(hs[:i], hs[i].Name) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = appendLowerJSONChars(b, hs[i].Name)
		b = append(b, '"', ':', '"')
		b = appendJSONChars(b, hs[i].Value)
		for j := i + 1; j < len(hs); j++ {
			if equalFoldASCII(hs[j].Name, hs[i].Name) {
				b = append(b, ',', ' ')
				b = appendJSONChars(b, hs[j].Value)
			}
		}
		b = append(b, '"')
	}
	return append(b, '}')
}

// seenBefore reports whether a header in hs has the given name.
func seenBefore(hs []dissect.Header, name string) bool {
	for i := range hs {
		if equalFoldASCII(hs[i].Name, name) {
			return true
		}
	}
	return false
}

// equalFoldASCII compares two header names ignoring ASCII case.
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases an ASCII letter.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// appendLowerJSONChars appends the escaped header name in lower case.
func appendLowerJSONChars(b []byte, s string) []byte {
	start := len(b)
	b = appendJSONChars(b, s)
	for i := start; i < len(b); i++ {
		if b[i] == '\\' { // keep escapes such as \u00XX intact
			return b
		}
		b[i] = lowerASCII(b[i])
	}
	return b
}

// appendJSONString appends s as a quoted JSON string.
func appendJSONString[T ~string | ~[]byte](b []byte, s T) []byte {
	b = append(b, '"')
	b = appendJSONChars(b, s)
	return append(b, '"')
}

// appendEndJSON appends the keys of an end record.
func (r *Renderer) appendEndJSON(b []byte, e *dissect.End, end time.Time) []byte {
	b = appendKey(b, "reason")
	b = appendJSONString(b, e.Reason.String())
	if !e.Start.IsZero() && !end.Before(e.Start) {
		b = appendKey(b, "duration")
		b = appendRelTime(b, end.Sub(e.Start))
	}
	if e.HasFIN {
		b = appendKey(b, "fin_first")
		b = appendJSONString(b, e.FirstFIN.String())
		b = appendKey(b, "fin")
		b = append(b, '[')
		sep := false
		for d := dissect.ClientToServer; d <= dissect.ServerToClient; d++ {
			if e.FIN[d] {
				if sep {
					b = append(b, ',')
				}
				b = appendJSONString(b, d.String())
				sep = true
			}
		}
		b = append(b, ']')
	}
	if e.HasRST {
		b = appendKey(b, "rst")
		b = appendJSONString(b, e.RSTFrom.String())
	}
	if e.HasClose {
		b = appendKey(b, "close_first")
		b = appendJSONString(b, e.CloseFrom.String())
		if e.HasCloseCode {
			b = appendKey(b, "close_code")
			b = strconv.AppendUint(b, uint64(e.CloseCode), 10)
		}
	}
	for d := dissect.ClientToServer; d <= dissect.ServerToClient; d++ {
		t := &e.Totals[d]
		b = appendKey(b, d.String())
		b = append(b, `{"frames":`...)
		b = strconv.AppendUint(b, t.Frames, 10)
		b = append(b, `,"messages":`...)
		b = strconv.AppendUint(b, t.Messages, 10)
		b = append(b, `,"wire_bytes":`...)
		b = strconv.AppendUint(b, t.WireBytes, 10)
		b = append(b, `,"bytes":`...)
		b = strconv.AppendUint(b, t.Bytes, 10)
		b = append(b, '}')
	}
	return b
}
