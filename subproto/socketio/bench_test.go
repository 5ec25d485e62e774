package socketio

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

func benchDecode(b *testing.B, msgs ...msg) {
	d := NewDecoder(4)
	var out []byte
	var ms []app.Message
	for _, m := range msgs {
		ms = append(ms, app.Message{Dir: m.dir, Opcode: m.op, Payload: []byte(m.p)})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, m := range ms {
			for _, r := range d.Decode(m) {
				out = r.AppendJSON(out[:0])
			}
		}
	}
}

func BenchmarkEvent(b *testing.B) {
	benchDecode(b, msg{c2s, app.Text, `42/chat,12["message",{"user":"alice","text":"hello there","ts":1700000000}]`})
}

func BenchmarkBinaryEvent(b *testing.B) {
	benchDecode(b, msg{c2s, app.Text, `451-["upload",{"_placeholder":true,"num":0}]`}, msg{c2s, app.Binary, "0123456789abcdef"})
}
