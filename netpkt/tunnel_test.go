package netpkt

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/wsdissect/wsdissect/source"
)

// Outer (tunnel endpoint) addresses: different from the inner ones, so a
// test that passes shows the segment came from the inner packet.
var (
	outerV4Src = netip.MustParseAddr("10.200.0.1")
	outerV4Dst = netip.MustParseAddr("10.200.0.2")
	outerV6Src = netip.MustParseAddr("fd00::a")
	outerV6Dst = netip.MustParseAddr("fd00::b")
)

// outer4 wraps body in an IPv4 header of protocol proto between the tunnel
// endpoints.
func outer4(proto byte, body []byte) []byte {
	h := ipv4Pkt(proto, 0, 0, body)
	a, b := outerV4Src.As4(), outerV4Dst.As4()
	copy(h[12:], a[:])
	copy(h[16:], b[:])
	return h
}

// outer6 wraps body in an IPv6 header of next header proto between the
// tunnel endpoints.
func outer6(proto byte, body []byte) []byte {
	h := ipv6Pkt(proto, nil, body)
	a, b := outerV6Src.As16(), outerV6Dst.As16()
	copy(h[8:], a[:])
	copy(h[24:], b[:])
	return h
}

// udp wraps body in a UDP header (checksum 0).
func udp(src, dst uint16, body []byte) []byte {
	h := binary.BigEndian.AppendUint16(nil, src)
	h = binary.BigEndian.AppendUint16(h, dst)
	h = binary.BigEndian.AppendUint16(h, uint16(udpLen+len(body)))
	h = append(h, 0, 0)
	return append(h, body...)
}

// gre wraps body in a GRE header with the given flags byte (checksum, key
// and sequence fields are added as the flags ask) and protocol type.
func gre(flags byte, proto uint16, body []byte) []byte {
	h := []byte{flags, 0}
	h = binary.BigEndian.AppendUint16(h, proto)
	if flags&0x80 != 0 {
		h = append(h, 0xaa, 0xbb, 0, 0) // checksum, reserved
	}
	if flags&0x20 != 0 {
		h = append(h, 0, 0, 0x10, 0x01) // key
	}
	if flags&0x10 != 0 {
		h = append(h, 0, 0, 0, 7) // sequence number
	}
	return append(h, body...)
}

// erspan3 builds an ERSPAN type III header of the given frame type, with
// the 8-byte platform-specific subheader when sub is set.
func erspan3(frameType uint16, sub bool, body []byte) []byte {
	h := []byte{0x20, 0x05, 0x00, 0x2a, 1, 2, 3, 4, 0, 0}
	word := frameType<<10 | 0x3<<4 // hardware id 3
	if sub {
		word |= 1
	}
	h = binary.BigEndian.AppendUint16(h, word)
	if sub {
		h = append(h, 0x08, 0, 0, 0, 0, 0, 0, 9)
	}
	return append(h, body...)
}

// geneve builds a Geneve header with optWords 4-byte words of options.
func geneve(proto uint16, optWords int, body []byte) []byte {
	h := []byte{byte(optWords), 0}
	h = binary.BigEndian.AppendUint16(h, proto)
	h = append(h, 0, 0x12, 0x34, 0)
	for range optWords {
		h = append(h, 0x01, 0x02, 0x80, 0x00)
	}
	return append(h, body...)
}

// gtpu builds a GTPv1-U G-PDU header; with ext, a PDU session container
// extension header (4 bytes) follows the optional fields.
func gtpu(msgType byte, ext bool, body []byte) []byte {
	flags := byte(0x30) // version 1, PT
	if ext {
		flags |= 0x04
	}
	h := []byte{flags, msgType, 0, 0, 0xde, 0xad, 0xbe, 0xef}
	if ext {
		h = append(h, 0, 0, 0, 0x85) // sequence, N-PDU, next: PDU session container
		h = append(h, 1, 0x10, 0x09, 0)
	}
	binary.BigEndian.PutUint16(h[2:], uint16(len(h)-8+len(body)))
	return append(h, body...)
}

