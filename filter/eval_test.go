package filter

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// namedRecords are the records evaluation tests run against.
func namedRecords() map[string]*dissect.Record {
	return map[string]*dissect.Record{
		"text":    textFrame(),
		"binary":  binaryFrame(),
		"close":   closeFrame(),
		"msg":     textMessage(),
		"conn":    connRecord(),
		"anomaly": anomalyRecord(),
		"cont":    continuationFrame(),
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		expr string
		want string // space-separated names of the records that match
	}{
		// opcode and its names
		{"opcode == 1", "text msg"},
		{"opcode == text", "text msg"},
		{"opcode == TEXT", "text msg"},
		{`opcode == "binary"`, "binary"},
		{"websocket.opcode == 8", "close"},
		{"opcode == control", "close"},
		{"opcode == data", "text binary msg"},
		{"opcode != data", "close cont"},
		{"opcode == continuation", "cont"},
		{"opcode in {text close}", "text close msg"},
		{"opcode in {0..2}", "text binary msg cont"},
		{"opcode > 2", "close"},
		{"opcode ge 0x8", "close"},
		{"opcode", "text binary close msg cont"},
		{"!opcode", "conn anomaly"},
		// header bits
		{"fin", "text close msg"},
		{"!fin", "binary conn anomaly cont"},
		{"fin == 0", "binary cont"},
		{"fin == false", "binary cont"},
		{"websocket.fin == 1", "text close msg"},
		{"websocket.fin", "text binary close msg cont"},
		{"!websocket.fin", "conn anomaly"},
		{"websocket.mask", "text binary close cont"},
		{"websocket.pmc", "text binary close"},
		{"fin == TRUE", "text close msg"},
		{"fin != 1", "binary cont"},
		{"rsv1", "binary"},
		{"rsv2 || rsv3", ""},
		{"rsv == 4", "binary"},
		{"websocket.rsv == 0", "text close cont"},
		{"pmc", "binary"},
		{"websocket.pmc == 0", "text close"},
		{"mask", "text"},
		{"masked == 0", "binary close cont"},
		{"websocket.mask == 1 && websocket.payload_length > 100", "text"},
		{"compressed", "binary msg"},
		// lengths
		{"len > 100", "text msg"},
		{"len == 5", "binary"},
		{"len in {1..9}", "binary close cont"},
		{"lencode == 126", "text"},
		{"websocket.payload_length <= 9", "binary close cont"},
		{"websocket.payload_length_ext_16 > 100", "text"},
		{"websocket.payload_length_ext_64", ""},
		// bytes
		{"masking_key == aa:bb:cc:dd", "text"},
		{"websocket.masking_key == aa-bb-cc-dd", "text"},
		{"masking_key == aa.bb.cc.dd", "text"},
		{"masking_key == aabbccdd", "text"},
		{"masking_key == aa:bb:cc", ""},
		{"masking_key", "text"},
		{"payload contains fe:ff", "binary"},
		{"payload contains 0xfe", "binary"},
		{`payload contains "going"`, "close"},
		{`payload contains "\x03\xe9"`, "close"},
		{`payload matches "^\\{\"type"`, "text"},
		{`payload == "[1, \"two\", {\"three\": 3}]"`, "msg"},
		{"payload < 01", "binary"},
		{"payload", "text binary close msg cont"},
		{"data.data", "binary"},
		{"data.data == 00:01:02:fe:ff", "binary"},
		// text
		{"text", "text msg cont"},
		{`text contains "chat"`, "text"},
		{`websocket.payload.text contains "three"`, "msg"},
		{`text matches "TYPE"`, "text"},
		{`text matches "(?-i)TYPE"`, ""},
		{`text ~ "^\\[1,"`, "msg"},
		{`text > "[z"`, "text"},
		// direction and connection
		{"dir == c2s", "text msg"},
		{"dir == client", "text msg"},
		{"dir == s2c", "binary close cont"},
		{`dir == "server"`, "binary close cont"},
		{"dir != server", "text msg"},
		{"!dir", "conn anomaly"},
		{"stream == 3", "text binary close conn anomaly"},
		{"tcp.stream in {7 8}", "msg cont"},
		{"packet >= 40", "msg anomaly cont"},
		{"frame.number == 17", "text"},
		// close
		{"close.code == 1001", "close"},
		{"close.code != 1000", "close"},
		{"websocket.payload.close.status_code in {1000..1015}", "close"},
		{`close.reason == "going by"`, "close"},
		{`websocket.payload.close.reason contains "by"`, "close"},
		{"close.code", "close"},
		// anomalies
		{"anomaly", "binary anomaly"},
		{`anomaly == "tcp-gap"`, "anomaly"},
		{`anomaly contains "utf8"`, "binary"},
		{`anomaly != "tcp-gap"`, "binary"},
		{`!(anomaly == "tcp-gap")`, "text binary close msg conn cont"},
		{`anomaly matches "^invalid"`, "binary"},
		{`anomaly in {"tcp-gap" "x"}`, "anomaly"},
		// addresses and ports
		{"ip.src == 10.0.0.1", "text conn anomaly"},
		{"ip.dst == 10.0.0.1", "binary close"},
		{"ip.addr == 10.0.0.0/8", "text binary close conn anomaly"},
		{"ip.addr == 192.168.1.10", "text binary close conn anomaly"},
		{"ip.addr != 10.0.0.1", "msg cont"},
		{"ip.src == ::ffff:10.0.0.1", "text conn anomaly"},
		{"ip.src in {10.0.0.0..10.0.0.5}", "text conn anomaly"},
		{"ip.src > 10.0.0.1", "binary close"},
		{"ip.addr == 2001:db8::/32", "msg cont"},
		{"ipv6.src == 2001:db8::1", "msg"},
		{"ipv6.addr", "msg cont"},
		{"ipv6.dst == 2001:db8::1", "cont"},
		{"port == 8080", "text binary close conn anomaly"},
		{"tcp.port in {443, 80}", "msg cont"},
		{"tcp.srcport == 8080", "binary close"},
		{"tcp.dstport == 8080", "text conn anomaly"},
		{"port != 8080", "msg cont"},
		// handshake strings
		{`host == "chat.example.com"`, "text binary close conn anomaly"},
		{`path contains "room"`, "text binary close conn anomaly"},
		{`origin matches "^https://"`, "text binary close conn anomaly"},
		{`user_agent contains "Linux"`, "text binary close conn anomaly"},
		{`subprotocol == "chat.v1"`, "text binary close conn anomaly"},
		{`extensions == "permessage-deflate; client_max_window_bits=15, x-custom"`, "text binary close conn anomaly"},
		{`extensions contains "deflate"`, "text binary close conn anomaly"},
		{"host", "text binary close conn anomaly"},
		{"!origin", "msg cont"},
		// encapsulation
		{`tunnel_type == "vxlan"`, "msg cont"},
		{`tunnel_type == "gre"`, "text binary close conn anomaly"},
		{"tunnel_id == 0", "msg cont"},
		{"tunnel_id", "msg cont"},
		{"!tunnel_id", "text binary close conn anomaly"},
		// JSON
		{`json.type == "chat"`, "text"},
		{`json.type != "chat"`, ""},
		{`json.type`, "text"},
		{`json`, "text msg"},
		{`!json`, "binary close conn anomaly cont"},
		{`json.user.id == 42`, "text"},
		{`json.user.id > 10`, "text"},
		{`json.user.id == 42.0`, "text"},
		{`json.user.id in {40..50}`, "text"},
		{`json.user.id in {"42"}`, ""},
		{`json.user.name == "anné"`, "text"},
		{`json.user.name == "ann\u00e9"`, "text"},
		{`json.user.name contains "né"`, "text"},
		{`json.user.tags[1] == "b"`, "text"},
		{`json.user.tags[2]`, ""},
		{`json.user contains "tags"`, "text"},
		{`json.items[0] == "x"`, "text"},
		{`json.items[1].k == null`, "text"},
		{`json.items[1].k`, "text"},
		{`json.ok == true`, "text"},
		{`json.ok == 1`, ""},
		{`json.price < 10`, "text"},
		{`json.price == 9.99`, "text"},
		{`json.big > 1e29`, "text"},
		{`json["a b"] == "sp\"ace"`, "text"},
		{`json["a b"] matches "^SP"`, "text"},
		{`json[0] == 1`, "msg"},
		{`json[1] >= "two"`, "msg"},
		{`json[2].three == 3`, "msg"},
		{`json[2]["three"] == 0x3`, "msg"},
		{`json.type.x`, ""},
		{`json.nope`, ""},
		// protocol
		{"websocket", "text binary close msg cont"},
		{"!websocket", "conn anomaly"},
		{"websocket && tcp.srcport < 10000", "binary close cont"},
		// logic and precedence
		{"opcode == text and fin", "text msg"},
		{"opcode == text && dir == s2c || opcode == close", "close"},
		{"opcode == close || opcode == text && dir == s2c", "close"},
		{"(opcode == close || opcode == text) && dir == s2c", "close"},
		{"not opcode == text", "binary close conn anomaly cont"},
		{"!!fin", "text close msg"},
		{"port not in {8080}", "msg cont"},
		{"!(port in {443 80})", "text binary close conn anomaly"},
		{"opcode == 1 AND fin OR opcode == 15", "text msg"},
	}
	recs := namedRecords()
	names := make([]string, 0, len(recs))
	for n := range recs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, tc := range tests {
		f, err := Compile(tc.expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.expr, err)
			continue
		}
		want := strings.Fields(tc.want)
		var got []string
		for _, n := range names {
			if f.Match(recs[n]) {
				got = append(got, n)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q matched %v, want %v", tc.expr, got, want)
		}
	}
}

