package capgen

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// Side is one endpoint of a synthesised TCP connection.
type Side uint8

const (
	// Client is the endpoint that opens the connection (and sends the
	// WebSocket upgrade request).
	Client Side = 0
	// Server is the endpoint that accepts it.
	Server Side = 1
)

// Other returns the opposite side.
func (s Side) Other() Side { return s ^ 1 }

// String returns "client" or "server".
func (s Side) String() string {
	if s == Server {
		return "server"
	}
	return "client"
}

// Dir returns the direction of the data the side sends: "c2s" or "s2c".
func (s Side) Dir() string {
	if s == Server {
		return "s2c"
	}
	return "c2s"
}

// ImpairKind is a transport impairment applied to one data segment.
type ImpairKind uint8

const (
	// Drop leaves the segment out of the capture; the peer still
	// acknowledges it (it was lost between the capture point and nothing
	// else).
	Drop ImpairKind = iota + 1
	// Duplicate writes an identical retransmission right after the segment.
	Duplicate
	// RetransmitDiffer writes, right after the segment, a retransmission of
	// the same sequence range whose bytes differ (each byte XOR 0x55). The
	// original copy comes first.
	RetransmitDiffer
	// Overlap replaces the following segment of the same Send with one that
	// starts in the middle of this segment: its first half re-sends bytes
	// already written (identically), the rest is new.
	Overlap
	// Reorder holds the segment back and writes it after the next segment of
	// the same Send (so the two arrive swapped).
	Reorder
)

// String returns the impairment's name.
func (k ImpairKind) String() string {
	switch k {
	case Drop:
		return "drop"
	case Duplicate:
		return "duplicate"
	case RetransmitDiffer:
		return "retransmit-differ"
	case Overlap:
		return "overlap"
	case Reorder:
		return "reorder"
	}
	return fmt.Sprintf("impairment-%d", uint8(k))
}

// Impairment applies Kind to the first data segment of Side whose bytes
// include stream offset Offset (0 is the first byte after the SYN).
type Impairment struct {
	// Kind is the impairment.
	Kind ImpairKind
	// Side is the sender of the impaired segment.
	Side Side
	// Offset is a stream offset inside the impaired segment.
	Offset uint64
}

// Range is a half-open range [Start, End) of stream offsets.
type Range struct {
	// Start is the first offset in the range; End is one past the last.
	Start, End uint64
}

// ConnConfig describes a synthesised TCP connection. Zero fields select
// defaults: 10.1.0.1:51000 -> 10.1.0.2:8080, ISNs 0x10000000/0x20000000,
// MSS 1460, window 65535, an ACK every 2 segments.
type ConnConfig struct {
	// Client and Server are the endpoints; both IPv4 or both IPv6.
	Client, Server netip.AddrPort
	// ClientISN and ServerISN are the initial sequence numbers (the SYNs'
	// sequence numbers). Choose values near 2^32 to make the sequence space
	// wrap inside the conversation.
	ClientISN, ServerISN uint32
	// MSS is the maximum payload of a data segment.
	MSS int
	// AckEvery makes the receiver acknowledge after this many data segments
	// of a Send (and always at its end).
	AckEvery int
	// Window is the advertised TCP window.
	Window uint16
	// Link is the link-layer framing and capture interface.
	Link Link
	// IPv6Ext adds an extension header to every IPv6 packet.
	IPv6Ext IPv6Ext
}

// withDefaults fills zero fields.
func (cfg ConnConfig) withDefaults() ConnConfig {
	if !cfg.Client.IsValid() {
		cfg.Client = netip.MustParseAddrPort("10.1.0.1:51000")
	}
	if !cfg.Server.IsValid() {
		cfg.Server = netip.MustParseAddrPort("10.1.0.2:8080")
	}
	if cfg.ClientISN == 0 {
		cfg.ClientISN = 0x10000000
	}
	if cfg.ServerISN == 0 {
		cfg.ServerISN = 0x20000000
	}
	if cfg.MSS <= 0 {
		cfg.MSS = 1460
	}
	if cfg.AckEvery <= 0 {
		cfg.AckEvery = 2
	}
	if cfg.Window == 0 {
		cfg.Window = 65535
	}
	if cfg.Link.ClientMAC == [6]byte{} {
		cfg.Link.ClientMAC = [6]byte{2, 0, 0, 0, 0, 1}
	}
	if cfg.Link.ServerMAC == [6]byte{} {
		cfg.Link.ServerMAC = [6]byte{2, 0, 0, 0, 0, 2}
	}
	return cfg
}

