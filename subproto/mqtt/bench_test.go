package mqtt

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

func benchDecode(b *testing.B, msgs ...[]byte) {
	d := NewDecoder()
	var out []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, m := range msgs {
			for _, r := range d.Decode(app.Message{Opcode: app.Binary, Payload: m}) {
				out = r.AppendJSON(out[:0])
			}
		}
	}
}

// BenchmarkPublish: one QoS 1 PUBLISH per message, decoded and written as
// NDJSON.
func BenchmarkPublish(b *testing.B) { benchDecode(b, publish1) }

// BenchmarkPublishSplit: a PUBLISH written as mqtt.js does, in pieces
// (fixed header, remaining length, topic, id, payload).
func BenchmarkPublishSplit(b *testing.B) {
	benchDecode(b, publish1[:1], publish1[1:2], publish1[2:14], publish1[14:16], publish1[16:])
}

// BenchmarkDecodeOnly: the decoder alone, no JSON.
func BenchmarkDecodeOnly(b *testing.B) {
	d := NewDecoder()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.Decode(app.Message{Opcode: app.Binary, Payload: publish1})
	}
}
