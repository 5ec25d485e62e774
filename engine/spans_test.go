package engine

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// TestConnSpans builds a capture of two interleaved connections (and a
// packet that is not TCP) and checks which packets each selection marks.
func TestConnSpans(t *testing.T) {
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	conn := func(client, server string) *capgen.Conn {
		c, err := capgen.NewConn(cp, capgen.ConnConfig{
			Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server),
			Link: capgen.Link{Type: capgen.LinkEthernet},
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := conn("10.0.0.1:50000", "10.0.0.2:80")
	b := conn("10.0.0.3:50001", "10.0.0.2:80")
	a.Open()                                                                              // packets 1-3
	b.Open()                                                                              // 4-6
	a.Send(capgen.Client, []byte("a1"))                                                   // 7-8 (data, ACK)
	if err := cp.Add(0, capgen.LinkEthernet, []byte{0: 1, 13: 0x06, 59: 0}); err != nil { // 9: not IP
		t.Fatal(err)
	}
	b.Send(capgen.Client, []byte("b1")) // 10-11
	a.Send(capgen.Server, []byte("a2")) // 12-13
	b.Send(capgen.Server, []byte("b2")) // 14-15
	pkts := memPackets(t, writePcap(t, cp))
	if len(pkts) != 15 {
		t.Fatalf("capture: %d packets; the test expects them numbered as in the comments", len(pkts))
	}
	ap, bp := a.Config(), b.Config()
	tests := []struct {
		name string
		add  func(s *ConnSpans)
		want []uint64
	}{
		{"nothing", func(*ConnSpans) {}, nil},
		{"a to its first data", func(s *ConnSpans) { s.Add(ap.Client, ap.Server, 1, 8) }, []uint64{1, 2, 3, 7, 8}},
		// the endpoints in either order; a second Add of the same
		// connection extends its span
		{"a, reversed, extended", func(s *ConnSpans) {
			s.Add(ap.Server, ap.Client, 1, 3)
			s.Add(ap.Client, ap.Server, 1, 13)
			s.Add(ap.Client, ap.Server, 1, 7)
		}, []uint64{1, 2, 3, 7, 8, 12, 13}},
		{"b whole", func(s *ConnSpans) { s.Add(bp.Client, bp.Server, 4, 15) }, []uint64{4, 5, 6, 10, 11, 14, 15}},
		// a span names its connection by its first packet: the same
		// addresses from another first packet (a reused port) are
		// another span
		{"a from a later first packet", func(s *ConnSpans) { s.Add(ap.Client, ap.Server, 12, 13) }, []uint64{12, 13}},
		{"the same addresses twice", func(s *ConnSpans) {
			s.Add(ap.Client, ap.Server, 1, 3)
			s.Add(ap.Server, ap.Client, 12, 12)
			s.Add(ap.Client, ap.Server, 12, 13)
		}, []uint64{1, 2, 3, 12, 13}},
		{"merged twice", func(s *ConnSpans) {
			var o ConnSpans
			o.Add(ap.Client, ap.Server, 1, 3)
			o.Add(ap.Client, ap.Server, 12, 13)
			o.Add(bp.Client, bp.Server, 4, 5)
			s.Add(bp.Client, bp.Server, 4, 6)
			s.Merge(&o)
			s.Merge(&o)
		}, []uint64{1, 2, 3, 4, 5, 6, 12, 13}},
		{"merged", func(s *ConnSpans) {
			var o ConnSpans
			o.Add(bp.Client, bp.Server, 4, 6)
			s.Add(ap.Client, ap.Server, 1, 3)
			s.Merge(&o)
		}, []uint64{1, 2, 3, 4, 5, 6}},
		{"no first packet", func(s *ConnSpans) { s.Add(ap.Client, ap.Server, 0, 13) }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s ConnSpans
			tc.add(&s)
			src := &sliceSource{pkts: pkts}
			var got []uint64
			if err := s.Mark(src, func(n uint64) { got = append(got, n) }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("marked %v, want %v", got, tc.want)
			}
			if tc.want != nil && src.i > int(slices.Max(tc.want))+1 {
				t.Errorf("read %d packets, past the last span's end %d", src.i, slices.Max(tc.want))
			}
		})
	}
	// A read error is returned.
	var s ConnSpans
	s.Add(ap.Client, ap.Server, 1, 13)
	bad := errors.New("damaged")
	if err := s.Mark(&sliceSource{pkts: pkts[:5], err: bad}, func(uint64) {}); !errors.Is(err, bad) {
		t.Errorf("Mark with a read error: %v", err)
	}
}
