package attach_test

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/subproto/attach"
)

// wsMsg is one hand-made WebSocket message of a test connection.
type wsMsg struct {
	dir     dissect.Dir
	op      uint8
	payload string
}

// feed runs a connection with the given subprotocol and URL and its
// messages, as message records, through the attach sink, Split, the
// filter when expr is not empty, and the NDJSON and summary renderers; it
// returns the message records' NDJSON and summary lines.
func feed(t *testing.T, subprotocol, url, expr string, msgs []wsMsg) (js, sum []string) {
	t.Helper()
	var jb, sb bytes.Buffer
	jr := render.New(&jb, render.Options{Format: render.FormatJSON})
	sr := render.New(&sb, render.Options{})
	var out dissect.Sink = render.NewTee(jr, sr)
	if expr != "" {
		reg := field.Builtin()
		if err := reg.Add(attach.Fields()...); err != nil {
			t.Fatal(err)
		}
		f, err := filter.CompileWith(expr, reg)
		if err != nil {
			t.Fatal(err)
		}
		out = filter.NewSink(f, out)
	}
	sink := attach.NewSink(attach.NewSplit(out), "")
	c := &dissect.Conn{Client: netip.MustParseAddrPort("127.0.0.1:50000"), Server: netip.MustParseAddrPort("127.0.0.1:80"),
		Method: "GET", Path: url, Status: 101, Subprotocol: subprotocol}
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := sink.Emit(&dissect.Record{Kind: dissect.KindConn, Conn: c, Packet: 1, Time: t0}); err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		p := []byte(m.payload)
		r := &dissect.Record{Kind: dissect.KindMessage, Conn: c, Packet: uint64(i + 2), Time: t0.Add(time.Duration(i+1) * time.Millisecond),
			Dir: m.dir, HasDir: true, Message: &dissect.Message{Dir: m.dir, Opcode: m.op, Len: uint64(len(p)), Frames: 1, Payload: p}}
		if err := sink.Emit(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := jr.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := sr.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(jb.String(), "\n") {
		if strings.Contains(l, `"type":"message"`) {
			js = append(js, l)
		}
	}
	for _, l := range strings.Split(sb.String(), "\n") {
		if strings.Contains(l, " message ") {
			sum = append(sum, l)
		}
	}
	return js, sum
}

const (
	c2s = dissect.ClientToServer
	s2c = dissect.ServerToClient
	bin = dissect.OpBinary
	txt = dissect.OpText
)

// TestSplitOneRecordPerApplicationMessage checks --messages' shape: a
// WebSocket message carrying several application messages becomes one
// record each, with "app" giving the place; a message that leaves one
// unfinished says so; the filter selects exactly the matching ones.
func TestSplitOneRecordPerApplicationMessage(t *testing.T) {
	pubT1 := "\x30\x05\x00\x02t1a"
	pubT2 := "\x30\x05\x00\x02t2b"
	ping := "\xc0\x00"
	tests := []struct {
		name, sub, url, filter string
		msgs                   []wsMsg
		json                   [][]string // per record shown, substrings its NDJSON has
		notJSON                [][]string // per record shown, substrings it must not have
		summary                []string   // per record shown, a substring of its summary
	}{
		{
			name: "three MQTT packets and the start of a fourth in one message", sub: "mqtt",
			msgs: []wsMsg{{c2s, bin, pubT1 + pubT2 + ping + "\x30\x05\x00"}},
			json: [][]string{
				{`"topic":"t1"`, `"app":{"index":1,"count":3}`},
				{`"topic":"t2"`, `"app":{"index":2,"count":3}`},
				{`"PINGREQ"`, `"app":{"index":3,"count":3,"pending":{"what":"MQTT PUBLISH packet","have":3,"want":7,"unit":"bytes","messages":1}}`},
			},
			notJSON: [][]string{{`"pending"`}, {`"pending"`}, nil},
			summary: []string{"(1 of 3)", "(2 of 3)", "(3 of 3) (continued in a later message: MQTT PUBLISH packet, 3 of 7 bytes)"},
		},
		{
			name: "a filter on mqtt.topic selects exactly that packet", sub: "mqtt", filter: `mqtt.topic == "t2"`,
			msgs:    []wsMsg{{c2s, bin, pubT1 + pubT2 + ping}},
			json:    [][]string{{`"topic":"t2"`, `"app":{"index":2,"count":3}`}},
			notJSON: [][]string{{`"t1"`, `PINGREQ`}},
			summary: []string{"MQTT PUBLISH t2"},
		},
		{
			name: "an MQTT packet split over three messages", sub: "mqtt",
			msgs: []wsMsg{{c2s, bin, "\x30"}, {c2s, bin, "\x05\x00\x02"}, {c2s, bin, "t1a"}},
			json: [][]string{
				{`"app":{"pending":{"what":"MQTT PUBLISH packet","have":1,"unit":"bytes","messages":1}}`},
				{`"app":{"pending":{"what":"MQTT PUBLISH packet","have":4,"want":7,"unit":"bytes","messages":2}}`},
				{`"topic":"t1"`},
			},
			notJSON: [][]string{{`"mqtt"`}, {`"mqtt"`}, {`"app"`}},
			summary: []string{"(continued in a later message: MQTT PUBLISH packet, 1 byte)", "4 of 7 bytes", "[in 3 messages]"},
		},
		{
			name: "a filter on app.pending and app.index", sub: "mqtt", filter: `app.pending == "MQTT PUBLISH packet" || app.index == 2`,
			msgs: []wsMsg{{c2s, bin, "\x30"}, {c2s, bin, "\x05\x00\x02t1a"}, {c2s, bin, pubT1 + pubT2}},
			json: [][]string{
				{`"app":{"pending":{"what":"MQTT PUBLISH packet"`},
				{`"topic":"t2"`, `"app":{"index":2,"count":2}`},
			},
			notJSON: [][]string{{`"mqtt"`}, {`"t1"`}},
			summary: []string{"(continued in a later message", "(2 of 2)"},
		},
		{
			name: "a Socket.IO binary event and its attachment are one application message", url: "/socket.io/?EIO=4&transport=websocket",
			msgs: []wsMsg{{s2c, txt, `451-["file",{"_placeholder":true,"num":0}]`}, {s2c, bin, "\x01\x02"}},
			json: [][]string{
				{`"app":{"pending":{"what":"Socket.IO BINARY_EVENT","have":0,"want":1,"unit":"attachments","messages":1}}`},
				{`"event":"file"`},
			},
			notJSON: [][]string{{`"socketio"`}, {`"app"`}},
			summary: []string{"Socket.IO BINARY_EVENT, 0 of 1 attachments", `"file"`},
		},
		{
			name: "STOMP frames batched in one message", sub: "v12.stomp",
			msgs: []wsMsg{{s2c, txt, "MESSAGE\ndestination:/a\nsubscription:0\nmessage-id:1\n\nx\x00MESSAGE\ndestination:/b\nsubscription:0\nmessage-id:2\n\ny\x00"}},
			json: [][]string{
				{`["destination","/a"]`, `"app":{"index":1,"count":2}`},
				{`["destination","/b"]`, `"app":{"index":2,"count":2}`},
			},
			notJSON: [][]string{{`["destination","/b"]`}, {`["destination","/a"]`}},
			summary: []string{"STOMP MESSAGE /a", "STOMP MESSAGE /b"},
		},
		{
			name: "a malformed packet's anomaly goes with its own record", sub: "mqtt",
			msgs: []wsMsg{{c2s, bin, pubT1 + "\xc0\x01x"}},
			json: [][]string{
				{`"topic":"t1"`},
				{`"PINGREQ"`, `"mqtt-malformed"`},
			},
			notJSON: [][]string{{`"anomalies"`}, nil},
			summary: []string{"MQTT PUBLISH t1", "PINGREQ"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, sum := feed(t, tt.sub, tt.url, tt.filter, tt.msgs)
			if len(js) != len(tt.json) || len(sum) != len(tt.summary) {
				t.Fatalf("%d NDJSON and %d summary records, want %d:\n%s\n%s", len(js), len(sum), len(tt.json),
					strings.Join(js, "\n"), strings.Join(sum, "\n"))
			}
			for i := range js {
				for _, want := range tt.json[i] {
					if !strings.Contains(js[i], want) {
						t.Errorf("record %d lacks %s:\n%s", i+1, want, js[i])
					}
				}
				for _, bad := range tt.notJSON[i] {
					if strings.Contains(js[i], bad) {
						t.Errorf("record %d has %s:\n%s", i+1, bad, js[i])
					}
				}
				if !strings.Contains(sum[i], tt.summary[i]) {
					t.Errorf("summary %d lacks %q:\n%s", i+1, tt.summary[i], sum[i])
				}
			}
		})
	}
}
