package conv

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/fatih/color"

	"github.com/wsdissect/wsdissect/dissect"
)

// Transcript formats.
const (
	// FormatText shows each message with a heading line (arrow, time,
	// opcode, length) and its payload: text as text, binary as a hex dump.
	FormatText = "text"
	// FormatHex shows every payload as a hex dump.
	FormatHex = "hex"
	// FormatRaw writes the payload bytes only, for piping.
	FormatRaw = "raw"
	// FormatJSON writes one JSON object per message.
	FormatJSON = "json"
)

// TranscriptFormats lists the formats a Transcript writes.
var TranscriptFormats = []string{FormatText, FormatHex, FormatRaw, FormatJSON}

// TranscriptOptions configure a Transcript.
type TranscriptOptions struct {
	// Format is one of TranscriptFormats ("" is FormatText).
	Format string
	// Color turns on ANSI colours (text and hex): green for client to
	// server, blue for server to client.
	Color bool
	// Pretty indents text payloads that are JSON.
	Pretty bool
	// Dir, when HasDir, shows only messages in that direction.
	Dir    dissect.Dir
	HasDir bool
	// Control includes ping, pong and close messages in the raw format
	// (the other formats always show them).
	Control bool
}

// Transcript writes one connection's messages as they complete, in time
// order. It keeps nothing but its output buffer.
type Transcript struct {
	w       *bufio.Writer
	opts    TranscriptOptions
	c2s     *color.Color
	s2c     *color.Color
	heading bool
}

// NewTranscript returns a Transcript writing to w; call Flush at the end.
func NewTranscript(w io.Writer, opts TranscriptOptions) *Transcript {
	t := &Transcript{w: bufio.NewWriter(w), opts: opts, c2s: color.New(color.FgGreen), s2c: color.New(color.FgBlue)}
	if opts.Color {
		t.c2s.EnableColor()
		t.s2c.EnableColor()
	} else {
		t.c2s.DisableColor()
		t.s2c.DisableColor()
	}
	return t
}

// Flush writes out what is buffered.
func (t *Transcript) Flush() error { return t.w.Flush() }

// Message writes one message of session s; it fits Options.OnMessage.
func (t *Transcript) Message(s *Session, m *Message) error {
	if t.opts.HasDir && m.Dir != t.opts.Dir {
		return nil
	}
	switch t.opts.Format {
	case FormatRaw:
		if dissect.IsControl(m.Opcode) && !t.opts.Control {
			return nil
		}
		_, err := t.w.Write(m.Payload)
		return err
	case FormatJSON:
		return t.json(s, m)
	}
	if !t.heading {
		t.heading = true
		t.writeHeading(s)
	}
	col := t.c2s
	if m.Dir == dissect.ServerToClient {
		col = t.s2c
	}
	var line strings.Builder
	fmt.Fprintf(&line, "%s %s %s #%d %s", dirArrow(m.Dir), m.Dir, relTime(s, m), m.N, dissect.OpcodeName(m.Opcode))
	if m.Opcode == dissect.OpContinuation {
		line.WriteString("(first frame missing)")
	}
	fmt.Fprintf(&line, " len=%d", m.Len)
	if m.Frames > 1 {
		fmt.Fprintf(&line, " frames=%d", m.Frames)
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{m.Compressed, "compressed"}, {m.Truncated, "truncated"}, {m.Incomplete, "incomplete"}} {
		if f.on {
			line.WriteString(" [" + f.name + "]")
		}
	}
	if m.HasCloseCode {
		fmt.Fprintf(&line, " code=%d %s", m.CloseCode, dissect.CloseCodeName(m.CloseCode))
		if m.CloseReason != "" {
			line.WriteString(" reason=" + strconv.Quote(m.CloseReason))
		}
	}
	if len(m.Anomalies) > 0 {
		line.WriteString(" [!] " + strings.Join(m.Anomalies, ","))
	}
	t.w.WriteString(col.Sprint(line.String()))
	t.w.WriteByte('\n')
	if m.Opcode == dissect.OpClose || len(m.Payload) == 0 {
		return nil
	}
	var body string
	if t.opts.Format != FormatHex && m.Text && utf8.Valid(m.Payload) {
		body = textBody(m.Payload, t.opts.Pretty)
	} else {
		body = HexDump(m.Payload)
	}
	for _, l := range strings.SplitAfter(strings.TrimSuffix(body, "\n"), "\n") {
		t.w.WriteString("    ")
		t.w.WriteString(col.Sprint(strings.TrimSuffix(l, "\n")))
		t.w.WriteByte('\n')
	}
	return nil
}

