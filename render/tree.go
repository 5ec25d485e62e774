package render

import (
	"strconv"
	"strings"

	"github.com/wsdissect/wsdissect/dissect"
)

// Indentation of the tree's levels.
const (
	indent1 = "    "
	indent2 = "        "
)

// appendTree appends the Wireshark-like tree of rec. The caller adds the
// blank line that separates records.
func (r *Renderer) appendTree(b []byte, rec *dissect.Record) []byte {
	c := r.connOf(rec)
	switch rec.Kind {
	case dissect.KindConn:
		b = r.appendConnTree(b, c)
	case dissect.KindFrame:
		b = r.appendFrameTree(b, rec, c)
	case dissect.KindMessage:
		b = r.appendMessageTree(b, rec, c)
	case dissect.KindHTTP:
		b = r.appendHTTPTree(b, rec, c)
	case dissect.KindAnomaly:
		b = append(b, "Anomaly, stream "...)
		b = strconv.AppendUint(b, c.Stream, 10)
		b = append(b, ':', ' ')
		b = r.appendEndpoints(b, c, rec.Dir, rec.HasDir, true)
		if rec.HasDir {
			b = append(b, " ("...)
			b = append(b, rec.Dir.String()...)
			b = append(b, ')')
		}
		b = append(b, ',', ' ')
		b = appendRelTime(b, r.since(rec.Time))
		b = append(b, " s, packet "...)
		b = strconv.AppendUint(b, rec.Packet, 10)
		b = append(b, '\n')
	}
	if len(rec.Layers) > 0 {
		b = appendLayerTrees(b, rec.Layers) // its closure allocates: only when needed
	}
	return r.appendExpertLines(b, rec.Anomalies)
}

// appendLayerTrees appends the tree of each decoded layer: its name as a
// heading, then its lines indented by depth.
func appendLayerTrees(b []byte, ls []dissect.Layer) []byte {
	for _, l := range ls {
		b = append(b, indent1...)
		b = appendEscaped(b, l.LayerName(), false, -1)
		b = append(b, '\n')
		l.TreeLines(func(depth int, text string) {
			b = append(b, indent2...)
			for range depth {
				b = append(b, indent1...)
			}
			b = appendEscaped(b, text, false, -1)
			b = append(b, '\n')
		})
	}
	return b
}

// appendExpertLines appends one Wireshark-style expert line per anomaly,
// coloured by severity.
func (r *Renderer) appendExpertLines(b []byte, as []dissect.Anomaly) []byte {
	for i := range as {
		a := &as[i]
		st := r.pal.severity(a.Severity)
		b = append(b, indent1...)
		b = append(b, st.on...)
		b = append(b, "[Expert Info ("...)
		b = append(b, severityTitle(a.Severity)...)
		b = append(b, "/Protocol): "...)
		b = appendEscaped(b, a.Msg, false, -1)
		b = append(b, " ("...)
		b = appendEscaped(b, a.ID, false, -1)
		b = append(b, ")]"...)
		b = append(b, st.off...)
		b = append(b, '\n')
	}
	return b
}

// appendConnTree appends the handshake of a connection: both raw header
// blocks and what was negotiated.
func (r *Renderer) appendConnTree(b []byte, c *dissect.Conn) []byte {
	switch {
	case c.TLS == nil:
		return r.appendHandshakeTree(b, c)
	case c.TLSListing():
		b = append(b, "Stream "...)
		b = strconv.AppendUint(b, c.Stream, 10)
		b = append(b, ": TLS connection "...)
		b = r.appendEndpoints(b, c, dissect.ClientToServer, true, false)
		b = appendViaTree(append(b, " (not dissected)\n"...), c)
		return appendTLSTree(b, c.TLS)
	}
	return appendTLSTree(r.appendHandshakeTree(b, c), c.TLS)
}

