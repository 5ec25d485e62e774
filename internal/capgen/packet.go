package capgen

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// LinkType is a pcap LINKTYPE_ value of the link-layer framing a packet is
// written with.
type LinkType uint16

// Link types the generator can write.
const (
	// LinkNull is BSD loopback: a 4-byte address family in the capturing
	// host's byte order.
	LinkNull LinkType = 0
	// LinkEthernet is Ethernet II, optionally with 802.1Q or QinQ tags.
	LinkEthernet LinkType = 1
	// LinkRaw is raw IPv4 or IPv6 without any link-layer header.
	LinkRaw LinkType = 101
	// LinkSLL is Linux cooked capture v1 (16-byte header).
	LinkSLL LinkType = 113
	// LinkSLL2 is Linux cooked capture v2 (20-byte header).
	LinkSLL2 LinkType = 276
	// LinkRadiotap is IEEE 802.11 after a radiotap header, as a wireless
	// interface in monitor mode captures an open network: QoS data frames
	// to the access point (client packets) and from it, LLC/SNAP.
	LinkRadiotap LinkType = 127
	// LinkNFLOG is Linux's netfilter log (tcpdump -i nflog:N): a header,
	// then attributes in little-endian byte order (an x86 host's): the
	// packet header, a log prefix and the IP packet.
	LinkNFLOG LinkType = 239
	// LinkPPP is PPP in HDLC-like framing (0xff 0x03, then the protocol).
	LinkPPP LinkType = 9
	// LinkCHDLC is Cisco HDLC (address 0x0f, control 0, ethertype).
	LinkCHDLC LinkType = 104
)

// String returns a short name of the link type.
func (l LinkType) String() string {
	switch l {
	case LinkNull:
		return "null"
	case LinkEthernet:
		return "ethernet"
	case LinkRaw:
		return "raw"
	case LinkSLL:
		return "sll"
	case LinkSLL2:
		return "sll2"
	case LinkRadiotap:
		return "radiotap"
	case LinkNFLOG:
		return "nflog"
	case LinkPPP:
		return "ppp"
	case LinkCHDLC:
		return "chdlc"
	}
	return fmt.Sprintf("linktype-%d", uint16(l))
}

// IPv6Ext selects an IPv6 extension header placed between the IPv6 header and
// the TCP header.
type IPv6Ext uint8

const (
	// ExtNone puts TCP directly after the IPv6 header.
	ExtNone IPv6Ext = iota
	// ExtHopByHop adds an 8-byte hop-by-hop options header (padding only).
	ExtHopByHop
	// ExtDestOpts adds an 8-byte destination options header (padding only).
	ExtDestOpts
)

// Link describes how the packets of one connection are framed and on which
// capture interface they appear.
type Link struct {
	// Type is the link-layer header type; the zero value is LinkNull, so set
	// it explicitly (LinkEthernet is the usual choice).
	Type LinkType
	// VLANs lists 802.1Q VLAN IDs for Ethernet, outermost first: one ID gives
	// an 802.1Q tag (TPID 0x8100), two give QinQ (outer TPID 0x88a8).
	VLANs []uint16
	// ClientMAC and ServerMAC are the Ethernet/SLL addresses; zero values
	// select 02:00:00:00:00:01 and 02:00:00:00:00:02.
	ClientMAC, ServerMAC [6]byte
	// NullBigEndian writes LinkNull's address family big-endian, as captured
	// on a big-endian host (default little-endian).
	NullBigEndian bool
	// Interface is the pcapng interface index the packets belong to; it must
	// be 0 for pcap output.
	Interface int
	// SLL2IfIndex is the interface index written into LinkSLL2 headers.
	SLL2IfIndex uint32
	// Tunnel wraps the connection's IP packets in a tunnel or another
	// encapsulation (see tunnel.go); TunnelNone by default.
	Tunnel Tunnel
	// FragmentMTU, when set, splits IP packets (the outer ones of a
	// tunnel) longer than it into fragments of at most that size, last
	// fragment first when FragmentsReversed is set (IPv6 packets must not
	// have a hop-by-hop header).
	FragmentMTU       int
	FragmentsReversed bool
}

