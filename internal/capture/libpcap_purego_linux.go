//go:build (amd64 || arm64) && !pcap_cgo

package capture

// This file is the only one that talks to libpcap in the default build. It
// loads the library with purego at run time; the struct layouts below are
// those of 64-bit Linux (LP64), which the build constraint guarantees.

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"github.com/ebitengine/purego"
	"golang.org/x/sys/unix"

	"github.com/wsdissect/wsdissect/source"
)

// libpcapNames are tried in order by loadLibpcap: Debian's runtime package
// (libpcap0.8) ships the first, other distributions the second, development
// packages the third.
var libpcapNames = [...]string{"libpcap.so.0.8", "libpcap.so.1", "libpcap.so"}

// libpcap constants (pcap/pcap.h).
const (
	pcapErrbufSize           = 256
	pcapErrorNoSuchDevice    = -5
	pcapErrorPermDenied      = -8
	pcapErrorIfaceNotUp      = -9
	pcapErrorPromiscPermDeny = -11
	pcapNetmaskUnknown       = 0xffffffff
	pcapTstampPrecisionNano  = 1
	pcapIfLoopback           = 0x1
	pcapIfUp                 = 0x2
	pcapIfRunning            = 0x4
	dltLinuxSLL2             = 276
)

// pcapPkthdr is struct pcap_pkthdr: a struct timeval and two lengths.
type pcapPkthdr struct {
	sec    int64
	usec   int64 // nanoseconds when nanosecond precision was granted
	caplen uint32
	length uint32
}

// bpfProgram is struct bpf_program; insns points into C memory.
type bpfProgram struct {
	_ uint32  // bf_len: written and read by libpcap only
	_ uint32  // padding
	_ uintptr // bf_insns
}

// pcapStat is struct pcap_stat (Linux has no extra fields).
type pcapStat struct {
	recv, drop, ifdrop uint32
}

// pcapIf is pcap_if_t; the list lives in C memory.
type pcapIf struct {
	next        *pcapIf
	name        *byte
	description *byte
	addresses   *pcapAddr
	flags       uint32
}

// pcapAddr is pcap_addr_t.
type pcapAddr struct {
	next    *pcapAddr
	addr    *unix.RawSockaddr
	netmask *unix.RawSockaddr
	_       *unix.RawSockaddr // broadaddr
	_       *unix.RawSockaddr // dstaddr
}

// puregoPcap is libpcap loaded with purego.
type puregoPcap struct {
	create             func(dev string, errbuf *byte) uintptr
	setSnaplen         func(p uintptr, n int32) int32
	setPromisc         func(p uintptr, on int32) int32
	setTimeout         func(p uintptr, ms int32) int32
	setBufferSize      func(p uintptr, n int32) int32
	setImmediateMode   func(p uintptr, on int32) int32
	setTstampPrecision func(p uintptr, prec int32) int32 // optional (libpcap >= 1.5)
	activate           func(p uintptr) int32
	setDatalink        func(p uintptr, dlt int32) int32
	datalink           func(p uintptr) int32
	compile            func(p uintptr, prog *bpfProgram, expr string, optimize int32, netmask uint32) int32
	setfilter          func(p uintptr, prog *bpfProgram) int32
	freecode           func(prog *bpfProgram)
	setnonblock        func(p uintptr, on int32, errbuf *byte) int32
	selectableFD       func(p uintptr) int32
	stats              func(p uintptr, st *pcapStat) int32
	geterr             func(p uintptr) string
	closeFn            func(p uintptr)
	findalldevs        func(devs **pcapIf, errbuf *byte) int32
	freealldevs        func(devs *pcapIf)
	statustostr        func(status int32) string
	libVersion         func() string
	nextEx             uintptr // called with purego.SyscallN: no allocation per packet
}

