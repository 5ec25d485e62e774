package jsonmsg

import (
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

func TestDecode(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a": [1, 2], "b": "x\u00e9"}`, `JSON object {"a":[1,2],"b":"x\u00e9"} | {"a":[1,2],"b":"x\u00e9"}`},
		{"{\"a\":1}\n{\"a\":2}\n", `JSON object {"a":1} | {"a":1}` + "\n" + `JSON object {"a":2} | {"a":2}`},
		{`[1,`, `JSON [malformed: not valid JSON] | null`},
		{`  `, `JSON [malformed: empty message] | null`},
		{"\"line\u2028sep\"", `JSON string "line\u2028sep" | "line\u2028sep"`},
		// values needing compaction next to one that does not: each
		// record keeps its own compact form
		{"{ \"a\" : 1 } [ \"\xff\" ] 3 {\"b\":2}", `JSON object {"a":1} | {"a":1}` + "\n" + `JSON array ["\ufffd"] | ["\ufffd"]` +
			"\n" + `JSON number 3 | 3` + "\n" + `JSON object {"b":2} | {"b":2}`},
		{"[1, 2] [3", `JSON array [1,2] | [1,2]` + "\n" + `JSON [malformed: not valid JSON] | null`},
	}
	d := NewDecoder()
	for _, tt := range tests {
		var got []string
		for _, r := range d.Decode(app.Message{Opcode: app.Text, Payload: []byte(tt.in)}) {
			got = append(got, app.Summary(r)+" | "+app.JSON(r))
		}
		if g := strings.Join(got, "\n"); g != tt.want {
			t.Errorf("%q:\ngot  %s\nwant %s", tt.in, g, tt.want)
		}
	}
}

func TestTree(t *testing.T) {
	d := NewDecoder()
	r := d.Decode(app.Message{Payload: []byte(`{"user":{"id":7},"tags":["a"]}`)})[0]
	var lines []string
	r.Tree(func(depth int, name, value string) {
		lines = append(lines, strings.Repeat("  ", depth)+name+": "+value)
	})
	want := "JSON: \n  user: \n    id: 7\n  tags: \n    [0]: a"
	if g := strings.Join(lines, "\n"); g != want {
		t.Errorf("got\n%s\nwant\n%s", g, want)
	}
}
