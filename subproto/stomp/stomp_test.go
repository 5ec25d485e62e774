package stomp

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

type msg struct {
	dir app.Dir
	p   string
}

func run(t *testing.T, d *Decoder, msgs []msg) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		payload := []byte(m.p)
		for _, r := range d.Decode(app.Message{Dir: m.dir, Opcode: app.Text, Payload: payload}) {
			js := r.AppendJSON(nil)
			if !json.Valid(js) {
				t.Fatalf("invalid JSON %s", js)
			}
			out = append(out, app.Summary(r)+" | "+string(js))
		}
	}
	return out
}

const c2s, s2c = app.ClientToServer, app.ServerToClient

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		v    uint8
		msgs []msg
		want []string
	}{
		{"connect and send", 0, []msg{
			{c2s, "CONNECT\naccept-version:1.0,1.1,1.2\nheart-beat:10000,10000\nhost:a\\c\n\n\x00\n"},
			{s2c, "CONNECTED\nversion:1.1\nheart-beat:0,0\n\n\x00"},
			{c2s, "SEND\ndestination:/queue/a\ncontent-type:text/plain\ncustom:x\\cy\\n\\\\\n\nhello\x00"},
			{c2s, "\n"},
		}, []string{
			`STOMP CONNECT | {"command":"CONNECT","version":"1.2","headers":[["accept-version","1.0,1.1,1.2"],["heart-beat","10000,10000"],["host","a\\c"]]}`,
			`STOMP CONNECTED | {"command":"CONNECTED","version":"1.2","headers":[["version","1.1"],["heart-beat","0,0"]]}`,
			`STOMP SEND /queue/a (5 bytes) | {"command":"SEND","version":"1.1","headers":[["destination","/queue/a"],["content-type","text/plain"],["custom","x:y\n\\"]],"body":"hello"}`,
			`STOMP heart-beat | {"heartbeat":true,"version":"1.1"}`,
		}},
		{"content-length with NUL in body, two frames, CRLF", 12, []msg{
			{s2c, "MESSAGE\r\ndestination:/topic/t\r\nsubscription:0\r\nmessage-id:7\r\ncontent-length:3\r\n\r\na\x00b\x00\r\nRECEIPT\nreceipt-id:r1\n\n\x00"},
		}, []string{
			`STOMP MESSAGE /topic/t (3 bytes) | {"command":"MESSAGE","version":"1.2","headers":[["destination","/topic/t"],["subscription","0"],["message-id","7"],["content-length","3"]],"body":"a\u0000b"}`,
			`STOMP RECEIPT receipt-id=r1 | {"command":"RECEIPT","version":"1.2","headers":[["receipt-id","r1"]]}`,
		}},
		{"1.0 has no escapes", 10, []msg{
			{c2s, "SEND\ndestination:/a\\c\n\n\x00"},
		}, []string{
			`STOMP SEND /a\c | {"command":"SEND","version":"1.0","headers":[["destination","/a\\c"]]}`,
		}},
		{"split over messages", 12, []msg{
			{c2s, "SEND\ndestination:/q\ncontent-length:4\n\nab"},
			{c2s, "cd\x00"},
		}, []string{
			`STOMP SEND /q (4 bytes) [in 2 messages] | {"command":"SEND","version":"1.2","messages":2,"headers":[["destination","/q"],["content-length","4"]],"body":"abcd"}`,
		}},
		{"malformed", 12, []msg{
			{c2s, "FOO\n\n\x00"},
			{c2s, "SEND\ndestination:\\t\n\n\x00"},
			{c2s, "SEND\nnocolon\n\n\x00"},
			{c2s, "SEND\ndestination:/q\n\nno nul"},
			{c2s, "SEND\nx-odd:a:b\nc\\d\n\n\x00"}, // stompjs 7 with STOMP 1.1 leaves such values unescaped
			{c2s, "DISCONNECT\n\n\x00"},
		}, []string{
			`STOMP FOO [malformed: unknown command "FOO"] | {"command":"FOO","version":"1.2","headers":[],"malformed":"unknown command \"FOO\""}`,
			`STOMP SEND \t [malformed: undefined escape \t in a header] | {"command":"SEND","version":"1.2","headers":[["destination","\\t"]],"malformed":"undefined escape \\t in a header"}`,
			`STOMP SEND [malformed: header line without a colon] | {"command":"SEND","version":"1.2","headers":[],"malformed":"header line without a colon"}`,
			`STOMP SEND /q (6 bytes) [malformed: frame without NUL terminator] | {"command":"SEND","version":"1.2","headers":[["destination","/q"]],"body":"no nul","malformed":"frame without NUL terminator"}`,
			`STOMP SEND [malformed: header line without a colon] | {"command":"SEND","version":"1.2","headers":[["x-odd","a:b"]],"malformed":"header line without a colon"}`,
			`STOMP DISCONNECT | {"command":"DISCONNECT","version":"1.2","headers":[]}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, NewDecoder(tt.v), tt.msgs)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestFields(t *testing.T) {
	d := NewDecoder(12)
	recs := d.Decode(app.Message{Opcode: app.Text, Payload: []byte("SEND\ndestination:/queue/a\n\nx\x00")})
	want := map[string]string{"stomp.command": "SEND", "stomp.destination": "/queue/a", "stomp.body": "x", "stomp.header": "destination:/queue/a"}
	seen := 0
	for _, f := range Fields() {
		v := f.Get(recs[0], nil)
		if w, ok := want[f.Name]; ok {
			seen++
			if len(v) != 1 || string(v[0].B) != w {
				t.Errorf("%s = %v, want %q", f.Name, v, w)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("saw %d of %d fields", seen, len(want))
	}
}
