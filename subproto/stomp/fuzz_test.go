package stomp

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/internal/fuzzcheck"
)

func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{[]byte("\x00\x00SEND\ndestination:/q\\c\ncontent-length:2\n\nab\x00\n"), []byte("\x01\x01\nMESSAGE\n\n\x00")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzcheck.Check(NewDecoder(12), Fields(), data); err != nil {
			t.Fatal(err)
		}
	})
}
