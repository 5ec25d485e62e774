package render

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/wsdissect/wsdissect/dissect"
)

// Stats is a dissect.Sink that counts what it sees: connections, frames and
// messages by opcode (in a run that emits frame records only, the messages
// are counted from the frames that end them), payload bytes per direction, anomalies by id and
// severity, incomplete and truncated frames and messages. WriteTo writes the
// end-of-run summary used by -q; Summary gives the one-line form used at the
// end of live mode. The zero value is ready to use. A Stats is not safe for
// concurrent use.
type Stats struct {
	conns, midstream, rejected uint64
	// tlsOnly counts the records that list a TLS connection without a
	// dissected handshake (not decrypted, or not WebSocket).
	tlsOnly uint64
	// h2Sessions counts conn records of WebSockets over HTTP/2; h2Requests
	// the ordinary HTTP/2 requests the dissector counted (AddHTTP2Requests).
	h2Sessions, h2Requests uint64

	frames, messages         [16]uint64 // by opcode
	frameBytes, messageBytes [2]uint64  // by direction
	incompleteFrames         uint64
	truncatedFrames          uint64
	incompleteMessages       uint64
	truncatedMessages        uint64
	// framedMessages counts, by opcode, the messages that frame records
	// end (a final or incomplete frame), and framedIncomplete those cut
	// short: the message counts of a run that emits frames only.
	framedMessages   [16]uint64
	framedIncomplete uint64
	anomalies        map[string]anomalyCount // by id
	bySeverity       [3]uint64

	input    Input  // see AddInput
	hasInput bool   // AddInput was called
	filter   string // see SetFilter
	// wireBytes and appBytes add up the end records' payload totals: as
	// sent (compressed) and after inflating.
	wireBytes, appBytes uint64
	// memLimit and memPeak are the memory budget and its peak use.
	memLimit, memPeak int64
}

// SetMemory records the run's memory budget (limit, 0 when none) and the
// most of it used at once (see engine.Stats.Memory), shown by WriteTo.
func (s *Stats) SetMemory(limit, peak int64) {
	s.memLimit, s.memPeak = limit, peak
}

// satAdd returns a+b, or the largest uint64 when that overflows: totals of
// lengths taken from hostile input must not wrap.
func satAdd(a, b uint64) uint64 {
	if c := a + b; c >= a {
		return c
	}
	return math.MaxUint64
}

// anomalyCount is the tally of one anomaly id.
type anomalyCount struct {
	worst dissect.Severity
	n     uint64
}

// Totals are the headline numbers of a Stats, for exit codes and tests.
type Totals struct {
	// Conns counts connection records; Midstream and Rejected those picked
	// up mid-stream and those whose upgrade was refused, TLSOnly those that
	// list a TLS connection without a dissected handshake.
	Conns, Midstream, Rejected, TLSOnly uint64
	// Frames and Messages count frame and message records.
	Frames, Messages uint64
	// Anomalies counts anomalies, and Errors, Warnings and Infos count them
	// by severity.
	Anomalies, Errors, Warnings, Infos uint64
	// IncompleteMessages and TruncatedMessages count message records marked
	// so.
	IncompleteMessages, TruncatedMessages uint64
}

// NewStats returns an empty Stats.
func NewStats() *Stats {
	return &Stats{anomalies: make(map[string]anomalyCount)}
}

// Emit counts one record. It never fails.
func (s *Stats) Emit(rec *dissect.Record) error {
	if rec == nil {
		return nil
	}
	switch rec.Kind {
	case dissect.KindEnd:
		// The connection's totals: payload on the wire and after
		// inflating, for the compression ratio.
		if e := rec.End; e != nil {
			for _, t := range e.Totals {
				s.wireBytes = satAdd(s.wireBytes, t.WireBytes)
				s.appBytes = satAdd(s.appBytes, t.Bytes)
			}
		}
	case dissect.KindConn:
		s.conns++
		if c := rec.Conn; c != nil {
			if c.HTTP2 {
				s.h2Sessions++
			}
			switch {
			case c.Midstream:
				s.midstream++
			case c.TLSListing():
				s.tlsOnly++
			case !c.Upgraded():
				s.rejected++
			}
		}
	case dissect.KindFrame:
		if f := rec.Frame; f != nil {
			s.frames[f.Opcode&0xf]++
			// Count what was on the wire: an incomplete frame's length
			// field may claim up to 2^64-1 bytes.
			n := f.Len
			if f.Incomplete {
				n = min(f.Wire, f.Len)
			}
			s.frameBytes[f.Dir&1] = satAdd(s.frameBytes[f.Dir&1], n)
			if f.Incomplete {
				s.incompleteFrames++
			}
			if f.Truncated {
				s.truncatedFrames++
			}
			if f.Fin || f.Incomplete {
				s.framedMessages[f.MessageOpcode&0xf]++
				if f.Incomplete {
					s.framedIncomplete++
				}
			}
		}
	case dissect.KindMessage:
		if m := rec.Message; m != nil {
			s.messages[m.Opcode&0xf]++
			s.messageBytes[m.Dir&1] = satAdd(s.messageBytes[m.Dir&1], m.Len)
			if m.Incomplete {
				s.incompleteMessages++
			}
			if m.Truncated {
				s.truncatedMessages++
			}
		}
	}
	for i := range rec.Anomalies {
		a := &rec.Anomalies[i]
		sev := min(a.Severity, dissect.SevError)
		s.bySeverity[sev]++
		c, ok := s.anomalies[a.ID]
		if !ok {
			if s.anomalies == nil {
				s.anomalies = make(map[string]anomalyCount)
			}
			// The record's strings are only valid during the call.
			c.worst = sev
			c.n = 1
			s.anomalies[strings.Clone(a.ID)] = c
			continue
		}
		c.worst = max(c.worst, sev)
		c.n++
		s.anomalies[a.ID] = c
	}
	return nil
}

