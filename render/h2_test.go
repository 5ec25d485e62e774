package render

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// h2Fixtures are the conn and a frame record of a WebSocket over HTTP/2
// stream 5.
func h2Fixtures() []fixture {
	c := &dissect.Conn{
		Stream: 2, Client: netip.MustParseAddrPort("10.0.0.1:50000"), Server: netip.MustParseAddrPort("10.0.0.2:80"),
		HTTP2: true, H2Stream: 5, Method: "CONNECT", Path: "/chat", Host: "example.com", Status: 200,
		RequestHeaders:  []dissect.Header{{Name: ":method", Value: "CONNECT"}, {Name: ":protocol", Value: "websocket"}},
		ResponseHeaders: []dissect.Header{{Name: ":status", Value: "200"}},
		Request:         ":method: CONNECT\n:protocol: websocket\n",
		Response:        ":status: 200\n",
		RequestPacket:   4, ResponsePacket: 6,
	}
	return []fixture{
		{"h2-conn", dissect.Record{Kind: dissect.KindConn, Conn: c, Packet: 6, Time: epoch}},
		{"h2-text", dissect.Record{Kind: dissect.KindFrame, Conn: c, Packet: 8, Time: epoch, Dir: dissect.ClientToServer, HasDir: true,
			Frame: &dissect.Frame{Dir: dissect.ClientToServer, Fin: true, Masked: true, Opcode: dissect.OpText, Len: 2, Payload: []byte("hi"), IsText: true}}},
	}
}

func TestHTTP2Rendering(t *testing.T) {
	for _, tc := range []struct {
		format Format
		want   []string
	}{
		{FormatSummary, []string{
			"10.0.0.1:50000 → 10.0.0.2:80 [h2 stream 5]  WebSocket handshake CONNECT /chat → 200\n",
			"10.0.0.1:50000 → 10.0.0.2:80 [h2 stream 5]  WebSocket Text [FIN] [MASKED] len=2 \"hi\"\n"}},
		{FormatJSON, []string{`"stream":2,"client":"10.0.0.1:50000","server":"10.0.0.2:80","community_id":"1:jFryvin7b0RtSlPCZ3QhbbsOrZc=","h2_stream":5,`,
			`"request_headers":{":method":"CONNECT",":protocol":"websocket"},"response_headers":{":status":"200"},"http_version":"2","midstream":false}`}},
		{FormatTree, []string{"HyperText Transfer Protocol 2 (extended CONNECT, stream 5, packet 4)\n",
			"    :protocol: websocket\n", "[WebSocket over HTTP/2 (RFC 8441), stream 5]\n"}},
	} {
		out, err := renderAll(Options{Format: tc.format}, h2Fixtures())
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s output lacks %q:\n%s", tc.format, w, out)
			}
		}
		if strings.Contains(string(out), "rejected") || strings.Contains(string(out), "accept_valid") {
			t.Errorf("%s output treats the 200 as a rejection or shows accept_valid:\n%s", tc.format, out)
		}
	}
}

func TestHTTP2Stats(t *testing.T) {
	s := NewStats()
	for _, fx := range h2Fixtures() {
		s.Emit(&fx.rec)
	}
	s.AddHTTP2Requests(2)
	var buf bytes.Buffer
	if _, err := s.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Connections:   1 (0 mid-stream, 0 rejected)", "HTTP/2:        1 WebSocket session, 2 other requests (not shown)"} {
		if !strings.Contains(buf.String(), w) {
			t.Errorf("statistics lack %q:\n%s", w, buf.String())
		}
	}
}
