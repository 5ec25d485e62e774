package conv

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// SortKeys are the orders SortSessions knows.
var SortKeys = []string{"stream", "start", "duration", "bytes", "msgs"}

// SortSessions orders sessions by key (see SortKeys): stream and start
// ascending, duration, bytes and msgs descending (largest first); ties keep
// stream order. It returns an error for an unknown key.
func SortSessions(ss []*Session, key string) error {
	var f func(a, b *Session) int
	switch key {
	case "", "stream":
		f = func(a, b *Session) int { return compareIDs(a, b) }
	case "start":
		f = func(a, b *Session) int { return a.Start.Compare(b.Start) }
	case "duration":
		f = func(a, b *Session) int { return cmp.Compare(b.Duration(), a.Duration()) }
	case "bytes":
		f = func(a, b *Session) int { return cmp.Compare(b.Bytes(), a.Bytes()) }
	case "msgs":
		f = func(a, b *Session) int { return cmp.Compare(b.Msgs(), a.Msgs()) }
	default:
		return fmt.Errorf("unknown sort key %q (want one of %s)", key, strings.Join(SortKeys, ", "))
	}
	slices.SortStableFunc(ss, func(a, b *Session) int {
		if c := f(a, b); c != 0 {
			return c
		}
		return compareIDs(a, b)
	})
	return nil
}

// compareIDs orders sessions by TCP stream, then HTTP/2 stream (of the
// proxy tunnel first).
func compareIDs(a, b *Session) int {
	return cmp.Or(cmp.Compare(a.Stream, b.Stream), cmp.Compare(a.TunnelStream, b.TunnelStream), cmp.Compare(a.H2Stream, b.H2Stream))
}

// SessionJSON is the JSON form of a session written by WriteConnsJSON (one
// object per line). Durations are in seconds, times RFC 3339 in UTC.
type SessionJSON struct {
	Stream              uint64         `json:"stream"`
	H2Stream            uint32         `json:"h2_stream,omitempty"`
	H2TunnelStream      uint32         `json:"h2_tunnel_stream,omitempty"`
	Client              string         `json:"client"`
	Server              string         `json:"server"`
	CommunityID         string         `json:"community_id,omitempty"`
	Midstream           bool           `json:"midstream"`
	TLS                 *TLSJSON       `json:"tls,omitempty"`
	Status              int            `json:"status,omitempty"`
	Host                string         `json:"host,omitempty"`
	Path                string         `json:"path,omitempty"`
	UserAgent           string         `json:"user_agent,omitempty"`
	Proxy               string         `json:"proxy,omitempty"`
	ProxyProtocol       string         `json:"proxy_protocol,omitempty"`
	Tunnel              string         `json:"tunnel,omitempty"`
	TunnelID            *uint32        `json:"tunnel_id,omitempty"`
	SubprotocolsOffered []string       `json:"subprotocols_offered,omitempty"`
	Subprotocol         string         `json:"subprotocol,omitempty"`
	ExtensionsOffered   []string       `json:"extensions_offered,omitempty"`
	Extensions          []string       `json:"extensions,omitempty"`
	Start               string         `json:"start"`
	Last                string         `json:"last"`
	Duration            float64        `json:"duration"`
	FirstPacket         uint64         `json:"first_packet"`
	LastPacket          uint64         `json:"last_packet"`
	C2S                 DirJSON        `json:"c2s"`
	S2C                 DirJSON        `json:"s2c"`
	Largest             uint64         `json:"largest_message"`
	RTT                 *RTTJSON       `json:"rtt,omitempty"`
	UnansweredPings     int            `json:"unanswered_pings,omitempty"`
	UnmatchedPongs      int            `json:"unmatched_pongs,omitempty"`
	FirstCloser         string         `json:"first_closer,omitempty"`
	CloseC2S            *CloseJSON     `json:"close_c2s,omitempty"`
	CloseS2C            *CloseJSON     `json:"close_s2c,omitempty"`
	WSEnd               string         `json:"ws_end,omitempty"`
	TCPEnd              string         `json:"tcp_end,omitempty"`
	Anomalies           int            `json:"anomalies"`
	AnomalyIDs          map[string]int `json:"anomaly_ids,omitempty"`
}

