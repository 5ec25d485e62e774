// Package stomp decodes STOMP 1.0, 1.1 and 1.2 frames carried over
// WebSocket text or binary messages.
//
// A message may hold several frames and EOLs between them; a message of
// EOLs only is a heart-beat. A frame split over several messages (as
// stomp.js does with splitLargeFrames) is reassembled. Header values are
// unescaped by the rules of the version in effect (none in 1.0; \n \c \\ in
// 1.1; \r too in 1.2; never in CONNECT and CONNECTED). The body honours
// content-length, so it may contain NUL bytes.
package stomp

import (
	"bytes"
	"strconv"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/carry"
)

// Versions, as the decoder keeps them.
const (
	V10 = 10
	V11 = 11
	V12 = 12
)

// DefaultMaxFrame bounds the bytes of one frame that are reassembled.
const DefaultMaxFrame = 16 << 20

// Header is one header line, unescaped.
type Header struct{ Name, Value []byte }

// Frame is one STOMP frame or heart-beat.
type Frame struct {
	// Heartbeat is true for a record of EOLs only; Command and Headers are
	// then empty.
	Heartbeat bool
	Command   []byte
	Headers   []Header
	Body      []byte
	// Version is the STOMP version in effect (10, 11, 12).
	Version uint8
	// Messages is the count of WebSocket messages that carried the frame.
	Messages int

	err  string
	buf  []byte
	offs []int
}

// Protocol implements app.Record.
func (f *Frame) Protocol() string { return "stomp" }

// Malformed implements app.Record.
func (f *Frame) Malformed() string { return f.err }

// Header returns the value of the first header called name.
func (f *Frame) Header(name string) ([]byte, bool) {
	for _, h := range f.Headers {
		if string(h.Name) == name {
			return h.Value, true
		}
	}
	return nil, false
}

func (f *Frame) reset() {
	h, buf, offs := f.Headers[:0], f.buf[:0], f.offs[:0]
	*f = Frame{Headers: h, buf: buf, offs: offs}
}

// Decoder decodes one connection's STOMP frames; see app.Decoder.
type Decoder struct {
	// MaxFrame bounds a reassembled frame (DefaultMaxFrame if 0).
	MaxFrame int
	hold     int // HoldAtMost's bound (0: none)
	version  uint8
	fixed    bool
	dirs     [2]dirState
	pool     []*Frame
	out      []app.Record
}

type dirState struct {
	carry.Buffer // bytes of an unfinished frame, and the messages that carried them
}

// NewDecoder returns a decoder for version v (10, 11 or 12), as the
// negotiated subprotocol names it (v10.stomp ...); a CONNECTED frame's
// version header still overrides it. With v 0 the version is taken from
// the client's CONNECT (the highest it accepts) and then from CONNECTED,
// assuming 1.2 before either.
func NewDecoder(v uint8) *Decoder {
	if v != V10 && v != V11 && v != V12 {
		return &Decoder{version: V12}
	}
	return &Decoder{version: v, fixed: true}
}

// VersionFromSubprotocol returns the version named by a STOMP WebSocket
// subprotocol (v10.stomp, v11.stomp, v12.stomp), else 0.
func VersionFromSubprotocol(s string) uint8 {
	switch s {
	case "v10.stomp":
		return V10
	case "v11.stomp":
		return V11
	case "v12.stomp":
		return V12
	}
	return 0
}

func (d *Decoder) next() *Frame {
	n := len(d.out)
	if n == len(d.pool) {
		d.pool = append(d.pool, new(Frame))
	}
	f := d.pool[n]
	f.reset()
	f.Version = d.version
	d.out = append(d.out, f)
	return f
}

var commands = []string{"SEND", "SUBSCRIBE", "UNSUBSCRIBE", "BEGIN", "COMMIT", "ABORT", "ACK", "NACK",
	"DISCONNECT", "CONNECT", "STOMP", "CONNECTED", "MESSAGE", "RECEIPT", "ERROR"}

func knownCommand(c []byte) bool {
	for _, k := range commands {
		if string(c) == k {
			return true
		}
	}
	return false
}

