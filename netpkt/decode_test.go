package netpkt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/wsdissect/wsdissect/source"
)

// Test addresses and ports.
var (
	v4Src = netip.MustParseAddr("192.0.2.1")
	v4Dst = netip.MustParseAddr("198.51.100.2")
	v6Src = netip.MustParseAddr("2001:db8::1")
	v6Dst = netip.MustParseAddr("2001:db8::2")
)

const (
	srcPort = 49152
	dstPort = 80
	seqNum  = 0x01020304
	ackNum  = 0xa0b0c0d0
	window  = 0xfaf0
	flags   = FlagPSH | FlagACK
)

// tcpHdr builds a TCP header with optLen bytes of options (a multiple of 4)
// followed by payload.
func tcpHdr(optLen int, payload []byte) []byte {
	h := make([]byte, 20+optLen, 20+optLen+len(payload))
	binary.BigEndian.PutUint16(h[0:], srcPort)
	binary.BigEndian.PutUint16(h[2:], dstPort)
	binary.BigEndian.PutUint32(h[4:], seqNum)
	binary.BigEndian.PutUint32(h[8:], ackNum)
	h[12] = byte((20+optLen)/4) << 4
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], window)
	for i := 20; i < 20+optLen; i++ {
		h[i] = 1 // NOP
	}
	return append(h, payload...)
}

