package cmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/internal/capture"
	"github.com/wsdissect/wsdissect/source"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// packetMarks remembers what read -w with -Y saves of one capture: the
// packets of the records shown, one bit a packet, and so that the copy
// decodes alike, their connections from the first packet on (the handshakes
// and the messages before them, which compression, TLS and HTTP/2 need).
type packetMarks struct {
	next dissect.Sink
	// filter is -Y: it tells an end record that matches itself from one
	// shown because its connection was.
	filter *filter.Filter
	bits   []uint64
	spans  engine.ConnSpans
	// datagrams are the packets of the fragmented IP datagrams read
	// (engine.Options.Datagram): their fragments go with the packet that
	// completed them.
	datagrams *fragmentGroups
	// randoms, when set, collects the TLS sessions of the records shown
	// (--inject-secrets).
	randoms tlsRandoms
}

// mark records packet n.
func (m *packetMarks) mark(n uint64) {
	if n == 0 {
		return
	}
	i := n / 64
	if i >= uint64(len(m.bits)) {
		m.bits = append(m.bits, make([]uint64, i+1-uint64(len(m.bits)))...)
	}
	m.bits[i] |= 1 << (n % 64)
}

// has reports whether packet n was marked.
func (m *packetMarks) has(n uint64) bool {
	i := n / 64
	return i < uint64(len(m.bits)) && m.bits[i]&(1<<(n%64)) != 0
}

// merge adds o's marks.
func (m *packetMarks) merge(o *packetMarks) {
	m.spans.Merge(&o.spans)
	for i, w := range o.bits {
		if i >= len(m.bits) {
			m.bits = append(m.bits, o.bits[i:]...)
			return
		}
		m.bits[i] |= w
	}
}

// Emit implements dissect.Sink: it selects the record's connection's
// packets from the first up to the record's last, which include the packets
// that carried the record (a frame's packets; a message's first and last;
// the packet of a connection or anomaly record); those alone when the
// connection's first packet is not known. An end record counts only when it
// matches the filter itself (then its connection is kept whole).
func (m *packetMarks) Emit(r *dissect.Record) error {
	if r.Kind == dissect.KindEnd && (m.filter == nil || !m.filter.Match(r)) {
		// Shown with its connection, whatever it says: the copy holds
		// what the connection's other records need, and ends there.
		return m.next.Emit(r)
	}
	if m.randoms != nil {
		m.randoms.add(r.Conn)
	}
	var own []uint64
	var first [1]uint64
	switch {
	case r.Kind == dissect.KindFrame && r.Frame != nil:
		own = r.Frame.Packets
	case r.Kind == dissect.KindMessage && r.Message != nil:
		first[0] = r.Message.FirstPacket
		own = first[:]
	}
	if c := r.Conn; c != nil && c.FirstPacket != 0 {
		last := r.Packet
		for _, p := range own {
			last = max(last, p)
		}
		m.spans.Add(c.Client, c.Server, c.FirstPacket, last)
	} else {
		m.mark(r.Packet)
		for _, p := range own {
			m.mark(p)
		}
	}
	return m.next.Emit(r)
}

// complete adds to the marks the packets of the connections' spans, read
// again from the capture that open opens, and the fragments of the
// datagrams that marked packets completed.
func (m *packetMarks) complete(name string, open func() (engine.PacketSource, func(), error)) error {
	if m.spans.Len() > 0 {
		src, done, err := open()
		if err != nil {
			return fmt.Errorf("-w: reading %s again: %w", name, err)
		}
		err = m.spans.Mark(src, m.mark)
		done()
		if err != nil && !errors.Is(err, source.ErrDamaged) {
			return fmt.Errorf("-w: reading %s again: %w", name, err)
		}
	}
	if m.datagrams != nil {
		m.datagrams.markWith(m)
	}
	return nil
}

// fragmentGroups remembers which packets carried the fragments of each IP
// datagram (engine.Options.Datagram), for read -w.
type fragmentGroups struct {
	completed []uint64 // the packet that completed each datagram
	ends      []int    // where each datagram's packets end in pkts
	pkts      []uint64
}

// add records a datagram completed by packet completed from the fragments
// carried by pkts.
func (g *fragmentGroups) add(completed uint64, pkts []uint64) {
	g.completed = append(g.completed, completed)
	g.pkts = append(g.pkts, pkts...)
	g.ends = append(g.ends, len(g.pkts))
}

// markWith marks the packets of every datagram whose completing packet m
// marked.
func (g *fragmentGroups) markWith(m *packetMarks) {
	start := 0
	for i, c := range g.completed {
		if m.has(c) {
			for _, p := range g.pkts[start:g.ends[i]] {
				m.mark(p)
			}
		}
		start = g.ends[i]
	}
}

// packetWriter writes the packets of -w (capture.PcapWriter,
// capture.PcapngWriter).
type packetWriter interface {
	Write(p *source.Packet) error
	Flush() error
}

// isPcapng reports whether the -w file name asks for pcapng (.pcapng).
func isPcapng(path string) bool {
	return strings.HasSuffix(strings.ToLower(path), ".pcapng")
}

// newPacketWriter starts a -w file of the format its name asks for: pcapng
// for a .pcapng name (several link types fit), pcap otherwise (as tcpdump
// writes), with link as the first link type.
func newPacketWriter(path string, w io.Writer, link source.LinkType, snaplen int) (packetWriter, error) {
	if isPcapng(path) {
		return capture.NewPcapngWriter(w, link, snaplen)
	}
	return capture.NewPcapWriter(w, link, snaplen)
}

