package jsonrpc

import (
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/subproto/app"
)

// BenchmarkRequestResponse: a request and its response (linked), per op.
func BenchmarkRequestResponse(b *testing.B) {
	d := NewDecoder()
	req := []byte(`{"jsonrpc":"2.0","id":7,"method":"eth_getBalance","params":["0x407d73d8a49eeb85d32cf465507dd71d507100c1","latest"]}`)
	res := []byte(`{"jsonrpc":"2.0","id":7,"result":"0x0234c8a3397aab58"}`)
	t0 := time.Unix(1700000000, 0)
	var out []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, r := range d.Decode(app.Message{Dir: app.ClientToServer, Opcode: app.Text, Payload: req, Time: t0}) {
			out = r.AppendJSON(out[:0])
		}
		for _, r := range d.Decode(app.Message{Dir: app.ServerToClient, Opcode: app.Text, Payload: res, Time: t0.Add(time.Millisecond)}) {
			out = r.AppendJSON(out[:0])
		}
	}
}
