package tunnel

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/internal/fuzzcheck"
)

func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{[]byte("\x03\x00SSH-2.0-x\r\n"), []byte("\x02\x00\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzcheck.Check(NewDecoder(false), Fields(), data); err != nil {
			t.Fatal(err)
		}
	})
}
