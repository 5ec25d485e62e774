package engine_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/source"
)

// decodeSends writes sends as one TCP connection (with or without its
// three-way handshake) and returns the frame payloads decoded, by direction,
// the anomaly ids and the connection records.
func decodeSends(t *testing.T, syn bool, sends []send) (texts map[string][]string, ids []string, conns []dissect.Conn) {
	t.Helper()
	capture := capgen.NewCapture(capgen.CaptureOptions{})
	conn, err := capgen.NewConn(capture, capgen.ConnConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if !syn {
		conn.StartAt(capgen.Client, 0)
	}
	conn.Open()
	for _, s := range sends {
		conn.Send(s.from, s.data)
	}
	conn.Close(capgen.Client)
	if err := conn.Finish(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := capture.WritePcap(&buf, capgen.PcapOptions{}); err != nil {
		t.Fatal(err)
	}
	src, err := source.OpenReader("hostile.pcap", &buf)
	if err != nil {
		t.Fatal(err)
	}
	texts = map[string][]string{}
	sink := sinkFunc(func(r *dissect.Record) error {
		for _, a := range r.Anomalies {
			ids = append(ids, a.ID)
		}
		switch r.Kind {
		case dissect.KindConn:
			conns = append(conns, *r.Conn)
		case dissect.KindFrame:
			texts[r.Dir.String()] = append(texts[r.Dir.String()], string(r.Frame.Payload))
		}
		return nil
	})
	if _, err := engine.Run(src, sink, engine.Options{}); err != nil {
		t.Fatal(err)
	}
	return texts, ids, conns
}

// TestHostileHandshakes checks that odd handshakes never make a connection
// vanish: each is reported and its frames are still decoded.
func TestHostileHandshakes(t *testing.T) {
	C, S := capgen.Client, capgen.Server
	frames := func() []send {
		var out []send
		for i := range 3 {
			out = append(out, send{S, sf(true, 1, fmt.Sprintf("server message number %d", i))},
				send{C, cf(true, 1, fmt.Sprintf("client message number %d", i))})
		}
		return out
	}
	wantTexts := func(prefix string) []string {
		var out []string
		for i := range 3 {
			out = append(out, fmt.Sprintf("%s message number %d", prefix, i))
		}
		return out
	}
	d, err := capgen.NewDeflater(15, true)
	if err != nil {
		t.Fatal(err)
	}
	var deflated []send
	for i := range 3 {
		p, err := d.Compress([]byte(fmt.Sprintf("server message number %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		deflated = append(deflated, send{S, sf(true, 1, string(p), rsv1)}, send{C, cf(true, 1, fmt.Sprintf("client message number %d", i))})
	}
	big := "X-Padding: " + strings.Repeat("a", 70<<10)
	tests := []struct {
		name      string
		syn       bool
		sends     []send
		id        string
		deflate   bool
		midstream bool
	}{
		{"request header block over --max-http-header", true,
			append([]send{{C, req(big)}, {S, resp()}}, frames()...), dissect.AnHTTPHeaderTooLarge, false, true},
		{"response header block over --max-http-header", true,
			append([]send{{C, req()}, {S, resp(big)}}, frames()...), dissect.AnHTTPHeaderTooLarge, false, true},
		{"101 without its request, SYN seen", true,
			append([]send{{S, resp(deflateExt)}}, deflated...), dissect.AnUpgradeRequestMissing, true, true},
		{"second 101 after the upgrade", true,
			append([]send{{C, req()}, {S, resp()}, {S, resp()}}, frames()...), dissect.AnUpgradeRepeated, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			texts, ids, conns := decodeSends(t, tt.syn, tt.sends)
			if !slices.Contains(ids, tt.id) {
				t.Errorf("anomalies %v, want %s", ids, tt.id)
			}
			for _, id := range ids {
				if id != tt.id && id != dissect.AnMidstreamResync {
					t.Errorf("unexpected anomaly %s", id)
				}
			}
			if len(conns) != 1 || conns[0].Midstream != tt.midstream {
				t.Fatalf("connection records %+v, want one with midstream %v", conns, tt.midstream)
			}
			if tt.deflate && (conns[0].Deflate == nil || conns[0].Deflate.Name != "permessage-deflate") {
				t.Errorf("deflate parameters %+v, want permessage-deflate from the response", conns[0].Deflate)
			}
			if got := texts["s2c"]; !slices.Equal(got, wantTexts("server")) {
				t.Errorf("s2c frames %q", got)
			}
			if got := texts["c2s"]; !slices.Equal(got, wantTexts("client")) {
				t.Errorf("c2s frames %q", got)
			}
		})
	}
}