// appendHandshakeTree appends the WebSocket handshake part of a
// connection's tree.
func (r *Renderer) appendHandshakeTree(b []byte, c *dissect.Conn) []byte {
	b = append(b, "Stream "...)
	b = strconv.AppendUint(b, c.Stream, 10)
	if c.Midstream {
		b = append(b, ": WebSocket connection "...)
		b = r.appendEndpoints(b, c, dissect.ClientToServer, true, false)
		return appendViaTree(append(b, " picked up mid-stream (no handshake seen)\n"...), c)
	}
	b = append(b, ": WebSocket handshake "...)
	b = r.appendEndpoints(b, c, dissect.ClientToServer, true, false)
	b = appendViaTree(append(b, '\n'), c)
	if c.HTTP2 && len(c.Request) > 0 {
		b = append(b, "HyperText Transfer Protocol 2 (extended CONNECT, stream "...)
		b = strconv.AppendUint(b, uint64(c.H2Stream), 10)
		b = append(b, ", packet "...)
		b = strconv.AppendUint(b, c.RequestPacket, 10)
		b = append(b, ")\n"...)
		b = appendH2Lines(b, c.Request)
	} else if len(c.Request) > 0 {
		b = append(b, "Hypertext Transfer Protocol (request, packet "...)
		b = strconv.AppendUint(b, c.RequestPacket, 10)
		b = append(b, ")\n"...)
		b = appendHTTPLines(b, c.Request)
	}
	if c.HTTP2 && len(c.Response) > 0 {
		b = append(b, "HyperText Transfer Protocol 2 (response, stream "...)
		b = strconv.AppendUint(b, uint64(c.H2Stream), 10)
		b = append(b, ", packet "...)
		b = strconv.AppendUint(b, c.ResponsePacket, 10)
		b = append(b, ")\n"...)
		b = appendH2Lines(b, c.Response)
	} else if len(c.Response) > 0 {
		b = append(b, "Hypertext Transfer Protocol (response, packet "...)
		b = strconv.AppendUint(b, c.ResponsePacket, 10)
		b = append(b, ")\n"...)
		b = appendHTTPLines(b, c.Response)
	}
	switch {
	case c.Status == 0:
		return append(b, "[No response]\n"...)
	case !c.Upgraded():
		b = append(b, "[Upgrade rejected: "...)
		b = appendStatus(b, c)
		return append(b, "]\n"...)
	}
	if c.HTTP2 {
		b = append(b, "[WebSocket over HTTP/2 (RFC 8441), stream "...)
		b = strconv.AppendUint(b, uint64(c.H2Stream), 10)
		b = append(b, "]\n"...)
	} else if c.AcceptValid {
		b = append(b, "[Sec-WebSocket-Accept: valid]\n"...)
	} else {
		b = append(b, "[Sec-WebSocket-Accept: INVALID]\n"...)
	}
	if c.Subprotocol != "" {
		b = append(b, "[Subprotocol: "...)
		b = appendEscaped(b, c.Subprotocol, false, -1)
		b = append(b, "]\n"...)
	}
	if len(c.Extensions) > 0 {
		b = append(b, "[Extensions: "...)
		b = appendJoined(b, c.Extensions)
		b = append(b, "]\n"...)
	}
	if d := c.Deflate; d != nil {
		b = append(b, '[')
		if d.Name != "" {
			b = appendEscaped(b, d.Name, false, -1)
		} else {
			b = append(b, "permessage-deflate"...)
		}
		b = append(b, ": client_max_window_bits="...)
		b = strconv.AppendInt(b, int64(d.ClientMaxWindowBits), 10)
		b = append(b, ", server_max_window_bits="...)
		b = strconv.AppendInt(b, int64(d.ServerMaxWindowBits), 10)
		if d.ClientNoContextTakeover {
			b = append(b, ", client_no_context_takeover"...)
		}
		if d.ServerNoContextTakeover {
			b = append(b, ", server_no_context_takeover"...)
		}
		b = append(b, "]\n"...)
	}
	return b
}

