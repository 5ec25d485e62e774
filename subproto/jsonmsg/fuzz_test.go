package jsonmsg

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/internal/fuzzcheck"
)

func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{[]byte("\x00\x00{\"a\":[1,\"\\u00e9\"]}\n[]")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzcheck.Check(NewDecoder(), Fields(), data); err != nil {
			t.Fatal(err)
		}
	})
}
