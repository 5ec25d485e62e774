package render

import (
	"math"
	"strconv"

	"github.com/wsdissect/wsdissect/dissect"
)

// appendSummary appends the one-line summary of rec:
//
//	12    0.004512  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Text [FIN] [MASKED] len=12 "Hello world!"
func (r *Renderer) appendSummary(b []byte, rec *dissect.Record) []byte {
	c := r.connOf(rec)
	var num [24]byte
	b = appendPadded(b, strconv.AppendUint(num[:0], rec.Packet, 10), packetWidth)
	b = append(b, ' ', ' ')
	if r.opts.DeltaMarks && r.opts.Time == TimeDelta {
		b = appendDeltaMark(b, rec.Time)
	} else {
		var ts [32]byte
		b = appendPadded(b, r.appendTime(ts[:0], rec.Time), timeWidth)
	}
	b = append(b, ' ', ' ')

	switch rec.Kind {
	case dissect.KindConn:
		b = r.appendEndpoints(b, c, dissect.ClientToServer, true, false)
		b = append(b, ' ', ' ')
		b = appendConnSummary(b, c)
	case dissect.KindFrame:
		b = r.appendEndpoints(b, c, rec.Frame.Dir, true, true)
		b = append(b, ' ', ' ')
		b = r.appendFrameSummary(b, rec.Frame)
	case dissect.KindHTTP:
		b = r.appendEndpoints(b, c, dissect.ClientToServer, true, false)
		b = append(b, ' ', ' ')
		b = appendHTTPSummary(b, rec.HTTP)
	case dissect.KindMessage:
		b = r.appendEndpoints(b, c, rec.Message.Dir, true, true)
		b = append(b, ' ', ' ')
		b = r.appendMessageSummary(b, rec.Message)
	case dissect.KindAnomaly:
		b = r.appendEndpoints(b, c, rec.Dir, rec.HasDir, true)
		b = append(b, "  Expert:"...)
		for i := range rec.Anomalies {
			a := &rec.Anomalies[i]
			if i > 0 {
				b = append(b, ';')
			}
			st := r.pal.severity(a.Severity)
			b = append(b, ' ')
			b = append(b, st.on...)
			b = append(b, a.Severity.String()...)
			b = append(b, ' ')
			b = appendEscaped(b, a.ID, false, -1)
			b = append(b, st.off...)
			b = append(b, ':', ' ')
			b = appendEscaped(b, a.Msg, false, -1)
		}
		return append(b, '\n')
	}
	for _, l := range rec.Layers {
		if r.layerBuf = l.AppendSummary(r.layerBuf[:0]); len(r.layerBuf) > 0 {
			b = append(b, "  "...)
			b = appendEscaped(b, r.layerBuf, false, -1)
		}
	}
	b = r.appendAnomalyMarks(b, rec.Anomalies)
	return append(b, '\n')
}

// appendConnSummary appends the handshake part of a connection's summary.
func appendConnSummary(b []byte, c *dissect.Conn) []byte {
	if c.TLS == nil {
		return appendHandshakeSummary(b, c)
	}
	if !c.TLSListing() {
		b = appendHandshakeSummary(b, c)
		return appendTLSSummary(b, c)
	}
	return appendViaSummary(appendTLSSummary(b, c), c)
}

// appendHandshakeSummary appends the WebSocket handshake of a connection.
func appendHandshakeSummary(b []byte, c *dissect.Conn) []byte {
	if c.Midstream {
		return appendViaSummary(append(b, "WebSocket connection picked up mid-stream"...), c)
	}
	b = append(b, "WebSocket handshake "...)
	b = appendEscaped(b, c.Method, false, -1)
	b = append(b, ' ')
	b = appendEscaped(b, c.Path, false, -1)
	b = append(b, arrowC2S...)
	if c.Status == 0 {
		return append(b, "no response"...)
	}
	b = appendStatus(b, c)
	if !c.Upgraded() {
		return appendViaSummary(append(b, " (upgrade rejected)"...), c)
	}
	if c.Subprotocol != "" {
		b = append(b, " [subprotocol="...)
		b = appendEscaped(b, c.Subprotocol, false, -1)
		b = append(b, ']')
	}
	if len(c.Extensions) > 0 {
		b = append(b, " [extensions="...)
		b = appendJoined(b, c.Extensions)
		b = append(b, ']')
	}
	return appendViaSummary(b, c)
}

