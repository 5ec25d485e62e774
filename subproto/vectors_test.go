package subproto_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/graphqlws"
	"github.com/wsdissect/wsdissect/subproto/jsonrpc"
	"github.com/wsdissect/wsdissect/subproto/mqtt"
	"github.com/wsdissect/wsdissect/subproto/socketio"
	"github.com/wsdissect/wsdissect/subproto/stomp"
	"github.com/wsdissect/wsdissect/subproto/tunnel"
)

// vector is a recording made by internal/subprotogen/node: the payloads of
// every WebSocket message between a real client and server library, and
// each library's own log of the application messages it sent.
type vector struct {
	Protocol    string `json:"protocol"`
	Library     string `json:"library"`
	URL         string `json:"url"`
	Subprotocol string `json:"subprotocol"`
	Messages    []struct {
		Dir    string `json:"dir"`
		Opcode int    `json:"opcode"`
		B64    []byte `json:"b64"`
	} `json:"messages"`
	Truth []map[string]any `json:"truth"`
	// Polling are Engine.IO long-polling exchanges, each made before
	// message Seq (a session that starts with polling, then upgrades).
	Polling []struct {
		Seq    int    `json:"seq"`
		Method string `json:"method"`
		Req    []byte `json:"req_b64"`
		Resp   []byte `json:"resp_b64"`
	} `json:"polling"`
}

func loadVectors(t testing.TB) map[string]*vector {
	t.Helper()
	files, err := filepath.Glob("../testdata/subproto/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no vectors: %v", err)
	}
	out := map[string]*vector{}
	for _, f := range files {
		if strings.HasSuffix(f, ".truth.json") {
			continue // capgen truth of the pcap made from the recording
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v := new(vector)
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = v
	}
	return out
}

// norm round-trips v through JSON so that numbers are float64 and
// structs become maps.
func norm(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return out
}

func parse(t *testing.T, raw []byte) any {
	t.Helper()
	if len(raw) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return v
}

func b64(b []byte) map[string]any {
	return map[string]any{"_binary": base64.StdEncoding.EncodeToString(b)}
}

func TestVectorsFromRealLibraries(t *testing.T) {
	for name, v := range loadVectors(t) {
		t.Run(name, func(t *testing.T) {
			c := subproto.New(subproto.Config{Subprotocol: v.Subprotocol, URL: v.URL})
			got := map[string][]any{}
			// a tunnel is compared per direction as a whole: its protocol,
			// its opening, its byte count
			type stream struct {
				tunnel, info string
				bytes        int
			}
			streams := map[string]*stream{}
			// the session's long-polling exchanges, decoded from their
			// bodies where they were made among the messages
			var polls *socketio.Decoder
			next := 0
			pollsUpTo := func(seq int) {
				for ; next < len(v.Polling) && v.Polling[next].Seq <= seq; next++ {
					if polls == nil {
						polls = socketio.NewDecoder(4)
					}
					x := v.Polling[next]
					dir, d, body := app.ServerToClient, "s2c", x.Resp
					if x.Method == "POST" {
						dir, d, body = app.ClientToServer, "c2s", x.Req
					}
					for _, r := range polls.DecodePolling(dir, body) {
						if r.Malformed() != "" {
							t.Errorf("polling exchange %d: malformed: %s", next, app.Summary(r))
						}
						for _, view := range viewOf(t, r) {
							got[d] = append(got[d], norm(t, view))
						}
					}
				}
			}
			for i, m := range v.Messages {
				pollsUpTo(i)
				dir := app.ClientToServer
				if m.Dir == "s2c" {
					dir = app.ServerToClient
				}
				for _, r := range c.Decode(app.Message{Dir: dir, Opcode: app.Opcode(m.Opcode), Payload: m.B64}) {
					if r.Malformed() != "" {
						t.Errorf("message %d: malformed: %s", i, app.Summary(r))
					}
					if js := r.AppendJSON(nil); !json.Valid(js) {
						t.Errorf("message %d: invalid JSON %s", i, js)
					}
					if r.Protocol() != v.Protocol {
						t.Errorf("message %d: protocol %s, want %s", i, r.Protocol(), v.Protocol)
					}
					if tr, ok := r.(*tunnel.Record); ok {
						st := streams[m.Dir]
						if st == nil {
							st = &stream{}
							streams[m.Dir] = st
						}
						if st.info == "" {
							st.info = tr.Info
						}
						st.tunnel = tr.Tunnel
						st.bytes += tr.Len
						continue
					}
					for _, view := range viewOf(t, r) {
						got[m.Dir] = append(got[m.Dir], norm(t, view))
					}
				}
			}
			pollsUpTo(len(v.Messages))
			for dir, st := range streams {
				got[dir] = append(got[dir], norm(t, map[string]any{"tunnel": st.tunnel, "info": st.info, "bytes": st.bytes}))
			}
			if ch := c.Choice(); ch.Protocol != v.Protocol {
				t.Fatalf("chose %+v, want %s", ch, v.Protocol)
			}
			want := map[string][]any{}
			v5 := false
			for _, tr := range v.Truth {
				if tr["cmd"] == "connect" && tr["protocolVersion"] == 5.0 {
					v5 = true
				}
			}
			for _, tr := range v.Truth {
				dir := tr["dir"].(string)
				for _, w := range truthViews(t, v.Protocol, tr, v5) {
					want[dir] = append(want[dir], norm(t, w))
				}
			}
			for _, dir := range []string{"c2s", "s2c"} {
				g, w := got[dir], want[dir]
				for i := 0; i < max(len(g), len(w)); i++ {
					var gi, wi any
					if i < len(g) {
						gi = g[i]
					}
					if i < len(w) {
						wi = w[i]
					}
					if !reflect.DeepEqual(gi, wi) {
						gj, _ := json.Marshal(gi)
						wj, _ := json.Marshal(wi)
						t.Errorf("%s record %d:\n got  %s\n want %s", dir, i, gj, wj)
					}
				}
				if len(w) == 0 {
					t.Errorf("%s: no truth records", dir)
				}
			}
		})
	}
}

