package render

import (
	"fmt"
	"slices"
	"unicode/utf8"
)

// A payload of bigPayload bytes or more is formatted a piece of
// payloadChunk bytes at a time, and what is formatted is handed on between
// pieces (written out, or passed to a Spiller): a 64 MiB payload in a hex
// dump is about 300 MiB of text, which the renderer used to hold whole, a
// copy of it more while growing its buffer. Smaller payloads are formatted
// in one go, as before.
const (
	bigPayload = 256 << 10
	// payloadChunk is a multiple of 16 (a hex dump line) and of 3 (a
	// base64 quantum), so that the pieces' output joins up exactly.
	payloadChunk = 48 << 10
)

// pieceQuantum divides every piece: a hex dump line (16 bytes) and a
// base64 quantum (3 bytes) both divide it.
const pieceQuantum = 48

// pieceSizes returns the payload size from which payloads are formatted in
// pieces, and the piece size, for a Spiller passing its bytes on in parts
// of part bytes (see PartSizer): a payload whose output may be larger than
// a part, in pieces of an eighth of a part, whose output is at most three
// quarters of one (a hex dump line is 78 bytes for 16, about 4.9 times its
// payload; escaped text at most 6 times), so that a part's slice, handed
// on once it holds a part, stays under the two parts the engine keeps.
func pieceSizes(part int) (big, chunk int) {
	chunk = max(pieceQuantum, min(payloadChunk, part/8/pieceQuantum*pieceQuantum))
	return max(chunk, part/8), chunk
}

// pieces appends fn's formatting of p, in pieces when the writer takes a
// record in pieces: cut says how many bytes of what is left of p (at most
// payloadChunk) make the next piece; fn formats one piece, given its offset
// in p. Otherwise the whole output, about size bytes, is reserved at once,
// so that the buffer grows once instead of copying itself as it goes.
func (r *Renderer) pieces(b, p []byte, size int, cut func([]byte) int, fn func(b, q []byte, off int) []byte) []byte {
	if r.app != nil && r.spill == nil {
		return fn(slices.Grow(b, size), p, 0)
	}
	for off := 0; off < len(p); {
		n := cut(p[off:])
		b = fn(b, p[off:off+n], off)
		off += n
		b = r.handOn(b)
	}
	return b
}

// handOn passes on b, the start of the record being formatted, and returns
// the buffer to go on appending to. The first error is kept for Emit.
func (r *Renderer) handOn(b []byte) []byte {
	if r.app != nil {
		*r.app = b
		if err := r.spill.Spill(); err != nil && r.err == nil {
			r.err = err
		}
		return *r.app
	}
	if r.err == nil {
		if _, err := r.out.Write(b); err != nil {
			r.err = err
		}
	}
	return b[:0]
}

// pieceErr returns (and clears) the error of handing on a piece of the
// record just formatted.
func (r *Renderer) pieceErr() error {
	err := r.err
	r.err = nil
	if err != nil {
		return fmt.Errorf("render: write record: %w", err)
	}
	return nil
}

// byteCut cuts a piece of the Renderer's chunk size.
func (r *Renderer) byteCut(p []byte) int { return min(len(p), r.chunk) }

// runeCut cuts a piece of at most the Renderer's chunk size that splits no
// valid character, so that a piece escapes exactly as the same bytes do
// within the whole: the cut moves back to the start of a character that
// would straddle it. Invalid bytes are escaped one by one either way, so a
// cut among them is as good as any (moving back over up to three bytes
// that are not a character's start, as this did, split the valid
// character before a run of stray continuation bytes).
func (r *Renderer) runeCut(p []byte) int {
	if len(p) <= r.chunk {
		return len(p)
	}
	n := r.chunk
	for s := n - 1; s >= max(0, n-(utf8.UTFMax-1)); s-- {
		if utf8.RuneStart(p[s]) {
			if c, size := utf8.DecodeRune(p[s:]); (c != utf8.RuneError || size > 1) && s+size > n {
				return s
			}
			break
		}
	}
	return n
}

// appendHexDump appends the hex dump of p (see appendHexDump), in pieces
// when it is large.
func (r *Renderer) appendHexDump(b, p []byte, indent string) []byte {
	if len(p) < r.big {
		return appendHexDump(b, p, indent)
	}
	digits := hexDumpDigits(len(p))
	return r.pieces(b, p, hexDumpLen(len(p), indent), r.byteCut, func(b, q []byte, off int) []byte {
		return appendHexDumpAt(b, q, indent, off, digits)
	})
}