// ipv4Pkt wraps body in an IPv4 header with optLen bytes of options.
func ipv4Pkt(proto byte, optLen int, frag uint16, body []byte) []byte {
	hl := 20 + optLen
	h := make([]byte, hl, hl+len(body))
	h[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(h[2:], uint16(hl+len(body)))
	binary.BigEndian.PutUint16(h[6:], frag)
	h[8] = 64
	h[9] = proto
	a, b := v4Src.As4(), v4Dst.As4()
	copy(h[12:], a[:])
	copy(h[16:], b[:])
	return append(h, body...)
}

// ext is an IPv6 extension header: its protocol number and raw bytes (the
// first byte, next header, is filled in by ipv6Pkt).
type ext struct {
	proto byte
	raw   []byte
}

// optsExt builds a hop-by-hop/routing/destination options style header of
// 8*(n+1) bytes.
func optsExt(proto byte, n int) ext {
	raw := make([]byte, 8*(n+1))
	raw[1] = byte(n)
	raw[2] = 1 // PadN
	raw[3] = byte(len(raw) - 4)
	return ext{proto, raw}
}

// fragExt builds a fragment header.
func fragExt(offset uint16, more bool) ext {
	raw := make([]byte, 8)
	v := offset << 3
	if more {
		v |= 1
	}
	binary.BigEndian.PutUint16(raw[2:], v)
	binary.BigEndian.PutUint32(raw[4:], 0xdeadbeef)
	return ext{protoFragment, raw}
}

// ahExt builds an authentication header with n 4-byte words of ICV after the
// 12 fixed bytes.
func ahExt(n int) ext {
	raw := make([]byte, 12+4*n)
	raw[1] = byte(len(raw)/4 - 2)
	return ext{protoAH, raw}
}

// ipv6Pkt wraps body (of protocol proto) in an IPv6 header and exts.
func ipv6Pkt(proto byte, exts []ext, body []byte) []byte {
	var payload []byte
	for i, e := range exts {
		raw := append([]byte(nil), e.raw...)
		if i+1 < len(exts) {
			raw[0] = exts[i+1].proto
		} else {
			raw[0] = proto
		}
		payload = append(payload, raw...)
	}
	payload = append(payload, body...)
	h := make([]byte, 40, 40+len(payload))
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	if len(exts) > 0 {
		h[6] = exts[0].proto
	} else {
		h[6] = proto
	}
	h[7] = 64
	a, b := v6Src.As16(), v6Dst.As16()
	copy(h[8:], a[:])
	copy(h[24:], b[:])
	return append(h, payload...)
}

// ether wraps an IP packet in an Ethernet header with the given tag
// ethertypes (outermost first).
func ether(etherType uint16, tags []uint16, body []byte) []byte {
	h := make([]byte, 12, 14+4*len(tags)+len(body))
	for i := range h {
		h[i] = byte(i + 1)
	}
	for i, t := range tags {
		h = binary.BigEndian.AppendUint16(h, t)
		h = binary.BigEndian.AppendUint16(h, uint16(100+i)) // TCI: VLAN id
	}
	h = binary.BigEndian.AppendUint16(h, etherType)
	return append(h, body...)
}

// sll wraps body in a Linux cooked v1 header.
func sll(arphrd, proto uint16, body []byte) []byte {
	h := make([]byte, 16, 16+len(body))
	binary.BigEndian.PutUint16(h[0:], 4) // outgoing
	binary.BigEndian.PutUint16(h[2:], arphrd)
	binary.BigEndian.PutUint16(h[4:], 6)
	copy(h[6:], []byte{1, 2, 3, 4, 5, 6})
	binary.BigEndian.PutUint16(h[14:], proto)
	return append(h, body...)
}

// sll2 wraps body in a Linux cooked v2 header.
func sll2(arphrd, proto uint16, body []byte) []byte {
	h := make([]byte, 20, 20+len(body))
	binary.BigEndian.PutUint16(h[0:], proto)
	binary.BigEndian.PutUint32(h[4:], 3) // interface index
	binary.BigEndian.PutUint16(h[8:], arphrd)
	h[10] = 0 // to us
	h[11] = 6
	copy(h[12:], []byte{1, 2, 3, 4, 5, 6})
	return append(h, body...)
}

// family prefixes body with a 4-byte address family in the given order.
func family(order binary.AppendByteOrder, fam uint32, body []byte) []byte {
	h := order.AppendUint32(nil, fam)
	return append(h, body...)
}

// cut returns the first n bytes of b (a snaplen cut), or b without its
// last -n bytes when n is negative.
func cut(b []byte, n int) []byte {
	if n < 0 {
		return b[:len(b)+n]
	}
	return b[:n]
}

// pad appends n bytes of link-layer padding.
func pad(b []byte, n int) []byte {
	return append(b, bytes.Repeat([]byte{0xee}, n)...)
}

// withByte returns a copy of b with b[i] = v.
func withByte(b []byte, i int, v byte) []byte {
	c := append([]byte(nil), b...)
	c[i] = v
	return c
}

// decodeCase is one Decode test case.
type decodeCase struct {
	name    string
	link    source.LinkType
	data    []byte
	wantErr error // nil, ErrNotTCP, ErrMalformed or ErrUnsupportedLink
	v6      bool
	payload []byte
	plen    int
	encap   uint8 // Segment.Encap
}

// decodeCases returns the test table, also used to seed the fuzzer.
func decodeCases() []decodeCase {
	pl := []byte("GET / HTTP/1.1\r\n\r\n")
	tcp := tcpHdr(0, pl)
	tcpOpts := tcpHdr(12, pl)
	v4 := ipv4Pkt(protoTCP, 0, 0, tcp)
	v6 := ipv6Pkt(protoTCP, nil, tcp)
	udp4 := ipv4Pkt(17, 0, 0, make([]byte, 16))
	n := len(pl)
	cases := []decodeCase{
		// Link layers.
		{name: "ethernet ipv4", link: source.LinkEthernet, data: ether(etherTypeIPv4, nil, v4), payload: pl, plen: n},
		{name: "ethernet ipv6", link: source.LinkEthernet, data: ether(etherTypeIPv6, nil, v6), v6: true, payload: pl, plen: n},
		{name: "ethernet 802.1Q", link: source.LinkEthernet, data: ether(etherTypeIPv4, []uint16{etherTypeVLAN}, v4), payload: pl, plen: n},
		{name: "ethernet QinQ 88a8", link: source.LinkEthernet, data: ether(etherTypeIPv6, []uint16{etherTypeQinQ, etherTypeVLAN}, v6), v6: true, payload: pl, plen: n},
		{name: "ethernet QinQ 9100 triple", link: source.LinkEthernet, data: ether(etherTypeIPv4, []uint16{etherTypeQinQv1, etherTypeQinQv1, etherTypeVLAN}, v4), payload: pl, plen: n},
		{name: "ethernet ARP", link: source.LinkEthernet, data: ether(0x0806, nil, make([]byte, 28)), wantErr: ErrNotTCP},
		{name: "ethernet 802.3 length", link: source.LinkEthernet, data: ether(46, nil, make([]byte, 46)), wantErr: ErrNotTCP},
		{name: "ethernet VLAN ARP", link: source.LinkEthernet, data: ether(0x0806, []uint16{etherTypeVLAN}, make([]byte, 28)), wantErr: ErrNotTCP},
		{name: "ethernet short", link: source.LinkEthernet, data: make([]byte, 13), wantErr: ErrMalformed},
		{name: "ethernet empty", link: source.LinkEthernet, data: nil, wantErr: ErrMalformed},
		{name: "ethernet VLAN tag cut", link: source.LinkEthernet, data: cut(ether(etherTypeIPv4, []uint16{etherTypeVLAN}, nil), -1), wantErr: ErrMalformed},
		{name: "ethernet padding trimmed", link: source.LinkEthernet, data: pad(ether(etherTypeIPv4, nil, ipv4Pkt(protoTCP, 0, 0, tcpHdr(0, []byte{0x81}))), 5), payload: []byte{0x81}, plen: 1},
		{name: "ethernet empty segment padded", link: source.LinkEthernet, data: pad(ether(etherTypeIPv4, nil, ipv4Pkt(protoTCP, 0, 0, tcpHdr(0, nil))), 6), payload: []byte{}, plen: 0},
		{name: "ethernet ipv6 padding trimmed", link: source.LinkEthernet, data: pad(ether(etherTypeIPv6, nil, ipv6Pkt(protoTCP, nil, tcpHdr(0, []byte{1, 2}))), 4), v6: true, payload: []byte{1, 2}, plen: 2},
		{name: "ethernet FCS trimmed", link: source.LinkEthernet, data: pad(ether(etherTypeIPv4, nil, v4), 4), payload: pl, plen: n},

		{name: "sll ipv4", link: source.LinkSLL, data: sll(1, etherTypeIPv4, v4), payload: pl, plen: n},
		{name: "sll ipv6 loopback arphrd", link: source.LinkSLL, data: sll(772, etherTypeIPv6, v6), v6: true, payload: pl, plen: n},
		{name: "sll ARP", link: source.LinkSLL, data: sll(1, 0x0806, make([]byte, 28)), wantErr: ErrNotTCP},
		{name: "sll netlink", link: source.LinkSLL, data: sll(arphrdNetlink, etherTypeIPv4, v4), wantErr: ErrNotTCP},
		{name: "sll 802.1Q", link: source.LinkSLL, data: sll(1, etherTypeVLAN, append([]byte{0, 5, 0x86, 0xdd}, v6...)), v6: true, payload: pl, plen: n},
		{name: "sll2 802.1Q cut", link: source.LinkSLL2, data: sll2(1, etherTypeVLAN, []byte{0, 5, 0x08}), wantErr: ErrMalformed},
		{name: "sll short", link: source.LinkSLL, data: make([]byte, 15), wantErr: ErrMalformed},
		{name: "sll2 ipv4", link: source.LinkSLL2, data: sll2(1, etherTypeIPv4, v4), payload: pl, plen: n},
		{name: "sll2 ipv6", link: source.LinkSLL2, data: sll2(1, etherTypeIPv6, v6), v6: true, payload: pl, plen: n},
		{name: "sll2 netlink", link: source.LinkSLL2, data: sll2(arphrdNetlink, etherTypeIPv6, v6), wantErr: ErrNotTCP},
		{name: "sll2 LLC", link: source.LinkSLL2, data: sll2(1, 0x0004, make([]byte, 20)), wantErr: ErrNotTCP},
		{name: "sll2 short", link: source.LinkSLL2, data: make([]byte, 19), wantErr: ErrMalformed},

		{name: "null ipv4 little endian", link: source.LinkNull, data: family(binary.LittleEndian, 2, v4), payload: pl, plen: n},
		{name: "null ipv4 big endian", link: source.LinkNull, data: family(binary.BigEndian, 2, v4), payload: pl, plen: n},
		{name: "null ipv6 linux 10", link: source.LinkNull, data: family(binary.LittleEndian, 10, v6), v6: true, payload: pl, plen: n},
		{name: "null ipv6 openbsd 24 big endian", link: source.LinkNull, data: family(binary.BigEndian, 24, v6), v6: true, payload: pl, plen: n},
		{name: "null ipv6 freebsd 28", link: source.LinkNull, data: family(binary.LittleEndian, 28, v6), v6: true, payload: pl, plen: n},
		{name: "null ipv6 darwin 30", link: source.LinkNull, data: family(binary.LittleEndian, 30, v6), v6: true, payload: pl, plen: n},
		{name: "null unknown family", link: source.LinkNull, data: family(binary.LittleEndian, 7, v4), wantErr: ErrNotTCP},
		{name: "null short", link: source.LinkNull, data: []byte{2, 0, 0}, wantErr: ErrMalformed},
		{name: "loop ipv4", link: source.LinkLoop, data: family(binary.BigEndian, 2, v4), payload: pl, plen: n},
		{name: "loop ipv6", link: source.LinkLoop, data: family(binary.BigEndian, 24, v6), v6: true, payload: pl, plen: n},
		{name: "loop host order is not accepted", link: source.LinkLoop, data: family(binary.LittleEndian, 2, v4), wantErr: ErrNotTCP},
		{name: "loop short", link: source.LinkLoop, data: []byte{0, 0}, wantErr: ErrMalformed},

		{name: "raw ipv4", link: source.LinkRaw, data: v4, payload: pl, plen: n},
		{name: "raw ipv6", link: source.LinkRaw, data: v6, v6: true, payload: pl, plen: n},
		{name: "raw 12 ipv4", link: linkRawAlt12, data: v4, payload: pl, plen: n},
		{name: "raw 14 ipv6", link: linkRawAlt14, data: v6, v6: true, payload: pl, plen: n},
		{name: "raw bad version", link: source.LinkRaw, data: withByte(v4, 0, 0x55), wantErr: ErrMalformed},
		{name: "raw empty", link: source.LinkRaw, data: []byte{}, wantErr: ErrMalformed},
		{name: "linktype ipv4", link: source.LinkIPv4, data: v4, payload: pl, plen: n},
		{name: "linktype ipv6", link: source.LinkIPv6, data: v6, v6: true, payload: pl, plen: n},
		{name: "linktype ipv4 given ipv6", link: source.LinkIPv4, data: v6, wantErr: ErrMalformed},
		{name: "linktype ipv6 given ipv4", link: source.LinkIPv6, data: pad(v4, 40), wantErr: ErrMalformed},
		{name: "unsupported link", link: 147, data: v4, wantErr: ErrUnsupportedLink},

		// IPv4.
		{name: "ipv4 options", link: source.LinkRaw, data: ipv4Pkt(protoTCP, 8, 0, tcp), payload: pl, plen: n},
		{name: "ipv4 tcp options", link: source.LinkRaw, data: ipv4Pkt(protoTCP, 0, 0, tcpOpts), payload: pl, plen: n},
		{name: "ipv4 DF set", link: source.LinkRaw, data: ipv4Pkt(protoTCP, 0, 0x4000, tcp), payload: pl, plen: n},
		{name: "ipv4 UDP", link: source.LinkRaw, data: udp4, wantErr: ErrNotTCP},
		{name: "ipv4 ICMP", link: source.LinkRaw, data: ipv4Pkt(1, 0, 0, make([]byte, 8)), wantErr: ErrNotTCP},
		{name: "ipv4 first fragment MF", link: source.LinkRaw, data: ipv4Pkt(protoTCP, 0, ipv4FlagMF, tcp), wantErr: ErrNotTCP},
		{name: "ipv4 last fragment", link: source.LinkRaw, data: ipv4Pkt(protoTCP, 0, 185, tcp), wantErr: ErrNotTCP},
		{name: "ipv4 middle fragment", link: source.LinkRaw, data: ipv4Pkt(protoTCP, 0, ipv4FlagMF|3, tcp), wantErr: ErrNotTCP},
		{name: "ipv4 header cut", link: source.LinkRaw, data: cut(v4, 19), wantErr: ErrMalformed},
		{name: "ipv4 options cut", link: source.LinkRaw, data: cut(ipv4Pkt(protoTCP, 8, 0, tcp), 24), wantErr: ErrMalformed},
		{name: "ipv4 IHL below 5", link: source.LinkRaw, data: withByte(v4, 0, 0x44), wantErr: ErrMalformed},
		{name: "ipv4 total below IHL", link: source.LinkIPv4, data: withByte(withByte(v4, 2, 0), 3, 19), wantErr: ErrMalformed},
		{name: "ipv4 total length zero (TSO)", link: source.LinkRaw, data: withByte(withByte(v4, 2, 0), 3, 0), payload: pl, plen: n},
		{name: "ipv4 ethertype with version 6", link: source.LinkEthernet, data: ether(etherTypeIPv4, nil, v6), wantErr: ErrMalformed},

		// IPv6 and extension headers.
		{name: "ipv6 hop-by-hop", link: source.LinkRaw, data: ipv6Pkt(protoTCP, []ext{optsExt(protoHopByHop, 0)}, tcp), v6: true, payload: pl, plen: n},
		{name: "ipv6 hbh routing destopts", link: source.LinkRaw, data: ipv6Pkt(protoTCP, []ext{optsExt(protoHopByHop, 1), optsExt(protoRouting, 0), optsExt(protoDestOpts, 2)}, tcp), v6: true, payload: pl, plen: n},
		{name: "ipv6 atomic fragment", link: source.LinkRaw, data: ipv6Pkt(protoTCP, []ext{fragExt(0, false)}, tcp), v6: true, payload: pl, plen: n},
		{name: "ipv6 first fragment", link: source.LinkRaw, data: ipv6Pkt(protoTCP, []ext{fragExt(0, true)}, tcp), wantErr: ErrNotTCP},
		{name: "ipv6 last fragment", link: source.LinkRaw, data: ipv6Pkt(protoTCP, []ext{fragExt(100, false)}, tcp), wantErr: ErrNotTCP},
		{name: "ipv6 AH", link: source.LinkRaw, data: ipv6Pkt(protoTCP, []ext{ahExt(3)}, tcp), v6: true, payload: pl, plen: n},
		{name: "ipv6 destopts AH mobility", link: source.LinkRaw, data: ipv6Pkt(protoTCP, []ext{optsExt(protoDestOpts, 0), ahExt(4), optsExt(protoMobility, 1)}, tcp), v6: true, payload: pl, plen: n},
		{name: "ipv6 ESP", link: source.LinkRaw, data: ipv6Pkt(50, nil, make([]byte, 40)), wantErr: ErrNotTCP},
		{name: "ipv6 no next header", link: source.LinkRaw, data: ipv6Pkt(59, []ext{optsExt(protoHopByHop, 0)}, nil), wantErr: ErrNotTCP},
		{name: "ipv6 UDP", link: source.LinkRaw, data: ipv6Pkt(17, nil, make([]byte, 8)), wantErr: ErrNotTCP},
		{name: "ipv6 ICMPv6 after routing", link: source.LinkRaw, data: ipv6Pkt(58, []ext{optsExt(protoRouting, 0)}, make([]byte, 8)), wantErr: ErrNotTCP},
		{name: "ipv6 header cut", link: source.LinkRaw, data: cut(v6, 39), wantErr: ErrMalformed},
		{name: "ipv6 extension cut", link: source.LinkRaw, data: cut(ipv6Pkt(protoTCP, []ext{optsExt(protoHopByHop, 1)}, tcp), 50), wantErr: ErrMalformed},
		{name: "ipv6 extension length cut", link: source.LinkRaw, data: cut(ipv6Pkt(protoTCP, []ext{optsExt(protoHopByHop, 1)}, tcp), 41), wantErr: ErrMalformed},
		{name: "ipv6 extension beyond payload length", link: source.LinkRaw, data: withByte(ipv6Pkt(protoTCP, []ext{optsExt(protoHopByHop, 0)}, tcp), 41, 200), wantErr: ErrMalformed},
		{name: "ipv6 jumbo payload length zero", link: source.LinkRaw, data: withByte(withByte(ipv6Pkt(protoTCP, []ext{optsExt(protoHopByHop, 0)}, tcp), 4, 0), 5, 0), v6: true, payload: pl, plen: n},
		{name: "ipv6 version mismatch", link: source.LinkEthernet, data: ether(etherTypeIPv6, nil, pad(v4, 40)), wantErr: ErrMalformed},

		// TCP.
		{name: "tcp header cut", link: source.LinkRaw, data: cut(v4, 20+19), wantErr: ErrMalformed},
		{name: "tcp options cut", link: source.LinkRaw, data: cut(ipv4Pkt(protoTCP, 0, 0, tcpOpts), 20+24), wantErr: ErrMalformed},
		{name: "tcp data offset below 5", link: source.LinkRaw, data: withByte(v4, 20+12, 0x40), wantErr: ErrMalformed},
		{name: "tcp data offset beyond IP length", link: source.LinkRaw, data: ipv4Pkt(protoTCP, 0, 0, withByte(tcpHdr(0, nil), 12, 0xf0)), wantErr: ErrMalformed},
		{name: "tcp length below 20 per IP", link: source.LinkRaw, data: withByte(v4, 3, 20+10), wantErr: ErrMalformed},
		{name: "snaplen cut payload", link: source.LinkEthernet, data: cut(ether(etherTypeIPv4, nil, v4), 14+20+20+5), payload: pl[:5], plen: n},
		{name: "snaplen cut after tcp header", link: source.LinkEthernet, data: cut(ether(etherTypeIPv6, nil, v6), 14+40+20), v6: true, payload: []byte{}, plen: n},
		{name: "snaplen cut ipv6 with extensions", link: source.LinkRaw, data: cut(ipv6Pkt(protoTCP, []ext{optsExt(protoDestOpts, 0)}, tcp), 40+8+20+3), v6: true, payload: pl[:3], plen: n},
	}
	return append(append(append(cases, tunnelCases(pl)...), wifiCases(pl)...), linkCases(pl)...)
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			sentinel := Segment{SrcPort: 7}
			seg := sentinel
			err := Decode(tc.link, tc.data, &seg)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Decode error = %v, want %v", err, tc.wantErr)
				}
				if seg.SrcPort != sentinel.SrcPort || seg.Payload != nil {
					t.Errorf("seg was modified on error: %+v", seg)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			wantSrc, wantDst := v4Src, v4Dst
			if tc.v6 {
				wantSrc, wantDst = v6Src, v6Dst
			}
			if seg.Src != wantSrc || seg.Dst != wantDst {
				t.Errorf("addresses %v -> %v, want %v -> %v", seg.Src, seg.Dst, wantSrc, wantDst)
			}
			if seg.SrcPort != srcPort || seg.DstPort != dstPort {
				t.Errorf("ports %d -> %d, want %d -> %d", seg.SrcPort, seg.DstPort, srcPort, dstPort)
			}
			if seg.Seq != seqNum || seg.Ack != ackNum || seg.Window != window {
				t.Errorf("seq/ack/window = %#x/%#x/%#x", seg.Seq, seg.Ack, seg.Window)
			}
			if seg.Flags != flags || !seg.Has(FlagACK|FlagPSH) || seg.Has(FlagSYN) {
				t.Errorf("flags = %#x, want %#x", seg.Flags, flags)
			}
			if !bytes.Equal(seg.Payload, tc.payload) {
				t.Errorf("payload = %q, want %q", seg.Payload, tc.payload)
			}
			if seg.PayloadLen != tc.plen {
				t.Errorf("PayloadLen = %d, want %d", seg.PayloadLen, tc.plen)
			}
			if seg.Encap != tc.encap {
				t.Errorf("Encap = %d, want %d", seg.Encap, tc.encap)
			}
			if (seg.Tunnel != TunnelNone) != (tc.encap > 0) {
				t.Errorf("Tunnel = %v with Encap %d", seg.Tunnel, seg.Encap)
			}
		})
	}
}