// viewOf turns a decoded record into the form of the truth log, or nothing
// for records that are not application messages (Engine.IO transport
// packets).
func viewOf(t *testing.T, r app.Record) []any {
	switch x := r.(type) {
	case *socketio.Record:
		if !x.HasSIO {
			return nil
		}
		m := map[string]any{"type": x.Type, "nsp": string(x.Namespace)}
		if x.HasAck {
			m["id"] = x.AckID
		}
		switch {
		case x.Event != nil:
			args := parse(t, x.Args).([]any)
			m["data"] = append([]any{string(x.Event)}, args...)
		case len(x.Args) > 0:
			m["data"] = parse(t, x.Args)
		}
		return []any{m}
	case *mqtt.Packet:
		return []any{mqttView(x)}
	case *stomp.Frame:
		if x.Heartbeat {
			return []any{map[string]any{"heartbeat": true}}
		}
		m := map[string]any{"command": string(x.Command)}
		h := [][]string{}
		for _, hd := range x.Headers {
			if string(hd.Name) != "content-length" {
				h = append(h, []string{string(hd.Name), string(hd.Value)})
			}
		}
		m["headers"] = h
		if len(x.Body) > 0 {
			m["body"] = string(x.Body)
		}
		return []any{m}
	case *graphqlws.Record:
		m := map[string]any{"type": string(x.Type)}
		if x.HasID {
			m["id"] = string(x.ID)
		}
		if x.Payload != nil {
			m["payload"] = parse(t, x.Payload)
		}
		return []any{m}
	case *jsonrpc.Record:
		m := map[string]any{"jsonrpc": "2.0"}
		if len(x.ID) > 0 {
			m["id"] = parse(t, x.ID)
		}
		if x.Method != nil {
			m["method"] = string(x.Method)
		}
		if x.Params != nil {
			m["params"] = parse(t, x.Params)
		}
		if x.Result != nil {
			m["result"] = parse(t, x.Result)
		}
		if x.Kind == jsonrpc.Error {
			e := map[string]any{"code": x.ErrorCode, "message": string(x.ErrorMessage)}
			if x.ErrorData != nil {
				e["data"] = parse(t, x.ErrorData)
			}
			m["error"] = e
		}
		if (x.Kind == jsonrpc.Response || x.Kind == jsonrpc.Error) && !x.Linked {
			t.Errorf("response id=%s not linked to its request", x.ID)
		}
		return []any{m}
	}
	t.Fatalf("unexpected record type %T", r)
	return nil
}

