package capture

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// pcapLib is the part of libpcap the package uses. The default build loads
// libpcap at run time with purego; -tags pcap_cgo links gopacket/pcap.
type pcapLib interface {
	// open creates, configures and activates a capture; the string is
	// libpcap's activation warning, if any.
	open(cfg Config) (capturer, string, error)
	// interfaces lists the capture devices (pcap_findalldevs).
	interfaces() ([]Interface, error)
	// version is pcap_lib_version's text.
	version() string
}

// LibpcapVersion returns the version text of the libpcap that Open would
// use (pcap_lib_version), or why none can be used: it cannot be loaded, or
// EnvNoLibpcap hides it.
func LibpcapVersion() (string, error) {
	if envHidesLibpcap() {
		return "", errors.New("libpcap hidden by " + EnvNoLibpcap)
	}
	lib, err := loadLibpcap()
	if err != nil {
		return "", err
	}
	return lib.version(), nil
}

// Interface describes one capture device, for -D / --list-interfaces.
type Interface struct {
	// Name is what -i takes.
	Name string
	// Description is libpcap's description, often empty.
	Description string
	// Addresses are the interface's IP addresses with their netmasks.
	Addresses []netip.Prefix
	// Up, Running and Loopback are the interface flags.
	Up, Running, Loopback bool
}

// Interfaces lists the devices that can be captured on: libpcap's list
// (pcap_findalldevs, which includes pseudo-devices such as "any") when
// libpcap can be loaded, else the kernel's interfaces plus "any".
func Interfaces() ([]Interface, error) {
	return listInterfaces(envHidesLibpcap())
}

func listInterfaces(hideLibpcap bool) ([]Interface, error) {
	if !hideLibpcap {
		if lib, err := loadLibpcap(); err == nil {
			list, err := lib.interfaces()
			if err != nil {
				return nil, fmt.Errorf("listing capture interfaces: %w", err)
			}
			return list, nil
		}
	}
	list, err := kernelInterfaces()
	if err != nil {
		return nil, err
	}
	if anySupported {
		list = append(list, Interface{
			Name:        "any",
			Description: "Pseudo-device that captures on all interfaces",
			Up:          true,
			Running:     true,
		})
	}
	return list, nil
}

// kernelInterfaces lists the interfaces the kernel knows, with addresses.
func kernelInterfaces() ([]Interface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing network interfaces: %w", err)
	}
	list := make([]Interface, 0, len(ifs))
	for _, ifc := range ifs {
		it := Interface{
			Name:     ifc.Name,
			Up:       ifc.Flags&net.FlagUp != 0,
			Running:  ifc.Flags&net.FlagRunning != 0,
			Loopback: ifc.Flags&net.FlagLoopback != 0,
		}
		addrs, err := ifc.Addrs()
		if err == nil {
			for _, a := range addrs {
				ipn, ok := a.(*net.IPNet)
				if !ok {
					continue
				}
				if p, ok := prefixOf(ipn.IP, ipn.Mask); ok {
					it.Addresses = append(it.Addresses, p)
				}
			}
		}
		list = append(list, it)
	}
	return list, nil
}

// prefixOf combines an address and a netmask (nil or non-contiguous: a
// single-address prefix).
func prefixOf(ip net.IP, mask net.IPMask) (netip.Prefix, bool) {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Prefix{}, false
	}
	addr = addr.Unmap()
	bits := addr.BitLen()
	if mask != nil {
		if ones, size := mask.Size(); size != 0 {
			if size == bits || (size == 128 && bits == 32 && ones >= 96) {
				bits = ones - (size - bits)
			}
		}
	}
	return netip.PrefixFrom(addr, bits), true
}

// kernelInterfaceNames lists the kernel's interface names, for the
// unknown-interface sentence.
func kernelInterfaceNames() []string {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil
	}
	names := make([]string, 0, len(ifs))
	for _, ifc := range ifs {
		names = append(names, ifc.Name)
	}
	return names
}

// interfaceExists reports whether the kernel has an interface called name.
func interfaceExists(name string) bool {
	return slices.Contains(kernelInterfaceNames(), name)
}

// Ring sizing for libpcap's immediate mode, where every packet takes a
// frame big enough for the interface's MTU.
const (
	minRingFrames   = 256
	libpcapRingKiB  = 2048      // libpcap's default buffer size
	maxDefaultRingK = 64 * 1024 // cap of the computed default
)

// defaultBufferKiB returns the capture buffer, in KiB, to ask libpcap for
// when the user gave none (see Config.BufferSize), or 0 to keep libpcap's
// default.
func defaultBufferKiB(cfg Config) int {
	if cfg.Immediate {
		return immediateBufferKiB(cfg.Interface)
	}
	return BlockBufferKiB
}

// immediateBufferKiB returns the capture buffer, in KiB, to ask libpcap for
// when the user gave none, or 0 to keep libpcap's default. In immediate mode
// libpcap gives each packet a frame sized for the MTU, so its 2 MiB default
// holds only 16 packets on a loopback interface (MTU 65536); the buffer is
// raised to hold at least minRingFrames packets.
func immediateBufferKiB(iface string) int {
	mtu := 0
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			if iface == "any" || ifc.Name == iface {
				mtu = max(mtu, ifc.MTU)
			}
		}
	}
	frame := 1024 // a frame is MTU plus headers, in a power-of-two block
	for frame < mtu+256 && frame < 1<<20 {
		frame <<= 1
	}
	kib := minRingFrames * frame / 1024
	if kib <= libpcapRingKiB {
		return 0
	}
	return min(kib, maxDefaultRingK)
}
