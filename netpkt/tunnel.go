package netpkt

import "encoding/binary"

// Tunnels and other encapsulations that Decode looks inside. Traffic
// mirrored from clouds and switches (AWS VPC Traffic Mirroring and
// Kubernetes overlays use VXLAN, Google Cloud and OVN Geneve, Cisco and
// Arista ERSPAN over GRE), captured on a mobile core (GTP-U) or on a DSL or
// carrier link (PPPoE, MPLS) carries its TCP segments one or more headers
// deeper than a host's own capture; tshark and Zeek decode all of these.
const (
	// maxEncap bounds how deep Decode follows nested encapsulations, so a
	// crafted packet cannot make it recurse for long.
	maxEncap = 8

	protoIPIP      = 4  // IPv4 in IP (RFC 2003)
	protoIPv6Encap = 41 // IPv6 in IP (RFC 2473, 6in4)
	protoGRE       = 47
	protoUDP       = 17

	etherTypeTEB     = 0x6558 // transparent Ethernet bridging: Ethernet in GRE or Geneve
	etherTypeERSPAN2 = 0x88be // ERSPAN type I (no GRE sequence number) and II
	etherTypeERSPAN3 = 0x22eb
	etherTypeMPLS    = 0x8847
	etherTypeMPLSMC  = 0x8848 // MPLS multicast
	etherTypePPPoE   = 0x8864 // PPPoE session stage

	portVXLAN      = 4789 // IANA
	portVXLANLinux = 8472 // the Linux kernel's default, used by flannel
	portVXLANGPE   = 4790
	portGeneve     = 6081
	portGTPU       = 2152

	udpLen    = 8
	greMinLen = 4
	vxlanLen  = 8
	geneveLen = 8
	gtpMinLen = 8
	mplsLen   = 4
	pppoeLen  = 6
)

// deeper returns the nesting depth one encapsulation further in, or an error
// past maxEncap.
func deeper(enc int) (int, error) {
	if enc >= maxEncap {
		return 0, malEncapDepth
	}
	return enc + 1, nil
}

// decodeInner dispatches on an IP protocol number other than TCP: IP in IP,
// GRE and UDP tunnels are opened, anything else is not TCP.
func decodeInner(proto byte, data []byte, d *decoder, enc int) error {
	switch proto {
	case protoIPIP, protoIPv6Encap, protoGRE:
	case protoUDP:
		return decodeUDP(data, d, enc)
	default:
		return ErrNotTCP
	}
	enc, err := deeper(enc)
	if err != nil {
		return err
	}
	switch proto {
	case protoIPIP:
		d.enter(TunnelIPIP)
		return decodeIPv4(data, d, enc)
	case protoIPv6Encap:
		d.enter(TunnelIPIP)
		return decodeIPv6(data, d, enc)
	}
	d.enter(TunnelGRE)
	return decodeGRE(data, d, enc)
}

// decodeEtherTunnel dispatches on an ethertype other than IP: MPLS and
// PPPoE are opened, anything else is not TCP.
func decodeEtherTunnel(etherType uint16, data []byte, d *decoder, enc int) error {
	switch etherType {
	case etherTypeMPLS, etherTypeMPLSMC, etherTypePPPoE:
	default:
		return ErrNotTCP
	}
	enc, err := deeper(enc)
	if err != nil {
		return err
	}
	if etherType == etherTypePPPoE {
		d.enter(TunnelPPPoE)
		return decodePPPoE(data, d, enc)
	}
	d.enter(TunnelMPLS)
	return decodeMPLS(data, d, enc)
}

// decodeTunnelPayload decodes what a GRE or Geneve header carries, named by
// an ethertype: Ethernet (bridged, 0x6558) or what decodeEtherType takes.
func decodeTunnelPayload(etherType uint16, data []byte, d *decoder, enc int) error {
	if etherType == etherTypeTEB {
		return decodeEthernet(data, d, enc)
	}
	return decodeEtherType(etherType, data, d, enc)
}

// decodeIPAny decodes an IP packet whose version its first nibble gives
// (the payload of MPLS, GTP-U, ERSPAN type III); other payloads are not TCP.
func decodeIPAny(data []byte, d *decoder, enc int) error {
	if len(data) > 0 {
		switch data[0] >> 4 {
		case 4:
			return decodeIPv4(data, d, enc)
		case 6:
			return decodeIPv6(data, d, enc)
		}
	}
	return ErrNotTCP
}