// startsFrame reports whether b starts with a known command line.
func startsFrame(b []byte) bool {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return false
	}
	return knownCommand(bytes.TrimSuffix(b[:i], []byte{'\r'}))
}

// Decode implements app.Decoder.
func (d *Decoder) Decode(m app.Message) []app.Record {
	d.out = d.out[:0]
	st := &d.dirs[m.Dir&1]
	data := m.Payload
	if len(st.Held()) > 0 && startsFrame(data) {
		// The held-back frame never got its NUL: report it and start over.
		f := d.next()
		f.Messages = st.Msgs
		d.parse(f, st.Held(), true)
		if f.err == "" {
			f.err = "frame without NUL terminator"
		}
		st.Release()
	}
	data = st.Join(data)
	maxf := d.MaxFrame
	if maxf <= 0 {
		maxf = DefaultMaxFrame
	}
	if d.hold > 0 {
		maxf = min(maxf, d.hold)
	}
	i := 0
	for i < len(data) {
		// EOLs between frames are heart-beats.
		j := i
		for j < len(data) && (data[j] == '\n' || data[j] == '\r') {
			j++
		}
		if j > i {
			if i == 0 && j == len(data) && len(d.out) == 0 {
				f := d.next()
				f.Heartbeat = true
				f.Messages = st.Msgs
			}
			i = j
			continue
		}
		n, ok := frameLen(data[i:])
		if !ok {
			if len(data)-i > maxf {
				f := d.next()
				f.Messages = st.Msgs
				d.parse(f, data[i:], true)
				f.err = "frame longer than " + strconv.Itoa(maxf) + " bytes without its end"
				if maxf == d.hold {
					f.err += " (limit lowered while the memory budget is exhausted)"
				}
				i = len(data)
			}
			break
		}
		f := d.next()
		f.Messages = st.Msgs
		d.parse(f, data[i:i+n], false)
		i += n
		st.Msgs = 1
	}
	st.Keep(data, i)
	return d.out
}

// frameLen returns the length of the complete frame at the start of b,
// including its NUL, or ok false when b does not hold all of it yet.
func frameLen(b []byte) (int, bool) {
	hdrEnd := -1
	cl := -1
	lineStart := 0
	line := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		l := b[lineStart:i]
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		if line > 0 && len(l) == 0 {
			hdrEnd = i + 1
			break
		}
		if line > 0 && cl < 0 && len(l) > 15 && string(l[:15]) == "content-length:" {
			if n, err := strconv.Atoi(string(bytes.TrimSpace(l[15:]))); err == nil && n >= 0 {
				cl = n
			}
		}
		line++
		lineStart = i + 1
	}
	if hdrEnd < 0 {
		return 0, false
	}
	if cl >= 0 {
		if len(b)-hdrEnd > cl {
			return hdrEnd + cl + 1, true
		}
		return 0, false
	}
	z := bytes.IndexByte(b[hdrEnd:], 0)
	if z < 0 {
		return 0, false
	}
	return hdrEnd + z + 1, true
}

