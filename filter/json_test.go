package filter

import (
	"encoding/json"
	"testing"
)

func TestValidJSON(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{` { "a" : [ 1 , -2.5e+3 , true , false , null , "x\"\\\/\b\f\n\r\t\u00e9" ] } `, true},
		{`[]`, true},
		{`"s"`, true},
		{`0`, true},
		{`-0.0e0`, true},
		{`[[[[[]]]]]`, true},
		{``, false},
		{`   `, false},
		{`{`, false},
		{`{"a"}`, false},
		{`{"a":}`, false},
		{`{"a":1,}`, false},
		{`[1,]`, false},
		{`[1 2]`, false},
		{`{a:1}`, false},
		{`01`, false},
		{`1.`, false},
		{`.5`, false},
		{`1e`, false},
		{`-`, false},
		{`+1`, false},
		{`tru`, false},
		{`nul`, false},
		{`"abc`, false},
		{"\"a\x01\"", false},
		{`"\x"`, false},
		{`"\u12g4"`, false},
		{`{} {}`, false},
		{`[1] x`, false},
		{string(make([]byte, 0)) + repeat("[", maxJSONDepth+1) + repeat("]", maxJSONDepth+1), false},
		{repeat("[", maxJSONDepth) + repeat("]", maxJSONDepth), true},
	}
	for _, tc := range tests {
		if got := validJSON([]byte(tc.in)); got != tc.want {
			t.Errorf("validJSON(%.40q) = %v, want %v", tc.in, got, tc.want)
		}
		// Cross-check with encoding/json where nesting is shallow.
		if len(tc.in) < 100 {
			if std := json.Valid([]byte(tc.in)); std != tc.want {
				t.Errorf("validJSON(%q): encoding/json says %v", tc.in, std)
			}
		}
	}
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for range n {
		b = append(b, s...)
	}
	return string(b)
}

func TestLookup(t *testing.T) {
	doc := []byte(` {"a": {"b": [10, {"c": "x"}, [true]]}, "s": "q\"\u00e9", "a\u0062": 1, "n": null, "e": {}, "z": [] , "dup": 1, "dup": 2} `)
	key := func(k string) pathStep { return pathStep{key: k} }
	idx := func(i int) pathStep { return pathStep{index: i, isIndex: true} }
	tests := []struct {
		path []pathStep
		raw  string
		kind jsonKind
		ok   bool
	}{
		{nil, `{"a": {"b": [10, {"c": "x"}, [true]]}, "s": "q\"\u00e9", "a\u0062": 1, "n": null, "e": {}, "z": [] , "dup": 1, "dup": 2}`, jsonObject, true},
		{[]pathStep{key("a"), key("b"), idx(0)}, `10`, jsonNumber, true},
		{[]pathStep{key("a"), key("b"), idx(1), key("c")}, `"x"`, jsonString, true},
		{[]pathStep{key("a"), key("b"), idx(2), idx(0)}, `true`, jsonBool, true},
		{[]pathStep{key("a"), key("b"), idx(3)}, ``, jsonInvalid, false},
		{[]pathStep{key("a"), key("b")}, `[10, {"c": "x"}, [true]]`, jsonArray, true},
		{[]pathStep{key("s")}, `"q\"\u00e9"`, jsonString, true},
		{[]pathStep{key("ab")}, `1`, jsonNumber, true},
		{[]pathStep{key("n")}, `null`, jsonNull, true},
		{[]pathStep{key("e")}, `{}`, jsonObject, true},
		{[]pathStep{key("e"), key("x")}, ``, jsonInvalid, false},
		{[]pathStep{key("z"), idx(0)}, ``, jsonInvalid, false},
		{[]pathStep{key("dup")}, `1`, jsonNumber, true},
		{[]pathStep{idx(0)}, ``, jsonInvalid, false},
		{[]pathStep{key("s"), key("x")}, ``, jsonInvalid, false},
		{[]pathStep{key("missing")}, ``, jsonInvalid, false},
	}
	var scratch []byte
	for _, tc := range tests {
		raw, kind, ok := lookup(doc, tc.path, &scratch)
		if string(raw) != tc.raw || kind != tc.kind || ok != tc.ok {
			t.Errorf("lookup(%v) = %q, %v, %v; want %q, %v, %v", tc.path, raw, kind, ok, tc.raw, tc.kind, tc.ok)
		}
	}
}

func TestUnescapeJSON(t *testing.T) {
	tests := []struct{ in, want string }{
		{`plain`, "plain"},
		{`a\"b\\c\/d\b\f\n\r\t`, "a\"b\\c/d\b\f\n\r\t"},
		{`\u00e9\u4e2d`, "é中"},
		{`\ud83d\ude00`, "😀"},
		{`\ud83d`, "\uFFFD"},
		{`\ud83dx`, "\uFFFDx"},
		{`\ude00`, "\uFFFD"},
		{`\ud83d\u0041`, "\uFFFDA"},
	}
	for _, tc := range tests {
		if got := string(unescapeJSON(nil, []byte(tc.in))); got != tc.want {
			t.Errorf("unescapeJSON(%q) = %q, want %q", tc.in, got, tc.want)
		}
		var std string
		if err := json.Unmarshal([]byte(`"`+tc.in+`"`), &std); err == nil && std != tc.want {
			t.Errorf("unescapeJSON(%q): encoding/json gives %q", tc.in, std)
		}
	}
}

func TestJSONNumbers(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1", 0},
		{"1", "1.0", 0},
		{"10", "9.5", 1},
		{"-3", "2", -1},
		{"9007199254740993", "9007199254740992", 1}, // exact beyond float precision
		{"1e3", "1000", 0},
		{"123456789012345678901234567890", "1e29", 1},
		{"-0", "0", 0},
		{"1e-400", "0", 0},
		{"1e400", "1e308", 1},
	}
	for _, tc := range tests {
		a, ok1 := parseJSONNumber([]byte(tc.a))
		b, ok2 := parseJSONNumber([]byte(tc.b))
		if !ok1 || !ok2 {
			t.Errorf("parse %q %q failed", tc.a, tc.b)
			continue
		}
		if got := compareNum(a, b); got != tc.want {
			t.Errorf("compareNum(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
