package socketio

import (
	"encoding/json"

	"github.com/wsdissect/wsdissect/subproto/app"
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

func FuzzDecodePolling(f *testing.F) {
	f.Add(3, []byte("2:409:42[\"é😀\"]6:2probe"))
	f.Add(4, []byte("40\x1e451-[\"up\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID"))
	f.Fuzz(func(t *testing.T, eio int, body []byte) {
		d := NewDecoder(eio)
		for _, dir := range []app.Dir{app.ClientToServer, app.ServerToClient} {
			for _, r := range d.DecodePolling(dir, body) {
				if !json.Valid(r.AppendJSON(nil)) {
					t.Fatalf("invalid JSON from %q", body)
				}
				_ = app.Summary(r)
			}
		}
	})
}
