package capture

// The AF_PACKET fallback: a packet socket read with recvmsg, used when
// libpcap cannot be loaded. It has no capture filter (compiling tcpdump's
// syntax is libpcap's job); it keeps libpcap's habit of hiding the outgoing
// copy of every packet on a loopback interface, which would otherwise be
// seen twice.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wsdissect/wsdissect/source"
)

// sllHeaderLen is the size of a Linux cooked capture v1 header.
const sllHeaderLen = 16

// maxSkips bounds how many hidden packets one read call discards before it
// lets the caller poll again.
const maxSkips = 64

type afPacket struct {
	fd      int
	cooked  bool // SOCK_DGRAM with a synthesised cooked (SLL) header
	link    source.LinkType
	loopIdx []int32 // ifindexes of loopback interfaces
	buf     []byte
	poll    [1]unix.PollFd
	from    unix.RawSockaddrLinklayer
	iov     unix.Iovec
	msg     unix.Msghdr
	oob     [8]uint64 // control messages (timestamps); uint64 for alignment
	total   Stats
}

// htons converts a 16-bit value to network byte order as the kernel
// expects it in sockaddr_ll and socket(2)'s protocol.
func htons(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

// openAFPacket opens the fallback capture.
func openAFPacket(cfg Config) (capturer, error) {
	ifindex := 0
	if cfg.Interface != "any" {
		ifc, err := net.InterfaceByName(cfg.Interface)
		if err != nil {
			return nil, noInterfaceError(cfg.Interface, kernelInterfaceNames())
		}
		ifindex = ifc.Index
	}
	a := &afPacket{}
	if ifs, err := net.Interfaces(); err == nil {
		for _, ifc := range ifs {
			if ifc.Flags&net.FlagLoopback != 0 {
				a.loopIdx = append(a.loopIdx, int32(ifc.Index))
			}
		}
	}
	// "any" has no single link-layer type: cooked headers, like libpcap.
	cooked := cfg.Interface == "any"
	fd, hatype, err := packetSocket(cfg.Interface, ifindex, cooked)
	if err != nil {
		return nil, err
	}
	if !cooked && hatype != unix.ARPHRD_ETHER && hatype != unix.ARPHRD_LOOPBACK {
		// Not Ethernet-framed (tun, tunnels, ...): cooked headers.
		_ = unix.Close(fd)
		cooked = true
		if fd, _, err = packetSocket(cfg.Interface, ifindex, true); err != nil {
			return nil, err
		}
	}
	a.fd, a.cooked = fd, cooked
	if err := a.configure(cfg, ifindex); err != nil {
		_ = unix.Close(fd)
		return nil, err
	}
	a.link = source.LinkEthernet
	snap := cfg.Snaplen
	if cooked {
		a.link = source.LinkSLL
		snap = max(snap, sllHeaderLen+1)
	}
	a.buf = make([]byte, snap)
	payload := a.buf
	if cooked {
		payload = a.buf[sllHeaderLen:]
	}
	a.iov.Base = &payload[0]
	a.iov.SetLen(len(payload))
	a.msg.Name = (*byte)(unsafe.Pointer(&a.from))
	a.msg.Iov = &a.iov
	a.msg.SetIovlen(1)
	a.msg.Control = (*byte)(unsafe.Pointer(&a.oob[0]))
	a.poll[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	return a, nil
}

// packetSocket opens a packet socket bound to ifindex (0: all interfaces)
// and returns it with the interface's ARPHRD_ type.
func packetSocket(iface string, ifindex int, cooked bool) (int, uint16, error) {
	typ := unix.SOCK_RAW
	if cooked {
		typ = unix.SOCK_DGRAM
	}
	// Protocol 0 receives nothing until bind names the protocol, so no
	// packet of another interface slips in before.
	fd, err := unix.Socket(unix.AF_PACKET, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return -1, 0, permissionError(iface)
		}
		return -1, 0, fmt.Errorf("capturing on %s: opening packet socket: %w", iface, err)
	}
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifindex}
	if err := unix.Bind(fd, sa); err != nil {
		_ = unix.Close(fd)
		if errors.Is(err, unix.ENODEV) {
			return -1, 0, noInterfaceError(iface, kernelInterfaceNames())
		}
		if errors.Is(err, unix.ENETDOWN) {
			return -1, 0, fmt.Errorf("interface %q is down", iface)
		}
		return -1, 0, fmt.Errorf("capturing on %s: binding packet socket: %w", iface, err)
	}
	var hatype uint16
	if name, err := unix.Getsockname(fd); err == nil {
		if ll, ok := name.(*unix.SockaddrLinklayer); ok {
			hatype = ll.Hatype
		}
	}
	return fd, hatype, nil
}