// camel turns a property name like topic_alias_maximum into mqtt-packet's
// topicAliasMaximum.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		r := []rune(parts[i])
		r[0] = unicode.ToUpper(r[0])
		parts[i] = string(r)
	}
	return strings.Join(parts, "")
}

func mqttProps(raw []byte) map[string]any {
	m := map[string]any{}
	it := mqtt.Properties(raw)
	for {
		p, ok := it.Next()
		if !ok {
			break
		}
		switch {
		case p.Pair:
			up, _ := m["userProperties"].(map[string]any)
			if up == nil {
				up = map[string]any{}
				m["userProperties"] = up
			}
			up[string(p.K)] = string(p.V)
		case p.Numeric:
			m[camel(p.Name)] = p.N
		case p.Binary:
			m[camel(p.Name)] = b64(p.V)
		default:
			m[camel(p.Name)] = string(p.V)
		}
	}
	return m
}

func mqttView(p *mqtt.Packet) map[string]any {
	m := map[string]any{"cmd": strings.ToLower(mqtt.TypeName(p.Type))}
	v5 := p.Level == 5
	if p.HasProps && len(p.Props) > 0 {
		m["properties"] = mqttProps(p.Props)
	}
	switch p.Type {
	case mqtt.CONNECT:
		m["protocolId"] = string(p.ProtoName)
		m["protocolVersion"] = p.ProtoLevel
		m["clientId"] = string(p.ClientID)
		m["keepalive"] = p.KeepAlive
		m["clean"] = p.ConnectFlags&2 != 0
		if p.ConnectFlags&0x80 != 0 {
			m["username"] = string(p.Username)
		}
		if p.ConnectFlags&0x40 != 0 {
			m["password"] = string(p.Password)
		}
		if p.ConnectFlags&4 != 0 {
			w := map[string]any{"topic": string(p.WillTopic), "payload": b64(p.WillPayload), "qos": p.ConnectFlags >> 3 & 3, "retain": p.ConnectFlags&0x20 != 0}
			if len(p.WillProps) > 0 {
				w["properties"] = mqttProps(p.WillProps)
			}
			m["will"] = w
		}
	case mqtt.CONNACK:
		m["sessionPresent"] = p.SessionPresent
		if v5 {
			m["reasonCode"] = p.ReasonCode
		} else {
			m["returnCode"] = p.ReasonCode
		}
	case mqtt.PUBLISH:
		m["topic"] = string(p.Topic)
		m["payload"] = b64(p.Payload)
		m["qos"] = p.QoS()
		m["retain"] = p.Retain()
		m["dup"] = p.Dup()
		if p.HasID {
			m["messageId"] = p.PacketID
		}
	case mqtt.SUBSCRIBE:
		m["messageId"] = p.PacketID
		var s []any
		for _, sub := range p.Subs {
			s = append(s, map[string]any{"topic": string(sub.Topic), "qos": sub.QoS()})
		}
		m["subscriptions"] = s
	case mqtt.UNSUBSCRIBE:
		m["messageId"] = p.PacketID
		var s []any
		for _, sub := range p.Subs {
			s = append(s, string(sub.Topic))
		}
		m["unsubscriptions"] = s
	case mqtt.SUBACK, mqtt.UNSUBACK:
		m["messageId"] = p.PacketID
		if p.Type == mqtt.SUBACK || v5 {
			var g []any
			for _, c := range p.Codes {
				g = append(g, c)
			}
			m["granted"] = g
		}
	case mqtt.PUBACK, mqtt.PUBREC, mqtt.PUBREL, mqtt.PUBCOMP:
		m["messageId"] = p.PacketID
		if v5 {
			m["reasonCode"] = p.ReasonCode // absent means 0 (Success)
		}
	}
	return m
}

