package jsonx

import (
	"encoding/json"
	"fmt"
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

// compactOnePass is CompactValue's result as bytes, nil when invalid.
func compactOnePass(b []byte, i int) ([]byte, int, bool) {
	out, end, at, err := CompactValue([]byte("prefix"), b, i)
	if err != nil {
		return nil, 0, false
	}
	if string(out[:6]) != "prefix" {
		return []byte("dst prefix overwritten"), end, true
	}
	if at < 0 {
		if len(out) != 6 {
			return []byte("dst grew for a clean value"), end, true
		}
		return b[i:end], end, true
	}
	return out[at:], end, true
}

func TestCompactValueMatchesTwoPasses(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{"{ \"a\" : [ 1 , \"x y\" ],\n \"b\" : \"\xff\" }", `{"a":[1,"x y"],"b":"\ufffd"}`},
		{"[\"\u2028\u2029\", \"\xe2\x80\"]", `["\u2028\u2029","\ufffd\ufffd"]`},
		{`"plain é"`, `"plain é"`},
		{`[1, 2.5e-3, -0, true, false, null]`, `[1,2.5e-3,-0,true,false,null]`},
		{`{"a":}`, ""},
		{`[1,]`, ""},
		{`"abc`, ""},
		{strings.Repeat("[", 600) + strings.Repeat("]", 600), ""},
	}
	for _, tt := range tests {
		got, end, ok := compactOnePass([]byte(tt.in), 0)
		if tt.want == "" {
			if ok {
				t.Errorf("CompactValue(%q) accepted it as %q", tt.in, got)
			}
			continue
		}
		if !ok || string(got) != tt.want || end != len(tt.in) {
			t.Errorf("CompactValue(%q) = %q end %d ok %v, want %q end %d", tt.in, got, end, ok, tt.want, len(tt.in))
		}
	}
}

func FuzzCompactValue(f *testing.F) {
	f.Add([]byte(`{"a": [1, "x\u00e9"], "b": null} [2]`), 0)
	f.Add([]byte("  \"\xff\u2028\""), 2)
	f.Fuzz(func(t *testing.T, b []byte, i int) {
		if i < 0 || i > len(b) {
			return
		}
		end, err := Skip(b, i)
		got, gotEnd, ok := compactOnePass(b, i)
		if (err == nil) != ok {
			t.Fatalf("Skip err %v, CompactValue ok %v on %q at %d", err, ok, b, i)
		}
		if !ok {
			return
		}
		if want := AppendCompact(nil, b[i:end]); gotEnd != end || string(got) != string(want) {
			t.Fatalf("CompactValue(%q, %d) = %q end %d, two passes give %q end %d", b, i, got, gotEnd, want, end)
		}
	})
}

func BenchmarkCompact(b *testing.B) {
	msg := []byte(`{"op":"update","data":{"id":123,"name":"widget","tags":["a","b"],"price":9.99,"ok":true,"note":"caf\u00e9 ☕"}}`)
	var out []byte
	b.Run("two-passes", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			end, _ := Skip(msg, 0)
			out = AppendCompact(out[:0], msg[:end])
		}
	})
	b.Run("one-pass", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var at int
			out, _, at, _ = CompactValue(out[:0], msg, 0)
			if at >= 0 {
				b.Fatal("copied a compact value")
			}
		}
	})
}

// realisticJSON is what application traffic sends: a trade, a quote, a chat
// line with non-ASCII words, and an order-book snapshot made mostly of
// numbers (the shapes of bench/gen's realistic captures).
func realisticJSON() [][]byte {
	book := []byte(`{"type":"book","symbol":"BTC-USD","seq":311,"levels":[`)
	for i := range 120 {
		if i > 0 {
			book = append(book, ',')
		}
		book = fmt.Appendf(book, `[%.2f,%.4f,%d]`, 40000+float64(i)*13.37, float64(i%7)*0.4321, i%40)
	}
	book = append(book, "]}"...)
	return [][]byte{
		[]byte(`{"type":"trade","symbol":"ETH-USD","price":2315.07,"qty":1.20453,"side":"buy","id":918273645501,"ts":1700000011322,"meta":"qhdkqpwmzrtl"}`),
		[]byte(`{"type":"quote","symbol":"AAPL","bid":190.25,"ask":190.27,"seq":4512}`),
		[]byte(`{"type":"chat","user":"Hal Pline","content":"the order is filled ünïcödé ✓ please check price update ok thanks deploy done later","id":77}`),
		book,
	}
}

func BenchmarkCompactRealistic(b *testing.B) {
	msgs := realisticJSON()
	n := 0
	for _, m := range msgs {
		n += len(m)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	var out []byte
	for range b.N {
		for _, m := range msgs {
			var at int
			var err error
			out, _, at, err = CompactValue(out[:0], m, 0)
			if err != nil || at >= 0 {
				b.Fatal("bad or copied compact value", err)
			}
		}
	}
}
