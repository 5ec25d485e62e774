package communityid

import (
	"net/netip"
	"testing"
)

// TestCommunityIDVectors checks the published test vectors of the Community
// ID specification (as also used by Zeek's community_id_v1 tests), in both
// directions of each flow.
func TestCommunityIDVectors(t *testing.T) {
	tests := []struct {
		a, b  string
		proto uint8
		seed  uint16
		want  string
	}{
		{"1.2.3.4:1122", "5.6.7.8:3344", ProtoTCP, 0, "1:wCb3OG7yAFWelaUydu0D+125CLM="},
		{"1.2.3.4:1122", "5.6.7.8:3344", ProtoUDP, 0, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="},
		{"1.2.3.4:1122", "5.6.7.8:3344", ProtoTCP, 1, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="},
		{"1.2.3.4:1122", "5.6.7.8:3344", ProtoUDP, 1, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="},
	}
	for _, tt := range tests {
		a, b := netip.MustParseAddrPort(tt.a), netip.MustParseAddrPort(tt.b)
		if got := V1(a, b, tt.proto, tt.seed); got != tt.want {
			t.Errorf("V1(%v, %v, %d, seed %d) = %q, want %q", a, b, tt.proto, tt.seed, got, tt.want)
		}
		if got := V1(b, a, tt.proto, tt.seed); got != tt.want {
			t.Errorf("V1(%v, %v, %d, seed %d) reversed = %q, want %q", b, a, tt.proto, tt.seed, got, tt.want)
		}
	}
}

// TestCommunityIDOrdering checks the ordering rule on equal addresses (the
// ports decide), IPv6 symmetry, mapped addresses and mixed families.
func TestCommunityIDOrdering(t *testing.T) {
	a := netip.MustParseAddrPort("127.0.0.1:40000")
	b := netip.MustParseAddrPort("127.0.0.1:80")
	if V1(a, b, ProtoTCP, 0) != V1(b, a, ProtoTCP, 0) {
		t.Error("equal addresses: the two directions hash differently")
	}
	v6a := netip.MustParseAddrPort("[2001:db8::1]:5000")
	v6b := netip.MustParseAddrPort("[2001:db8::2]:443")
	if got, rev := V1(v6a, v6b, ProtoTCP, 0), V1(v6b, v6a, ProtoTCP, 0); got != rev || len(got) != 30 {
		t.Errorf("IPv6: %q and %q", got, rev)
	}
	mapped := netip.MustParseAddrPort("[::ffff:1.2.3.4]:1122")
	if got := V1(mapped, netip.MustParseAddrPort("5.6.7.8:3344"), ProtoTCP, 0); got != "1:wCb3OG7yAFWelaUydu0D+125CLM=" {
		t.Errorf("mapped IPv4: %q", got)
	}
	if got := V1(v6a, b, ProtoTCP, 0); got != "" {
		t.Errorf("mixed families: %q, want empty", got)
	}
}
