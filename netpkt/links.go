package netpkt

// This file decodes the link layers of serial lines (PPP and Cisco HDLC,
// which carry IP with no addresses), PPPoE without Ethernet, and Linux's
// netfilter log (NFLOG: what `tcpdump -i nflog:N` captures from the
// iptables or nftables rules that log packets to netlink group N).

import "encoding/binary"

// PPP protocol numbers (RFC 1661 and the IANA registry) of IP.
const (
	pppIPv4 = 0x0021
	pppIPv6 = 0x0057
)

// decodePPP decodes a PPP frame that may start with RFC 1662's HDLC-like
// address and control bytes (0xff 0x03); the protocol field after them may
// be compressed to one byte (RFC 1661's PFC).
func decodePPP(data []byte, d *decoder, enc int) error {
	if len(data) >= 2 && data[0] == 0xff && data[1] == 0x03 {
		data = data[2:]
	}
	return decodePPPProtocol(data, d, enc)
}

// decodePPPProtocol decodes the PPP protocol field at data[0] and, for IPv4
// and IPv6, the packet after it; other protocols (LCP, IPCP, Van Jacobson
// compressed TCP...) are not TCP.
func decodePPPProtocol(data []byte, d *decoder, enc int) error {
	if len(data) == 0 {
		return malPPPoEShort
	}
	proto := uint16(data[0])
	if proto&1 == 0 { // a two-byte protocol (not compressed by PFC)
		if len(data) < 2 {
			return malPPPoEShort
		}
		proto = binary.BigEndian.Uint16(data[:2])
		data = data[2:]
	} else {
		data = data[1:]
	}
	switch proto {
	case pppIPv4:
		return decodeIPv4(data, d, enc)
	case pppIPv6:
		return decodeIPv6(data, d, enc)
	}
	return ErrNotTCP
}

// decodeCHDLC decodes a Cisco HDLC frame: an address byte (0x0f unicast,
// 0x8f broadcast), a control byte and an ethertype.
func decodeCHDLC(data []byte, d *decoder) error {
	if len(data) < 4 {
		return malCHDLCShort
	}
	return decodeEtherType(binary.BigEndian.Uint16(data[2:4]), data[4:], d, 0)
}

// decodePPPHDLC decodes LINKTYPE_PPP_HDLC, which holds PPP frames in
// HDLC-like framing or, on Cisco routers, Cisco HDLC frames (an address byte
// of 0x0f or 0x8f instead of 0xff).
func decodePPPHDLC(data []byte, d *decoder) error {
	if len(data) > 0 && (data[0] == 0x0f || data[0] == 0x8f) {
		return decodeCHDLC(data, d)
	}
	return decodePPP(data, d, 0)
}

// NFLOG layout: a 4-byte header (address family, version 0, resource id),
// then type-length-value attributes whose length and type are in the
// capturing host's byte order, each padded to four bytes; the length counts
// the attribute's own 4-byte header. The packet, from its network header,
// is in attribute NFULA_PAYLOAD.
const (
	nflogHdrLen  = 4
	nflogTLVLen  = 4
	nflogPayload = 9 // NFULA_PAYLOAD
	// nlaTypeMask clears netlink's NLA_F_NESTED and NLA_F_NET_BYTEORDER.
	nlaTypeMask = 0x3fff
)

// decodeNFLOG finds the packet in an NFLOG message and decodes it.
func decodeNFLOG(data []byte, d *decoder) error {
	if len(data) < nflogHdrLen || data[1] != 0 {
		return malNFLOGShort
	}
	data = data[nflogHdrLen:]
	// The attributes' byte order: types are small numbers (below 0x40)
	// with at most netlink's two flag bits on top, so the type's low byte
	// is the one whose low six bits are not all zero.
	order := binary.ByteOrder(binary.LittleEndian)
	if len(data) >= nflogTLVLen && data[2]&0x3f == 0 && data[3] != 0 {
		order = binary.BigEndian
	}
	for len(data) > 0 {
		if len(data) < nflogTLVLen {
			return malNFLOGShort
		}
		n, typ := int(order.Uint16(data[0:2])), order.Uint16(data[2:4])
		if n < nflogTLVLen {
			return malNFLOGShort
		}
		if typ&nlaTypeMask == nflogPayload {
			// The packet is the last attribute, the one a snap length
			// cuts: the IP layer sees the cut as on any link.
			return decodeIPAny(data[nflogTLVLen:min(n, len(data))], d, 0)
		}
		if n > len(data) {
			return malNFLOGShort
		}
		data = data[min((n+3)&^3, len(data)):]
	}
	return ErrNotTCP
}
