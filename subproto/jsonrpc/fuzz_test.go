package jsonrpc

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/internal/fuzzcheck"
)

func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{[]byte("\x00\x29{\"jsonrpc\":\"2.0\",\"method\":\"a\",\"id\":1}\x01\x00{\"jsonrpc\":\"2.0\",\"result\":[1],\"id\":1}")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzcheck.Check(NewDecoder(), Fields(), data); err != nil {
			t.Fatal(err)
		}
	})
}
