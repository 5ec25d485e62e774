package netpkt

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"net/netip"

	"github.com/wsdissect/wsdissect/source"
)

// ErrNotTCP is returned by Decode for packets that are well formed but do not
// carry a TCP segment over IPv4 or IPv6: ARP, UDP, ICMP, IPsec ESP, other
// ethertypes, and IP fragments. Decode does not reassemble IP fragments, so
// only complete, unfragmented datagrams (and IPv6 atomic fragments) yield a
// segment.
var ErrNotTCP = errors.New("not a TCP segment over IPv4 or IPv6")

// ErrMalformed is wrapped by Decode's error when a packet's headers are cut
// short by the capture or are inconsistent with each other.
var ErrMalformed = errors.New("malformed packet")

// ErrUnsupportedLink is returned by Decode for link types it cannot parse.
var ErrUnsupportedLink = errors.New("unsupported link type")

// malformed is the error Decode returns for a broken packet. It is a one-byte
// index into malformedText, so turning it into an error value does not
// allocate, and decoding garbage stays allocation-free.
type malformed uint8

const (
	malEthernetShort malformed = iota
	malVLANShort
	malSLLShort
	malSLL2Short
	malLoopbackShort
	malRawEmpty
	malRawVersion
	malIPv4Short
	malIPv4Version
	malIPv4IHL
	malIPv4HeaderCut
	malIPv4TotalLen
	malIPv6Short
	malIPv6Version
	malIPv6ExtCut
	malIPv6ExtLen
	malTCPShort
	malTCPDataOffset
	malTCPHeaderCut
	malEncapDepth
	malGREShort
	malERSPANShort
	malMPLSShort
	malPPPoEShort
	mal80211Short
	malRadiotapShort
	malPPIShort
	malCHDLCShort
	malNFLOGShort
)

// malformedText holds the message of each malformed value.
var malformedText = [...]string{
	malEthernetShort: "malformed packet: Ethernet header cut short",
	malVLANShort:     "malformed packet: VLAN tag cut short",
	malSLLShort:      "malformed packet: Linux cooked (SLL) header cut short",
	malSLL2Short:     "malformed packet: Linux cooked v2 (SLL2) header cut short",
	malLoopbackShort: "malformed packet: loopback header cut short",
	malRawEmpty:      "malformed packet: empty raw IP packet",
	malRawVersion:    "malformed packet: raw IP packet with an IP version other than 4 or 6",
	malIPv4Short:     "malformed packet: IPv4 header cut short",
	malIPv4Version:   "malformed packet: IPv4 header with a version other than 4",
	malIPv4IHL:       "malformed packet: IPv4 header length below 20 bytes",
	malIPv4HeaderCut: "malformed packet: IPv4 options cut short",
	malIPv4TotalLen:  "malformed packet: IPv4 total length smaller than its header",
	malIPv6Short:     "malformed packet: IPv6 header cut short",
	malIPv6Version:   "malformed packet: IPv6 header with a version other than 6",
	malIPv6ExtCut:    "malformed packet: IPv6 extension header cut short",
	malIPv6ExtLen:    "malformed packet: IPv6 extension headers longer than the payload length",
	malTCPShort:      "malformed packet: TCP header cut short",
	malTCPDataOffset: "malformed packet: TCP data offset below 20 bytes or beyond the IP payload",
	malTCPHeaderCut:  "malformed packet: TCP options cut short",
	malEncapDepth:    "malformed packet: tunnels or other encapsulations nested more than 8 deep",
	malGREShort:      "malformed packet: GRE header cut short",
	malERSPANShort:   "malformed packet: ERSPAN header cut short",
	malMPLSShort:     "malformed packet: MPLS label stack cut short",
	malPPPoEShort:    "malformed packet: PPPoE or PPP header cut short",
	mal80211Short:    "malformed packet: IEEE 802.11 data frame header cut short",
	malRadiotapShort: "malformed packet: radiotap header cut short, longer than the packet or of an unknown version",
	malPPIShort:      "malformed packet: PPI header cut short, longer than the packet or of an unknown version",
	malCHDLCShort:    "malformed packet: Cisco HDLC header cut short",
	malNFLOGShort:    "malformed packet: NFLOG header or attribute cut short, or of an unknown version",
}

