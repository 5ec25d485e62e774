package stomp

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

func BenchmarkMessage(b *testing.B) {
	d := NewDecoder(12)
	p := []byte("MESSAGE\ndestination:/topic/prices\nsubscription:sub-0\nmessage-id:m\\c42\ncontent-type:application/json\ncontent-length:27\n\n{\"sym\":\"ABC\",\"price\":12.5}\x00")
	var out []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, r := range d.Decode(app.Message{Dir: app.ServerToClient, Opcode: app.Text, Payload: p}) {
			out = r.AppendJSON(out[:0])
		}
	}
}