// saver writes the packets of read -w to one capture file.
type saver struct {
	path string
	f    *os.File
	buf  *bufio.Writer
	w    packetWriter
	link source.LinkType
	// secrets are written (a pcapng Decryption Secrets Block) before the
	// next packet saved (--inject-secrets).
	secrets []byte
}

// secretsWriter is a packetWriter that can embed TLS secrets
// (capture.PcapngWriter).
type secretsWriter interface {
	WriteSecrets(keyLog []byte) error
}

// reopen opens input in again for the second reading -w needs: a capture
// file, or rotated files read as one capture (their packet numbers continue
// from file to file).
func reopen(in readInput) (engine.PacketSource, func(), error) {
	if in.chain != nil {
		ch := source.NewChain(in.chain, nil)
		return ch, func() { ch.Close() }, nil
	}
	src, err := source.Open(in.name, nil)
	if err != nil {
		return nil, nil, err
	}
	return src, func() { src.Close() }, nil
}

// save copies the packets of input in that keep says to keep.
func (s *saver) save(in readInput, keep func(uint64) bool) error {
	src, done, err := reopen(in)
	if err != nil {
		return fmt.Errorf("-w: reading %s again: %w", in.name, err)
	}
	defer done()
	return s.copy(in.name, src, keep)
}

// copy writes the packets of src that keep selects.
func (s *saver) copy(name string, src engine.PacketSource, keep func(uint64) bool) error {
	var err error
	var p source.Packet
	for {
		if err := src.Next(&p); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, source.ErrDamaged) {
				return nil // the damage was reported by the first pass
			}
			return fmt.Errorf("-w: reading %s again: %w", name, err)
		}
		if !keep(p.Number) {
			continue
		}
		if s.w == nil {
			if s.f, err = os.Create(s.path); err != nil {
				return &saveError{fmt.Errorf("-w: %w", err)}
			}
			s.buf = bufio.NewWriter(s.f)
			if s.w, err = newPacketWriter(s.path, s.buf, p.LinkType, 0); err != nil {
				return &saveError{fmt.Errorf("-w %s: %w", s.path, err)}
			}
			s.link = p.LinkType
		}
		if p.LinkType != s.link && !isPcapng(s.path) {
			return &saveError{fmt.Errorf("-w %s: packet %d of %s has link type %d, the file has %d: a pcap file holds one (name the file .pcapng to keep several)", s.path, p.Number, name, p.LinkType, s.link)}
		}
		if sw, ok := s.w.(secretsWriter); ok && len(s.secrets) > 0 {
			if err := sw.WriteSecrets(s.secrets); err != nil {
				return &saveError{fmt.Errorf("-w %s: %w", s.path, err)}
			}
			s.secrets = nil
		}
		if err := s.w.Write(&p); err != nil {
			return &saveError{fmt.Errorf("-w %s: %w", s.path, err)}
		}
	}
}

// tlsRandoms is a set of TLS sessions, by client random.
type tlsRandoms map[[32]byte]struct{}

// add adds the TLS sessions conn runs in: its own and those of the HTTPS
// proxies it went through. A nil set adds nothing.
func (s tlsRandoms) add(c *dissect.Conn) {
	if s == nil || c == nil {
		return
	}
	put := func(t *dissect.TLS) {
		if t != nil && t.ClientRandom != ([32]byte{}) {
			s[t.ClientRandom] = struct{}{}
		}
	}
	put(c.TLS)
	for p := range c.Proxies() {
		put(p.TLS)
	}
}

// merge adds o's sessions (into a set made when s is nil and o is not).
func (s *tlsRandoms) merge(o tlsRandoms) {
	if len(o) == 0 {
		return
	}
	if *s == nil {
		*s = tlsRandoms{}
	}
	for k := range o {
		(*s)[k] = struct{}{}
	}
}

// keyLog returns the NSS key log lines kl has for the sessions, in client
// random order.
func (s tlsRandoms) keyLog(kl *tlsdecrypt.KeyLog) []byte {
	keys := slices.SortedFunc(maps.Keys(s), func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	var b []byte
	for _, k := range keys {
		b = kl.AppendNSS(b, k)
	}
	return b
}

// randomsSink collects the TLS sessions of every record.
type randomsSink struct {
	next dissect.Sink
	set  tlsRandoms
}

// Emit implements dissect.Sink.
func (r *randomsSink) Emit(rec *dissect.Record) error {
	r.set.add(rec.Conn)
	return r.next.Emit(rec)
}

// close finishes the file; with no packet saved it is an empty pcap
// (Ethernet).
func (s *saver) close() error {
	if s.w == nil {
		var err error
		if s.f, err = os.Create(s.path); err != nil {
			return &saveError{fmt.Errorf("-w: %w", err)}
		}
		s.buf = bufio.NewWriter(s.f)
		if s.w, err = newPacketWriter(s.path, s.buf, source.LinkEthernet, 0); err != nil {
			return &saveError{fmt.Errorf("-w %s: %w", s.path, err)}
		}
	}
	if err := closeSaved(s.w, s.buf, s.f); err != nil {
		return &saveError{fmt.Errorf("-w %s: %w", s.path, err)}
	}
	return nil
}
