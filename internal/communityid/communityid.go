// Package communityid computes Community ID v1 flow hashes, the flow identifier
// shared by Zeek, Suricata and other monitoring tools.
package communityid

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
)

// Protocol numbers for V1.
const (
	ProtoTCP uint8 = 6
	ProtoUDP uint8 = 17
)

// V1 returns the Community ID v1 flow hash ("1:" and the standard
// base64 of a SHA-1) of a flow between two endpoints with ports (TCP, UDP,
// SCTP), as the Community ID specification defines it: the hash input is
// the seed (2 bytes, network order), the smaller endpoint's address, the
// other address, the protocol, a zero pad byte, and the two ports in the same
// order, so both directions of a flow hash alike. Both addresses must be of
// the same family; IPv4-mapped IPv6 addresses are hashed as IPv4. It returns
// "" when the families differ or an address is invalid.
func V1(a, b netip.AddrPort, proto uint8, seed uint16) string {
	var out [30]byte
	return string(AppendV1(out[:0], a, b, proto, seed))
}

// AppendV1 appends V1(a, b, proto, seed) to dst without
// allocating; it appends nothing when V1 would return "".
func AppendV1(dst []byte, a, b netip.AddrPort, proto uint8, seed uint16) []byte {
	aa, ba := a.Addr().Unmap(), b.Addr().Unmap()
	if !aa.IsValid() || !ba.IsValid() || aa.Is4() != ba.Is4() {
		return dst
	}
	ap, bp := a.Port(), b.Port()
	// The spec orders the endpoints: the smaller address first, and for
	// equal addresses the smaller port first.
	if c := aa.Compare(ba); c > 0 || (c == 0 && ap > bp) {
		aa, ba = ba, aa
		ap, bp = bp, ap
	}
	var in [2 + 16 + 16 + 1 + 1 + 2 + 2]byte
	binary.BigEndian.PutUint16(in[0:], seed)
	n := 2
	if aa.Is4() {
		a4, b4 := aa.As4(), ba.As4()
		n += copy(in[n:], a4[:])
		n += copy(in[n:], b4[:])
	} else {
		a16, b16 := aa.As16(), ba.As16()
		n += copy(in[n:], a16[:])
		n += copy(in[n:], b16[:])
	}
	in[n] = proto
	in[n+1] = 0
	n += 2
	binary.BigEndian.PutUint16(in[n:], ap)
	binary.BigEndian.PutUint16(in[n+2:], bp)
	n += 4
	sum := sha1.Sum(in[:n])
	dst = append(dst, '1', ':')
	return base64.StdEncoding.AppendEncode(dst, sum[:])
}
