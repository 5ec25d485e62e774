// Package render formats dissected WebSocket records for people and programs:
// a one-line summary per record, a Wireshark-like tree, hex dumps and NDJSON.
// It also provides a statistics sink for end-of-run summaries and a tee that
// feeds several sinks. It only formats; it never parses protocol bytes.
package render

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// ErrBadRecord is returned by Emit for records that lack the part their Kind
// names (for example a KindFrame record without a Frame).
var ErrBadRecord = errors.New("malformed record")

// Format selects how a Renderer writes records.
type Format uint8

const (
	// FormatSummary writes one line per record (the default).
	FormatSummary Format = iota
	// FormatTree writes a Wireshark-like protocol tree per record (-V).
	FormatTree
	// FormatJSON writes one JSON object per line (--json).
	FormatJSON
)

// String returns "summary", "tree" or "json".
func (f Format) String() string {
	switch f {
	case FormatTree:
		return "tree"
	case FormatJSON:
		return "json"
	}
	return "summary"
}

// Options configure a Renderer.
type Options struct {
	// Format selects summary lines, trees or JSON.
	Format Format
	// Hex adds a hex and ASCII dump of the (unmasked, inflated) payload after
	// each frame or message in summary and tree formats.
	Hex bool
	// Color turns on ANSI colours; the caller decides (terminal, --color,
	// NO_COLOR). It has no effect on JSON.
	Color bool
	// Messages says the records are messages rather than frames. The layout
	// of each record follows its Kind; this only changes the per-file heading.
	Messages bool
	// FlushEach flushes the output after every record, for live mode.
	FlushEach bool
	// File is the name of the capture file when several are read: JSON
	// records get a "file" key and text output a heading line per file.
	File string
	// Time is the format of the time column of summary lines (tshark -t).
	// TimeDelta takes the time since the record rendered before, which is
	// the line before only when records are written as they are rendered:
	// see DeltaMarks.
	Time TimeFormat
	// DeltaMarks, with TimeDelta, leaves the time column of summary lines
	// to a DeltaWriter that the output goes through after whatever puts it
	// in order (the engine's orderer): each line gets the time since the
	// line written before it. Output rendered so must go through one.
	DeltaMarks bool
}

// bufSize is the size of the Renderer's output buffer.
const bufSize = 64 << 10

// maxKeep is the largest record buffer kept for reuse between records; a
// larger one (from a huge payload) is dropped so its memory can be freed.
const maxKeep = 1 << 20

// Renderer is a dissect.Sink that writes records in the configured format.
// It buffers its output (unless its writer is Unbuffered): call Flush when
// done. A Renderer is not safe for
// concurrent use.
type Renderer struct {
	out   io.Writer     // where records go: w, or the writer itself when unbuffered
	w     *bufio.Writer // nil when the writer is Unbuffered
	app   *[]byte       // the slice of an Appender writer, or nil
	spill Spiller       // the Appender writer when it is a Spiller
	// big is the payload size from which payloads are formatted in pieces
	// of chunk bytes (see pieces and PartSizer).
	big, chunk int
	// err is the first error writing a piece of the record being
	// formatted (see pieces).
	err  error
	opts Options
	pal  palette

	epoch     time.Time  // without a monotonic reading
	delta     deltaClock // the previous record's time, for TimeDelta
	haveEpoch bool

	// The JSON "ts" of the last record up to its seconds, reused while the
	// second does not change.
	tsSec    int64
	tsLen    int
	tsPrefix [40]byte

	headingDone bool // the heading for opts.File was written
	wrote       bool // some record was written

	endpoints [endpointSlots]endpoints // endpoint text of recent connections

	buf []byte // the record being formatted, reused
	// treePacket and treeFrame number the frames that end in one packet,
	// for the tree's headings.
	treePacket, treeFrame uint64
	layerBuf              []byte       // a layer's summary, reused
	noConn                dissect.Conn // stands in for a missing Conn
}