// Error implements error.
func (m malformed) Error() string {
	if int(m) < len(malformedText) {
		return malformedText[m]
	}
	return ErrMalformed.Error()
}

// Unwrap makes errors.Is(err, ErrMalformed) true.
func (m malformed) Unwrap() error { return ErrMalformed }

// Link types some systems use for raw IP instead of LinkRaw (101).
const (
	linkRawAlt12 source.LinkType = 12
	linkRawAlt14 source.LinkType = 14
)

// Ethertypes and header sizes.
const (
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86dd
	etherTypeVLAN   = 0x8100
	etherTypeQinQ   = 0x88a8
	etherTypeQinQv1 = 0x9100

	ethernetLen = 14
	vlanTagLen  = 4
	sllLen      = 16
	sll2Len     = 20
	loopLen     = 4
	ipv4MinLen  = 20
	ipv6Len     = 40
	tcpMinLen   = 20

	arphrdNetlink = 824 // Linux ARPHRD_NETLINK: the protocol field is a netlink family
)

// IP protocol numbers (IPv4 protocol / IPv6 next header).
const (
	protoHopByHop  = 0
	protoTCP       = 6
	protoRouting   = 43
	protoFragment  = 44
	protoAH        = 51
	protoDestOpts  = 60
	protoMobility  = 135
	protoHIP       = 139
	protoShim6     = 140
	protoExpTest1  = 253
	protoExpTest2  = 254
	ipv4FlagMF     = 0x2000
	ipv4FragOffset = 0x1fff
)

// Decode parses a captured packet of the given link type down to TCP and fills seg.
// It returns ErrNotTCP (a sentinel) for packets that are valid but not TCP over IPv4/IPv6
// (ARP, UDP, ICMP, IP fragments other than a complete unfragmented datagram...), and a
// descriptive error wrapping ErrMalformed for packets whose headers are cut or inconsistent.
//
// TCP inside tunnels and other encapsulations is decoded too (see tunnel.go:
// IP in IP, GRE, ERSPAN, VXLAN, VXLAN-GPE, Geneve, GTP-U, MPLS, PPPoE), up
// to 8 deep; seg.Encap says how deep. The segment is keyed by its own
// addresses only: the same addresses and ports in two tunnels are one
// connection.
//
// IP fragments are not reassembled. IP and TCP checksums are not verified.
// The payload length comes from the IP length fields, never from the captured
// length, so link-layer padding and trailers (such as an Ethernet FCS) are
// dropped. An IPv4 total length or IPv6 payload length of zero (TCP
// segmentation offload, jumbograms) is taken to mean "up to the end of the
// capture". seg is only written when Decode returns nil. Decode does not
// allocate.
func Decode(link source.LinkType, data []byte, seg *Segment) error {
	d := decoder{seg: seg}
	// The usual case first, with fewer calls: untagged IPv4 over Ethernet.
	if link == source.LinkEthernet && len(data) >= ethernetLen &&
		binary.BigEndian.Uint16(data[12:14]) == etherTypeIPv4 {
		return decodeIPv4(data[ethernetLen:], &d, 0)
	}
	return d.decode(link, data)
}

// decoder is what the decoding functions write to: the segment, and the
// fragment when the caller asked for fragments.
type decoder struct {
	seg    *Segment
	frag   *Fragment
	tunnel Tunnel // the outermost encapsulation met
	// id is the outermost encapsulation's identifier, when hasID.
	hasID bool
	id    uint32
}

// enter notes that the packet is inside encapsulation t (the first one met
// is the outermost).
func (d *decoder) enter(t Tunnel) {
	if d.tunnel == TunnelNone {
		d.tunnel = t
	}
}

// setID notes id as the identifier of the encapsulation t being opened,
// when it is the outermost one and the first of that kind.
func (d *decoder) setID(t Tunnel, id uint32) {
	if d.tunnel == t && !d.hasID {
		d.id, d.hasID = id, true
	}
}