// Conn synthesises the packets of one TCP connection into a Capture: the
// three-way handshake, data segmented by MSS (or explicit sizes) with ACKs
// from the peer, FIN or RST, and impairments of chosen segments. Methods do
// not return errors; the first problem is reported by Finish.
type Conn struct {
	cap  *Capture
	cfg  ConnConfig
	next [2]uint64 // stream offset of the next byte each side sends
	fin  [2]bool
	ipID [2]uint16
	imps []impairState

	startSet  bool
	startSide Side
	startOff  uint64
	suppress  bool
	missing   [2][]Range

	err error
}

type impairState struct {
	Impairment
	used bool
}

// NewConn returns a connection writing into c. It fails on an inconsistent
// configuration (mixed address families, unsupported link type, an
// interface already used with another link type).
func NewConn(c *Capture, cfg ConnConfig) (*Conn, error) {
	cfg = cfg.withDefaults()
	if cfg.Client.Addr().Unmap().Is4() != cfg.Server.Addr().Unmap().Is4() {
		return nil, fmt.Errorf("new conn: mixed address families %v and %v", cfg.Client, cfg.Server)
	}
	if cfg.MSS > 65000 {
		return nil, fmt.Errorf("new conn: MSS %d too large", cfg.MSS)
	}
	if _, err := buildPacket(&cfg.Link, ExtNone, &tcpPacket{src: cfg.Client, dst: cfg.Server}); err != nil {
		return nil, fmt.Errorf("new conn: %w", err)
	}
	if err := c.declare(cfg.Link.Interface, cfg.Link.Type); err != nil {
		return nil, fmt.Errorf("new conn: %w", err)
	}
	return &Conn{cap: c, cfg: cfg, ipID: [2]uint16{0x1000, 0x2000}}, nil
}

// Config returns the connection's configuration with defaults filled in.
func (c *Conn) Config() ConnConfig { return c.cfg }

// Impair registers impairments; each applies to one later data segment.
func (c *Conn) Impair(imps ...Impairment) {
	for _, im := range imps {
		c.imps = append(c.imps, impairState{Impairment: im})
	}
}

// StartAt makes the capture begin in the middle of the conversation: every
// packet (of both sides) is left out until side's data reaches stream offset
// off; the segment holding that offset is cut so the capture's first payload
// byte is exactly off. Call it before Open.
func (c *Conn) StartAt(side Side, off uint64) {
	c.startSet, c.startSide, c.startOff, c.suppress = true, side, off, true
}

// Missing returns the stream ranges of side that are not in the capture
// (dropped segments and bytes before the StartAt point).
func (c *Conn) Missing(side Side) []Range { return slices.Clone(c.missing[side]) }

// Sent returns how many payload bytes side has sent so far.
func (c *Conn) Sent(side Side) uint64 { return c.next[side] }

func (c *Conn) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *Conn) isn(s Side) uint32 {
	if s == Server {
		return c.cfg.ServerISN
	}
	return c.cfg.ClientISN
}

// seqAt returns the sequence number of side's stream offset off.
func (c *Conn) seqAt(s Side, off uint64) uint32 { return c.isn(s) + 1 + uint32(off) }

// ackOf returns the acknowledgement number s sends for everything the other
// side sent so far.
func (c *Conn) ackOf(s Side) uint32 {
	o := s.Other()
	a := c.seqAt(o, c.next[o])
	if c.fin[o] {
		a++
	}
	return a
}

