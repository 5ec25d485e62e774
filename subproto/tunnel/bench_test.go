package tunnel

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

// BenchmarkStream: a message of an already recognised stream.
func BenchmarkStream(b *testing.B) {
	d := NewDecoder(false)
	d.Decode(app.Message{Opcode: app.Binary, Payload: []byte("SSH-2.0-OpenSSH_9.6\r\n")})
	p := make([]byte, 1400)
	var out []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, r := range d.Decode(app.Message{Opcode: app.Binary, Payload: p}) {
			out = r.AppendJSON(out[:0])
		}
	}
}
