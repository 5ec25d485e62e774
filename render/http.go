package render

import (
	"strconv"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/dissect"
)

// appendHTTPSummary appends a plain HTTP exchange's summary:
// `HTTP POST /socket.io/?EIO=4&transport=polling&sid=x → 200 (request 12 bytes, response 2 bytes)`.
func appendHTTPSummary(b []byte, x *dissect.HTTPExchange) []byte {
	b = append(b, "HTTP "...)
	b = appendEscaped(b, x.Method, false, -1)
	b = append(b, ' ')
	b = appendEscaped(b, x.Target, false, -1)
	b = append(b, " → "...)
	b = strconv.AppendInt(b, int64(x.Status), 10)
	b = append(b, " (request "...)
	b = appendBodySize(b, x.RequestBody, x.RequestTruncated)
	b = append(b, ", response "...)
	b = appendBodySize(b, x.ResponseBody, x.ResponseTruncated)
	return append(b, ')')
}

// appendBodySize appends "12 bytes", "256 KiB kept of more" when cut.
func appendBodySize(b, body []byte, cut bool) []byte {
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, " bytes"...)
	if cut {
		b = append(b, " (cut)"...)
	}
	return b
}

// appendHTTPTree appends a plain HTTP exchange: both header blocks and
// bodies.
func (r *Renderer) appendHTTPTree(b []byte, rec *dissect.Record, c *dissect.Conn) []byte {
	x := rec.HTTP
	b = append(b, "Stream "...)
	b = strconv.AppendUint(b, c.Stream, 10)
	b = append(b, ": HTTP exchange "...)
	b = r.appendEndpoints(b, c, dissect.ClientToServer, true, false)
	b = append(b, "\nHypertext Transfer Protocol (request, packet "...)
	b = strconv.AppendUint(b, x.RequestPacket, 10)
	b = append(b, ")\n"...)
	b = appendHTTPLines(b, x.Request)
	b = appendBodyTree(b, x.RequestBody, x.RequestTruncated)
	b = append(b, "Hypertext Transfer Protocol (response, packet "...)
	b = strconv.AppendUint(b, rec.Packet, 10)
	b = append(b, ")\n"...)
	b = appendHTTPLines(b, x.Response)
	return appendBodyTree(b, x.ResponseBody, x.ResponseTruncated)
}

// appendBodyTree appends a body line: its text, escaped, or its size.
func appendBodyTree(b, body []byte, cut bool) []byte {
	if len(body) == 0 && !cut {
		return b
	}
	b = append(b, indent1...)
	b = append(b, "Body ("...)
	b = appendBodySize(b, body, cut)
	b = append(b, ')')
	if utf8.Valid(body) {
		b = append(b, ": "...)
		b = appendEscaped(b, body, false, 1000)
	}
	return append(b, '\n')
}

// appendHTTPJSON appends a plain HTTP exchange's keys.
func appendHTTPJSON(b []byte, x *dissect.HTTPExchange) []byte {
	b = appendKey(b, "method")
	b = appendJSONString(b, x.Method)
	b = appendKey(b, "target")
	b = appendJSONString(b, x.Target)
	b = appendOptString(b, "host", x.Host)
	b = appendKey(b, "status")
	b = strconv.AppendInt(b, int64(x.Status), 10)
	b = appendKey(b, "request_packet")
	b = strconv.AppendUint(b, x.RequestPacket, 10)
	b = appendBodyJSON(b, "request_body", x.RequestBody)
	b = appendTrue(b, "request_truncated", x.RequestTruncated)
	b = appendBodyJSON(b, "response_body", x.ResponseBody)
	return appendTrue(b, "response_truncated", x.ResponseTruncated)
}

// appendBodyJSON appends a body as key (UTF-8 text) or key_b64, when not
// empty.
func appendBodyJSON(b []byte, key string, body []byte) []byte {
	if len(body) == 0 {
		return b
	}
	if utf8.Valid(body) {
		b = appendKey(b, key)
		b = append(b, '"')
		b = appendValidJSONChars(b, body)
		return append(b, '"')
	}
	b = appendKey(b, key+"_b64")
	b = append(b, '"')
	b = appendBase64(b, body)
	return append(b, '"')
}
