package subprotogen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/internal/subprotogen"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/app"
)

const dir = "../../testdata/subproto"

// TestCapturesUpToDate regenerates every capture and truth file and
// compares them with the committed ones byte for byte.
func TestCapturesUpToDate(t *testing.T) {
	outs, err := subprotogen.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) < 10 {
		t.Fatalf("only %d outputs", len(outs))
	}
	for _, o := range outs {
		b, err := os.ReadFile(filepath.Join(dir, o.Name))
		if err != nil {
			t.Fatalf("%v (run go run ./tools/gensubproto)", err)
		}
		if !bytes.Equal(b, o.Data) {
			t.Errorf("%s differs from what gensubproto makes now", o.Name)
		}
	}
}

type collector struct {
	conn      *dissect.Conn
	msgs      []app.Message
	anomalies []string
}

func (c *collector) Emit(r *dissect.Record) error {
	for _, a := range r.Anomalies {
		c.anomalies = append(c.anomalies, a.ID)
	}
	switch r.Kind {
	case dissect.KindConn:
		cc := *r.Conn
		c.conn = &cc
	case dissect.KindMessage:
		m := r.Message
		if m.Opcode != 1 && m.Opcode != 2 {
			return nil
		}
		dir := app.ClientToServer
		if m.Dir.String() == "s2c" {
			dir = app.ServerToClient
		}
		c.msgs = append(c.msgs, app.Message{Dir: dir, Opcode: app.Opcode(m.Opcode), Payload: bytes.Clone(m.Payload), Time: r.Time})
	}
	return nil
}

var latency = regexp.MustCompile(`,"latency_ns":\d+`)

// decodeAll runs a connection's data messages through the subprotocol
// decoders and returns each record's JSON (latency removed: only the
// capture has timestamps) and the choice.
func decodeAll(t *testing.T, cfg subproto.Config, msgs []app.Message) ([]string, subproto.Choice) {
	t.Helper()
	c := subproto.New(cfg)
	var out []string
	for _, m := range msgs {
		for _, r := range c.Decode(m) {
			if r.Malformed() != "" {
				t.Errorf("malformed: %s", app.Summary(r))
			}
			out = append(out, m.Dir.String()+" "+latency.ReplaceAllString(app.JSON(r), ""))
		}
	}
	return out, c.Choice()
}

// TestCapturesDecodeEndToEnd reads every capture with the engine, checks
// the WebSocket messages against the truth file, and checks that the
// subprotocol decoders, configured from the dissected handshake, give the
// same records as decoding the recording's payloads directly (which
// subproto's tests compare with the libraries' own logs).
func TestCapturesDecodeEndToEnd(t *testing.T) {
	caps, _ := filepath.Glob(filepath.Join(dir, "*.pcap"))
	if len(caps) == 0 {
		t.Fatal("no captures")
	}
	for _, path := range caps {
		name := strings.TrimSuffix(filepath.Base(path), ".pcap")
		t.Run(name, func(t *testing.T) {
			truth, err := capgen.LoadTruth(path)
			if err != nil {
				t.Fatal(err)
			}
			c := &collector{}
			if _, err := engine.ReadFile(path, engine.Options{Dissect: dissect.Options{Messages: true}}, c); err != nil {
				t.Fatal(err)
			}
			if len(c.anomalies) > 0 {
				t.Errorf("anomalies %v", c.anomalies)
			}
			if c.conn == nil {
				t.Fatal("no conn record")
			}
			var data []capgen.TruthMessage
			for _, m := range truth.Messages {
				if m.Opcode == 1 || m.Opcode == 2 {
					data = append(data, m)
				}
			}
			if len(data) != len(c.msgs) {
				t.Fatalf("%d data messages, truth has %d", len(c.msgs), len(data))
			}
			// The engine orders messages by completion; compare per direction.
			for _, d := range []app.Dir{app.ClientToServer, app.ServerToClient} {
				var got, want [][]byte
				for _, m := range c.msgs {
					if m.Dir == d {
						got = append(got, m.Payload)
					}
				}
				for _, m := range data {
					if m.Dir == d.String() {
						want = append(want, m.Payload)
					}
				}
				if len(got) != len(want) {
					t.Fatalf("%v: %d messages, want %d", d, len(got), len(want))
				}
				for i := range got {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("%v message %d differs", d, i)
					}
				}
			}
			v, err := subprotogen.LoadVector(filepath.Join(dir, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			got, choice := decodeAll(t, subproto.Config{Subprotocol: c.conn.Subprotocol, URL: c.conn.Path}, c.msgs)
			if choice.Protocol != v.Protocol {
				t.Fatalf("choice %+v, want %s", choice, v.Protocol)
			}
			var direct []app.Message
			for _, m := range v.Messages {
				dir := app.ClientToServer
				if m.Dir == "s2c" {
					dir = app.ServerToClient
				}
				direct = append(direct, app.Message{Dir: dir, Opcode: app.Opcode(m.Opcode), Payload: m.B64})
			}
			want, _ := decodeAll(t, subproto.Config{Subprotocol: v.Subprotocol, URL: v.URL}, direct)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("records from the capture differ from the recording's:\ngot  %d records\nwant %d", len(got), len(want))
			}
		})
	}
}