// writeHeading writes the connection line above a text or hex transcript.
func (t *Transcript) writeHeading(s *Session) {
	fmt.Fprintf(t.w, "Stream %s: %s → %s", s.ID(), s.Client, s.Server)
	if s.Midstream {
		t.w.WriteString(" (mid-stream, no handshake)")
	} else {
		fmt.Fprintf(t.w, " %s %s", Printable(s.Method), Printable(s.Path))
		if s.Host != "" {
			fmt.Fprintf(t.w, " host=%s", Printable(s.Host))
		}
		if s.Subprotocol != "" {
			fmt.Fprintf(t.w, " subprotocol=%s", Printable(s.Subprotocol))
		}
		if len(s.Extensions) > 0 {
			fmt.Fprintf(t.w, " extensions=%s", Printable(strings.Join(s.Extensions, ", ")))
		}
	}
	fmt.Fprintf(t.w, " start=%s\n", s.Start.UTC().Format("2006-01-02T15:04:05.000000Z"))
}

// relTime is the message's time relative to the session's start.
func relTime(s *Session, m *Message) string {
	return "+" + strconv.FormatFloat(m.Time.Sub(s.Start).Seconds(), 'f', 6, 64) + "s"
}

// textBody renders a text payload: pretty-printed when asked and it is
// JSON, terminal control characters escaped.
func textBody(p []byte, pretty bool) string {
	if pretty && json.Valid(p) {
		var b bytes.Buffer
		if json.Indent(&b, p, "", "  ") == nil {
			p = b.Bytes()
		}
	}
	return Printable(string(p))
}

// Printable escapes control characters (other than newline and tab) and
// invalid UTF-8 so text cannot drive a terminal.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x7f && r < 0xa0):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// HexDump formats p as lines of an offset, 16 bytes in hex and their
// printable ASCII.
func HexDump(p []byte) string {
	var b strings.Builder
	for off := 0; off < len(p); off += 16 {
		row := p[off:min(off+16, len(p))]
		fmt.Fprintf(&b, "%08x  ", off)
		for i := range 16 {
			if i < len(row) {
				fmt.Fprintf(&b, "%02x ", row[i])
			} else {
				b.WriteString("   ")
			}
			if i == 7 {
				b.WriteByte(' ')
			}
		}
		b.WriteString(" |")
		for _, c := range row {
			if c < 0x20 || c >= 0x7f {
				c = '.'
			}
			b.WriteByte(c)
		}
		b.WriteString("|\n")
	}
	return b.String()
}

// MessageJSON is the JSON form of a message in follow --format json and in
// export's index.ndjson.
type MessageJSON struct {
	Stream      uint64   `json:"stream"`
	H2Stream    uint32   `json:"h2_stream,omitempty"`
	H2Tunnel    uint32   `json:"h2_tunnel_stream,omitempty"`
	N           int      `json:"n"`
	Dir         string   `json:"dir"`
	TS          string   `json:"ts"`
	Packet      uint64   `json:"packet"`
	FirstPacket uint64   `json:"first_packet"`
	Opcode      uint8    `json:"opcode"`
	OpcodeName  string   `json:"opcode_name"`
	Len         uint64   `json:"len"`
	WireLen     uint64   `json:"wire_len"`
	Frames      int      `json:"frames"`
	Text        *string  `json:"text,omitempty"`
	B64         *string  `json:"b64,omitempty"`
	CloseCode   uint16   `json:"close_code,omitempty"`
	CloseReason string   `json:"close_reason,omitempty"`
	Compressed  bool     `json:"compressed,omitempty"`
	Truncated   bool     `json:"truncated,omitempty"`
	Incomplete  bool     `json:"incomplete,omitempty"`
	Anomalies   []string `json:"anomalies,omitempty"`
	File        string   `json:"file,omitempty"`
}

// messageJSON returns m's JSON form; withPayload adds text or b64.
func messageJSON(s *Session, m *Message, withPayload bool) MessageJSON {
	j := MessageJSON{Stream: s.Stream, H2Stream: s.H2Stream, H2Tunnel: s.TunnelStream, N: m.N, Dir: m.Dir.String(), TS: tsText(m.Time), Packet: m.Packet,
		FirstPacket: m.FirstPacket, Opcode: m.Opcode, OpcodeName: dissect.OpcodeName(m.Opcode), Len: m.Len,
		WireLen: m.WireLen, Frames: m.Frames, Compressed: m.Compressed, Truncated: m.Truncated,
		Incomplete: m.Incomplete, Anomalies: m.Anomalies}
	if m.HasCloseCode {
		j.CloseCode, j.CloseReason = m.CloseCode, m.CloseReason
	}
	if withPayload {
		// A close's payload too, as read --json gives it: the code and
		// reason above say what it means, the bytes what was sent.
		if m.Text && utf8.Valid(m.Payload) {
			s := string(m.Payload)
			j.Text = &s
		} else {
			s := base64.StdEncoding.EncodeToString(m.Payload)
			j.B64 = &s
		}
	}
	return j
}

func (t *Transcript) json(s *Session, m *Message) error {
	b, err := marshal(messageJSON(s, m, true))
	if err != nil {
		return err
	}
	t.w.Write(b)
	return t.w.WriteByte('\n')
}