// Unbuffered is implemented by writers that need no buffer in front of them,
// such as writers that keep their input in memory: a Renderer writes each
// record to one straight away, in a single Write call, instead of buffering.
type Unbuffered interface {
	io.Writer
	// Unbuffered marks the writer; it does nothing.
	Unbuffered()
}

// Appender is implemented by Unbuffered writers that keep their output in a
// byte slice: a Renderer formats each record straight at the end of that
// slice instead of formatting it apart and writing a copy.
type Appender interface {
	Unbuffered
	// Buffer returns the writer's slice; the Renderer appends to it.
	Buffer() *[]byte
}

// Spiller is implemented by Appenders that can pass on what was appended to
// their slice in the middle of a record: a Renderer formats a large payload
// (a hex dump, a tree's text, NDJSON's text or base64) a piece at a time
// and calls Spill between pieces, so that the record is never held whole.
// Without it, an Appender's slice grows to the whole record, reserved at
// once. (Writers that are not Appenders get large records in pieces
// anyway.)
type Spiller interface {
	Appender
	// Spill passes on the bytes appended to the slice so far; the slice
	// the Appender's Buffer points to may be empty or another afterwards.
	Spill() error
}

// PartSizer is implemented by Spillers that pass on their bytes in parts of
// about PartSize bytes. When that is less than the size from which payloads
// are formatted in pieces (256 KiB), a Renderer formats every payload whose
// output may outgrow a part in pieces of an eighth of one, so that the
// slice stays near a part's size: under a small --memory the parallel
// engine's parts are 8 KiB, and a slice grown to a whole record (a 64 KiB
// message's hex dump is 280 KiB) was too large to keep, so it was allocated
// anew for every such record.
type PartSizer interface {
	PartSize() int
}

// New returns a Renderer writing to w with the given options.
func New(w io.Writer, opts Options) *Renderer {
	r := &Renderer{
		out:  w,
		opts: opts,
		pal:  newPalette(opts.Color && opts.Format != FormatJSON),
		buf:  make([]byte, 0, 4096),
	}
	r.big, r.chunk = bigPayload, payloadChunk
	if a, ok := w.(Appender); ok {
		r.app = a.Buffer()
		r.spill, _ = w.(Spiller)
		if ps, ok := w.(PartSizer); ok && r.spill != nil && ps.PartSize() < bigPayload {
			r.big, r.chunk = pieceSizes(ps.PartSize())
		}
	} else if _, ok := w.(Unbuffered); !ok {
		r.w = bufio.NewWriterSize(w, bufSize)
		r.out = r.w
	}
	return r
}

// SetEpoch sets the time of the capture's first packet. Summary and tree
// output show record times relative to it, like tshark's frame.time_relative.
// Without an epoch the first record's time is used.
func (r *Renderer) SetEpoch(t time.Time) {
	r.epoch = t.Round(0)
	r.haveEpoch = true
}

// since returns the time from the epoch to t, as t.Sub(r.epoch) does for an
// epoch without a monotonic reading, but cheaper in the usual case of a
// difference of less than a century.
func (r *Renderer) since(t time.Time) time.Duration {
	const maxSec = 1 << 32 // seconds; far from overflowing a Duration
	if s := t.Unix() - r.epoch.Unix(); s > -maxSec && s < maxSec {
		return time.Duration(s)*time.Second + time.Duration(t.Nanosecond()-r.epoch.Nanosecond())
	}
	return t.Sub(r.epoch)
}

// SetFile changes the file name used for JSON "file" keys and text headings,
// for callers that reuse one Renderer across several capture files. An empty
// name turns both off. The epoch is reset to the next file's first record
// unless SetEpoch is called again.
func (r *Renderer) SetFile(name string) {
	r.opts.File = name
	r.headingDone = false
	r.haveEpoch = false
}

