package render

import (
	"bytes"
	"errors"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// TestStats feeds every fixture to a Stats and checks its totals and both
// summaries.
func TestStats(t *testing.T) {
	s := NewStats()
	fx := fixtures()
	for i := range fx {
		if err := s.Emit(&fx[i].rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Emit(nil); err != nil {
		t.Errorf("Emit(nil) = %v", err)
	}
	wantTotals := Totals{
		Conns: 4, Midstream: 1, Rejected: 1,
		Frames: 14, Messages: 5,
		Anomalies: 9, Errors: 5, Warnings: 2, Infos: 2,
		IncompleteMessages: 1, TruncatedMessages: 1,
	}
	if got := s.Totals(); got != wantTotals {
		t.Errorf("Totals() = %+v\nwant %+v", got, wantTotals)
	}

	const wantSummary = "4 connections (1 mid-stream, 1 rejected), 14 frames, 5 messages, " +
		"34 bytes c2s, 1121 bytes s2c, 9 anomalies (5 errors, 2 warnings, 2 info)"
	if got := s.Summary(); got != wantSummary {
		t.Errorf("Summary() =\n%q\nwant\n%q", got, wantSummary)
	}

	const want = `WebSocket statistics
  Connections:   4 (1 mid-stream, 1 rejected)
  Frames:        14 (continuation 1, text 6, binary 2, reserved(0x3) 1, close 2, ping 1, pong 1)
  Messages:      5 (text 2, binary 1, close 1, ping 1)
  Frame bytes:   c2s 34 bytes, s2c 1121 bytes
  Message bytes: c2s 22 bytes, s2c 100020 bytes
  Incomplete:    1 message, 1 frame
  Truncated:     1 message, 1 frame
  Anomalies:     9 (5 errors, 2 warnings, 2 info)
    error    tcp-gap          2
    error    bad-accept       1
    error    invalid-utf8     1
    error    reserved-opcode  1
    warning  no-close         1
    warning  rsv-bits         1
    info     midstream        1
    info     resync           1
`
	var out bytes.Buffer
	n, err := s.WriteTo(&out)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(out.Len()) {
		t.Errorf("WriteTo returned %d, wrote %d bytes", n, out.Len())
	}
	if got := out.String(); got != want {
		t.Errorf("WriteTo:\n%s\nwant:\n%s", got, want)
	}
}

// TestStatsEmpty checks the summaries of a run without records.
func TestStatsEmpty(t *testing.T) {
	s := NewStats()
	if got, want := s.Summary(), "0 connections, 0 frames, 0 messages, 0 bytes c2s, 0 bytes s2c, 0 anomalies"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
	var out bytes.Buffer
	if _, err := s.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "  Frames:        0\n") || !strings.Contains(out.String(), "  Anomalies:     0\n") {
		t.Errorf("WriteTo:\n%s", out.String())
	}
	if strings.Contains(out.String(), "bytes:") {
		t.Errorf("byte lines without frames or messages:\n%s", out.String())
	}
}

// TestStatsCopiesIDs checks that anomaly ids are copied: records are only
// valid during Emit.
func TestStatsCopiesIDs(t *testing.T) {
	var s Stats // the zero value works too
	id := []byte("gap-x")
	rec := dissect.Record{Kind: dissect.KindAnomaly, Anomalies: []dissect.Anomaly{{ID: string(id), Severity: 7}}}
	if err := s.Emit(&rec); err != nil {
		t.Fatal(err)
	}
	rec.Anomalies[0].ID = "other"
	var out bytes.Buffer
	if _, err := s.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	// Severities beyond error count as errors.
	if !strings.Contains(out.String(), "    error    gap-x  1\n") {
		t.Errorf("WriteTo:\n%s", out.String())
	}
}

// TestStatsAllocs checks that counting a record allocates nothing once its
// anomaly ids are known.
func TestStatsAllocs(t *testing.T) {
	s := NewStats()
	fx := fixtures()
	for i := range fx {
		if err := s.Emit(&fx[i].rec); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(20, func() {
		for i := range fx {
			if err := s.Emit(&fx[i].rec); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

// recorder is a sink that remembers packet numbers and can fail.
type recorder struct {
	packets []uint64
	err     error
}

func (r *recorder) Emit(rec *dissect.Record) error {
	r.packets = append(r.packets, rec.Packet)
	return r.err
}

// TestTee checks that every sink sees every record and errors are joined.
func TestTee(t *testing.T) {
	errA, errB := errors.New("a failed"), errors.New("b failed")
	tests := []struct {
		name    string
		errs    []error
		wantErr []error
	}{
		{"no errors", []error{nil, nil, nil}, nil},
		{"one error", []error{nil, errA, nil}, []error{errA}},
		{"two errors", []error{errA, nil, errB}, []error{errA, errB}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sinks := make([]dissect.Sink, 0, len(tc.errs)+1)
			recs := make([]*recorder, 0, len(tc.errs))
			for _, e := range tc.errs {
				r := &recorder{err: e}
				recs = append(recs, r)
				sinks = append(sinks, r, nil)
			}
			tee := NewTee(sinks...)
			if len(tee) != len(tc.errs) {
				t.Fatalf("NewTee kept %d sinks, want %d", len(tee), len(tc.errs))
			}
			err := tee.Emit(&dissect.Record{Packet: 7})
			for i, r := range recs {
				if len(r.packets) != 1 || r.packets[0] != 7 {
					t.Errorf("sink %d saw %v", i, r.packets)
				}
			}
			if (err != nil) != (len(tc.wantErr) > 0) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !errors.Is(err, w) {
					t.Errorf("err = %v, does not wrap %v", err, w)
				}
			}
		})
	}
}

// statsOf feeds recs to a new Stats; zero says to start from the zero
// value rather than NewStats.
func statsOf(t *testing.T, recs []*dissect.Record, zero bool) *Stats {
	t.Helper()
	s := NewStats()
	if zero {
		s = &Stats{}
	}
	for _, r := range recs {
		if err := s.Emit(r); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// statsState is everything a Stats reports, for comparisons.
type statsState struct {
	totals  Totals
	summary string
	report  string
	state   Stats
}

// stateOf returns s's reports and a copy of its counters; an empty anomaly
// map is the same as none.
func stateOf(t *testing.T, s *Stats) statsState {
	t.Helper()
	var out bytes.Buffer
	if _, err := s.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	st := statsState{totals: s.Totals(), summary: s.Summary(), report: out.String(), state: *s}
	st.state.anomalies = maps.Clone(s.anomalies)
	if len(st.state.anomalies) == 0 {
		st.state.anomalies = nil
	}
	return st
}

// TestStatsMerge splits a record stream in several ways, as the parallel
// runner's workers do, and checks that merging the parts' statistics gives
// the statistics of the whole stream, anomaly counts and worst severities
// by id included.
func TestStatsMerge(t *testing.T) {
	fx := fixtures()
	var all []*dissect.Record
	for i := range fx {
		all = append(all, &fx[i].rec)
	}
	// The same id with different severities in different parts: the merged
	// tally keeps the worst.
	for i, sev := range []dissect.Severity{dissect.SevInfo, dissect.SevError, dissect.SevWarning, dissect.SevInfo} {
		all = append(all, &dissect.Record{Kind: dissect.KindAnomaly, Packet: uint64(100 + i),
			Anomalies: []dissect.Anomaly{{ID: "mixed", Severity: sev, Offset: -1}}})
	}
	byIndex := func(parts int, part func(i int, r *dissect.Record) int) [][]*dissect.Record {
		out := make([][]*dissect.Record, parts)
		for i, r := range all {
			p := part(i, r)
			out[p] = append(out[p], r)
		}
		return out
	}
	tests := []struct {
		name  string
		parts [][]*dissect.Record
		zero  bool // merge into a zero-value Stats
	}{
		{"whole and nothing", [][]*dissect.Record{all, nil}, false},
		{"nothing and whole", [][]*dissect.Record{nil, all}, false},
		{"halves", [][]*dissect.Record{all[:len(all)/2], all[len(all)/2:]}, false},
		{"alternate", byIndex(2, func(i int, _ *dissect.Record) int { return i % 2 }), false},
		{"by kind", byIndex(4, func(_ int, r *dissect.Record) int { return int(r.Kind) - 1 }), false},
		{"by connection", byIndex(3, func(_ int, r *dissect.Record) int {
			if r.Conn == nil {
				return 0
			}
			return int(r.Conn.Stream % 3)
		}), false},
		{"one record each", byIndex(len(all), func(i int, _ *dissect.Record) int { return i }), false},
		{"into the zero value", byIndex(3, func(i int, _ *dissect.Record) int { return i % 3 }), true},
	}
	want := stateOf(t, statsOf(t, all, false))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			total := statsOf(t, tc.parts[0], tc.zero)
			for _, part := range tc.parts[1:] {
				o := statsOf(t, part, false)
				before := stateOf(t, o)
				total.Merge(o)
				if after := stateOf(t, o); !reflect.DeepEqual(after, before) {
					t.Errorf("Merge changed its argument")
				}
			}
			total.Merge(nil)
			if got := stateOf(t, total); !reflect.DeepEqual(got, want) {
				t.Errorf("merged statistics differ from the whole stream's:\n%+v\nwant\n%+v", got, want)
			}
		})
	}
	t.Run("itself", func(t *testing.T) {
		s := statsOf(t, all, false)
		s.Merge(s)
		if got, want := stateOf(t, s), stateOf(t, statsOf(t, append(slices.Clone(all), all...), false)); !reflect.DeepEqual(got, want) {
			t.Errorf("merged with itself:\n%+v\nwant twice the stream:\n%+v", got, want)
		}
	})
}

// TestStatsMessagesFromFrames checks that a run emitting frame records only
// still reports its messages, counted from the frames that end them.
func TestStatsMessagesFromFrames(t *testing.T) {
	conn := &dissect.Conn{Status: 101}
	frames := []dissect.Frame{
		{Opcode: dissect.OpText, MessageOpcode: dissect.OpText, Len: 3},
		{Opcode: dissect.OpPing, MessageOpcode: dissect.OpPing, Fin: true},
		{Opcode: dissect.OpContinuation, MessageOpcode: dissect.OpText, Fin: true, Len: 2},
		{Opcode: dissect.OpBinary, MessageOpcode: dissect.OpBinary, Fin: true, Len: 4},
		{Opcode: dissect.OpContinuation, MessageOpcode: dissect.OpContinuation, Fin: true, Len: 1},
		{Opcode: dissect.OpBinary, MessageOpcode: dissect.OpBinary, Len: 9, Wire: 9, Incomplete: true},
	}
	var a, b Stats
	for i := range frames {
		s := &a
		if i%2 == 1 {
			s = &b
		}
		if err := s.Emit(&dissect.Record{Kind: dissect.KindFrame, Conn: conn, Frame: &frames[i]}); err != nil {
			t.Fatal(err)
		}
	}
	a.Merge(&b)
	if tot := a.Totals(); tot.Frames != 6 || tot.Messages != 0 {
		t.Errorf("Totals() = %+v, want 6 frame records and no message records", tot)
	}
	var out bytes.Buffer
	if _, err := a.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  Messages:      5 (continuation 1, text 1, binary 2, ping 1)\n",
		"  Incomplete:    1 message, 1 frame\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("WriteTo lacks %q:\n%s", want, out.String())
		}
	}
	if got, want := a.Summary(), "0 connections, 6 frames, 5 messages, 19 bytes c2s, 0 bytes s2c, 0 anomalies"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

// TestStatsBytesDoNotWrap checks that byte totals count an incomplete
// frame by the bytes that were on the wire, not its length field, and
// saturate instead of wrapping.
func TestStatsBytesDoNotWrap(t *testing.T) {
	conn := &dissect.Conn{Status: 101}
	tests := []struct {
		name   string
		frames []dissect.Frame
		want   string
	}{
		{"2^64-1 length, 20 bytes seen", []dissect.Frame{
			{Opcode: dissect.OpBinary, Len: math.MaxUint64, Wire: 20, Incomplete: true},
		}, "20 bytes c2s"},
		{"complete lengths that overflow", []dissect.Frame{
			{Opcode: dissect.OpBinary, Fin: true, Len: 1 << 63},
			{Opcode: dissect.OpBinary, Fin: true, Len: 1 << 63},
			{Opcode: dissect.OpBinary, Fin: true, Len: 20},
		}, "18446744073709551615 bytes c2s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var a, b Stats
			for i := range tc.frames {
				s := &a
				if i%2 == 1 {
					s = &b
				}
				if err := s.Emit(&dissect.Record{Kind: dissect.KindFrame, Conn: conn, Frame: &tc.frames[i]}); err != nil {
					t.Fatal(err)
				}
			}
			a.Merge(&b)
			if got := a.Summary(); !strings.Contains(got, tc.want) {
				t.Errorf("Summary() = %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

// TestStatsMemoryLine checks the -q statistics' memory line.
func TestStatsMemoryLine(t *testing.T) {
	var s Stats
	var out bytes.Buffer
	if _, err := s.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Memory:") {
		t.Errorf("memory line without a budget:\n%s", out.String())
	}
	s.SetMemory(1<<30, 3<<19)
	out.Reset()
	if _, err := s.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if want := "  Memory:        peak 1.5 MiB of the 1024.0 MiB budget\n"; !strings.Contains(out.String(), want) {
		t.Errorf("WriteTo lacks %q:\n%s", want, out.String())
	}
}

// TestStatsCompression checks that end records' totals give the
// compression line and the JSON byte counts, summed over connections and
// merged across workers.
func TestStatsCompression(t *testing.T) {
	conn := &dissect.Conn{Stream: 1}
	end := func(wire, app uint64) *dissect.Record {
		return &dissect.Record{Kind: dissect.KindEnd, Conn: conn, End: &dissect.End{Reason: dissect.EndFIN,
			Totals: [2]dissect.DirTotals{{WireBytes: wire, Bytes: app}, {WireBytes: wire, Bytes: app}}}}
	}
	a, b := NewStats(), NewStats()
	if err := a.Emit(end(100, 400)); err != nil {
		t.Fatal(err)
	}
	if err := b.Emit(end(50, 50)); err != nil {
		t.Fatal(err)
	}
	a.Merge(b)
	if j := a.JSON(); j.WireBytes != 300 || j.InflatedBytes != 900 {
		t.Errorf("JSON wire %d inflated %d, want 300 and 900", j.WireBytes, j.InflatedBytes)
	}
	var out bytes.Buffer
	if _, err := a.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if want := "  Compression:   300 payload bytes on the wire, 900 inflated (ratio 3.00)\n"; !strings.Contains(out.String(), want) {
		t.Errorf("no %q in\n%s", want, out.String())
	}
	plain := NewStats()
	if err := plain.Emit(end(70, 70)); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if _, err := plain.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Compression") {
		t.Errorf("a connection without compression shows a Compression line:\n%s", out.String())
	}
}

// TestStatsTLSNotDissected checks that a record listing a TLS connection
// without a dissected handshake is counted as such, not as a refused
// upgrade, in every form of the statistics.
func TestStatsTLSNotDissected(t *testing.T) {
	s := NewStats()
	recs := []dissect.Record{
		{Kind: dissect.KindConn, Conn: &dissect.Conn{TLS: &dissect.TLS{Version: "TLS 1.3", Reason: "no key log given"}}},
		{Kind: dissect.KindConn, Conn: &dissect.Conn{Method: "GET", Status: 403}},
		{Kind: dissect.KindConn, Conn: &dissect.Conn{Method: "GET", Status: 101, TLS: &dissect.TLS{Decrypted: true}}},
	}
	for i := range recs {
		if err := s.Emit(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.Totals(); got.Conns != 3 || got.Rejected != 1 || got.TLSOnly != 1 {
		t.Errorf("totals %+v, want 3 connections, 1 rejected, 1 TLS-only", got)
	}
	if got, want := s.Summary(), "3 connections (1 rejected, 1 TLS not dissected), "; !strings.HasPrefix(got, want) {
		t.Errorf("Summary() = %q, want prefix %q", got, want)
	}
	var out bytes.Buffer
	if _, err := s.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	if want := "  Connections:   3 (0 mid-stream, 1 rejected, 1 TLS not dissected)\n"; !strings.Contains(out.String(), want) {
		t.Errorf("WriteTo:\n%s\nlacks %q", out.String(), want)
	}
	if j := s.JSON(); j.Rejected != 1 || j.TLSNotDissected != 1 {
		t.Errorf("JSON rejected %d, tls_not_dissected %d", j.Rejected, j.TLSNotDissected)
	}
}
