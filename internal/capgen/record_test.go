package capgen

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

func TestRecordScenario(t *testing.T) {
	tests := []struct {
		name string
		sc   Scenario
		// wantOps lists the truth's (dir, opcode) pairs.
		wantOps []string
		// wantInHandshake must appear in the server's response.
		wantInHandshake string
	}{
		{
			name: "coder plain",
			sc: Scenario{Library: Coder, Subprotocols: []string{"p1"}, Steps: []Step{
				{From: Client, Opcode: OpText, Payload: []byte("hi")},
				{From: Server, Opcode: OpBinary, Payload: RandomBytes(70000, 1)},
				{From: Server, Kind: SendPing},
				{From: Client, Kind: SendPing},
				{From: Client, Kind: SendPing},
			}, Close: CloseSpec{From: Server, Code: 4000, Reason: "custom"}},
			wantOps:         []string{"c2s 1", "s2c 2", "s2c 9", "c2s 10", "c2s 9", "s2c 10", "c2s 9", "s2c 10", "s2c 8", "c2s 8"},
			wantInHandshake: "Sec-Websocket-Protocol: p1",
		},
		{
			name: "coder streamed with ping inside",
			sc: Scenario{Library: Coder, Compression: ContextTakeover, CompressionThreshold: 1, Steps: []Step{
				{From: Client, Opcode: OpText, Payload: JSONText(500, 0), Chunks: []int{100}, PingAfter: 2},
				{From: Server, Opcode: OpText, Payload: []byte{}},
			}, Close: CloseSpec{From: Client, Code: 1000}},
			wantOps:         []string{"c2s 9", "s2c 10", "c2s 1", "s2c 1", "c2s 8", "s2c 8"},
			wantInHandshake: "permessage-deflate",
		},
		{
			name: "coder no context takeover",
			sc: Scenario{Library: Coder, Compression: NoContextTakeover, CompressionThreshold: 1, Steps: []Step{
				{From: Client, Opcode: OpText, Payload: JSONText(300, 0)},
				{From: Server, Opcode: OpText, Payload: JSONText(300, 0)},
			}},
			wantOps:         []string{"c2s 1", "s2c 1"},
			wantInHandshake: "server_no_context_takeover",
		},
		{
			name: "gorilla deflate fragmented",
			sc: Scenario{Library: Gorilla, Compression: NoContextTakeover, WriteBufferSize: 128, Steps: []Step{
				{From: Server, Opcode: OpBinary, Payload: RandomBytes(1000, 2), Chunks: []int{300}, PingAfter: 2, PingPayload: []byte("mid")},
				{From: Client, Opcode: OpText, Payload: []byte{}},
				{From: Client, Kind: SendPing, Payload: []byte("x")},
			}, Close: CloseSpec{From: Client, Code: 1000, Reason: "bye"}},
			wantOps:         []string{"s2c 9", "c2s 10", "s2c 2", "c2s 1", "c2s 9", "s2c 10", "c2s 8", "s2c 8"},
			wantInHandshake: "permessage-deflate",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			tc.sc.Name = tc.name
			rec, err := RecordScenario(ctx, tc.sc)
			if err != nil {
				t.Fatal(err)
			}
			var ops []string
			for _, m := range rec.Truth {
				ops = append(ops, m.Dir+" "+strconv.Itoa(int(m.Opcode)))
			}
			if strings.Join(ops, ",") != strings.Join(tc.wantOps, ",") {
				t.Errorf("truth ops %v, want %v", ops, tc.wantOps)
			}
			// Data messages in the truth are exactly the step payloads.
			var want [][]byte
			for _, st := range tc.sc.Steps {
				if st.Kind == SendMessage {
					want = append(want, st.Payload)
				}
			}
			var got [][]byte
			for _, m := range rec.Truth {
				if m.Opcode == OpText || m.Opcode == OpBinary {
					got = append(got, m.Payload)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("%d data messages, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Errorf("data message %d differs", i)
				}
			}
			if resp := string(rec.Stream(Server)); !strings.Contains(resp, tc.wantInHandshake) {
				t.Errorf("response lacks %q", tc.wantInHandshake)
			}
			if len(rec.Spans) != len(rec.Truth) {
				t.Fatalf("%d spans for %d messages", len(rec.Spans), len(rec.Truth))
			}

			var buf bytes.Buffer
			if err := rec.WritePcap(&buf, WriteOptions{Replay: ReplayOptions{Conn: ConnConfig{Link: Link{Type: LinkEthernet}}}}); err != nil {
				t.Fatal(err)
			}
			r, err := pcapgo.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for ; ; n++ {
				if _, _, err := r.ReadPacketData(); err != nil {
					break
				}
			}
			if n < 3+2*len(rec.Writes)+3 {
				t.Errorf("%d packets for %d writes", n, len(rec.Writes))
			}
		})
	}
}

