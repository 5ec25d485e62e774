package source

import "io"

// maxEmptyReads is how many reads in a row may return no bytes and no error
// before reading fails with io.ErrNoProgress (as in bufio).
const maxEmptyReads = 100

// inBuf buffers the input of the pcap reader, like a bufio.Reader whose
// Peek and Discard are small enough to be inlined: the pcap reader peeks
// twice per record, and bufio's checks were a noticeable share of reading.
type inBuf struct {
	src  io.Reader
	buf  []byte
	r, w int // buf[r:w] is read from src and not yet consumed
	err  error
}

// newInBuf returns a buffer of size bytes (at least len(pending)) over src,
// holding pending (bytes already read from src) first.
func newInBuf(src io.Reader, pending []byte, size int) *inBuf {
	b := &inBuf{src: src, buf: make([]byte, max(size, len(pending)))}
	b.w = copy(b.buf, pending)
	return b
}

// size is the most bytes peek can return.
func (b *inBuf) size() int { return len(b.buf) }

// buffered is the number of bytes read from src and not yet consumed.
func (b *inBuf) buffered() int { return b.w - b.r }

// peekMore returns the next n bytes (n <= size()) without consuming them,
// reading more input first (the caller checked that fewer are buffered).
// They stay valid until the next call. With fewer bytes left it returns
// those and the error that ended the input.
func (b *inBuf) peekMore(n int) ([]byte, error) {
	if b.r+n > len(b.buf) {
		b.w = copy(b.buf, b.buf[b.r:b.w])
		b.r = 0
	}
	for empty := 0; b.w-b.r < n && b.err == nil; {
		m, err := b.src.Read(b.buf[b.w:])
		b.w += m
		switch {
		case err != nil:
			b.err = err
		case m > 0:
			empty = 0
		default:
			if empty++; empty == maxEmptyReads {
				b.err = io.ErrNoProgress
			}
		}
	}
	if b.w-b.r < n {
		return b.buf[b.r:b.w:b.w], b.err
	}
	return b.buf[b.r : b.r+n : b.r+n], nil
}

// discard consumes n bytes, which must have been peeked.
func (b *inBuf) discard(n int) { b.r += n }

// Read implements io.Reader: the buffered bytes first, then straight from
// src.
func (b *inBuf) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if b.r < b.w {
		n := copy(p, b.buf[b.r:b.w])
		b.r += n
		return n, nil
	}
	for range maxEmptyReads {
		if b.err != nil {
			return 0, b.err
		}
		n, err := b.src.Read(p)
		b.err = err
		if n > 0 {
			return n, nil
		}
	}
	b.err = io.ErrNoProgress
	return 0, b.err
}
