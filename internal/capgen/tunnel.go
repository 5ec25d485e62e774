package capgen

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
)

// Tunnel is an encapsulation a connection's IP packets are written in, as
// traffic mirrored from clouds and switches, captured on overlay networks,
// mobile cores or DSL links arrives.
type Tunnel uint8

// Tunnels the generator can write. The IP tunnels run between two fixed
// IPv4 endpoints (TunnelClientEnd on the client's side, TunnelServerEnd on
// the server's), with valid IPv4 checksums and UDP checksums of zero.
const (
	// TunnelNone writes the IP packets directly on the link.
	TunnelNone Tunnel = iota
	// TunnelIPIP is IPv4 in IPv4 (RFC 2003), or IPv6 in IPv4 (6in4).
	TunnelIPIP
	// TunnelGRE is GRE (with a key) carrying the IP packets.
	TunnelGRE
	// TunnelERSPAN2 is GRE with a sequence number, an ERSPAN type II header
	// and the mirrored Ethernet frame.
	TunnelERSPAN2
	// TunnelVXLAN is VXLAN (UDP port 4789, VNI 4097) carrying Ethernet.
	TunnelVXLAN
	// TunnelGeneve is Geneve (UDP port 6081) with one option, carrying
	// Ethernet.
	TunnelGeneve
	// TunnelGTPU is a GTPv1-U G-PDU (UDP port 2152) with a PDU session
	// container extension header, carrying the IP packets.
	TunnelGTPU
	// TunnelMPLS is a two-label MPLS stack (Ethernet and SLL links only).
	TunnelMPLS
	// TunnelPPPoE is a PPPoE session (Ethernet and SLL links only).
	TunnelPPPoE
)

// String returns the tunnel's name.
func (t Tunnel) String() string {
	switch t {
	case TunnelNone:
		return "none"
	case TunnelIPIP:
		return "ip-in-ip"
	case TunnelGRE:
		return "gre"
	case TunnelERSPAN2:
		return "erspan-ii"
	case TunnelVXLAN:
		return "vxlan"
	case TunnelGeneve:
		return "geneve"
	case TunnelGTPU:
		return "gtp-u"
	case TunnelMPLS:
		return "mpls"
	case TunnelPPPoE:
		return "pppoe"
	}
	return fmt.Sprintf("tunnel-%d", uint8(t))
}

// Tunnel endpoints of the IP tunnels.
var (
	TunnelClientEnd = netip.MustParseAddr("192.0.2.201")
	TunnelServerEnd = netip.MustParseAddr("192.0.2.202")
)

const (
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86dd
	etherTypeTEB   = 0x6558
	etherTypeERSPN = 0x88be
	etherTypeMPLS  = 0x8847
	etherTypePPPoE = 0x8864
)

// encapsulate wraps ip (an IP packet of the given ethertype, sent by the
// client when p.outgoing) in tunnel t and returns the result and the
// ethertype the link layer announces for it.
func encapsulate(t Tunnel, etherType uint16, p *tcpPacket, ip []byte) ([]byte, uint16, error) {
	// The Ethernet frame the bridging tunnels carry.
	frame := func() []byte {
		b := make([]byte, 0, 14+len(ip))
		b = append(b, p.dstMAC[:]...)
		b = append(b, p.srcMAC[:]...)
		b = binary.BigEndian.AppendUint16(b, etherType)
		return append(b, ip...)
	}
	// The outer UDP source port, as a tunnel endpoint's flow hash would.
	flowPort := 49152 + uint16(p.src.Port()^p.dst.Port())&0x3fff
	switch t {
	case TunnelIPIP:
		proto := byte(4)
		if etherType == etherTypeIPv6 {
			proto = 41
		}
		return outerIPv4(p, proto, ip), etherTypeIPv4, nil
	case TunnelGRE:
		h := []byte{0x20, 0}
		h = binary.BigEndian.AppendUint16(h, etherType)
		h = append(h, 0, 0, 0, 42) // key
		return outerIPv4(p, 47, append(h, ip...)), etherTypeIPv4, nil
	case TunnelERSPAN2:
		h := []byte{0x10, 0}
		h = binary.BigEndian.AppendUint16(h, etherTypeERSPN)
		h = binary.BigEndian.AppendUint32(h, uint32(p.ipID)) // sequence number
		h = append(h, 0x10, 0x00, 0x00, 0x07, 0, 0, 0, 1)    // version 1, session 7, index 1
		return outerIPv4(p, 47, append(h, frame()...)), etherTypeIPv4, nil
	case TunnelVXLAN:
		h := []byte{0x08, 0, 0, 0, 0, 0x10, 0x01, 0} // I flag, VNI 4097
		return outerIPv4(p, 17, udpDatagram(flowPort, 4789, append(h, frame()...))), etherTypeIPv4, nil
	case TunnelGeneve:
		h := []byte{1, 0} // one 4-byte option word
		h = binary.BigEndian.AppendUint16(h, etherTypeTEB)
		h = append(h, 0, 0x20, 0x02, 0)       // VNI 8194
		h = append(h, 0x01, 0x02, 0x80, 0x00) // option class 0x0102, type 0x80, no data
		return outerIPv4(p, 17, udpDatagram(flowPort, 6081, append(h, frame()...))), etherTypeIPv4, nil
	case TunnelGTPU:
		teid := uint32(0x1001)
		if p.outgoing {
			teid = 0x2002 // uplink
		}
		h := []byte{0x34, 0xff, 0, 0}
		h = binary.BigEndian.AppendUint32(h, teid)
		h = append(h, 0, 0, 0, 0x85)    // no sequence, no N-PDU, next: PDU session container
		h = append(h, 1, 0x10, 0x09, 0) // QFI 9, no further extension
		binary.BigEndian.PutUint16(h[2:], uint16(len(h)-8+len(ip)))
		return outerIPv4(p, 17, udpDatagram(2152, 2152, append(h, ip...))), etherTypeIPv4, nil
	case TunnelMPLS:
		h := binary.BigEndian.AppendUint32(nil, 1000<<12|64)    // label 1000, TTL 64
		h = binary.BigEndian.AppendUint32(h, 2000<<12|0x100|64) // label 2000, bottom of stack
		return append(h, ip...), etherTypeMPLS, nil
	case TunnelPPPoE:
		proto := uint16(0x0021)
		if etherType == etherTypeIPv6 {
			proto = 0x0057
		}
		h := []byte{0x11, 0, 0x00, 0x2a} // version 1, type 1, session data, session 42
		h = binary.BigEndian.AppendUint16(h, uint16(2+len(ip)))
		h = binary.BigEndian.AppendUint16(h, proto)
		return append(h, ip...), etherTypePPPoE, nil
	}
	return nil, 0, fmt.Errorf("encapsulate: unknown tunnel %d", uint8(t))
}

