package netpkt

import (
	"encoding/binary"

	"github.com/wsdissect/wsdissect/source"
)

// nflogAttr is one NFLOG attribute: its type and value.
type nflogAttr struct {
	typ uint16
	val []byte
}

// nflog builds an NFLOG message of family with attrs, lengths and types in
// order's byte order, each attribute padded to four bytes.
func nflog(family byte, order binary.AppendByteOrder, attrs ...nflogAttr) []byte {
	b := []byte{family, 0, 0, 5}
	for _, a := range attrs {
		b = order.AppendUint16(b, uint16(4+len(a.val)))
		b = order.AppendUint16(b, a.typ)
		b = append(b, a.val...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	return b
}

func linkCases(pl []byte) []decodeCase {
	n := len(pl)
	v4 := ipv4Pkt(protoTCP, 0, 0, tcpHdr(0, pl))
	v6 := ipv6Pkt(protoTCP, nil, tcpHdr(0, pl))
	le, be := binary.AppendByteOrder(binary.LittleEndian), binary.AppendByteOrder(binary.BigEndian)
	hdr := nflogAttr{1, []byte{0x08, 0x00, 1, 0}}  // NFULA_PACKET_HDR
	prefix := nflogAttr{10, []byte("dropped\x00")} // NFULA_PREFIX
	odd := nflogAttr{10, []byte("x\x00")}          // padded from 6 to 8 bytes
	mark := nflogAttr{3, []byte{0, 0, 0, 1}}       // NFULA_MARK
	payload := func(ip []byte) nflogAttr { return nflogAttr{9, ip} }
	nested := func(ip []byte) nflogAttr { return nflogAttr{0x8000 | 9, ip} }
	return []decodeCase{
		{name: "nflog little-endian", link: source.LinkNFLOG, data: nflog(2, le, hdr, mark, prefix, payload(v4)), payload: pl, plen: n},
		{name: "nflog big-endian", link: source.LinkNFLOG, data: nflog(10, be, hdr, odd, payload(v6)), v6: true, payload: pl, plen: n},
		{name: "nflog payload first", link: source.LinkNFLOG, data: nflog(2, le, payload(v4), prefix), payload: pl, plen: n},
		{name: "nflog nested flag", link: source.LinkNFLOG, data: nflog(2, le, nested(v4)), payload: pl, plen: n},
		{name: "nflog no payload", link: source.LinkNFLOG, data: nflog(2, le, hdr, prefix), wantErr: ErrNotTCP},
		{name: "nflog payload not IP", link: source.LinkNFLOG, data: nflog(2, le, payload([]byte{0x00, 0x01})), wantErr: ErrNotTCP},
		{name: "nflog header cut", link: source.LinkNFLOG, data: []byte{2, 0, 0}, wantErr: ErrMalformed},
		{name: "nflog version 1", link: source.LinkNFLOG, data: withByte(nflog(2, le, payload(v4)), 1, 1), wantErr: ErrMalformed},
		{name: "nflog attribute cut", link: source.LinkNFLOG, data: nflog(2, le, hdr)[:10], wantErr: ErrMalformed},
		{name: "nflog attribute header cut", link: source.LinkNFLOG, data: nflog(2, le, hdr)[:6], wantErr: ErrMalformed},
		{name: "nflog attribute length below 4", link: source.LinkNFLOG, data: withByte(nflog(2, le, hdr, payload(v4)), 4, 2), wantErr: ErrMalformed},
		{name: "nflog payload cut in the tcp header", link: source.LinkNFLOG, data: nflog(2, le, payload(v4))[:40], wantErr: ErrMalformed},
		{name: "nflog payload cut by the snap length", link: source.LinkNFLOG, data: nflog(2, le, hdr, payload(v4))[:8+4+20+20+5+4], payload: pl[:5], plen: n},
		{name: "nflog big-endian, nested flag first", link: source.LinkNFLOG, data: nflog(10, be, nested(v6), hdr), v6: true, payload: pl, plen: n},
		{name: "nflog byte-order flag", link: source.LinkNFLOG, data: nflog(2, le, nflogAttr{0x4000 | 9, v4}), payload: pl, plen: n},

		{name: "ppp hdlc framing", link: source.LinkPPP, data: append([]byte{0xff, 0x03, 0x00, 0x21}, v4...), payload: pl, plen: n},
		{name: "ppp unframed ipv6", link: source.LinkPPP, data: append([]byte{0x00, 0x57}, v6...), v6: true, payload: pl, plen: n},
		{name: "ppp compressed protocol", link: source.LinkPPP, data: append([]byte{0xff, 0x03, 0x21}, v4...), payload: pl, plen: n},
		{name: "ppp lcp", link: source.LinkPPP, data: []byte{0xff, 0x03, 0xc0, 0x21, 1, 1, 0, 4}, wantErr: ErrNotTCP},
		{name: "ppp cut", link: source.LinkPPP, data: []byte{0xff, 0x03, 0x00}, wantErr: ErrMalformed},
		{name: "ppp empty", link: source.LinkPPP, data: []byte{0xff, 0x03}, wantErr: ErrMalformed},
		{name: "ppp_hdlc ppp", link: source.LinkPPPHDLC, data: append([]byte{0xff, 0x03, 0x00, 0x21}, v4...), payload: pl, plen: n},
		{name: "ppp_hdlc cisco", link: source.LinkPPPHDLC, data: append([]byte{0x0f, 0x00, 0x86, 0xdd}, v6...), v6: true, payload: pl, plen: n},
		{name: "cisco hdlc", link: source.LinkCHDLC, data: append([]byte{0x8f, 0x00, 0x08, 0x00}, v4...), payload: pl, plen: n},
		{name: "cisco hdlc keepalive", link: source.LinkCHDLC, data: append([]byte{0x8f, 0x00, 0x80, 0x35}, make([]byte, 14)...), wantErr: ErrNotTCP},
		{name: "cisco hdlc cut", link: source.LinkCHDLC, data: []byte{0x0f, 0x00, 0x08}, wantErr: ErrMalformed},
		{name: "pppoe link discovery", link: source.LinkPPPEther, data: []byte{0x11, 0xa7, 0x00, 0x01, 0x00, 0x00}, wantErr: ErrNotTCP},
		{name: "pppoe link", link: source.LinkPPPEther, data: append([]byte{0x11, 0x00, 0x00, 0x01, 0x00, byte(2 + len(v4)), 0x00, 0x21}, v4...), payload: pl, plen: n, encap: 1},
	}
}