// decode is Decode.
func (d *decoder) decode(link source.LinkType, data []byte) error {
	switch link {
	case source.LinkEthernet:
		return decodeEthernet(data, d, 0)
	case source.LinkSLL:
		if len(data) < sllLen {
			return malSLLShort
		}
		if binary.BigEndian.Uint16(data[2:4]) == arphrdNetlink {
			return ErrNotTCP
		}
		return decodeEtherType(binary.BigEndian.Uint16(data[14:16]), data[sllLen:], d, 0)
	case source.LinkSLL2:
		if len(data) < sll2Len {
			return malSLL2Short
		}
		if binary.BigEndian.Uint16(data[8:10]) == arphrdNetlink {
			return ErrNotTCP
		}
		return decodeEtherType(binary.BigEndian.Uint16(data[0:2]), data[sll2Len:], d, 0)
	case source.LinkNull:
		if len(data) < loopLen {
			return malLoopbackShort
		}
		// The family is in the capturing host's byte order. Families are
		// small numbers, so a value that does not fit 16 bits was written
		// in the other byte order.
		family := binary.LittleEndian.Uint32(data[:4])
		if family > 0xffff {
			family = bits.ReverseBytes32(family)
		}
		return decodeFamily(family, data[loopLen:], d, 0)
	case source.LinkLoop:
		if len(data) < loopLen {
			return malLoopbackShort
		}
		return decodeFamily(binary.BigEndian.Uint32(data[:4]), data[loopLen:], d, 0)
	case source.LinkRaw, linkRawAlt12, linkRawAlt14:
		if len(data) == 0 {
			return malRawEmpty
		}
		switch data[0] >> 4 {
		case 4:
			return decodeIPv4(data, d, 0)
		case 6:
			return decodeIPv6(data, d, 0)
		}
		return malRawVersion
	case source.LinkIPv4:
		return decodeIPv4(data, d, 0)
	case source.LinkIPv6:
		return decodeIPv6(data, d, 0)
	case source.LinkIEEE80211:
		return decode80211(data, d, false)
	case source.LinkRadiotap:
		return decodeRadiotap(data, d)
	case source.LinkPPI:
		return decodePPI(data, d)
	case source.LinkNFLOG:
		return decodeNFLOG(data, d)
	case source.LinkPPP:
		return decodePPP(data, d, 0)
	case source.LinkPPPHDLC:
		return decodePPPHDLC(data, d)
	case source.LinkCHDLC:
		return decodeCHDLC(data, d)
	case source.LinkPPPEther:
		// PPPoE as the link: an encapsulation, as over Ethernet.
		d.enter(TunnelPPPoE)
		return decodePPPoE(data, d, 1)
	}
	return ErrUnsupportedLink
}

// decodeEthernet skips an Ethernet II header.
func decodeEthernet(data []byte, d *decoder, enc int) error {
	if len(data) < ethernetLen {
		return malEthernetShort
	}
	return decodeEtherType(binary.BigEndian.Uint16(data[12:14]), data[ethernetLen:], d, enc)
}

// decodeEtherType skips any stacked 802.1Q / 802.1ad tags and dispatches on
// the ethertype. Linux cooked captures carry tags this way too when the
// kernel did not strip them.
func decodeEtherType(etherType uint16, data []byte, d *decoder, enc int) error {
	// Every tag consumes four bytes, so the loop ends with the data.
	for etherType == etherTypeVLAN || etherType == etherTypeQinQ || etherType == etherTypeQinQv1 {
		if len(data) < vlanTagLen {
			return malVLANShort
		}
		etherType = binary.BigEndian.Uint16(data[2:4])
		data = data[vlanTagLen:]
	}
	switch etherType {
	case etherTypeIPv4:
		return decodeIPv4(data, d, enc)
	case etherTypeIPv6:
		return decodeIPv6(data, d, enc)
	}
	return decodeEtherTunnel(etherType, data, d, enc)
}

