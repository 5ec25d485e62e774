// Package netpkt parses link-layer, tunnel, IP and TCP headers of captured
// packets into a reusable TCP segment view without allocating.
package netpkt

import "net/netip"

// TCP header flags, as in the TCP header's flags byte.
const (
	FlagFIN uint8 = 0x01
	FlagSYN uint8 = 0x02
	FlagRST uint8 = 0x04
	FlagPSH uint8 = 0x08
	FlagACK uint8 = 0x10
	FlagURG uint8 = 0x20
	FlagECE uint8 = 0x40
	FlagCWR uint8 = 0x80
)

// Segment is a decoded TCP segment. Payload aliases the packet buffer and is
// only valid until the buffer is reused.
type Segment struct {
	// Src and Dst are the IP addresses (IPv4 addresses are plain 4-byte
	// addresses, never IPv4-mapped IPv6).
	Src, Dst netip.Addr
	// SrcPort and DstPort are the TCP ports.
	SrcPort, DstPort uint16
	// Seq and Ack are the raw sequence and acknowledgement numbers.
	Seq, Ack uint32
	// Flags holds the TCP flag bits (FlagFIN ...).
	Flags uint8
	// Window is the raw window field.
	Window uint16
	// WScale is a SYN's window scale option (RFC 7323) plus one: 1 for a
	// shift of 0 up to 15 for 14 (larger shifts are taken as 14); 0 when the
	// segment is not a SYN or has no such option.
	WScale uint8
	// Payload is the TCP payload present in the capture, without link-layer
	// padding (trimmed using the IP length fields).
	Payload []byte
	// PayloadLen is the payload length the IP header claims. It is larger than
	// len(Payload) when the capture was cut short by a snap length.
	PayloadLen int
	// Encap is how deep the segment was nested in tunnels and other
	// encapsulations (IP in IP, GRE, ERSPAN, VXLAN, Geneve, GTP-U, MPLS,
	// PPPoE) that Decode removed: 0 for a segment carried directly by the
	// link layer's IP.
	Encap uint8
	// Tunnel is the outermost of those encapsulations, TunnelNone when
	// Encap is 0; TunnelID is its identifier when HasTunnelID (see
	// Tunnel.IDName).
	Tunnel      Tunnel
	HasTunnelID bool
	TunnelID    uint32
}

// Tunnel names an encapsulation Decode removed.
type Tunnel uint8

// Encapsulations (see tunnel.go).
const (
	TunnelNone Tunnel = iota
	TunnelIPIP
	TunnelGRE
	TunnelERSPAN
	TunnelVXLAN
	TunnelVXLANGPE
	TunnelGeneve
	TunnelGTPU
	TunnelMPLS
	TunnelPPPoE
)

// tunnelNames are the names of the Tunnel values.
var tunnelNames = [...]string{
	TunnelNone: "", TunnelIPIP: "ip-in-ip", TunnelGRE: "gre", TunnelERSPAN: "erspan",
	TunnelVXLAN: "vxlan", TunnelVXLANGPE: "vxlan-gpe", TunnelGeneve: "geneve", TunnelGTPU: "gtp-u",
	TunnelMPLS: "mpls", TunnelPPPoE: "pppoe",
}

// tunnelIDNames name what identifies a tunnel of each kind.
var tunnelIDNames = [...]string{
	TunnelGRE: "key", TunnelERSPAN: "session", TunnelVXLAN: "VNI", TunnelVXLANGPE: "VNI",
	TunnelGeneve: "VNI", TunnelGTPU: "TEID", TunnelMPLS: "label", TunnelPPPoE: "session",
}

// IDName returns what identifies a tunnel of kind t (Segment.TunnelID):
// the VNI of VXLAN, VXLAN-GPE and Geneve, the key of GRE (when it has
// one), the session ID of ERSPAN II/III and PPPoE, the TEID of GTP-U, the
// top label of MPLS; "" for IP in IP, which has none.
func (t Tunnel) IDName() string {
	if int(t) < len(tunnelIDNames) {
		return tunnelIDNames[t]
	}
	return ""
}

// String returns the encapsulation's name ("vxlan"), "" for none.
func (t Tunnel) String() string {
	if int(t) < len(tunnelNames) {
		return tunnelNames[t]
	}
	return "tunnel"
}

// Has reports whether all of the given flag bits are set.
func (s *Segment) Has(flags uint8) bool { return s.Flags&flags == flags }
