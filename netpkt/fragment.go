package netpkt

import (
	"encoding/binary"
	"net/netip"

	"github.com/wsdissect/wsdissect/source"
)

// ErrFragment is returned by DecodeFragments for an IP fragment (other than
// an IPv6 atomic fragment), which it describes in its Fragment argument.
// errors.Is(ErrFragment, ErrNotTCP) holds: until its datagram is
// reassembled, a fragment is not a TCP segment.
var ErrFragment error = fragmentError{}

// fragmentError is ErrFragment's type.
type fragmentError struct{}

// Error implements error.
func (fragmentError) Error() string { return "IP fragment" }

// Is makes errors.Is(ErrFragment, ErrNotTCP) true.
func (fragmentError) Is(target error) bool { return target == ErrNotTCP }

// Fragment is one fragment of an IPv4 or IPv6 datagram.
type Fragment struct {
	// Src, Dst, ID, Proto and V6 identify the datagram (RFC 791, RFC 8200):
	// ID is the identification (16 bits in IPv4), Proto the protocol of
	// the datagram's payload (IPv6: the fragment header's next header).
	Src, Dst netip.Addr
	ID       uint32
	Proto    uint8
	V6       bool
	// Offset is where the fragment starts in the datagram's payload, in
	// bytes; More is its more-fragments flag.
	Offset int
	More   bool
	// Data is the fragment's payload as captured (it aliases the packet);
	// Len is its length per the IP header, larger than len(Data) when the
	// capture cut the packet short.
	Data []byte
	Len  int
	// Encap is how deep in tunnels the fragment's IP header was; Tunnel
	// the outermost of them, TunnelID its identifier when HasTunnelID.
	Encap       uint8
	Tunnel      Tunnel
	HasTunnelID bool
	TunnelID    uint32
}

// DecodeFragments is Decode, except that for an IP fragment it fills frag
// and returns ErrFragment; reassemble the datagram and hand it to
// DecodeDatagram.
func DecodeFragments(link source.LinkType, data []byte, seg *Segment, frag *Fragment) error {
	d := decoder{seg: seg, frag: frag}
	// The usual case first, as in Decode.
	if link == source.LinkEthernet && len(data) >= ethernetLen &&
		binary.BigEndian.Uint16(data[12:14]) == etherTypeIPv4 {
		return decodeIPv4(data[ethernetLen:], &d, 0)
	}
	return d.decode(link, data)
}

// DecodeDatagram decodes the payload of a datagram reassembled from
// fragments: f is any of its fragments (for the addresses, protocol and
// depth), payload the bytes captured from the start of its payload, claimed
// its payload's length per the IP headers. A datagram that is itself a
// tunnel is decoded through it; fragments inside it are not reassembled
// (ErrNotTCP).
func DecodeDatagram(f *Fragment, payload []byte, claimed int, seg *Segment) error {
	d := decoder{seg: seg, tunnel: f.Tunnel, hasID: f.HasTunnelID, id: f.TunnelID}
	if len(payload) > claimed {
		payload = payload[:claimed]
	}
	enc := int(f.Encap)
	if f.V6 {
		return decodeIPv6Chain(f.Proto, f.Src, f.Dst, payload, claimed, &d, enc)
	}
	if f.Proto != protoTCP {
		return decodeInner(f.Proto, payload, &d, enc)
	}
	return decodeTCP(f.Src, f.Dst, payload, claimed, &d, enc)
}
