package filter

import (
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// benchExprs are typical expressions; each must evaluate without allocating.
var benchExprs = []struct{ name, expr string }{
	{"opcode", "opcode == text"},
	{"wireshark", "websocket.mask == 1 && websocket.payload_length > 100"},
	{"group", "opcode == control || opcode in {text binary} && !fin"},
	{"close", "close.code != 1000 && close.code in {1000..1015}"},
	{"contains", `payload contains "chat"`},
	{"text", `text contains "user" && dir == c2s`},
	{"matches", `text matches "\"type\":\"ch[a-z]+\""`},
	{"json", `json.type == "chat"`},
	{"json-num", `json.user.id > 10 && json.price < 10 && json.big > 1e29`},
	{"json-escaped", `json.user.name == "anné" && json["a b"] contains "ace"`},
	{"json-deep", `json.items[1].k == null`},
	{"addr", "ip.addr == 10.0.0.0/8 && port in {80 443 8080}"},
	{"conn", `host contains "example" && extensions contains "x-custom"`},
	{"anomaly", `anomaly contains "utf8" || anomaly == "tcp-gap"`},
	{"bytes", "masking_key == aa:bb:cc:dd"},
}

func TestMatchDoesNotAllocate(t *testing.T) {
	recs := sampleRecords()
	for _, be := range benchExprs {
		f, err := Compile(be.expr)
		if err != nil {
			t.Fatalf("%s: %v", be.name, err)
		}
		for i, r := range recs {
			allocs := testing.AllocsPerRun(200, func() { f.Match(r) })
			if allocs != 0 {
				t.Errorf("%s on record %d: %v allocations per Match", be.name, i, allocs)
			}
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	r := textFrame()
	for _, be := range benchExprs {
		f, err := Compile(be.expr)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(be.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f.Match(r)
			}
		})
	}
}

// BenchmarkMatchRecords evaluates one mixed filter over every kind of record.
func BenchmarkMatchRecords(b *testing.B) {
	f, err := Compile(`opcode == text && json.type == "chat" || close.code != 1000 || anomaly`)
	if err != nil {
		b.Fatal(err)
	}
	recs := sampleRecords()
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range recs {
			f.Match(r)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(`websocket.opcode == 1 && json.user.id > 10 || ip.addr in {10.0.0.0/8 192.168.0.0/16}`); err != nil {
			b.Fatal(err)
		}
	}
}

// matchAll evaluates f over records, for comparisons.
func matchAll(f *Filter, recs []*dissect.Record) []bool {
	out := make([]bool, len(recs))
	for i, r := range recs {
		out[i] = f.Match(r)
	}
	return out
}
