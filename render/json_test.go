package render

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// Key order of the JSON schema, per record type. Every key a record has must
// be in its list, in this order.
var (
	commonKeys = []string{"type", "file", "stream", "client", "server", "community_id", "h2_stream", "ts", "packet"}
	keysByType = map[string][]string{
		"conn": {"host", "path", "origin", "user_agent", "has_cookie", "status",
			"subprotocols_offered", "subprotocol", "extensions_offered", "extensions",
			"accept_valid", "request_headers", "response_headers", "http_version", "midstream"},
		"frame": {"dir", "fin", "rsv1", "rsv2", "rsv3", "masked", "opcode", "opcode_name",
			"masking_key", "len", "packets", "text", "b64", "close_code", "close_reason",
			"compressed", "inflated", "truncated", "incomplete", "message"},
		"message": {"dir", "opcode", "opcode_name", "len", "frames", "first_packet",
			"text", "b64", "close_code", "close_reason", "incomplete", "truncated", "compressed", "inflated"},
		"anomaly": {"dir"},
	}
	requiredByType = map[string][]string{
		"conn":    {"midstream"},
		"frame":   {"dir", "fin", "rsv1", "rsv2", "rsv3", "masked", "opcode", "opcode_name", "len"},
		"message": {"dir", "opcode", "opcode_name", "len", "frames", "first_packet"},
		"anomaly": {"anomalies"},
	}
	tsPattern  = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$`)
	keyPattern = regexp.MustCompile(`^[0-9a-f]{8}$`)
)

// objectKeys returns the keys of the JSON object in data in order.
func objectKeys(data []byte) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// hasNull reports whether a decoded JSON value contains a null.
func hasNull(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range v {
			if hasNull(e) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasNull(e) {
				return true
			}
		}
	}
	return false
}

// validateNDJSON checks every line of out against the schema: valid JSON
// and UTF-8, known keys in schema order, required keys present, no nulls.
func validateNDJSON(t *testing.T, out []byte) {
	t.Helper()
	if len(out) == 0 || out[len(out)-1] != '\n' {
		t.Fatalf("output does not end with a newline")
	}
	for i, line := range bytes.Split(out[:len(out)-1], []byte("\n")) {
		validateJSONLine(t, i+1, line)
	}
}

// validateJSONLine checks one NDJSON line; n is its line number.
func validateJSONLine(t *testing.T, n int, line []byte) {
	t.Helper()
	if !utf8.Valid(line) {
		t.Errorf("line %d: invalid UTF-8", n)
	}
	var obj map[string]any
	if err := json.Unmarshal(line, &obj); err != nil {
		t.Errorf("line %d: %v: %s", n, err, line)
		return
	}
	if hasNull(obj) {
		t.Errorf("line %d: contains null: %s", n, line)
	}
	keys, err := objectKeys(line)
	if err != nil {
		t.Errorf("line %d: %v", n, err)
		return
	}
	typ, _ := obj["type"].(string)
	specific, ok := keysByType[typ]
	if !ok {
		t.Errorf("line %d: unknown type %q", n, typ)
		return
	}
	order := slices.Concat(commonKeys, specific, []string{"anomalies"})
	last := -1
	for _, k := range keys {
		i := slices.Index(order, k)
		if i < 0 {
			t.Errorf("line %d: unexpected key %q", n, k)
			continue
		}
		if i <= last {
			t.Errorf("line %d: key %q out of order (or repeated)", n, k)
		}
		last = i
	}
	optional := []string{"file", "h2_stream", "community_id"}
	for _, k := range slices.Concat(commonKeys, requiredByType[typ]) {
		if slices.Contains(optional, k) {
			continue
		}
		if _, ok := obj[k]; !ok {
			t.Errorf("line %d: missing key %q: %s", n, k, line)
		}
	}
	if ts, _ := obj["ts"].(string); !tsPattern.MatchString(ts) {
		t.Errorf("line %d: ts %q is not RFC 3339 with 9 fraction digits in UTC", n, ts)
	}
	if typ == "frame" || typ == "message" {
		_, hasText := obj["text"]
		_, hasB64 := obj["b64"]
		if hasText == hasB64 {
			t.Errorf("line %d: want exactly one of text and b64: %s", n, line)
		}
	}
	if typ == "frame" {
		mk, hasKey := obj["masking_key"].(string)
		if masked := obj["masked"] == true; masked != hasKey || (hasKey && !keyPattern.MatchString(mk)) {
			t.Errorf("line %d: masking_key %q does not match masked", n, mk)
		}
	}
	if as, ok := obj["anomalies"]; ok {
		list, _ := as.([]any)
		if len(list) == 0 {
			t.Errorf("line %d: empty anomalies array", n)
		}
		for _, a := range list {
			m, _ := a.(map[string]any)
			switch m["severity"] {
			case "error", "warning", "info":
			default:
				t.Errorf("line %d: bad severity in %v", n, m)
			}
			for k := range m {
				if !slices.Contains([]string{"id", "severity", "msg", "offset"}, k) {
					t.Errorf("line %d: unexpected anomaly key %q", n, k)
				}
			}
		}
	}
}

// TestJSONRecords checks complete JSON lines for representative records.
func TestJSONRecords(t *testing.T) {
	want := map[string]string{
		"text-c2s": `{"type":"frame","stream":0,"client":"10.0.0.1:50000","server":"10.0.0.2:80","community_id":"1:jFryvin7b0RtSlPCZ3QhbbsOrZc=","ts":"2024-01-02T03:04:05.004635000Z","packet":12,` +
			`"dir":"c2s","fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"masked":true,"opcode":1,"opcode_name":"text","masking_key":"e17e8eb9","len":12,"packets":[11,12],"text":"Hello world!"}`,
		"text-invalid-utf8": `{"type":"frame","stream":0,"client":"10.0.0.1:50000","server":"10.0.0.2:80","community_id":"1:jFryvin7b0RtSlPCZ3QhbbsOrZc=","ts":"2024-01-02T03:04:05.007123000Z","packet":15,` +
			`"dir":"s2c","fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"masked":false,"opcode":1,"opcode_name":"text","len":4,"b64":"b2v//g==",` +
			`"anomalies":[{"id":"invalid-utf8","severity":"error","msg":"text payload is not valid UTF-8","offset":2}]}`,
		"compressed": `{"type":"frame","stream":0,"client":"10.0.0.1:50000","server":"10.0.0.2:80","community_id":"1:jFryvin7b0RtSlPCZ3QhbbsOrZc=","ts":"2024-01-02T03:04:05.010123000Z","packet":18,` +
			`"dir":"s2c","fin":true,"rsv1":true,"rsv2":false,"rsv3":false,"masked":false,"opcode":1,"opcode_name":"text","len":7,"text":"Hello","compressed":true}`,
		"binary-64bit-incomplete": `{"type":"frame","stream":1,"client":"[2001:db8::1]:40000","server":"[2001:db8::2]:443","community_id":"1:RYG3Msb11GthNt1OYXJouPzmrvA=","ts":"2024-01-02T03:04:06.500123000Z","packet":25,` +
			`"dir":"c2s","fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"masked":true,"opcode":2,"opcode_name":"binary","masking_key":"01020304","len":70000,"packets":[23,24,25],"b64":"AAFiaW5hcnn/","incomplete":true,` +
			`"anomalies":[{"id":"tcp-gap","severity":"error","msg":"bytes missing from the capture","offset":9}]}`,
		"close-c2s": `{"type":"frame","stream":0,"client":"10.0.0.1:50000","server":"10.0.0.2:80","community_id":"1:jFryvin7b0RtSlPCZ3QhbbsOrZc=","ts":"2024-01-02T03:04:07.000123000Z","packet":40,` +
			`"dir":"c2s","fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"masked":true,"opcode":8,"opcode_name":"close","masking_key":"e17e8eb9","len":5,"b64":"A+hieWU=","close_code":1000,"close_reason":"bye"}`,
		"close-empty": `{"type":"frame","stream":0,"client":"10.0.0.1:50000","server":"10.0.0.2:80","community_id":"1:jFryvin7b0RtSlPCZ3QhbbsOrZc=","ts":"2024-01-02T03:04:07.001123000Z","packet":41,` +
			`"dir":"s2c","fin":true,"rsv1":false,"rsv2":false,"rsv3":false,"masked":false,"opcode":8,"opcode_name":"close","len":0,"b64":""}`,
		"msg-text-truncated": `{"type":"message","stream":0,"client":"10.0.0.1:50000","server":"10.0.0.2:80","community_id":"1:jFryvin7b0RtSlPCZ3QhbbsOrZc=","ts":"2024-01-02T03:04:05.020123000Z","packet":33,` +
			`"dir":"s2c","opcode":1,"opcode_name":"text","len":100000,"frames":2,"first_packet":30,"text":"partial","truncated":true}`,
		"msg-close": `{"type":"message","stream":0,"client":"10.0.0.1:50000","server":"10.0.0.2:80","community_id":"1:jFryvin7b0RtSlPCZ3QhbbsOrZc=","ts":"2024-01-02T03:04:07.000123000Z","packet":40,` +
			`"dir":"c2s","opcode":8,"opcode_name":"close","len":10,"frames":1,"first_packet":40,"b64":"A+lnb2luZwoh","close_code":1001,"close_reason":"going\n!"}`,
		"conn-rejected": `{"type":"conn","stream":2,"client":"10.0.0.3:50001","server":"10.0.0.2:80","community_id":"1:jJCUiE/+q3fxEwG0BlbPj7p/yAk=","ts":"2024-01-02T03:04:06.100123000Z","packet":31,` +
			`"host":"example.com","path":"/admin","has_cookie":false,"status":403,"accept_valid":false,"request_headers":{"host":"example.com"},"response_headers":{"content-length":"0"},"http_version":"1.1","midstream":false}`,
		"conn-ipv6-bad-accept": `{"type":"conn","stream":1,"client":"[2001:db8::1]:40000","server":"[2001:db8::2]:443","community_id":"1:RYG3Msb11GthNt1OYXJouPzmrvA=","ts":"2024-01-02T03:04:06.000123000Z","packet":21,` +
			`"host":"[2001:db8::2]","path":"/","user_agent":"test/1.0 \"quoted\"","has_cookie":false,"status":101,"accept_valid":false,` +
			`"request_headers":{"host":"[2001:db8::2]","x-dup":"1, 2"},"response_headers":{"upgrade":"websocket"},"http_version":"1.1","midstream":false,` +
			`"anomalies":[{"id":"bad-accept","severity":"error","msg":"Sec-WebSocket-Accept does not match the key"}]}`,
		"conn-midstream": `{"type":"conn","stream":3,"client":"192.168.1.5:61000","server":"192.168.1.1:8080","community_id":"1:/BT8kLxZmN6BQ0+rW5RHBjv4y9A=","ts":"2024-01-02T03:04:07.999123000Z","packet":49,"midstream":true,` +
			`"anomalies":[{"id":"midstream","severity":"info","msg":"no handshake seen; direction guessed from masking"}]}`,
		"anomaly-dir": `{"type":"anomaly","stream":0,"client":"10.0.0.1:50000","server":"10.0.0.2:80","community_id":"1:jFryvin7b0RtSlPCZ3QhbbsOrZc=","ts":"2024-01-02T03:04:05.030123000Z","packet":35,"dir":"s2c",` +
			`"anomalies":[{"id":"tcp-gap","severity":"error","msg":"1460 bytes missing","offset":5000}]}`,
		"anomaly-conn": `{"type":"anomaly","stream":1,"client":"[2001:db8::1]:40000","server":"[2001:db8::2]:443","community_id":"1:RYG3Msb11GthNt1OYXJouPzmrvA=","ts":"2024-01-02T03:04:09.000123000Z","packet":60,` +
			`"anomalies":[{"id":"no-close","severity":"warning","msg":"connection ended without a close handshake"}]}`,
	}
	for _, fx := range fixtures() {
		w, ok := want[fx.name]
		if !ok {
			continue
		}
		delete(want, fx.name)
		t.Run(fx.name, func(t *testing.T) {
			got, err := renderAll(Options{Format: FormatJSON}, []fixture{fx})
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != w+"\n" {
				t.Errorf("got  %s\nwant %s", got, w)
			}
			validateNDJSON(t, got)
		})
	}
	for name := range want {
		t.Errorf("no fixture %q", name)
	}
}

