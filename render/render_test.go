package render

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// TestBadRecords checks records that break the Record contract.
func TestBadRecords(t *testing.T) {
	tests := []struct {
		name    string
		rec     *dissect.Record
		wantErr bool
	}{
		{"nil", nil, true},
		{"frame without frame", &dissect.Record{Kind: dissect.KindFrame}, true},
		{"message without message", &dissect.Record{Kind: dissect.KindMessage}, true},
		{"unknown kind", &dissect.Record{Kind: 99}, true},
		{"conn without conn", &dissect.Record{Kind: dissect.KindConn}, false},
		{"frame without conn", &dissect.Record{Kind: dissect.KindFrame, Frame: &dissect.Frame{}}, false},
	}
	for _, tc := range tests {
		for _, f := range []Format{FormatSummary, FormatTree, FormatJSON} {
			r := New(io.Discard, Options{Format: f})
			err := r.Emit(tc.rec)
			if (err != nil) != tc.wantErr {
				t.Errorf("%s, %v: err = %v, want error %v", tc.name, f, err, tc.wantErr)
			}
		}
	}
}

// lineWriter records how many newlines the underlying writer has received.
type lineWriter struct{ buf bytes.Buffer }

func (w *lineWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

// TestFlushEach checks that live mode's records reach the writer at once
// and that without FlushEach output waits for Flush.
func TestFlushEach(t *testing.T) {
	fx := fixtures()
	for _, flushEach := range []bool{true, false} {
		var w lineWriter
		r := New(&w, Options{Format: FormatJSON, FlushEach: flushEach})
		for i := range 3 {
			if err := r.Emit(&fx[i].rec); err != nil {
				t.Fatal(err)
			}
			lines := bytes.Count(w.buf.Bytes(), []byte("\n"))
			if want := map[bool]int{true: i + 1, false: 0}[flushEach]; lines != want {
				t.Errorf("FlushEach=%v: %d lines written after %d records, want %d", flushEach, lines, i+1, want)
			}
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		if lines := bytes.Count(w.buf.Bytes(), []byte("\n")); lines != 3 {
			t.Errorf("FlushEach=%v: %d lines after Flush, want 3", flushEach, lines)
		}
	}
}

// memOut is an Unbuffered writer that counts its Write calls.
type memOut struct {
	bytes.Buffer
	writes int
}

func (m *memOut) Unbuffered() {}

func (m *memOut) Write(p []byte) (int, error) {
	m.writes++
	return m.Buffer.Write(p)
}

// TestUnbufferedWriter checks that a Renderer writes each record to an
// Unbuffered writer at once, in one Write, and the same bytes as buffered.
func TestUnbufferedWriter(t *testing.T) {
	fx := fixtures()
	for _, format := range []Format{FormatSummary, FormatTree, FormatJSON} {
		var mem memOut
		var buffered bytes.Buffer
		r, rb := New(&mem, Options{Format: format}), New(&buffered, Options{Format: format})
		for i := range fx {
			if err := r.Emit(&fx[i].rec); err != nil {
				t.Fatal(err)
			}
			if err := rb.Emit(&fx[i].rec); err != nil {
				t.Fatal(err)
			}
			if mem.writes != i+1 {
				t.Fatalf("format %v: %d writes after %d records", format, mem.writes, i+1)
			}
		}
		if err := rb.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		if mem.String() != buffered.String() {
			t.Errorf("format %v: unbuffered output differs from buffered output", format)
		}
	}
}

// failWriter fails every write.
type failWriter struct{}

var errDisk = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errDisk }

// TestWriteErrors checks that write failures are reported, wrapped.
func TestWriteErrors(t *testing.T) {
	fx := fixtures()
	r := New(failWriter{}, Options{FlushEach: true})
	if err := r.Emit(&fx[0].rec); !errors.Is(err, errDisk) {
		t.Errorf("Emit with FlushEach: err = %v, want %v", err, errDisk)
	}
	r = New(failWriter{}, Options{})
	if err := r.Emit(&fx[0].rec); err != nil {
		t.Errorf("buffered Emit: %v", err)
	}
	if err := r.Flush(); !errors.Is(err, errDisk) {
		t.Errorf("Flush: err = %v, want %v", err, errDisk)
	}
	// A record larger than the buffer is written through at once.
	big := dissect.Record{Kind: dissect.KindFrame, Conn: fx[0].rec.Conn,
		Frame: &dissect.Frame{Opcode: dissect.OpBinary, Payload: make([]byte, 100<<10)}}
	r = New(failWriter{}, Options{Format: FormatJSON})
	if err := r.Emit(&big); !errors.Is(err, errDisk) {
		t.Errorf("large Emit: err = %v, want %v", err, errDisk)
	}
	st := NewStats()
	if _, err := st.WriteTo(failWriter{}); !errors.Is(err, errDisk) {
		t.Errorf("Stats.WriteTo: err = %v, want %v", err, errDisk)
	}
}

// TestLargeRecordBufferDropped checks that a huge record does not pin its
// buffer and that output stays correct afterwards.
func TestLargeRecordBufferDropped(t *testing.T) {
	fx := fixtures()
	var out bytes.Buffer
	r := New(&out, Options{Format: FormatJSON})
	big := dissect.Record{Kind: dissect.KindFrame, Conn: fx[0].rec.Conn,
		Frame: &dissect.Frame{Opcode: dissect.OpBinary, Payload: make([]byte, 2<<20)}}
	if err := r.Emit(&big); err != nil {
		t.Fatal(err)
	}
	if cap(r.buf) > maxKeep {
		t.Errorf("buffer of %d bytes kept", cap(r.buf))
	}
	if err := r.Emit(&fx[1].rec); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	validateNDJSON(t, out.Bytes())
}

// TestFileHeadings checks the per-file heading of text output and SetFile.
func TestFileHeadings(t *testing.T) {
	fx := fixtures()
	var out bytes.Buffer
	r := New(&out, Options{File: "a.pcap"})
	r.SetEpoch(epoch)
	mustEmit := func(rec *dissect.Record) {
		t.Helper()
		if err := r.Emit(rec); err != nil {
			t.Fatal(err)
		}
	}
	mustEmit(&fx[0].rec)
	mustEmit(&fx[1].rec)
	r.SetFile("b\n.pcap")
	mustEmit(&fx[1].rec) // new file: its epoch becomes this record's time
	r.SetFile("")        // a new file without a name: no heading, new epoch
	mustEmit(&fx[2].rec)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "==> a.pcap <==\n" +
		"     6    0.002000  10.0.0.1:50000 → 10.0.0.2:80  WebSocket handshake GET /chat?room=1 → 101 Switching Protocols [subprotocol=chat] [extensions=permessage-deflate]\n" +
		`    12    0.004512  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Text [FIN] [MASKED] len=12 "Hello world!"` + "\n" +
		"\n==> b\\n.pcap <==\n" +
		`    12    0.000000  10.0.0.1:50000 → 10.0.0.2:80  WebSocket Text [FIN] [MASKED] len=12 "Hello world!"` + "\n" +
		`    13    0.000000  10.0.0.1:50000 ← 10.0.0.2:80  WebSocket Text [FIN] len=33 "line1\nline2\r\t"q" \ é€ \x1b[31m\u202e"` + "\n"
	if got := out.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}

	out.Reset()
	r = New(&out, Options{Format: FormatTree, File: "c.pcap", Messages: true})
	mustEmit(&fx[0].rec)
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "==> c.pcap (messages) <==\nStream 0: ") {
		t.Errorf("tree heading: got %q", out.String()[:40])
	}
}