// Emit formats one record and writes it to the buffered output.
func (r *Renderer) Emit(rec *dissect.Record) error {
	if err := checkRecord(rec); err != nil {
		return err
	}
	if rec.Kind == dissect.KindEnd && r.opts.Format != FormatJSON {
		// End records are for machines (NDJSON, statistics); the summary
		// and the tree stay one entry per frame or message.
		return nil
	}
	if !r.haveEpoch {
		r.SetEpoch(rec.Time)
	}
	b := r.buf[:0]
	if r.app != nil {
		b = *r.app
	}
	switch r.opts.Format {
	case FormatJSON:
		b = r.appendJSON(b, rec)
	case FormatTree:
		b = r.appendHeading(b)
		b = r.appendTree(b, rec)
		if p := recordPayload(rec); r.opts.Hex && len(p) > 0 {
			b = append(b, '\n')
			b = r.appendHexDump(b, p, "")
		}
		b = append(b, '\n')
	default:
		b = r.appendHeading(b)
		b = r.appendSummary(b, rec)
		if r.opts.Hex {
			if p := recordPayload(rec); len(p) > 0 {
				b = r.appendHexDump(b, p, "")
				b = append(b, '\n')
			}
		}
	}
	r.wrote = true
	if r.app != nil {
		*r.app = b
		return r.pieceErr()
	}
	if cap(b) > maxKeep {
		r.buf = make([]byte, 0, 4096)
	} else {
		r.buf = b
	}
	if err := r.pieceErr(); err != nil {
		return err
	}
	if _, err := r.out.Write(b); err != nil {
		return fmt.Errorf("render: write record: %w", err)
	}
	if r.opts.FlushEach {
		return r.Flush()
	}
	return nil
}

// Flush writes any buffered output to the underlying writer.
func (r *Renderer) Flush() error {
	if r.w == nil {
		return nil
	}
	if err := r.w.Flush(); err != nil {
		return fmt.Errorf("render: flush: %w", err)
	}
	return nil
}

// checkRecord rejects records Emit cannot format.
func checkRecord(rec *dissect.Record) error {
	if rec == nil {
		return fmt.Errorf("render: nil record: %w", ErrBadRecord)
	}
	switch rec.Kind {
	case dissect.KindConn:
	case dissect.KindFrame:
		if rec.Frame == nil {
			return fmt.Errorf("render: frame record without frame: %w", ErrBadRecord)
		}
	case dissect.KindMessage:
		if rec.Message == nil {
			return fmt.Errorf("render: message record without message: %w", ErrBadRecord)
		}
	case dissect.KindAnomaly:
	case dissect.KindEnd:
		if rec.End == nil {
			return fmt.Errorf("render: end record without end: %w", ErrBadRecord)
		}
	case dissect.KindHTTP:
		if rec.HTTP == nil {
			return fmt.Errorf("render: http record without exchange: %w", ErrBadRecord)
		}
	default:
		return fmt.Errorf("render: record of unknown kind %d: %w", rec.Kind, ErrBadRecord)
	}
	return nil
}

// connOf returns the record's connection, never nil: a record breaking the
// "Conn is never nil" contract is printed with an empty connection rather
// than crashing the run.
func (r *Renderer) connOf(rec *dissect.Record) *dissect.Conn {
	if rec.Conn == nil {
		r.noConn = dissect.Conn{}
		return &r.noConn
	}
	return rec.Conn
}

// recordPayload returns the payload shown by hex dumps: a frame's or a
// message's retained payload, nil for other records.
func recordPayload(rec *dissect.Record) []byte {
	switch rec.Kind {
	case dissect.KindFrame:
		return rec.Frame.Payload
	case dissect.KindMessage:
		return rec.Message.Payload
	}
	return nil
}

// appendHeading writes the per-file heading line of text formats, once per
// file, when a file name is set.
func (r *Renderer) appendHeading(b []byte) []byte {
	if r.opts.File == "" || r.headingDone {
		return b
	}
	r.headingDone = true
	if r.wrote && r.opts.Format == FormatSummary {
		b = append(b, '\n')
	}
	b = append(b, "==> "...)
	b = appendEscaped(b, r.opts.File, false, -1)
	if r.opts.Messages {
		b = append(b, " (messages)"...)
	}
	b = append(b, " <==\n"...)
	return b
}