// mpls builds a label stack of n labels.
func mpls(n int, body []byte) []byte {
	var h []byte
	for i := range n {
		e := uint32(16+i)<<12 | 64
		if i == n-1 {
			e |= 0x100 // bottom of stack
		}
		h = binary.BigEndian.AppendUint32(h, e)
	}
	return append(h, body...)
}

// pppoe wraps a PPP packet of protocol proto in a PPPoE session header.
func pppoe(proto uint16, body []byte) []byte {
	h := []byte{0x11, 0, 0x12, 0x34}
	h = binary.BigEndian.AppendUint16(h, uint16(2+len(body)))
	h = binary.BigEndian.AppendUint16(h, proto)
	return append(h, body...)
}

// nestIPIP wraps body in n IPv4-in-IPv4 headers.
func nestIPIP(n int, body []byte) []byte {
	for range n {
		body = outer4(protoIPIP, body)
	}
	return body
}

// tunnelCases are the Decode cases of tunnels and encapsulations; pl is
// the TCP payload of the inner packets.
func tunnelCases(pl []byte) []decodeCase {
	n := len(pl)
	v4 := ipv4Pkt(protoTCP, 0, 0, tcpHdr(0, pl))
	v6 := ipv6Pkt(protoTCP, nil, tcpHdr(0, pl))
	eth4 := ether(etherTypeIPv4, nil, v4)
	eth6 := ether(etherTypeIPv6, []uint16{etherTypeVLAN}, v6)
	vxlan := func(flags byte, body []byte) []byte {
		return append([]byte{flags, 0, 0, 0, 0, 0x10, 0x01, 0}, body...)
	}
	gpe := func(next byte, body []byte) []byte {
		return append([]byte{0x0c, 0, 0, next, 0, 0, 0x2a, 0}, body...)
	}
	erspan2 := func(body []byte) []byte {
		return append([]byte{0x10, 0x05, 0x00, 0x2a, 0, 0, 0, 1}, body...)
	}
	eth := func(b []byte) []byte { return ether(etherTypeIPv4, nil, b) }
	return []decodeCase{
		// IP in IP.
		{name: "ipip", link: source.LinkEthernet, data: eth(outer4(protoIPIP, v4)), payload: pl, plen: n, encap: 1},
		{name: "6in4", link: source.LinkEthernet, data: eth(outer4(protoIPv6Encap, v6)), v6: true, payload: pl, plen: n, encap: 1},
		{name: "4in6", link: source.LinkRaw, data: outer6(protoIPIP, v4), payload: pl, plen: n, encap: 1},
		{name: "ipv6 in ipv6 after destopts", link: source.LinkRaw, data: ipv6Pkt(protoIPv6Encap, []ext{optsExt(protoDestOpts, 0)}, v6), v6: true, payload: pl, plen: n, encap: 1},
		{name: "ipip eight deep", link: source.LinkRaw, data: nestIPIP(8, v4), payload: pl, plen: n, encap: 8},
		{name: "ipip nine deep", link: source.LinkRaw, data: nestIPIP(9, v4), wantErr: ErrMalformed},
		{name: "ipip inner fragment", link: source.LinkRaw, data: outer4(protoIPIP, ipv4Pkt(protoTCP, 0, ipv4FlagMF, tcpHdr(0, pl))), wantErr: ErrNotTCP},
		{name: "ipip inner snaplen cut", link: source.LinkEthernet, data: cut(eth(outer4(protoIPIP, v4)), 14+20+20+20+4), payload: pl[:4], plen: n, encap: 1},

		// GRE and ERSPAN.
		{name: "gre ipv4", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0, etherTypeIPv4, v4))), payload: pl, plen: n, encap: 1},
		{name: "gre checksum key sequence", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0xb0, etherTypeIPv6, v6))), v6: true, payload: pl, plen: n, encap: 1},
		{name: "gre over ipv6", link: source.LinkRaw, data: outer6(protoGRE, gre(0x20, etherTypeIPv4, v4)), payload: pl, plen: n, encap: 1},
		{name: "gre ethernet bridging", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0x20, etherTypeTEB, eth6))), v6: true, payload: pl, plen: n, encap: 1},
		{name: "gre mpls", link: source.LinkRaw, data: outer4(protoGRE, gre(0, etherTypeMPLS, mpls(1, v4))), payload: pl, plen: n, encap: 2},
		{name: "erspan type I", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0, etherTypeERSPAN2, eth4))), payload: pl, plen: n, encap: 1},
		{name: "erspan type II", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0x10, etherTypeERSPAN2, erspan2(eth6)))), v6: true, payload: pl, plen: n, encap: 1},
		{name: "erspan type III", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0x10, etherTypeERSPAN3, erspan3(0, false, eth4)))), payload: pl, plen: n, encap: 1},
		{name: "erspan type III subheader", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0x10, etherTypeERSPAN3, erspan3(0, true, eth6)))), v6: true, payload: pl, plen: n, encap: 1},
		{name: "erspan type III ip frame", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0x10, etherTypeERSPAN3, erspan3(2, false, v4)))), payload: pl, plen: n, encap: 1},
		{name: "erspan type III other frame type", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0x10, etherTypeERSPAN3, erspan3(1, false, eth4)))), wantErr: ErrNotTCP},
		{name: "erspan type II cut", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0x10, etherTypeERSPAN2, []byte{0x10, 0x05}))), wantErr: ErrMalformed},
		{name: "erspan type III cut", link: source.LinkEthernet, data: eth(outer4(protoGRE, gre(0x10, etherTypeERSPAN3, erspan3(0, true, nil)[:14]))), wantErr: ErrMalformed},
		{name: "gre version 1 (pptp)", link: source.LinkRaw, data: outer4(protoGRE, withByte(gre(0, etherTypeIPv4, v4), 1, 1)), wantErr: ErrNotTCP},
		{name: "gre source routing", link: source.LinkRaw, data: outer4(protoGRE, gre(0x40, etherTypeIPv4, v4)), wantErr: ErrNotTCP},
		{name: "gre cut", link: source.LinkRaw, data: outer4(protoGRE, []byte{0, 0, 8}), wantErr: ErrMalformed},
		{name: "gre key cut", link: source.LinkRaw, data: outer4(protoGRE, gre(0x20, etherTypeIPv4, nil)[:6]), wantErr: ErrMalformed},
		{name: "gre other protocol", link: source.LinkRaw, data: outer4(protoGRE, gre(0, 0x0806, make([]byte, 28))), wantErr: ErrNotTCP},

		// UDP tunnels.
		{name: "vxlan", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(51000, portVXLAN, vxlan(0x08, eth4)))), payload: pl, plen: n, encap: 1},
		{name: "vxlan linux port over ipv6", link: source.LinkEthernet, data: ether(etherTypeIPv6, nil, outer6(protoUDP, udp(51000, portVXLANLinux, vxlan(0x08, eth6)))), v6: true, payload: pl, plen: n, encap: 1},
		{name: "vxlan group policy flags", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(51000, portVXLAN, vxlan(0x88, eth4)))), payload: pl, plen: n, encap: 1},
		{name: "vxlan padded udp", link: source.LinkEthernet, data: pad(eth(withByte(outer4(protoUDP, pad(udp(51000, portVXLAN, vxlan(0x08, eth4)), 3)), 20+5, byte(udpLen+8+len(eth4)))), 2), payload: pl, plen: n, encap: 1},
		{name: "vxlan without I flag", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(51000, portVXLAN, vxlan(0x00, eth4)))), wantErr: ErrNotTCP},
		{name: "vxlan cut", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(51000, portVXLAN, []byte{8, 0, 0}))), wantErr: ErrNotTCP},
		{name: "vxlan snaplen cut inner payload", link: source.LinkEthernet, data: cut(eth(outer4(protoUDP, udp(51000, portVXLAN, vxlan(0x08, eth4)))), 14+20+8+8+14+20+20+2), payload: pl[:2], plen: n, encap: 1},
		{name: "vxlan-gpe answer from its port", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portVXLANGPE, 40000, gpe(1, v4)))), payload: pl, plen: n, encap: 1},
		{name: "vxlan-gpe ipv6", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(40000, portVXLANGPE, gpe(2, v6)))), v6: true, payload: pl, plen: n, encap: 1},
		{name: "vxlan-gpe ethernet", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(40000, portVXLANGPE, gpe(3, eth4)))), payload: pl, plen: n, encap: 1},
		{name: "vxlan-gpe nsh", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(40000, portVXLANGPE, gpe(4, eth4)))), wantErr: ErrNotTCP},
		{name: "geneve ethernet with options", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(50123, portGeneve, geneve(etherTypeTEB, 3, eth4)))), payload: pl, plen: n, encap: 1},
		{name: "geneve ipv6", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(50123, portGeneve, geneve(etherTypeIPv6, 0, v6)))), v6: true, payload: pl, plen: n, encap: 1},
		{name: "geneve version 1", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(50123, portGeneve, withByte(geneve(etherTypeIPv4, 0, v4), 0, 0x40)))), wantErr: ErrNotTCP},
		{name: "geneve options cut", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(50123, portGeneve, geneve(etherTypeIPv4, 4, nil)[:16]))), wantErr: ErrNotTCP},
		{name: "gtp-u", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portGTPU, portGTPU, gtpu(0xff, false, v4)))), payload: pl, plen: n, encap: 1},
		{name: "gtp-u extension header", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portGTPU, portGTPU, gtpu(0xff, true, v6)))), v6: true, payload: pl, plen: n, encap: 1},
		{name: "gtp-u sequence number only", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portGTPU, portGTPU, append([]byte{0x32, 0xff, 0, 0, 1, 2, 3, 4, 0, 9, 0, 0}, v4...)))), payload: pl, plen: n, encap: 1},
		{name: "gtp-u echo request", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portGTPU, portGTPU, gtpu(1, false, nil)))), wantErr: ErrNotTCP},
		{name: "gtp prime", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portGTPU, portGTPU, withByte(gtpu(0xff, false, v4), 0, 0x20)))), wantErr: ErrNotTCP},
		{name: "gtp-u extension of length 0", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portGTPU, portGTPU, withByte(gtpu(0xff, true, v4), 12, 0)))), wantErr: ErrNotTCP},
		{name: "gtp-u extension cut", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portGTPU, portGTPU, gtpu(0xff, true, nil)[:14]))), wantErr: ErrNotTCP},
		{name: "udp other port", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(5353, 53, eth4))), wantErr: ErrNotTCP},
		{name: "udp from the vxlan port is not vxlan", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portVXLAN, 53, vxlan(0x08, eth4)))), wantErr: ErrNotTCP},
		{name: "gtp-u answer from its port", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(portGTPU, 40000, gtpu(0xff, false, v4)))), payload: pl, plen: n, encap: 1},
		{name: "vxlan-gpe version 1", link: source.LinkEthernet, data: eth(outer4(protoUDP, udp(40000, portVXLANGPE, withByte(gpe(1, v4), 0, 0x1c)))), wantErr: ErrNotTCP},
		{name: "ethernet with the bridging ethertype", link: source.LinkEthernet, data: ether(etherTypeTEB, nil, eth4), wantErr: ErrNotTCP},
		{name: "udp header cut", link: source.LinkEthernet, data: eth(outer4(protoUDP, []byte{0x12, 0xb5, 0x12})), wantErr: ErrNotTCP},

		// MPLS and PPPoE.
		{name: "mpls ipv4", link: source.LinkEthernet, data: ether(etherTypeMPLS, nil, mpls(1, v4)), payload: pl, plen: n, encap: 1},
		{name: "mpls three labels ipv6", link: source.LinkEthernet, data: ether(etherTypeMPLSMC, []uint16{etherTypeVLAN}, mpls(3, v6)), v6: true, payload: pl, plen: n, encap: 1},
		{name: "mpls ethernet pseudowire", link: source.LinkEthernet, data: ether(etherTypeMPLS, nil, mpls(2, append([]byte{0, 0, 0, 1}, eth4...))), payload: pl, plen: n, encap: 1},
		{name: "mpls stack cut", link: source.LinkEthernet, data: ether(etherTypeMPLS, nil, mpls(2, nil)[:6]), wantErr: ErrMalformed},
		{name: "mpls unknown payload", link: source.LinkEthernet, data: ether(etherTypeMPLS, nil, mpls(1, []byte{0x91, 2, 3})), wantErr: ErrNotTCP},
		{name: "pppoe ipv4", link: source.LinkEthernet, data: ether(etherTypePPPoE, nil, pppoe(0x0021, v4)), payload: pl, plen: n, encap: 1},
		{name: "pppoe ipv6 padded", link: source.LinkEthernet, data: pad(ether(etherTypePPPoE, nil, pppoe(0x0057, v6)), 6), v6: true, payload: pl, plen: n, encap: 1},
		{name: "pppoe compressed protocol", link: source.LinkEthernet, data: ether(etherTypePPPoE, nil, append([]byte{0x11, 0, 0, 1, 0, byte(1 + len(v4)), 0x21}, v4...)), payload: pl, plen: n, encap: 1},
		{name: "pppoe lcp", link: source.LinkEthernet, data: ether(etherTypePPPoE, nil, pppoe(0xc021, make([]byte, 10))), wantErr: ErrNotTCP},
		{name: "pppoe length zero", link: source.LinkEthernet, data: ether(etherTypePPPoE, nil, withByte(pppoe(0x0021, v4), 5, 0)), wantErr: ErrMalformed},
		{name: "pppoe cut", link: source.LinkEthernet, data: ether(etherTypePPPoE, nil, []byte{0x11, 0, 0, 1, 0}), wantErr: ErrMalformed},

		// Nested: TCP in IPv6 in GRE in VXLAN over a tagged link.
		{name: "gre in vxlan", link: source.LinkEthernet, data: ether(etherTypeIPv4, []uint16{etherTypeVLAN}, outer4(protoUDP, udp(51000, portVXLAN, vxlan(0x08, eth(outer4(protoGRE, gre(0, etherTypeIPv6, v6))))))), v6: true, payload: pl, plen: n, encap: 2},
		{name: "sll vxlan", link: source.LinkSLL, data: sll(1, etherTypeIPv4, outer4(protoUDP, udp(51000, portVXLAN, vxlan(0x08, eth4)))), payload: pl, plen: n, encap: 1},
	}
}