// TestMatchOddRecords checks that records with missing parts never panic and
// match only presence-free tests.
func TestMatchOddRecords(t *testing.T) {
	odd := []*dissect.Record{
		nil,
		{},
		{Kind: dissect.KindFrame},
		{Kind: dissect.KindMessage, HasDir: true},
		{Kind: dissect.KindFrame, Conn: &dissect.Conn{}, Frame: &dissect.Frame{IsText: true, Opcode: 1}},
	}
	exprs := []string{"opcode", "fin", "json.a", "ip.addr", "port", "extensions", "host", "stream", "anomaly", "text", "dir == c2s"}
	for _, e := range exprs {
		f, err := Compile(e)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range odd {
			_ = f.Match(r)
			if i < 3 && f.Match(r) {
				t.Errorf("%q matched empty record %d", e, i)
			}
		}
	}
	f, _ := Compile("!opcode")
	if f.Match(nil) {
		t.Error("nil record matched")
	}
	var nf *Filter
	if nf.Match(textFrame()) || nf.String() != "" || nf.Clone() != nil {
		t.Error("nil Filter misbehaves")
	}
}

func TestClone(t *testing.T) {
	f, err := Compile(`json.user.name == "anné" && extensions contains "x-"`)
	if err != nil {
		t.Fatal(err)
	}
	c := f.Clone()
	if c == f || c.String() != f.String() {
		t.Fatalf("Clone = %p %q", c, c.String())
	}
	r := textFrame()
	if !f.Match(r) || !c.Match(r) {
		t.Error("clone does not match like the original")
	}
}