// appendViaSummary appends how a connection reached the capture: the
// CONNECT target of the proxy it went through, " [proxy CONNECT host:port]" for an HTTP proxy,
// " [proxy SOCKS5 host:port]" for a SOCKS one, each tunnel it ran through
// after it (" via CONNECT proxy2:443"); and the encapsulation it was
// captured in: " [in vxlan]".
func appendViaSummary(b []byte, c *dissect.Conn) []byte {
	if c.Tunnel != "" {
		b = append(b, " [in "...)
		b = appendEscaped(b, c.Tunnel, false, -1)
		b = appendTunnelID(b, c)
		b = append(b, ']')
	}
	if c.Proxy == nil {
		return b
	}
	b = append(b, " [proxy "...)
	for p := range c.Proxies() {
		if p != c.Proxy {
			b = append(b, " via "...)
		}
		b = append(b, proxyVerbOf(p)...)
		b = append(b, ' ')
		b = appendProxyTarget(b, p)
	}
	return append(b, ']')
}

// appendTunnelID appends " VNI 4097" (the encapsulation's identifier, as
// its kind names it), or nothing when it has none.
func appendTunnelID(b []byte, c *dissect.Conn) []byte {
	if !c.HasTunnelID || c.TunnelIDName == "" {
		return b
	}
	b = append(b, ' ')
	b = append(b, c.TunnelIDName...)
	b = append(b, ' ')
	return strconv.AppendUint(b, uint64(c.TunnelID), 10)
}

// appendProxyTarget appends a tunnel's target, or says that its CONNECT
// is not in the capture.
func appendProxyTarget(b []byte, p *dissect.ProxyTunnel) []byte {
	if p.Target == "" {
		return append(b, "(target not in the capture)"...)
	}
	return appendEscaped(b, p.Target, false, -1)
}

// proxyVerbOf names how a connection went through proxy p: CONNECT (an
// HTTP proxy), HTTPS CONNECT (a CONNECT sent to the proxy over TLS), or the
// SOCKS version.
func proxyVerbOf(p *dissect.ProxyTunnel) string {
	switch p.Protocol {
	case "", "HTTP":
		return "CONNECT"
	case "HTTPS":
		return "HTTPS CONNECT"
	default:
		return p.Protocol
	}
}

// appendViaTree appends the tree lines of how a connection reached the
// capture: the encapsulation it was captured in and the proxy it went
// through.
func appendViaTree(b []byte, c *dissect.Conn) []byte {
	if c.Tunnel != "" {
		b = append(b, "    Captured inside "...)
		b = appendEscaped(b, c.Tunnel, false, -1)
		b = append(b, " encapsulation"...)
		b = appendTunnelID(b, c)
		b = append(b, '\n')
	}
	// The tunnel the connection runs in, then those it runs through (a
	// CONNECT to a second proxy through the first).
	for p := range c.Proxies() {
		b = appendProxyTree(b, p, p != c.Proxy)
	}
	return b
}

// appendProxyTree appends the tree lines of proxy tunnel p; outer says it
// is one the connection's tunnel runs through.
func appendProxyTree(b []byte, p *dissect.ProxyTunnel, outer bool) []byte {
	b = append(b, "    "...)
	if outer {
		b = append(b, "Inside "...)
	} else {
		b = append(b, "Through "...)
	}
	switch v := proxyVerbOf(p); v {
	case "CONNECT":
		b = append(b, "an HTTP proxy tunnel: CONNECT "...)
	case "HTTPS CONNECT":
		b = append(b, "an HTTPS proxy tunnel (TLS to the proxy): CONNECT "...)
	default:
		b = append(b, "a "...)
		b = append(b, v...)
		b = append(b, " proxy: CONNECT "...)
	}
	b = appendProxyTarget(b, p)
	if p.H2Stream != 0 {
		b = append(b, " on HTTP/2 stream "...)
		b = strconv.AppendUint(b, uint64(p.H2Stream), 10)
	}
	b = append(b, '\n')
	switch {
	case p.Authorization != "":
		b = append(b, "        Proxy-Authorization: "...)
		b = appendEscaped(b, p.Authorization, false, -1)
		b = append(b, '\n')
	case p.User != "" || p.Password != "":
		b = append(b, "        User: "...)
		b = appendEscaped(b, p.User, false, -1)
		if p.Password != "" {
			b = append(b, ", password: "...)
			b = appendEscaped(b, p.Password, false, -1)
		}
		b = append(b, '\n')
	}
	return b
}

// appendStatus appends the response's status code and reason phrase.
func appendStatus(b []byte, c *dissect.Conn) []byte {
	b = strconv.AppendInt(b, int64(c.Status), 10)
	switch {
	case c.Reason != "":
		b = append(b, ' ')
		b = appendEscaped(b, c.Reason, false, -1)
	case c.Status == 101:
		b = append(b, " Switching Protocols"...)
	}
	return b
}

