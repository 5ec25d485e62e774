// Package engine runs packets through header decoding, TCP reassembly and
// WebSocket dissection, delivering records to a sink.
package engine

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/ipfrag"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/netpkt"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/source"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
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
	// Datagram, when set, is called (from the goroutine that reads the
	// packets) when packet completed completes an IP datagram, with the
	// packets that carried its fragments (completed included; the slice
	// is reused): records name the completing packet only.
	Datagram func(completed uint64, fragments []uint64)
	// Workers is the number of workers RunParallel spreads connections over:
	// 0 means runtime.GOMAXPROCS(0), 1 the single-threaded Run. Run and
	// Engine ignore it.
	Workers int
	// Memory is the memory budget in bytes (0: none) shared by everything
	// that holds bytes for a while: out-of-order TCP data, tracked
	// connections, partial frames and messages, search buffers and, in
	// RunParallel, the input and output queued between the reader, the
	// workers and the merger. The per-item limits still apply inside it.
	// When it is exhausted, retained payload is cut (memory-budget
	// anomalies), holes are given up, and new connections end the least
	// recently active ones; see reassembly.Config.Memory and
	// dissect.Options.Memory. Three quarters of it are for the bytes these
	// hold; the rest is headroom for what is not charged (records being
	// formatted, garbage not yet collected, which a caller bounds with
	// debug.SetMemoryLimit).
	Memory int64
	// FlushEach has RunParallel write its output after every packet (live
	// capture) instead of in large pieces.
	FlushEach bool
	// NoOutput promises that the sinks RunParallel makes write nothing to
	// the writers they are given (read -q: records are only counted), so
	// that the workers need not tell the merger where each command's
	// output ends and the merger need not walk the commands to put it in
	// order. A sink that writes anyway stops a run of several workers with
	// an error (with one worker, whose output needs no merging, it is
	// written).
	NoOutput bool
}

// DefaultMemory is the memory budget of the command line (--memory).
const DefaultMemory = 1 << 30

// MemoryStats reports the memory budget of a run.
type MemoryStats struct {
	// Limit is the budget (Options.Memory), Peak the most bytes charged to
	// it at once.
	Limit, Peak int64
}

// Stats summarises a run.
type Stats struct {
	// Packets counts packets read; TCP those that decoded to TCP; Malformed
	// those whose headers were damaged.
	Packets, TCP, Malformed uint64
	// Decapsulated counts the TCP packets found inside a tunnel or another
	// encapsulation (netpkt.Segment.Encap).
	Decapsulated uint64
	// Defragmented counts the TCP packets reassembled from IP fragments;
	// FragmentsDropped the fragments whose datagram never completed (in
	// time, or within the reassembler's bounds).
	Defragmented, FragmentsDropped uint64
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
	// Memory is the memory budget's limit and peak use (zero without a
	// budget).
	Memory MemoryStats
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
	opts Options
	mem  *membudget.Budget
	dis  *dissect.Dissector
	asm  *reassembly.Assembler
	rd   reader
}

// New returns an engine that emits records to sink.
func New(sink dissect.Sink, opts Options) *Engine {
	e := &Engine{opts: opts}
	e.mem = withBudget(&e.opts)
	giveMemory(sink, e.mem)
	e.dis, e.asm = newStages(sink, e.opts)
	e.rd.epoch, e.rd.datagram = e.opts.Epoch, e.opts.Datagram
	return e
}

// newStages builds the stages that decode connections, for an engine or
// for one worker of RunParallel: the WebSocket dissector (with the layers
// under and over it) emitting to sink, behind the TCP reassembler.
func newStages(sink dissect.Sink, opts Options) (*dissect.Dissector, *reassembly.Assembler) {
	dis := dissect.New(sink, opts.Dissect)
	return dis, reassembly.New(dis, opts.Reassembly)
}

// Packet processes one packet.
func (e *Engine) Packet(p *source.Packet) {
	if e.rd.packet(p) {
		e.asm.Process(&e.rd.seg, p.Number, p.Time)
	}
}

// Finish flushes every connection (end of input).
func (e *Engine) Finish() {
	e.asm.FlushAll(e.rd.last, e.rd.stats.Last)
}

// reader is the front of the packet loop that Run and RunParallel share: it
// counts the packets read and decodes their headers.
type reader struct {
	epoch    func(time.Time)        // Options.Epoch
	datagram func(uint64, []uint64) // Options.Datagram
	stats    Stats
	seg      netpkt.Segment // the last TCP segment decoded
	last     uint64         // the last packet number
	// frag is the last IP fragment decoded; defrag reassembles fragments
	// (made at the first one).
	frag   netpkt.Fragment
	defrag *ipfrag.Reassembler
}

// packet counts p and decodes its headers, reporting whether it is a TCP
// segment (then in r.seg).
func (r *reader) packet(p *source.Packet) bool {
	if r.stats.Packets == 0 {
		r.stats.First = p.Time
		if r.epoch != nil {
			r.epoch(p.Time)
		}
	}
	r.stats.Packets++
	r.stats.Last = p.Time
	r.last = p.Number
	err := netpkt.DecodeFragments(p.LinkType, p.Data, &r.seg, &r.frag)
	if err == netpkt.ErrFragment {
		err = r.defragment(p)
	}
	switch {
	case err == nil:
		r.stats.TCP++
		if r.seg.Encap != 0 {
			r.stats.Decapsulated++
		}
		return true
	case errors.Is(err, netpkt.ErrNotTCP):
	default:
		r.stats.countFailure(err, p.LinkType)
	}
	return false
}

