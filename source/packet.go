// Package source reads captured packets, in file order, from pcap and pcapng
// files (plain or gzip-compressed, or standard input).
package source

import (
	"errors"
	"time"
)

// LinkType is a pcap LINKTYPE_ value (https://www.tcpdump.org/linktypes.html).
type LinkType uint16

// Link types wsdissect decodes.
const (
	LinkNull      LinkType = 0   // BSD loopback, host-order 4-byte family
	LinkEthernet  LinkType = 1   // Ethernet II, with 802.1Q / QinQ tags
	LinkPPP       LinkType = 9   // PPP, in HDLC-like framing or not
	LinkPPPHDLC   LinkType = 50  // PPP in HDLC-like framing, or Cisco HDLC
	LinkPPPEther  LinkType = 51  // a PPPoE session header without Ethernet
	LinkRaw       LinkType = 101 // raw IPv4 or IPv6
	LinkIEEE80211 LinkType = 105 // IEEE 802.11 frames without a radio header
	LinkCHDLC     LinkType = 104 // Cisco HDLC
	LinkLoop      LinkType = 108 // OpenBSD loopback, network-order family
	LinkSLL       LinkType = 113 // Linux cooked capture v1
	LinkRadiotap  LinkType = 127 // IEEE 802.11 frames after a radiotap header
	LinkPPI       LinkType = 192 // Per-Packet Information header, then 802.11 or Ethernet
	LinkIPv4      LinkType = 228 // raw IPv4
	LinkNFLOG     LinkType = 239 // Linux netfilter log (tcpdump -i nflog:N)
	LinkIPv6      LinkType = 229 // raw IPv6
	LinkSLL2      LinkType = 276 // Linux cooked capture v2
)

// Packet is one captured packet. Data aliases the reader's buffer and is only
// valid until the next call to Next.
type Packet struct {
	// Number is the packet's position in the input, from 1, like Wireshark's
	// frame.number.
	Number uint64
	// Time is the capture timestamp.
	Time time.Time
	// LinkType is the link type of the interface the packet was captured on.
	LinkType LinkType
	// Data holds the captured bytes.
	Data []byte
	// OrigLen is the packet's length on the wire (>= len(Data)).
	OrigLen int
}

// ErrNotCapture is wrapped by Open's error when the input is neither pcap nor
// pcapng (nor a gzip-compressed one).
var ErrNotCapture = errors.New("not a pcap or pcapng capture")

// ErrDamaged is wrapped by Next's error when the input is truncated or
// corrupt after some packets were read successfully.
var ErrDamaged = errors.New("capture damaged or truncated")
