package engine

import (
	"io"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/source"
)

// discard is a sink that drops every record.
type discard struct{}

func (discard) Emit(*dissect.Record) error { return nil }

// TestUnsupportedLinkCounted checks that packets of a link type the engine
// cannot decode are counted as such, not as malformed, by both runners.
func TestUnsupportedLinkCounted(t *testing.T) {
	pkts := []source.Packet{
		{Number: 1, LinkType: 147, Data: []byte{1, 2, 3, 4}},
		{Number: 2, LinkType: 147, Data: []byte{1, 2, 3, 4}},
		{Number: 3, LinkType: source.LinkEthernet, Data: []byte{1}},
	}
	for _, workers := range []int{1, 2} {
		st, err := RunParallel(&sliceSource{pkts: pkts}, func(io.Writer) (dissect.Sink, func() error) {
			return discard{}, func() error { return nil }
		}, Options{Workers: workers}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if st.Packets != 3 || st.UnsupportedLink != 2 || st.UnsupportedLinkType != 147 || st.Malformed != 1 {
			t.Errorf("workers %d: packets %d, unsupported %d (link %d), malformed %d; want 3, 2 (147), 1",
				workers, st.Packets, st.UnsupportedLink, st.UnsupportedLinkType, st.Malformed)
		}
	}
}