// TestTunnelKinds checks the outermost encapsulation Decode reports, and
// its identifier (-1: none).
func TestTunnelKinds(t *testing.T) {
	type kind struct {
		t  Tunnel
		id int64
	}
	want := map[string]kind{
		"ipip": {TunnelIPIP, -1}, "6in4": {TunnelIPIP, -1}, "gre ipv4": {TunnelGRE, -1},
		"gre over ipv6": {TunnelGRE, 0x1001}, "gre mpls": {TunnelGRE, -1},
		"erspan type II": {TunnelERSPAN, 42}, "erspan type III": {TunnelERSPAN, 42}, "vxlan": {TunnelVXLAN, 0x1001},
		"vxlan-gpe ipv6": {TunnelVXLANGPE, 42}, "geneve ipv6": {TunnelGeneve, 0x1234}, "gtp-u": {TunnelGTPU, 0xdeadbeef},
		"mpls ipv4": {TunnelMPLS, 16}, "pppoe ipv4": {TunnelPPPoE, 0x1234}, "gre in vxlan": {TunnelVXLAN, 0x1001},
		"pppoe link": {TunnelPPPoE, 1},
	}
	for _, tc := range decodeCases() {
		w, ok := want[tc.name]
		if !ok {
			continue
		}
		delete(want, tc.name)
		var seg Segment
		id := int64(-1)
		err := Decode(tc.link, tc.data, &seg)
		if seg.HasTunnelID {
			id = int64(seg.TunnelID)
		}
		if err != nil || seg.Tunnel != w.t || id != w.id {
			t.Errorf("%s: tunnel %v %s %d (%v), want %v %d", tc.name, seg.Tunnel, seg.Tunnel.IDName(), id, err, w.t, w.id)
		}
	}
	for name := range want {
		t.Errorf("no case %q", name)
	}
}
