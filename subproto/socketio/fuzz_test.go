package socketio

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/internal/fuzzcheck"
)

func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{[]byte("\x00\x1b451-[\"up\",{\"_placeholder\":true,\"num\":0}]\x02\x03abc"), []byte("\x00\x00" + `42/chat,12["message","hi"]`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzcheck.Check(NewDecoder(4), Fields(), data); err != nil {
			t.Fatal(err)
		}
	})
}
