// Package http1 parses HTTP/1.1 message heads (request and status lines,
// header fields) found in a byte stream and says how their bodies are
// delimited, without allocating beyond the head it returns: the layer
// through which an HTTP/1.1 Upgrade opens a WebSocket session.
package http1

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Header is one HTTP header field; Name is lower-case and repeated fields are
// joined with ", ".
type Header struct {
	Name  string
	Value string
}

// Head is a parsed HTTP/1.x request or response header block. Its strings
// point into one copy of the block, made by Parse.
type Head struct {
	// Method, Target and Version are the request line's parts (Version
	// is also the status line's).
	Method, Target, Version string
	// Status and Reason are the status line's code and reason phrase.
	Status int
	Reason string
	// Headers are the header fields in order of first appearance, names
	// lower-cased, repeated fields joined.
	Headers []Header
	// Raw is the block as it came, blank line included.
	Raw string
	// names has nameBit(n) set for the name n of each header, so that
	// looking up or merging a header that is not there, the usual case,
	// skips the comparisons.
	names uint64
}

// nameBit returns the bit of header name n (not empty) in Head.names.
func nameBit(n string) uint64 {
	return 1 << ((uint(len(n))*5 + uint(n[0]) + uint(n[len(n)-1])) & 63)
}

// Get returns the (joined) value of the lower-case header name.
func (h *Head) Get(name string) (string, bool) {
	if name == "" || h.names&nameBit(name) == 0 {
		return "", false
	}
	for i := range h.Headers {
		if h.Headers[i].Name == name {
			return h.Headers[i].Value, true
		}
	}
	return "", false
}

