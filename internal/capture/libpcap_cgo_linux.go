//go:build pcap_cgo

package capture

// The optional cgo backend: github.com/gopacket/gopacket/pcap, linked
// against libpcap at build time (needs a C compiler and libpcap-dev). Build
// with -tags pcap_cgo.

import (
	"errors"
	"fmt"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcap"

	"github.com/wsdissect/wsdissect/source"
)

// cgoPcap is libpcap through gopacket/pcap.
type cgoPcap struct{}

// loadLibpcap always succeeds: libpcap is linked in.
func loadLibpcap() (pcapLib, error) { return cgoPcap{}, nil }

// open implements pcapLib.
func (cgoPcap) open(cfg Config) (capturer, string, error) {
	in, err := pcap.NewInactiveHandle(cfg.Interface)
	if err != nil {
		return nil, "", fmt.Errorf("capturing on %s: %w", cfg.Interface, err)
	}
	defer in.CleanUp() // a no-op once activated
	// gopacket treats activation warnings as errors, and "any" warns that
	// it has no promiscuous mode.
	promisc := cfg.Promisc && cfg.Interface != "any"
	if cfg.BufferSize == 0 {
		cfg.BufferSize = defaultBufferKiB(cfg)
	}
	if err := errors.Join(
		in.SetSnapLen(cfg.Snaplen),
		in.SetPromisc(promisc),
		in.SetTimeout(cfg.Timeout),
		in.SetImmediateMode(cfg.Immediate),
	); err != nil {
		return nil, "", fmt.Errorf("configuring capture on %s: %w", cfg.Interface, err)
	}
	if cfg.BufferSize > 0 {
		if err := in.SetBufferSize(cfg.BufferSize * 1024); err != nil {
			return nil, "", fmt.Errorf("setting capture buffer size on %s: %w", cfg.Interface, err)
		}
	}
	h, err := in.Activate()
	if err != nil {
		switch err.Error() { // gopacket's activation errors are unexported values
		case "Permission Denied":
			if cfg.Interface != "any" && !interfaceExists(cfg.Interface) {
				return nil, "", noInterfaceError(cfg.Interface, kernelInterfaceNames())
			}
			return nil, "", permissionError(cfg.Interface)
		case "No Such Device":
			return nil, "", noInterfaceError(cfg.Interface, kernelInterfaceNames())
		case "Interface Not Up":
			return nil, "", fmt.Errorf("interface %q is down", cfg.Interface)
		}
		return nil, "", fmt.Errorf("capturing on %s: %w", cfg.Interface, err)
	}
	if cfg.Interface == "any" {
		_ = h.SetLinkType(layers.LinkType(dltLinuxSLL2)) // v1 is fine if refused
	}
	if cfg.Filter != "" {
		if err := h.SetBPFFilter(cfg.Filter); err != nil {
			h.Close()
			return nil, "", badFilterError(cfg.Filter, err.Error())
		}
	}
	return &cgoCapture{
		h:    h,
		link: linkTypeFromDLT(int(h.LinkType())),
		buf:  make([]byte, 0, min(cfg.Snaplen, 65536+64)),
	}, "", nil
}

// dltLinuxSLL2 is DLT_LINUX_SLL2.
const dltLinuxSLL2 = 276

// version implements pcapLib.
func (cgoPcap) version() string { return pcap.Version() }

// interfaces implements pcapLib.
func (cgoPcap) interfaces() ([]Interface, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, err
	}
	list := make([]Interface, 0, len(devs))
	for _, d := range devs {
		it := Interface{
			Name:        d.Name,
			Description: d.Description,
			Loopback:    d.Flags&0x1 != 0, // PCAP_IF_LOOPBACK
			Up:          d.Flags&0x2 != 0, // PCAP_IF_UP
			Running:     d.Flags&0x4 != 0, // PCAP_IF_RUNNING
		}
		for _, a := range d.Addresses {
			if p, ok := prefixOf(a.IP, a.Netmask); ok {
				it.Addresses = append(it.Addresses, p)
			}
		}
		list = append(list, it)
	}
	return list, nil
}

// cgoCapture is an activated gopacket/pcap handle. Its reads wait (for at
// most the timeout) themselves, so wait does nothing.
type cgoCapture struct {
	h    *pcap.Handle
	link source.LinkType
	buf  []byte
}

func (c *cgoCapture) read(p *source.Packet) (bool, error) {
	data, ci, err := c.h.ZeroCopyReadPacketData()
	if errors.Is(err, pcap.NextErrorTimeoutExpired) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	n := len(data)
	if cap(c.buf) < n {
		c.buf = make([]byte, 0, n)
	}
	c.buf = c.buf[:n]
	copy(c.buf, data)
	p.Time = ci.Timestamp
	p.Data = c.buf
	p.OrigLen = max(ci.Length, n)
	return true, nil
}

func (c *cgoCapture) wait(time.Duration) error { return nil }

func (c *cgoCapture) stats() (Stats, error) {
	st, err := c.h.Stats()
	if err != nil {
		return Stats{}, err
	}
	return Stats{
		Received:  uint64(st.PacketsReceived),
		Dropped:   uint64(st.PacketsDropped),
		IfDropped: uint64(st.PacketsIfDropped),
	}, nil
}

func (c *cgoCapture) linkType() source.LinkType { return c.link }

func (c *cgoCapture) close() error {
	c.h.Close()
	return nil
}
