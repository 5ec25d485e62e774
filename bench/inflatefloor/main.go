// Command inflatefloor measures the inflation share of the floor of
// "wsdissect read FILE -q" on permessage-deflate traffic: how long
// internal/inflate alone takes to inflate every compressed message of a
// capture, with the connection directions spread over the cores.
//
//	go run ./bench/inflatefloor [-rounds N] [-workers N] FILE
//
// It first reads the capture through the dissector (untimed) and collects,
// for every connection direction, the compressed payload of each message as
// sent (unmasked, its frames joined, followed by 00 00 ff ff as RFC 7692
// section 7.2.2 says a receiver appends), with the window size and context
// takeover the handshake negotiated. Then, timed, it inflates them all the
// way the dissector does: one inflater per direction, reset between
// messages without context takeover, one Append per message into a reused
// buffer. The directions are dealt, largest first, to -workers goroutines
// (default GOMAXPROCS). It prints the wall time of each round of
// inflation, with the bytes in and out, and fails unless every direction
// inflated to exactly the bytes the dissector reported, so that the floor
// inflates the same messages. bench/compare.sh adds the median time to the
// bare read's (bench/pcaploop) to get the floor of -q.
//
// Only plain HTTP/1.1 WebSocket connections that negotiated
// permessage-deflate are supported (not TLS, HTTP/2, mid-stream pickup or
// x-webkit-deflate-frame), and the capture must be clean: a compressed
// frame the dissector could not inflate whole is an error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/inflate"
	"github.com/wsdissect/wsdissect/netpkt"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/source"
)

// syncTail is the empty stored block a permessage-deflate sender strips from
// each message and the receiver appends again.
var syncTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// maxOut caps the output of one message, as the dissector's default
// --max-decompressed does.
const maxOut = dissect.DefaultMaxDecompressed

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "inflatefloor:", err)
		os.Exit(1)
	}
}

// run parses the command line, collects the messages and times their
// inflation.
func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("inflatefloor", flag.ContinueOnError)
	rounds := fs.Int("rounds", 1, "times to inflate everything, each timed and printed")
	workers := fs.Int("workers", runtime.GOMAXPROCS(0), "goroutines to spread the directions over")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: inflatefloor [-rounds N] [-workers N] FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("one capture file expected")
	}
	if *rounds < 1 || *workers < 1 {
		return errors.New("-rounds and -workers must be at least 1")
	}
	path := fs.Arg(0)
	dirs, err := collect(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var msgs int
	var in, want uint64
	for _, d := range dirs {
		msgs += len(d.ends)
		in += uint64(len(d.data))
		want += d.want
	}
	fmt.Fprintf(out, "%s: %d directions, %d compressed messages, %d bytes in (with the 4-byte tails), %d bytes out as the dissector inflated them\n",
		path, len(dirs), msgs, in, want)
	// Largest first, so that the last direction dealt is a short one.
	slices.SortFunc(dirs, func(a, b *direction) int { return len(b.data) - len(a.data) })
	for range *rounds {
		runtime.GC() // the collection's garbage, not the inflation's
		elapsed, got, err := inflateAll(dirs, *workers)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if got != want {
			return fmt.Errorf("%s: inflated %d bytes in all, the dissector %d", path, got, want)
		}
		fmt.Fprintf(out, "inflate %.6fs over %d goroutines: %d bytes in, %d bytes out (%.0f MB/s out), same as the dissector\n",
			elapsed.Seconds(), *workers, in, got, float64(got)/1e6/elapsed.Seconds())
	}
	return nil
}

// direction holds the compressed messages of one direction of one
// connection, in order, and how to inflate them.
type direction struct {
	// name says which connection and direction, for errors.
	name string
	// bits is the inflater's window size, takeover whether the sender keeps
	// its window from message to message.
	bits     int
	takeover bool
	// data holds the messages' compressed payloads, each followed by
	// syncTail; ends[i] is the end of message i in data.
	data []byte
	ends []int
	// want is how many bytes the dissector inflated the messages to.
	want uint64
	// start is where the message being collected begins in data; open
	// says whether one is.
	start int
	open  bool
}

// finish closes the message being collected, if any: its payload gets the
// tail unless it is empty (the dissector inflates nothing then) or tail is
// false (the capture ended inside the message).
func (d *direction) finish(tail bool) {
	if !d.open {
		return
	}
	d.open = false
	if len(d.data) == d.start {
		return
	}
	if tail {
		d.data = append(d.data, syncTail[:]...)
	}
	d.ends = append(d.ends, len(d.data))
}

