package filter

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzCompile(f *testing.F) {
	seeds := []string{
		"opcode == text", "websocket.fin == 0", "fin && !mask", "opcode in {1 2 8..10 control}",
		`text contains "a\"b" || payload matches "(?-i)x+"`, `json.user.id > 10 && json["a b"][0] == null`,
		"ip.addr == 10.0.0.0/8 and port not in {80, 443}", "masking_key == aa:bb:cc:dd", "close.code in {1000..1015}",
		`anomaly == "tcp-gap"`, "dir == client", "(((fin)))", "!(a", `"x`, "json..", "len == 012", "ip.src > ::1",
		`json.a in {-1.5..2e3 "s" true null}`, "payload contains 0x7f", "", "fin\t&&\nmask", `host == r"a\"b"`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	recs := sampleRecords()
	f.Fuzz(func(t *testing.T, expr string) {
		flt, err := Compile(expr)
		if err != nil {
			var fe *Error
			if !errors.As(err, &fe) {
				t.Fatalf("Compile(%q) returned %T, not *Error", expr, err)
			}
			if fe.Pos < 0 || fe.Pos > len(expr) || fe.Expr != expr || fe.Msg == "" {
				t.Fatalf("Compile(%q): bad error %+v", expr, fe)
			}
			_ = fe.Error()
			return
		}
		got := matchAll(flt, recs)
		canon := flt.String()
		again, err := Compile(canon)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not compile: %v", canon, expr, err)
		}
		if again.String() != canon {
			t.Fatalf("canonical form of %q is not stable: %q then %q", expr, canon, again.String())
		}
		if g2 := matchAll(again, recs); !slices.Equal(got, g2) {
			t.Fatalf("%q and its canonical form %q disagree: %v vs %v", expr, canon, got, g2)
		}
	})
}

// FuzzJSON checks the validator against encoding/json, and that every
// top-level key encoding/json finds is found by lookup with a valid value.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"\u00e9"}],"c":null}`, `[1, 2.5e3, true]`, `"x\"y"`, `{"a" 1}`, `01`, `[`, ` {} `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		b := []byte(doc)
		got := validJSON(b)
		if want := json.Valid(b); got != want && strings.Count(doc, "[")+strings.Count(doc, "{") < maxJSONDepth {
			t.Fatalf("validJSON(%q) = %v, encoding/json says %v", doc, got, want)
		}
		if !got {
			return
		}
		var top map[string]json.RawMessage
		if json.Unmarshal(b, &top) != nil {
			return
		}
		var scratch []byte
		for k := range top {
			if strings.ContainsRune(k, utf8.RuneError) {
				continue // encoding/json replaces invalid UTF-8; lookup compares bytes
			}
			raw, kind, ok := lookup(b, []pathStep{{key: k}}, &scratch)
			if !ok || kind == jsonInvalid || !json.Valid(raw) {
				t.Fatalf("lookup of key %q in %q = %q, %v, %v", k, doc, raw, kind, ok)
			}
		}
	})
}
