package dissect

import (
	"bytes"
	"strconv"
	"strings"
)

// httpHead is a parsed HTTP/1.x request or response header block.
type httpHead struct {
	// request line parts, or response parts
	method, target, version string
	status                  int
	reason                  string
	headers                 []Header
	raw                     string
}

// get returns the (joined) value of the lower-case header name.
func (h *httpHead) get(name string) (string, bool) {
	for i := range h.headers {
		if h.headers[i].Name == name {
			return h.headers[i].Value, true
		}
	}
	return "", false
}

// hasToken reports whether the comma-separated header value list of name
// contains token (case-insensitive).
func (h *httpHead) hasToken(name, token string) bool {
	v, ok := h.get(name)
	if !ok {
		return false
	}
	for item := range strings.SplitSeq(v, ",") {
		if t := strings.TrimSpace(item); t != "" && strings.EqualFold(t, token) {
			return true
		}
	}
	return false
}

// splitList splits a comma-separated header value into trimmed, non-empty items.
func splitList(v string) []string {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// headerEnd returns the index just past the blank line ending a header block
// in b, searching from from, or -1. Bare LF line ends are tolerated.
func headerEnd(b []byte, from int) int {
	if from < 0 {
		from = 0
	}
	for i := from; i < len(b); i++ {
		nl := bytes.IndexByte(b[i:], '\n')
		if nl < 0 {
			return -1
		}
		i += nl
		if i+1 < len(b) && b[i+1] == '\n' {
			return i + 2
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			return i + 3
		}
	}
	return -1
}

// looksLikeRequest reports whether b (the first bytes of a stream) can be the
// start of an HTTP request line: a method token and a space. ok is false when
// more bytes are needed to decide.
func looksLikeRequest(b []byte) (yes, decided bool) {
	for i, c := range b {
		if c == ' ' {
			return i > 0, true
		}
		if !(c >= 'A' && c <= 'Z') && c != '-' && c != '_' {
			return false, true
		}
		if i >= 20 {
			return false, true
		}
	}
	return false, false
}

// looksLikeResponse is looksLikeRequest for a status line ("HTTP/").
func looksLikeResponse(b []byte) (yes, decided bool) {
	const p = "HTTP/"
	n := min(len(b), len(p))
	if string(b[:n]) != p[:n] {
		return false, true
	}
	return n == len(p), n == len(p)
}

// parseHead parses a complete header block (including the blank line).
// request selects request-line or status-line parsing. The result keeps the
// block as it came (raw) and, in the same allocation, a copy in which the
// header names are lower-cased; all its strings point into that copy. So a
// head costs three allocations: the result, the two copies of the block and
// the header list (sized to the lines; connections keep their heads).
//
// It walks the lines with bytes.IndexByte and writes the text in one pass:
// on captures of many short connections, parsing handshakes is a large part
// of the work.
func parseHead(raw []byte, request bool) (*httpHead, bool) {
	body := bytes.TrimRight(raw, "\r\n")
	var sb strings.Builder
	sb.Grow(len(raw) + len(body))
	sb.Write(raw)
	writeLowerNames(&sb, body)
	both := sb.String()
	h := &httpHead{raw: both[:len(raw)]}
	text := both[len(raw):]
	first, rest, more := strings.Cut(text, "\n")
	first = strings.TrimRight(first, "\r")
	p0, p12, ok := strings.Cut(first, " ")
	p1, p2, three := strings.Cut(p12, " ")
	if request {
		if !ok || !three || !strings.HasPrefix(p2, "HTTP/") {
			return nil, false
		}
		h.method, h.target, h.version = p0, p1, p2
	} else {
		if !ok || !strings.HasPrefix(p0, "HTTP/") {
			return nil, false
		}
		code, err := strconv.Atoi(p1)
		if err != nil || code < 100 || code > 999 {
			return nil, false
		}
		h.version, h.status = p0, code
		if three {
			h.reason = p2
		}
	}
	if !more {
		return h, true
	}
	h.headers = make([]Header, 0, strings.Count(rest, "\n")+1)
	for len(rest) > 0 {
		line := rest
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			line, rest = rest[:nl], rest[nl+1:]
		} else {
			rest = ""
		}
		for len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(h.headers) > 0 {
			// obsolete line folding: continue the previous value
			last := &h.headers[len(h.headers)-1]
			last.Value += " " + strings.TrimSpace(line)
			continue
		}
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		// Names are lower-cased ASCII already; ToLower only allocates for
		// the rest (non-ASCII bytes, a folded line without a previous
		// header).
		name := strings.ToLower(strings.TrimSpace(line[:colon]))
		value := strings.TrimSpace(line[colon+1:])
		if name == "" {
			continue
		}
		merged := false
		for i := range h.headers {
			if h.headers[i].Name == name {
				h.headers[i].Value += ", " + value
				merged = true
				break
			}
		}
		if !merged {
			h.headers = append(h.headers, Header{Name: name, Value: value})
		}
	}
	return h, true
}

