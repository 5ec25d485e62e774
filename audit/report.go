package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fatih/color"
)

// jsonFinding is the NDJSON form of a finding (a "finding" record).
type jsonFinding struct {
	Type     string   `json:"type"`
	ID       string   `json:"id"`
	Severity string   `json:"severity"`
	Title    string   `json:"title"`
	Host     string   `json:"host,omitempty"`
	Path     string   `json:"path,omitempty"`
	Streams  []uint64 `json:"streams"`
	H2       []uint32 `json:"h2_streams,omitempty"`
	Tunnels  []uint32 `json:"tunnel_streams,omitempty"`
	Conns    int      `json:"conns"`
	Packet   uint64   `json:"packet"`
	TS       string   `json:"ts,omitempty"`
	Client   string   `json:"client,omitempty"`
	Server   string   `json:"server,omitempty"`
	Evidence string   `json:"evidence"`
	Why      string   `json:"why"`
	Fix      string   `json:"fix"`
	File     string   `json:"file,omitempty"`
}

// WriteJSON writes one JSON object per finding and line ({"type":"finding",
// ...}); file, when not empty, is added as "file".
func WriteJSON(w io.Writer, fs []Finding, file string) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, f := range fs {
		j := jsonFinding{
			Type: "finding", ID: f.ID, Severity: f.Severity.String(), Title: f.Title,
			Host: f.Host, Path: f.Path, Streams: f.Streams, H2: f.H2Streams, Tunnels: f.TunnelStreams, Conns: f.Conns, Packet: f.Packet,
			Evidence: f.Evidence, Why: f.Why, Fix: f.Fix, File: file,
		}
		if j.Streams == nil {
			j.Streams = []uint64{}
		}
		if !f.Time.IsZero() {
			j.TS = f.Time.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
		}
		if f.Client.IsValid() {
			j.Client, j.Server = f.Client.String(), f.Server.String()
		}
		if err := enc.Encode(&j); err != nil {
			return fmt.Errorf("write findings: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write findings: %w", err)
	}
	return nil
}

// TextOptions configure WriteText.
type TextOptions struct {
	// Color adds ANSI colours per severity.
	Color bool
	// File, when not empty, is named in the heading.
	File string
	// Coverage, when not nil, is told after the findings (see
	// CoverageLines).
	Coverage *Coverage
}

// CoverageLines describes c for a reader: the handshakes and connections
// checked, then, when some TLS connections were not decrypted, what was not
// checked (notChecked is then true).
func CoverageLines(c Coverage) (lines []string, notChecked bool) {
	checked := "checked: " + plural(c.Handshakes, "WebSocket handshake", "WebSocket handshakes")
	if c.Midstream > 0 {
		checked += "; " + plural(c.Midstream, "connection", "connections") + " without its handshake (messages only)"
	}
	lines = append(lines, checked)
	if c.NotDecrypted.Total() == 0 {
		return lines, false
	}
	line := "not checked: " + c.NotDecrypted.Summary() + ": WebSocket traffic inside was not audited"
	if c.NotDecrypted.NoKeyLog() {
		line += " (give the key log with --keylog)"
	}
	return append(lines, line), true
}