// appendHTTPLines appends each line of a raw header block indented, with
// its line ending written out as Wireshark does ("\r\n").
func appendHTTPLines(b []byte, block string) []byte {
	for len(block) > 0 {
		line, rest := block, ""
		if i := strings.IndexByte(block, '\n'); i >= 0 {
			line, rest = block[:i+1], block[i+1:]
		}
		block = rest
		b = append(b, indent1...)
		b = appendEscaped(b, line, false, -1)
		b = append(b, '\n')
	}
	return b
}

// appendH2Lines appends the "name: value" lines of a decoded HTTP/2 header
// block, one per field, indented and escaped.
func appendH2Lines(b []byte, block string) []byte {
	for line := range strings.Lines(block) {
		b = append(b, indent1...)
		b = appendEscaped(b, strings.TrimSuffix(line, "\n"), false, -1)
		b = append(b, '\n')
	}
	return b
}

// appendFrameTree appends a frame's header fields and payload.
func (r *Renderer) appendFrameTree(b []byte, rec *dissect.Record, c *dissect.Conn) []byte {
	f := rec.Frame
	// Packet N, WebSocket frame K: the K-th frame record completed by
	// packet N (several frames often end in one packet).
	if rec.Packet != r.treePacket {
		r.treePacket, r.treeFrame = rec.Packet, 0
	}
	r.treeFrame++
	b = append(b, "Packet "...)
	b = strconv.AppendUint(b, rec.Packet, 10)
	b = append(b, ", WebSocket frame "...)
	b = strconv.AppendUint(b, r.treeFrame, 10)
	b = append(b, ", stream "...)
	b = strconv.AppendUint(b, c.Stream, 10)
	b = append(b, ':', ' ')
	b = r.appendEndpoints(b, c, f.Dir, true, true)
	b = append(b, " ("...)
	b = append(b, f.Dir.String()...)
	b = append(b, "), "...)
	b = appendRelTime(b, r.since(rec.Time))
	b = append(b, " s, "...)
	b = appendPacketList(b, f.Packets, rec.Packet)
	b = append(b, "\nWebSocket\n"...)

	b = append(b, indent1...)
	b = appendBit(b, f.Fin, 0)
	b = append(b, " = Fin: "...)
	b = appendTitleBool(b, f.Fin)

	rsv := 0
	b = append(b, '\n')
	b = append(b, indent1...)
	b = append(b, '.')
	for _, bit := range [3]bool{f.RSV1, f.RSV2, f.RSV3} {
		rsv <<= 1
		if bit {
			rsv |= 1
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
	}
	b = append(b, " .... = Reserved: 0x"...)
	b = append(b, hexDigits[rsv])
	b = append(b, '\n')
	if f.RSV1 {
		b = append(b, indent1...)
		b = append(b, ".1.. .... = Per-Message Compressed: True\n"...)
	}

	b = append(b, indent1...)
	b = append(b, ".... "...)
	b = appendBits(b, f.Opcode, 4)
	b = append(b, " = Opcode: "...)
	b = r.pal.bold.wrap(b, opcodeTreeName(f.Opcode))
	b = append(b, " ("...)
	b = strconv.AppendUint(b, uint64(f.Opcode&0xf), 10)
	b = append(b, ")\n"...)

	b = append(b, indent1...)
	b = appendBit(b, f.Masked, 0)
	b = append(b, " = Mask: "...)
	b = appendTitleBool(b, f.Masked)
	b = append(b, '\n')

	b = append(b, indent1...)
	b = append(b, '.')
	b = appendBits(b, f.LenCode>>4, 3)
	b = append(b, ' ')
	b = appendBits(b, f.LenCode, 4)
	b = append(b, " = Payload length: "...)
	b = strconv.AppendUint(b, uint64(f.LenCode&0x7f), 10)
	b = append(b, '\n')
	switch f.LenCode & 0x7f {
	case 126:
		b = append(b, indent1...)
		b = append(b, "Extended Payload length (16 bits): "...)
		b = strconv.AppendUint(b, f.Len, 10)
		b = append(b, '\n')
	case 127:
		b = append(b, indent1...)
		b = append(b, "Extended Payload length (64 bits): "...)
		b = strconv.AppendUint(b, f.Len, 10)
		b = append(b, '\n')
	}
	if f.Masked {
		b = append(b, indent1...)
		b = append(b, "Masking-Key: "...)
		b = appendHex(b, f.MaskKey[:])
		b = append(b, '\n')
	}

	note := "[Compressed: inflated from the message]\n"
	if f.NotInflated {
		note = notInflatedNote
	}
	b, more := appendPayloadMarkers(b, len(f.Payload), f.Truncated, f.Preview, f.Incomplete, f.Compressed, note)
	if !more {
		return r.appendReassembledTree(b, f.Reassembled)
	}
	switch {
	case f.Opcode == dissect.OpClose && f.HasCloseCode:
		b = appendCloseTree(b, f.CloseCode, f.CloseReason)
	case f.IsText && f.Opcode != dissect.OpClose:
		b = r.appendTextTree(b, f.Payload)
	default:
		b = r.appendHexDump(b, f.Payload, indent2)
	}
	return r.appendReassembledTree(b, f.Reassembled)
}

// appendReassembledTree appends the "Reassembled message" part of a
// message's last frame.
func (r *Renderer) appendReassembledTree(b []byte, m *dissect.Message) []byte {
	if m == nil {
		return b
	}
	b = append(b, indent1...)
	b = append(b, "[Reassembled message: "...)
	b = strconv.AppendInt(b, int64(m.Frames), 10)
	b = append(b, " frames, first packet "...)
	b = strconv.AppendUint(b, m.FirstPacket, 10)
	b = append(b, ", "...)
	b = strconv.AppendUint(b, m.Len, 10)
	b = append(b, " bytes]\n"...)
	if m.Truncated {
		b = appendTruncated(b, len(m.Payload))
	}
	if m.Preview {
		b = appendPreview(b, len(m.Payload))
	}
	if m.Opcode == dissect.OpText {
		return r.appendTextTree(b, m.Payload)
	}
	return r.appendHexDump(b, m.Payload, indent2)
}

// appendMessageTree appends a message's heading and payload.
func (r *Renderer) appendMessageTree(b []byte, rec *dissect.Record, c *dissect.Conn) []byte {
	m := rec.Message
	b = append(b, "Message "...)
	b = strconv.AppendUint(b, m.Index, 10)
	b = append(b, " ("...)
	b = r.pal.dir(m.Dir).wrap(b, m.Dir.String())
	b = append(b, "), stream "...)
	b = strconv.AppendUint(b, c.Stream, 10)
	if m.FirstPacket != 0 && m.FirstPacket != rec.Packet {
		b = append(b, ", packets "...)
		b = strconv.AppendUint(b, m.FirstPacket, 10)
		b = append(b, '-')
	} else {
		b = append(b, ", packet "...)
	}
	b = strconv.AppendUint(b, rec.Packet, 10)
	b = append(b, ", frames="...)
	b = strconv.AppendInt(b, int64(m.Frames), 10)
	b = append(b, ", len="...)
	b = strconv.AppendUint(b, m.Len, 10)
	b = append(b, '\n')

	b = append(b, indent1...)
	b = append(b, "Opcode: "...)
	b = r.pal.bold.wrap(b, opcodeTreeName(m.Opcode))
	b = append(b, " ("...)
	b = strconv.AppendUint(b, uint64(m.Opcode&0xf), 10)
	b = append(b, ")\n"...)

	note := "[Compressed: inflated]\n"
	if m.NotInflated {
		note = notInflatedNote
	}
	b, more := appendPayloadMarkers(b, len(m.Payload), m.Truncated, m.Preview, m.Incomplete, m.Compressed, note)
	if !more {
		return b
	}
	switch {
	case m.Opcode == dissect.OpClose && m.HasCloseCode:
		b = appendCloseTree(b, m.CloseCode, m.CloseReason)
	case m.Opcode == dissect.OpText:
		b = r.appendTextTree(b, m.Payload)
	default:
		b = r.appendHexDump(b, m.Payload, indent2)
	}
	return b
}

// appendPayloadHeading appends "Payload (N bytes)".
func appendPayloadHeading(b []byte, n int) []byte {
	b = append(b, indent1...)
	b = append(b, "Payload ("...)
	b = strconv.AppendInt(b, int64(n), 10)
	if n == 1 {
		return append(b, " byte)\n"...)
	}
	return append(b, " bytes)\n"...)
}

// appendTruncated appends the "[Truncated at N bytes]" line.
func appendTruncated(b []byte, n int) []byte {
	b = append(b, indent2...)
	b = append(b, "[Truncated at "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, " bytes]\n"...)
}

// appendPreview appends the "[Preview: first N bytes kept]" line of a
// payload kept only in part (dissect.Options.PreviewBytes).
func appendPreview(b []byte, n int) []byte {
	b = append(b, indent2...)
	b = append(b, "[Preview: first "...)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, " bytes kept]\n"...)
}

