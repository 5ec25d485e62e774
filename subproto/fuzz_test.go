package subproto

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/internal/fuzzcheck"
)

// FuzzConn drives the whole selection: sniffing picks a decoder from the
// first messages and the rest goes through it.
func FuzzConn(f *testing.F) {
	for _, s := range []string{
		"\x03\x00\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04abcd",
		"\x01\x00" + `0{"sid":"x","maxPayload":1}`,
		"\x00\x1dCONNECT\naccept-version:1.2\n\n\x00\x00\x00SEND\n\n\x00",
		"\x00\x00" + `{"type":"connection_init"}`,
		"\x00\x00" + `[{"jsonrpc":"2.0","method":"a","id":1}]`,
		"\x02\x00RFB 003.008\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzcheck.Check(New(Config{}), Fields(), data); err != nil {
			t.Fatal(err)
		}
	})
}
