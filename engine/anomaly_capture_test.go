package engine_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/source"
)

const anKey = "dGhlIHNhbXBsZSBub25jZQ=="

// send is one write of a hand-built conversation.
type send struct {
	from capgen.Side
	data []byte
}

func req(lines ...string) []byte {
	h := []string{"GET /ws HTTP/1.1", "Host: example.com", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Key: " + anKey, "Sec-WebSocket-Version: 13"}
	return []byte(strings.Join(append(h, lines...), "\r\n") + "\r\n\r\n")
}

func resp(lines ...string) []byte {
	h := []string{"HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
		"Sec-WebSocket-Accept: " + dissect.AcceptFor(anKey)}
	return []byte(strings.Join(append(h, lines...), "\r\n") + "\r\n\r\n")
}

func cf(fin bool, op uint8, payload string, mods ...func(*capgen.Frame)) []byte {
	f := capgen.Frame{Fin: fin, Opcode: op, Masked: true, Key: [4]byte{0x11, 0x22, 0x33, 0x44}, Payload: []byte(payload)}
	for _, m := range mods {
		m(&f)
	}
	return f.Bytes()
}

func sf(fin bool, op uint8, payload string, mods ...func(*capgen.Frame)) []byte {
	f := capgen.Frame{Fin: fin, Opcode: op, Payload: []byte(payload)}
	for _, m := range mods {
		m(&f)
	}
	return f.Bytes()
}

func rsv1(f *capgen.Frame)    { f.RSV1 = true }
func rsv2(f *capgen.Frame)    { f.RSV2 = true }
func zeroKey(f *capgen.Frame) { f.Key = [4]byte{} }
func len16(f *capgen.Frame)   { f.LenEncoding = capgen.Len16 }
func topBit(f *capgen.Frame)  { f.LenEncoding = capgen.Len64TopBit }

func closeP(code uint16, reason string) string {
	return string(binary.BigEndian.AppendUint16(nil, code)) + reason
}

const deflateExt = "Sec-WebSocket-Extensions: permessage-deflate"

// anomalyCase builds one capture whose step `at` must carry the anomaly.
type anomalyCase struct {
	id    string
	sends []send
	at    int // index in sends of the write whose packet carries the anomaly
	opts  dissect.Options
	// onConn: the anomaly belongs to a TLS connection listed undecrypted,
	// and rides on its conn record, emitted when it ends (at will not do).
	onConn bool
}

func handshake(reqLines, respLines []string, frames ...send) []send {
	return append([]send{{capgen.Client, req(reqLines...)}, {capgen.Server, resp(respLines...)}}, frames...)
}

func anomalyCases() []anomalyCase {
	C, S := capgen.Client, capgen.Server
	ws := func(frames ...send) []send { return handshake(nil, nil, frames...) }
	dws := func(frames ...send) []send { return handshake([]string{deflateExt}, []string{deflateExt}, frames...) }
	bomb := func() []byte {
		d, _ := capgen.NewDeflater(15, false)
		b, _ := d.Compress(bytes.Repeat([]byte{0}, 1<<20))
		return b
	}
	return append(h2AnomalyCases(), []anomalyCase{
		{id: dissect.AnClientUnmasked, sends: ws(send{C, sf(true, 1, "hi")}), at: 2},
		{id: dissect.AnServerMasked, sends: ws(send{S, cf(true, 1, "hi")}), at: 2},
		{id: dissect.AnRSVNoExtension, sends: ws(send{C, cf(true, 1, "hi", rsv2)}), at: 2},
		{id: dissect.AnRSV1Control, sends: dws(send{C, cf(true, 9, "", rsv1)}), at: 2},
		{id: dissect.AnRSV1Continuation, sends: dws(send{C, cf(false, 2, "\x00", rsv1)}, send{C, cf(true, 0, "\x00", rsv1)}), at: 3},
		{id: dissect.AnReservedOpcode, sends: ws(send{C, cf(true, 3, "x")}), at: 2},
		{id: dissect.AnControlTooLong, sends: ws(send{S, sf(true, 9, strings.Repeat("p", 126))}), at: 2},
		{id: dissect.AnControlFragmented, sends: ws(send{C, cf(false, 9, "p")}), at: 2},
		{id: dissect.AnContinuationNoMessage, sends: ws(send{C, cf(true, 0, "x")}), at: 2},
		{id: dissect.AnDataDuringFragmented, sends: ws(send{C, cf(false, 1, "a")}, send{C, cf(true, 2, "b")}), at: 3},
		{id: dissect.AnInvalidUTF8, sends: ws(send{S, sf(false, 1, "ok \xe2\x82")}, send{S, sf(true, 0, "\x41")}), at: 3},
		{id: dissect.AnCloseReasonUTF8, sends: ws(send{C, cf(true, 8, closeP(1000, "\xc3"))}), at: 2},
		{id: dissect.AnCloseOneByte, sends: ws(send{C, cf(true, 8, "\x03")}), at: 2},
		{id: dissect.AnCloseCodeInvalid, sends: ws(send{S, sf(true, 8, closeP(1006, ""))}), at: 2},
		{id: dissect.AnNonMinimalLength, sends: ws(send{S, sf(true, 2, "short", len16)}), at: 2},
		{id: dissect.AnLengthTopBit, sends: ws(send{C, cf(true, 2, "12345678", topBit)}), at: 2},
		{id: dissect.AnDataAfterClose, sends: ws(send{C, cf(true, 8, closeP(1000, ""))}, send{C, cf(true, 1, "late")}), at: 3},
		{id: dissect.AnZeroMaskKey, sends: ws(send{C, cf(true, 1, "clear", zeroKey)}), at: 2},
		{id: dissect.AnDecompressFailed, sends: dws(send{S, sf(true, 1, "\x07\xff\xff", rsv1)}), at: 2},
		{id: dissect.AnDecompressLimit, sends: dws(send{S, sf(true, 2, string(bomb()), rsv1)}), at: 2, opts: dissect.Options{MaxMessage: 16 << 10, MaxDecompressed: 64 << 10}},
		// A 30,000-byte frame (one packet) with a 16 KiB budget: its
		// payload cannot be retained.
		{id: dissect.AnMemoryBudget, sends: ws(send{C, cf(true, 2, strings.Repeat("m", 30000))}), at: 2, opts: dissect.Options{Memory: membudget.New(16 << 10)}},
		{id: dissect.AnMessageTruncated, sends: ws(send{S, sf(true, 1, strings.Repeat("long ", 10))}), at: 2, opts: dissect.Options{MaxMessage: 16, Messages: true}},
		{id: dissect.AnAcceptMissing, sends: []send{{C, req()}, {S, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")}}, at: 1},
		{id: dissect.AnAcceptMismatch, sends: []send{{C, req()}, {S, bytes.Replace(resp(), []byte(dissect.AcceptFor(anKey)), []byte("s3pPLMBiTxaQ9kYGzzhZRbK+xOX="), 1)}}, at: 1},
		{id: dissect.AnVersionNot13, sends: []send{{C, bytes.Replace(req(), []byte("Version: 13"), []byte("Version: 8"), 1)}, {S, resp()}}, at: 1},
		{id: dissect.AnKeyMissing, sends: []send{{C, bytes.Replace(req(), []byte("Sec-WebSocket-Key: "+anKey+"\r\n"), nil, 1)}, {S, resp()}}, at: 1},
		{id: dissect.AnKeyInvalid, sends: []send{{C, bytes.Replace(req(), []byte(anKey), []byte("c2hvcnQ="), 1)}, {S, bytes.Replace(resp(), []byte(dissect.AcceptFor(anKey)), []byte(dissect.AcceptFor("c2hvcnQ=")), 1)}}, at: 1},
		{id: dissect.AnUpgradeTokenMissing, sends: []send{{C, req()}, {S, bytes.Replace(resp(), []byte("Upgrade: websocket\r\n"), nil, 1)}}, at: 1},
		{id: dissect.AnConnTokenMissing, sends: []send{{C, bytes.Replace(req(), []byte("Connection: Upgrade"), []byte("Connection: keep-alive"), 1)}, {S, resp()}}, at: 1},
		{id: dissect.AnMethodNotGet, sends: []send{{C, bytes.Replace(req(), []byte("GET "), []byte("POST "), 1)}, {S, resp()}}, at: 1},
		{id: dissect.AnSubprotoNotOffered, sends: handshake([]string{"Sec-WebSocket-Protocol: chat"}, []string{"Sec-WebSocket-Protocol: mqtt"}), at: 1},
		{id: dissect.AnExtensionNotOffered, sends: handshake(nil, []string{deflateExt}), at: 1},
		{id: dissect.AnExtensionParams, sends: handshake([]string{deflateExt}, []string{deflateExt + "; server_max_window_bits=20"}), at: 1},
		{id: dissect.AnUpgradeRejected, sends: []send{{C, req()}, {S, []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")}}, at: 1},
		{id: dissect.AnUpgradeUnanswered, sends: []send{{C, req()}}, at: 0},
		// The fifth CONNECT in a row, answered at write 9.
		{id: dissect.AnTunnelNotFollowed, sends: deepTunnels(5), at: 9},
	}...)
}

// deepTunnels returns n CONNECTs nested in one connection, each answered.
func deepTunnels(n int) []send {
	var out []send
	for i := range n {
		out = append(out, send{capgen.Client, []byte(fmt.Sprintf("CONNECT hop%d.example:80 HTTP/1.1\r\nHost: hop%d.example:80\r\n\r\n", i, i))},
			send{capgen.Server, []byte("HTTP/1.1 200 Connection established\r\n\r\n")})
	}
	return out
}

// coveredByTestdata names, for ids a hand-built two-write capture cannot
// show, the generated capture in testdata/ whose test asserts them (see
// expectedAnomalies in testdata_test.go).
var coveredByTestdata = map[string]string{
	dissect.AnTCPGap:             "coder-lost.pcap",
	dissect.AnRetransmitDiffers:  "gorilla-impaired.pcap",
	dissect.AnDeflateContextLost: "coder-deflate-lost.pcap",
	dissect.AnFrameCutAtEnd:      "edge-violations.pcap",
	dissect.AnMidstreamResync:    "coder-midstream.pcap",
}

// coveredByEngineTest names, for ids that need several connections or
// engine options, the test of package engine that asserts them.
var coveredByEngineTest = map[string]string{
	dissect.AnConnEvicted:           "TestEvictionIsReported",
	dissect.AnHTTPHeaderTooLarge:    "TestHostileHandshakes",
	dissect.AnUpgradeRequestMissing: "TestHostileHandshakes",
	dissect.AnUpgradeRepeated:       "TestHostileHandshakes",
	dissect.AnOutOfWindow:           "TestOutOfWindowFlood",
}

// TestOneCapturePerAnomaly builds one capture per anomaly id and checks that
// the id is reported on the packet of the offending write, and nowhere else.
func TestOneCapturePerAnomaly(t *testing.T) {
	covered := map[string]bool{}
	for id := range coveredByTestdata {
		covered[id] = true
	}
	for id := range coveredByEngineTest {
		covered[id] = true
	}
	for _, tc := range append(anomalyCases(), tlsAnomalyCases(t)...) {
		covered[tc.id] = true
		t.Run(tc.id, func(t *testing.T) {
			capture := capgen.NewCapture(capgen.CaptureOptions{})
			conn, err := capgen.NewConn(capture, capgen.ConnConfig{MSS: 1 << 15})
			if err != nil {
				t.Fatal(err)
			}
			conn.Open()
			var at uint64
			for i, s := range tc.sends {
				before := len(capture.Packets())
				conn.Send(s.from, s.data)
				if i == tc.at {
					at = uint64(before + 1)
				}
			}
			conn.Close(capgen.Client)
			if err := conn.Finish(); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := capture.WritePcap(&buf, capgen.PcapOptions{}); err != nil {
				t.Fatal(err)
			}
			src, err := source.OpenReader(tc.id+".pcap", &buf)
			if err != nil {
				t.Fatal(err)
			}
			var where []string
			sink := sinkFunc(func(r *dissect.Record) error {
				for _, a := range r.Anomalies {
					if a.ID == tc.id {
						where = append(where, fmt.Sprintf("%s@%d", r.Kind, r.Packet))
					}
				}
				return nil
			})
			if _, err := engine.Run(src, sink, engine.Options{Dissect: tc.opts}); err != nil {
				t.Fatal(err)
			}
			if len(where) == 0 {
				t.Fatalf("%s not reported", tc.id)
			}
			for _, w := range where {
				if tc.onConn {
					if !strings.HasPrefix(w, "conn@") {
						t.Errorf("%s reported at %v, want on the conn record", tc.id, where)
					}
					continue
				}
				if !strings.HasSuffix(w, fmt.Sprintf("@%d", at)) {
					t.Errorf("%s reported at %v, want packet %d", tc.id, where, at)
				}
			}
		})
	}
	for _, a := range dissect.Anomalies() {
		if !covered[a.ID] {
			t.Errorf("anomaly %s has no test capture", a.ID)
		}
	}
}

type sinkFunc func(*dissect.Record) error

func (f sinkFunc) Emit(r *dissect.Record) error { return f(r) }
