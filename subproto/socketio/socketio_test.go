package socketio

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

type msg struct {
	dir app.Dir
	op  app.Opcode
	p   string
}

func run(t *testing.T, d *Decoder, msgs []msg) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		payload := []byte(m.p)
		for _, r := range d.Decode(app.Message{Dir: m.dir, Opcode: m.op, Payload: payload}) {
			js := r.AppendJSON(nil)
			if !json.Valid(js) {
				t.Fatalf("invalid JSON %s", js)
			}
			out = append(out, app.Summary(r)+" | "+string(js))
		}
		for i := range payload { // the payload is the caller's: records must not depend on it after the call
			payload[i] = 'X'
		}
	}
	return out
}

const c2s, s2c = app.ClientToServer, app.ServerToClient

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		eio  int
		msgs []msg
		want []string
	}{
		{"handshake", 4, []msg{
			{s2c, app.Text, `0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`},
			{c2s, app.Text, `40`},
			{s2c, app.Text, `40{"sid":"xyz"}`},
			{s2c, app.Text, `2`},
			{c2s, app.Text, `3`},
		}, []string{
			`Engine.IO open {"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000} | {"eio":"open","eio_version":4,"sid":"abc","data":{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}}`,
			`Socket.IO CONNECT / | {"eio":"message","eio_version":4,"sid":"abc","type":"CONNECT","namespace":"/"}`,
			`Socket.IO CONNECT / {"sid":"xyz"} | {"eio":"message","eio_version":4,"sid":"abc","type":"CONNECT","namespace":"/","data":{"sid":"xyz"}}`,
			`Engine.IO ping | {"eio":"ping","eio_version":4,"sid":"abc"}`,
			`Engine.IO pong | {"eio":"pong","eio_version":4,"sid":"abc"}`,
		}},
		{"event with namespace and ack", 4, []msg{
			{c2s, app.Text, `42/chat,12["message", "hi", {"a": 1}]`},
			{s2c, app.Text, `43/chat,12["ok"]`},
		}, []string{
			`Socket.IO EVENT /chat "message" ack=12 ["hi",{"a":1}] | {"eio":"message","eio_version":4,"type":"EVENT","namespace":"/chat","ack_id":12,"event":"message","args":["hi",{"a":1}]}`,
			`Socket.IO ACK /chat ack=12 ["ok"] | {"eio":"message","eio_version":4,"type":"ACK","namespace":"/chat","ack_id":12,"args":["ok"]}`,
		}},
		{"binary event", 4, []msg{
			{c2s, app.Text, `451-["upload",{"_placeholder":true,"num":0},"x"]`},
			{c2s, app.Binary, "\x01\x02\x03"},
			{c2s, app.Text, `42["after"]`},
		}, []string{
			`Socket.IO BINARY_EVENT / "upload" [{"_binary":"AQID"},"x"] +1 attachments | {"eio":"message","eio_version":4,"messages":2,"type":"BINARY_EVENT","namespace":"/","event":"upload","attachments":1,"args":[{"_binary":"AQID"},"x"]}`,
			`Socket.IO EVENT / "after" [] | {"eio":"message","eio_version":4,"type":"EVENT","namespace":"/","event":"after","args":[]}`,
		}},
		{"binary ack two attachments nested", 4, []msg{
			{s2c, app.Text, `462-/n,3[{"a":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}]`},
			{s2c, app.Binary, "A"},
			{s2c, app.Binary, "B"},
		}, []string{
			`Socket.IO BINARY_ACK /n ack=3 [{"a":[{"_binary":"Qg=="}]},{"_binary":"QQ=="}] +2 attachments | {"eio":"message","eio_version":4,"messages":3,"type":"BINARY_ACK","namespace":"/n","ack_id":3,"attachments":2,"args":[{"a":[{"_binary":"Qg=="}]},{"_binary":"QQ=="}]}`,
		}},
		{"missing attachment", 4, []msg{
			{c2s, app.Text, `451-["up",{"_placeholder":true,"num":0}]`},
			{c2s, app.Text, `41`},
		}, []string{
			`Socket.IO BINARY_EVENT / "up" [{"_placeholder":true,"num":0}] +1 attachments [malformed: packet announced 1 attachments, got 0] | {"eio":"message","eio_version":4,"type":"BINARY_EVENT","namespace":"/","event":"up","attachments":1,"args":[{"_placeholder":true,"num":0}],"malformed":"packet announced 1 attachments, got 0"}`,
			`Socket.IO DISCONNECT / | {"eio":"message","eio_version":4,"type":"DISCONNECT","namespace":"/"}`,
		}},
		{"eio3 binary", 3, []msg{
			{c2s, app.Text, `2probe`},
			{c2s, app.Text, `451-["f",{"_placeholder":true,"num":0}]`},
			{c2s, app.Binary, "\x04hi"},
		}, []string{
			`Engine.IO ping probe | {"eio":"ping","eio_version":3,"data":"probe"}`,
			`Socket.IO BINARY_EVENT / "f" [{"_binary":"aGk="}] +1 attachments | {"eio":"message","eio_version":3,"messages":2,"type":"BINARY_EVENT","namespace":"/","event":"f","attachments":1,"args":[{"_binary":"aGk="}]}`,
		}},
		{"malformed", 4, []msg{
			{c2s, app.Text, `9`},
			{c2s, app.Text, `42["x"`},
			{c2s, app.Text, `42{"a":1}`},
			{c2s, app.Text, `43["no id"]`},
			{c2s, app.Text, ``},
		}, []string{
			`Engine.IO unknown 9 [malformed: unknown Engine.IO packet type "9"] | {"eio":"unknown","eio_version":4,"data":"9","malformed":"unknown Engine.IO packet type \"9\""}`,
			`Socket.IO EVENT / [malformed: payload is not JSON] | {"eio":"message","eio_version":4,"type":"EVENT","namespace":"/","payload":"[\"x\"","malformed":"payload is not JSON"}`,
			`Socket.IO EVENT / [malformed: EVENT payload is not an array] | {"eio":"message","eio_version":4,"type":"EVENT","namespace":"/","payload":"{\"a\":1}","malformed":"EVENT payload is not an array"}`,
			`Socket.IO ACK / [malformed: ACK without an ack id] | {"eio":"message","eio_version":4,"type":"ACK","namespace":"/","payload":"[\"no id\"]","malformed":"ACK without an ack id"}`,
			`Engine.IO open [malformed: empty Engine.IO packet] | {"eio":"open","eio_version":4,"malformed":"empty Engine.IO packet"}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, NewDecoder(tt.eio), tt.msgs)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestFields(t *testing.T) {
	d := NewDecoder(4)
	recs := d.Decode(app.Message{Opcode: app.Text, Payload: []byte(`42/chat,["message","hi"]`)})
	want := map[string]string{"socketio.event": "message", "socketio.namespace": "/chat", "socketio.type": "EVENT", "socketio.args": `["hi"]`}
	for _, f := range Fields() {
		v := f.Get(recs[0], nil)
		if w, ok := want[f.Name]; ok {
			if len(v) != 1 || string(v[0].B) != w {
				t.Errorf("%s = %v, want %q", f.Name, v, w)
			}
		}
	}
}

func TestVersionFromPings(t *testing.T) {
	for _, tt := range []struct {
		dir  app.Dir
		want int
	}{{c2s, 3}, {s2c, 4}} {
		d := NewDecoder(0)
		d.Decode(app.Message{Dir: s2c, Opcode: app.Text, Payload: []byte(`0{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1}`)})
		d.Decode(app.Message{Dir: c2s, Opcode: app.Text, Payload: []byte(`2probe`)}) // both versions: no evidence
		if d.Version() != 4 {
			t.Fatalf("version %d before any plain ping", d.Version())
		}
		d.Decode(app.Message{Dir: tt.dir, Opcode: app.Text, Payload: []byte(`2`)})
		d.Decode(app.Message{Dir: tt.dir ^ 1, Opcode: app.Text, Payload: []byte(`2`)}) // settled already
		if d.Version() != tt.want {
			t.Errorf("ping %v: version %d, want %d", tt.dir, d.Version(), tt.want)
		}
	}
}
