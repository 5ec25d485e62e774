package subproto

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

// sniffJSONSimple is the plain version of Sniff's JSON part, which Sniff's
// single pass must agree with: validate, then look members up one by one.
func sniffJSONSimple(p []byte) (string, int) {
	t := jsonx.Trim(p)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') || !jsonx.Valid(t) {
		return "", 0
	}
	obj := t
	if t[0] == '[' {
		it, _ := jsonx.Array(t)
		if first, ok := it.Next(); ok && first[0] == '{' {
			obj = first
		}
	}
	if obj[0] == '{' {
		if v, ok := jsonx.Member(obj, "jsonrpc"); ok && string(v) == `"2.0"` {
			return JSONRPC, 0
		}
		if v, ok := jsonx.Member(obj, "type"); ok {
			switch string(v) {
			case `"connection_init"`, `"subscribe"`:
				return GraphQL, 0
			case `"start"`, `"ka"`, `"connection_terminate"`:
				return GraphQL, 1
			}
		}
	}
	return JSON, 0
}

// jsonSniffCases are text messages that start like JSON (none is another
// protocol's opening).
var jsonSniffCases = []struct {
	text, proto string
	variant     int
}{
	{`{}`, JSON, 0},
	{` {"jsonrpc":"2.0","id":1} `, JSONRPC, 0},
	{`{"jsonrpc":"1.0"}`, JSON, 0},
	{`{"jsonrpc":"2.0","jsonrpc":"1.0"}`, JSON, 0}, // the last duplicate wins
	{`{"jsonrpc":"1.0","jsonrpc":"2.0"}`, JSONRPC, 0},
	{`{"type":"ka","jsonrpc":"2.0"}`, JSONRPC, 0},
	{`{"type":"subscribe"}`, GraphQL, 0},
	{`{"id":"1","type":"start","payload":{"type":"x"}}`, GraphQL, 1},
	{`{"a":{"jsonrpc":"2.0"}}`, JSON, 0}, // nested members do not count
	{`[{"jsonrpc":"2.0","method":"a"},1]`, JSONRPC, 0},
	{`[1,{"jsonrpc":"2.0"}]`, JSON, 0},
	{`[]`, JSON, 0},
	{`[{"type":"ka"}`, "", 0},  // not valid
	{`{"type":"ka"} x`, "", 0}, // trailing bytes
	{`{"type":"ka",}`, "", 0},  // trailing comma
	{`"just a string"`, "", 0}, // JSON, but not an object or array
	{`12`, "", 0},
	{``, "", 0},
}

// TestSniffJSON checks what sniffing makes of JSON objects and arrays.
func TestSniffJSON(t *testing.T) {
	for _, tc := range jsonSniffCases {
		p, v, _ := Sniff(app.Message{Opcode: app.Text, Payload: []byte(tc.text)}, "")
		if p != tc.proto || v != tc.variant {
			t.Errorf("Sniff(%q) = %q %d, want %q %d", tc.text, p, v, tc.proto, tc.variant)
		}
		if sp, sv := sniffJSONSimple([]byte(tc.text)); sp != tc.proto || sv != tc.variant {
			t.Errorf("sniffJSONSimple(%q) = %q %d, want %q %d", tc.text, sp, sv, tc.proto, tc.variant)
		}
	}
}

// FuzzSniffJSON checks that Sniff agrees with sniffJSONSimple on text that
// starts like JSON.
func FuzzSniffJSON(f *testing.F) {
	for _, tc := range jsonSniffCases {
		f.Add(tc.text)
	}
	f.Fuzz(func(t *testing.T, s string) {
		t0 := jsonx.Trim([]byte(s))
		if len(t0) == 0 || t0[0] != '{' && t0[0] != '[' {
			return // other protocols' openings are sniffed first
		}
		p, v, _ := Sniff(app.Message{Opcode: app.Text, Payload: []byte(s)}, "")
		if sp, sv := sniffJSONSimple([]byte(s)); p != sp || v != sv {
			t.Fatalf("Sniff(%q) = %q %d, the plain version %q %d", s, p, v, sp, sv)
		}
	})
}
