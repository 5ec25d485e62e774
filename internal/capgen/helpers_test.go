package capgen

import (
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// pkt is a packet decoded by gopacket, for checks independent of the
// builder.
type pkt struct {
	from    Side
	seq     uint32
	ack     uint32
	flags   uint8
	payload []byte
	vlans   []uint16
	mss     uint16
	// fragment is set for an IP fragment (nothing else is).
	fragment bool
}

// decodePackets decodes every packet of c with gopacket, verifying IP and
// TCP checksums, and attributes them to a side by the client's address.
func decodePackets(t testing.TB, c *Capture, client netip.AddrPort) []pkt {
	t.Helper()
	var out []pkt
	for i, cp := range c.Packets() {
		out = append(out, decodeOne(t, i, cp.LinkType, cp.Data, client))
	}
	return out
}

// decodeOne decodes packet i (from 0) with gopacket and verifies checksums.
func decodeOne(t testing.TB, i int, lt LinkType, data []byte, client netip.AddrPort) pkt {
	t.Helper()
	// Link types gopacket does not decode: what capgen writes before the
	// IP packet is of a fixed size (see linkHeader).
	if n, ok := map[LinkType]int{LinkNFLOG: 32, LinkPPP: 4, LinkCHDLC: 4}[lt]; ok && len(data) >= n {
		data, lt = data[n:], LinkRaw
	}
	p := gopacket.NewPacket(data, layers.LinkType(lt), gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("packet %d: decode error: %v", i+1, el.Error())
	}
	for _, l := range p.Layers() {
		if ip, ok := l.(*layers.IPv4); ok && (ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0) {
			// An IP fragment: its header checksum must hold; its TCP is
			// checked by the tests that reassemble it.
			if err, res := ip.VerifyChecksum(); err != nil || !res.Valid {
				t.Fatalf("packet %d: bad IPv4 checksum %+v %v", i+1, res, err)
			}
			return pkt{fragment: true}
		}
		if _, ok := l.(*layers.IPv6Fragment); ok {
			return pkt{fragment: true}
		}
	}
	tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
	if !ok {
		t.Fatalf("packet %d: no TCP layer in %v", i+1, p)
	}
	// Every IPv4 header's checksum must hold; TCP's pseudo-header is from
	// the innermost IP header (the outer ones belong to tunnels).
	var src netip.Addr
	var nl gopacket.NetworkLayer
	for _, l := range p.Layers() {
		switch ip := l.(type) {
		case *layers.IPv4:
			err, res := ip.VerifyChecksum()
			if err != nil || !res.Valid {
				t.Fatalf("packet %d: bad IPv4 checksum %+v %v", i+1, res, err)
			}
			src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			nl = ip
		case *layers.IPv6:
			src, _ = netip.AddrFromSlice(ip.SrcIP)
			nl = ip
		}
	}
	if nl == nil {
		t.Fatalf("packet %d: no IP layer", i+1)
	}
	if err := tcp.SetNetworkLayerForChecksum(nl); err != nil {
		t.Fatal(err)
	}
	err, res := tcp.VerifyChecksum()
	if err != nil || !res.Valid {
		t.Fatalf("packet %d: bad TCP checksum %+v %v", i+1, res, err)
	}
	d := pkt{seq: tcp.Seq, ack: tcp.Ack, payload: tcp.Payload}
	if src == client.Addr() && uint16(tcp.SrcPort) == client.Port() {
		d.from = Client
	} else {
		d.from = Server
	}
	for _, f := range []struct {
		set  bool
		flag uint8
	}{{tcp.FIN, flagFIN}, {tcp.SYN, flagSYN}, {tcp.RST, flagRST}, {tcp.PSH, flagPSH}, {tcp.ACK, flagACK}} {
		if f.set {
			d.flags |= f.flag
		}
	}
	for _, o := range tcp.Options {
		if o.OptionType == layers.TCPOptionKindMSS && len(o.OptionData) == 2 {
			d.mss = uint16(o.OptionData[0])<<8 | uint16(o.OptionData[1])
		}
	}
	for _, l := range p.Layers() {
		if q, ok := l.(*layers.Dot1Q); ok {
			d.vlans = append(d.vlans, q.VLANIdentifier)
		}
	}
	return d
}

// reassemble rebuilds side's stream from data segments, keeping the first
// copy of every byte, and reports which offsets were seen.
func reassemble(pkts []pkt, side Side, isn uint32, n int) (data []byte, seen []bool) {
	data, seen = make([]byte, n), make([]bool, n)
	for _, p := range pkts {
		if p.from != side || len(p.payload) == 0 {
			continue
		}
		off := int(p.seq - (isn + 1))
		for i, b := range p.payload {
			if off+i < n && !seen[off+i] {
				data[off+i], seen[off+i] = b, true
			}
		}
	}
	return data, seen
}
