package render

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/dissect"
)

const hexDigits = "0123456789abcdef"

// Widths of the summary line's aligned columns.
const (
	packetWidth = 6
	timeWidth   = 10
)

// previewRunes is how many characters of text a summary line shows.
const previewRunes = 64

// SummaryPayloadBytes is how many bytes of a payload a summary line needs:
// its longest preview (previewRunes characters of up to four bytes; binary
// previews are shorter) and one more, to know whether more follows. It is
// the dissect.Options.PreviewBytes for summary output.
const SummaryPayloadBytes = previewRunes*utf8.UTFMax + 1

// previewBytes is how many bytes of binary payload a summary line shows.
const previewBytes = 16

// appendPadded appends s right-aligned in a field of width characters.
func appendPadded(b, s []byte, width int) []byte {
	for n := len(s); n < width; n++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// appendRelTime appends d in seconds with six decimals (rounded to the
// microsecond), like tshark's frame.time_relative.
func appendRelTime(b []byte, d time.Duration) []byte {
	ns := int64(d)
	if ns < 0 {
		b = append(b, '-')
		ns = -ns
		if ns < 0 { // math.MinInt64
			ns = 1<<63 - 1
		}
	}
	us := ns/1000 + (ns%1000+500)/1000
	b = strconv.AppendInt(b, us/1e6, 10)
	frac := us % 1e6
	var f [7]byte
	f[0] = '.'
	for i := len(f) - 1; i > 0; i-- {
		f[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, f[:]...)
}

// appendEscaped appends s for a terminal: newline, carriage return and tab
// as \n \r \t, other control characters and bytes that are not UTF-8 as
// \xNN, unprintable characters as \uNNNN; printable UTF-8 is kept. When
// quoted is set, double quotes and backslashes are escaped too. When
// maxRunes is not negative, at most that many characters are written,
// followed by "…" when s is longer.
func appendEscaped[T ~string | ~[]byte](b []byte, s T, quoted bool, maxRunes int) []byte {
	b, _ = appendEscapedN(b, s, quoted, maxRunes)
	return b
}

// appendEscapedN is appendEscaped that also returns how many bytes of s it
// wrote (all of s unless maxRunes cut it).
func appendEscapedN[T ~string | ~[]byte](b []byte, s T, quoted bool, maxRunes int) ([]byte, int) {
	plain := &termPlain
	if quoted {
		plain = &termPlainQuoted
	}
	limit := len(s) // characters to write: s has no more than bytes
	if maxRunes >= 0 {
		limit = min(limit, maxRunes)
	}
	runes := 0
	for i := 0; i < len(s); {
		if runes == limit {
			return append(b, "…"...), i
		}
		// No more than escChunk bytes, nor more than the characters still
		// to write can take.
		lim := min(len(s), i+escChunk, i+utf8.UTFMax*(limit-runes))
		// The last character may run 3 bytes past lim; each input byte
		// becomes at most 4 output bytes (\xNN, or \UNNNNNNNN for 4), and
		// "…" takes 3.
		b = slices.Grow(b, 4*(lim-i)+16)
		dst := b[len(b):cap(b)]
		o := 0
		for i < lim {
			if runes == limit {
				return append(b[:len(b)+o], "…"...), i
			}
			// Printable ASCII, a byte a character, up to the limit.
			j, o2 := copyTermPlain(dst, o, s[:min(lim, i+limit-runes)], i, plain)
			runes += j - i
			i, o = j, o2
			if i < lim && runes < limit {
				i, o = escapeTermAt(dst, o, s, i, quoted)
				runes++
			}
		}
		b = b[:len(b)+o]
	}
	return b, len(s)
}

// copyTermPlain writes the bytes of s from i to dst at o up to the first
// one that is neither plain nor a quote or backslash to escape, or the end
// of s, and returns the positions reached in s and dst. Every byte it takes
// is one character of at most two output bytes. Like copyJSONPlain it is
// kept out of line so that its loop runs in registers.
//
//go:noinline
func copyTermPlain[T ~string | ~[]byte](dst []byte, o int, s T, i int, plain *[256]uint8) (int, int) {
	if plain == &termPlain {
		// Unquoted, printable ASCII goes as it is: eight bytes at a time
		// while a word holds nothing else.
		for ; i+8 <= len(s) && o+8 <= len(dst); i, o = i+8, o+8 {
			// (A no-op conversion for byte slices, a stack copy for strings.)
			x := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
			if !printableASCII(x) {
				break
			}
			binary.LittleEndian.PutUint64(dst[o:], x)
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		switch plain[c] {
		case termAsIs:
			dst[o] = c
			o++
		case termBackslash:
			dst[o], dst[o+1] = '\\', c
			o += 2
		default:
			return i, o
		}
	}
	return i, o
}

// printableASCII reports whether every byte of x is printable ASCII (0x20
// to 0x7e): none is below 0x20 (subtracting 0x20 from it borrows into its top
// bit) and none is 0x7f or above (adding 1 sets its top bit, or it was set).
func printableASCII(x uint64) bool {
	const ones, tops = 0x0101010101010101, 0x8080808080808080
	below := (x - 0x20*ones) &^ x
	above := (x + ones) | x
	return (below|above)&tops == 0
}

// Kinds of bytes in the tables of copyTermPlain.
const (
	termOther     = iota // not ASCII or a control character: escapeTermAt decides
	termAsIs             // printable ASCII, written as it is
	termBackslash        // '"' or '\\' in quoted text, written after a backslash
)

// Tables of the bytes copyTermPlain writes itself: printable ASCII, with
// '"' and '\\' escaped when quoted. They are built once and never changed.
var (
	termPlain       = makeTermPlain(false)
	termPlainQuoted = makeTermPlain(true)
)

// makeTermPlain builds termPlain or, with quoted set, termPlainQuoted.
func makeTermPlain(quoted bool) (t [256]uint8) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = termAsIs
		if quoted && (c == '"' || c == '\\') {
			t[c] = termBackslash
		}
	}
	return t
}

// escapeTermAt writes the character at s[i], which is not in the plain
// table, escaped if need be, to dst at o. It returns the positions after it
// in s and dst. dst has room for at least 10 bytes at o.
func escapeTermAt[T ~string | ~[]byte](dst []byte, o int, s T, i int, quoted bool) (int, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		switch {
		case c == '\n':
			dst[o], dst[o+1] = '\\', 'n'
		case c == '\r':
			dst[o], dst[o+1] = '\\', 'r'
		case c == '\t':
			dst[o], dst[o+1] = '\\', 't'
		case quoted && (c == '"' || c == '\\'):
			dst[o], dst[o+1] = '\\', c
		case c < 0x20 || c == 0x7f:
			return i + 1, o + copy(dst[o:], []byte{'\\', 'x', hexDigits[c>>4], hexDigits[c&0xf]})
		default: // printable: not reached through appendEscaped
			dst[o] = c
			return i + 1, o + 1
		}
		return i + 1, o + 2
	}
	r, size := decodeRune(s[i:])
	switch {
	case r == utf8.RuneError && size == 1:
		return i + 1, o + copy(dst[o:], []byte{'\\', 'x', hexDigits[c>>4], hexDigits[c&0xf]})
	case !strconv.IsPrint(r):
		return i + size, o + len(appendUEscape(dst[o:o], r))
	}
	return i + size, o + copy(dst[o:], s[i:i+size])
}