// HasToken reports whether the comma-separated header value list of name
// contains token (case-insensitive).
func (h *Head) HasToken(name, token string) bool {
	v, ok := h.Get(name)
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

// SplitList splits a comma-separated header value into trimmed, non-empty items.
func SplitList(v string) []string {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// HeaderEnd returns the index just past the blank line ending a header block
// in b, searching from from, or -1. Bare LF line ends are tolerated.
func HeaderEnd(b []byte, from int) int {
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

// LooksLikeRequest reports whether b (the first bytes of a stream) can be the
// start of an HTTP request line: a method token and a space. decided is
// false when more bytes are needed to decide.
func LooksLikeRequest(b []byte) (yes, decided bool) {
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

// LooksLikeResponse is LooksLikeRequest for a status line ("HTTP/").
func LooksLikeResponse(b []byte) (yes, decided bool) {
	const p = "HTTP/"
	n := min(len(b), len(p))
	if string(b[:n]) != p[:n] {
		return false, true
	}
	return n == len(p), n == len(p)
}

// Parse parses a complete header block (including the blank line).
// request selects request-line or status-line parsing. The result keeps the
// block as it came (Raw) and, in the same allocation, a lower-cased copy of
// each header name; all its strings point into that buffer. So a head costs
// three allocations: the buffer, the Head and its header list, sized to the
// header lines (connections keep their heads: a fixed array in the Head
// made an open connection 4% larger).
//
// On captures of many short connections parsing handshakes is a large part
// of the work, so it makes one pass over the lines (bytes.IndexByte finds
// their ends), lower-cases names eight bytes at a time and trims with ASCII
// loops; the Unicode-aware strings functions run only on the rare
// non-ASCII name or edge. parseHeadSimple in the tests is the plain version
// it must agree with.
func Parse(raw []byte, request bool) (*Head, bool) {
	body := bytes.TrimRight(raw, "\r\n")
	if len(body) == 0 {
		return nil, false // no request or status line
	}
	// Find the header lines, and how many bytes their names take.
	var stack [32]lineSpan
	lines := stack[:0]
	names := 0
	nl := bytes.IndexByte(body, '\n')
	firstEnd := len(body)
	if nl >= 0 {
		firstEnd = nl
		for i := nl + 1; i < len(body); {
			start, end := i, len(body)
			if n := bytes.IndexByte(body[i:], '\n'); n >= 0 {
				end = i + n
			}
			i = end + 1
			for end > start && body[end-1] == '\r' {
				end--
			}
			if end == start {
				continue
			}
			if c := body[start]; c == ' ' || c == '\t' {
				lines = append(lines, lineSpan{start: start, colon: -1, end: end})
				continue
			}
			colon := bytes.IndexByte(body[start:end], ':')
			if colon < 0 {
				continue // not a header; folds after it continue the header before
			}
			lines = append(lines, lineSpan{start: start, colon: start + colon, end: end})
			names += colon
		}
	}
	// The block, then the names lower-cased; nothing writes buf after this.
	buf := make([]byte, len(raw), len(raw)+names)
	copy(buf, raw)
	for i := range lines {
		if l := &lines[i]; l.colon >= 0 {
			l.name = len(buf)
			buf = append(buf, raw[l.start:l.colon]...)
			l.ascii = lowerASCII(buf[l.name:])
		}
	}
	text := unsafe.String(unsafe.SliceData(buf), len(buf))
	h := &Head{Raw: text[:len(raw)]}
	if !parseFirstLine(h, text[:firstEnd], request) {
		return nil, false
	}
	if nl < 0 {
		return h, true
	}
	h.Headers = make([]Header, 0, len(lines))
	for _, l := range lines {
		line := text[l.start:l.end]
		var name string
		switch {
		case l.colon >= 0:
			name = trimSpace(text[l.name : l.name+l.colon-l.start])
			if !l.ascii {
				name = strings.ToLower(name)
			}
		case len(h.Headers) > 0:
			// obsolete line folding: continue the previous value
			last := &h.Headers[len(h.Headers)-1]
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
			h.Headers = append(h.Headers, Header{Name: name, Value: value})
		} else if i := h.index(name); i >= 0 {
			h.Headers[i].Value += ", " + value
		} else {
			h.Headers = append(h.Headers, Header{Name: name, Value: value})
		}
	}
	return h, true
}

// index returns the index of the header called name, or -1.
func (h *Head) index(name string) int {
	for i := range h.Headers {
		if h.Headers[i].Name == name {
			return i
		}
	}
	return -1
}

// lineSpan locates one header line in a head's block: [start, end)
// without its line end, colon the index of its first colon (or -1 for a
// line that starts with a space or tab); name is where the lower-cased copy
// of the name before the colon starts in Parse's buffer, and ascii tells
// whether that name is ASCII.
type lineSpan struct {
	start, colon, end, name int
	ascii                   bool
}

// parseFirstLine fills h from the request or status line first, which may
// end in carriage returns; it reports whether the line is one.
func parseFirstLine(h *Head, first string, request bool) bool {
	first = strings.TrimRight(first, "\r")
	p0, p12, ok := strings.Cut(first, " ")
	p1, p2, three := strings.Cut(p12, " ")
	if request {
		if !ok || !three || !strings.HasPrefix(p2, "HTTP/") {
			return false
		}
		h.Method, h.Target, h.Version = p0, p1, p2
		return true
	}
	if !ok || !strings.HasPrefix(p0, "HTTP/") {
		return false
	}
	code, err := strconv.Atoi(p1)
	if err != nil || code < 100 || code > 999 {
		return false
	}
	h.Version, h.Status = p0, code
	if three {
		h.Reason = p2
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

// BodyKind says how an HTTP message body is delimited.
type BodyKind uint8

// How a body is delimited (RFC 9112 section 6).
const (
	BodyNone       BodyKind = iota // no body
	BodyLength                     // Content-Length bytes
	BodyChunked                    // chunked transfer coding
	BodyUntilClose                 // until the connection closes
)

// RequestBody returns how the body of request h is delimited, and its
// length for BodyLength.
func RequestBody(h *Head) (BodyKind, int64) {
	if te, ok := h.Get("transfer-encoding"); ok && strings.Contains(strings.ToLower(te), "chunked") {
		return BodyChunked, 0
	}
	if cl, ok := h.Get("content-length"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(strings.Split(cl, ",")[0]), 10, 64)
		if err == nil && n > 0 {
			return BodyLength, n
		}
	}
	return BodyNone, 0
}

// ResponseBody returns how the body of response h to a request with method
// is delimited (RFC 9112 section 6.3), and its length for BodyLength.
func ResponseBody(h *Head, method string) (BodyKind, int64) {
	if method == "HEAD" || h.Status < 200 || h.Status == 204 || h.Status == 304 {
		return BodyNone, 0
	}
	if method == "CONNECT" && h.Status/100 == 2 {
		return BodyUntilClose, 0
	}
	if te, ok := h.Get("transfer-encoding"); ok {
		if strings.Contains(strings.ToLower(te), "chunked") {
			return BodyChunked, 0
		}
		return BodyUntilClose, 0
	}
	if cl, ok := h.Get("content-length"); ok {
		n, err := strconv.ParseInt(strings.TrimSpace(strings.Split(cl, ",")[0]), 10, 64)
		if err == nil {
			if n == 0 {
				return BodyNone, 0
			}
			return BodyLength, n
		}
	}
	return BodyUntilClose, 0
}

// ChunkSkipper consumes a chunked body incrementally. Its zero value is
// ready to read a body from its start.
type ChunkSkipper struct {
	// Keep asks Consume to append the chunks' data to Data.
	Keep bool
	// Data is the data Consume kept, for the caller to take.
	Data []byte
	// Done is set when the last chunk and the trailers were consumed;
	// Invalid when the coding is broken (nothing more is consumed).
	Done, Invalid bool

	state uint8 // 0 size line, 1 data, 2 CRLF after data, 3 trailers
	line  []byte
	left  int64
}

// Consume eats bytes of the chunked body from b and returns how many it used.
func (c *ChunkSkipper) Consume(b []byte) int {
	used := 0
	for used < len(b) && !c.Done && !c.Invalid {
		switch c.state {
		case 0, 3:
			i := bytes.IndexByte(b[used:], '\n')
			if i < 0 {
				c.line = append(c.line, b[used:]...)
				if len(c.line) > 4096 {
					c.Invalid = true
				}
				return len(b)
			}
			c.line = append(c.line, b[used:used+i]...)
			used += i + 1
			line := strings.TrimSpace(string(c.line))
			c.line = c.line[:0]
			if c.state == 3 {
				if line == "" {
					c.Done = true
				}
				continue
			}
			if semi := strings.IndexByte(line, ';'); semi >= 0 {
				line = strings.TrimSpace(line[:semi])
			}
			n, err := strconv.ParseInt(line, 16, 64)
			if err != nil || n < 0 {
				c.Invalid = true
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
			if c.Keep {
				c.Data = append(c.Data, b[used:used+int(k)]...)
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