// plural formats n with the singular or plural noun.
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// WriteText writes a readable report of fs grouped by host (hosts in order
// of their most severe finding), one block per finding with its evidence,
// why it matters and the fix; and a last line counting findings per
// severity.
func WriteText(w io.Writer, fs []Finding, o TextOptions) error {
	bw := bufio.NewWriter(w)
	sev := func(s Severity) *color.Color {
		var c *color.Color
		switch s {
		case High:
			c = color.New(color.FgRed, color.Bold)
		case Medium:
			c = color.New(color.FgYellow, color.Bold)
		case Low:
			c = color.New(color.FgCyan)
		default:
			c = color.New(color.FgBlue)
		}
		if o.Color {
			c.EnableColor()
		} else {
			c.DisableColor()
		}
		return c
	}
	bold := color.New(color.Bold)
	dim := color.New(color.Faint)
	if o.Color {
		bold.EnableColor()
		dim.EnableColor()
	} else {
		bold.DisableColor()
		dim.DisableColor()
	}
	head := "Security audit"
	if o.File != "" {
		head += " of " + o.File
	}
	fmt.Fprintln(bw, bold.Sprint(head))
	coverage := func() {
		if o.Coverage == nil {
			return
		}
		lines, _ := CoverageLines(*o.Coverage)
		for _, l := range lines {
			fmt.Fprintln(bw, dim.Sprint(l))
		}
	}
	if len(fs) == 0 {
		fmt.Fprintln(bw, "no findings")
		coverage()
		return flush(bw)
	}
	var hosts []string
	for _, f := range fs {
		if !slices.Contains(hosts, f.Host) {
			hosts = append(hosts, f.Host)
		}
	}
	var counts [4]int
	for _, h := range hosts {
		name := h
		if name == "" {
			name = "(no handshake in the capture)"
		}
		fmt.Fprintf(bw, "\n%s\n", bold.Sprint(name))
		for _, f := range fs {
			if f.Host != h {
				continue
			}
			counts[f.Severity]++
			label := fmt.Sprintf("%-6s", strings.ToUpper(f.Severity.String()))
			fmt.Fprintf(bw, "  %s %s  %s\n", sev(f.Severity).Sprint(label), bold.Sprint(f.ID), f.Title)
			where := f.Path
			if where == "" {
				where = "-"
			}
			fmt.Fprintf(bw, "         %s  %s  packet %d", where, streamList(f), f.Packet)
			if f.Client.IsValid() {
				fmt.Fprintf(bw, "  %s → %s", f.Client, f.Server)
			}
			if !f.Time.IsZero() {
				fmt.Fprintf(bw, "  %s", f.Time.UTC().Format(time.RFC3339Nano))
			}
			fmt.Fprintln(bw)
			fmt.Fprintf(bw, "         %s %s\n", dim.Sprint("evidence:"), f.Evidence)
			fmt.Fprintf(bw, "         %s %s\n", dim.Sprint("why:"), f.Why)
			fmt.Fprintf(bw, "         %s %s\n", dim.Sprint("fix:"), f.Fix)
		}
	}
	fmt.Fprintf(bw, "\n%d findings: %d high, %d medium, %d low, %d info\n",
		len(fs), counts[High], counts[Medium], counts[Low], counts[Info])
	coverage()
	return flush(bw)
}

func flush(bw *bufio.Writer) error {
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write findings: %w", err)
	}
	return nil
}

// streamList describes the connections of a finding: "stream 3" or
// "streams 0,1,4 (3 connections)", a WebSocket over HTTP/2 named by its TCP
// and HTTP/2 streams as conns and follow name it ("stream 2/5"; "2/1/3"
// for HTTP/2 stream 3 in the proxy tunnel on HTTP/2 stream 1).
func streamList(f Finding) string {
	session := func(b []byte, i int) []byte {
		b = strconv.AppendUint(b, f.Streams[i], 10)
		if t := f.tunnelAt(i); t != 0 {
			b = append(b, '/')
			b = strconv.AppendUint(b, uint64(t), 10)
		}
		if h2 := f.h2At(i); h2 != 0 {
			b = append(b, '/')
			b = strconv.AppendUint(b, uint64(h2), 10)
		}
		return b
	}
	if f.Conns <= 1 && len(f.Streams) == 1 {
		return string(session([]byte("stream "), 0))
	}
	b := []byte("streams ")
	for i := range f.Streams {
		if i == 20 {
			b = append(b, ",…"...)
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = session(b, i)
	}
	return string(fmt.Appendf(b, " (%d connections)", f.Conns))
}

// Worst returns the highest severity among fs and whether there is any.
func Worst(fs []Finding) (Severity, bool) {
	if len(fs) == 0 {
		return Info, false
	}
	w := Info
	for _, f := range fs {
		w = max(w, f.Severity)
	}
	return w, true
}
