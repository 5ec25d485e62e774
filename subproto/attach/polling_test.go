package attach_test

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/attach"
)

// TestPollingRecords feeds hand-made long-polling exchanges through the
// sink and Split and checks what each http record becomes.
func TestPollingRecords(t *testing.T) {
	type ex struct {
		method, target string
		status         int
		req, resp      string
		respCut        bool
	}
	const sid = "&sid=S1"
	tests := []struct {
		name, force string
		exs         []ex
		want        []string // per NDJSON record shown, substrings in order: "|" separates records
	}{
		{"v4 handshake, then a GET with several packets", "", []ex{
			{"GET", "/socket.io/?EIO=4&transport=polling&t=1", 200, "", `0{"sid":"S1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, false},
			{"GET", "/socket.io/?EIO=4&transport=polling" + sid, 200, "", "40{\"sid\":\"x\"}\x1e42[\"a\",1]\x1e2", false},
		}, []string{
			`"eio":"open","eio_version":4,"sid":"S1"`,
			`"type":"CONNECT"`, `"app":{"index":1,"count":3}`,
			`"event":"a"`, `"app":{"index":2,"count":3}`,
			`"eio":"ping","eio_version":4,"sid":"S1"`, `"app":{"index":3,"count":3}`,
		}},
		{"v4 POST carries the client's packets; its ok is not Engine.IO", "", []ex{
			{"POST", "/socket.io/?EIO=4&transport=polling" + sid, 200, "42[\"up\"]", "ok", false},
		}, []string{`"request_body":"42[\"up\"]"`, `"sid":"S1"`, `"event":"up"`}},
		{"v3 length prefixes and a binary packet", "", []ex{
			{"GET", "/socket.io/?EIO=3&transport=polling" + sid, 200, "", "7:42[\"b\"]6:b4AQID", false},
		}, []string{`"eio_version":3`, `"event":"b"`, `"app":{"index":1,"count":2}`, `"binary":true`}},
		{"an attachment waits across polls of the session", "", []ex{
			{"GET", "/socket.io/?EIO=4&transport=polling" + sid, 200, "", `451-["f",{"_placeholder":true,"num":0}]`, false},
			{"GET", "/socket.io/?EIO=4&transport=polling" + sid, 200, "", "bAQID", false},
		}, []string{`"type":"http"`, `"type":"http"`, `"event":"f"`, `{"_binary":"AQID"}`}},
		{"a body cut short drops what waits, as malformed", "", []ex{
			{"GET", "/socket.io/?EIO=4&transport=polling" + sid, 200, "", `451-["f",{"_placeholder":true,"num":0}]`, true},
		}, []string{`"response_truncated":true`, `"socketio-malformed"`}},
		{"an error status is not decoded", "", []ex{
			{"GET", "/socket.io/?EIO=4&transport=polling" + sid, 400, "", `{"code":1,"message":"Session ID unknown"}`, false},
		}, []string{`"status":400`}},
		{"--decode-as another protocol leaves polling alone", subproto.MQTT, []ex{
			{"GET", "/socket.io/?EIO=4&transport=polling" + sid, 200, "", `42["a"]`, false},
		}, []string{`"type":"http"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			r := render.New(&out, render.Options{Format: render.FormatJSON})
			sink := attach.NewSink(attach.NewSplit(r), tt.force)
			t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
			for i, x := range tt.exs {
				c := &dissect.Conn{Stream: uint64(i), Client: netip.MustParseAddrPort("127.0.0.1:5000"), Server: netip.MustParseAddrPort("127.0.0.1:80")}
				rec := &dissect.Record{Kind: dissect.KindHTTP, Conn: c, Packet: uint64(2*i + 2), Time: t0, HTTP: &dissect.HTTPExchange{
					Method: x.method, Target: x.target, Status: x.status, RequestBody: []byte(x.req), ResponseBody: []byte(x.resp),
					ResponseTruncated: x.respCut, RequestPacket: uint64(2*i + 1)}}
				if err := sink.Emit(rec); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %s (in order):\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
			if tt.force == subproto.MQTT && strings.Contains(got, `"socketio"`) {
				t.Errorf("decoded under --decode-as mqtt:\n%s", got)
			}
			if strings.Contains(tt.name, "error status") && strings.Contains(got, `"socketio"`) {
				t.Errorf("decoded an error body:\n%s", got)
			}
		})
	}
}