// outerIPv4 wraps body in an IPv4 header of protocol proto between the
// tunnel endpoints, in the direction p travels.
func outerIPv4(p *tcpPacket, proto byte, body []byte) []byte {
	src, dst := TunnelServerEnd.As4(), TunnelClientEnd.As4()
	if p.outgoing {
		src, dst = dst, src
	}
	b := make([]byte, 20, 20+len(body))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(body)))
	binary.BigEndian.PutUint16(b[4:], p.ipID^0x5555)
	b[8] = 64
	b[9] = proto
	copy(b[12:16], src[:])
	copy(b[16:20], dst[:])
	binary.BigEndian.PutUint16(b[10:], checksum(0, b))
	return append(b, body...)
}

// udpDatagram wraps body in a UDP header without a checksum (allowed over
// IPv4, and what tunnel endpoints usually send).
func udpDatagram(src, dst uint16, body []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, src)
	b = binary.BigEndian.AppendUint16(b, dst)
	b = binary.BigEndian.AppendUint16(b, uint16(8+len(body)))
	b = append(b, 0, 0)
	return append(b, body...)
}

// fragmentIPv4 splits the IPv4 packet ip (20-byte header) into fragments of
// at most mtu bytes (RFC 791), in order or last first, with valid header
// checksums. The don't-fragment flag is cleared, as a sender that
// fragments must.
func fragmentIPv4(ip []byte, mtu int, reversed bool) ([][]byte, error) {
	if len(ip) < 20 || ip[0] != 0x45 {
		return nil, fmt.Errorf("fragment: not an IPv4 packet without options")
	}
	step := (mtu - 20) &^ 7
	if step <= 0 {
		return nil, fmt.Errorf("fragment: MTU %d too small", mtu)
	}
	payload := ip[20:]
	var out [][]byte
	for off := 0; off < len(payload); off += step {
		end := min(off+step, len(payload))
		h := append([]byte(nil), ip[:20]...)
		binary.BigEndian.PutUint16(h[2:], uint16(20+end-off))
		flags := uint16(off / 8)
		if end < len(payload) {
			flags |= 0x2000 // more fragments
		}
		binary.BigEndian.PutUint16(h[6:], flags)
		h[10], h[11] = 0, 0
		binary.BigEndian.PutUint16(h[10:], checksum(0, h))
		out = append(out, append(h, payload[off:end]...))
	}
	if reversed {
		slices.Reverse(out)
	}
	return out, nil
}

// fragmentIPv6 splits the IPv6 packet ip into fragments of at most mtu
// bytes (RFC 8200 4.5): a fragment header after the fixed header, the rest
// (extension headers included) fragmentable, identification from the
// packet's flow label bits.
func fragmentIPv6(ip []byte, mtu int, reversed bool) ([][]byte, error) {
	if len(ip) < 40 || ip[0]>>4 != 6 {
		return nil, fmt.Errorf("fragment: not an IPv6 packet")
	}
	if ip[6] == 0 {
		return nil, fmt.Errorf("fragment: an IPv6 hop-by-hop header belongs before the fragment header")
	}
	step := (mtu - 48) &^ 7
	if step <= 0 {
		return nil, fmt.Errorf("fragment: MTU %d too small", mtu)
	}
	next, payload := ip[6], ip[40:]
	id := 0x5a000000 | uint32(len(payload))<<8 | uint32(ip[7])
	var out [][]byte
	for off := 0; off < len(payload); off += step {
		end := min(off+step, len(payload))
		h := append([]byte(nil), ip[:40]...)
		h[6] = 44 // fragment header
		binary.BigEndian.PutUint16(h[4:], uint16(8+end-off))
		v := uint16(off/8) << 3
		if end < len(payload) {
			v |= 1 // more fragments
		}
		h = append(h, next, 0)
		h = binary.BigEndian.AppendUint16(h, v)
		h = binary.BigEndian.AppendUint32(h, id)
		out = append(out, append(h, payload[off:end]...))
	}
	if reversed {
		slices.Reverse(out)
	}
	return out, nil
}