func TestRecordScenarioValidation(t *testing.T) {
	tests := []struct {
		name string
		sc   Scenario
	}{
		{"no library", Scenario{}},
		{"gorilla takeover", Scenario{Library: Gorilla, Compression: ContextTakeover}},
		{"bad compression", Scenario{Library: Coder, Compression: 9}},
		{"bad opcode", Scenario{Library: Coder, Steps: []Step{{Opcode: OpPing}}}},
		{"bad chunk", Scenario{Library: Coder, Steps: []Step{{Opcode: OpText, Chunks: []int{0}}}}},
		{"ping after without chunks", Scenario{Library: Coder, Steps: []Step{{Opcode: OpText, PingAfter: 1}}}},
		{"long ping", Scenario{Library: Gorilla, Steps: []Step{{Kind: SendPing, Payload: make([]byte, 126)}}}},
		{"bad side", Scenario{Library: Coder, Steps: []Step{{From: 2, Opcode: OpText}}}},
		{"bad kind", Scenario{Library: Coder, Steps: []Step{{Kind: 7}}}},
		{"bad close side", Scenario{Library: Coder, Close: CloseSpec{From: 5, Code: 1000}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := RecordScenario(context.Background(), tc.sc); err == nil {
				t.Error("RecordScenario succeeded")
			}
		})
	}
}

func TestReplayCoverage(t *testing.T) {
	rec, err := RecordScenario(context.Background(), Scenario{Library: Coder, Steps: []Step{
		{From: Client, Opcode: OpText, Payload: []byte("before")},
		{From: Server, Opcode: OpBinary, Payload: RandomBytes(4000, 3)},
		{From: Server, Opcode: OpText, Payload: []byte("after")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	big := rec.Spans[1]
	tests := []struct {
		name        string
		opts        ReplayOptions
		wantPartial []bool
		wantAbsent  []bool
	}{
		{"clean", ReplayOptions{}, []bool{false, false, false}, []bool{false, false, false}},
		{"drop", ReplayOptions{Impairments: []Impairment{{Drop, Server, big.Start + 2000}}},
			[]bool{false, true, false}, []bool{false, false, false}},
		{"midstream", ReplayOptions{StartAt: &StreamPos{Server, big.Start + 10}},
			[]bool{false, true, false}, []bool{true, false, false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.ConnIndex = 3
			tc.opts.Conn.Link = Link{Type: LinkEthernet}
			truth, err := rec.Replay(NewCapture(CaptureOptions{}), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range truth {
				if m.Conn != 3 || m.Partial != tc.wantPartial[i] || m.Absent != tc.wantAbsent[i] {
					t.Errorf("message %d: conn %d partial %v absent %v", i, m.Conn, m.Partial, m.Absent)
				}
			}
		})
	}
	if _, err := ReplayInterleaved(NewCapture(CaptureOptions{}), []*Recording{rec}, nil); err == nil {
		t.Error("mismatched options accepted")
	}
}

func TestTruthJSON(t *testing.T) {
	tr := &Truth{Messages: []TruthMessage{
		{Dir: "c2s", Opcode: 1, Payload: []byte("hi")},
		{Conn: 1, Dir: "s2c", Opcode: 2, Payload: nil, Partial: true},
	}}
	b, err := tr.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"b64": "aGk="`, `"b64": ""`, `"partial": true`, `"notes": []`, `"conn": 1`} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	back, err := ReadTruth(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Messages) != 2 || string(back.Messages[0].Payload) != "hi" || len(back.Messages[1].Payload) != 0 || !back.Messages[1].Partial {
		t.Errorf("round trip: %+v", back)
	}
	if _, err := ReadTruth(strings.NewReader(`{"messages":[],"bogus":1}`)); err == nil {
		t.Error("unknown field accepted")
	}
	for in, want := range map[string]string{
		"testdata/coder-basic.pcap":          "testdata/coder-basic.truth.json",
		"testdata/coder-basic.pcap.gz":       "testdata/coder-basic.truth.json",
		"testdata/mixed-linktypes.pcapng":    "testdata/mixed-linktypes.truth.json",
		"x/other.cap":                        "x/other.cap.truth.json",
		"testdata/edge-violations.pcapng.gz": "testdata/edge-violations.truth.json",
	} {
		if got := TruthPath(in); got != want {
			t.Errorf("TruthPath(%q) = %q, want %q", in, got, want)
		}
	}
}
