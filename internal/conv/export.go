package conv

import (
	"bufio"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/dissect"
)

// FileExporter writes every message as a file OUT/<stream>/<n>-<dir>.<ext>
// (OUT/<stream>/<h2 stream>/... for a WebSocket over HTTP/2) and one line
// per message into OUT/index.ndjson, as the messages complete;
// it keeps nothing in memory. The extension follows the content: .json for
// a text message that is valid JSON, .txt for other text, .bin for binary
// and control messages (the raw payload; a close message's starts with its
// code).
type FileExporter struct {
	dir   string
	index *os.File
	w     *bufio.Writer
	made  map[ID]bool
	err   error
}

// NewFileExporter creates dir (it may exist, but must not hold an
// index.ndjson already, so two exports are not mixed) and its index.
func NewFileExporter(dir string) (*FileExporter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, "index.ndjson"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%w (export into an empty directory)", err)
	}
	return &FileExporter{dir: dir, index: f, w: bufio.NewWriter(f), made: make(map[ID]bool)}, nil
}

// MessageFile returns the file name (relative to the export directory) of a
// message: <stream>/<n, six digits>-<dir>.<ext>, or over HTTP/2
// <stream>/<h2 stream>/<n>-<dir>.<ext>.
func MessageFile(s *Session, m *Message) string {
	ext := ".bin"
	if m.Opcode != dissect.OpClose && m.Text && utf8.Valid(m.Payload) {
		ext = ".txt"
		if json.Valid(m.Payload) {
			ext = ".json"
		}
	}
	return filepath.Join(sessionDir(s), fmt.Sprintf("%06d-%s%s", m.N, m.Dir, ext))
}

// sessionDir is the directory of a session's messages, relative to the
// export directory.
func sessionDir(s *Session) string {
	dir := strconv.FormatUint(s.Stream, 10)
	if s.TunnelStream != 0 {
		dir = filepath.Join(dir, strconv.FormatUint(uint64(s.TunnelStream), 10))
	}
	if s.H2Stream != 0 {
		dir = filepath.Join(dir, strconv.FormatUint(uint64(s.H2Stream), 10))
	}
	return dir
}

// Message writes one message; it fits Options.OnMessage.
func (e *FileExporter) Message(s *Session, m *Message) error {
	if e.err != nil {
		return e.err
	}
	if !e.made[s.ID()] {
		if err := os.MkdirAll(filepath.Join(e.dir, sessionDir(s)), 0o755); err != nil {
			e.err = err
			return err
		}
		e.made[s.ID()] = true
	}
	name := MessageFile(s, m)
	if err := os.WriteFile(filepath.Join(e.dir, name), m.Payload, 0o644); err != nil {
		e.err = err
		return err
	}
	j := messageJSON(s, m, false)
	j.File = filepath.ToSlash(name)
	b, err := marshal(j)
	if err != nil {
		e.err = err
		return err
	}
	e.w.Write(b)
	e.err = e.w.WriteByte('\n')
	return e.err
}

// Close finishes the index.
func (e *FileExporter) Close() error {
	return cmp.Or(e.err, e.w.Flush(), e.index.Close())
}

// HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) with the
// WebSocket extension Chrome DevTools writes: each WebSocket connection is
// an entry whose request and response are the upgrade handshake, and whose
// "_webSocketMessages" lists the data messages as
// {"type": "send"|"receive", "time": seconds since the epoch, "opcode": 1|2,
// "data": text, or base64 for binary}.
type (
	harLog struct {
		Log harBody `json:"log"`
	}
	harBody struct {
		Version string     `json:"version"`
		Creator harCreator `json:"creator"`
		Entries []harEntry `json:"entries"`
	}
	harCreator struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	}
	harEntry struct {
		StartedDateTime string         `json:"startedDateTime"`
		Time            float64        `json:"time"`
		Request         harRequest     `json:"request"`
		Response        harResponse    `json:"response"`
		Cache           struct{}       `json:"cache"`
		Timings         harTimings     `json:"timings"`
		ServerIPAddress string         `json:"serverIPAddress,omitempty"`
		Connection      string         `json:"connection,omitempty"`
		ResourceType    string         `json:"_resourceType"`
		Messages        []HARWSMessage `json:"_webSocketMessages"`
	}
	harRequest struct {
		Method      string  `json:"method"`
		URL         string  `json:"url"`
		HTTPVersion string  `json:"httpVersion"`
		Cookies     []harNV `json:"cookies"`
		Headers     []harNV `json:"headers"`
		QueryString []harNV `json:"queryString"`
		HeadersSize int     `json:"headersSize"`
		BodySize    int     `json:"bodySize"`
	}
	harResponse struct {
		Status      int        `json:"status"`
		StatusText  string     `json:"statusText"`
		HTTPVersion string     `json:"httpVersion"`
		Cookies     []harNV    `json:"cookies"`
		Headers     []harNV    `json:"headers"`
		Content     harContent `json:"content"`
		RedirectURL string     `json:"redirectURL"`
		HeadersSize int        `json:"headersSize"`
		BodySize    int        `json:"bodySize"`
	}
	harNV struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	harContent struct {
		Size     int    `json:"size"`
		MimeType string `json:"mimeType"`
	}
	harTimings struct {
		Blocked float64 `json:"blocked"`
		DNS     float64 `json:"dns"`
		Connect float64 `json:"connect"`
		Send    float64 `json:"send"`
		Wait    float64 `json:"wait"`
		Receive float64 `json:"receive"`
		SSL     float64 `json:"ssl"`
	}
)

// HARWSMessage is one element of an entry's "_webSocketMessages", as Chrome
// DevTools writes it.
type HARWSMessage struct {
	// Type is "send" (client to server) or "receive".
	Type string `json:"type"`
	// Time is the capture time in seconds since the Unix epoch.
	Time float64 `json:"time"`
	// Opcode is 1 (text) or 2 (binary).
	Opcode uint8 `json:"opcode"`
	// Data is the text, or the binary payload in standard base64.
	Data string `json:"data"`
}

// HARCollector gathers the data messages of every connection for a HAR
// file. Their payloads stay in memory until WriteHAR (up to MaxBytes in
// total; beyond that, messages are listed with empty data).
type HARCollector struct {
	// MaxBytes caps the payload bytes kept in total (0: 1 GiB).
	MaxBytes int64
	kept     int64
	msgs     map[*Session][]HARWSMessage
	// Dropped counts messages whose data was left out for MaxBytes.
	Dropped int
}

// NewHARCollector returns an empty HARCollector.
func NewHARCollector() *HARCollector { return &HARCollector{msgs: make(map[*Session][]HARWSMessage)} }

// Message records a data message; it fits Options.OnMessage.
func (h *HARCollector) Message(s *Session, m *Message) error {
	if m.Opcode != dissect.OpText && m.Opcode != dissect.OpBinary {
		return nil
	}
	hm := HARWSMessage{Type: "send", Time: float64(m.Time.UnixMicro()) / 1e6, Opcode: m.Opcode}
	if m.Dir == dissect.ServerToClient {
		hm.Type = "receive"
	}
	limit := cmp.Or(h.MaxBytes, 1<<30)
	if h.kept+int64(len(m.Payload)) > limit {
		h.Dropped++
	} else {
		h.kept += int64(len(m.Payload))
		if m.Opcode == dissect.OpText && utf8.Valid(m.Payload) {
			hm.Data = string(m.Payload)
		} else {
			hm.Data = base64.StdEncoding.EncodeToString(m.Payload)
		}
	}
	h.msgs[s] = append(h.msgs[s], hm)
	return nil
}