// loadLibpcap opens libpcap and binds the functions the package uses.
func loadLibpcap() (pcapLib, error) {
	var lib uintptr
	var errs []string
	for _, name := range libpcapNames {
		h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_LOCAL)
		if err == nil {
			lib = h
			break
		}
		errs = append(errs, err.Error())
	}
	if lib == 0 {
		return nil, fmt.Errorf("loading libpcap: %s (also tried %s)", errs[0], strings.Join(libpcapNames[1:], ", "))
	}
	l := &puregoPcap{}
	binds := []struct {
		name     string
		fptr     any
		optional bool
	}{
		{"pcap_create", &l.create, false},
		{"pcap_set_snaplen", &l.setSnaplen, false},
		{"pcap_set_promisc", &l.setPromisc, false},
		{"pcap_set_timeout", &l.setTimeout, false},
		{"pcap_set_buffer_size", &l.setBufferSize, false},
		{"pcap_set_immediate_mode", &l.setImmediateMode, false},
		{"pcap_set_tstamp_precision", &l.setTstampPrecision, true},
		{"pcap_activate", &l.activate, false},
		{"pcap_set_datalink", &l.setDatalink, false},
		{"pcap_datalink", &l.datalink, false},
		{"pcap_compile", &l.compile, false},
		{"pcap_setfilter", &l.setfilter, false},
		{"pcap_freecode", &l.freecode, false},
		{"pcap_setnonblock", &l.setnonblock, false},
		{"pcap_get_selectable_fd", &l.selectableFD, false},
		{"pcap_stats", &l.stats, false},
		{"pcap_geterr", &l.geterr, false},
		{"pcap_close", &l.closeFn, false},
		{"pcap_findalldevs", &l.findalldevs, false},
		{"pcap_freealldevs", &l.freealldevs, false},
		{"pcap_statustostr", &l.statustostr, false},
		{"pcap_lib_version", &l.libVersion, false},
	}
	for _, b := range binds {
		sym, err := purego.Dlsym(lib, b.name)
		if err != nil || sym == 0 {
			if b.optional {
				continue
			}
			_ = purego.Dlclose(lib)
			return nil, fmt.Errorf("loading libpcap: symbol %s missing (libpcap too old?)", b.name)
		}
		purego.RegisterFunc(b.fptr, sym)
	}
	sym, err := purego.Dlsym(lib, "pcap_next_ex")
	if err != nil || sym == 0 {
		_ = purego.Dlclose(lib)
		return nil, errors.New("loading libpcap: symbol pcap_next_ex missing")
	}
	l.nextEx = sym
	return l, nil
}

