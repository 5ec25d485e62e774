package jsonx

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `{"a":1}`, ` {"a" : [1, 2.5e-3, -0, true, false, null, "x\u00e9\n"]} `, `"\ud83d\ude00"`,
		`{"a":}`, `[1,]`, `01`, `1.`, `-`, `"abc`, `"\x"`, `{"a" 1}`, `[1 2]`, "\"a\x01\"", `tru`, `{"a":1}}`, ``, ` `,
		strings.Repeat("[", 600) + strings.Repeat("]", 600),
	} {
		want := json.Valid([]byte(s))
		if strings.HasPrefix(s, "[[[[") {
			want = false // deeper than maxDepth
		}
		if got := Valid([]byte(s)); got != want {
			t.Errorf("Valid(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestMemberAndIterators(t *testing.T) {
	obj := []byte(` {"a": 1, "b": {"c": [1, 2]}, "a": "last", "e\"": 0} `)
	if v, ok := Member(obj, "a"); !ok || string(v) != `"last"` {
		t.Errorf("Member a = %s %v", v, ok)
	}
	if v, ok := Member(obj, "b"); !ok || string(v) != `{"c": [1, 2]}` {
		t.Errorf("Member b = %s", v)
	}
	if _, ok := Member(obj, "zz"); ok {
		t.Error("Member zz found")
	}
	it, err := Array([]byte(`[ "x", {"y":1} , 3 ]`))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := it.Next()
	if string(first) != `"x"` || string(it.Rest()) != `{"y":1} , 3` {
		t.Errorf("first %s rest %s", first, it.Rest())
	}
}

func TestUnquoteAndString(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{`"a\nb\"c\\d\/e"`, "a\nb\"c\\d/e"},
		{`"\u00e9\ud83d\ude00"`, "é😀"},
		{`"\ud800x"`, "\uFFFDx"},
	} {
		if got := string(AppendUnquote(nil, []byte(tt.raw))); got != tt.want {
			t.Errorf("AppendUnquote(%s) = %q, want %q", tt.raw, got, tt.want)
		}
	}
	got := AppendString(nil, []byte("q\"\\\n\x01\xff\u2028é"))
	if string(got) != `"q\"\\\n\u0001\ufffd\u2028é"` {
		t.Errorf("AppendString = %s", got)
	}
	if s := AppendStr(nil, "plain é"); string(s) != `"plain é"` {
		t.Errorf("AppendStr = %s", s)
	}
}

func TestAppendCompact(t *testing.T) {
	in := []byte("{ \"a\" : [ 1 , \"x y\" ],\n \"b\" : \"\xff\" }")
	got := AppendCompact(nil, in)
	if string(got) != `{"a":[1,"x y"],"b":"\ufffd"}` {
		t.Errorf("AppendCompact = %s", got)
	}
}

func FuzzCompact(f *testing.F) {
	f.Add([]byte(`{"a": [1, "x\u00e9"], "b": null}`))
	f.Add([]byte("\"\xff\u2028\""))
	f.Fuzz(func(t *testing.T, b []byte) {
		deep := strings.Count(string(b), "[")+strings.Count(string(b), "{") > maxDepth
		if Valid(b) != json.Valid(b) && !deep {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, Valid(b), json.Valid(b))
		}
		if !Valid(b) {
			return
		}
		c := AppendCompact(nil, Trim(b))
		if !json.Valid(c) || strings.ContainsAny(string(c), "\n\r") || !utf8.Valid(c) {
			t.Fatalf("AppendCompact(%q) = %q", b, c)
		}
		var x, y any
		if json.Unmarshal(b, &x) == nil && json.Unmarshal(c, &y) == nil && utf8.Valid(b) {
			xb, _ := json.Marshal(x)
			yb, _ := json.Marshal(y)
			if string(xb) != string(yb) {
				t.Fatalf("compaction changed the value: %s vs %s", xb, yb)
			}
		}
	})
}