// AddHTTP2Requests adds n ordinary (non-WebSocket) HTTP/2 requests, which
// the dissector counts (dissect.Stats.H2Requests) but emits no records for.
func (s *Stats) AddHTTP2Requests(n uint64) { s.h2Requests += n }

// Merge adds the counts of o into s, as if s had also seen every record o
// saw; a per-worker Stats of a parallel run can so be folded into one. o is
// not changed; a nil o adds nothing. Merging a Stats into itself doubles it.
func (s *Stats) Merge(o *Stats) {
	if o == nil {
		return
	}
	s.conns += o.conns
	s.h2Sessions += o.h2Sessions
	s.h2Requests += o.h2Requests
	s.wireBytes, s.appBytes = satAdd(s.wireBytes, o.wireBytes), satAdd(s.appBytes, o.appBytes)
	s.memLimit, s.memPeak = max(s.memLimit, o.memLimit), max(s.memPeak, o.memPeak)
	s.midstream += o.midstream
	s.rejected += o.rejected
	s.tlsOnly += o.tlsOnly
	for i := range s.frames {
		s.frames[i] += o.frames[i]
		s.messages[i] += o.messages[i]
		s.framedMessages[i] += o.framedMessages[i]
	}
	s.framedIncomplete += o.framedIncomplete
	for i := range s.frameBytes {
		s.frameBytes[i] = satAdd(s.frameBytes[i], o.frameBytes[i])
		s.messageBytes[i] = satAdd(s.messageBytes[i], o.messageBytes[i])
	}
	s.incompleteFrames += o.incompleteFrames
	s.truncatedFrames += o.truncatedFrames
	s.incompleteMessages += o.incompleteMessages
	s.truncatedMessages += o.truncatedMessages
	for i := range s.bySeverity {
		s.bySeverity[i] += o.bySeverity[i]
	}
	if o.hasInput {
		s.AddInput(o.input)
	}
	if s.filter == "" {
		s.filter = o.filter
	}
	if len(o.anomalies) == 0 {
		return
	}
	if s.anomalies == nil {
		s.anomalies = make(map[string]anomalyCount, len(o.anomalies))
	}
	for id, oc := range o.anomalies {
		c, ok := s.anomalies[id]
		if !ok {
			// The key was copied by o's Emit; strings are immutable, so
			// both can share it.
			s.anomalies[id] = oc
			continue
		}
		c.worst = max(c.worst, oc.worst)
		c.n += oc.n
		s.anomalies[id] = c
	}
}

// Totals returns the headline counts.
func (s *Stats) Totals() Totals {
	return Totals{
		Conns:              s.conns,
		Midstream:          s.midstream,
		Rejected:           s.rejected,
		TLSOnly:            s.tlsOnly,
		Frames:             sum(s.frames[:]),
		Messages:           sum(s.messages[:]),
		Anomalies:          sum(s.bySeverity[:]),
		Errors:             s.bySeverity[dissect.SevError],
		Warnings:           s.bySeverity[dissect.SevWarning],
		Infos:              s.bySeverity[dissect.SevInfo],
		IncompleteMessages: s.incompleteMessages,
		TruncatedMessages:  s.truncatedMessages,
	}
}

