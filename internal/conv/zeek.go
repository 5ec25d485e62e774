package conv

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/sha1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// Zeek log layout. websocket.log has exactly the columns of Zeek's
// WebSocket::Info (scripts/base/protocols/websocket/main.zeek) followed by
// community_id, the column Zeek's community-id policy script appends to
// conn.log; websocket_messages.log is wsdissect's own, one row per message.
var (
	zeekWSFields = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "host", "uri",
		"user_agent", "subprotocol", "client_protocols", "server_extensions", "client_extensions", "community_id"}
	zeekWSTypes = []string{"time", "string", "addr", "port", "addr", "port", "string", "string",
		"string", "string", "vector[string]", "vector[string]", "vector[string]", "string"}
	zeekMsgFields = []string{"ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "is_orig", "n",
		"opcode", "opcode_name", "len", "wire_len", "frames", "compressed", "truncated", "incomplete",
		"close_code", "close_reason", "anomalies", "community_id"}
	zeekMsgTypes = []string{"time", "string", "addr", "port", "addr", "port", "bool", "count",
		"count", "string", "count", "count", "count", "bool", "bool", "bool",
		"count", "string", "vector[string]", "string"}
)

// ZeekUID returns a deterministic Zeek-style connection uid for a session:
// "C" and the base62 form of the first 96 bits of the SHA-1 of its Community
// ID, first packet time (Unix nanoseconds), stream number and, over HTTP/2,
// HTTP/2 stream id. Zeek's own uids are random; these are the same for the
// same capture on every run, and differ between connections that reuse
// addresses and between the sessions of one HTTP/2 connection.
func ZeekUID(s *Session) string {
	h := sha1.New()
	h.Write([]byte(s.CommunityID))
	var b [24]byte
	binary.BigEndian.PutUint64(b[:8], uint64(s.Start.UnixNano()))
	binary.BigEndian.PutUint64(b[8:16], s.Stream)
	n := 16
	if s.H2Stream != 0 {
		binary.BigEndian.PutUint32(b[16:], s.H2Stream)
		n = 20
	}
	if s.TunnelStream != 0 {
		binary.BigEndian.PutUint32(b[20:], s.TunnelStream)
		n = 24
	}
	h.Write(b[:n])
	sum := h.Sum(nil)
	return "C" + new(big.Int).SetBytes(sum[:12]).Text(62)
}

// ZeekWriter writes websocket.log (at Close) and websocket_messages.log (a
// row per message as messages complete) into a directory, as Zeek's ASCII
// writer does (TSV with its header lines) or as Zeek JSON lines.
type ZeekWriter struct {
	dir     string
	json    bool
	msgFile *os.File
	msgs    *bufio.Writer
	opened  bool
	last    time.Time
	uids    map[*Session]string
	err     error
}

// NewZeekWriter creates dir if needed and opens websocket_messages.log in it.
func NewZeekWriter(dir string, asJSON bool) (*ZeekWriter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "websocket_messages.log"))
	if err != nil {
		return nil, err
	}
	return &ZeekWriter{dir: dir, json: asJSON, msgFile: f, msgs: bufio.NewWriter(f), uids: make(map[*Session]string)}, nil
}

func (z *ZeekWriter) uid(s *Session) string {
	u, ok := z.uids[s]
	if !ok {
		u = ZeekUID(s)
		z.uids[s] = u
	}
	return u
}

// Message writes a websocket_messages.log row; it is a Collector's OnMessage.
// Messages of connections without a completed handshake are logged too
// (Zeek logs only established connections in websocket.log).
func (z *ZeekWriter) Message(s *Session, m *Message) error {
	if z.err != nil {
		return z.err
	}
	if !z.opened {
		z.opened = true
		if !z.json {
			writeZeekHeader(z.msgs, "websocket_messages", zeekMsgFields, zeekMsgTypes, m.Time)
		}
	}
	z.last = m.Time
	code, reason := zeekUnset, zeekUnset
	if m.HasCloseCode {
		code = strconv.Itoa(int(m.CloseCode))
		reason = zeekString(m.CloseReason)
	}
	if z.json {
		obj := zeekJSONStart(s, z.uid(s), m.Time)
		obj.add("is_orig", m.Dir == dissect.ClientToServer)
		obj.add("n", m.N)
		obj.add("opcode", m.Opcode)
		obj.add("opcode_name", dissect.OpcodeName(m.Opcode))
		obj.add("len", m.Len)
		obj.add("wire_len", m.WireLen)
		obj.add("frames", m.Frames)
		obj.add("compressed", m.Compressed)
		obj.add("truncated", m.Truncated)
		obj.add("incomplete", m.Incomplete)
		if m.HasCloseCode {
			obj.add("close_code", m.CloseCode)
			obj.add("close_reason", m.CloseReason)
		}
		if len(m.Anomalies) > 0 {
			obj.add("anomalies", m.Anomalies)
		}
		obj.add("community_id", s.CommunityID)
		z.err = obj.write(z.msgs)
		return z.err
	}
	row := []string{zeekTime(m.Time), z.uid(s), s.Client.Addr().Unmap().String(), strconv.Itoa(int(s.Client.Port())),
		s.Server.Addr().Unmap().String(), strconv.Itoa(int(s.Server.Port())), zeekBool(m.Dir == dissect.ClientToServer),
		strconv.Itoa(m.N), strconv.Itoa(int(m.Opcode)), dissect.OpcodeName(m.Opcode),
		strconv.FormatUint(m.Len, 10), strconv.FormatUint(m.WireLen, 10), strconv.Itoa(m.Frames),
		zeekBool(m.Compressed), zeekBool(m.Truncated), zeekBool(m.Incomplete), code, reason,
		zeekVector(m.Anomalies, false), zeekString(s.CommunityID)}
	_, z.err = z.msgs.WriteString(strings.Join(row, "\t") + "\n")
	return z.err
}

