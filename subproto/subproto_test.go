package subproto

import (
	"fmt"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

type msg struct {
	dir app.Dir
	op  app.Opcode
	p   string
}

func TestChoice(t *testing.T) {
	c2s, s2c := app.ClientToServer, app.ServerToClient
	mqttConnect := "\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04abcd"
	tests := []struct {
		name   string
		cfg    Config
		msgs   []msg
		proto  string
		method Method
		reason string
		first  string // summary of the first record
	}{
		{"subprotocol mqtt", Config{Subprotocol: "mqtt"}, []msg{{c2s, app.Binary, mqttConnect}}, MQTT, BySubprotocol, `subprotocol "mqtt"`, "MQTT CONNECT client=abcd v3.1.1 keepalive=60 clean"},
		{"subprotocol stomp 1.0", Config{Subprotocol: "v10.stomp"}, []msg{{c2s, app.Text, "SEND\ndestination:/a\\c\n\n\x00"}}, STOMP, BySubprotocol, `subprotocol "v10.stomp"`, `STOMP SEND /a\c`},
		{"subprotocol graphql-ws is legacy", Config{Subprotocol: "graphql-ws"}, []msg{{c2s, app.Text, `{"type":"ka"}`}}, GraphQL, BySubprotocol, `subprotocol "graphql-ws"`, "GraphQL ka"},
		{"subprotocol graphql-transport-ws", Config{Subprotocol: "graphql-transport-ws"}, []msg{{c2s, app.Text, `{"type":"ka"}`}}, GraphQL, BySubprotocol, `subprotocol "graphql-transport-ws"`, "GraphQL ka [malformed: unknown message type ka]"},
		{"websockify base64", Config{Subprotocol: "base64"}, []msg{{s2c, app.Text, "UkZCIDAwMy4wMDgK"}}, Tunnel, BySubprotocol, `subprotocol "base64"`, "Tunnel VNC (RFB) 12 bytes: RFB 003.008"},
		{"socket.io url", Config{URL: "/socket.io/?EIO=3&transport=websocket"}, []msg{{c2s, app.Text, `2probe`}}, SocketIO, ByURL, "URL /socket.io/?EIO=3&transport=websocket", "Engine.IO ping probe"},
		{"url beats nothing but not subprotocol", Config{URL: "/socket.io/?EIO=4&transport=websocket", Subprotocol: "mqtt"}, nil, MQTT, BySubprotocol, `subprotocol "mqtt"`, ""},
		{"forced", Config{Force: "jsonrpc", Subprotocol: "mqtt"}, []msg{{c2s, app.Text, `{"jsonrpc":"2.0","method":"a"}`}}, JSONRPC, Forced, "--decode-as jsonrpc", "JSON-RPC notification a"},
		{"forced none", Config{Force: "none", Subprotocol: "mqtt"}, []msg{{c2s, app.Binary, mqttConnect}}, "", NotFound, "decoding turned off (--decode-as none)", ""},
		{"sniff mqtt", Config{}, []msg{{c2s, app.Binary, mqttConnect}}, MQTT, BySniffing, "sniffed: MQTT CONNECT in message 1 (c2s)", "MQTT CONNECT client=abcd v3.1.1 keepalive=60 clean"},
		{"sniff engine.io open", Config{}, []msg{{s2c, app.Text, `0{"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`}}, SocketIO, BySniffing, "sniffed: Engine.IO open packet in message 1 (s2c)", `Engine.IO open {"sid":"x","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`},
		{"sniff stomp after noise", Config{}, []msg{{c2s, app.Text, "hello"}, {c2s, app.Text, "CONNECT\naccept-version:1.2\n\n\x00"}}, STOMP, BySniffing, "sniffed: STOMP CONNECT frame in message 2 (c2s)", "STOMP CONNECT"},
		{"sniff binary stomp", Config{}, []msg{{c2s, app.Binary, "CONNECT\naccept-version:1.2\n\n\x00"}}, STOMP, BySniffing, "sniffed: STOMP CONNECT frame in message 1 (c2s)", "STOMP CONNECT"},
		{"sniff mqtt.js split connect", Config{}, []msg{{c2s, app.Binary, "\x10"}, {c2s, app.Binary, "\x10"}, {c2s, app.Binary, "\x00\x04MQTT\x04\x02\x00\x3c\x00\x04abcd"}}, MQTT, BySniffing, "sniffed: MQTT CONNECT in message 1 (c2s)", "MQTT CONNECT client=abcd v3.1.1 keepalive=60 clean [in 3 messages]"},
		{"binary not mqtt", Config{}, []msg{{c2s, app.Binary, "\x10\x10\x00\x04MQTX"}}, "", Undecided, "no subprotocol or URL decides: sniffing the first 8 messages", ""},
		{"sniff graphql", Config{}, []msg{{c2s, app.Text, `{"type":"connection_init"}`}}, GraphQL, BySniffing, `sniffed: graphql-ws "connection_init" in message 1 (c2s)`, "GraphQL connection_init"},
		{"sniff jsonrpc batch", Config{}, []msg{{c2s, app.Text, `[{"jsonrpc":"2.0","method":"a","id":1}]`}}, JSONRPC, BySniffing, "sniffed: JSON-RPC 2.0 object in message 1 (c2s)", `JSON-RPC request a id=1 [batch 1/1]`},
		{"sniff json", Config{}, []msg{{s2c, app.Text, `{"op":1}`}}, JSON, BySniffing, "sniffed: JSON text in message 1 (s2c)", `JSON object {"op":1}`},
		{"sniff ssh", Config{}, []msg{{s2c, app.Binary, "SSH-2.0-x\r\n"}}, Tunnel, BySniffing, `sniffed: SSH opening "SSH-2.0-x" in message 1 (s2c)`, "Tunnel SSH 11 bytes: SSH-2.0-x"},
		{"give up", Config{}, []msg{{c2s, app.Text, "a"}, {c2s, app.Text, "b"}, {c2s, app.Text, "c"}, {c2s, app.Text, "d"}, {c2s, app.Text, "e"}, {c2s, app.Text, "f"}, {c2s, app.Text, "g"}, {c2s, app.Text, "h"}, {c2s, app.Text, "{}"}}, "", NotFound, "no protocol recognised in the first 8 messages", ""},
	}
	for _, tt := range tests {
		// Choose before each Decode must change nothing: it only makes
		// the choice Decode would make first.
		for _, choose := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/choose=%v", tt.name, choose), func(t *testing.T) {
				c := New(tt.cfg)
				var first string
				for _, m := range tt.msgs {
					am := app.Message{Dir: m.dir, Opcode: m.op, Payload: []byte(m.p)}
					if choose {
						if ch := c.Choose(am); ch != c.Choice() {
							t.Fatalf("Choose returned %+v, Choice says %+v", ch, c.Choice())
						}
					}
					for _, r := range c.Decode(am) {
						if first == "" {
							first = app.Summary(r)
						}
					}
				}
				ch := c.Choice()
				if ch.Protocol != tt.proto || ch.Method != tt.method || ch.Reason != tt.reason {
					t.Errorf("choice %+v, want %s %v %q", ch, tt.proto, tt.method, tt.reason)
				}
				if first != tt.first {
					t.Errorf("first record %q, want %q", first, tt.first)
				}
			})
		}
	}
}