// configure sets promiscuous mode, the buffer size and timestamps.
func (a *afPacket) configure(cfg Config, ifindex int) error {
	if cfg.Promisc && ifindex != 0 {
		mreq := &unix.PacketMreq{Ifindex: int32(ifindex), Type: unix.PACKET_MR_PROMISC}
		if err := unix.SetsockoptPacketMreq(a.fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, mreq); err != nil {
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				return permissionError(cfg.Interface)
			}
			return fmt.Errorf("capturing on %s: promiscuous mode: %w", cfg.Interface, err)
		}
	}
	kib := cfg.BufferSize
	if kib == 0 {
		kib = fallbackBufferKiB
	}
	if err := unix.SetsockoptInt(a.fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, kib*1024); err != nil {
		// Without CAP_NET_ADMIN the size is capped by net.core.rmem_max.
		if err := unix.SetsockoptInt(a.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, kib*1024); err != nil {
			return fmt.Errorf("capturing on %s: setting buffer size: %w", cfg.Interface, err)
		}
	}
	if err := unix.SetsockoptInt(a.fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("capturing on %s: enabling timestamps: %w", cfg.Interface, err)
	}
	return nil
}

func (a *afPacket) read(p *source.Packet) (bool, error) {
	for range maxSkips {
		a.msg.Namelen = unix.SizeofSockaddrLinklayer
		a.msg.SetControllen(int(unsafe.Sizeof(a.oob)))
		a.msg.Flags = 0
		r, _, errno := unix.Syscall(unix.SYS_RECVMSG, uintptr(a.fd),
			uintptr(unsafe.Pointer(&a.msg)), unix.MSG_TRUNC)
		switch errno {
		case 0:
		case unix.EAGAIN, unix.EINTR:
			return false, nil
		case unix.ENETDOWN:
			return false, errors.New("the interface went down")
		default:
			return false, fmt.Errorf("recvmsg: %w", errno)
		}
		if a.from.Pkttype == unix.PACKET_OUTGOING && a.isLoopback(a.from.Ifindex) {
			continue
		}
		wire := int(r)
		caplen := min(wire, int(a.iov.Len))
		if a.cooked {
			a.putCookedHeader()
			wire += sllHeaderLen
			caplen += sllHeaderLen
		}
		p.Time = a.timestamp()
		p.Data = a.buf[:caplen]
		p.OrigLen = wire
		return true, nil
	}
	return false, nil
}

func (a *afPacket) isLoopback(ifindex int32) bool {
	for _, i := range a.loopIdx {
		if i == ifindex {
			return true
		}
	}
	return false
}

// putCookedHeader writes a cooked capture v1 header from the sender's
// address into the space before the payload.
func (a *afPacket) putCookedHeader() {
	h := a.buf[:sllHeaderLen]
	binary.BigEndian.PutUint16(h[0:], uint16(a.from.Pkttype))
	binary.BigEndian.PutUint16(h[2:], a.from.Hatype)
	halen := min(int(a.from.Halen), len(a.from.Addr))
	binary.BigEndian.PutUint16(h[4:], uint16(halen))
	clear(h[6:14])
	copy(h[6:14], a.from.Addr[:halen])
	// sll_protocol is already in network byte order in memory.
	binary.NativeEndian.PutUint16(h[14:], a.from.Protocol)
}

// timestamp returns the kernel's receive time from the control messages,
// or now when there is none.
func (a *afPacket) timestamp() time.Time {
	base := unsafe.Pointer(&a.oob[0])
	total := min(int(a.msg.Controllen), int(unsafe.Sizeof(a.oob)))
	hdrLen := unix.CmsgLen(0)
	tsLen := int(unsafe.Sizeof(unix.Timespec{}))
	for off := 0; off+hdrLen <= total; {
		h := (*unix.Cmsghdr)(unsafe.Add(base, off))
		l := int(h.Len)
		if l < hdrLen || off+l > total {
			break
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && l >= hdrLen+tsLen {
			ts := (*unix.Timespec)(unsafe.Add(base, off+hdrLen))
			return time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
		off += unix.CmsgSpace(l - hdrLen)
	}
	return time.Now()
}

func (a *afPacket) wait(timeout time.Duration) error {
	return pollIn(a.poll[:], timeout)
}

func (a *afPacket) stats() (Stats, error) {
	// The kernel resets its counters on every read; keep running totals.
	st, err := unix.GetsockoptTpacketStats(a.fd, unix.SOL_PACKET, unix.PACKET_STATISTICS)
	if err != nil {
		return Stats{}, fmt.Errorf("reading packet socket statistics: %w", err)
	}
	a.total.Received += uint64(st.Packets)
	a.total.Dropped += uint64(st.Drops)
	return a.total, nil
}

func (a *afPacket) linkType() source.LinkType { return a.link }

func (a *afPacket) close() error {
	if a.fd < 0 {
		return nil
	}
	err := unix.Close(a.fd)
	a.fd = -1
	if err != nil {
		return fmt.Errorf("closing packet socket: %w", err)
	}
	return nil
}