// Summary returns the one-line summary, without a newline:
//
//	2 connections (1 mid-stream), 10 frames, 0 messages, 120 bytes c2s, 3400 bytes s2c, 1 anomaly (1 warning)
func (s *Stats) Summary() string {
	t := s.Totals()
	var b []byte
	b = appendCount(b, t.Conns, "connection", "connections")
	if t.Midstream > 0 || t.Rejected > 0 || t.TLSOnly > 0 {
		b = append(b, " ("...)
		sep := false
		for _, part := range [...]struct {
			n    uint64
			what string
		}{{t.Midstream, " mid-stream"}, {t.Rejected, " rejected"}, {t.TLSOnly, " TLS not dissected"}} {
			if part.n == 0 {
				continue
			}
			if sep {
				b = append(b, ", "...)
			}
			b = strconv.AppendUint(b, part.n, 10)
			b = append(b, part.what...)
			sep = true
		}
		b = append(b, ')')
	}
	b = append(b, ", "...)
	if s.framesCounted() {
		b = appendCount(b, t.Frames, "frame", "frames")
		b = append(b, ", "...)
	}
	msgs, _ := s.messageCounts()
	b = appendCount(b, sum(msgs[:]), "message", "messages")
	by := s.payloadBytes()
	b = append(b, ", "...)
	b = strconv.AppendUint(b, by[dissect.ClientToServer], 10)
	b = append(b, " bytes c2s, "...)
	b = strconv.AppendUint(b, by[dissect.ServerToClient], 10)
	b = append(b, " bytes s2c, "...)
	b = appendCount(b, t.Anomalies, "anomaly", "anomalies")
	if t.Anomalies > 0 {
		b = append(b, " ("...)
		b = s.appendSeverities(b)
		b = append(b, ')')
	}
	return string(b)
}

// messageCounts returns the messages by opcode and how many of them are
// incomplete: from message records when any were seen, otherwise from the
// frames that ended messages.
func (s *Stats) messageCounts() (byOpcode *[16]uint64, incomplete uint64) {
	if sum(s.messages[:]) > 0 {
		return &s.messages, s.incompleteMessages
	}
	return &s.framedMessages, s.framedIncomplete
}

// payloadBytes returns the payload bytes per direction: from frames (as
// sent) when any were seen, otherwise from messages (inflated).
func (s *Stats) payloadBytes() [2]uint64 {
	if sum(s.frames[:]) > 0 {
		return s.frameBytes
	}
	return s.messageBytes
}

// appendSeverities appends "1 error, 3 warnings, 1 info", leaving out zeros.
func (s *Stats) appendSeverities(b []byte) []byte {
	sep := false
	for _, sev := range [3]dissect.Severity{dissect.SevError, dissect.SevWarning, dissect.SevInfo} {
		n := s.bySeverity[sev]
		if n == 0 {
			continue
		}
		if sep {
			b = append(b, ", "...)
		}
		sep = true
		switch sev {
		case dissect.SevError:
			b = appendCount(b, n, "error", "errors")
		case dissect.SevWarning:
			b = appendCount(b, n, "warning", "warnings")
		default:
			b = appendCount(b, n, "info", "info")
		}
	}
	return b
}