// appendTextTree appends a text payload on one escaped line.
func (r *Renderer) appendTextTree(b, p []byte) []byte {
	if len(p) == 0 {
		return b
	}
	b = append(b, indent2...)
	b = append(b, "Text: "...)
	if len(p) < r.big {
		b = appendEscaped(b, p, false, -1)
	} else {
		b = r.pieces(b, p, len(p)+len(p)/8, r.runeCut, func(b, q []byte, _ int) []byte {
			return appendEscaped(b, q, false, -1)
		})
	}
	return append(b, '\n')
}

// appendCloseTree appends a close payload's status code and reason.
func appendCloseTree(b []byte, code uint16, reason string) []byte {
	b = append(b, indent2...)
	b = append(b, "Close: "...)
	b = append(b, dissect.CloseCodeName(code)...)
	b = append(b, " ("...)
	b = strconv.AppendUint(b, uint64(code), 10)
	b = append(b, ")\n"...)
	if reason != "" {
		b = append(b, indent2...)
		b = append(b, "Reason: "...)
		b = appendEscaped(b, reason, false, -1)
		b = append(b, '\n')
	}
	return b
}

// appendBit appends a one-bit field at position pos (0 is the most
// significant) of an 8-bit mask diagram, like "1... ....".
func appendBit(b []byte, v bool, pos int) []byte {
	for i := range 8 {
		if i == 4 {
			b = append(b, ' ')
		}
		switch {
		case i != pos:
			b = append(b, '.')
		case v:
			b = append(b, '1')
		default:
			b = append(b, '0')
		}
	}
	return b
}

// appendBits appends the low n bits of v as binary digits, most significant
// first.
func appendBits(b []byte, v uint8, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, '0'+v>>uint(i)&1)
	}
	return b
}

// notInflatedNote marks a compressed payload shown as sent.
const notInflatedNote = "[Compressed: NOT inflated, compressed bytes shown as sent]\n"

// appendPayloadMarkers writes the payload heading of a frame or message and
// its truncated, preview, compressed and incomplete markers. more is false
// when there is nothing to show (an empty payload with no marker).
func appendPayloadMarkers(b []byte, n int, truncated, preview, incomplete, compressed bool, compressedNote string) (out []byte, more bool) {
	if n == 0 && !truncated && !preview && !incomplete && !compressed {
		return b, false
	}
	b = appendPayloadHeading(b, n)
	if truncated {
		b = appendTruncated(b, n)
	}
	if preview {
		b = appendPreview(b, n)
	}
	if compressed {
		b = append(b, indent2...)
		b = append(b, compressedNote...)
	}
	if incomplete {
		b = append(b, indent2...)
		b = append(b, "[Incomplete: bytes missing from capture]\n"...)
	}
	return b, true
}