// inflateAll inflates every direction's messages, dealing the directions to
// workers goroutines, and returns the wall time and the bytes produced. It
// fails when a direction does not inflate to the bytes the dissector
// reported.
func inflateAll(dirs []*direction, workers int) (time.Duration, uint64, error) {
	got := make([]uint64, len(dirs))
	errs := make([]error, len(dirs))
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			var w worker
			for {
				i := int(next.Add(1)) - 1
				if i >= len(dirs) {
					return
				}
				got[i], errs[i] = w.inflate(dirs[i])
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total uint64
	for i, d := range dirs {
		if errs[i] != nil {
			return 0, 0, fmt.Errorf("%s: %w", d.name, errs[i])
		}
		if got[i] != d.want {
			return 0, 0, fmt.Errorf("%s: inflated %d bytes, the dissector %d", d.name, got[i], d.want)
		}
		total += got[i]
	}
	return elapsed, total, nil
}

// worker is one goroutine's inflaters (by window bits, reused from
// direction to direction as the dissector's pool reuses them) and output
// buffer.
type worker struct {
	infl [16]*inflate.Inflater
	buf  []byte
}

// inflate inflates the messages of d and returns how many bytes they
// produced.
func (w *worker) inflate(d *direction) (uint64, error) {
	z := w.infl[d.bits]
	if z == nil {
		z = inflate.New(d.bits)
		w.infl[d.bits] = z
	}
	z.Reset(false)
	var n uint64
	start := 0
	for i, end := range d.ends {
		out, err := z.Append(w.buf[:0], d.data[start:end], maxOut)
		if err != nil {
			return n, fmt.Errorf("message %d: %w", i, err)
		}
		n += uint64(len(out))
		w.buf = out
		z.Reset(d.takeover)
		start = end
	}
	return n, nil
}

// collect reads the capture at path through the dissector and returns the
// compressed messages of every direction that has any.
func collect(path string) ([]*direction, error) {
	f, err := source.Open(path, nil)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	c := &collector{}
	c.dis = dissect.New(c, dissect.Options{})
	asm := reassembly.New(c, reassembly.Config{})
	var (
		p        source.Packet
		seg      netpkt.Segment
		last     uint64
		lastTime time.Time
	)
	for {
		if err := f.Next(&p); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		last, lastTime = p.Number, p.Time
		if netpkt.Decode(p.LinkType, p.Data, &seg) != nil {
			continue // not TCP, or damaged: the dissector never sees it either
		}
		asm.Process(&seg, p.Number, p.Time)
		if c.err != nil {
			return nil, c.err
		}
	}
	asm.FlushAll(last, lastTime)
	if c.err != nil {
		return nil, c.err
	}
	if err := c.dis.Err(); err != nil {
		return nil, err
	}
	for _, d := range c.dirs {
		d.finish(false)
	}
	dirs := slices.DeleteFunc(c.dirs, func(d *direction) bool { return len(d.ends) == 0 })
	if len(dirs) == 0 {
		return nil, errors.New("no compressed WebSocket messages")
	}
	return dirs, nil
}

// collector sits on both sides of the dissector: as the reassembler's
// factory it wraps each connection's handler in a tee that keeps the bytes
// of both directions until the dissector's frame records have been read
// from them, and as the dissector's sink it receives those records.
type collector struct {
	dis *dissect.Dissector
	// cur is the connection whose handler is running: the records emitted
	// meanwhile are its own.
	cur  *tee
	dirs []*direction
	err  error
}

// NewConn implements reassembly.Factory.
func (c *collector) NewConn(info *reassembly.ConnInfo) reassembly.Handler {
	return &tee{c: c, h: c.dis.NewConn(info), stream: info.Stream, addr: info.Addr}
}

// Emit implements dissect.Sink: it copies the compressed payload of each
// frame of a compressed message out of the tee's bytes.
func (c *collector) Emit(r *dissect.Record) error {
	if r.Kind != dissect.KindFrame || c.err != nil {
		return nil
	}
	if c.cur == nil || r.Conn.Stream != c.cur.stream {
		c.err = fmt.Errorf("frame record of stream %d outside its connection's handler", r.Conn.Stream)
		return nil
	}
	if err := c.cur.frame(r); err != nil {
		c.err = fmt.Errorf("stream %d %s, frame at offset %d: %w", r.Conn.Stream, r.Frame.Dir, r.Frame.Offset, err)
	}
	return nil
}

// tee is the handler of one connection: it keeps the bytes of each side
// not yet covered by a frame record and passes everything on to the
// dissector's handler h.
type tee struct {
	c      *collector
	h      reassembly.Handler
	stream uint64
	addr   [2]netip.AddrPort
	// side holds each side's bytes from off on.
	side [2]struct {
		buf    []byte
		off    uint64
		broken bool // a gap or out-of-order delivery: offsets are unusable
	}
	// base is, per dissect.Dir, the stream offset of the first byte after
	// the handshake (the dissector's frame offset 0), known once baseSet.
	base    [2]uint64
	baseSet [2]bool
	// dirs are the connection's directions, by dissect.Dir, once they
	// carry a compressed frame.
	dirs [2]*direction
}

// Data implements reassembly.Handler.
func (t *tee) Data(side reassembly.Side, ch *reassembly.Chunk) bool {
	s := &t.side[side]
	switch {
	case len(s.buf) == 0:
		s.off = ch.Offset
	case ch.Offset != s.off+uint64(len(s.buf)):
		s.broken = true
	}
	s.buf = append(s.buf, ch.Data...)
	t.c.cur = t
	keep := t.h.Data(side, ch)
	t.c.cur = nil
	if !keep {
		t.side[0].buf, t.side[1].buf = nil, nil
	}
	return keep
}

// Gap implements reassembly.Handler.
func (t *tee) Gap(side reassembly.Side, g *reassembly.Gap) {
	t.side[side].broken = true
	t.c.cur = t
	t.h.Gap(side, g)
	t.c.cur = nil
}

// Note implements reassembly.Handler.
func (t *tee) Note(side reassembly.Side, n *reassembly.Note) {
	t.c.cur = t
	t.h.Note(side, n)
	t.c.cur = nil
}

// Close implements reassembly.Handler.
func (t *tee) Close(reason reassembly.CloseReason) {
	t.c.cur = t
	t.h.Close(reason)
	t.c.cur = nil
	t.side[0].buf, t.side[1].buf = nil, nil
}

// frame takes the payload of frame record r out of the kept bytes: into
// its direction's messages when the frame belongs to a compressed message,
// and drops the bytes up to the frame's end.
func (t *tee) frame(r *dissect.Record) error {
	f := r.Frame
	conn := r.Conn
	if conn.Midstream || conn.HTTP2 || conn.TLS != nil {
		if f.Compressed {
			return errors.New("compressed frame on a connection that is not plain HTTP/1.1 with a handshake")
		}
		return nil
	}
	side := reassembly.SideA
	if (conn.Client != t.addr[0]) == (f.Dir == dissect.ClientToServer) {
		side = reassembly.SideB
	}
	if !t.baseSet[f.Dir] {
		// The dissector's frame offsets count from the end of the
		// handshake's header block, which is at the start of the stream.
		head := conn.Request
		if f.Dir == dissect.ServerToClient {
			head = conn.Response
		}
		t.base[f.Dir], t.baseSet[f.Dir] = uint64(len(head)), true
	}
	s := &t.side[side]
	if s.broken {
		if f.Compressed {
			return errors.New("bytes of the direction are missing or out of order")
		}
		return nil
	}
	pos := t.base[f.Dir] + f.Offset
	end := pos + uint64(f.HeaderLen) + f.Wire
	if pos < s.off || end > s.off+uint64(len(s.buf)) {
		return fmt.Errorf("frame bytes %d-%d not among those kept (%d-%d)", pos, end, s.off, s.off+uint64(len(s.buf)))
	}
	b := s.buf[pos-s.off : end-s.off]
	if b0 := b[0]; (b0&0x80 != 0) != f.Fin || (b0&0x40 != 0) != f.RSV1 || b0&0x0f != f.Opcode || (b[1]&0x80 != 0) != f.Masked {
		return fmt.Errorf("header byte %#02x %#02x at stream offset %d does not match the frame record", b[0], b[1], pos)
	}
	if f.Compressed && !dissect.IsControl(f.Opcode) {
		if err := t.compressed(r, b[f.HeaderLen:]); err != nil {
			return err
		}
	}
	n := copy(s.buf, s.buf[end-s.off:])
	s.buf = s.buf[:n]
	s.off = end
	return nil
}

// compressed appends payload, the (masked) payload of a frame of a
// compressed message, to its direction's messages.
func (t *tee) compressed(r *dissect.Record, payload []byte) error {
	f := r.Frame
	if f.Incomplete || f.NotInflated || f.Truncated {
		return errors.New("the dissector did not inflate this frame whole (incomplete, not inflated or truncated)")
	}
	d := t.dirs[f.Dir]
	if d == nil {
		p := r.Conn.Deflate
		if p == nil || p.Name != "permessage-deflate" {
			return errors.New("compressed frame without permessage-deflate negotiated")
		}
		d = &direction{name: fmt.Sprintf("stream %d %s", t.stream, f.Dir), bits: p.ClientMaxWindowBits, takeover: !p.ClientNoContextTakeover}
		if f.Dir == dissect.ServerToClient {
			d.bits, d.takeover = p.ServerMaxWindowBits, !p.ServerNoContextTakeover
		}
		// As the dissector does: zlib cannot make 8-bit windows and
		// silently uses 9 (RFC 7692 section 7.1.2.1).
		d.bits = max(d.bits, 9)
		t.dirs[f.Dir] = d
		t.c.dirs = append(t.c.dirs, d)
	}
	if !d.open {
		d.start, d.open = len(d.data), true
	}
	at := len(d.data)
	d.data = append(d.data, payload...)
	if f.Masked {
		for i := range d.data[at:] {
			d.data[at+i] ^= f.MaskKey[i&3]
		}
	}
	d.want += uint64(len(f.Payload))
	if f.Fin {
		d.finish(true)
	}
	return nil
}
