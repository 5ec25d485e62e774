package netpkt

import (
	"encoding/binary"

	"github.com/wsdissect/wsdissect/source"
)

// dot11 builds an 802.11 frame of the given frame control and flags bytes
// (QoS fields, the fourth address and HT control added as they say, QoS
// control qos) carrying body behind LLC/SNAP with ethertype et.
func dot11(fc, flags, qos byte, et uint16, body []byte) []byte {
	h := []byte{fc, flags, 0x2c, 0}
	for i := range 18 {
		h = append(h, byte(0x10+i)) // three addresses
	}
	h = append(h, 0x30, 0x01) // sequence control
	if flags&dot11FlagsDS == dot11FlagsDS {
		h = append(h, 1, 2, 3, 4, 5, 6)
	}
	if fc>>4&0x08 != 0 {
		h = append(h, qos, 0)
		if flags&dot11FlagOrder != 0 {
			h = append(h, 0, 0, 0, 0)
		}
	}
	h = append(h, 0xaa, 0xaa, 0x03, 0, 0, 0)
	h = binary.BigEndian.AppendUint16(h, et)
	return append(h, body...)
}

// radiotap prefixes a minimal radiotap header of n bytes (n >= 8).
func radiotap(n int, body []byte) []byte {
	h := make([]byte, n, n+len(body))
	binary.LittleEndian.PutUint16(h[2:], uint16(n))
	return append(h, body...)
}

// radiotapFlagged prefixes a radiotap header with only a Flags field.
func radiotapFlagged(flags byte, body []byte) []byte {
	h := []byte{0, 0, 9, 0, 0x02, 0, 0, 0, flags}
	return append(h, body...)
}

// radiotapTSFT prefixes a radiotap header with TSFT and Flags fields.
func radiotapTSFT(flags byte, body []byte) []byte {
	h := []byte{0, 0, 17, 0, 0x03, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, flags}
	return append(h, body...)
}

// radiotapExt prefixes a radiotap header with two presence words (the
// second for vendor fields) and a Flags field saying nothing special.
func radiotapExt(body []byte) []byte {
	h := []byte{0, 0, 13, 0, 0x02, 0, 0, 0x80, 0, 0, 0, 0, 0x00}
	return append(h, body...)
}

// padded inserts n zero bytes at offset at of b (radiotap's data pad).
func padded(b []byte, at, n int) []byte {
	out := append([]byte(nil), b[:at]...)
	out = append(out, make([]byte, n)...)
	return append(out, b[at:]...)
}

// ppi prefixes a PPI header for data link type dlt.
func ppi(dlt uint32, body []byte) []byte {
	h := []byte{0, 0, 8, 0}
	h = binary.LittleEndian.AppendUint32(h, dlt)
	return append(h, body...)
}

// wifiCases are the Decode cases of 802.11 captures; pl is the TCP
// payload of the inner packets.
func wifiCases(pl []byte) []decodeCase {
	n := len(pl)
	v4 := ipv4Pkt(protoTCP, 0, 0, tcpHdr(0, pl))
	v6 := ipv6Pkt(protoTCP, nil, tcpHdr(0, pl))
	const (
		data    = 0x08 // type data, subtype 0
		qosData = 0x88 // type data, subtype 8
		null    = 0x48 // type data, subtype 4
		beacon  = 0x80 // type management, subtype 8
		toDS    = 0x01
	)
	return []decodeCase{
		{name: "802.11 data", link: source.LinkIEEE80211, data: dot11(data, toDS, 0, etherTypeIPv4, v4), payload: pl, plen: n},
		{name: "radiotap qos data", link: source.LinkRadiotap, data: radiotap(18, dot11(qosData, toDS, 0, etherTypeIPv6, v6)), v6: true, payload: pl, plen: n},
		{name: "radiotap four addresses, HT control, FCS", link: source.LinkRadiotap, data: pad(radiotap(8, dot11(qosData, dot11FlagsDS|dot11FlagOrder, 5, etherTypeIPv4, v4)), 4), payload: pl, plen: n},
		{name: "radiotap data pad", link: source.LinkRadiotap, data: radiotapFlagged(0x20, padded(dot11(qosData, toDS, 0, etherTypeIPv4, v4), 26, 2)), payload: pl, plen: n},
		{name: "radiotap tsft, flags, FCS", link: source.LinkRadiotap, data: pad(radiotapTSFT(0x10, dot11(data, toDS, 0, etherTypeIPv4, v4)), 4), payload: pl, plen: n},
		{name: "radiotap bad FCS", link: source.LinkRadiotap, data: radiotapTSFT(0x40, dot11(data, toDS, 0, etherTypeIPv4, v4)), wantErr: ErrNotTCP},
		{name: "radiotap extended presence", link: source.LinkRadiotap, data: radiotapExt(dot11(data, toDS, 0, etherTypeIPv4, v4)), payload: pl, plen: n},
		{name: "ppi 802.11", link: source.LinkPPI, data: ppi(105, dot11(data, 0x02, 0, etherTypeIPv4, v4)), payload: pl, plen: n},
		{name: "ppi ethernet", link: source.LinkPPI, data: ppi(1, ether(etherTypeIPv4, nil, v4)), payload: pl, plen: n},
		{name: "ppi other", link: source.LinkPPI, data: ppi(127, v4), wantErr: ErrUnsupportedLink},
		{name: "802.11 protected", link: source.LinkIEEE80211, data: dot11(data, toDS|dot11FlagProtect, 0, etherTypeIPv4, v4), wantErr: ErrNotTCP},
		{name: "802.11 a-msdu", link: source.LinkIEEE80211, data: dot11(qosData, toDS, 0x80, etherTypeIPv4, v4), wantErr: ErrNotTCP},
		{name: "802.11 null data", link: source.LinkIEEE80211, data: dot11(null, toDS, 0, etherTypeIPv4, v4), wantErr: ErrNotTCP},
		{name: "802.11 beacon", link: source.LinkIEEE80211, data: dot11(beacon, 0, 0, etherTypeIPv4, v4), wantErr: ErrNotTCP},
		{name: "802.11 ARP", link: source.LinkIEEE80211, data: dot11(data, toDS, 0, 0x0806, make([]byte, 28)), wantErr: ErrNotTCP},
		{name: "802.11 not SNAP", link: source.LinkIEEE80211, data: withByte(dot11(data, toDS, 0, etherTypeIPv4, v4), 24, 0x42), wantErr: ErrNotTCP},
		{name: "802.11 cut", link: source.LinkIEEE80211, data: dot11(data, toDS, 0, etherTypeIPv4, v4)[:23], wantErr: ErrMalformed},
		{name: "802.11 snap cut", link: source.LinkIEEE80211, data: dot11(data, toDS, 0, etherTypeIPv4, v4)[:28], wantErr: ErrMalformed},
		{name: "radiotap longer than the packet", link: source.LinkRadiotap, data: withByte(radiotap(8, nil), 2, 200), wantErr: ErrMalformed},
		{name: "radiotap cut", link: source.LinkRadiotap, data: []byte{0, 0, 8}, wantErr: ErrMalformed},
		{name: "ppi cut", link: source.LinkPPI, data: []byte{0, 0, 8, 0, 105}, wantErr: ErrMalformed},
	}
}