// Address families used in LinkNull headers (BSD values; 30 is AF_INET6 on
// Darwin).
const (
	nullAFInet  = 2
	nullAFInet6 = 30
)

// tcpPacket is everything needed to build one IP/TCP packet.
type tcpPacket struct {
	src, dst netip.AddrPort
	seq, ack uint32
	flags    uint8
	window   uint16
	ipID     uint16
	mss      uint16 // written as a TCP option on SYN segments when non-zero
	payload  []byte
	outgoing bool // the capturing host sent it (SLL packet type)
	srcMAC   [6]byte
	dstMAC   [6]byte
}

// TCP flags.
const (
	flagFIN uint8 = 0x01
	flagSYN uint8 = 0x02
	flagRST uint8 = 0x04
	flagPSH uint8 = 0x08
	flagACK uint8 = 0x10
)

// buildPacket serialises p with the framing of link and returns the bytes:
// one packet, or its IPv4 fragments when link.FragmentMTU asks for them.
func buildPacket(link *Link, ext IPv6Ext, p *tcpPacket) ([][]byte, error) {
	if !p.src.Addr().IsValid() || !p.dst.Addr().IsValid() {
		return nil, fmt.Errorf("build packet: invalid address %v -> %v", p.src, p.dst)
	}
	v4 := p.src.Addr().Unmap().Is4()
	if v4 != p.dst.Addr().Unmap().Is4() {
		return nil, fmt.Errorf("build packet: mixed address families %v -> %v", p.src, p.dst)
	}
	tcp := buildTCP(p)
	var ip []byte
	if v4 {
		ip = buildIPv4(p, tcp)
	} else {
		ip = buildIPv6(p, ext, tcp)
	}
	etherType := uint16(etherTypeIPv6)
	if v4 {
		etherType = etherTypeIPv4
	}
	if link.Tunnel != TunnelNone {
		var err error
		if ip, etherType, err = encapsulate(link.Tunnel, etherType, p, ip); err != nil {
			return nil, err
		}
	}
	if link.FragmentMTU == 0 || len(ip) <= link.FragmentMTU || etherType != etherTypeIPv4 && etherType != etherTypeIPv6 {
		hdr, err := linkHeader(link, etherType, p, len(ip))
		if err != nil {
			return nil, err
		}
		return [][]byte{append(hdr, ip...)}, nil
	}
	fragment := fragmentIPv4
	if etherType == etherTypeIPv6 {
		fragment = fragmentIPv6
	}
	frags, err := fragment(ip, link.FragmentMTU, link.FragmentsReversed)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(frags))
	for i, f := range frags {
		hdr, err := linkHeader(link, etherType, p, len(f))
		if err != nil {
			return nil, err
		}
		out[i] = append(hdr, f...)
	}
	return out, nil
}

// buildTCP returns the TCP header and payload with a zero checksum; the
// checksum is filled in by the IP builders, which know the pseudo-header.
func buildTCP(p *tcpPacket) []byte {
	hlen := 20
	if p.mss != 0 {
		hlen += 4
	}
	b := make([]byte, hlen, hlen+len(p.payload))
	binary.BigEndian.PutUint16(b[0:], p.src.Port())
	binary.BigEndian.PutUint16(b[2:], p.dst.Port())
	binary.BigEndian.PutUint32(b[4:], p.seq)
	binary.BigEndian.PutUint32(b[8:], p.ack)
	b[12] = byte(hlen/4) << 4
	b[13] = p.flags
	binary.BigEndian.PutUint16(b[14:], p.window)
	if p.mss != 0 {
		b[20] = 2 // kind: maximum segment size
		b[21] = 4
		binary.BigEndian.PutUint16(b[22:], p.mss)
	}
	return append(b, p.payload...)
}