// DirJSON is one direction's counts.
type DirJSON struct {
	Frames     uint64  `json:"frames"`
	Messages   uint64  `json:"messages"`
	Text       uint64  `json:"text"`
	Binary     uint64  `json:"binary"`
	Ping       uint64  `json:"ping"`
	Pong       uint64  `json:"pong"`
	Close      uint64  `json:"close"`
	WireBytes  uint64  `json:"wire_bytes"`
	DataWire   uint64  `json:"data_wire_bytes"`
	DataBytes  uint64  `json:"data_bytes"`
	Ratio      float64 `json:"compression_ratio,omitempty"`
	Compressed uint64  `json:"compressed_messages"`
	Largest    uint64  `json:"largest_message"`
}

// RTTJSON summarises ping round trips in seconds.
type RTTJSON struct {
	Count  int     `json:"count"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// CloseJSON is one side's first close frame.
type CloseJSON struct {
	TS     string `json:"ts"`
	Packet uint64 `json:"packet"`
	Code   uint16 `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func tsText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

func dirJSON(d *DirStats) DirJSON {
	j := DirJSON{Frames: d.Frames, Messages: d.Messages, Text: d.Text, Binary: d.Binary, Ping: d.Ping,
		Pong: d.Pong, Close: d.Close, WireBytes: d.WireBytes, DataWire: d.DataWire, DataBytes: d.DataBytes,
		Compressed: d.Compressed, Largest: d.Largest}
	if d.DataWire > 0 {
		j.Ratio = roundTo(d.Ratio(), 4)
	}
	return j
}

func roundTo(f float64, digits int) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(f, 'f', digits, 64), 64)
	return v
}

func closeJSON(c *Close) *CloseJSON {
	if !c.Seen {
		return nil
	}
	j := &CloseJSON{TS: tsText(c.Time), Packet: c.Packet, Reason: c.Reason}
	if c.HasCode {
		j.Code = c.Code
	}
	return j
}

// TLSJSON is the JSON form of a session's TLS layer (the keys of the
// NDJSON records' "tls" object).
type TLSJSON struct {
	Version     string `json:"version,omitempty"`
	Cipher      string `json:"cipher,omitempty"`
	SNI         string `json:"sni,omitempty"`
	ALPN        string `json:"alpn,omitempty"`
	Decrypted   bool   `json:"decrypted"`
	Reason      string `json:"reason,omitempty"`
	ClientBytes uint64 `json:"client_bytes,omitempty"`
	ServerBytes uint64 `json:"server_bytes,omitempty"`
}