// decodeGRE opens a GRE header (RFC 2784, with RFC 2890's key and sequence
// number) and what it carries: IP, Ethernet, MPLS, or a mirrored frame with
// its ERSPAN header. Version 1 (PPTP's enhanced GRE, carrying PPP) and
// RFC 1701 source routing are not decoded.
func decodeGRE(data []byte, d *decoder, enc int) error {
	if len(data) < greMinLen {
		return malGREShort
	}
	const (
		flagChecksum = 0x80
		flagRouting  = 0x40
		flagKey      = 0x20
		flagSeq      = 0x10
	)
	flags := data[0]
	if data[1]&0x07 != 0 || flags&flagRouting != 0 {
		return ErrNotTCP
	}
	hl := greMinLen
	if flags&flagChecksum != 0 {
		hl += 4
	}
	if flags&flagKey != 0 {
		hl += 4
	}
	if flags&flagSeq != 0 {
		hl += 4
	}
	if len(data) < hl {
		return malGREShort
	}
	proto := binary.BigEndian.Uint16(data[2:4])
	key := data[greMinLen:hl]
	if flags&flagChecksum != 0 {
		key = key[4:]
	}
	data = data[hl:]
	switch proto {
	case etherTypeERSPAN2, etherTypeERSPAN3:
		if d.tunnel == TunnelGRE && enc == 1 {
			d.tunnel = TunnelERSPAN // GRE is only its carrier
		}
	default:
		if flags&flagKey != 0 {
			d.setID(TunnelGRE, binary.BigEndian.Uint32(key))
		}
	}
	switch proto {
	case etherTypeERSPAN2:
		// Type II has an 8-byte header and a GRE sequence number; type I
		// has neither, the mirrored frame follows GRE.
		if flags&flagSeq != 0 {
			if len(data) < 8 {
				return malERSPANShort
			}
			d.setID(TunnelERSPAN, uint32(binary.BigEndian.Uint16(data[2:4])&0x3ff))
			data = data[8:]
		}
		return decodeEthernet(data, d, enc)
	case etherTypeERSPAN3:
		return decodeERSPAN3(data, d, enc)
	}
	return decodeTunnelPayload(proto, data, d, enc)
}

// decodeERSPAN3 skips an ERSPAN type III header (12 bytes, and an 8-byte
// platform-specific subheader when its O bit is set) and decodes the
// mirrored Ethernet frame or IP packet its frame type names.
func decodeERSPAN3(data []byte, d *decoder, enc int) error {
	const hl, subLen = 12, 8
	if len(data) < hl {
		return malERSPANShort
	}
	word := binary.BigEndian.Uint16(data[10:12])
	frameType := word >> 10 & 0x1f
	n := hl
	if word&1 != 0 {
		n += subLen
	}
	if len(data) < n {
		return malERSPANShort
	}
	d.setID(TunnelERSPAN, uint32(binary.BigEndian.Uint16(data[2:4])&0x3ff))
	switch frameType {
	case 0:
		return decodeEthernet(data[n:], d, enc)
	case 2:
		return decodeIPAny(data[n:], d, enc)
	}
	return ErrNotTCP
}

// decodeUDP opens the UDP tunnels by their well-known destination port
// (VXLAN, VXLAN-GPE, Geneve, GTP-U), or source port for the two whose
// answers come from it (VXLAN-GPE, GTP-U); other UDP is not TCP. A port is
// only a hint: a datagram whose tunnel header does not parse (cut short,
// an unknown version, no VNI) is not TCP either, never malformed.
func decodeUDP(data []byte, d *decoder, enc int) error {
	if len(data) < udpLen {
		return ErrNotTCP
	}
	port := binary.BigEndian.Uint16(data[2:4]) // destination
	if !tunnelPort(port) {
		port = binary.BigEndian.Uint16(data[0:2]) // source
		if port != portVXLANGPE && port != portGTPU {
			return ErrNotTCP
		}
	}
	if n := int(binary.BigEndian.Uint16(data[4:6])); n >= udpLen && n < len(data) {
		data = data[:n] // the IP length may include padding; the UDP length does not
	}
	data = data[udpLen:]
	enc, err := deeper(enc)
	if err != nil {
		return err
	}
	switch port {
	case portVXLAN, portVXLANLinux:
		d.enter(TunnelVXLAN)
		return decodeVXLAN(data, d, enc)
	case portVXLANGPE:
		d.enter(TunnelVXLANGPE)
		return decodeVXLANGPE(data, d, enc)
	case portGeneve:
		d.enter(TunnelGeneve)
		return decodeGeneve(data, d, enc)
	}
	d.enter(TunnelGTPU)
	return decodeGTPU(data, d, enc)
}

// tunnelPort reports whether port is one decodeUDP opens.
func tunnelPort(port uint16) bool {
	switch port {
	case portVXLAN, portVXLANLinux, portVXLANGPE, portGeneve, portGTPU:
		return true
	}
	return false
}

// decodeVXLAN opens a VXLAN header (RFC 7348) and the Ethernet frame it
// carries. A header without its I flag (valid VNI) is not VXLAN.
func decodeVXLAN(data []byte, d *decoder, enc int) error {
	if len(data) < vxlanLen || data[0]&0x08 == 0 {
		return ErrNotTCP // cut short, or no VNI
	}
	d.setID(TunnelVXLAN, vni(data[4:7]))
	return decodeEthernet(data[vxlanLen:], d, enc)
}

// vni returns the 24-bit network identifier at b[0:3] (VXLAN, Geneve).
func vni(b []byte) uint32 {
	return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
}

