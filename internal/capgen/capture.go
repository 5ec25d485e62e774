package capgen

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// defaultBase is the synthetic time of the first packet of a capture:
// 2024-01-02T03:04:05Z.
func defaultBase() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }

// DefaultStep is the synthetic time between two consecutive packets.
const DefaultStep = time.Millisecond

// DefaultSnapLen is the snap length written into capture headers.
const DefaultSnapLen = 262144

// CapturedPacket is one packet of a Capture.
type CapturedPacket struct {
	// Time is the synthetic capture time.
	Time time.Time
	// Interface is the pcapng interface index.
	Interface int
	// LinkType is the interface's link type.
	LinkType LinkType
	// Data is the packet, starting with the link-layer header.
	Data []byte
}

// CaptureOptions configure the synthetic clock of a Capture.
type CaptureOptions struct {
	// Base is the first packet's time; zero selects 2024-01-02T03:04:05Z.
	Base time.Time
	// Step is added for every further packet; zero selects DefaultStep.
	Step time.Duration
}

// Capture collects packets in memory, in the order they are added, and
// writes them as pcap or pcapng. Timestamps are Base + n*Step for the n-th
// packet (from 0), plus the pauses before it (Pause), so output is
// deterministic.
type Capture struct {
	base   time.Time
	step   time.Duration
	paused time.Duration // added to every later packet's time (Pause)
	ifaces []LinkType
	used   []bool
	pkts   []CapturedPacket
}

// NewCapture returns an empty capture.
func NewCapture(opts CaptureOptions) *Capture {
	c := &Capture{base: opts.Base, step: opts.Step}
	if c.base.IsZero() {
		c.base = defaultBase()
	}
	if c.step == 0 {
		c.step = DefaultStep
	}
	return c
}

// declare registers that interface iface carries link type lt.
func (c *Capture) declare(iface int, lt LinkType) error {
	if iface < 0 || iface > 255 {
		return fmt.Errorf("capture: interface index %d out of range 0-255", iface)
	}
	for len(c.ifaces) <= iface {
		c.ifaces = append(c.ifaces, 0)
		c.used = append(c.used, false)
	}
	if c.used[iface] && c.ifaces[iface] != lt {
		return fmt.Errorf("capture: interface %d already has link type %v, not %v", iface, c.ifaces[iface], lt)
	}
	c.ifaces[iface], c.used[iface] = lt, true
	return nil
}

// Add appends a packet captured on interface iface with link type lt. It
// fails when the interface was already used with another link type.
func (c *Capture) Add(iface int, lt LinkType, data []byte) error {
	if err := c.declare(iface, lt); err != nil {
		return err
	}
	c.add(iface, lt, data)
	return nil
}

// add appends a packet on an interface already declared.
func (c *Capture) add(iface int, lt LinkType, data []byte) {
	t := c.base.Add(time.Duration(len(c.pkts))*c.step + c.paused)
	c.pkts = append(c.pkts, CapturedPacket{Time: t, Interface: iface, LinkType: lt, Data: data})
}

// Pause moves the clock of every later packet d further: the capture shows a
// quiet stretch of d (plus one step) before the next packet.
func (c *Capture) Pause(d time.Duration) { c.paused += d }

// Packets returns the packets added so far; the slice must not be modified.
func (c *Capture) Packets() []CapturedPacket { return c.pkts }

// PcapOptions select the variant of the classic pcap format.
type PcapOptions struct {
	// Nanosecond writes nanosecond timestamps (magic 0xa1b23c4d) instead of
	// microseconds.
	Nanosecond bool
	// BigEndian writes the file in big-endian byte order.
	BigEndian bool
	// SnapLen is the header's snap length; zero selects DefaultSnapLen.
	SnapLen uint32
}

// WritePcap writes the capture as a classic pcap file. All packets must be on
// interface 0 (pcap has a single link type).
func (c *Capture) WritePcap(w io.Writer, opts PcapOptions) error {
	lt := LinkEthernet
	for i, used := range c.used {
		if !used {
			continue
		}
		if i != 0 {
			return fmt.Errorf("write pcap: packets on interface %d; pcap holds one interface", i)
		}
		lt = c.ifaces[0]
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if opts.BigEndian {
		bo = binary.BigEndian
	}
	snap := opts.SnapLen
	if snap == 0 {
		snap = DefaultSnapLen
	}
	var hdr [24]byte
	magic := uint32(0xa1b2c3d4)
	if opts.Nanosecond {
		magic = 0xa1b23c4d
	}
	bo.PutUint32(hdr[0:], magic)
	bo.PutUint16(hdr[4:], 2)
	bo.PutUint16(hdr[6:], 4)
	bo.PutUint32(hdr[16:], snap)
	bo.PutUint32(hdr[20:], uint32(lt))
	if _, err := w.Write(hdr[:]); err != nil {
		return fmt.Errorf("write pcap header: %w", err)
	}
	var rec [16]byte
	for i, p := range c.pkts {
		frac := p.Time.Nanosecond() / 1000
		if opts.Nanosecond {
			frac = p.Time.Nanosecond()
		}
		n := len(p.Data)
		incl := min(n, int(snap))
		bo.PutUint32(rec[0:], uint32(p.Time.Unix()))
		bo.PutUint32(rec[4:], uint32(frac))
		bo.PutUint32(rec[8:], uint32(incl))
		bo.PutUint32(rec[12:], uint32(n))
		if _, err := w.Write(rec[:]); err != nil {
			return fmt.Errorf("write pcap packet %d: %w", i+1, err)
		}
		if _, err := w.Write(p.Data[:incl]); err != nil {
			return fmt.Errorf("write pcap packet %d: %w", i+1, err)
		}
	}
	return nil
}

// WritePcapNG writes the capture as a pcapng file with one interface
// description block per interface index in use (indices must be contiguous
// from 0).
func (c *Capture) WritePcapNG(w io.Writer) error {
	if len(c.ifaces) == 0 {
		if err := c.declare(0, LinkEthernet); err != nil {
			return err
		}
	}
	for i, used := range c.used {
		if !used {
			return fmt.Errorf("write pcapng: interface %d has no packets; indices must be contiguous", i)
		}
	}
	iface := func(i int) pcapgo.NgInterface {
		return pcapgo.NgInterface{
			Name:       fmt.Sprintf("if%d", i),
			LinkType:   layers.LinkType(c.ifaces[i]),
			SnapLength: DefaultSnapLen,
		}
	}
	ng, err := pcapgo.NewNgWriterInterface(w, iface(0), pcapgo.NgWriterOptions{
		SectionInfo: pcapgo.NgSectionInfo{Application: "wsdissect gencap"},
	})
	if err != nil {
		return fmt.Errorf("write pcapng header: %w", err)
	}
	for i := 1; i < len(c.ifaces); i++ {
		if _, err := ng.AddInterface(iface(i)); err != nil {
			return fmt.Errorf("write pcapng interface %d: %w", i, err)
		}
	}
	for i, p := range c.pkts {
		ci := gopacket.CaptureInfo{
			Timestamp:      p.Time,
			CaptureLength:  len(p.Data),
			Length:         len(p.Data),
			InterfaceIndex: p.Interface,
		}
		if err := ng.WritePacket(ci, p.Data); err != nil {
			return fmt.Errorf("write pcapng packet %d: %w", i+1, err)
		}
	}
	if err := ng.Flush(); err != nil {
		return fmt.Errorf("write pcapng: %w", err)
	}
	return nil
}
