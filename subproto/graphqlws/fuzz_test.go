package graphqlws

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/internal/fuzzcheck"
)

func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{[]byte("\x00\x00{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":\"query A { a }\"}}")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzcheck.Check(NewDecoder(false), Fields(), data); err != nil {
			t.Fatal(err)
		}
	})
}