// Close writes websocket.log for the sessions (those whose upgrade was
// answered with 101, in order of that answer, as Zeek logs them) and
// finishes websocket_messages.log.
func (z *ZeekWriter) Close(ss []*Session) error {
	err := z.err
	if !z.json {
		if !z.opened {
			writeZeekHeader(z.msgs, "websocket_messages", zeekMsgFields, zeekMsgTypes, time.Time{})
		}
		writeZeekClose(z.msgs, z.last)
	}
	err = cmp.Or(err, z.msgs.Flush(), z.msgFile.Close())
	return cmp.Or(err, z.writeWebSocketLog(ss))
}

// ZeekEstablished returns the sessions Zeek would log in websocket.log: a
// handshake answered with 101 (or, for an extended CONNECT over HTTP/2,
// which Zeek does not decode, with 2xx), ordered by the answer's time.
func ZeekEstablished(ss []*Session) []*Session {
	var out []*Session
	for _, s := range ss {
		if !s.Midstream && s.Accepted() {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out, func(a, b *Session) int {
		return cmp.Or(a.ResponseTime.Compare(b.ResponseTime), compareIDs(a, b))
	})
	return out
}

func (z *ZeekWriter) writeWebSocketLog(ss []*Session) error {
	f, err := os.Create(filepath.Join(z.dir, "websocket.log"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	est := ZeekEstablished(ss)
	if !z.json {
		var open time.Time
		if len(est) > 0 {
			open = est[0].ResponseTime
		}
		writeZeekHeader(w, "websocket", zeekWSFields, zeekWSTypes, open)
	}
	var last time.Time
	for _, s := range est {
		last = s.ResponseTime
		if z.json {
			obj := zeekJSONStart(s, z.uid(s), s.ResponseTime)
			obj.addOpt("host", s.Host)
			obj.addOpt("uri", s.Path)
			obj.addOpt("user_agent", s.UserAgent)
			if h := header(s.ResponseHeaders, "sec-websocket-protocol"); h != nil {
				obj.add("subprotocol", h.Value)
			}
			if len(s.SubprotocolsOffered) > 0 {
				obj.add("client_protocols", s.SubprotocolsOffered)
			}
			if len(s.Extensions) > 0 {
				obj.add("server_extensions", s.Extensions)
			}
			if len(s.ExtensionsOffered) > 0 {
				obj.add("client_extensions", s.ExtensionsOffered)
			}
			obj.add("community_id", s.CommunityID)
			if err := obj.write(w); err != nil {
				f.Close()
				return err
			}
			continue
		}
		sub := zeekUnset
		if h := header(s.ResponseHeaders, "sec-websocket-protocol"); h != nil {
			sub = zeekString(h.Value)
		}
		row := []string{zeekTime(s.ResponseTime), z.uid(s), s.Client.Addr().Unmap().String(), strconv.Itoa(int(s.Client.Port())),
			s.Server.Addr().Unmap().String(), strconv.Itoa(int(s.Server.Port())),
			zeekOpt(s.Host), zeekOpt(s.Path), zeekOpt(s.UserAgent), sub,
			zeekVector(s.SubprotocolsOffered, true), zeekVector(s.Extensions, true), zeekVector(s.ExtensionsOffered, true),
			zeekString(s.CommunityID)}
		w.WriteString(strings.Join(row, "\t") + "\n")
	}
	if !z.json {
		writeZeekClose(w, last)
	}
	return cmp.Or(w.Flush(), f.Close())
}

// header returns the named header of hs, or nil.
func header(hs []dissect.Header, name string) *dissect.Header {
	for i := range hs {
		if hs[i].Name == name {
			return &hs[i]
		}
	}
	return nil
}

const (
	zeekUnset = "-"
	zeekEmpty = "(empty)"
)

// zeekTimeLayout is the #open/#close layout of Zeek's ASCII writer.
const zeekTimeLayout = "2006-01-02-15-04-05"

// writeZeekHeader writes the header lines of Zeek's ASCII log format. #open
// is the first row's capture time in UTC (Zeek writes the wall-clock time
// the log was opened; the capture time keeps the output deterministic).
func writeZeekHeader(w *bufio.Writer, path string, fields, types []string, open time.Time) {
	fmt.Fprintf(w, "#separator \\x09\n#set_separator\t,\n#empty_field\t%s\n#unset_field\t%s\n#path\t%s\n#open\t%s\n#fields\t%s\n#types\t%s\n",
		zeekEmpty, zeekUnset, path, open.UTC().Format(zeekTimeLayout), strings.Join(fields, "\t"), strings.Join(types, "\t"))
}

// writeZeekClose writes the #close line (the last row's capture time).
func writeZeekClose(w *bufio.Writer, t time.Time) {
	fmt.Fprintf(w, "#close\t%s\n", t.UTC().Format(zeekTimeLayout))
}

// zeekTime formats a time as Zeek does: seconds since the epoch with six
// decimals.
func zeekTime(t time.Time) string {
	us := t.UnixMicro()
	sec, frac := us/1e6, us%1e6
	if frac < 0 {
		sec, frac = sec-1, frac+1e6
	}
	return fmt.Sprintf("%d.%06d", sec, frac)
}

func zeekBool(b bool) string {
	if b {
		return "T"
	}
	return "F"
}

// zeekOpt formats an optional string: unset when empty.
func zeekOpt(s string) string {
	if s == "" {
		return zeekUnset
	}
	return zeekString(s)
}

// zeekString escapes a string field as Zeek's ASCII writer does: bytes
// outside printable ASCII and the separator as \xNN, a backslash as \\, and
// a value that would read as the unset or empty marker escaped in full.
func zeekString(s string) string {
	if s == "" {
		return zeekEmpty
	}
	if s == zeekUnset || s == zeekEmpty {
		return escapeAll(s)
	}
	return zeekEscape(s, false)
}

func escapeAll(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, "\\x%02x", s[i])
	}
	return b.String()
}

func zeekEscape(s string, inSet bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			b.WriteString(`\\`)
		case c < 0x20 || c >= 0x7f || (inSet && c == ','):
			fmt.Fprintf(&b, "\\x%02x", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// zeekVector formats a vector[string] field: elements joined by the set
// separator, "(empty)" for an empty vector that is set, unset ("-") for an
// absent one when optional.
func zeekVector(v []string, optional bool) string {
	if len(v) == 0 {
		if optional {
			return zeekUnset
		}
		return zeekEmpty
	}
	parts := make([]string, len(v))
	for i, e := range v {
		if e == "" {
			parts[i] = zeekEmpty
			continue
		}
		parts[i] = zeekEscape(e, true)
	}
	return strings.Join(parts, ",")
}

// zeekObj builds a Zeek JSON log line with keys in column order.
type zeekObj struct {
	b   []byte
	err error
}

func zeekJSONStart(s *Session, uid string, ts time.Time) *zeekObj {
	o := &zeekObj{b: []byte("{")}
	o.raw("ts", zeekTime(ts))
	o.add("uid", uid)
	o.add("id.orig_h", s.Client.Addr().Unmap().String())
	o.add("id.orig_p", s.Client.Port())
	o.add("id.resp_h", s.Server.Addr().Unmap().String())
	o.add("id.resp_p", s.Server.Port())
	return o
}

func (o *zeekObj) raw(k, v string) {
	if len(o.b) > 1 {
		o.b = append(o.b, ',')
	}
	o.b = strconv.AppendQuote(o.b, k)
	o.b = append(o.b, ':')
	o.b = append(o.b, v...)
}

func (o *zeekObj) add(k string, v any) {
	j, err := marshal(v)
	if err != nil {
		o.err = errors.Join(o.err, err)
		return
	}
	o.raw(k, string(j))
}

func (o *zeekObj) addOpt(k, v string) {
	if v != "" {
		o.add(k, v)
	}
}

func (o *zeekObj) write(w *bufio.Writer) error {
	if o.err != nil {
		return o.err
	}
	o.b = append(o.b, '}', '\n')
	_, err := w.Write(o.b)
	return err
}

// marshal is json.Marshal without HTML escaping and without the newline an
// Encoder adds.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