func TestIPv4AddressesArePlain(t *testing.T) {
	var seg Segment
	if err := Decode(source.LinkRaw, ipv4Pkt(protoTCP, 0, 0, tcpHdr(0, nil)), &seg); err != nil {
		t.Fatal(err)
	}
	if !seg.Src.Is4() || !seg.Dst.Is4() {
		t.Errorf("IPv4 addresses should be 4-byte addresses, got %v %v", seg.Src, seg.Dst)
	}
}

func TestMalformedMessages(t *testing.T) {
	for m := range malformed(len(malformedText)) {
		if malformedText[m] == "" {
			t.Errorf("malformed(%d) has no message", m)
		}
		if !errors.Is(m, ErrMalformed) {
			t.Errorf("malformed(%d) does not wrap ErrMalformed", m)
		}
	}
	if got := malformed(255).Error(); got != ErrMalformed.Error() {
		t.Errorf("out of range message = %q", got)
	}
}

func TestDecodeAllocs(t *testing.T) {
	for _, tc := range decodeCases() {
		var seg Segment
		allocs := testing.AllocsPerRun(100, func() {
			_ = Decode(tc.link, tc.data, &seg)
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Decode, want 0", tc.name, allocs)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	pkts := []struct {
		name string
		link source.LinkType
		data []byte
	}{
		{"ethernet-ipv4", source.LinkEthernet, ether(etherTypeIPv4, nil, ipv4Pkt(protoTCP, 0, 0, tcpHdr(12, make([]byte, 1400))))},
		{"vlan-ipv6-ext", source.LinkEthernet, ether(etherTypeIPv6, []uint16{etherTypeVLAN}, ipv6Pkt(protoTCP, []ext{optsExt(protoHopByHop, 0)}, tcpHdr(12, make([]byte, 1400))))},
		{"sll2-ipv4", source.LinkSLL2, sll2(1, etherTypeIPv4, ipv4Pkt(protoTCP, 0, 0, tcpHdr(0, make([]byte, 100))))},
	}
	for _, p := range pkts {
		b.Run(p.name, func(b *testing.B) {
			var seg Segment
			b.ReportAllocs()
			b.SetBytes(int64(len(p.data)))
			for b.Loop() {
				if err := Decode(p.link, p.data, &seg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases() {
		f.Add(uint16(tc.link), tc.data)
	}
	f.Fuzz(func(t *testing.T, link uint16, data []byte) {
		var seg Segment
		var frag Fragment
		if err := DecodeFragments(source.LinkType(link), data, &seg, &frag); err == ErrFragment {
			if frag.Len < len(frag.Data) || frag.Offset < 0 || !frag.Src.IsValid() || frag.Src.Is4() == frag.V6 {
				t.Fatalf("bad fragment %+v", frag)
			}
			_ = DecodeDatagram(&frag, frag.Data, frag.Len, &seg)
		}
		err := Decode(source.LinkType(link), data, &seg)
		if err != nil {
			if !errors.Is(err, ErrNotTCP) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupportedLink) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if seg.PayloadLen < len(seg.Payload) {
			t.Fatalf("PayloadLen %d < len(Payload) %d", seg.PayloadLen, len(seg.Payload))
		}
		if len(seg.Payload) > 0 {
			// Payload must alias the tail end of the input's captured bytes.
			end := &seg.Payload[len(seg.Payload)-1]
			inside := false
			for i := range data {
				if &data[i] == end {
					inside = true
					break
				}
			}
			if !inside {
				t.Fatal("Payload does not alias the input")
			}
		}
		if !seg.Src.IsValid() || !seg.Dst.IsValid() || seg.Src.Is4() != seg.Dst.Is4() {
			t.Fatalf("bad addresses %v %v", seg.Src, seg.Dst)
		}
	})
}
