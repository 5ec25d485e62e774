package graphqlws

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

func BenchmarkNext(b *testing.B) {
	d := NewDecoder(false)
	d.Decode(app.Message{Opcode: app.Text, Payload: []byte(`{"id":"1","type":"subscribe","payload":{"query":"subscription OnPrice { price { sym value } }"}}`)})
	p := []byte(`{"id":"1","type":"next","payload":{"data":{"price":{"sym":"ABC","value":12.5}}}}`)
	var out []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, r := range d.Decode(app.Message{Dir: app.ServerToClient, Opcode: app.Text, Payload: p}) {
			out = r.AppendJSON(out[:0])
		}
	}
}
