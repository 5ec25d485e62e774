package attackgen

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/wsdissect/wsdissect/internal/inflate"
	"github.com/wsdissect/wsdissect/source"
)

// TestBombInflates checks the hand-built deflate bomb: it inflates to
// zeros about 160 times its size and ends at a block boundary, as
// permessage-deflate requires once 00 00 ff ff is appended.
func TestBombInflates(t *testing.T) {
	comp := bomb(4 << 10)
	z := inflate.New(15)
	out, err := z.Append(nil, append(comp, 0, 0, 0xff, 0xff), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 150*len(comp) || bytes.IndexFunc(out, func(r rune) bool { return r != 0 }) >= 0 {
		t.Errorf("%d bytes inflated to %d (want at least 150 times, all zeros)", len(comp), len(out))
	}
	if !z.AtBlockBoundary() {
		t.Error("the bomb does not end at a block boundary")
	}
}

// TestAttacksWriteCaptures checks that every attack writes a readable
// capture, the same bytes each time.
func TestAttacksWriteCaptures(t *testing.T) {
	if testing.Short() {
		t.Skip("writes several MB of captures")
	}
	for _, a := range All() {
		t.Run(a.Name, func(t *testing.T) {
			var one, two bytes.Buffer
			if err := a.Write(&one, 1); err != nil {
				t.Fatal(err)
			}
			if err := a.Write(&two, 1); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(one.Bytes(), two.Bytes()) {
				t.Error("two writes differ")
			}
			r, err := source.OpenReader(a.Name, &one)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				var p source.Packet
				if err := r.Next(&p); err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatal(err)
					}
					break
				}
				n++
			}
			if n < 20 || a.What(1) == "" {
				t.Errorf("%d packets, description %q", n, a.What(1))
			}
		})
	}
}
