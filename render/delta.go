package render

import (
	"bytes"
	"encoding/binary"
	"io"
	"time"
)

// A delta mark stands in a summary line for its time column when the
// renderer's Options.DeltaMarks is set: two bytes that summary output never
// holds otherwise (a NUL is escaped, and 0xFF is not UTF-8), then the
// record's time as seconds (8 bytes) and nanoseconds (4 bytes), big-endian.
const (
	deltaMark0, deltaMark1 = 0x00, 0xff
	deltaMarkLen           = 2 + 8 + 4
)

// appendDeltaMark appends the delta mark of time t.
func appendDeltaMark(b []byte, t time.Time) []byte {
	b = append(b, deltaMark0, deltaMark1)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Unix()))
	return binary.BigEndian.AppendUint32(b, uint32(t.Nanosecond()))
}

// DeltaWriter writes summary output rendered with Options.DeltaMarks (and
// TimeDelta) to an io.Writer, replacing each line's delta mark by the time
// since the line written before it (0 for the first), right-aligned like the
// other time columns. Output may be put in order after rendering (the
// engine holds a mid-stream connection's records back until its frame
// search decides, and then writes them among later packets' records), so
// only where it is written is "the line before" known. It writes once per
// Write call. Not safe for concurrent use.
type DeltaWriter struct {
	w     io.Writer
	clock deltaClock
	part  []byte // a mark cut by the end of the last Write
	buf   []byte
}

// deltaClock gives the time since the time it was given before (0 the
// first time): -t d's column, for the Renderer and the DeltaWriter.
type deltaClock struct {
	prev time.Time
	seen bool // prev is set
}

// next returns t minus the time given before, and remembers t.
func (c *deltaClock) next(t time.Time) time.Duration {
	var d time.Duration
	if c.seen {
		d = t.Sub(c.prev)
	}
	c.prev, c.seen = t, true
	return d
}

// NewDeltaWriter returns a DeltaWriter writing to w.
func NewDeltaWriter(w io.Writer) *DeltaWriter { return &DeltaWriter{w: w} }

// Write implements io.Writer.
func (d *DeltaWriter) Write(p []byte) (int, error) {
	n := len(p)
	b := d.buf[:0]
	if len(d.part) > 0 {
		k := min(deltaMarkLen-len(d.part), len(p))
		d.part = append(d.part, p[:k]...)
		p = p[k:]
		if len(d.part) < deltaMarkLen {
			return n, nil
		}
		b = d.appendDelta(b, d.part)
		d.part = d.part[:0]
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, deltaMark0)
		if i < 0 {
			b = append(b, p...)
			break
		}
		b = append(b, p[:i]...)
		p = p[i:]
		if len(p) < deltaMarkLen {
			d.part = append(d.part[:0], p...)
			break
		}
		b = d.appendDelta(b, p[:deltaMarkLen])
		p = p[deltaMarkLen:]
	}
	d.buf = b
	if len(b) > 0 {
		if _, err := d.w.Write(b); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// Flush writes a mark cut short by the end of the output as it is (output
// that holds one was not rendered with DeltaMarks).
func (d *DeltaWriter) Flush() error {
	if len(d.part) == 0 {
		return nil
	}
	_, err := d.w.Write(d.part)
	d.part = d.part[:0]
	return err
}

// appendDelta appends the time column that replaces mark, a deltaMarkLen
// bytes long delta mark; bytes that are not one are appended as they are.
func (d *DeltaWriter) appendDelta(b, mark []byte) []byte {
	if mark[1] != deltaMark1 {
		return append(b, mark...)
	}
	t := time.Unix(int64(binary.BigEndian.Uint64(mark[2:10])), int64(binary.BigEndian.Uint32(mark[10:14])))
	var col [32]byte
	return appendPadded(b, appendRelTime(col[:0], d.clock.next(t)), timeWidth)
}