// defragment adds the fragment in r.frag to its datagram and, when that
// completes it, decodes the datagram into r.seg (the segment is p's, the
// packet that completed it, as in tshark). It returns ErrNotTCP while the
// datagram is incomplete.
func (r *reader) defragment(p *source.Packet) error {
	if r.defrag == nil {
		r.defrag = ipfrag.New(ipfrag.Config{})
	}
	payload, claimed, ok := r.defrag.Add(&r.frag, p.Number, p.Time)
	if !ok {
		return netpkt.ErrNotTCP
	}
	if r.datagram != nil {
		r.datagram(p.Number, r.defrag.Packets())
	}
	err := netpkt.DecodeDatagram(&r.frag, payload, claimed, &r.seg)
	if err == nil {
		r.stats.Defragmented++
	}
	return err
}

// statsNow returns the counters so far; fragments still waiting for the
// rest of their datagram count as dropped (at the end of a capture they
// never completed).
func (r *reader) statsNow() Stats {
	s := r.stats
	if r.defrag != nil {
		s.FragmentsDropped = r.defrag.Stats().Dropped + uint64(r.defrag.Pending())
	}
	return s
}

// loop reads src to its end, or until stop (when not nil) reports true or
// tcp returns an error, calling tcp with each TCP segment's packet (the
// segment is in r.seg). It returns the read error, if any (not io.EOF), and
// tcp's.
func (r *reader) loop(src PacketSource, stop func() bool, tcp func(p *source.Packet) error) (readErr, err error) {
	var p source.Packet
	for stop == nil || !stop() {
		if err := src.Next(&p); err != nil {
			if !errors.Is(err, io.EOF) {
				return err, nil
			}
			return nil, nil
		}
		if r.packet(&p) {
			if err := tcp(&p); err != nil {
				return nil, err
			}
		}
	}
	return nil, nil
}

// Err returns the first error the sink reported.
func (e *Engine) Err() error { return e.dis.Err() }

// Stats returns the counters so far.
func (e *Engine) Stats() Stats {
	s := e.rd.statsNow()
	s.Reassembly = e.asm.Stats()
	s.Dissect = e.dis.Stats()
	s.Memory = memStats(e.mem)
	return s
}

// withBudget sets up the memory budget of opts.Memory in the stages'
// options, and returns it (nil without one).
func withBudget(opts *Options) *membudget.Budget {
	if opts.Memory <= 0 {
		return nil
	}
	// Three quarters for the bytes charged; the rest is headroom for what
	// is not (records being formatted, garbage not yet collected).
	b := membudget.New(opts.Memory - opts.Memory/4)
	opts.Reassembly.Memory = b
	opts.Dissect.Memory = b
	return b
}

// memStats returns the limit and peak of b.
func memStats(b *membudget.Budget) MemoryStats {
	if b == nil {
		return MemoryStats{}
	}
	return MemoryStats{Limit: b.Limit() + b.Limit()/3, Peak: b.Peak()}
}

// Run reads src to its end through a new engine. A read error after some
// packets (a damaged capture) is returned after everything decoded so far
// has been flushed to the sink.
func Run(src PacketSource, sink dissect.Sink, opts Options) (Stats, error) {
	return New(sink, opts).run(src, nil)
}

// run is the packet loop: it reads src to its end through e, calls after
// (when not nil) after each packet that decoded to TCP, and finishes.
func (e *Engine) run(src PacketSource, after func(ts time.Time) error) (Stats, error) {
	readErr, err := e.rd.loop(src, nil, func(p *source.Packet) error {
		e.asm.Process(&e.rd.seg, p.Number, p.Time)
		if err := e.Err(); err != nil {
			return err
		}
		if after != nil {
			return after(p.Time)
		}
		return nil
	})
	if err != nil {
		return e.Stats(), fmt.Errorf("writing output: %w", err)
	}
	e.Finish()
	if err := e.Err(); err != nil {
		return e.Stats(), fmt.Errorf("writing output: %w", err)
	}
	return e.Stats(), readErr
}

// ReadFile runs the capture at path ("-" is not accepted here) through a new
// engine. The TLS key logs of a pcapng file's Decryption Secrets Blocks are
// added to opts.Dissect.KeyLog (a new one when it is nil) as the reading
// meets them, before the packets that follow them; the first that cannot be
// added is returned as the error when nothing else went wrong.
func ReadFile(path string, opts Options, sink dissect.Sink) (Stats, error) {
	f, err := source.Open(path, nil)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	if opts.Dissect.KeyLog == nil {
		opts.Dissect.KeyLog = tlsdecrypt.NewKeyLog()
	}
	var secretsErr error
	f.OnSecrets(AddSecrets(opts.Dissect.KeyLog, func(err error) {
		if secretsErr == nil {
			secretsErr = err
		}
	}))
	st, err := Run(f, sink, opts)
	if err == nil {
		err = secretsErr
	}
	return st, err
}

// AddSecrets returns a function for source.File.OnSecrets (and
// source.Chain.OnSecrets) that adds the TLS key logs of a capture's pcapng
// Decryption Secrets Blocks to kl. What cannot be added, a malformed block
// or key log line, is passed to report when it is not nil (the lines of a
// key log before a bad one are added). RunParallel reads the packets in a
// goroutine of its own, so the function runs there, while workers look
// secrets up: KeyLog is safe for that.
func AddSecrets(kl *tlsdecrypt.KeyLog, report func(error)) func(source.Secrets) {
	return func(s source.Secrets) {
		err := s.Err
		if err == nil {
			err = kl.AddBytes(s.KeyLog, fmt.Sprintf("%s (decryption secrets block at byte offset %d)", s.Name, s.Offset))
		} else {
			err = fmt.Errorf("%s: %w", s.Name, err)
		}
		if err != nil && report != nil {
			report(err)
		}
	}
}
