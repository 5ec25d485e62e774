package jsonmsg

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

func BenchmarkObject(b *testing.B) {
	d := NewDecoder()
	p := []byte(`{"op":"update","data":{"id":123,"name":"widget","tags":["a","b"],"price":9.99,"ok":true}}`)
	var out []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, r := range d.Decode(app.Message{Opcode: app.Text, Payload: p}) {
			out = r.AppendJSON(out[:0])
		}
	}
}
