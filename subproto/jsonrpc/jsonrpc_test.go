package jsonrpc

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/subproto/app"
)

type msg struct {
	dir app.Dir
	ms  int
	p   string
}

const c2s, s2c = app.ClientToServer, app.ServerToClient

func TestDecode(t *testing.T) {
	// Examples from the JSON-RPC 2.0 specification, section 7.
	msgs := []msg{
		{c2s, 0, `{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}`},
		{s2c, 3, `{"jsonrpc": "2.0", "result": 19, "id": 1}`},
		{c2s, 4, `{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}`},
		{c2s, 5, `{"jsonrpc": "2.0", "method": "foobar", "id": "1"}`},
		{s2c, 6, `{"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}`},
		{c2s, 7, `{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`},
		{c2s, 8, `[]`},
		{c2s, 9, `[1]`},
		{c2s, 10, `[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"}, {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}]`},
		{s2c, 12, `[{"jsonrpc": "2.0", "result": 7, "id": "1"}, {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request", "data": {"x": 1}}, "id": null}]`},
		{c2s, 13, `{"jsonrpc": "1.0", "method": "x", "id": 2}`},
		{s2c, 14, `{"jsonrpc": "2.0", "result": 1, "error": {"code": 1, "message": "m"}, "id": 9}`},
	}
	want := []string{
		`JSON-RPC request subtract id=1 [42,23] | {"kind":"request","method":"subtract","id":1,"params":[42,23]}`,
		`JSON-RPC response id=1 (subtract, 3ms) 19 | {"kind":"response","id":1,"result":19,"request_method":"subtract","latency_ns":3000000}`,
		`JSON-RPC notification update [1,2,3,4,5] | {"kind":"notification","method":"update","params":[1,2,3,4,5]}`,
		`JSON-RPC request foobar id="1" | {"kind":"request","method":"foobar","id":"1"}`,
		`JSON-RPC error id="1" (foobar, 1ms) -32601 Method not found | {"kind":"error","id":"1","error":{"code":-32601,"message":"Method not found"},"request_method":"foobar","latency_ns":1000000}`,
		`JSON-RPC invalid [malformed: not valid JSON] | {"kind":"invalid","malformed":"not valid JSON"}`,
		`JSON-RPC invalid [malformed: empty batch] | {"kind":"invalid","malformed":"empty batch"}`,
		`JSON-RPC invalid [batch 1/1] [malformed: not a JSON-RPC object] | {"kind":"invalid","batch_index":0,"batch_len":1,"malformed":"not a JSON-RPC object"}`,
		`JSON-RPC request sum id="1" [1,2,4] [batch 1/2] | {"kind":"request","method":"sum","id":"1","params":[1,2,4],"batch_index":0,"batch_len":2}`,
		`JSON-RPC notification notify_hello [7] [batch 2/2] | {"kind":"notification","method":"notify_hello","params":[7],"batch_index":1,"batch_len":2}`,
		`JSON-RPC response id="1" (sum, 2ms) 7 [batch 1/2] | {"kind":"response","id":"1","result":7,"request_method":"sum","latency_ns":2000000,"batch_index":0,"batch_len":2}`,
		`JSON-RPC error id=null -32600 Invalid Request [batch 2/2] | {"kind":"error","id":null,"error":{"code":-32600,"message":"Invalid Request","data":{"x":1}},"batch_index":1,"batch_len":2}`,
		`JSON-RPC request x id=2 [malformed: "jsonrpc" is not "2.0"] | {"kind":"request","method":"x","id":2,"malformed":"\"jsonrpc\" is not \"2.0\""}`,
		`JSON-RPC response id=9 [malformed: response with both result and error] | {"kind":"response","id":9,"malformed":"response with both result and error"}`,
	}
	d := NewDecoder()
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	var got []string
	for _, m := range msgs {
		for _, r := range d.Decode(app.Message{Dir: m.dir, Opcode: app.Text, Payload: []byte(m.p), Time: t0.Add(time.Duration(m.ms) * time.Millisecond)}) {
			js := r.AppendJSON(nil)
			if !json.Valid(js) {
				t.Fatalf("invalid JSON %s", js)
			}
			got = append(got, app.Summary(r)+" | "+string(js))
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPendingBounded(t *testing.T) {
	d := NewDecoder()
	d.MaxPending = 10
	for i := 0; i < 100; i++ {
		d.Decode(app.Message{Payload: []byte(`{"jsonrpc":"2.0","method":"m","id":` + string(rune('0'+i%10)) + string(rune('0'+i/10)) + `}`)})
	}
	if d.Pending() > 10 {
		t.Fatalf("pending %d", d.Pending())
	}
	recs := d.Decode(app.Message{Dir: s2c, Payload: []byte(`{"jsonrpc":"2.0","result":1,"id":99}`)})
	if !recs[0].(*Record).Linked {
		t.Errorf("newest request forgotten")
	}
	var v []app.Value
	for _, f := range Fields() {
		if f.Name == "jsonrpc.method" {
			v = f.Get(recs[0], v)
		}
	}
	if len(v) != 1 || string(v[0].B) != "m" {
		t.Errorf("jsonrpc.method on a response = %v", v)
	}
}