// JSON returns the session's JSON form.
func (s *Session) JSON() SessionJSON {
	j := SessionJSON{
		Stream: s.Stream, H2Stream: s.H2Stream, H2TunnelStream: s.TunnelStream, Client: s.Client.String(), Server: s.Server.String(), CommunityID: s.CommunityID,
		Midstream: s.Midstream, Status: s.Status, Host: s.Host, Path: s.Path, UserAgent: s.UserAgent, Proxy: s.Proxy, ProxyProtocol: s.ProxyProtocol, Tunnel: s.Tunnel, TunnelID: s.TunnelID,
		SubprotocolsOffered: s.SubprotocolsOffered, Subprotocol: s.Subprotocol,
		ExtensionsOffered: s.ExtensionsOffered, Extensions: s.Extensions,
		Start: tsText(s.Start), Last: tsText(s.Last), Duration: s.Duration().Seconds(),
		FirstPacket: s.FirstPacket, LastPacket: s.LastPacket,
		C2S: dirJSON(&s.Dirs[0]), S2C: dirJSON(&s.Dirs[1]), Largest: s.Largest(),
		UnansweredPings: s.UnansweredPings, UnmatchedPongs: s.UnmatchedPongs,
		CloseC2S: closeJSON(&s.Closes[0]), CloseS2C: closeJSON(&s.Closes[1]),
		WSEnd: s.WSEnd(), TCPEnd: s.End.Reason, Anomalies: s.Anomalies, AnomalyIDs: s.AnomalyIDs,
	}
	if t := s.TLS; t != nil {
		j.TLS = &TLSJSON{Version: t.Version, Cipher: t.Cipher, SNI: t.SNI, ALPN: t.ALPN, Decrypted: t.Decrypted,
			Reason: t.Reason, ClientBytes: t.ClientBytes, ServerBytes: t.ServerBytes}
	}
	if s.RTT.Count > 0 {
		j.RTT = &RTTJSON{Count: s.RTT.Count, Min: s.RTT.Min.Seconds(), Median: s.RTT.Median().Seconds(), Max: s.RTT.Max.Seconds()}
	}
	if s.Closes[0].Seen || s.Closes[1].Seen {
		j.FirstCloser = s.FirstCloser.String()
	}
	return j
}