// emit writes one packet from side unless the capture has not started yet.
func (c *Conn) emit(from Side, seq, ack uint32, flags uint8, mss uint16, payload []byte) {
	if c.suppress {
		return
	}
	p := tcpPacket{
		seq: seq, ack: ack, flags: flags, window: c.cfg.Window, mss: mss,
		ipID: c.ipID[from], payload: payload, outgoing: from == Client,
	}
	c.ipID[from]++
	if from == Client {
		p.src, p.dst = c.cfg.Client, c.cfg.Server
		p.srcMAC, p.dstMAC = c.cfg.Link.ClientMAC, c.cfg.Link.ServerMAC
	} else {
		p.src, p.dst = c.cfg.Server, c.cfg.Client
		p.srcMAC, p.dstMAC = c.cfg.Link.ServerMAC, c.cfg.Link.ClientMAC
	}
	pkts, err := buildPacket(&c.cfg.Link, c.cfg.IPv6Ext, &p)
	if err != nil {
		c.fail(err)
		return
	}
	for _, b := range pkts {
		c.cap.add(c.cfg.Link.Interface, c.cfg.Link.Type, b)
	}
}

// Open writes the three-way handshake (SYN, SYN-ACK, ACK), with MSS options.
func (c *Conn) Open() {
	mss := uint16(c.cfg.MSS)
	c.emit(Client, c.cfg.ClientISN, 0, flagSYN, mss, nil)
	c.emit(Server, c.cfg.ServerISN, c.cfg.ClientISN+1, flagSYN|flagACK, mss, nil)
	c.emit(Client, c.cfg.ClientISN+1, c.cfg.ServerISN+1, flagACK, 0, nil)
}

// Send writes data from side as MSS-sized segments; the peer acknowledges
// every AckEvery segments and at the end.
func (c *Conn) Send(from Side, data []byte) { c.SendSegments(from, data) }

type segment struct {
	off  uint64
	data []byte
}

func (s segment) end() uint64 { return s.off + uint64(len(s.data)) }

// SendSegments writes data from side cut into segments of the given sizes;
// the last size repeats until data runs out (SendSegments(s, d, 1) sends one
// byte per segment). Without sizes it behaves like Send.
func (c *Conn) SendSegments(from Side, data []byte, sizes ...int) {
	if len(data) == 0 || c.err != nil {
		return
	}
	if c.fin[from] {
		c.fail(fmt.Errorf("send: %v already sent FIN", from))
		return
	}
	base := c.next[from]
	var segs []segment
	off := base
	for i, rest := 0, data; len(rest) > 0; i++ {
		n := c.cfg.MSS
		if len(sizes) > 0 {
			n = sizes[min(i, len(sizes)-1)]
		}
		if n <= 0 {
			c.fail(fmt.Errorf("send: segment size %d", n))
			return
		}
		n = min(n, len(rest), c.cfg.MSS)
		segs = append(segs, segment{off: off, data: rest[:n]})
		off += uint64(n)
		rest = rest[n:]
	}
	end := off
	peer := from.Other()
	ackFor := func(upTo uint64) {
		// The peer's acknowledgement of from's bytes up to upTo.
		c.emit(peer, c.sndNext(peer), c.seqAt(from, upTo), flagACK, 0, nil)
	}
	dataFlags := func(s segment) uint8 {
		if s.end() == end {
			return flagACK | flagPSH
		}
		return flagACK
	}
	send := func(s segment) {
		c.emit(from, c.seqAt(from, s.off), c.ackOf(from), dataFlags(s), 0, s.data)
	}

	var held *segment
	var overlapFrom uint64
	overlapPending := false
	var done uint64 = base // end of the last segment handled in order
	count := 0
	for _, s := range segs {
		if c.suppress {
			if from != c.startSide || s.end() <= c.startOff {
				c.addMissing(from, s.off, s.end())
				continue
			}
			if c.startOff > s.off {
				c.addMissing(from, s.off, c.startOff)
				s = segment{off: c.startOff, data: s.data[c.startOff-s.off:]}
			}
			c.suppress = false
		}
		im := c.match(from, s)
		if overlapPending {
			overlapPending = false
			s = segment{off: overlapFrom, data: data[overlapFrom-base : s.end()-base]}
		}
		switch im {
		case Drop:
			c.addMissing(from, s.off, s.end())
		case Duplicate:
			send(s)
			send(s)
		case RetransmitDiffer:
			send(s)
			alt := make([]byte, len(s.data))
			for i, b := range s.data {
				alt[i] = b ^ 0x55
			}
			send(segment{off: s.off, data: alt})
		case Overlap:
			send(s)
			overlapFrom = s.off + uint64(len(s.data)/2)
			overlapPending = true
		case Reorder:
			if held != nil {
				c.fail(fmt.Errorf("send: two reordered segments in a row at offset %d", s.off))
				return
			}
			h := s
			held = &h
		default:
			send(s)
		}
		if held != nil && held.off != s.off {
			send(*held)
			held = nil
		}
		done = s.end()
		count++
		if count%c.cfg.AckEvery == 0 && done != end {
			upTo := done
			if held != nil {
				upTo = held.off
			}
			ackFor(upTo)
		}
	}
	if held != nil {
		c.fail(fmt.Errorf("send: reorder at offset %d has no later segment in the same Send", held.off))
		send(*held)
	}
	if overlapPending {
		c.fail(fmt.Errorf("send: overlap at offset %d has no later segment in the same Send", overlapFrom))
	}
	c.next[from] = end
	ackFor(end)
}

