package graphqlws

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/subproto/app"
)

func run(t *testing.T, d *Decoder, msgs []string) []string {
	t.Helper()
	var out []string
	for i, m := range msgs {
		for _, r := range d.Decode(app.Message{Dir: app.Dir(i & 1), Opcode: app.Text, Payload: []byte(m)}) {
			js := r.AppendJSON(nil)
			if !json.Valid(js) {
				t.Fatalf("invalid JSON %s", js)
			}
			out = append(out, app.Summary(r)+" | "+string(js))
		}
	}
	return out
}

func TestTransportWS(t *testing.T) {
	got := run(t, NewDecoder(false), []string{
		`{"type":"connection_init","payload":{"token":"t"}}`,
		`{"type":"connection_ack"}`,
		`{"id":"1","type":"subscribe","payload":{"query":"subscription OnMsg($r: ID!) { msg(room: $r) { text } }","variables":{"r":"a"}}}`,
		`{"id":"1","type":"next","payload":{"data":{"msg":{"text":"hi"}}}}`,
		`{"type":"ping"}`,
		`{"id":"1","type":"error","payload":[{"message":"boom"}]}`,
		`{"id":"2","type":"subscribe","payload":{"query":"{ hello }","operationName":null}}`,
		`{"id":"2","type":"complete"}`,
		`{"type":"bogus"}`,
		`[1]`,
	})
	want := []string{
		`GraphQL connection_init | {"type":"connection_init","payload":{"token":"t"}}`,
		`GraphQL connection_ack | {"type":"connection_ack"}`,
		`GraphQL subscribe id=1 subscription OnMsg | {"type":"subscribe","id":"1","operation_type":"subscription","operation":"OnMsg","query":"subscription OnMsg($r: ID!) { msg(room: $r) { text } }","variables":{"r":"a"}}`,
		`GraphQL next id=1 OnMsg {"msg":{"text":"hi"}} | {"type":"next","id":"1","operation_type":"subscription","operation":"OnMsg","data":{"msg":{"text":"hi"}}}`,
		`GraphQL ping | {"type":"ping"}`,
		`GraphQL error id=1 OnMsg errors [{"message":"boom"}] | {"type":"error","id":"1","operation_type":"subscription","operation":"OnMsg","errors":[{"message":"boom"}]}`,
		`GraphQL subscribe id=2 query | {"type":"subscribe","id":"2","operation_type":"query","query":"{ hello }"}`,
		`GraphQL complete id=2 | {"type":"complete","id":"2","operation_type":"query"}`,
		`GraphQL bogus [malformed: unknown message type bogus] | {"type":"bogus","malformed":"unknown message type bogus"}`,
		`GraphQL  [malformed: message is not a JSON object] | {"type":"","malformed":"message is not a JSON object"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLegacy(t *testing.T) {
	got := run(t, NewDecoder(true), []string{
		`{"type":"start","id":"7","payload":{"query":"# c\nmutation Add { add }","operationName":"AddIt"}}`,
		`{"type":"data","id":"7","payload":{"data":null,"errors":[{"message":"x"}]}}`,
		`{"type":"ka"}`,
		`{"type":"subscribe","id":"1","payload":{"query":"{a}"}}`,
	})
	want := []string{
		`GraphQL start id=7 mutation AddIt | {"type":"start","legacy":true,"id":"7","operation_type":"mutation","operation":"AddIt","query":"# c\nmutation Add { add }"}`,
		`GraphQL data id=7 AddIt errors [{"message":"x"}] | {"type":"data","legacy":true,"id":"7","operation_type":"mutation","operation":"AddIt","data":null,"errors":[{"message":"x"}]}`,
		`GraphQL ka | {"type":"ka","legacy":true}`,
		`GraphQL subscribe id=1 query [malformed: unknown message type subscribe] | {"type":"subscribe","legacy":true,"id":"1","operation_type":"query","query":"{a}","malformed":"unknown message type subscribe"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestAuto(t *testing.T) {
	d := NewAutoDecoder()
	got := run(t, d, []string{
		`{"type":"connection_init"}`,
		`{"type":"connection_ack"}`,
		`{"type":"start","id":"1","payload":{"query":"{a}"}}`,
	})
	if !d.Legacy() || !strings.Contains(got[2], `"legacy":true`) || strings.Contains(got[2], "malformed") {
		t.Errorf("auto did not turn legacy: %q", got)
	}
	d = NewAutoDecoder()
	got = run(t, d, []string{`{"type":"subscribe","id":"1","payload":{"query":"{a}"}}`, `{"type":"ka"}`})
	if d.Legacy() || !strings.Contains(got[1], "malformed") {
		t.Errorf("auto turned legacy after subscribe: %q", got)
	}
}