// decodeRune decodes the first UTF-8 character of s like
// utf8.DecodeRuneInString.
func decodeRune[T ~string | ~[]byte](s T) (rune, int) {
	end := min(len(s), utf8.UTFMax)
	return utf8.DecodeRuneInString(string(s[:end]))
}

// appendUEscape appends r as \uNNNN, or \UNNNNNNNN above the BMP.
func appendUEscape(b []byte, r rune) []byte {
	if r > 0xffff {
		b = append(b, '\\', 'U')
		for shift := 28; shift >= 0; shift -= 4 {
			b = append(b, hexDigits[r>>uint(shift)&0xf])
		}
		return b
	}
	return append(b, '\\', 'u',
		hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// appendHex appends p as lower-case hex digits without separators.
func appendHex(b, p []byte) []byte {
	return hex.AppendEncode(b, p)
}

// appendHexDump appends a hex and ASCII dump of p, 16 bytes a line, each line
// prefixed by indent:
//
//	0000  48 65 6c 6c 6f 20 77 6f  72 6c 64 21              Hello world!
//
// Offsets have four hex digits, or eight when p is 64 KiB or longer.
func appendHexDump(b, p []byte, indent string) []byte {
	return appendHexDumpAt(b, p, indent, 0, hexDumpDigits(len(p)))
}

// hexDumpDigits returns how many hex digits the offsets of a dump of n
// bytes have.
func hexDumpDigits(n int) int {
	if n > 0xffff {
		return 8
	}
	return 4
}

// hexDumpLen returns the length of the dump of n bytes.
func hexDumpLen(n int, indent string) int {
	// indent, offset, two spaces, 16 "xx " and one more space, a space,
	// up to 16 characters and the newline.
	return (n + 15) / 16 * (len(indent) + hexDumpDigits(n) + 2 + 49 + 1 + 16 + 1)
}

// appendHexDumpAt appends the dump of p, a part of a payload starting at
// offset base (a multiple of 16), with offsets of digits hex digits.
func appendHexDumpAt(b, p []byte, indent string, base, digits int) []byte {
	for off := 0; off < len(p); off += 16 {
		line := p[off:min(off+16, len(p))]
		b = append(b, indent...)
		for shift := (digits - 1) * 4; shift >= 0; shift -= 4 {
			b = append(b, hexDigits[(base+off)>>uint(shift)&0xf])
		}
		b = append(b, ' ', ' ')
		for i := range 16 {
			if i == 8 {
				b = append(b, ' ')
			}
			if i < len(line) {
				b = append(b, hexDigits[line[i]>>4], hexDigits[line[i]&0xf], ' ')
			} else {
				b = append(b, ' ', ' ', ' ')
			}
		}
		b = append(b, ' ')
		for _, c := range line {
			if c < 0x20 || c > 0x7e {
				c = '.'
			}
			b = append(b, c)
		}
		b = append(b, '\n')
	}
	return b
}

// appendBinaryPreview appends the first bytes of p in hex, then "…" and the
// number of further bytes when p is longer.
func appendBinaryPreview(b, p []byte, total int) []byte {
	if total <= previewBytes {
		return appendHex(b, p)
	}
	b = appendHex(b, p[:min(len(p), previewBytes)])
	b = append(b, "… (+"...)
	b = strconv.AppendInt(b, int64(total-min(len(p), previewBytes)), 10)
	return append(b, " bytes)"...)
}

// appendTextPreview appends p as a quoted, escaped string cut at
// previewRunes characters.
func appendTextPreview[T ~string | ~[]byte](b []byte, p T, total int) []byte {
	// Quotes and backslashes stay as they are: JSON text reads as sent,
	// not as a string literal.
	b = append(b, '"')
	b, n := appendEscapedN(b, p, false, previewRunes)
	b = append(b, '"')
	if rest := total - n; rest > 0 {
		b = append(b, " (+"...)
		b = strconv.AppendInt(b, int64(rest), 10)
		b = append(b, " bytes)"...)
	}
	return b
}

// appendCloseSummary appends "1000 Normal Closure" and the quoted reason,
// if any.
func appendCloseSummary(b []byte, code uint16, reason string) []byte {
	b = strconv.AppendUint(b, uint64(code), 10)
	b = append(b, ' ')
	b = append(b, dissect.CloseCodeName(code)...)
	if reason != "" {
		b = append(b, ' ')
		b = appendTextPreview(b, reason, len(reason))
	}
	return b
}

// opcodeTitle returns the capitalised opcode name used by summary lines;
// reserved opcodes are written by appendOpcodeTitle.
func opcodeTitle(op uint8) string {
	switch op {
	case dissect.OpContinuation:
		return "Continuation"
	case dissect.OpText:
		return "Text"
	case dissect.OpBinary:
		return "Binary"
	case dissect.OpClose:
		return "Close"
	case dissect.OpPing:
		return "Ping"
	case dissect.OpPong:
		return "Pong"
	}
	return ""
}

// appendOpcodeTitle appends the summary name of op in st: "Text", or
// "Reserved(0x3)" for an undefined opcode.
func appendOpcodeTitle(b []byte, op uint8, st style) []byte {
	b = append(b, st.on...)
	if name := opcodeTitle(op); name != "" {
		b = append(b, name...)
	} else {
		b = append(b, "Reserved(0x"...)
		b = append(b, hexDigits[op&0xf], ')')
	}
	return append(b, st.off...)
}

// opcodeTreeName returns the opcode name used by the tree format, as
// Wireshark names them.
func opcodeTreeName(op uint8) string {
	switch op {
	case dissect.OpContinuation:
		return "Continuation"
	case dissect.OpText:
		return "Text"
	case dissect.OpBinary:
		return "Binary"
	case dissect.OpClose:
		return "Connection Close"
	case dissect.OpPing:
		return "Ping"
	case dissect.OpPong:
		return "Pong"
	}
	return "Unknown/Reserved"
}

// severityTitle returns the capitalised severity used by expert lines.
func severityTitle(s dissect.Severity) string {
	switch s {
	case dissect.SevError:
		return "Error"
	case dissect.SevWarning:
		return "Warning"
	}
	return "Info"
}

// Arrows between the client (always on the left) and the server.
const (
	arrowC2S  = " → "
	arrowS2C  = " ← "
	arrowBoth = " ↔ "
)

// appendEndpoints appends "client → server" (or "←" for server-to-client
// traffic, "↔" for connection-wide records), coloured by direction when
// colour is wanted.
func (r *Renderer) appendEndpoints(b []byte, c *dissect.Conn, d dissect.Dir, hasDir, colored bool) []byte {
	st := style{}
	arrow := arrowBoth
	if hasDir {
		if colored {
			st = r.pal.dir(d)
		}
		arrow = arrowC2S
		if d == dissect.ServerToClient {
			arrow = arrowS2C
		}
	}
	b = append(b, st.on...)
	if e := r.endpointsOf(c); e != nil {
		b = append(b, e.clientBytes()...)
		b = append(b, arrow...)
		b = append(b, e.serverBytes()...)
	} else {
		b = appendAddrPortText(b, c.Client)
		b = append(b, arrow...)
		b = appendAddrPortText(b, c.Server)
	}
	b = append(b, st.off...)
	if t := c.TunnelStream(); t != 0 {
		b = append(b, " [h2 tunnel stream "...)
		b = strconv.AppendUint(b, uint64(t), 10)
		b = append(b, ']')
	}
	if c.H2Stream != 0 {
		b = append(b, " [h2 stream "...)
		b = strconv.AppendUint(b, uint64(c.H2Stream), 10)
		b = append(b, ']')
	}
	return b
}

// appendAddrPortText appends "ip:port" ("[addr]:port" for IPv6). An IPv6
// zone is the only part that can hold arbitrary bytes; it is escaped.
func appendAddrPortText(b []byte, ap netip.AddrPort) []byte {
	start := len(b)
	b = ap.AppendTo(b)
	for _, c := range b[start:] {
		if c < 0x20 || c >= 0x7f {
			var tmp [128]byte
			s := append(tmp[:0], b[start:]...)
			return appendEscaped(b[:start], s, false, -1)
		}
	}
	return b
}

// appendPacketList appends "packet N" or "packets A,B,C"; an empty list
// stands for the record's own packet.
func appendPacketList(b []byte, packets []uint64, own uint64) []byte {
	if len(packets) <= 1 {
		if len(packets) == 1 {
			own = packets[0]
		}
		b = append(b, "packet "...)
		return strconv.AppendUint(b, own, 10)
	}
	b = append(b, "packets "...)
	for i, p := range packets {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, p, 10)
	}
	return b
}

// appendTitleBool appends "True" or "False".
func appendTitleBool(b []byte, v bool) []byte {
	if v {
		return append(b, "True"...)
	}
	return append(b, "False"...)
}