// TestRelativeTime checks frame.time_relative (seconds since the first
// packet, with fractions) and frame.time_epoch.
func TestRelativeTime(t *testing.T) {
	start := time.Unix(1700000000, 0)
	rec := func(after time.Duration) *dissect.Record {
		return &dissect.Record{Kind: dissect.KindFrame, Conn: &dissect.Conn{}, Frame: &dissect.Frame{}, Time: start.Add(after)}
	}
	tests := []struct {
		expr  string
		after time.Duration
		want  bool
	}{
		{"frame.time_relative > 1.5", 2 * time.Second, true},
		{"frame.time_relative > 1.5", 1500 * time.Millisecond, false},
		{"frame.time_relative >= 1.5", 1500 * time.Millisecond, true},
		{"frame.time_relative in {0..0.25}", 100 * time.Millisecond, true},
		{"frame.time_relative == 0", 0, true},
		{"frame.time_epoch > 1700000000.5", time.Second, true},
		{"frame.time_epoch < 1700000000.5", time.Second, false},
	}
	for _, tc := range tests {
		f, err := Compile(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		f.SetEpoch(start)
		if got := f.Match(rec(tc.after)); got != tc.want {
			t.Errorf("%s after %v = %v, want %v", tc.expr, tc.after, got, tc.want)
		}
	}
	f, err := Compile("frame.time_relative < 1")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.String(); got != "frame.time_relative < 1.000000000" {
		t.Errorf("canonical form %q", got)
	}
	// Without SetEpoch the first record sets it.
	if !f.Match(rec(5*time.Second)) || f.Match(rec(7*time.Second)) {
		t.Error("the first record does not set the epoch")
	}
	if _, err := Compile(`frame.time_relative > "x"`); err == nil {
		t.Error("a string compared with seconds compiled")
	}
}
