package attach_test

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/attach"
	"github.com/wsdissect/wsdissect/subproto/graphqlws"
	"github.com/wsdissect/wsdissect/subproto/jsonmsg"
	"github.com/wsdissect/wsdissect/subproto/jsonrpc"
	"github.com/wsdissect/wsdissect/subproto/mqtt"
	"github.com/wsdissect/wsdissect/subproto/socketio"
	"github.com/wsdissect/wsdissect/subproto/stomp"
	"github.com/wsdissect/wsdissect/subproto/tunnel"
)

// mqttPartial is the first n bytes of an MQTT PUBLISH that announces
// 1 MiB: a decoder holds them for the rest.
func mqttPartial(n int) []byte {
	b := []byte{0x30, 0x80, 0x80, 0x40, 0, 1, 't'}
	return append(b, make([]byte, n-len(b))...)
}

// TestHoldersHoldAndShrink feeds each decoder messages that leave state
// behind and checks that Held counts it and that Gap and Shrink give it up.
func TestHoldersHoldAndShrink(t *testing.T) {
	big := strings.Repeat("x", 40<<10)
	tests := []struct {
		name  string
		dec   app.Decoder
		msgs  []app.Message
		least int // Held after the messages is at least this
	}{
		{"mqtt unfinished packet", mqtt.NewDecoder(), []app.Message{{Opcode: app.Binary, Payload: mqttPartial(40 << 10)}}, 40 << 10},
		{"stomp unfinished frame", stomp.NewDecoder(stomp.V12), []app.Message{{Opcode: app.Text, Payload: []byte("SEND\ndestination:/q\n\n" + big)}}, 40 << 10},
		{"socketio attachments waiting", socketio.NewDecoder(4), []app.Message{
			{Opcode: app.Text, Payload: []byte(`452-["f",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)},
			{Opcode: app.Binary, Payload: []byte(big)}}, 40 << 10},
		{"jsonrpc requests waiting", jsonrpc.NewDecoder(), manyJSON(`{"jsonrpc":"2.0","id":%d,"method":"` + strings.Repeat("m", 100) + `"}`), 500 * 100},
		{"graphql-ws operations", graphqlws.NewDecoder(false), manyJSON(`{"type":"subscribe","id":"%d","payload":{"query":"subscription S { x }"}}`), 500 * 10},
		{"tunnel base64 buffer", tunnel.NewDecoder(true), []app.Message{{Opcode: app.Text, Payload: []byte(strings.Repeat("QUJD", 10<<10))}}, 30 << 10},
		{"json compact buffer", jsonmsg.NewDecoder(), []app.Message{{Opcode: app.Text, Payload: []byte(`{ "a" : "` + big + `" }`)}}, 40 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ok := tt.dec.(app.Holder)
			if !ok {
				t.Fatalf("%T is not an app.Holder", tt.dec)
			}
			for _, m := range tt.msgs {
				tt.dec.Decode(m)
			}
			if got := h.Held(); got < tt.least {
				t.Errorf("Held() = %d after the messages, want at least %d", got, tt.least)
			}
			if g, ok := tt.dec.(app.Gapper); ok {
				g.Gap(app.ClientToServer)
				g.Gap(app.ServerToClient)
			}
			h.Shrink()
			if got := h.Held(); got > 4<<10 {
				t.Errorf("Held() = %d after Gap and Shrink", got)
			}
		})
	}
}

// manyJSON returns 500 client text messages made from format with %d.
func manyJSON(format string) []app.Message {
	var ms []app.Message
	for i := range 500 {
		ms = append(ms, app.Message{Opcode: app.Text, Payload: []byte(strings.ReplaceAll(format, "%d", strconv.Itoa(i)))})
	}
	return ms
}

// anomalyLog keeps the anomaly ids and application layers of each record.
type anomalyLog struct{ recs []string }

func (l *anomalyLog) Emit(r *dissect.Record) error {
	var parts []string
	for _, a := range r.Anomalies {
		parts = append(parts, a.ID)
	}
	for _, ly := range r.Layers {
		parts = append(parts, ly.LayerName())
	}
	l.recs = append(l.recs, strings.Join(parts, ","))
	return nil
}

// TestSinkChargesDecoders checks that what the decoders hold is charged to
// the memory budget, that a decoder gives it up at once when the budget
// runs out (its record saying so, with the packet it cut), and that all of
// it is given back when the connections end.
func TestSinkChargesDecoders(t *testing.T) {
	const conns, limit = 32, 512 << 10
	b := membudget.New(limit)
	log := &anomalyLog{}
	s := attach.NewSink(log, "")
	s.UseMemory(b.Account())
	at := time.Unix(1700000000, 0)
	payload := mqttPartial(64 << 10)
	conn := func(i int) *dissect.Conn {
		return &dissect.Conn{Stream: uint64(i), Client: netip.MustParseAddrPort("10.0.0.1:1000"),
			Server: netip.MustParseAddrPort("10.0.0.2:80"), Method: "GET", Status: 101, Subprotocol: "mqtt"}
	}
	emit := func(r dissect.Record) {
		t.Helper()
		if err := s.Emit(&r); err != nil {
			t.Fatal(err)
		}
	}
	peak := int64(0)
	for i := range conns {
		c := conn(i)
		emit(dissect.Record{Kind: dissect.KindConn, Conn: c, Time: at})
		emit(dissect.Record{Kind: dissect.KindMessage, Conn: c, Time: at, Dir: dissect.ClientToServer,
			Message: &dissect.Message{Dir: dissect.ClientToServer, Opcode: dissect.OpBinary, Payload: payload, Len: uint64(len(payload))}})
		peak = max(peak, b.Used())
	}
	gaveUp := 0
	for _, r := range log.recs {
		if strings.Contains(r, dissect.AnMemoryBudget) {
			gaveUp++
			if !strings.Contains(r, "mqtt-malformed") {
				t.Errorf("record %q gave up its state without the packet it cut", r)
			}
		}
	}
	if gaveUp == 0 || gaveUp == conns {
		t.Errorf("%d of %d connections gave their state up; want some, once the budget ran out", gaveUp, conns)
	}
	if peak > limit+2*(64<<10)+64<<10 {
		t.Errorf("budget peaked at %d bytes, limit %d", peak, limit)
	}
	for i := range conns {
		emit(dissect.Record{Kind: dissect.KindEnd, Conn: conn(i), Time: at, End: &dissect.End{Reason: dissect.EndFIN}})
	}
	if used := b.Used(); used > 2<<16 { // what the account keeps in reserve
		t.Errorf("%d bytes still charged after every connection ended", used)
	}
}

// TestHoldAtMost checks that a decoder bounded by HoldAtMost skips an
// unfinished packet larger than the bound instead of holding it, says why,
// and holds such packets again once the bound is lifted.
func TestHoldAtMost(t *testing.T) {
	big := strings.Repeat("x", 40<<10)
	tests := []struct {
		name string
		dec  app.Decoder
		msg  app.Message
	}{
		{"mqtt", mqtt.NewDecoder(), app.Message{Opcode: app.Binary, Payload: mqttPartial(40 << 10)}},
		{"stomp", stomp.NewDecoder(stomp.V12), app.Message{Opcode: app.Text, Payload: []byte("SEND\ndestination:/q\n\n" + big)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.dec.(app.Holder)
			h.HoldAtMost(16 << 10)
			recs := tt.dec.Decode(tt.msg)
			if len(recs) != 1 || !strings.Contains(recs[0].Malformed(), "memory budget") {
				t.Fatalf("bounded: %d records, first malformed %q; want one saying the bound was lowered", len(recs), firstMalformed(recs))
			}
			if got := h.Held(); got >= 16<<10 {
				t.Errorf("bounded: Held() = %d", got)
			}
			h.HoldAtMost(0)
			if g, ok := tt.dec.(app.Gapper); ok {
				g.Gap(tt.msg.Dir) // the skipped packet's rest will not come
			}
			tt.dec.Decode(tt.msg)
			if got := h.Held(); got < 40<<10 {
				t.Errorf("unbounded again: Held() = %d, want the packet held", got)
			}
		})
	}
}

func firstMalformed(recs []app.Record) string {
	if len(recs) == 0 {
		return ""
	}
	return recs[0].Malformed()
}