// TestJSONFileKey checks that the file name follows "type" and is escaped.
func TestJSONFileKey(t *testing.T) {
	fx := fixtures()[:1]
	got, err := renderAll(Options{Format: FormatJSON, File: "a\"b\\c\x01\xff.pcap"}, fx)
	if err != nil {
		t.Fatal(err)
	}
	const prefix = `{"type":"conn","file":"a\"b\\c\u0001\ufffd.pcap","stream":0,`
	if !strings.HasPrefix(string(got), prefix) {
		t.Errorf("got %s\nwant prefix %s", got, prefix)
	}
	validateNDJSON(t, got)
}

// TestJSONString checks the string escaper against encoding/json for
// awkward inputs: the decoded value must equal the input with each invalid
// byte replaced by U+FFFD.
func TestJSONString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain", `"plain"`},
		{"q\"b\\", `"q\"b\\"`},
		{"\n\r\t\x00\x1f\x7f", `"\n\r\t\u0000\u001f` + "\x7f" + `"`},
		{"é€😀", `"é€😀"`},
		{"\xff", `"\ufffd"`},
		{"a\xc3", `"a\ufffd"`},
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`}, // surrogate
		{"\u2028\u2029", `"\u2028\u2029"`},
		{"<>&", `"<>&"`},
	}
	for _, tc := range tests {
		got := appendJSONString(nil, tc.in)
		if string(got) != tc.want {
			t.Errorf("appendJSONString(%q) = %s, want %s", tc.in, got, tc.want)
		}
		gotBytes := appendJSONString(nil, []byte(tc.in))
		if !bytes.Equal(gotBytes, got) {
			t.Errorf("string and []byte forms differ for %q", tc.in)
		}
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q: %v", tc.in, err)
		}
		if want := string([]rune(tc.in)); back != want {
			t.Errorf("%q decodes to %q, want %q", tc.in, back, want)
		}
	}
}