// TestRelativeTime checks rounding, negative times and the default epoch.
func TestRelativeTime(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000000"},
		{4512 * time.Microsecond, "0.004512"},
		{499, "0.000000"},
		{500, "0.000001"},
		{1999999999, "2.000000"},
		{123456789 * time.Second, "123456789.000000"},
		{-1500 * time.Millisecond, "-1.500000"},
		{time.Duration(-1 << 63), "-9223372036.854776"},
	}
	for _, tc := range tests {
		if got := string(appendRelTime(nil, tc.d)); got != tc.want {
			t.Errorf("appendRelTime(%d) = %q, want %q", tc.d, got, tc.want)
		}
	}
	// Without SetEpoch the first record's time is the epoch.
	fx := fixtures()
	var out bytes.Buffer
	r := New(&out, Options{})
	for _, i := range []int{1, 0} {
		if err := r.Emit(&fx[i].rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "    12    0.000000  ") || !strings.HasPrefix(lines[1], "     6   -0.002512  ") {
		t.Errorf("default epoch: got %q", lines[:2])
	}
}

// TestEscaped checks the terminal escaper.
func TestEscaped(t *testing.T) {
	tests := []struct {
		in       string
		quoted   bool
		maxRunes int
		want     string
	}{
		{"plain", false, -1, "plain"},
		{"a\nb\rc\td", false, -1, `a\nb\rc\td`},
		{"\x00\x1b\x7f", false, -1, `\x00\x1b\x7f`},
		{`"q" \`, false, -1, `"q" \`},
		{`"q" \`, true, -1, `\"q\" \\`},
		{"é€😀", false, -1, "é€😀"},
		{"\xff\xc3(", false, -1, `\xff\xc3(`},
		{"\u202e\u00a0\u0085", false, -1, `\u202e\u00a0\u0085`},
		{"\U000e0001", false, -1, `\U000e0001`},
		{"abcdef", false, 3, "abc…"},
		{"abc", false, 3, "abc"},
		{"ééé€", false, 3, "ééé…"},
		{"\n\n\n\n", true, 2, `\n\n…`},
	}
	for _, tc := range tests {
		if got := string(appendEscaped(nil, tc.in, tc.quoted, tc.maxRunes)); got != tc.want {
			t.Errorf("appendEscaped(%q, %v, %d) = %q, want %q", tc.in, tc.quoted, tc.maxRunes, got, tc.want)
		}
		if got := string(appendEscaped(nil, []byte(tc.in), tc.quoted, tc.maxRunes)); got != tc.want {
			t.Errorf("appendEscaped([]byte %q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestHexDump checks dump layout, including eight-digit offsets for large
// payloads.
func TestHexDump(t *testing.T) {
	tests := []struct {
		in     []byte
		indent string
		want   string
	}{
		{nil, "", ""},
		{[]byte("Hello world!"), "", "0000  48 65 6c 6c 6f 20 77 6f  72 6c 64 21              Hello world!\n"},
		{[]byte("0123456789abcdef"), "  ", "  0000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  0123456789abcdef\n"},
		{[]byte("01234567\x00"), "", "0000  30 31 32 33 34 35 36 37  00                       01234567.\n"},
	}
	for _, tc := range tests {
		if got := string(appendHexDump(nil, tc.in, tc.indent)); got != tc.want {
			t.Errorf("appendHexDump(%q) =\n%q\nwant\n%q", tc.in, got, tc.want)
		}
	}
	big := appendHexDump(nil, make([]byte, 0x10001), "")
	lines := strings.Split(strings.TrimSuffix(string(big), "\n"), "\n")
	if first, last := lines[0], lines[len(lines)-1]; !strings.HasPrefix(first, "00000000  00 ") || !strings.HasPrefix(last, "00010000  00 ") {
		t.Errorf("large dump: first %q, last %q", first, last)
	}
}

// TestFormatString checks the names of the formats.
func TestFormatString(t *testing.T) {
	for f, want := range map[Format]string{FormatSummary: "summary", FormatTree: "tree", FormatJSON: "json", 9: "summary"} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", f, got, want)
		}
	}
}

// TestColorGlobalUntouched checks that colour is decided per Renderer and
// the package-global switch of fatih/color is neither used nor changed.
func TestColorGlobalUntouched(t *testing.T) {
	fx := fixtures()
	on, err := renderAll(Options{Color: true}, fx[1:2])
	if err != nil {
		t.Fatal(err)
	}
	off, err := renderAll(Options{}, fx[1:2])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(on, []byte("\x1b[")) || bytes.Contains(off, []byte("\x1b")) {
		t.Errorf("colour on: %q; off: %q", on, off)
	}
}

// memSlice is an Appender that counts Write calls (a Renderer should make
// none).
type memSlice struct {
	b      []byte
	writes int
}

func (m *memSlice) Unbuffered()     {}
func (m *memSlice) Buffer() *[]byte { return &m.b }

func (m *memSlice) Write(p []byte) (int, error) {
	m.writes++
	m.b = append(m.b, p...)
	return len(p), nil
}

// TestAppenderWriter checks that a Renderer formats records straight into
// an Appender's slice, after what it already holds, with the same bytes as
// a buffered Renderer writes, also when the slice is replaced between
// records (as the parallel engine does per batch).
func TestAppenderWriter(t *testing.T) {
	fx := fixtures()
	for _, opts := range allocOptions {
		want, err := renderAll(opts.opts, fx)
		if err != nil {
			t.Fatal(err)
		}
		mem := &memSlice{b: []byte("kept|")}
		r := New(mem, opts.opts)
		r.SetEpoch(epoch)
		var got []byte
		for i := range fx {
			if err := r.Emit(&fx[i].rec); err != nil {
				t.Fatal(err)
			}
			if i%3 == 2 { // hand the output over and start a new slice
				got = append(got, mem.b...)
				mem.b = nil
			}
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		got = append(got, mem.b...)
		if !bytes.Equal(got, append([]byte("kept|"), want...)) {
			t.Errorf("%s: appended output differs from buffered output", opts.name)
		}
		if mem.writes != 0 {
			t.Errorf("%s: %d Write calls, want the records appended in place", opts.name, mem.writes)
		}
	}
}