// match returns the impairment registered for segment s of side, if any.
func (c *Conn) match(side Side, s segment) ImpairKind {
	for i := range c.imps {
		im := &c.imps[i]
		if !im.used && im.Side == side && im.Offset >= s.off && im.Offset < s.end() {
			im.used = true
			return im.Kind
		}
	}
	return 0
}

func (c *Conn) addMissing(side Side, start, end uint64) {
	m := c.missing[side]
	if n := len(m); n > 0 && m[n-1].End == start {
		m[n-1].End = end
		return
	}
	c.missing[side] = append(m, Range{Start: start, End: end})
}

// Close writes a FIN from first, a FIN-ACK from the other side and the final
// ACK.
func (c *Conn) Close(first Side) {
	if c.fin[first] || c.fin[first.Other()] {
		c.fail(errors.New("close: FIN already sent"))
		return
	}
	other := first.Other()
	c.emit(first, c.seqAt(first, c.next[first]), c.ackOf(first), flagFIN|flagACK, 0, nil)
	c.fin[first] = true
	c.emit(other, c.seqAt(other, c.next[other]), c.ackOf(other), flagFIN|flagACK, 0, nil)
	c.fin[other] = true
	c.emit(first, c.seqAt(first, c.next[first])+1, c.ackOf(first), flagACK, 0, nil)
}

// Reset writes a RST (with ACK) from side.
func (c *Conn) Reset(from Side) {
	c.emit(from, c.sndNext(from), c.ackOf(from), flagRST|flagACK, 0, nil)
}

// sndNext is the sequence number side uses next (after its FIN, if sent).
func (c *Conn) sndNext(s Side) uint32 {
	seq := c.seqAt(s, c.next[s])
	if c.fin[s] {
		seq++
	}
	return seq
}

// Finish reports the first error met while writing packets, an impairment
// that matched no segment, or a StartAt point never reached.
func (c *Conn) Finish() error {
	if c.err != nil {
		return fmt.Errorf("tcp conn %v -> %v: %w", c.cfg.Client, c.cfg.Server, c.err)
	}
	for _, im := range c.imps {
		if !im.used {
			return fmt.Errorf("tcp conn %v -> %v: %v of %v offset %d matched no segment",
				c.cfg.Client, c.cfg.Server, im.Kind, im.Side, im.Offset)
		}
	}
	if c.suppress && c.startSet {
		return fmt.Errorf("tcp conn %v -> %v: start offset %d of %v never reached",
			c.cfg.Client, c.cfg.Server, c.startOff, c.startSide)
	}
	return nil
}
