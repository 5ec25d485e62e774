package source

import (
	"errors"
	"io"
	"sync"
)

// ErrStopped is returned by Next after Stop: the reading was interrupted
// (a signal), not ended by the input.
var ErrStopped = errors.New("reading stopped")

// streamChunk is the size of the pieces a streamReader reads: a pipe holds
// 64 KiB on Linux, so one read takes whatever a writer has put into it.
const streamChunk = 64 << 10

// streamChunks is how many pieces may wait between the reading goroutine
// and the packet reader.
const streamChunks = 4

// chunk is one piece read from a stream, or the error that ended it.
type chunk struct {
	buf []byte // the bytes read; its full capacity goes back to the pool
	n   int
	err error
}

// streamReader reads a stream (a pipe, a terminal, a socket: input that can
// stall) in a goroutine of its own, so that the packet reader can tell that
// nothing more is there yet: before it blocks waiting for more, it calls
// onStall, which lets the caller push out what the input so far has
// produced (tcpdump -U -w - | wsdissect read - shows each record as its
// packets arrive, not when some buffer is full). It also lets Stop
// interrupt a read that waits for input that may never come.
type streamReader struct {
	full chan chunk
	free chan []byte
	stop chan struct{}

	stopOnce sync.Once
	cur      chunk // the piece being consumed; cur.buf[off:cur.n] is left
	off      int
	err      error
	onStall  func()
}

// newStreamReader starts reading r in a goroutine. The goroutine ends when
// r returns an error or, once Stop was called, when its read returns; a read
// that never returns keeps it (and r) alive.
func newStreamReader(r io.Reader) *streamReader {
	s := &streamReader{
		full: make(chan chunk, streamChunks),
		free: make(chan []byte, streamChunks+1),
		stop: make(chan struct{}),
	}
	for range streamChunks + 1 {
		s.free <- make([]byte, streamChunk)
	}
	go s.pump(r)
	return s
}

// pump reads r into free pieces until an error or Stop.
func (s *streamReader) pump(r io.Reader) {
	empty := 0
	for {
		var buf []byte
		select {
		case buf = <-s.free:
		case <-s.stop:
			return
		}
		n, err := r.Read(buf)
		if n == 0 && err == nil {
			if empty++; empty < maxEmptyReads {
				s.free <- buf
				continue
			}
			err = io.ErrNoProgress
		}
		empty = 0
		select {
		case s.full <- chunk{buf: buf, n: n, err: err}:
		case <-s.stop:
			return
		}
		if err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (s *streamReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for s.off >= s.cur.n {
		if s.err != nil {
			return 0, s.err
		}
		if s.cur.buf != nil {
			s.free <- s.cur.buf
			s.cur = chunk{}
		}
		var c chunk
		select {
		case c = <-s.full:
		default:
			// Nothing to read yet: the input stalled.
			if s.onStall != nil {
				s.onStall()
			}
			select {
			case c = <-s.full:
			case <-s.stop:
				s.err = ErrStopped
				return 0, s.err
			}
		}
		s.cur, s.off = c, 0
		if c.err != nil {
			s.err = c.err
		}
	}
	n := copy(p, s.cur.buf[s.off:s.cur.n])
	s.off += n
	return n, nil
}

// Stop makes a Read that has to wait for input return ErrStopped at once,
// and every Read after it once the piece in hand is consumed. It may be
// called from any goroutine, more than once.
func (s *streamReader) Stop() { s.stopOnce.Do(func() { close(s.stop) }) }

// OnStall sets fn to be called by Next, in Next's goroutine, whenever the
// input has nothing more to read yet and Next is about to wait for it: the
// moment to push out what the packets so far produced. It only has an effect
// on streams (standard input, pipes: inputs whose Size is -1); call it before
// the first Next.
func (f *File) OnStall(fn func()) {
	if f.stream != nil {
		f.stream.onStall = fn
	}
}

// Stop makes Next return an error wrapping ErrStopped from its next call on,
// also when it is waiting for a stream's input. It may be called from any
// goroutine (a signal handler), more than once.
func (f *File) Stop() {
	f.stopped.Store(true)
	if f.stream != nil {
		f.stream.Stop()
	}
}
