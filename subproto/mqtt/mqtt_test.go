package mqtt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

func bin(s ...any) []byte {
	var b []byte
	for _, v := range s {
		switch v := v.(type) {
		case int:
			b = append(b, byte(v))
		case string:
			b = append(b, byte(len(v)>>8), byte(len(v)))
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		}
	}
	return b
}

// pkt builds a packet with a fixed header around body.
func pkt(h byte, body []byte) []byte {
	b := []byte{h}
	n := len(body)
	for {
		c := byte(n & 127)
		n >>= 7
		if n > 0 {
			c |= 128
		}
		b = append(b, c)
		if n == 0 {
			break
		}
	}
	return append(b, body...)
}

var (
	connect311 = pkt(0x10, bin("MQTT", 4, 0xC2, 0, 60, "client-1", "alice", "pw"))
	connect5   = pkt(0x10, bin("MQTT", 5, 0x02, 0, 30, 5, 17, 0, 0, 0x0e, 0x10, "c5"))
	connack5   = pkt(0x20, bin(0, 0, 3, 0x22, 0, 10))
	publish1   = pkt(0x32, bin("sensors/t1", 0, 7, []byte("hello world!")))
	publish5   = pkt(0x30, bin("a/b", 3, 0x23, 0, 2, []byte{0xff, 0x00}))
	subscribe  = pkt(0x82, bin(0, 1, "a/b", 1, "c/#", 0))
	suback     = pkt(0x90, bin(0, 1, 1, 0x80))
	pingreq    = pkt(0xC0, nil)
	disconnect = pkt(0xE0, nil)
)

func decodeAll(t *testing.T, d *Decoder, dir app.Dir, msgs ...[]byte) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		for _, r := range d.Decode(app.Message{Dir: dir, Opcode: app.Binary, Payload: m}) {
			js := r.AppendJSON(nil)
			if !json.Valid(js) {
				t.Fatalf("invalid JSON %s", js)
			}
			n := 0
			r.Tree(func(int, string, string) { n++ })
			if n == 0 {
				t.Fatal("empty tree")
			}
			out = append(out, app.Summary(r))
		}
	}
	return out
}

func TestDecode(t *testing.T) {
	cat := func(b ...[]byte) []byte {
		return []byte(strings.Join(func() []string {
			var s []string
			for _, x := range b {
				s = append(s, string(x))
			}
			return s
		}(), ""))
	}
	tests := []struct {
		name string
		dir  app.Dir
		msgs [][]byte
		want []string
	}{
		{"connect 3.1.1", app.ClientToServer, [][]byte{connect311}, []string{"MQTT CONNECT client=client-1 v3.1.1 keepalive=60 clean user=alice"}},
		{"publish qos1", app.ClientToServer, [][]byte{publish1}, []string{"MQTT PUBLISH sensors/t1 QoS1 id=7 (12 bytes)"}},
		{"several per message", app.ClientToServer, [][]byte{cat(subscribe, pingreq, disconnect)}, []string{
			"MQTT SUBSCRIBE id=1 a/b QoS1, c/# QoS0", "MQTT PINGREQ", "MQTT DISCONNECT"}},
		{"split header and body", app.ClientToServer, [][]byte{publish1[:1], publish1[1:5], publish1[5:]}, []string{
			"MQTT PUBLISH sensors/t1 QoS1 id=7 (12 bytes) [in 3 messages]"}},
		{"split plus next", app.ClientToServer, [][]byte{publish1[:4], cat(publish1[4:], pingreq)}, []string{
			"MQTT PUBLISH sensors/t1 QoS1 id=7 (12 bytes) [in 2 messages]", "MQTT PINGREQ"}},
		{"suback", app.ServerToClient, [][]byte{suback}, []string{"MQTT SUBACK id=1 [0x01 0x80]"}},
		{"bad varint", app.ClientToServer, [][]byte{{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}}, []string{
			"MQTT PUBLISH  QoS0 (0 bytes) [malformed: remaining length longer than 4 bytes]"}},
		{"truncated field", app.ClientToServer, [][]byte{pkt(0x30, bin(0, 9, 'a'))}, []string{
			"MQTT PUBLISH  QoS0 (0 bytes) [malformed: truncated topic name]"}},
		{"bad flags", app.ClientToServer, [][]byte{pkt(0x80, bin(0, 1, "a", 0))}, []string{
			"MQTT SUBSCRIBE id=1 a QoS0 [malformed: fixed header flags 0 invalid for SUBSCRIBE]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeAll(t, NewDecoder(), tt.dir, tt.msgs...)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestV5LevelFromConnect(t *testing.T) {
	d := NewDecoder()
	got := decodeAll(t, d, app.ClientToServer, connect5)
	if got[0] != "MQTT CONNECT client=c5 v5.0 keepalive=30 clean" || d.Level() != 5 {
		t.Fatalf("got %q level %d", got, d.Level())
	}
	recs := d.Decode(app.Message{Dir: app.ServerToClient, Payload: connack5})
	p := recs[0].(*Packet)
	if p.Malformed() != "" || !p.HasProps {
		t.Fatalf("connack: %s", app.Summary(p))
	}
	if js := app.JSON(p); !strings.Contains(js, `"name":"topic_alias_maximum","value":10`) {
		t.Errorf("connack JSON %s", js)
	}
	recs = d.Decode(app.Message{Dir: app.ClientToServer, Payload: publish5})
	p = recs[0].(*Packet)
	if js := app.JSON(p); !strings.Contains(js, `"payload_b64":"/wA="`) || !strings.Contains(js, `"topic_alias"`) {
		t.Errorf("publish JSON %s", js)
	}
	var vals []app.Value
	for _, f := range Fields() {
		if f.Name == "mqtt.topic" {
			vals = f.Get(p, vals)
		}
	}
	if len(vals) != 1 || string(vals[0].B) != "a/b" {
		t.Errorf("mqtt.topic = %v", vals)
	}
}

func TestOversizedSkipped(t *testing.T) {
	d := NewDecoder()
	d.MaxPacket = 10
	big := pkt(0x30, bin("t", []byte(strings.Repeat("x", 20))))
	got := decodeAll(t, d, app.ClientToServer, big[:8], cat2(big[8:], pingreq))
	want := []string{"MQTT PUBLISH  QoS0 (0 bytes) [malformed: packet of 25 bytes exceeds the limit of 10]", "MQTT PINGREQ"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
}

func cat2(a, b []byte) []byte { return append(append([]byte{}, a...), b...) }