// open implements pcapLib.
func (l *puregoPcap) open(cfg Config) (capturer, string, error) {
	var errbuf [pcapErrbufSize]byte
	p := l.create(cfg.Interface, &errbuf[0])
	if p == 0 {
		return nil, "", fmt.Errorf("capturing on %s: %s", cfg.Interface, cString(errbuf[:]))
	}
	ok := false
	defer func() {
		if !ok {
			l.closeFn(p)
		}
	}()
	if l.setSnaplen(p, int32(cfg.Snaplen)) != 0 ||
		l.setPromisc(p, boolInt(cfg.Promisc)) != 0 ||
		l.setTimeout(p, int32(cfg.Timeout/time.Millisecond)) != 0 ||
		l.setImmediateMode(p, boolInt(cfg.Immediate)) != 0 {
		return nil, "", fmt.Errorf("configuring capture on %s: %s", cfg.Interface, l.geterr(p))
	}
	if cfg.BufferSize == 0 {
		cfg.BufferSize = defaultBufferKiB(cfg)
	}
	if cfg.BufferSize > 0 && l.setBufferSize(p, int32(cfg.BufferSize*1024)) != 0 {
		return nil, "", fmt.Errorf("setting capture buffer size on %s: %s", cfg.Interface, l.geterr(p))
	}
	nanos := l.setTstampPrecision != nil && l.setTstampPrecision(p, pcapTstampPrecisionNano) == 0
	warning := ""
	if st := l.activate(p); st < 0 {
		return nil, "", l.activateError(cfg.Interface, st, l.geterr(p))
	} else if st > 0 {
		warning = l.statusText(st, l.geterr(p))
	}
	if cfg.Interface == "any" {
		// libpcap defaults to cooked v1 on "any"; v2 also names the
		// interface. Older libpcaps refuse, and v1 is fine then.
		_ = l.setDatalink(p, dltLinuxSLL2)
	}
	if cfg.Filter != "" {
		var prog bpfProgram
		if l.compile(p, &prog, cfg.Filter, 1, pcapNetmaskUnknown) != 0 {
			return nil, "", badFilterError(cfg.Filter, l.geterr(p))
		}
		rc := l.setfilter(p, &prog)
		l.freecode(&prog)
		if rc != 0 {
			return nil, "", fmt.Errorf("installing capture filter on %s: %s", cfg.Interface, l.geterr(p))
		}
	}
	if l.setnonblock(p, 1, &errbuf[0]) != 0 {
		return nil, "", fmt.Errorf("capturing on %s: non-blocking mode: %s", cfg.Interface, cString(errbuf[:]))
	}
	fd := l.selectableFD(p)
	if fd < 0 {
		return nil, "", fmt.Errorf("capturing on %s: libpcap has no selectable descriptor", cfg.Interface)
	}
	ok = true
	c := &puregoCapture{
		lib:   l,
		p:     p,
		link:  linkTypeFromDLT(int(l.datalink(p))),
		nanos: nanos,
		buf:   make([]byte, 0, min(cfg.Snaplen, 65536+64)),
	}
	c.poll[0] = unix.PollFd{Fd: fd, Events: unix.POLLIN}
	return c, warning, nil
}

// activateError turns a failed pcap_activate into a sentence for the user.
func (l *puregoPcap) activateError(iface string, status int32, detail string) error {
	switch status {
	case pcapErrorPermDenied, pcapErrorPromiscPermDeny:
		// Without privileges libpcap fails before it looks the device up.
		if iface != "any" && !interfaceExists(iface) && !l.hasDevice(iface) {
			return noInterfaceError(iface, kernelInterfaceNames())
		}
		return permissionError(iface)
	case pcapErrorNoSuchDevice:
		return noInterfaceError(iface, kernelInterfaceNames())
	case pcapErrorIfaceNotUp:
		return fmt.Errorf("interface %q is down", iface)
	}
	return fmt.Errorf("capturing on %s: %s", iface, l.statusText(status, detail))
}

// statusText prefers libpcap's detailed message over the generic one.
func (l *puregoPcap) statusText(status int32, detail string) string {
	if detail != "" {
		return detail
	}
	return l.statustostr(status)
}

// hasDevice reports whether libpcap lists a device called name.
func (l *puregoPcap) hasDevice(name string) bool {
	list, err := l.interfaces()
	if err != nil {
		return false
	}
	for _, it := range list {
		if it.Name == name {
			return true
		}
	}
	return false
}

// version implements pcapLib.
func (l *puregoPcap) version() string { return l.libVersion() }

// interfaces implements pcapLib.
func (l *puregoPcap) interfaces() ([]Interface, error) {
	var errbuf [pcapErrbufSize]byte
	var devs *pcapIf
	if l.findalldevs(&devs, &errbuf[0]) != 0 {
		return nil, errors.New(cString(errbuf[:]))
	}
	defer l.freealldevs(devs)
	var list []Interface
	for d, n := devs, 0; d != nil && n < 10000; d, n = d.next, n+1 {
		it := Interface{
			Name:        cStringPtr(d.name),
			Description: cStringPtr(d.description),
			Up:          d.flags&pcapIfUp != 0,
			Running:     d.flags&pcapIfRunning != 0,
			Loopback:    d.flags&pcapIfLoopback != 0,
		}
		for a, m := d.addresses, 0; a != nil && m < 10000; a, m = a.next, m+1 {
			if pfx, ok := sockaddrPrefix(a.addr, a.netmask); ok {
				it.Addresses = append(it.Addresses, pfx)
			}
		}
		list = append(list, it)
	}
	return list, nil
}