// writeLowerNames writes b to sb with the ASCII letters before the first
// colon of every line but the first (the header names) lower-cased. Lines
// that start with a space or tab (folded continuations) are left alone.
func writeLowerNames(sb *strings.Builder, b []byte) {
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		sb.Write(b)
		return
	}
	sb.Write(b[:nl+1])
	for rest := b[nl+1:]; len(rest) > 0; {
		line := rest
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			line, rest = rest[:nl+1], rest[nl+1:]
		} else {
			rest = nil
		}
		if c := line[0]; c == ' ' || c == '\t' {
			sb.Write(line)
			continue
		}
		name := line
		if colon := bytes.IndexByte(line, ':'); colon >= 0 {
			name = line[:colon]
		}
		writeLowerASCII(sb, name)
		sb.Write(line[len(name):])
	}
}

// writeLowerASCII writes b to sb with ASCII upper-case letters lowered.
func writeLowerASCII(sb *strings.Builder, b []byte) {
	var tmp [64]byte
	for len(b) > 0 {
		n := copy(tmp[:], b)
		for i, c := range tmp[:n] {
			if 'A' <= c && c <= 'Z' {
				tmp[i] = c + 'a' - 'A'
			}
		}
		sb.Write(tmp[:n])
		b = b[n:]
	}
}

// bodyKind says how an HTTP message body is delimited.
type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyLength
	bodyChunked
	bodyUntilClose
)

// requestBody returns how the body of request h is delimited.
func requestBody(h *httpHead) (bodyKind, int64) {
	if te, ok := h.get("transfer-encoding"); ok && strings.Contains(strings.ToLower(te), "chunked") {
		return bodyChunked, 0
	}
	if cl, ok := h.get("content-length"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(strings.Split(cl, ",")[0]), 10, 64)
		if err == nil && n > 0 {
			return bodyLength, n
		}
	}
	return bodyNone, 0
}

// responseBody returns how the body of response h to a request with method
// is delimited (RFC 9112 section 6.3).
func responseBody(h *httpHead, method string) (bodyKind, int64) {
	if method == "HEAD" || h.status < 200 || h.status == 204 || h.status == 304 {
		return bodyNone, 0
	}
	if method == "CONNECT" && h.status/100 == 2 {
		return bodyUntilClose, 0
	}
	if te, ok := h.get("transfer-encoding"); ok {
		if strings.Contains(strings.ToLower(te), "chunked") {
			return bodyChunked, 0
		}
		return bodyUntilClose, 0
	}
	if cl, ok := h.get("content-length"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(strings.Split(cl, ",")[0]), 10, 64)
		if err == nil {
			if n == 0 {
				return bodyNone, 0
			}
			return bodyLength, n
		}
	}
	return bodyUntilClose, 0
}

// chunkSkipper consumes a chunked body incrementally.
type chunkSkipper struct {
	state   uint8 // 0 size line, 1 data, 2 CRLF after data, 3 trailers
	line    []byte
	left    int64
	done    bool
	invalid bool
}

// consume eats bytes of the chunked body from b and returns how many it used.
func (c *chunkSkipper) consume(b []byte) int {
	used := 0
	for used < len(b) && !c.done && !c.invalid {
		switch c.state {
		case 0, 3:
			i := bytes.IndexByte(b[used:], '\n')
			if i < 0 {
				c.line = append(c.line, b[used:]...)
				if len(c.line) > 4096 {
					c.invalid = true
				}
				return len(b)
			}
			c.line = append(c.line, b[used:used+i]...)
			used += i + 1
			line := strings.TrimSpace(string(c.line))
			c.line = c.line[:0]
			if c.state == 3 {
				if line == "" {
					c.done = true
				}
				continue
			}
			if semi := strings.IndexByte(line, ';'); semi >= 0 {
				line = strings.TrimSpace(line[:semi])
			}
			n, err := strconv.ParseInt(line, 16, 64)
			if err != nil || n < 0 {
				c.invalid = true
				return used
			}
			if n == 0 {
				c.state = 3
			} else {
				c.left, c.state = n, 1
			}
		case 1:
			k := int64(len(b) - used)
			if k > c.left {
				k = c.left
			}
			used += int(k)
			c.left -= k
			if c.left == 0 {
				c.state = 2
			}
		case 2:
			i := bytes.IndexByte(b[used:], '\n')
			if i < 0 {
				return len(b)
			}
			used += i + 1
			c.state = 0
		}
	}
	return used
}