// decodeVXLANGPE opens a VXLAN Generic Protocol Extension header: with its
// P flag, its next-protocol byte says IPv4, IPv6, Ethernet or MPLS follows;
// without it, Ethernet does.
func decodeVXLANGPE(data []byte, d *decoder, enc int) error {
	if len(data) < vxlanLen || data[0]&0x30 != 0 {
		return ErrNotTCP // cut short, or a version after 0
	}
	d.setID(TunnelVXLANGPE, vni(data[4:7]))
	inner := data[vxlanLen:]
	if data[0]&0x04 == 0 {
		return decodeEthernet(inner, d, enc)
	}
	switch data[3] {
	case 1:
		return decodeIPv4(inner, d, enc)
	case 2:
		return decodeIPv6(inner, d, enc)
	case 3:
		return decodeEthernet(inner, d, enc)
	case 5:
		return decodeMPLS(inner, d, enc)
	}
	return ErrNotTCP
}

// decodeGeneve opens a Geneve header (RFC 8926) and its options; its
// protocol type is an ethertype (Ethernet is 0x6558).
func decodeGeneve(data []byte, d *decoder, enc int) error {
	if len(data) < geneveLen || data[0]>>6 != 0 {
		return ErrNotTCP // cut short, or a version after 0
	}
	hl := geneveLen + int(data[0]&0x3f)*4
	if len(data) < hl {
		return ErrNotTCP
	}
	d.setID(TunnelGeneve, vni(data[4:7]))
	return decodeTunnelPayload(binary.BigEndian.Uint16(data[2:4]), data[hl:], d, enc)
}

// decodeGTPU opens a GTPv1-U header (3GPP TS 29.281) and its extension
// headers, and the IP packet of a G-PDU. Other GTP-U messages (echo, error
// indication, end marker) and GTP' are not TCP.
func decodeGTPU(data []byte, d *decoder, enc int) error {
	if len(data) < gtpMinLen {
		return ErrNotTCP
	}
	const (
		flagPT  = 0x10 // GTP rather than GTP'
		flagExt = 0x04 // extension headers follow
		flagAny = 0x07 // E, S or PN: the optional 4-byte fields are present
		msgGPDU = 0xff
	)
	if data[0]>>5 != 1 || data[0]&flagPT == 0 || data[1] != msgGPDU {
		return ErrNotTCP
	}
	d.setID(TunnelGTPU, binary.BigEndian.Uint32(data[4:8]))
	hl := gtpMinLen
	if data[0]&flagAny != 0 {
		hl += 4
		if len(data) < hl {
			return ErrNotTCP
		}
		// Each extension header is a multiple of 4 bytes long, its length
		// (in 4-byte units) first and the type of the next one last, so the
		// loop ends with the data.
		for next := data[hl-1]; data[0]&flagExt != 0 && next != 0; {
			if len(data) <= hl || data[hl] == 0 {
				return ErrNotTCP
			}
			n := int(data[hl]) * 4
			if len(data) < hl+n {
				return ErrNotTCP
			}
			next = data[hl+n-1]
			hl += n
		}
	}
	return decodeIPAny(data[hl:], d, enc)
}

// decodeMPLS skips an MPLS label stack (RFC 3032) and decodes what follows:
// an IP packet, or an Ethernet pseudowire after its control word (RFC 4448:
// a first nibble of 0). MPLS does not name its payload; these are the
// payloads tshark guesses by default.
func decodeMPLS(data []byte, d *decoder, enc int) error {
	if len(data) >= mplsLen {
		d.setID(TunnelMPLS, binary.BigEndian.Uint32(data[:4])>>12)
	}
	for {
		if len(data) < mplsLen {
			return malMPLSShort
		}
		bottom := data[2]&0x01 != 0
		data = data[mplsLen:]
		if bottom {
			break
		}
	}
	if len(data) > 0 && data[0]>>4 == 0 {
		if len(data) < 4 {
			return malMPLSShort
		}
		return decodeEthernet(data[4:], d, enc)
	}
	return decodeIPAny(data, d, enc)
}

// decodePPPoE opens a PPPoE session header (RFC 2516) and the PPP protocol
// field after it, decoding IPv4 and IPv6; other PPP protocols (LCP, IPCP...)
// and discovery packets (a code other than 0, on links that carry both
// stages) are not TCP.
func decodePPPoE(data []byte, d *decoder, enc int) error {
	if len(data) >= 2 && data[1] != 0 {
		return ErrNotTCP
	}
	if len(data) < pppoeLen+1 {
		return malPPPoEShort
	}
	if n := int(binary.BigEndian.Uint16(data[4:6])); pppoeLen+n < len(data) {
		data = data[:pppoeLen+n] // drop Ethernet padding
	}
	d.setID(TunnelPPPoE, uint32(binary.BigEndian.Uint16(data[2:4])))
	return decodePPPProtocol(data[pppoeLen:], d, enc)
}
