package chromerec

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
)

// chunk is one read or write of a logged connection.
type chunk struct {
	seq  int64
	c2s  bool
	data []byte
}

// Mark ends a run of a direction's bytes that came in one chunk: the
// bytes before End (since the previous mark) have sequence number Seq.
type Mark struct {
	// End is the offset just past the run.
	End int
	// Seq numbers the chunk.
	Seq int64
}

// SeqAt returns the sequence number of the chunk holding byte off (that of
// the last chunk past the end, 0 without marks).
func SeqAt(marks []Mark, off int) int64 {
	for _, m := range marks {
		if off < m.End {
			return m.Seq
		}
	}
	if len(marks) == 0 {
		return 0
	}
	return marks[len(marks)-1].Seq
}

// Plaintext logs one connection's plaintext as a server read (client to
// server, c2s) and wrote it, chunk by chunk. A counter shared by a
// recording's connections numbers the chunks, which orders the messages of
// a session across its two directions (Message.Seq).
type Plaintext struct {
	seq    *atomic.Int64
	mu     sync.Mutex
	chunks []chunk
}

// NewPlaintext returns an empty log numbering its chunks with seq.
func NewPlaintext(seq *atomic.Int64) *Plaintext { return &Plaintext{seq: seq} }

// Read reads from r into b and logs what it read as client-to-server
// bytes.
func (p *Plaintext) Read(r io.Reader, b []byte) (int, error) {
	n, err := r.Read(b)
	if n > 0 {
		p.add(p.seq.Add(1), true, b[:n])
	}
	return n, err
}

// Write writes b to w and logs what it wrote as server-to-client bytes,
// numbered before the write, so that the peer's answer comes after it.
func (p *Plaintext) Write(w io.Writer, b []byte) (int, error) {
	seq := p.seq.Add(1)
	n, err := w.Write(b)
	if n > 0 {
		p.add(seq, false, b[:n])
	}
	return n, err
}

func (p *Plaintext) add(seq int64, c2s bool, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.chunks = append(p.chunks, chunk{seq, c2s, bytes.Clone(b)})
}

// Chunks returns the number of reads and writes logged.
func (p *Plaintext) Chunks() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.chunks)
}

// Direction returns the bytes of one direction (c2s: what the server read)
// with a mark per chunk.
func (p *Plaintext) Direction(c2s bool) ([]byte, []Mark) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var data []byte
	var marks []Mark
	for _, ch := range p.chunks {
		if ch.c2s == c2s {
			data = append(data, ch.data...)
			marks = append(marks, Mark{len(data), ch.seq})
		}
	}
	return data, marks
}
