package h2

import (
	"fmt"
	"slices"
	"testing"

	"golang.org/x/net/http2"
)

// TestTunnels checks CONNECT requests without :protocol (RFC 9113 8.5):
// answered with 2xx they are tunnels whose DATA is handed on like a
// WebSocket session's (client bytes sent before the answer included), a
// refusal carries nothing, and neither is counted as an ordinary request.
func TestTunnels(t *testing.T) {
	tests := []struct {
		name     string
		request  []string
		status   string
		early    bool // the client sends before the answer
		opened   bool
		anomaly  []string
		rejected bool
	}{
		{name: "answered", request: []string{":method", "CONNECT", ":authority", "ws.example:80", "proxy-authorization", "Basic dTpw"}, status: "200", opened: true},
		{name: "optimistic client", request: []string{":method", "CONNECT", ":authority", "ws.example:80"}, status: "200", early: true, opened: true},
		{name: "refused", request: []string{":method", "CONNECT", ":authority", "blocked.example:443"}, status: "407", rejected: true},
		{name: "no authority", request: []string{":method", "CONNECT"}, status: "200", opened: true, anomaly: []string{AnConnectPseudoMissing}},
	}
	for _, tt := range tests {
		for _, piece := range []int{1, 7, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, piece), func(t *testing.T) {
				w := newWire(true)
				w.fr[0].WriteSettings()
				w.fr[1].WriteSettings()
				w.headers(0, 1, false, tt.request...)
				if tt.early {
					w.fr[0].WriteData(1, false, []byte("early "))
				}
				w.headers(1, 1, false, ":status", tt.status)
				if tt.opened {
					w.fr[0].WriteData(1, false, []byte("GET / HTTP/1.1\r\n\r\n"))
					w.fr[1].WriteData(1, false, []byte("HTTP/1.1 101 ok\r\n\r\n"))
					w.fr[0].WriteData(1, true, nil)
					w.fr[1].WriteData(1, true, []byte("bye"))
				} else {
					w.fr[1].WriteData(1, true, nil)
					w.fr[0].WriteRSTStream(1, http2.ErrCodeCancel)
				}
				w.headers(0, 3, true, ":method", "GET", ":scheme", "https", ":path", "/", ":authority", "x")
				r := &tunnelRec{rec: newRec()}
				c := NewConn(r, Limits{})
				w.feedLog(c, piece)
				c.Close(Meta{})
				st := c.Stats()
				if st.Requests != 1 || st.WebSockets != 0 || st.Tunnels != 1 {
					t.Errorf("stats %+v, want 1 request and 1 tunnel", st)
				}
				if !slices.Equal(r.requests, []uint32{3}) {
					t.Errorf("requests %v, want [3]", r.requests)
				}
				if len(r.anom) != 0 || !slices.Equal(r.held, tt.anomaly) {
					t.Errorf("anomalies %v, on the stream %v; want none, %v", r.anom, r.held, tt.anomaly)
				}
				if tt.rejected {
					if len(r.opened) != 0 || !slices.Equal(r.rejected, []uint32{1}) || len(r.data) != 0 {
						t.Errorf("opened %v, rejected %v, data %v; want only stream 1 rejected", r.opened, r.rejected, r.data)
					}
					return
				}
				if !slices.Equal(r.opened, []uint32{1}) {
					t.Fatalf("opened %v, want [1]", r.opened)
				}
				want := "GET / HTTP/1.1\r\n\r\n"
				if tt.early {
					want = "early " + want
				}
				if got := r.data["1/"+ClientToServer.String()].String(); got != want {
					t.Errorf("client bytes %q, want %q", got, want)
				}
				if got := r.data["1/"+ServerToClient.String()].String(); got != "HTTP/1.1 101 ok\r\n\r\nbye" {
					t.Errorf("server bytes %q", got)
				}
				if !slices.Equal(r.ends, []string{"1 " + EndReason{Kind: EndStream}.String()}) {
					t.Errorf("ends %v", r.ends)
				}
			})
		}
	}
}

// tunnelRec is a rec that also keeps the anomalies a stream carries when
// it is answered.
type tunnelRec struct {
	*rec
	held []string
}

func (r *tunnelRec) Open(s *Stream, m Meta) {
	if !s.Tunnel || s.WebSocket {
		panic("a CONNECT without :protocol opened as something other than a tunnel")
	}
	for _, a := range s.Anomalies {
		r.held = append(r.held, a.ID)
	}
	r.rec.Open(s, m)
}
