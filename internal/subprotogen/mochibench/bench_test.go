// Package mochibench measures wsdissect's own MQTT packet decoder
// (subproto/mqtt) against github.com/mochi-mqtt/server/v2/packets, which
// decodes packets from byte slices, on the packets mqtt.js and aedes sent
// in testdata/subproto/mqtt.json and mqtt5.json. It is a separate module so
// that wsdissect itself does not depend on mochi-mqtt; run it with
//
//	cd internal/subprotogen/mochibench && go test -bench . -benchmem
package mochibench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"
	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/mqtt"
)

// loadPackets returns the complete packets of a recording, per direction
// concatenated from its messages and cut at packet boundaries, and the
// protocol level.
func loadPackets(tb testing.TB, file string) ([][]byte, byte) {
	b, err := os.ReadFile("../../../testdata/subproto/" + file)
	if err != nil {
		tb.Fatal(err)
	}
	var v struct {
		Messages []struct {
			Dir string `json:"dir"`
			B64 []byte `json:"b64"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		tb.Fatal(err)
	}
	var pkts [][]byte
	var level byte = 4
	for _, dir := range []string{"c2s", "s2c"} {
		var stream []byte
		for _, m := range v.Messages {
			if m.Dir == dir {
				stream = append(stream, m.B64...)
			}
		}
		for len(stream) > 0 {
			rem, mult, i := 0, 1, 1
			for ; stream[i]&128 != 0; i++ {
				rem += int(stream[i]&127) * mult
				mult *= 128
			}
			rem += int(stream[i]&127) * mult
			n := i + 1 + rem
			if stream[0]>>4 == 1 {
				level = stream[i+1+2+4]
			}
			pkts = append(pkts, stream[:n])
			stream = stream[n:]
		}
	}
	return pkts, level
}

func mochiDecode(pk *packets.Packet, b []byte, level byte) error {
	*pk = packets.Packet{ProtocolVersion: level}
	if err := pk.FixedHeader.Decode(b[0]); err != nil {
		return err
	}
	rem, n, err := packets.DecodeLength(bytes.NewReader(b[1:]))
	if err != nil {
		return err
	}
	pk.FixedHeader.Remaining = rem
	body := b[1+n:]
	switch pk.FixedHeader.Type {
	case packets.Connect:
		return pk.ConnectDecode(body)
	case packets.Connack:
		return pk.ConnackDecode(body)
	case packets.Publish:
		return pk.PublishDecode(body)
	case packets.Puback:
		return pk.PubackDecode(body)
	case packets.Pubrec:
		return pk.PubrecDecode(body)
	case packets.Pubrel:
		return pk.PubrelDecode(body)
	case packets.Pubcomp:
		return pk.PubcompDecode(body)
	case packets.Subscribe:
		return pk.SubscribeDecode(body)
	case packets.Suback:
		return pk.SubackDecode(body)
	case packets.Unsubscribe:
		return pk.UnsubscribeDecode(body)
	case packets.Unsuback:
		return pk.UnsubackDecode(body)
	case packets.Pingreq, packets.Pingresp:
		return nil
	case packets.Disconnect:
		return pk.DisconnectDecode(body)
	case packets.Auth:
		return pk.AuthDecode(body)
	}
	return fmt.Errorf("type %d", pk.FixedHeader.Type)
}

// TestBothDecodeAll checks that both decoders accept every recorded packet
// and agree on the topic of each PUBLISH.
func TestBothDecodeAll(t *testing.T) {
	for _, f := range []string{"mqtt.json", "mqtt5.json"} {
		pkts, level := loadPackets(t, f)
		d := mqtt.NewDecoder()
		d.SetLevel(level)
		var pk packets.Packet
		for i, p := range pkts {
			if err := mochiDecode(&pk, p, level); err != nil {
				t.Fatalf("%s packet %d: mochi: %v", f, i, err)
			}
			recs := d.Decode(app.Message{Opcode: app.Binary, Payload: p})
			if len(recs) != 1 || recs[0].Malformed() != "" {
				t.Fatalf("%s packet %d: ours: %v", f, i, recs)
			}
			if ours := recs[0].(*mqtt.Packet); ours.Type == mqtt.PUBLISH && string(ours.Topic) != pk.TopicName {
				t.Fatalf("%s packet %d: topics %q vs %q", f, i, ours.Topic, pk.TopicName)
			}
		}
	}
}

func bench(b *testing.B, file string, ours bool) {
	pkts, level := loadPackets(b, file)
	d := mqtt.NewDecoder()
	d.SetLevel(level)
	var pk packets.Packet
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := pkts[i%len(pkts)]
		if ours {
			if r := d.Decode(app.Message{Opcode: app.Binary, Payload: p}); len(r) != 1 {
				b.Fatal("no packet")
			}
		} else if err := mochiDecode(&pk, p, level); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOwn311(b *testing.B)   { bench(b, "mqtt.json", true) }
func BenchmarkMochi311(b *testing.B) { bench(b, "mqtt.json", false) }
func BenchmarkOwn5(b *testing.B)     { bench(b, "mqtt5.json", true) }
func BenchmarkMochi5(b *testing.B)   { bench(b, "mqtt5.json", false) }
