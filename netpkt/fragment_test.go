package netpkt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/wsdissect/wsdissect/source"
)

// TestDecodeFragments splits TCP segments into IP fragments and checks
// what DecodeFragments reports of each and that DecodeDatagram decodes
// their payloads joined.
func TestDecodeFragments(t *testing.T) {
	pl := bytes.Repeat([]byte("0123456789abcdef"), 10)
	tcp := tcpHdr(0, pl)
	// v4frag is fragment [off, off+n) of the TCP segment, id 0x1234.
	v4frag := func(off, n int, more bool) []byte {
		f := uint16(off / 8)
		if more {
			f |= ipv4FlagMF
		}
		b := ipv4Pkt(protoTCP, 0, f, tcp[off:off+n])
		binary.BigEndian.PutUint16(b[4:], 0x1234)
		return b
	}
	// v6frag is the same over IPv6 with a destination options header in
	// the fragmentable part (so in the first fragment's payload).
	dest := optsExt(protoDestOpts, 0)
	dest.raw[0] = protoTCP
	v6payload := append(bytes.Clone(dest.raw), tcp...)
	v6frag := func(off, n int, more bool) []byte {
		raw := make([]byte, 8)
		v := uint16(off/8) << 3
		if more {
			v |= 1
		}
		binary.BigEndian.PutUint16(raw[2:], v)
		binary.BigEndian.PutUint32(raw[4:], 0xabcdef01)
		return ipv6Pkt(protoDestOpts, []ext{optsExt(protoHopByHop, 0), {protoFragment, raw}}, v6payload[off:off+n])
	}
	cases := []struct {
		name   string
		link   source.LinkType
		frags  [][]byte
		v6     bool
		id     uint32
		proto  byte
		encap  uint8
		joined []byte
	}{
		{"ipv4", source.LinkRaw, [][]byte{v4frag(0, 96, true), v4frag(96, len(tcp)-96, false)}, false, 0x1234, protoTCP, 0, tcp},
		{"ipv4 in vxlan", source.LinkEthernet, [][]byte{
			ether(etherTypeIPv4, nil, outer4(protoUDP, udp(1, portVXLAN, append([]byte{8, 0, 0, 0, 0, 0, 1, 0}, ether(etherTypeIPv4, nil, v4frag(0, 40, true))...)))),
			ether(etherTypeIPv4, nil, outer4(protoUDP, udp(1, portVXLAN, append([]byte{8, 0, 0, 0, 0, 0, 1, 0}, ether(etherTypeIPv4, nil, v4frag(40, len(tcp)-40, false))...)))),
		}, false, 0x1234, protoTCP, 1, tcp},
		{"ipv6", source.LinkRaw, [][]byte{v6frag(0, 64, true), v6frag(64, len(v6payload)-64, false)}, true, 0xabcdef01, protoDestOpts, 0, v6payload},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var joined []byte
			var f Fragment
			for i, pkt := range tc.frags {
				seg := Segment{SrcPort: 7}
				err := DecodeFragments(tc.link, pkt, &seg, &f)
				if err != ErrFragment || !errors.Is(err, ErrNotTCP) {
					t.Fatalf("fragment %d: error %v", i, err)
				}
				if seg.SrcPort != 7 {
					t.Errorf("fragment %d: segment written", i)
				}
				if f.ID != tc.id || f.Proto != tc.proto || f.V6 != tc.v6 || f.Encap != tc.encap || f.Offset != len(joined) || f.More != (i+1 < len(tc.frags)) || f.Len != len(f.Data) {
					t.Errorf("fragment %d: %+v", i, f)
				}
				if err := Decode(tc.link, pkt, &seg); err != ErrNotTCP {
					t.Errorf("fragment %d: Decode error %v, want ErrNotTCP", i, err)
				}
				joined = append(joined, f.Data...)
			}
			if !bytes.Equal(joined, tc.joined) {
				t.Fatalf("joined %d bytes, want %d", len(joined), len(tc.joined))
			}
			var seg Segment
			if err := DecodeDatagram(&f, joined, len(joined), &seg); err != nil {
				t.Fatal(err)
			}
			wantSrc := v4Src
			if tc.v6 {
				wantSrc = v6Src
			}
			if !bytes.Equal(seg.Payload, pl) || seg.PayloadLen != len(pl) || seg.Src != wantSrc || seg.SrcPort != srcPort || seg.Encap != tc.encap {
				t.Errorf("segment %+v", seg)
			}
			// Cut by the snap length: the captured prefix, the claimed length.
			if err := DecodeDatagram(&f, joined[:len(joined)-5], len(joined), &seg); err != nil || seg.PayloadLen != len(pl) || len(seg.Payload) != len(pl)-5 {
				t.Errorf("cut datagram: %v, %d of %d bytes", err, len(seg.Payload), seg.PayloadLen)
			}
		})
	}
}