// truthViews turns one truth entry into the views it should decode to.
func truthViews(t *testing.T, proto string, tr map[string]any, v5 bool) []any {
	w := map[string]any{}
	for k, v := range tr {
		if k != "dir" {
			w[k] = v
		}
	}
	switch proto {
	case "mqtt":
		cmd := w["cmd"].(string)
		// mqtt-packet fills fields that the encoding leaves out; keep
		// only what goes on the wire.
		switch cmd {
		case "publish":
			if w["qos"].(float64) == 0 {
				delete(w, "messageId")
			}
			delete(w, "clientId") // aedes' routing annotation, not sent
		case "puback", "pubrec", "pubrel", "pubcomp":
			delete(w, "qos")
			if _, ok := w["reasonCode"]; !ok && v5 {
				w["reasonCode"] = 0.0 // absent on the wire means Success
			}
			if !v5 {
				delete(w, "reasonCode") // 3.1.1 acknowledgements have none
			}
		}
		if cmd == "connect" {
			if w["will"] != nil {
				wl := w["will"].(map[string]any)
				if s, ok := wl["payload"].(string); ok {
					wl["payload"] = b64([]byte(s))
				}
			}
		}
		return []any{w}
	case "stomp":
		if h, ok := w["headers"].([]any); ok {
			var keep []any
			for _, p := range h {
				if p.([]any)[0] != "content-length" {
					keep = append(keep, p)
				}
			}
			if keep == nil {
				keep = []any{}
			}
			w["headers"] = keep
		}
		if b, ok := w["body_b64"].(string); ok {
			raw, _ := base64.StdEncoding.DecodeString(b)
			w["body"] = string(raw)
			delete(w, "body_b64")
		}
		return []any{w}
	case "jsonrpc":
		p := w["payload"]
		if arr, ok := p.([]any); ok {
			return arr
		}
		return []any{p}
	}
	return []any{w}
}

func TestVectorsSummaries(t *testing.T) {
	// The summaries of a few recorded messages, as a person reads them
	// (* stands for ids that change when the vectors are regenerated).
	want := map[string][]string{
		"socketio":  {`Socket.IO EVENT / "news" [{"headline":"x \"quoted\" é\n","n":[1,2.5,null,true]}]`, `Socket.IO BINARY_EVENT / "upload" ack=1 ["f.bin",{"_binary":"3q2+7w=="}] +1 attachments`},
		"mqtt":      {"MQTT PUBLISH sensors/t2 QoS1 id=* retain (4 bytes) [in 6 messages]", "MQTT CONNECT client=wsdissect-311 v3.1.1 keepalive=1 clean user=alice [in 17 messages]"},
		"mqtt5":     {"MQTT CONNACK rc=0x00 (Success) [in *]", "MQTT PUBLISH chat QoS2 id=* (12 bytes) [in *]"},
		"stomp":     {"STOMP SEND /queue/a (5 bytes)", "STOMP heart-beat", "STOMP MESSAGE /topic/bin (5 bytes)"},
		"graphqlws": {`GraphQL next id=* Greet {"hello":"hello wsdissect"}`, "GraphQL subscribe id=* subscription Count"},
		"jsonrpc":   {"JSON-RPC request subtract id=1 [42,23]", "JSON-RPC error id=4 (fail) 4001 custom failure"},
		"socketio-eio3": {`Socket.IO BINARY_EVENT / "upload" ack=0 [{"_binary":"YWJjZGVm"}] +1 attachments`, "Engine.IO ping",
			`Socket.IO BINARY_ACK / ack=0 ["got 6",{"_binary":"CQgH"}] +1 attachments`},
		"graphqlws-legacy":   {`GraphQL data id=1 Hello {"hello":"hello legacy"}`, "GraphQL start id=3 subscription Ticks", "GraphQL ka"},
		"stomp10":            {`STOMP SEND /queue/a (22 bytes)`},
		"tunnel-ssh":         {"Tunnel SSH 26 bytes: SSH-2.0-wsdissect_server"},
		"tunnel-tls":         {"Tunnel TLS * bytes: ClientHello, server name tunnel.test"},
		"tunnel-http-base64": {"Tunnel HTTP 69 bytes: GET /tunnelled?x=1 HTTP/1.1"},
	}
	vs := loadVectors(t)
	for name, lines := range want {
		v := vs[name]
		c := subproto.New(subproto.Config{Subprotocol: v.Subprotocol, URL: v.URL})
		var all []string
		for _, m := range v.Messages {
			dir := app.ClientToServer
			if m.Dir == "s2c" {
				dir = app.ServerToClient
			}
			for _, r := range c.Decode(app.Message{Dir: dir, Opcode: app.Opcode(m.Opcode), Payload: m.B64}) {
				all = append(all, strings.ReplaceAll(app.Summary(r), "\n", " "))
			}
		}
		for _, l := range lines {
			found := false
			for _, a := range all {
				if wildcard(strings.ReplaceAll(l, "\n", " "), a) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no summary %q in\n%s", name, l, strings.Join(all, "\n"))
			}
		}
	}
}