// sockaddrPrefix converts a C sockaddr (IPv4 or IPv6) and its netmask.
func sockaddrPrefix(addr, mask *unix.RawSockaddr) (netip.Prefix, bool) {
	ip, ok := sockaddrIP(addr)
	if !ok {
		return netip.Prefix{}, false
	}
	var m net.IPMask
	if mip, ok := sockaddrIP(mask); ok && mip.Is4() == ip.Is4() {
		m = net.IPMask(mip.AsSlice())
	}
	return prefixOf(ip.AsSlice(), m)
}

func sockaddrIP(sa *unix.RawSockaddr) (netip.Addr, bool) {
	if sa == nil {
		return netip.Addr{}, false
	}
	switch sa.Family {
	case unix.AF_INET:
		in := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrFrom4(in.Addr), true
	case unix.AF_INET6:
		in := (*unix.RawSockaddrInet6)(unsafe.Pointer(sa))
		return netip.AddrFrom16(in.Addr), true
	}
	return netip.Addr{}, false
}

// puregoCapture is an activated pcap_t in non-blocking mode.
type puregoCapture struct {
	lib   *puregoPcap
	p     uintptr
	link  source.LinkType
	nanos bool
	poll  [1]unix.PollFd
	buf   []byte
	// hdr and data are pcap_next_ex's out-parameters; they point into
	// libpcap's memory, valid until the next call.
	hdr  *pcapPkthdr
	data *byte
	args [3]uintptr
}

func (c *puregoCapture) read(p *source.Packet) (bool, error) {
	// The arguments live in c (heap memory, which does not move, kept
	// alive by c) so that the variadic call does not allocate.
	c.args = [3]uintptr{c.p, uintptr(unsafe.Pointer(&c.hdr)), uintptr(unsafe.Pointer(&c.data))}
	r, _, _ := purego.SyscallN(c.lib.nextEx, c.args[:]...)
	runtime.KeepAlive(c)
	switch int32(r) {
	case 1:
	case 0:
		return false, nil
	default:
		return false, errors.New(c.lib.geterr(c.p))
	}
	n := int(c.hdr.caplen)
	if cap(c.buf) < n {
		c.buf = make([]byte, 0, n)
	}
	c.buf = c.buf[:n]
	if n > 0 {
		copy(c.buf, unsafe.Slice(c.data, n))
	}
	frac := c.hdr.usec
	if !c.nanos {
		frac *= 1000
	}
	p.Time = time.Unix(c.hdr.sec, frac)
	p.Data = c.buf
	p.OrigLen = max(int(c.hdr.length), n)
	return true, nil
}

func (c *puregoCapture) wait(timeout time.Duration) error {
	return pollIn(c.poll[:], timeout)
}

func (c *puregoCapture) stats() (Stats, error) {
	var st pcapStat
	if c.lib.stats(c.p, &st) != 0 {
		return Stats{}, errors.New(c.lib.geterr(c.p))
	}
	return Stats{Received: uint64(st.recv), Dropped: uint64(st.drop), IfDropped: uint64(st.ifdrop)}, nil
}

func (c *puregoCapture) linkType() source.LinkType { return c.link }

func (c *puregoCapture) close() error {
	if c.p != 0 {
		c.lib.closeFn(c.p)
		c.p = 0
	}
	return nil
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// cString returns the NUL-terminated string at the start of b.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// cStringPtr copies a NUL-terminated C string (at most 64 KiB of it).
func cStringPtr(p *byte) string {
	if p == nil {
		return ""
	}
	n := 0
	for n < 1<<16 && *(*byte)(unsafe.Add(unsafe.Pointer(p), n)) != 0 {
		n++
	}
	return string(unsafe.Slice(p, n))
}
