package attach_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/field"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/attach"
)

// collect keeps what tests look at of each record that reaches it.
type collect struct {
	layers    map[string]int
	anomalies []string
	choices   int
	json      bytes.Buffer
	r         *render.Renderer
}

func (c *collect) Emit(r *dissect.Record) error {
	for _, l := range r.Layers {
		if l.LayerName() == "decoder" {
			c.choices++
			continue
		}
		c.layers[l.LayerName()]++
	}
	for _, a := range r.Anomalies {
		c.anomalies = append(c.anomalies, a.ID)
	}
	return c.r.Emit(r)
}

// run reads a capture through the attach sink, in frame or message mode.
func run(t *testing.T, path string, messages bool, force string) *collect {
	t.Helper()
	c := &collect{layers: map[string]int{}}
	c.r = render.New(&c.json, render.Options{Format: render.FormatJSON})
	sink := attach.NewSink(c, force)
	if _, err := engine.ReadFile(path, engine.Options{Dissect: dissect.Options{Messages: messages}}, sink); err != nil {
		t.Fatal(err)
	}
	if err := c.r.Flush(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCapturesGetTheirLayer reads the real-library captures of each
// protocol in both record modes and checks that their records carry the
// protocol's layer, its decoder choice once, and no malformed anomaly.
func TestCapturesGetTheirLayer(t *testing.T) {
	tests := []struct {
		capture, layer string
		min            int
	}{
		{"mqtt", "mqtt", 10},
		{"mqtt5", "mqtt", 5},
		{"socketio", "socketio", 5},
		{"socketio-eio3", "socketio", 3},
		{"stomp", "stomp", 4},
		{"stomp11", "stomp", 4},
		{"graphqlws", "graphql", 4},
		{"graphqlws-legacy", "graphql", 4},
		{"jsonrpc", "jsonrpc", 4},
		{"tunnel-ssh", "tunnel", 2},
	}
	for _, tc := range tests {
		for _, messages := range []bool{false, true} {
			name := tc.capture
			if messages {
				name += "/messages"
			}
			t.Run(name, func(t *testing.T) {
				c := run(t, "../../testdata/subproto/"+tc.capture+".pcap", messages, "")
				if c.layers[tc.layer] < tc.min {
					t.Errorf("%d %s layers, want at least %d (all: %v)", c.layers[tc.layer], tc.layer, tc.min, c.layers)
				}
				if c.choices != 1 {
					t.Errorf("decoder choice shown %d times, want once", c.choices)
				}
				for _, a := range c.anomalies {
					if strings.HasSuffix(a, "-malformed") {
						t.Errorf("anomaly %s on a real library's traffic", a)
					}
				}
				if !strings.Contains(c.json.String(), `"`+tc.layer+`":{`) {
					t.Errorf("NDJSON lacks a %q object", tc.layer)
				}
			})
		}
	}
}

// TestDecodeAs checks --decode-as: none turns decoding off, a protocol
// forces its decoder even where the handshake says nothing.
func TestDecodeAs(t *testing.T) {
	if c := run(t, "../../testdata/subproto/mqtt.pcap", true, subproto.None); len(c.layers) != 0 || c.choices != 0 {
		t.Errorf("--decode-as none attached %v", c.layers)
	}
	c := run(t, "../../testdata/subproto/jsonrpc.pcap", true, subproto.JSON)
	if c.layers["jsonrpc"] != 0 || c.layers["json"] == 0 {
		t.Errorf("--decode-as json on JSON-RPC traffic: %v", c.layers)
	}
	if !strings.Contains(c.json.String(), `"method":"forced"`) {
		t.Errorf("the choice does not say it was forced:\n%s", firstLine(c.json.String(), `"decoder"`))
	}
}

// TestFields checks the protocols' fields through the registry and the
// filter on a real capture.
func TestFields(t *testing.T) {
	reg := field.Builtin()
	if err := reg.Add(attach.Fields()...); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"mqtt.topic", "mqtt.msgtype", "mqtt.qos", "stomp.command", "socketio.event",
		"socketio.namespace", "jsonrpc.method", "graphql.operation", "tunnel"} {
		if reg.Lookup(n) == nil {
			t.Errorf("no field %q", n)
		}
	}
	f, err := filter.CompileWith(`mqtt.topic == "sensors/t1" && mqtt.msgtype == 3`, reg)
	if err != nil {
		t.Fatal(err)
	}
	c := &collect{layers: map[string]int{}}
	c.r = render.New(&c.json, render.Options{Format: render.FormatJSON})
	sink := attach.NewSink(filter.NewSink(f, c), "")
	if _, err := engine.ReadFile("../../testdata/subproto/mqtt.pcap", engine.Options{Dissect: dissect.Options{Messages: true}}, sink); err != nil {
		t.Fatal(err)
	}
	if err := c.r.Flush(); err != nil {
		t.Fatal(err)
	}
	if c.layers["mqtt"] == 0 {
		t.Fatal("the filter selected no MQTT PUBLISH to sensors/t1")
	}
	// the conn record, held back by the filter until a record matched,
	// keeps the decoder choice
	if first := firstLine(c.json.String(), `"type":"conn"`); !strings.Contains(first, `"decoder":{"protocol":"mqtt"`) {
		t.Errorf("held conn record without its decoder: %.300s", first)
	}
	for _, line := range strings.Split(strings.TrimSpace(c.json.String()), "\n") {
		if strings.Contains(line, `"type":"message"`) && !strings.Contains(line, `"sensors/t1"`) {
			t.Errorf("record without the topic passed the filter: %.200s", line)
		}
	}
	var reg2 dissect.AnomalyRegistry
	if err := reg2.Add(append(dissect.Anomalies(), attach.Anomalies()...)...); err != nil {
		t.Fatal(err)
	}
	if !reg2.Has("mqtt-malformed") {
		t.Error("mqtt-malformed is not declared")
	}
}

func firstLine(s, sub string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return l
		}
	}
	return ""
}

// TestChoiceOnConnRecord checks where the decoder choice is said: on the
// conn record when the handshake or --decode-as decides, else on the
// first record after sniffing decided.
func TestChoiceOnConnRecord(t *testing.T) {
	tests := []struct {
		capture, force string
		onConn         bool
		want           string
	}{
		{"mqtt", "", true, `"decoder":{"protocol":"mqtt","method":"subprotocol","reason":"subprotocol \"mqtt\""}`},
		{"socketio", "", true, `"decoder":{"protocol":"socketio","method":"url","reason":"URL /socket.io/?EIO=4&transport=websocket"}`},
		{"jsonrpc", "json", true, `"decoder":{"protocol":"json","method":"forced","reason":"--decode-as json"}`},
		{"jsonrpc", "", false, `"decoder":{"protocol":"jsonrpc","method":"sniffed","reason":"sniffed: JSON-RPC 2.0 object in message 1 (c2s)"}`},
	}
	for _, tt := range tests {
		t.Run(tt.capture+"/"+tt.force, func(t *testing.T) {
			c := run(t, "../../testdata/subproto/"+tt.capture+".pcap", true, tt.force)
			line := firstLine(c.json.String(), `"decoder"`)
			if !strings.Contains(line, tt.want) {
				t.Errorf("first record with a decoder lacks %s:\n%s", tt.want, line)
			}
			if got := strings.HasPrefix(line, `{"type":"conn"`); got != tt.onConn {
				t.Errorf("choice on the conn record: %v, want %v", got, tt.onConn)
			}
		})
	}
}