// wildcard matches s against pattern, where * stands for any run of bytes.
func wildcard(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for i, p := range parts[1:] {
		if i == len(parts)-2 {
			return strings.HasSuffix(s, p)
		}
		j := strings.Index(s, p)
		if j < 0 {
			return false
		}
		s = s[j+len(p):]
	}
	return s == ""
}

// TestVectorsBySniffing decodes every recording as if its handshake were
// missing (no subprotocol, no URL): sniffing must choose the same decoder
// on the first message and give the same records. websockify's base64
// mode cannot be told from the bytes. Two things only the handshake says
// are left out of the comparison: the legacy graphql-ws protocol is known
// from its first legacy-only message type, so the connection_init and
// connection_ack before it lack "legacy"; and an Engine.IO 3 session is
// known from the client's first ping, so what comes before it is read as
// Engine.IO 4 (binary attachments keep Engine.IO 3's type byte).
var sidRE = regexp.MustCompile(`,"sid":"[^"]*"`)

func TestVectorsBySniffing(t *testing.T) {
	for name, v := range loadVectors(t) {
		if v.Subprotocol == "base64" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			full := subproto.New(subproto.Config{Subprotocol: v.Subprotocol, URL: v.URL})
			sniff := subproto.New(subproto.Config{})
			for i, m := range v.Messages {
				dir := app.ClientToServer
				if m.Dir == "s2c" {
					dir = app.ServerToClient
				}
				msg := app.Message{Dir: dir, Opcode: app.Opcode(m.Opcode), Payload: m.B64}
				var a, b []string
				for _, r := range full.Decode(msg) {
					a = append(a, app.JSON(r))
				}
				for _, r := range sniff.Decode(msg) {
					b = append(b, app.JSON(r))
				}
				if name == "graphqlws-legacy" {
					a = []string{strings.ReplaceAll(strings.Join(a, "\n"), `,"legacy":true`, "")}
					b = []string{strings.ReplaceAll(strings.Join(b, "\n"), `,"legacy":true`, "")}
				}
				if name == "socketio-eio3" {
					continue
				}
				if name == "socketio-polling" {
					// a WebSocket upgraded from polling has no open
					// packet: only its URL names the session
					a = []string{sidRE.ReplaceAllString(strings.Join(a, "\n"), "")}
					b = []string{strings.Join(b, "\n")}
				}
				if strings.Join(a, "\n") != strings.Join(b, "\n") {
					t.Fatalf("message %d: sniffed decoding\n%s\nwant\n%s", i, strings.Join(b, "\n"), strings.Join(a, "\n"))
				}
				if i == 0 {
					if ch := sniff.Choice(); ch.Method != subproto.BySniffing || ch.Protocol != v.Protocol {
						t.Fatalf("after the first message: %+v", ch)
					}
				}
			}
			if d, ok := sniff.Decoder().(*graphqlws.Decoder); ok && d.Legacy() != (name == "graphqlws-legacy") {
				t.Errorf("sniffed graphql-ws legacy %v", d.Legacy())
			}
			if d, ok := sniff.Decoder().(*socketio.Decoder); ok && d.Version() != full.Decoder().(*socketio.Decoder).Version() {
				t.Errorf("sniffed Engine.IO version %d, the URL says %d", d.Version(), full.Decoder().(*socketio.Decoder).Version())
			}
		})
	}
}
