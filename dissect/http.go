package dissect

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// httpHead is a parsed HTTP/1.x request or response header block.
type httpHead struct {
	// request line parts, or response parts
	method, target, version string
	status                  int
	reason                  string
	headers                 []Header
	raw                     string
	// names has nameBit(n) set for the name n of each header, so that
	// looking up or merging a header that is not there, the usual case,
	// skips the comparisons.
	names uint64
}

// nameBit returns the bit of header name n (not empty) in httpHead.names.
func nameBit(n string) uint64 {
	return 1 << ((uint(len(n))*5 + uint(n[0]) + uint(n[len(n)-1])) & 63)
}

// get returns the (joined) value of the lower-case header name.
func (h *httpHead) get(name string) (string, bool) {
	if name == "" || h.names&nameBit(name) == 0 {
		return "", false
	}
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
// the header list (sized to the header lines; connections keep their heads).
//
// On captures of many short connections parsing handshakes is a large part
// of the work, so it makes one pass over the lines (bytes.IndexByte finds
// their ends), lower-cases names in place and trims with ASCII loops; the
// Unicode-aware strings functions run only on the rare non-ASCII name or
// edge. parseHeadSimple in the tests is the plain version it must agree with.
func parseHead(raw []byte, request bool) (*httpHead, bool) {
	body := bytes.TrimRight(raw, "\r\n")
	if len(body) == 0 {
		return nil, false // no request or status line
	}
	buf := make([]byte, len(raw)+len(body))
	copy(buf, raw)
	low := buf[len(raw):]
	copy(low, body)

	// Find the header lines and lower-case their names in place; nothing
	// reads buf before this is done.
	var stack [32]lineSpan
	lines := stack[:0]
	nl := bytes.IndexByte(low, '\n')
	firstEnd := len(low)
	if nl >= 0 {
		firstEnd = nl
		for i := nl + 1; i < len(low); {
			start, end := i, len(low)
			if n := bytes.IndexByte(low[i:], '\n'); n >= 0 {
				end = i + n
			}
			i = end + 1
			for end > start && low[end-1] == '\r' {
				end--
			}
			if end == start {
				continue
			}
			if c := low[start]; c == ' ' || c == '\t' {
				lines = append(lines, lineSpan{start: start, colon: -1, end: end})
				continue
			}
			colon := bytes.IndexByte(low[start:end], ':')
			if colon < 0 {
				continue // not a header; folds after it continue the header before
			}
			ascii := lowerASCII(low[start : start+colon])
			lines = append(lines, lineSpan{start: start, colon: start + colon, end: end, ascii: ascii})
		}
	}
	// buf is not written from here on: share it as a string.
	both := unsafe.String(unsafe.SliceData(buf), len(buf))
	h := &httpHead{raw: both[:len(raw)]}
	text := both[len(raw):]
	if !parseFirstLine(h, text[:firstEnd], request) {
		return nil, false
	}
	if nl < 0 {
		return h, true
	}
	h.headers = make([]Header, 0, len(lines))
	for _, l := range lines {
		line := text[l.start:l.end]
		var name string
		switch {
		case l.colon >= 0:
			name = trimSpace(text[l.start:l.colon])
			if !l.ascii {
				name = strings.ToLower(name)
			}
		case len(h.headers) > 0:
			// obsolete line folding: continue the previous value
			last := &h.headers[len(h.headers)-1]
			last.Value += " " + trimSpace(line)
			continue
		default:
			// A folded line with no header before it counts as a header
			// line of its own; its name was not lower-cased above.
			colon := strings.IndexByte(line, ':')
			if colon < 0 {
				continue
			}
			name = strings.ToLower(trimSpace(line[:colon]))
			l.colon = l.start + colon
		}
		if name == "" {
			continue
		}
		value := trimSpace(text[l.colon+1 : l.end])
		if bit := nameBit(name); h.names&bit == 0 {
			h.names |= bit
			h.headers = append(h.headers, Header{Name: name, Value: value})
		} else if i := h.index(name); i >= 0 {
			h.headers[i].Value += ", " + value
		} else {
			h.headers = append(h.headers, Header{Name: name, Value: value})
		}
	}
	return h, true
}

// index returns the index of the header called name, or -1.
func (h *httpHead) index(name string) int {
	for i := range h.headers {
		if h.headers[i].Name == name {
			return i
		}
	}
	return -1
}

// lineSpan locates one header line in the text of a head: [start, end)
// without its line end, colon the index of its first colon (or -1 for a
// line that starts with a space or tab); ascii tells whether the name
// before the colon is ASCII.
type lineSpan struct {
	start, colon, end int
	ascii             bool
}

// parseFirstLine fills h from the request or status line first, which may
// end in carriage returns; it reports whether the line is one.
func parseFirstLine(h *httpHead, first string, request bool) bool {
	first = strings.TrimRight(first, "\r")
	p0, p12, ok := strings.Cut(first, " ")
	p1, p2, three := strings.Cut(p12, " ")
	if request {
		if !ok || !three || !strings.HasPrefix(p2, "HTTP/") {
			return false
		}
		h.method, h.target, h.version = p0, p1, p2
		return true
	}
	if !ok || !strings.HasPrefix(p0, "HTTP/") {
		return false
	}
	code, err := strconv.Atoi(p1)
	if err != nil || code < 100 || code > 999 {
		return false
	}
	h.version, h.status = p0, code
	if three {
		h.reason = p2
	}
	return true
}

// asciiSpaces has bit c set for each ASCII byte c that unicode.IsSpace
// accepts.
const asciiSpaces = 1<<'\t' | 1<<'\n' | 1<<'\v' | 1<<'\f' | 1<<'\r' | 1<<' '

// isASCIISpace reports whether c is ASCII white space.
func isASCIISpace(c byte) bool { return c < 64 && asciiSpaces>>c&1 != 0 }

// trimSpace is strings.TrimSpace, quicker for the ASCII ends of header
// names and values.
func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isASCIISpace(s[i]) {
		i++
	}
	for j > i && isASCIISpace(s[j-1]) {
		j--
	}
	s = s[i:j]
	if s != "" && (s[0] >= utf8.RuneSelf || s[len(s)-1] >= utf8.RuneSelf) {
		return strings.TrimSpace(s) // Unicode spaces are multi-byte
	}
	return s
}

// lowerASCII lower-cases the ASCII letters of b in place, eight bytes at a
// time, and reports whether b is all ASCII.
func lowerASCII(b []byte) bool {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	var seen uint64 // the high bits of all bytes
	for len(b) >= 8 {
		w := binary.LittleEndian.Uint64(b)
		seen |= w
		// A byte's high bit in ge is set when its low seven bits are >= 'A',
		// in gt when they are > 'Z' (no carries: each sum stays below 0x100).
		low7 := w &^ high
		ge := low7 + (0x80-'A')*ones
		gt := low7 + (0x80-'Z'-1)*ones
		upper := ge &^ gt &^ w & high // 'A'..'Z', and not a non-ASCII byte
		binary.LittleEndian.PutUint64(b, w|upper>>2)
		b = b[8:]
	}
	for i, c := range b {
		seen |= uint64(c)
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return seen&high == 0
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
	keep    bool   // append the chunks' data to data
	data    []byte // the data consume kept, for the caller to take
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
			if c.keep {
				c.data = append(c.data, b[used:used+int(k)]...)
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