// WriteHAR writes a HAR 1.2 log with one entry per session that has a
// handshake (a connection picked up mid-stream has no request to show),
// in stream order; creator names wsdissect with version.
func (h *HARCollector) WriteHAR(w io.Writer, ss []*Session, version string) error {
	log := harLog{Log: harBody{Version: "1.2", Creator: harCreator{Name: "wsdissect", Version: version}, Entries: []harEntry{}}}
	for _, s := range ss {
		if s.Midstream || s.Request == "" {
			continue
		}
		log.Log.Entries = append(log.Log.Entries, harEntryOf(s, h.msgs[s]))
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(log); err != nil {
		return err
	}
	return bw.Flush()
}

func harEntryOf(s *Session, msgs []HARWSMessage) harEntry {
	if msgs == nil {
		msgs = []HARWSMessage{}
	}
	wait := -1.0
	if !s.ResponseTime.IsZero() {
		wait = ms(s.ResponseTime.Sub(s.RequestTime))
	}
	host := s.Host
	if host == "" {
		host = s.Server.String()
	}
	scheme := "ws://"
	if s.TLS != nil {
		scheme = "wss://"
	}
	u := scheme + host + s.Path
	e := harEntry{
		StartedDateTime: s.RequestTime.UTC().Format("2006-01-02T15:04:05.000000Z"),
		Time:            max(wait, 0),
		Request: harRequest{
			Method: cmp.Or(s.Method, "GET"), URL: u, HTTPVersion: httpVersion(s, s.Request),
			Cookies: []harNV{}, Headers: harHeaders(s.RequestHeaders), QueryString: queryString(s.Path),
			HeadersSize: len(s.Request), BodySize: 0,
		},
		Response: harResponse{
			Status: s.Status, StatusText: s.StatusText, HTTPVersion: httpVersion(s, s.Response),
			Cookies: []harNV{}, Headers: harHeaders(s.ResponseHeaders),
			Content: harContent{Size: 0, MimeType: "x-unknown"}, HeadersSize: -1, BodySize: 0,
		},
		Timings:         harTimings{Blocked: -1, DNS: -1, Connect: -1, Send: 0, Wait: max(wait, 0), Receive: 0, SSL: -1},
		ServerIPAddress: s.Server.Addr().Unmap().String(),
		Connection:      strconv.FormatUint(s.Stream, 10),
		ResourceType:    "websocket",
		Messages:        msgs,
	}
	switch {
	case s.HTTP2:
		// HPACK-compressed on the wire: the decoded text's size is not it.
		e.Request.HeadersSize = -1
	case s.Response != "":
		e.Response.HeadersSize = len(s.Response)
	}
	return e
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// httpVersion returns the HTTP version of a session's raw request or status
// line: "http/2.0" (as Chrome writes it) over HTTP/2, whose header blocks
// have no such line.
func httpVersion(s *Session, raw string) string {
	if s.HTTP2 {
		return "http/2.0"
	}
	line, _, _ := strings.Cut(raw, "\n")
	line = strings.TrimSpace(line)
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "HTTP/") {
			return f
		}
	}
	return "HTTP/1.1"
}

func harHeaders(hs []dissect.Header) []harNV {
	out := make([]harNV, 0, len(hs))
	for _, h := range hs {
		out = append(out, harNV{Name: h.Name, Value: h.Value})
	}
	return out
}

func queryString(path string) []harNV {
	out := []harNV{}
	_, q, ok := strings.Cut(path, "?")
	if !ok {
		return out
	}
	vals, err := url.ParseQuery(q)
	if err != nil {
		return out
	}
	for _, kv := range strings.Split(q, "&") {
		k, _, _ := strings.Cut(kv, "=")
		name, err := url.QueryUnescape(k)
		if err != nil || vals[name] == nil {
			continue
		}
		out = append(out, harNV{Name: name, Value: vals[name][0]})
		vals[name] = vals[name][1:]
		if len(vals[name]) == 0 {
			delete(vals, name)
		}
	}
	return out
}