// WriteConnsJSON writes one JSON object per session and line.
func WriteConnsJSON(w io.Writer, ss []*Session) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, s := range ss {
		if err := enc.Encode(s.JSON()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// connsHeader are the table's column titles.
var connsHeader = []string{"STREAM", "CLIENT", "SERVER", "HOST", "PATH", "SUBPROTO", "EXT", "START", "DURATION",
	"MSGS →/←", "BYTES →/←", "INFLATED →/←", "RATIO", "LARGEST", "RTT min/med/max", "CLOSE", "END", "ANOM"}

// rightAligned marks numeric columns.
var rightAligned = map[int]bool{0: true, 8: true, 9: true, 10: true, 11: true, 12: true, 13: true, 17: true}

// Widest cells of the free-text columns of the conns table unless it is
// wide (longer ones end in "…"): a SignalR path carries a whole JWT in its
// query, a close reason may be 123 bytes.
const (
	maxHostCell        = 40
	maxPathCell        = 80
	maxSubprotocolCell = 32
	maxExtensionsCell  = 80
	maxCloseReasonCell = 32
)

// ConnsRows returns the table cells of the sessions, one row per session
// (without the header). Unless wide, long hosts, paths, subprotocols,
// extensions and close reasons are cut short with "…".
func ConnsRows(ss []*Session, wide bool) [][]string {
	clip := func(s string, n int) string {
		if wide {
			return s
		}
		return Clip(s, n)
	}
	rows := make([][]string, 0, len(ss))
	for _, s := range ss {
		ext := "-"
		if len(s.Extensions) > 0 {
			ext = clip(Printable(strings.Join(s.Extensions, ",")), maxExtensionsCell)
		}
		host, path := orDash(clip(Printable(s.Host), maxHostCell)), orDash(clip(Printable(s.Path), maxPathCell))
		switch {
		case s.Midstream:
			host, path = "(midstream)", "-"
		case s.TLSOnly():
			host, path = orDash(clip(Printable(s.TLS.SNI), maxHostCell)), "(TLS)"
			if s.TLS.Reason != "" {
				path = clip("(TLS: "+Printable(s.TLS.Reason), maxPathCell-1) + ")"
			}
		case s.Status != 0 && !s.Accepted():
			path += " [" + strconv.Itoa(s.Status) + "]"
		}
		c, v := &s.Dirs[0], &s.Dirs[1]
		ratio := "-"
		if c.Compressed+v.Compressed > 0 && c.DataWire+v.DataWire > 0 {
			ratio = strconv.FormatFloat(float64(c.DataBytes+v.DataBytes)/float64(c.DataWire+v.DataWire), 'f', 2, 64)
		}
		rtt := "-"
		if s.RTT.Count > 0 {
			rtt = fmtDur(s.RTT.Min) + "/" + fmtDur(s.RTT.Median()) + "/" + fmtDur(s.RTT.Max)
		}
		rows = append(rows, []string{
			s.ID().String(), s.Client.String(), s.Server.String(), host, path,
			orDash(clip(Printable(s.Subprotocol), maxSubprotocolCell)), ext, s.Start.UTC().Format("15:04:05.000"), fmtDur(s.Duration()),
			fmt.Sprintf("%d/%d", c.Messages, v.Messages),
			HumanBytes(c.WireBytes) + "/" + HumanBytes(v.WireBytes),
			HumanBytes(c.DataBytes) + "/" + HumanBytes(v.DataBytes),
			ratio, HumanBytes(s.Largest()), rtt, closeText(s, clip), endText(s), strconv.Itoa(s.Anomalies),
		})
	}
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Clip returns s cut to at most n runes, the last of them "…" when it was
// cut.
func Clip(s string, n int) string {
	if n <= 0 || len(s) <= n {
		return s
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
		}
		count++
		if count > n {
			return s[:i] + "…"
		}
	}
	return s
}

// closeText says who closed first, with which code and reason (cut by
// clip).
func closeText(s *Session, clip func(string, int) string) string {
	if !s.Closes[0].Seen && !s.Closes[1].Seen {
		return "-"
	}
	cl := &s.Closes[s.FirstCloser&1]
	t := s.FirstCloser.String()
	if cl.HasCode {
		t += " " + strconv.Itoa(int(cl.Code))
	}
	if cl.Reason != "" {
		t += " " + strconv.Quote(clip(cl.Reason, maxCloseReasonCell))
	}
	return t
}

// endText combines the WebSocket close state and the TCP end.
func endText(s *Session) string {
	ws := s.WSEnd()
	if ws == "" {
		ws = "no-close"
	}
	if s.End.Reason != "" {
		return ws + "," + s.End.Reason
	}
	return ws
}

// fmtDur formats a duration with about three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + fmtDur(-d)
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

// HumanBytes formats a byte count: exact below 10 KiB, else in KiB, MiB or
// GiB with one decimal.
func HumanBytes(n uint64) string {
	switch {
	case n < 10<<10:
		return strconv.FormatUint(n, 10)
	case n < 10<<20:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + "K"
	case n < 10<<30:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + "M"
	}
	return strconv.FormatFloat(float64(n)/(1<<30), 'f', 1, 64) + "G"
}

// WriteConnsTable writes the sessions as an aligned table with a header;
// wide keeps long cells whole (see ConnsRows).
func WriteConnsTable(w io.Writer, ss []*Session, wide bool) error {
	return WriteTable(w, connsHeader, ConnsRows(ss, wide), rightAligned)
}

// WriteTable writes rows as columns separated by two spaces, padded to the
// widest cell (counted in runes); columns in right are right-aligned.
func WriteTable(w io.Writer, header []string, rows [][]string, right map[int]bool) error {
	width := make([]int, len(header))
	all := append([][]string{header}, rows...)
	for _, r := range all {
		for i, c := range r {
			width[i] = max(width[i], runeLen(c))
		}
	}
	bw := bufio.NewWriter(w)
	for _, r := range all {
		var line strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-runeLen(c))
			if i > 0 {
				line.WriteString("  ")
			}
			if right[i] {
				line.WriteString(pad + c)
			} else if i == len(r)-1 {
				line.WriteString(c)
			} else {
				line.WriteString(c + pad)
			}
		}
		bw.WriteString(strings.TrimRight(line.String(), " "))
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

func runeLen(s string) int { return len([]rune(s)) }

// dirArrow is the arrow of a direction in transcripts.
func dirArrow(d dissect.Dir) string {
	if d == dissect.ServerToClient {
		return "←"
	}
	return "→"
}
