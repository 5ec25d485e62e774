package filter

import (
	"slices"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/field"
)

func TestFields(t *testing.T) {
	fields := field.Builtin().Fields()
	if !slices.IsSortedFunc(fields, func(a, b *field.Field) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("Fields() is not sorted by name")
	}
	seen := map[string]bool{}
	types := map[string]bool{"number": true, "bool": true, "bytes": true, "string": true, "address": true, "direction": true, "json": true, "protocol": true, "seconds": true}
	for _, f := range fields {
		if f.Description == "" || strings.Contains(f.Description, "\n") {
			t.Errorf("%s: bad description %q", f.Name, f.Description)
		}
		if !types[f.Type.String()] {
			t.Errorf("%s: unknown type %q", f.Name, f.Type)
		}
		for _, n := range append([]string{f.Name}, f.Aliases...) {
			if seen[n] {
				t.Errorf("name %q listed twice", n)
			}
			seen[n] = true
			flt, err := Compile(n)
			if err != nil {
				t.Errorf("bare field %q does not compile: %v", n, err)
				continue
			}
			// A bare bool Wireshark name keeps its spelling: it tests presence.
			wsBool := f.Type == field.Bool && strings.HasPrefix(n, "websocket.")
			if got := flt.String(); got != f.Name && !(wsBool && got == n) {
				t.Errorf("%q compiles to %q, want canonical %q", n, got, f.Name)
			}
		}
	}
	for _, n := range []string{"websocket.opcode", "websocket.fin", "websocket.rsv", "websocket.pmc", "websocket.mask",
		"websocket.payload_length", "websocket.masking_key", "websocket.payload.text", "websocket.payload.close.status_code",
		"websocket.payload.close.reason", "tcp.stream", "frame.number", "ip.src", "ip.dst", "ip.addr", "ipv6.src",
		"ipv6.dst", "ipv6.addr", "tcp.port", "tcp.srcport", "tcp.dstport", "data.data", "masked", "websocket"} {
		if !seen[n] {
			t.Errorf("Wireshark name %q missing", n)
		}
	}
}