// TestSniffMessagesText checks the digit the choice's reasons spell out.
func TestSniffMessagesText(t *testing.T) {
	if sniffMessagesText != fmt.Sprint(SniffMessages) {
		t.Errorf("sniffMessagesText %q, SniffMessages %d", sniffMessagesText, SniffMessages)
	}
}

// TestChooseWithoutDecode checks that messages only chosen from, never
// decoded, count towards the sniffing limit once each.
func TestChooseWithoutDecode(t *testing.T) {
	c := New(Config{})
	for i := range SniffMessages - 1 {
		if ch := c.Choose(app.Message{Opcode: app.Text, Payload: []byte("noise")}); ch.Method != Undecided {
			t.Fatalf("message %d: choice %+v", i+1, ch)
		}
	}
	ch := c.Choose(app.Message{Opcode: app.Text, Payload: []byte(`{"op":1}`)})
	if want := "sniffed: JSON text in message 8 (c2s)"; ch.Protocol != JSON || ch.Reason != want {
		t.Fatalf("choice %+v, want JSON %q", ch, want)
	}
	if r := c.Decode(app.Message{Opcode: app.Text, Payload: []byte(`{"op":2}`)}); len(r) != 1 {
		t.Fatalf("the message after the choice gave %d records", len(r))
	}
}