func buildIPv4(p *tcpPacket, tcp []byte) []byte {
	src, dst := p.src.Addr().Unmap().As4(), p.dst.Addr().Unmap().As4()
	b := make([]byte, 20, 20+len(tcp))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(tcp)))
	binary.BigEndian.PutUint16(b[4:], p.ipID)
	b[6] = 0x40 // don't fragment
	b[8] = 64   // TTL
	b[9] = 6    // TCP
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[10:], checksum(0, b))

	var pseudo [12]byte
	copy(pseudo[0:4], src[:])
	copy(pseudo[4:8], dst[:])
	pseudo[9] = 6
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(tcp)))
	binary.BigEndian.PutUint16(tcp[16:], checksum(sum(0, pseudo[:]), tcp))
	return append(b, tcp...)
}

func buildIPv6(p *tcpPacket, ext IPv6Ext, tcp []byte) []byte {
	src, dst := p.src.Addr().As16(), p.dst.Addr().As16()
	var extHdr []byte
	next := byte(6)
	switch ext {
	case ExtHopByHop:
		next = 0
		extHdr = []byte{6, 0, 1, 4, 0, 0, 0, 0} // next=TCP, len=0, PadN of 4 bytes
	case ExtDestOpts:
		next = 60
		extHdr = []byte{6, 0, 1, 4, 0, 0, 0, 0}
	}
	b := make([]byte, 40, 40+len(extHdr)+len(tcp))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(extHdr)+len(tcp)))
	b[6] = next
	b[7] = 64 // hop limit
	copy(b[8:24], src[:])
	copy(b[24:40], dst[:])

	var pseudo [40]byte
	copy(pseudo[0:16], src[:])
	copy(pseudo[16:32], dst[:])
	binary.BigEndian.PutUint32(pseudo[32:], uint32(len(tcp)))
	pseudo[39] = 6
	binary.BigEndian.PutUint16(tcp[16:], checksum(sum(0, pseudo[:]), tcp))
	b = append(b, extHdr...)
	return append(b, tcp...)
}

