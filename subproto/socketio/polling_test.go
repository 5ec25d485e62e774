package socketio

import (
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

func TestParseURL(t *testing.T) {
	info, ok := ParseURL("/socket.io/?EIO=3&transport=polling&t=N8hyd6w&sid=abc")
	if !ok || info != (RequestInfo{EIO: 3, Transport: "polling", SID: "abc"}) {
		t.Errorf("got %+v %v", info, ok)
	}
	if _, ok := ParseURL("/chat?room=1"); ok {
		t.Error("plain URL taken for Engine.IO")
	}
}

func TestDecodePolling(t *testing.T) {
	tests := []struct {
		name string
		eio  int
		dir  app.Dir
		body string
		want []string
	}{
		{"v4 handshake response", 4, s2c, `0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, []string{
			`Engine.IO open {"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`}},
		{"v4 several packets with binary", 4, c2s, "40\x1e451-[\"up\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID\x1e42[\"x\",1]", []string{
			`Socket.IO CONNECT /`, `Socket.IO BINARY_EVENT / "up" [{"_binary":"AQID"}] +1 attachments`, `Socket.IO EVENT / "x" [1]`}},
		{"v3 lengths in UTF-16 units", 3, s2c, "2:409:42[\"é😀\"]6:2probe", []string{
			`Socket.IO CONNECT /`, `Socket.IO EVENT / "é😀" []`, `Engine.IO ping probe`}},
		{"v3 binary", 3, c2s, "39:451-[\"f\",{\"_placeholder\":true,\"num\":0}]6:b4aGk=", []string{
			`Socket.IO BINARY_EVENT / "f" [{"_binary":"aGk="}] +1 attachments`}},
		{"v3 bad length", 3, c2s, "9:40", []string{`Engine.IO unknown 40 [malformed: Engine.IO 3 packet shorter than its length]`}},
		{"v4 bad base64", 4, c2s, "b!!", []string{`Engine.IO unknown b!! [malformed: binary packet is not base64]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.eio)
			var got []string
			for _, r := range d.DecodePolling(tt.dir, []byte(tt.body)) {
				got = append(got, app.Summary(r))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