func TestControlFramesIgnored(t *testing.T) {
	c := New(Config{Subprotocol: "mqtt"})
	for _, op := range []app.Opcode{0, 8, 9, 10} {
		if r := c.Decode(app.Message{Opcode: op, Payload: []byte("\x10\x00")}); len(r) != 0 {
			t.Errorf("opcode %d gave %d records", op, len(r))
		}
	}
	if r := c.Decode(app.Message{Opcode: app.Binary, Payload: []byte("\xc0\x00")}); len(r) != 1 || app.Summary(r[0]) != "MQTT PINGREQ" {
		t.Errorf("data after control frames: %d records", len(r))
	}
}

func TestCheckForce(t *testing.T) {
	for _, s := range []string{"", "none", "mqtt", "socketio", "graphql", "tunnel"} {
		if err := CheckForce(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if err := CheckForce("amqp"); err == nil || !strings.Contains(err.Error(), "amqp") {
		t.Errorf("amqp: %v", err)
	}
}

func TestFieldsUniqueAndPrefixed(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Fields() {
		if seen[f.Name] {
			t.Errorf("duplicate field %s", f.Name)
		}
		seen[f.Name] = true
		if f.Get == nil || f.Desc == "" {
			t.Errorf("field %s lacks getter or description", f.Name)
		}
		pfx, _, _ := strings.Cut(f.Name, ".")
		if FieldsOf(pfx) == nil {
			t.Errorf("field %s has no protocol prefix", f.Name)
		}
		// a getter given a record of another protocol returns nothing
		if v := f.Get(nil, nil); len(v) != 0 {
			t.Errorf("%s on nil record: %v", f.Name, v)
		}
	}
	for _, want := range []string{"mqtt.topic", "mqtt.msgtype", "mqtt.qos", "stomp.command", "socketio.event", "socketio.namespace", "jsonrpc.method", "graphql.operation", "tunnel"} {
		if !seen[want] {
			t.Errorf("missing field %s", want)
		}
	}
}

func TestGap(t *testing.T) {
	c2s := app.ClientToServer
	tests := []struct {
		name string
		cfg  Config
		msgs []msg
		want string
	}{
		{"mqtt", Config{Subprotocol: "mqtt"}, []msg{{c2s, app.Binary, "\x30\x0a\x00\x03a/b"}}, "MQTT PUBLISH  QoS0 (0 bytes) [malformed: packet cut by missing data: 7 of 12 bytes]"},
		{"stomp", Config{Subprotocol: "v12.stomp"}, []msg{{c2s, app.Text, "SEND\ndestination:/q\ncontent-length:9\n\nabc"}}, "STOMP SEND /q (3 bytes) [malformed: frame cut by missing data]"},
		{"socketio", Config{URL: "/socket.io/?EIO=4&transport=websocket"}, []msg{{c2s, app.Text, `452-["f",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`}, {c2s, app.Binary, "x"}},
			`Socket.IO BINARY_EVENT / "f" [{"_binary":"eA=="},{"_placeholder":true,"num":1}] +2 attachments [malformed: attachments lost to missing data: got 1 of 2]`},
		{"stateless", Config{Subprotocol: "jsonrpc"}, []msg{{c2s, app.Text, `{"jsonrpc":"2.0","method":"a"}`}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.cfg)
			for _, m := range tt.msgs {
				for _, r := range c.Decode(app.Message{Dir: m.dir, Opcode: m.op, Payload: []byte(m.p)}) {
					if tt.want != "" {
						t.Errorf("record before the gap: %s", app.Summary(r))
					}
				}
			}
			var got []string
			for _, r := range c.Gap(c2s) {
				got = append(got, app.Summary(r))
			}
			if strings.Join(got, "|") != tt.want {
				t.Errorf("gap: %q, want %q", got, tt.want)
			}
			if again := c.Gap(c2s); len(again) != 0 {
				t.Errorf("second gap returned %d records", len(again))
			}
		})
	}
}