// decodeFamily dispatches on a BSD address family from a loopback header.
// AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24 (OpenBSD, NetBSD),
// 28 (FreeBSD, DragonFly) or 30 (macOS).
func decodeFamily(family uint32, data []byte, d *decoder, enc int) error {
	switch family {
	case 2:
		return decodeIPv4(data, d, enc)
	case 10, 24, 28, 30:
		return decodeIPv6(data, d, enc)
	}
	return ErrNotTCP
}

// decodeIPv4 parses an IPv4 header and the TCP segment it carries.
func decodeIPv4(data []byte, d *decoder, enc int) error {
	if len(data) < ipv4MinLen {
		return malIPv4Short
	}
	if data[0]>>4 != 4 {
		return malIPv4Version
	}
	ihl := int(data[0]&0x0f) * 4
	if ihl < ipv4MinLen {
		return malIPv4IHL
	}
	if len(data) < ihl {
		return malIPv4HeaderCut
	}
	total := int(binary.BigEndian.Uint16(data[2:4]))
	if total == 0 {
		// TCP segmentation offload: the NIC fills in the length later.
		total = len(data)
	}
	if total < ihl {
		return malIPv4TotalLen
	}
	if len(data) > total {
		data = data[:total] // drop link-layer padding
	}
	if data[9] != protoTCP || binary.BigEndian.Uint16(data[6:8])&(ipv4FlagMF|ipv4FragOffset) != 0 {
		return d.ipv4Other(data, ihl, total, enc)
	}
	src := netip.AddrFrom4([4]byte(data[12:16]))
	dst := netip.AddrFrom4([4]byte(data[16:20]))
	return decodeTCP(src, dst, data[ihl:], total-ihl, d, enc)
}

// ipv4Other decodes an IPv4 packet (trimmed to total) that is not a whole
// TCP segment: a fragment (ErrFragment with d.frag filled when the caller
// asked for fragments, else ErrNotTCP), or another protocol (a tunnel, or
// not TCP). It is apart from decodeIPv4 to keep that small enough to
// inline on the usual path.
func (d *decoder) ipv4Other(data []byte, ihl, total, enc int) error {
	frag := binary.BigEndian.Uint16(data[6:8])
	if frag&(ipv4FlagMF|ipv4FragOffset) == 0 {
		return decodeInner(data[9], data[ihl:], d, enc)
	}
	if d.frag == nil {
		return ErrNotTCP
	}
	*d.frag = Fragment{
		Src:         netip.AddrFrom4([4]byte(data[12:16])),
		Dst:         netip.AddrFrom4([4]byte(data[16:20])),
		ID:          uint32(binary.BigEndian.Uint16(data[4:6])),
		Proto:       data[9],
		Offset:      int(frag&ipv4FragOffset) * 8,
		More:        frag&ipv4FlagMF != 0,
		Data:        data[ihl:],
		Len:         total - ihl,
		Encap:       uint8(enc),
		Tunnel:      d.tunnel,
		HasTunnelID: d.hasID,
		TunnelID:    d.id,
	}
	return ErrFragment
}

// decodeIPv6 parses an IPv6 header and its extension headers, and the TCP
// segment they lead to.
func decodeIPv6(data []byte, d *decoder, enc int) error {
	if len(data) < ipv6Len {
		return malIPv6Short
	}
	if data[0]>>4 != 6 {
		return malIPv6Version
	}
	claimed := int(binary.BigEndian.Uint16(data[4:6]))
	if claimed == 0 {
		// A jumbogram (RFC 2675) or a TSO packet: use what was captured.
		claimed = len(data) - ipv6Len
	}
	next := data[6]
	src := netip.AddrFrom16([16]byte(data[8:24]))
	dst := netip.AddrFrom16([16]byte(data[24:40]))
	data = data[ipv6Len:]
	if len(data) > claimed {
		data = data[:claimed] // drop link-layer padding
	}
	return decodeIPv6Chain(next, src, dst, data, claimed, d, enc)
}

