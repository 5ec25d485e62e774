package capgen

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
)

// ErrWindowTooSmall is returned by Deflater.Compress when a message is longer
// than the sliding window of a window size below 15 bits (see Deflater).
var ErrWindowTooSmall = errors.New("message longer than the deflate window")

// deflateTail is the sync-flush marker permessage-deflate strips from every
// compressed message (RFC 7692 section 7.2.1).
const deflateTail = "\x00\x00\xff\xff"

// Deflater compresses the messages of one direction for permessage-deflate
// (RFC 7692): raw DEFLATE, sync-flushed, with the trailing 00 00 ff ff
// removed.
//
// With context takeover, back-references may reach into earlier messages.
// compress/flate always uses a 32 KiB window, which matches window bits 15.
// For window bits 8-14 the Deflater starts a fresh compressor per message,
// primed with a dictionary of the last 2^bits - len(message) bytes of
// history, so no back-reference distance exceeds 2^bits; this requires every
// message to be at most 2^bits bytes (ErrWindowTooSmall otherwise).
type Deflater struct {
	bits     int
	takeover bool
	history  []byte
	buf      bytes.Buffer
	w        *flate.Writer // persistent writer for 15 bits with takeover
}

// NewDeflater returns a Deflater for the given window bits (8-15) and
// context takeover mode.
func NewDeflater(windowBits int, contextTakeover bool) (*Deflater, error) {
	if windowBits < 8 || windowBits > 15 {
		return nil, fmt.Errorf("new deflater: window bits %d outside 8-15", windowBits)
	}
	return &Deflater{bits: windowBits, takeover: contextTakeover}, nil
}

// Compress returns the compressed payload of one message.
func (d *Deflater) Compress(msg []byte) ([]byte, error) {
	d.buf.Reset()
	window := 1 << d.bits
	if d.bits == 15 && d.takeover {
		if d.w == nil {
			w, err := flate.NewWriter(&d.buf, flate.BestCompression)
			if err != nil {
				return nil, fmt.Errorf("deflate: %w", err)
			}
			d.w = w
		}
		if err := d.writeFlush(d.w, msg); err != nil {
			return nil, err
		}
		return d.trimmed(), nil
	}
	if d.bits < 15 && len(msg) > window {
		return nil, fmt.Errorf("deflate %d bytes with window bits %d: %w", len(msg), d.bits, ErrWindowTooSmall)
	}
	var dict []byte
	if d.takeover {
		keep := window - len(msg)
		dict = d.history[max(0, len(d.history)-keep):]
	}
	w, err := flate.NewWriterDict(&d.buf, flate.BestCompression, dict)
	if err != nil {
		return nil, fmt.Errorf("deflate: %w", err)
	}
	if err := d.writeFlush(w, msg); err != nil {
		return nil, err
	}
	if d.takeover {
		d.history = append(d.history, msg...)
		if extra := len(d.history) - window; extra > 0 {
			d.history = append(d.history[:0], d.history[extra:]...)
		}
	}
	return d.trimmed(), nil
}

func (d *Deflater) writeFlush(w *flate.Writer, msg []byte) error {
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("deflate: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("deflate flush: %w", err)
	}
	return nil
}

func (d *Deflater) trimmed() []byte {
	b := bytes.Clone(d.buf.Bytes())
	return bytes.TrimSuffix(b, []byte(deflateTail))
}

// inflater decompresses the messages of one direction (used to check
// recordings and in tests).
type inflater struct {
	takeover bool
	// window is the sliding window size; zero means 32768. A back-reference
	// further back than window bytes makes inflate fail.
	window  int
	history []byte
}

// inflate decompresses one message's payload.
func (f *inflater) inflate(payload []byte) ([]byte, error) {
	in := make([]byte, 0, len(payload)+9)
	in = append(in, payload...)
	in = append(in, deflateTail...)
	// A final empty stored block makes the reader end with io.EOF.
	in = append(in, 0x01, 0x00, 0x00, 0xff, 0xff)
	var dict []byte
	if f.takeover {
		dict = f.history
	}
	r := flate.NewReaderDict(bytes.NewReader(in), dict)
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("inflate: %w", err)
	}
	if f.takeover {
		window := f.window
		if window == 0 {
			window = 32768
		}
		f.history = append(f.history, out...)
		if extra := len(f.history) - window; extra > 0 {
			f.history = append(f.history[:0], f.history[extra:]...)
		}
	}
	return out, nil
}