// appendJoined appends the escaped items joined by ", ".
func appendJoined(b []byte, items []string) []byte {
	for i, s := range items {
		if i > 0 {
			b = append(b, ',', ' ')
		}
		b = appendEscaped(b, s, false, -1)
	}
	return b
}

// appendFrameSummary appends the WebSocket part of a frame's summary line.
func (r *Renderer) appendFrameSummary(b []byte, f *dissect.Frame) []byte {
	b = append(b, "WebSocket "...)
	b = appendOpcodeTitle(b, f.Opcode, r.pal.bold)
	if f.Fin {
		b = append(b, " [FIN]"...)
	} else {
		b = append(b, " [FRAGMENT]"...)
	}
	if f.Masked {
		b = append(b, " [MASKED]"...)
	}
	b = appendMarks(b, f.Compressed, f.NotInflated, f.Incomplete, f.Truncated)
	b = append(b, " len="...)
	b = strconv.AppendUint(b, f.Len, 10)
	switch {
	case f.Opcode == dissect.OpClose && f.HasCloseCode:
		b = append(b, ' ')
		b = appendCloseSummary(b, f.CloseCode, f.CloseReason)
	case len(f.Payload) == 0:
	case f.IsText && f.Opcode != dissect.OpClose:
		b = append(b, ' ')
		b = appendTextPreview(b, f.Payload, previewTotal(len(f.Payload), f.Preview, f.Len))
	default:
		b = append(b, ' ')
		b = appendBinaryPreview(b, f.Payload, previewTotal(len(f.Payload), f.Preview, f.Len))
	}
	return b
}

// appendMessageSummary appends the WebSocket part of a message's summary
// line.
func (r *Renderer) appendMessageSummary(b []byte, m *dissect.Message) []byte {
	b = append(b, "WebSocket "...)
	b = appendOpcodeTitle(b, m.Opcode, r.pal.bold)
	b = append(b, " message frames="...)
	b = strconv.AppendInt(b, int64(m.Frames), 10)
	b = appendMarks(b, m.Compressed, m.NotInflated, m.Incomplete, m.Truncated)
	b = append(b, " len="...)
	b = strconv.AppendUint(b, m.Len, 10)
	switch {
	case m.Opcode == dissect.OpClose && m.HasCloseCode:
		b = append(b, ' ')
		b = appendCloseSummary(b, m.CloseCode, m.CloseReason)
	case len(m.Payload) == 0:
	case m.Opcode == dissect.OpText:
		b = append(b, ' ')
		b = appendTextPreview(b, m.Payload, previewTotal(len(m.Payload), m.Preview, m.Len))
	default:
		b = append(b, ' ')
		b = appendBinaryPreview(b, m.Payload, previewTotal(len(m.Payload), m.Preview, m.Len))
	}
	return b
}

// previewTotal is the length a summary line counts a payload of n retained
// bytes as: its whole length when the payload is a preview
// (dissect.Options.PreviewBytes).
func previewTotal(n int, preview bool, whole uint64) int {
	if preview {
		return int(min(whole, math.MaxInt32))
	}
	return n
}

// appendMarks appends the [COMPRESSED], [INCOMPLETE] and [TRUNCATED]
// markers that apply.
func appendMarks(b []byte, compressed, notInflated, incomplete, truncated bool) []byte {
	if compressed {
		b = append(b, " [COMPRESSED]"...)
		if notInflated {
			b = append(b, " [NOT INFLATED]"...)
		}
	}
	if incomplete {
		b = append(b, " [INCOMPLETE]"...)
	}
	if truncated {
		b = append(b, " [TRUNCATED]"...)
	}
	return b
}

// appendAnomalyMarks appends " [!] id, id…", each id in its severity's
// colour and the marker in the colour of the worst one.
func (r *Renderer) appendAnomalyMarks(b []byte, as []dissect.Anomaly) []byte {
	if len(as) == 0 {
		return b
	}
	worst := as[0].Severity
	for i := range as {
		worst = max(worst, as[i].Severity)
	}
	b = append(b, ' ')
	b = r.pal.severity(worst).wrap(b, "[!]")
	for i := range as {
		if i == 0 {
			b = append(b, ' ')
		} else {
			b = append(b, ',', ' ')
		}
		st := r.pal.severity(as[i].Severity)
		b = append(b, st.on...)
		b = appendEscaped(b, as[i].ID, false, -1)
		b = append(b, st.off...)
	}
	return b
}
