package filter

import (
	"errors"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/field"
)

func TestCompileCanonical(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"websocket.opcode == 1", "opcode == text"},
		{"opcode eq 0x8", "opcode == close"},
		{"opcode == 3", "opcode == 3"},
		{"opcode in {1, 2 8 control 3..5}", "opcode in {text binary close control 3..5}"},
		{"opcode in {text..close}", "opcode in {1..8}"},
		{"websocket.fin == 0", "fin == false"},
		{"fin == 1", "fin == true"},
		{"fin == 2", "fin == true"},
		{"masked", "mask"},
		{"websocket.mask", "websocket.mask"},
		{"!websocket.fin && websocket.fin == 0", "!websocket.fin && fin == false"},
		{"websocket.payload_length > 100", "lencode > 100"},
		{"tcp.port in {443, 4430..4434}", "port in {443 4430..4434}"},
		{"tcp.port in {443 4430 .. 4434 5000.. 5001 6000 ..6001}", "port in {443 4430..4434 5000..5001 6000..6001}"},
		{"ip.addr in {10.0.0.5 .. 10.0.0.9, 192.168.1.1..192.168.1.9}", "ip.addr in {10.0.0.5..10.0.0.9 192.168.1.1..192.168.1.9}"},
		{"ip.addr == 10.1.2.3/8", "ip.addr == 10.0.0.0/8"},
		{"ip.addr == ::ffff:10.0.0.1", "ip.addr == 10.0.0.1"},
		{"ip.src eq ::ffff:10.0.0.0/104", "ip.src == 10.0.0.0/8"},
		{"ipv6.addr == 2001:DB8::0/32", "ipv6.addr == 2001:db8::/32"},
		{`text contains "a\"b\\c\n\t\r\x01é\xff\101\u00e9"`, `text contains "a\"b\\c\n\t\r\x01é\xffAé"`},
		{`payload == r"a\d\"q"`, `payload == "a\\d\\\"q"`},
		{`text matches r"\d+"`, `text matches "\\d+"`},
		{"masking_key == AA-BB-CC-DD", "masking_key == aa:bb:cc:dd"},
		{"masking_key == a.b.c.d", "masking_key == 0a:0b:0c:0d"},
		{"payload contains 0x7f", "payload contains 7f"},
		{`json["a b"].c[3]["x.y"] == -1.5e-7`, `json["a b"].c[3]["x.y"] == -1.5e-07`},
		{`json.été == 1`, `json["été"] == 1`},
		{"json.a in {-5..5 0x10}", "json.a in {-5..5 16}"},
		{"json.n == -9223372036854775808", "json.n == -9223372036854775808"},
		{"json.ok != FALSE", "json.ok != false"},
		{"json.k == null", "json.k == null"},
		{`json.s ge "m"`, `json.s >= "m"`},
		{"json", "json"},
		{"json[0]", "json[0]"},
		{"not (fin or mask) and !rsv1", "!(fin || mask) && !rsv1"},
		{"((fin))", "fin"},
		{"fin && (mask && rsv1) || (rsv2 || rsv3)", "fin && mask && rsv1 || rsv2 || rsv3"},
		{"fin and (mask or rsv1)", "fin && (mask || rsv1)"},
		{"!(fin && mask)", "!(fin && mask)"},
		{"!!fin", "!!fin"},
		{"not fin == 1", "!(fin == true)"},
		{"port not in {80}", "!(port in {80})"},
		{"dir == client", "dir == c2s"},
		{"dir in {server C2S}", "dir in {s2c c2s}"},
		{"len in {0x10 0b11 0o7 0}", "len in {16 3 7 0}"},
		{"close.code ne 1000 && close.code lt 3000 || close.code gt 3999 && close.code le 4999", "close.code != 1000 && close.code < 3000 || close.code > 3999 && close.code <= 4999"},
		{`anomaly ~ "gap"`, `anomaly matches "gap"`},
		{"frame.number >= 10 && tcp.stream == 0", "packet >= 10 && stream == 0"},
		{"websocket.payload.close.status_code == 1000", "close.code == 1000"},
		{"fin\n&&\tmask", "fin && mask"},
	}
	for _, tc := range tests {
		f, err := Compile(tc.expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.expr, err)
			continue
		}
		if got := f.String(); got != tc.want {
			t.Errorf("Compile(%q).String() = %q, want %q", tc.expr, got, tc.want)
			continue
		}
		g, err := Compile(f.String())
		if err != nil || g.String() != tc.want {
			t.Errorf("canonical %q does not recompile to itself: %v", tc.want, err)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"", `

^
empty filter expression; expected a field name such as opcode`},
		{"   ", `
   
   ^
empty filter expression; expected a field name such as opcode`},
		{"opcod == 1", `
opcod == 1
^
unknown field "opcod"; did you mean "opcode"?`},
		{`opcode == "abc"`, `
opcode == "abc"
          ^
cannot compare opcode (number) with "abc" (string): opcode takes numbers or the names text, binary, close, ping, pong, continuation, control, data`},
		{"opcode = 1", `
opcode = 1
       ^
unexpected "="; did you mean "=="?`},
		{"opcode ==", `
opcode ==
         ^
unexpected end of expression; expected a value after "=="`},
		{"(opcode == 1", `
(opcode == 1
            ^
missing ")" to close the "(" at column 1`},
		{"opcode == 1)", `
opcode == 1)
           ^
unexpected ")"; expected "and", "or" or the end of the expression`},
		{"opcode 1", `
opcode 1
       ^
unexpected "1"; expected an operator, "and", "or" or the end of the expression`},
		{"opcode == 1 fin", `
opcode == 1 fin
            ^
unexpected "fin"; expected "and", "or" or the end of the expression`},
		{"(fin fin)", `
(fin fin)
     ^
unexpected "fin"; expected an operator, "and", "or" or ")"`},
		{"fin && ", `
fin && 
       ^
unexpected end of expression; expected a field name, "not" or "("`},
		{"&& fin", `
&& fin
^
unexpected "&&"; expected a field name, "not" or "("`},
		{"fin & mask", `
fin & mask
    ^
unexpected "&"; did you mean "&&"?`},
		{"fin | mask", `
fin | mask
    ^
unexpected "|"; did you mean "||"?`},
		{"'abc'", `
'abc'
^
unexpected "'"; strings are written in double quotes`},
		{"host == example.com", `
host == example.com
        ^
cannot compare host (string) with example.com (unquoted word): host takes quoted strings, such as "example.com"`},
		{"len contains 1", `
len contains 1
    ^
operator "contains" does not apply to len (number); it supports ==, !=, <, <=, >, >= and in`},
		{"fin < 1", `
fin < 1
    ^
operator "<" does not apply to fin (bool); it supports ==, != and in`},
		{"dir == up", `
dir == up
       ^
cannot compare dir (direction) with up (unquoted word): dir takes c2s, s2c, client or server`},
		{"fin == yes", `
fin == yes
       ^
cannot compare fin (bool) with yes (unquoted word): fin takes true, false, 1 or 0`},
		{`ip.addr == "x"`, `
ip.addr == "x"
           ^
cannot compare ip.addr (address) with "x" (string): ip.addr takes IPv4 or IPv6 addresses and CIDR prefixes such as 10.0.0.0/8`},
		{"ip.addr == 300.1.1.1", `
ip.addr == 300.1.1.1
           ^
300.1.1.1 is not a valid IP address or CIDR prefix`},
		{"len == -1", `
len == -1
       ^
-1 is out of range for len (0 to 18446744073709551615)`},
		{"opcode == 16", `
opcode == 16
          ^
16 is out of range for opcode (0 to 15)`},
		{"len == 012", `
len == 012
       ^
ambiguous number 012: numbers do not start with 0 (write 12 for decimal, 0o12 for octal)`},
		{"len == 99999999999999999999", `
len == 99999999999999999999
       ^
99999999999999999999 is out of range for len (0 to 18446744073709551615)`},
		{"opcode < control", `
opcode < control
         ^
control names a group of opcodes and cannot be used with "<"; use == or in`},
		{"ip.addr < 10.0.0.0/8", `
ip.addr < 10.0.0.0/8
          ^
a CIDR prefix cannot be used with "<"; use == or in`},
		{"json.a < true", `
json.a < true
         ^
true cannot be used with "<"; only numbers and strings are ordered`},
		{"json.a contains 1", `
json.a contains 1
                ^
contains needs a quoted string, not 1`},
		{"text matches abc", `
text matches abc
             ^
matches needs a regular expression in double quotes, not "abc"`},
		{"port in 80", `
port in 80
        ^
unexpected "80"; expected "{" to start the set after "in"`},
		{"port in {80", `
port in {80
           ^
missing "}" to close the set at column 9`},
		{"port in {}", `
port in {}
        ^
empty set; list at least one value`},
		{"port in {80..70}", `
port in {80..70}
             ^
range 80..70 is empty`},
		{"port in {..80}", `
port in {..80}
         ^
a range needs a value before ".."`},
		{"port in {80..}", `
port in {80..}
           ^
a range needs a value after ".."`},
		{`text in {"a".."b"}`, `
text in {"a".."b"}
         ^
ranges need numbers or addresses, not "a".."b"`},
		{"len == 1000..1015", `
len == 1000..1015
       ^
ranges such as 1000..1015 are only allowed in sets: len in {1000..1015}`},
		{"tcp.srcport == tcp.dstport", `
tcp.srcport == tcp.dstport
               ^
cannot compare tcp.srcport with the field tcp.dstport; the right-hand side must be a value`},
		{`"abc"`, `
"abc"
^
expected a field name, found the string "abc"`},
		{"1 == opcode", `
1 == opcode
^
expected a field name, found "1"`},
		{"json.", `
json.
    ^
empty key in JSON path "json."`},
		{"json..a", `
json..a
    ^
empty key in JSON path "json..a"`},
		{"json[x]", `
json[x]
    ^
invalid JSON path "json[x]": expected an index such as [0] or a quoted key such as ["a b"]`},
		{`json["a"`, `
json["a"
        ^
expected "]" after the quoted key`},
		{"json.a == chat", `
json.a == chat
          ^
cannot compare json.a (json) with chat (unquoted word): json.a takes quoted strings, numbers, true, false or null`},
		{`text == "\q"`, `
text == "\q"
         ^
invalid escape "\q" in string; use \\ for a backslash`},
		{`text == "abc`, `
text == "abc
        ^
unterminated string; add the closing "`},
		{"fin # 1", `
fin # 1
    ^
unexpected character "#"`},
		{"zzzzzzzz", `
zzzzzzzz
^
unknown field "zzzzzzzz"; "wsdissect fields" lists the fields`},
		{"websocket.opcodes == 1", `
websocket.opcodes == 1
^
unknown field "websocket.opcodes"; did you mean "websocket.opcode"?`},
		{"ipaddr == 1.2.3.4", `
ipaddr == 1.2.3.4
^
unknown field "ipaddr"; did you mean "ip.addr"?`},
		{"Opcode == 1", `
Opcode == 1
^
unknown field "Opcode"; did you mean "opcode"?`},
		{"fni", `
fni
^
unknown field "fni"; did you mean "fin"?`},
		{"payload == zz", `
payload == zz
           ^
cannot compare payload (bytes) with zz (unquoted word): payload takes quoted strings or byte strings such as aa:bb:cc`},
		{"masking_key == aa:bb:ccc", `
masking_key == aa:bb:ccc
               ^
invalid byte string aa:bb:ccc: write one or two hex digits per byte, separated by ":", "-" or "." (aa:bb:cc)`},
		{"opcode == 1 and", `
opcode == 1 and
               ^
unexpected end of expression; expected a field name, "not" or "("`},
		{"!", `
!
 ^
unexpected end of expression; expected a field name, "not" or "("`},
		{"fin not 1", `
fin not 1
    ^
unexpected "not"; expected an operator, "and", "or" or the end of the expression`},
		{"payload contains 0x100", `
payload contains 0x100
                 ^
cannot compare payload (bytes) with 0x100 (number): payload takes quoted strings or byte strings such as aa:bb:cc`},
		{"anomaly == client-frame-unmasked", `
anomaly == client-frame-unmasked
           ^
cannot compare anomaly (string) with client-frame-unmasked (unquoted word): anomaly takes quoted strings, such as "client-frame-unmasked"`},
		{"json.a == 1e999", `
json.a == 1e999
          ^
number 1e999 is out of range`},
		{`text == "\x4"`, `
text == "\x4"
         ^
invalid escape: \x needs two hex digits`},
		{`text == "\u12"`, `
text == "\u12"
         ^
invalid escape: \u needs 4 hex digits`},
		{`text == "\ud800"`, `
text == "\ud800"
         ^
invalid escape: U+D800 is not a valid code point`},
		{`text == "\400"`, `
text == "\400"
         ^
invalid escape: octal escapes are \NNN with three digits up to \377`},
		{`close.code ~ "1"`, `
close.code ~ "1"
           ^
operator "~" does not apply to close.code (number); it supports ==, !=, <, <=, >, >= and in`},
		{"ip.addr in {10.0.0.1..::1}", `
ip.addr in {10.0.0.1..::1}
                      ^
range 10.0.0.1..::1 mixes IPv4 and IPv6`},
		{"dir < c2s", `
dir < c2s
    ^
operator "<" does not apply to dir (direction); it supports ==, != and in`},
		{"json[99999999999] == 1", `
json[99999999999] == 1
     ^
array index 99999999999 is out of range`},
		{"fin\t== yes", "fin\t== yes\n   \t   ^\ncannot compare fin (bool) with yes (unquoted word): fin takes true, false, 1 or 0"},
		{"été == 1", `
été == 1
^
unknown field "été"; "wsdissect fields" lists the fields`},
		{"websocket == 1", `
websocket == 1
          ^
websocket is a protocol; it can only be tested for presence (websocket, !websocket)`},
		{"websocket not in {1}", `
websocket not in {1}
          ^
websocket is a protocol; it can only be tested for presence (websocket, !websocket)`},
		{"port in", `
port in
       ^
unexpected end of expression; expected "{" to start the set after "in"`},
		{"fin in {maybe}", `
fin in {maybe}
        ^
cannot compare fin (bool) with maybe (unquoted word): fin takes true, false, 1 or 0`},
	}
	for _, tc := range tests {
		_, err := Compile(tc.expr)
		if err == nil {
			t.Errorf("Compile(%q) succeeded", tc.expr)
			continue
		}
		var fe *Error
		if !errors.As(err, &fe) {
			t.Errorf("Compile(%q) error %T is not *Error", tc.expr, err)
			continue
		}
		if fe.Expr != tc.expr || fe.Pos < 0 || fe.Pos > len(tc.expr) {
			t.Errorf("Compile(%q): Expr %q, Pos %d", tc.expr, fe.Expr, fe.Pos)
		}
		want := strings.TrimPrefix(tc.want, "\n")
		if got := err.Error(); got != want {
			t.Errorf("Compile(%q) error:\n%s\nwant:\n%s", tc.expr, got, want)
		}
	}
}

func TestErrorRendering(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Expr: "abc", Pos: 1, Msg: "m"}, "abc\n ^\nm"},
		{Error{Expr: "abc", Pos: 99, Msg: "m"}, "abc\n   ^\nm"},
		{Error{Expr: "abc", Pos: -5, Msg: "m"}, "abc\n^\nm"},
		{Error{Expr: "é\x01\tx", Pos: 4, Msg: "m"}, "é \tx\n  \t^\nm"},
		{Error{Expr: "a\nb", Pos: 2, Msg: "m"}, "a b\n  ^\nm"},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("%+v.Error() = %q, want %q", tc.e, got, tc.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ in, want string }{
		{"opcod", "opcode"},
		{"OPCODE", "opcode"},
		{"fni", "fin"},
		{"websocket.opcod", "websocket.opcode"},
		{"tcp.strem", "tcp.stream"},
		{"close.cod", "close.code"},
		{"close_cod", "close_code"},
		{"useragent", "user_agent"},
		{"xyzzy", ""},
		{strings.Repeat("a", 100), ""},
	}
	for _, tc := range tests {
		if got := suggest(field.Builtin(), tc.in); got != tc.want {
			t.Errorf("suggest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
