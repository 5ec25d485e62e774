// Package engine runs packets through header decoding, TCP reassembly and
// WebSocket dissection, delivering records to a sink.
package engine

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/netpkt"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/source"
)

// Options configures a run.
type Options struct {
	// Dissect configures the WebSocket dissector.
	Dissect dissect.Options
	// Reassembly configures the TCP reassembler.
	Reassembly reassembly.Config
	// Epoch, when set, is called with the first packet's time before any
	// record is emitted (renderers show times relative to it).
	Epoch func(time.Time)
	// Workers is the number of workers RunParallel spreads connections over:
	// 0 means runtime.GOMAXPROCS(0), 1 the single-threaded Run. Run and
	// Engine ignore it.
	Workers int
}

// Stats summarises a run.
type Stats struct {
	// Packets counts packets read; TCP those that decoded to TCP; Malformed
	// those whose headers were damaged.
	Packets, TCP, Malformed uint64
	// UnsupportedLink counts packets of a link type that cannot be decoded
	// (they are not in Malformed); UnsupportedLinkType is the first such
	// link type seen.
	UnsupportedLink     uint64
	UnsupportedLinkType source.LinkType
	// Reassembly and Dissect are the stages' own counters.
	Reassembly reassembly.Stats
	Dissect    dissect.Stats
	// First and Last are the first and last packet times.
	First, Last time.Time
}

// countFailure counts a packet whose headers could not be decoded.
func (s *Stats) countFailure(err error, link source.LinkType) {
	if errors.Is(err, netpkt.ErrUnsupportedLink) {
		if s.UnsupportedLink == 0 {
			s.UnsupportedLinkType = link
		}
		s.UnsupportedLink++
		return
	}
	s.Malformed++
}

// PacketSource yields packets; Next returns io.EOF at the end.
type PacketSource interface {
	Next(p *source.Packet) error
}

// Engine processes packets one at a time. It is not safe for concurrent use.
type Engine struct {
	opts  Options
	dis   *dissect.Dissector
	asm   *reassembly.Assembler
	seg   netpkt.Segment
	stats Stats
	last  uint64
}

// New returns an engine that emits records to sink.
func New(sink dissect.Sink, opts Options) *Engine {
	e := &Engine{opts: opts}
	e.dis = dissect.New(sink, opts.Dissect)
	e.asm = reassembly.New(e.dis, opts.Reassembly)
	return e
}

// Packet processes one packet.
func (e *Engine) Packet(p *source.Packet) {
	if e.stats.Packets == 0 {
		e.stats.First = p.Time
		if e.opts.Epoch != nil {
			e.opts.Epoch(p.Time)
		}
	}
	e.stats.Packets++
	e.stats.Last = p.Time
	e.last = p.Number
	err := netpkt.Decode(p.LinkType, p.Data, &e.seg)
	switch {
	case err == nil:
		e.stats.TCP++
		e.asm.Process(&e.seg, p.Number, p.Time)
	case errors.Is(err, netpkt.ErrNotTCP):
	default:
		e.stats.countFailure(err, p.LinkType)
	}
}

// Finish flushes every connection (end of input).
func (e *Engine) Finish() {
	e.asm.FlushAll(e.last, e.stats.Last)
}

// Err returns the first error the sink reported.
func (e *Engine) Err() error { return e.dis.Err() }

// Stats returns the counters so far.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.Reassembly = e.asm.Stats()
	s.Dissect = e.dis.Stats()
	return s
}

// Run reads src to its end through a new engine. A read error after some
// packets (a damaged capture) is returned after everything decoded so far
// has been flushed to the sink.
func Run(src PacketSource, sink dissect.Sink, opts Options) (Stats, error) {
	e := New(sink, opts)
	var p source.Packet
	var readErr error
	for {
		if err := src.Next(&p); err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		e.Packet(&p)
		if err := e.Err(); err != nil {
			return e.Stats(), fmt.Errorf("writing output: %w", err)
		}
	}
	e.Finish()
	if err := e.Err(); err != nil {
		return e.Stats(), fmt.Errorf("writing output: %w", err)
	}
	return e.Stats(), readErr
}

// ReadFile runs the capture at path ("-" is not accepted here) through a new
// engine.
func ReadFile(path string, opts Options, sink dissect.Sink) (Stats, error) {
	f, err := source.Open(path, nil)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	return Run(f, sink, opts)
}
