package field

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

func TestRegistryAdd(t *testing.T) {
	get := func(*dissect.Record, int, *[]byte) (Value, bool) { return Value{}, true }
	tests := []struct {
		name   string
		fields []Field
		ok     bool
	}{
		{"one", []Field{{Name: "a", Type: String, Get: get}}, true},
		{"alias clash", []Field{{Name: "a", Type: String, Get: get}, {Name: "b", Aliases: []string{"a"}, Type: String, Get: get}}, false},
		{"builtin clash", []Field{{Name: "tcp.stream", Type: Number, Get: get}}, false},
		{"no getter", []Field{{Name: "x", Type: String}}, false},
		{"no type", []Field{{Name: "x", Get: get}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Builtin()
			err := r.Add(tc.fields...)
			if (err == nil) != tc.ok {
				t.Fatalf("Add: err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok && r.Lookup(tc.fields[0].Name) == nil {
				t.Errorf("%s not found after Add", tc.fields[0].Name)
			}
		})
	}
}

func TestBuiltinNames(t *testing.T) {
	r := Builtin()
	names := r.Names()
	if !slices.IsSorted(names) {
		t.Error("Names is not sorted")
	}
	// Every NDJSON key that is a value of a record has a field.
	for _, n := range []string{"type", "stream", "client", "server", "packet", "host", "path", "origin",
		"user_agent", "has_cookie", "status", "subprotocols_offered", "subprotocol", "extensions_offered",
		"extensions", "accept_valid", "midstream", "dir", "fin", "rsv1", "rsv2", "rsv3", "masked", "opcode",
		"opcode_name", "masking_key", "len", "packets", "text", "close_code", "close_reason", "compressed",
		"truncated", "incomplete", "frames", "first_packet", "anomaly",
		// Wireshark's names users type.
		"websocket.payload.ping", "websocket.payload.pong", "websocket.fragment.count", "data.len",
		"http.cookie", "http.request.uri", "tcp.stream", "frame.number"} {
		if r.Lookup(n) == nil {
			t.Errorf("no field %q", n)
		}
	}
}

func TestValues(t *testing.T) {
	r := Builtin()
	conn := &dissect.Conn{Stream: 9, Client: netip.MustParseAddrPort("[2001:db8::1]:4000"),
		Server: netip.MustParseAddrPort("[2001:db8::2]:443"), Extensions: []string{"a", "b; x=1"},
		RequestHeaders: []dissect.Header{{Name: "cookie", Value: "s=1"}}}
	fr := &dissect.Frame{Opcode: dissect.OpPing, Masked: true, MaskKey: [4]byte{1, 2, 0xab, 0xff}, Payload: []byte("hey"), Len: 3}
	rec := &dissect.Record{Kind: dissect.KindFrame, Conn: conn, Packet: 4, Frame: fr,
		Dir: dissect.ServerToClient, HasDir: true, Anomalies: []dissect.Anomaly{{ID: "x"}, {ID: "y"}}}
	var scratch []byte
	tests := []struct {
		field string
		want  []string
	}{
		{"ip.addr", []string{"2001:db8::1", "2001:db8::2"}},
		{"ip.src", []string{"2001:db8::2"}},
		{"tcp.dstport", []string{"4000"}},
		{"client", []string{"[2001:db8::1]:4000"}},
		{"extensions", []string{"a, b; x=1"}},
		{"masking_key", []string{"01:02:ab:ff"}},
		{"websocket.payload.ping", []string{"68:65:79"}},
		{"websocket.payload.pong", nil},
		{"opcode_name", []string{"ping"}},
		{"anomaly", []string{"x", "y"}},
		{"mask", []string{"1"}},
		{"dir", []string{"s2c"}},
		{"http.cookie", []string{"s=1"}},
		{"websocket", []string{"websocket"}},
		{"frames", nil},
	}
	for _, tc := range tests {
		f := r.Lookup(tc.field)
		if f == nil {
			t.Fatalf("no field %q", tc.field)
		}
		if got := f.Values(nil, rec, &scratch); !slices.Equal(got, tc.want) {
			t.Errorf("%s = %q, want %q", tc.field, got, tc.want)
		}
	}
}