// parse decodes one frame (ending in NUL unless partial).
func (d *Decoder) parse(f *Frame, b []byte, partial bool) {
	fail := func(s string) {
		if f.err == "" {
			f.err = s
		}
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		f.Command = b
		fail("frame without a command line")
		return
	}
	f.Command = bytes.TrimSuffix(b[:nl], []byte{'\r'})
	if !knownCommand(f.Command) {
		fail("unknown command " + strconv.Quote(string(f.Command)))
	}
	escape := d.version >= V11 && string(f.Command) != "CONNECT" && string(f.Command) != "CONNECTED"
	i := nl + 1
	cl := -1
	// offs holds name start, name end, value start, value end into f.buf.
	for {
		e := bytes.IndexByte(b[i:], '\n')
		if e < 0 {
			fail("headers without an end")
			d.fillHeaders(f)
			return
		}
		l := b[i : i+e]
		i += e + 1
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		if len(l) == 0 {
			break
		}
		c := bytes.IndexByte(l, ':')
		if c < 0 {
			fail("header line without a colon")
			continue
		}
		ns := len(f.buf)
		f.buf = d.unescape(f, f.buf, l[:c], escape, fail)
		vs := len(f.buf)
		f.buf = d.unescape(f, f.buf, l[c+1:], escape, fail)
		f.offs = append(f.offs, ns, vs, vs, len(f.buf))
		if cl < 0 && string(l[:c]) == "content-length" {
			n, err := strconv.Atoi(string(bytes.TrimSpace(l[c+1:])))
			if err != nil || n < 0 {
				fail("invalid content-length")
			} else {
				cl = n
			}
		}
	}
	d.fillHeaders(f)
	body := b[i:]
	switch {
	case partial:
		f.Body = body
		if cl >= 0 && len(body) > cl {
			f.Body = body[:cl]
		}
	case len(body) == 0 || body[len(body)-1] != 0:
		fail("frame without NUL terminator")
		f.Body = body
	default:
		f.Body = body[:len(body)-1]
		if cl >= 0 && cl != len(f.Body) {
			fail("content-length " + strconv.Itoa(cl) + " but body has " + strconv.Itoa(len(f.Body)) + " bytes")
		}
	}
	if (string(f.Command) == "CONNECT" || string(f.Command) == "STOMP") && !d.fixed {
		// until CONNECTED names the version, expect the highest the client
		// accepts (1.0 when it names none)
		d.version = V10
		if v, ok := f.Header("accept-version"); ok {
			for _, s := range bytes.Split(v, []byte{','}) {
				switch string(bytes.TrimSpace(s)) {
				case "1.1":
					d.version = max(d.version, V11)
				case "1.2":
					d.version = max(d.version, V12)
				}
			}
		}
		f.Version = d.version
	}
	if string(f.Command) == "CONNECTED" {
		if v, ok := f.Header("version"); ok {
			switch string(v) {
			case "1.0":
				d.version = V10
			case "1.1":
				d.version = V11
			case "1.2":
				d.version = V12
			}
		} else {
			d.version = V10
		}
	}
}

func (d *Decoder) fillHeaders(f *Frame) {
	for k := 0; k+3 < len(f.offs); k += 4 {
		o := f.offs[k : k+4]
		f.Headers = append(f.Headers, Header{Name: f.buf[o[0]:o[1]:o[1]], Value: f.buf[o[2]:o[3]:o[3]]})
	}
}

func (d *Decoder) unescape(f *Frame, dst, s []byte, escape bool, fail func(string)) []byte {
	if !escape || bytes.IndexByte(s, '\\') < 0 {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			continue
		}
		if i+1 >= len(s) {
			fail("header ends in a backslash")
			dst = append(dst, c)
			continue
		}
		i++
		switch s[i] {
		case 'n':
			dst = append(dst, '\n')
		case 'c':
			dst = append(dst, ':')
		case '\\':
			dst = append(dst, '\\')
		case 'r':
			if d.version >= V12 {
				dst = append(dst, '\r')
				continue
			}
			fallthrough
		default:
			fail("undefined escape \\" + string(s[i:i+1]) + " in a header")
			dst = append(dst, '\\', s[i])
		}
	}
	return dst
}

// Gap implements app.Gapper: an unfinished frame is returned malformed
// with what it has, and the direction starts over at the next message.
func (d *Decoder) Gap(dir app.Dir) []app.Record {
	d.out = d.out[:0]
	st := &d.dirs[dir&1]
	if held := st.Held(); len(held) > 0 {
		f := d.next()
		f.Messages = st.Msgs
		d.parse(f, held, true)
		f.err = "frame cut by missing data"
	}
	st.Release()
	return d.out
}

// Pending implements app.Pender: the bytes of an unfinished frame held for
// the next message of direction dir.
func (d *Decoder) Pending(dir app.Dir) (app.Pending, bool) {
	st := &d.dirs[dir&1]
	held := st.Held()
	if len(held) == 0 {
		return app.Pending{}, false
	}
	what := "STOMP frame"
	if i := bytes.IndexByte(held, '\n'); i > 0 {
		if cmd := bytes.TrimSuffix(held[:i], []byte{'\r'}); knownCommand(cmd) {
			what = "STOMP " + string(cmd) + " frame"
		}
	}
	return app.Pending{What: what, Have: len(held), Unit: "bytes", Messages: st.Msgs}, true
}