// decodeIPv6Chain follows IPv6 extension headers from next to TCP; data
// holds the captured bytes of the rest of the packet (at most claimed
// bytes), claimed is their length per the IPv6 header.
func decodeIPv6Chain(next byte, src, dst netip.Addr, data []byte, claimed int, d *decoder, enc int) error {
	// Every extension header consumes at least eight bytes, so the loop ends
	// with the data.
	for next != protoTCP {
		var hlen int
		switch next {
		case protoHopByHop, protoRouting, protoDestOpts, protoMobility, protoHIP, protoShim6,
			protoExpTest1, protoExpTest2:
			if len(data) < 2 {
				return malIPv6ExtCut
			}
			hlen = (int(data[1]) + 1) * 8
		case protoFragment:
			if len(data) < 8 {
				return malIPv6ExtCut
			}
			offsetAndM := binary.BigEndian.Uint16(data[2:4])
			if offsetAndM&0xfff9 != 0 { // fragment offset (high 13 bits) or M (bit 0)
				if d.frag == nil {
					return ErrNotTCP
				}
				*d.frag = Fragment{
					Src: src, Dst: dst, V6: true,
					ID:          binary.BigEndian.Uint32(data[4:8]),
					Proto:       data[0],
					Offset:      int(offsetAndM>>3) * 8,
					More:        offsetAndM&1 != 0,
					Data:        data[8:],
					Len:         claimed - 8,
					Encap:       uint8(enc),
					Tunnel:      d.tunnel,
					HasTunnelID: d.hasID,
					TunnelID:    d.id,
				}
				return ErrFragment
			}
			hlen = 8
		case protoAH:
			if len(data) < 2 {
				return malIPv6ExtCut
			}
			hlen = (int(data[1]) + 2) * 4
		default:
			// A tunnel, or not TCP (ESP, no next header, ICMPv6...).
			return decodeInner(next, data, d, enc)
		}
		if hlen > claimed {
			return malIPv6ExtLen
		}
		if hlen > len(data) {
			return malIPv6ExtCut
		}
		next = data[0]
		data = data[hlen:]
		claimed -= hlen
	}
	return decodeTCP(src, dst, data, claimed, d, enc)
}

// decodeTCP parses a TCP header. data holds the captured bytes of the IP
// payload (at most claimed bytes); claimed is its length according to IP.
func decodeTCP(src, dst netip.Addr, data []byte, claimed int, d *decoder, enc int) error {
	if claimed < tcpMinLen || len(data) < tcpMinLen {
		return malTCPShort
	}
	doff := int(data[12]>>4) * 4
	if doff < tcpMinLen || doff > claimed {
		return malTCPDataOffset
	}
	if doff > len(data) {
		return malTCPHeaderCut
	}
	seg := d.seg
	*seg = Segment{
		Src:         src,
		Dst:         dst,
		SrcPort:     binary.BigEndian.Uint16(data[0:2]),
		DstPort:     binary.BigEndian.Uint16(data[2:4]),
		Seq:         binary.BigEndian.Uint32(data[4:8]),
		Ack:         binary.BigEndian.Uint32(data[8:12]),
		Flags:       data[13],
		Window:      binary.BigEndian.Uint16(data[14:16]),
		Payload:     data[doff:],
		PayloadLen:  claimed - doff,
		Encap:       uint8(enc),
		Tunnel:      d.tunnel,
		HasTunnelID: d.hasID,
		TunnelID:    d.id,
	}
	if data[13]&FlagSYN != 0 && doff > tcpMinLen {
		seg.WScale = windowScale(data[tcpMinLen:doff])
	}
	return nil
}

// windowScale returns the window scale option in TCP options opts, plus
// one, or 0 when there is none (see Segment.WScale).
func windowScale(opts []byte) uint8 {
	for i := 0; i < len(opts); {
		switch kind := opts[i]; kind {
		case 0: // end of options
			return 0
		case 1: // no-operation
			i++
			continue
		}
		if i+1 >= len(opts) {
			return 0
		}
		n := int(opts[i+1])
		if n < 2 || i+n > len(opts) {
			return 0
		}
		if opts[i] == 3 && n == 3 {
			return min(opts[i+2], 14) + 1
		}
		i += n
	}
	return 0
}