// WriteTo writes the end-of-run summary, several lines; anomaly ids come
// last, worst severity first, then most frequent:
//
//	WebSocket statistics
//	  Connections:  2 (1 mid-stream, 0 rejected)
//	  Frames:       10 (text 6, close 2, ping 1, pong 1)
//	  ...
//
// It implements io.WriterTo.
func (s *Stats) WriteTo(w io.Writer) (int64, error) {
	t := s.Totals()
	var b []byte
	b = append(b, "WebSocket statistics"...)
	if s.filter != "" {
		b = append(b, " of the records matching "...)
		b = appendEscaped(b, s.filter, false, -1)
	}
	b = append(b, '\n')
	if s.hasInput {
		b = s.appendInput(b)
	}
	b = append(b, "  Connections:   "...)
	b = strconv.AppendUint(b, t.Conns, 10)
	b = append(b, " ("...)
	b = strconv.AppendUint(b, t.Midstream, 10)
	b = append(b, " mid-stream, "...)
	b = strconv.AppendUint(b, t.Rejected, 10)
	b = append(b, " rejected"...)
	if t.TLSOnly > 0 {
		b = append(b, ", "...)
		b = strconv.AppendUint(b, t.TLSOnly, 10)
		b = append(b, " TLS not dissected"...)
	}
	b = append(b, ")\n"...)
	if s.h2Sessions > 0 || s.h2Requests > 0 {
		b = append(b, "  HTTP/2:        "...)
		b = appendCount(b, s.h2Sessions, "WebSocket session", "WebSocket sessions")
		b = append(b, ", "...)
		b = appendCount(b, s.h2Requests, "other request", "other requests")
		b = append(b, " (not shown)\n"...)
	}

	b = append(b, "  Frames:        "...)
	if !s.framesCounted() {
		b = append(b, "not counted (--messages counts messages)\n"...)
	} else {
		b = appendByOpcode(b, &s.frames)
	}
	msgs, incompleteMsgs := s.messageCounts()
	b = append(b, "  Messages:      "...)
	b = appendByOpcode(b, msgs)
	if t.Frames > 0 {
		b = append(b, "  Frame bytes:   "...)
		b = appendDirBytes(b, s.frameBytes)
	}
	if t.Messages > 0 {
		b = append(b, "  Message bytes: "...)
		b = appendDirBytes(b, s.messageBytes)
	}
	if s.appBytes != s.wireBytes && s.wireBytes > 0 {
		// Some payload was compressed (permessage-deflate).
		b = append(b, "  Compression:   "...)
		b = strconv.AppendUint(b, s.wireBytes, 10)
		b = append(b, " payload bytes on the wire, "...)
		b = strconv.AppendUint(b, s.appBytes, 10)
		b = append(b, " inflated (ratio "...)
		b = strconv.AppendFloat(b, float64(s.appBytes)/float64(s.wireBytes), 'f', 2, 64)
		b = append(b, ")\n"...)
	}
	b = append(b, "  Incomplete:    "...)
	b = appendCount(b, incompleteMsgs, "message", "messages")
	b = append(b, ", "...)
	b = appendCount(b, s.incompleteFrames, "frame", "frames")
	b = append(b, "\n  Truncated:     "...)
	b = appendCount(b, s.truncatedMessages, "message", "messages")
	b = append(b, ", "...)
	b = appendCount(b, s.truncatedFrames, "frame", "frames")
	b = append(b, "\n  Anomalies:     "...)
	b = strconv.AppendUint(b, t.Anomalies, 10)
	if t.Anomalies > 0 {
		b = append(b, " ("...)
		b = s.appendSeverities(b)
		b = append(b, ')')
	}
	b = append(b, '\n')
	if s.memLimit > 0 {
		b = append(b, "  Memory:        peak "...)
		b = appendMiB(b, s.memPeak)
		b = append(b, " of the "...)
		b = appendMiB(b, s.memLimit)
		b = append(b, " budget\n"...)
	}

	type row struct {
		id string
		anomalyCount
	}
	rows := make([]row, 0, len(s.anomalies))
	width := 0
	for id, c := range s.anomalies {
		rows = append(rows, row{id, c})
		width = max(width, len(id))
	}
	slices.SortFunc(rows, func(x, y row) int {
		if c := cmp.Compare(y.worst, x.worst); c != 0 {
			return c
		}
		if c := cmp.Compare(y.n, x.n); c != 0 {
			return c
		}
		return strings.Compare(x.id, y.id)
	})
	for _, r := range rows {
		b = append(b, "    "...)
		sev := r.worst.String()
		b = append(b, sev...)
		b = append(b, strings.Repeat(" ", 9-len(sev))...)
		b = appendEscaped(b, r.id, false, -1)
		b = append(b, strings.Repeat(" ", width-len(r.id)+2)...)
		b = strconv.AppendUint(b, r.n, 10)
		b = append(b, '\n')
	}

	n, err := w.Write(b)
	if err != nil {
		return int64(n), fmt.Errorf("render: write statistics: %w", err)
	}
	return int64(n), nil
}

// appendByOpcode appends "N (text 6, binary 2, …)" and a newline.
func appendByOpcode(b []byte, counts *[16]uint64) []byte {
	b = strconv.AppendUint(b, sum(counts[:]), 10)
	sep := " ("
	for op, n := range counts {
		if n == 0 {
			continue
		}
		b = append(b, sep...)
		sep = ", "
		name := dissect.OpcodeName(uint8(op))
		b = append(b, name...)
		if name == "reserved" {
			b = append(b, "(0x"...)
			b = append(b, hexDigits[op], ')')
		}
		b = append(b, ' ')
		b = strconv.AppendUint(b, n, 10)
	}
	if sep == ", " {
		b = append(b, ')')
	}
	return append(b, '\n')
}

// appendDirBytes appends "c2s N bytes, s2c M bytes" and a newline.
func appendDirBytes(b []byte, by [2]uint64) []byte {
	b = append(b, "c2s "...)
	b = strconv.AppendUint(b, by[dissect.ClientToServer], 10)
	b = append(b, " bytes, s2c "...)
	b = strconv.AppendUint(b, by[dissect.ServerToClient], 10)
	return append(b, " bytes\n"...)
}

// appendMiB appends n bytes in MiB with one decimal.
func appendMiB(b []byte, n int64) []byte {
	b = strconv.AppendFloat(b, float64(n)/(1<<20), 'f', 1, 64)
	return append(b, " MiB"...)
}

// appendCount appends n and the singular or plural noun.
func appendCount(b []byte, n uint64, one, many string) []byte {
	b = strconv.AppendUint(b, n, 10)
	b = append(b, ' ')
	if n == 1 {
		return append(b, one...)
	}
	return append(b, many...)
}

// sum adds up counters.
func sum(xs []uint64) uint64 {
	var t uint64
	for _, x := range xs {
		t += x
	}
	return t
}
