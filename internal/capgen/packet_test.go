package capgen

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

func TestLinkAndIPFraming(t *testing.T) {
	v4c, v4s := netip.MustParseAddrPort("192.0.2.1:1234"), netip.MustParseAddrPort("192.0.2.2:80")
	v6c, v6s := netip.MustParseAddrPort("[2001:db8::1]:1234"), netip.MustParseAddrPort("[2001:db8::2]:80")
	tests := []struct {
		name      string
		link      Link
		client    netip.AddrPort
		server    netip.AddrPort
		ext       IPv6Ext
		wantLayer gopacket.LayerType
		wantVLANs []uint16
		hdrLen    int
	}{
		{"ethernet-v4", Link{Type: LinkEthernet}, v4c, v4s, ExtNone, layers.LayerTypeEthernet, nil, 14},
		{"ethernet-v6", Link{Type: LinkEthernet}, v6c, v6s, ExtNone, layers.LayerTypeEthernet, nil, 14},
		{"dot1q", Link{Type: LinkEthernet, VLANs: []uint16{42}}, v4c, v4s, ExtNone, layers.LayerTypeDot1Q, []uint16{42}, 18},
		{"qinq", Link{Type: LinkEthernet, VLANs: []uint16{7, 8}}, v6c, v6s, ExtNone, layers.LayerTypeDot1Q, []uint16{7, 8}, 22},
		{"sll", Link{Type: LinkSLL}, v4c, v4s, ExtNone, layers.LayerTypeLinuxSLL, nil, 16},
		{"sll2", Link{Type: LinkSLL2, SLL2IfIndex: 3}, v6c, v6s, ExtNone, layers.LayerTypeLinuxSLL2, nil, 20},
		{"raw-v4", Link{Type: LinkRaw}, v4c, v4s, ExtNone, layers.LayerTypeIPv4, nil, 0},
		{"raw-v6-hop", Link{Type: LinkRaw}, v6c, v6s, ExtHopByHop, layers.LayerTypeIPv6HopByHop, nil, 0},
		{"null-v4", Link{Type: LinkNull}, v4c, v4s, ExtNone, layers.LayerTypeLoopback, nil, 4},
		{"null-v6-dest", Link{Type: LinkNull}, v6c, v6s, ExtDestOpts, layers.LayerTypeIPv6Destination, nil, 4},
		{"null-v6-be", Link{Type: LinkNull, NullBigEndian: true}, v6c, v6s, ExtNone, layers.LayerTypeLoopback, nil, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCapture(CaptureOptions{})
			conn, err := NewConn(c, ConnConfig{Client: tc.client, Server: tc.server, Link: tc.link, IPv6Ext: tc.ext})
			if err != nil {
				t.Fatal(err)
			}
			conn.Open()
			payload := []byte("odd-length payload!")
			conn.Send(Client, payload)
			conn.Close(Server)
			if err := conn.Finish(); err != nil {
				t.Fatal(err)
			}
			pkts := decodePackets(t, c, tc.client)
			if len(pkts) != 3+2+3 {
				t.Fatalf("got %d packets, want 8", len(pkts))
			}
			first := c.Packets()[0]
			p := gopacket.NewPacket(first.Data, layers.LinkType(first.LinkType), gopacket.Default)
			if p.Layer(tc.wantLayer) == nil {
				t.Errorf("no %v layer in %v", tc.wantLayer, p)
			}
			if got := pkts[0].vlans; !equalU16(got, tc.wantVLANs) {
				t.Errorf("VLANs %v, want %v", got, tc.wantVLANs)
			}
			if pkts[3].from != Client || !bytes.Equal(pkts[3].payload, payload) {
				t.Errorf("data packet %+v", pkts[3])
			}
			ipStart := tc.hdrLen
			if v := first.Data[ipStart] >> 4; (v == 4) != tc.client.Addr().Is4() {
				t.Errorf("IP version nibble %d at offset %d", v, ipStart)
			}
			if tc.link.Type == LinkNull {
				var af uint32
				if tc.link.NullBigEndian {
					af = binary.BigEndian.Uint32(first.Data)
				} else {
					af = binary.LittleEndian.Uint32(first.Data)
				}
				want := uint32(nullAFInet6)
				if tc.client.Addr().Is4() {
					want = nullAFInet
				}
				if af != want {
					t.Errorf("null family %d, want %d", af, want)
				}
			}
		})
	}
}

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestQinQOuterTPID(t *testing.T) {
	c := NewCapture(CaptureOptions{})
	conn, err := NewConn(c, ConnConfig{Link: Link{Type: LinkEthernet, VLANs: []uint16{10, 20}}})
	if err != nil {
		t.Fatal(err)
	}
	conn.Open()
	d := c.Packets()[0].Data
	if got := binary.BigEndian.Uint16(d[12:]); got != 0x88a8 {
		t.Errorf("outer TPID %#x, want 0x88a8", got)
	}
	if got := binary.BigEndian.Uint16(d[16:]); got != 0x8100 {
		t.Errorf("inner TPID %#x, want 0x8100", got)
	}
	if got := binary.BigEndian.Uint16(d[20:]); got != 0x0800 {
		t.Errorf("ethertype %#x, want 0x0800", got)
	}
}

func TestNewConnErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  ConnConfig
	}{
		{"mixed families", ConnConfig{Client: netip.MustParseAddrPort("10.0.0.1:1"), Server: netip.MustParseAddrPort("[::1]:2"), Link: Link{Type: LinkEthernet}}},
		{"bad link", ConnConfig{Link: Link{Type: 999}}},
		{"three vlans", ConnConfig{Link: Link{Type: LinkEthernet, VLANs: []uint16{1, 2, 3}}}},
		{"bad interface", ConnConfig{Link: Link{Type: LinkEthernet, Interface: -1}}},
		{"huge mss", ConnConfig{Link: Link{Type: LinkEthernet}, MSS: 70000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewConn(NewCapture(CaptureOptions{}), tc.cfg); err == nil {
				t.Error("NewConn succeeded")
			}
		})
	}
	c := NewCapture(CaptureOptions{})
	if _, err := NewConn(c, ConnConfig{Link: Link{Type: LinkEthernet}}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewConn(c, ConnConfig{Link: Link{Type: LinkRaw}}); err == nil {
		t.Error("two link types on interface 0 accepted")
	}
}

func TestNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{LinkEthernet.String(), "ethernet"}, {LinkNull.String(), "null"}, {LinkRaw.String(), "raw"},
		{LinkSLL.String(), "sll"}, {LinkSLL2.String(), "sll2"}, {LinkType(7).String(), "linktype-7"},
		{Coder.String(), "coder"}, {Gorilla.String(), "gorilla"}, {Library(9).String(), "library-9"},
		{Drop.String(), "drop"}, {Duplicate.String(), "duplicate"}, {RetransmitDiffer.String(), "retransmit-differ"},
		{Overlap.String(), "overlap"}, {Reorder.String(), "reorder"}, {ImpairKind(0).String(), "impairment-0"},
		{Client.String(), "client"}, {Server.String(), "server"}, {Client.Dir(), "c2s"}, {Server.Dir(), "s2c"},
		{Client.Other().String(), "server"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