// linkHeader returns the link-layer header for a packet of the given
// ethertype (IPv4 or IPv6, or MPLS or PPPoE for Ethernet and SLL) and
// length.
func linkHeader(link *Link, etherType uint16, p *tcpPacket, n int) ([]byte, error) {
	ip := etherType == etherTypeIPv4 || etherType == etherTypeIPv6
	switch link.Type {
	case LinkNFLOG:
		if !ip {
			return nil, fmt.Errorf("link header: NFLOG cannot carry ethertype %#04x", etherType)
		}
		family := byte(2) // AF_INET
		if etherType == etherTypeIPv6 {
			family = 10 // Linux AF_INET6
		}
		b := []byte{family, 0, 0, 5} // version 0, group 5
		// NFULA_PACKET_HDR: hw_protocol (big-endian), hook (LOCAL_IN), pad
		b = append(b, 8, 0, 1, 0)
		b = binary.BigEndian.AppendUint16(b, etherType)
		b = append(b, 1, 0)
		// NFULA_PREFIX "wsdissect", NUL-terminated, padded to 4 bytes
		b = append(b, 14, 0, 10, 0)
		b = append(b, "wsdissect\x00\x00\x00"...)
		// NFULA_PAYLOAD: the IP packet follows
		b = binary.LittleEndian.AppendUint16(b, uint16(4+n))
		return append(b, 9, 0), nil
	case LinkPPP:
		switch etherType {
		case etherTypeIPv4:
			return []byte{0xff, 0x03, 0x00, 0x21}, nil
		case etherTypeIPv6:
			return []byte{0xff, 0x03, 0x00, 0x57}, nil
		}
		return nil, fmt.Errorf("link header: PPP cannot carry ethertype %#04x", etherType)
	case LinkCHDLC:
		return binary.BigEndian.AppendUint16([]byte{0x0f, 0x00}, etherType), nil
	case LinkRaw:
		if !ip {
			return nil, fmt.Errorf("link header: raw IP cannot carry ethertype %#04x", etherType)
		}
		return nil, nil
	case LinkNull:
		if !ip {
			return nil, fmt.Errorf("link header: BSD loopback cannot carry ethertype %#04x", etherType)
		}
		af := uint32(nullAFInet6)
		if etherType == etherTypeIPv4 {
			af = nullAFInet
		}
		b := make([]byte, 4)
		if link.NullBigEndian {
			binary.BigEndian.PutUint32(b, af)
		} else {
			binary.LittleEndian.PutUint32(b, af)
		}
		return b, nil
	case LinkEthernet:
		if len(link.VLANs) > 2 {
			return nil, fmt.Errorf("ethernet header: %d VLAN tags, at most 2 supported", len(link.VLANs))
		}
		b := make([]byte, 12, 14+4*len(link.VLANs))
		copy(b[0:6], p.dstMAC[:])
		copy(b[6:12], p.srcMAC[:])
		for i, id := range link.VLANs {
			tpid := uint16(0x8100)
			if i == 0 && len(link.VLANs) == 2 {
				tpid = 0x88a8
			}
			b = binary.BigEndian.AppendUint16(b, tpid)
			b = binary.BigEndian.AppendUint16(b, id&0x0fff)
		}
		return binary.BigEndian.AppendUint16(b, etherType), nil
	case LinkSLL:
		b := make([]byte, 16)
		if p.outgoing {
			binary.BigEndian.PutUint16(b[0:], 4) // sent by us
		}
		binary.BigEndian.PutUint16(b[2:], 1) // ARPHRD_ETHER
		binary.BigEndian.PutUint16(b[4:], 6)
		copy(b[6:12], p.srcMAC[:])
		binary.BigEndian.PutUint16(b[14:], etherType)
		return b, nil
	case LinkSLL2:
		b := make([]byte, 20)
		binary.BigEndian.PutUint16(b[0:], etherType)
		binary.BigEndian.PutUint32(b[4:], link.SLL2IfIndex)
		binary.BigEndian.PutUint16(b[8:], 1) // ARPHRD_ETHER
		if p.outgoing {
			b[10] = 4
		}
		b[11] = 6
		copy(b[12:18], p.srcMAC[:])
		return b, nil
	case LinkRadiotap:
		// radiotap: version 0, length 12, the flags and rate fields.
		b := []byte{0, 0, 12, 0, 0x06, 0, 0, 0, 0, 0x6c, 0, 0}
		// QoS data (0x88); client packets go to the access point (To DS),
		// server packets come from it (From DS).
		flags := byte(0x02)
		if p.outgoing {
			flags = 0x01
		}
		b = append(b, 0x88, flags, 0x2c, 0x00)
		bssid := [6]byte{0x02, 0xaa, 0, 0, 0, 1}
		if p.outgoing { // A1 BSSID, A2 source, A3 destination
			b = append(append(append(b, bssid[:]...), p.srcMAC[:]...), p.dstMAC[:]...)
		} else { // A1 destination, A2 BSSID, A3 source
			b = append(append(append(b, p.dstMAC[:]...), bssid[:]...), p.srcMAC[:]...)
		}
		b = append(b, 0x10, 0x00, 0x00, 0x00)    // sequence control, QoS control
		b = append(b, 0xaa, 0xaa, 0x03, 0, 0, 0) // LLC/SNAP
		return binary.BigEndian.AppendUint16(b, etherType), nil
	}
	return nil, fmt.Errorf("link header: unsupported link type %d", uint16(link.Type))
}

// sum adds b to the running one's-complement sum s (RFC 1071).
func sum(s uint32, b []byte) uint32 {
	for len(b) >= 2 {
		s += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// checksum finishes the Internet checksum of b started with s.
func checksum(s uint32, b []byte) uint16 {
	s = sum(s, b)
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}
