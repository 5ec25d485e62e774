package engine

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// TestProxyTunnel: WebSocket connections inside HTTP CONNECT tunnels, as an
// explicit proxy carries them, in the shapes proxies and clients produce.
// Each case's client and server bytes are sent in order; want lists the
// conn records (proxy, path, status) and the text messages.
func TestProxyTunnel(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	up := string(capgen.UpgradeRequest("/chat", "chat.example", key))
	ok101 := string(capgen.SwitchingProtocols(capgen.AcceptKey(key)))
	text := func(masked bool, s string) string {
		return string(capgen.Frame{Fin: true, Opcode: 1, Masked: masked, Key: [4]byte{9, 8, 7, 6}, Payload: []byte(s)}.Bytes())
	}
	connect := func(target string) string {
		return "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n"
	}
	const est = "HTTP/1.1 200 Connection established\r\n\r\n"
	cases := []struct {
		name  string
		sends []send
		want  []string
	}{
		{"tunnel", []send{{true, connect("chat.example:80")}, {false, est}, {true, up}, {false, ok101}, {true, text(true, "hi")}, {false, text(false, "ho")}},
			[]string{"conn chat.example:80 /chat 101", "c2s hi", "s2c ho"}},
		{"request sent before the answer", []send{{true, connect("chat.example:80") + up}, {false, est + ok101 + text(false, "ho")}, {true, text(true, "hi")}},
			[]string{"conn chat.example:80 /chat 101", "s2c ho", "c2s hi"}},
		{"refused then allowed", []send{
			{true, connect("chat.example:80")}, {false, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n\r\nno!\r\n"},
			{true, connect("chat.example:80")}, {false, est}, {true, up}, {false, ok101}, {true, text(true, "hi")}},
			[]string{"conn chat.example:80 /chat 101", "c2s hi"}},
		{"refused for good", []send{{true, connect("chat.example:80")}, {false, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"}}, nil},
		{"refused then a plain upgrade", []send{
			{true, connect("chat.example:80")}, {false, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"},
			{true, up}, {false, ok101}, {true, text(true, "hi")}},
			[]string{"conn <nil> /chat 101", "c2s hi"}},
		{"tunnel in a tunnel", []send{{true, connect("proxy2.example:3128")}, {false, est}, {true, connect("chat.example:443")}, {false, est}, {true, up}, {false, ok101}, {true, text(true, "hi")}},
			[]string{"conn chat.example:443 /chat 101", "c2s hi"}},
		{"tunnels too deep", []send{
			{true, connect("a:1")}, {false, est}, {true, connect("b:1")}, {false, est}, {true, connect("c:1")}, {false, est},
			{true, connect("d:1")}, {false, est}, {true, connect("e:1")}, {false, est}, {true, up}, {false, ok101}, {true, text(true, "hi")}},
			[]string{"anomaly tunnel-not-followed"}},
		{"something else in the tunnel", []send{{true, connect("ssh.example:22")}, {false, est}, {false, "SSH-2.0-OpenSSH_9.2\r\n"}, {true, "SSH-2.0-OpenSSH_9.6\r\n"}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := oneConn(t, "10.0.0.9:3128", tc.sends)
			checkTunnelRecords(t, data, tc.want, func(r map[string]any) string {
				return fmt.Sprintf("conn %v %v %v", r["proxy"], r["path"], r["status"])
			})
		})
	}
}

// send is bytes one side of a test connection sends.
type send struct {
	client bool
	data   string
}

// oneConn returns a capture of one connection from 10.0.0.1:50000 to
// server in which the sides send sends in order and the client closes.
func oneConn(t *testing.T, server string, sends []send) []byte {
	t.Helper()
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	c := testConn(t, cp, server)
	c.Open()
	for _, s := range sends {
		side := capgen.Server
		if s.client {
			side = capgen.Client
		}
		c.Send(side, []byte(s.data))
	}
	c.Close(capgen.Client)
	return writePcap(t, cp)
}

// testConn returns a connection of cp from 10.0.0.1:50000 to server over
// Ethernet.
func testConn(t *testing.T, cp *capgen.Capture, server string) *capgen.Conn {
	t.Helper()
	c, err := capgen.NewConn(cp, capgen.ConnConfig{
		Client: netip.MustParseAddrPort("10.0.0.1:50000"), Server: netip.MustParseAddrPort(server),
		Link: capgen.Link{Type: capgen.LinkEthernet},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// checkTunnelRecords decodes data with one worker and with two and checks
// its conn records (as conn shows them), frames ("dir text") and anomaly
// records ("anomaly id") against want.
func checkTunnelRecords(t *testing.T, data []byte, want []string, conn func(r map[string]any) string) {
	t.Helper()
	for _, workers := range []int{1, 2} {
		var got []string
		for _, r := range jsonRecords(t, data, Options{}, workers) {
			switch r["type"] {
			case "conn":
				got = append(got, conn(r))
			case "frame":
				got = append(got, fmt.Sprintf("%v %v", r["dir"], r["text"]))
			case "anomaly":
				for _, a := range r["anomalies"].([]any) {
					got = append(got, fmt.Sprintf("anomaly %v", a.(map[string]any)["id"]))
				}
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%d workers:\n got %s\nwant %s", workers, strings.Join(got, "; "), strings.Join(want, "; "))
		}
	}
}

// TestAnswerMissing: a client that goes on sending after a request whose
// answer is not in the capture (one direction captured, or the answer
// lost). The bytes are not held for ever (memory), and what they carry is
// decoded: frames after an upgrade, the tunnel after a CONNECT.
func TestAnswerMissing(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	up := capgen.UpgradeRequest("/chat", "chat.example", key)
	frames := func(n, size int) []byte {
		var b []byte
		for i := range n {
			b = append(b, capgen.Frame{Fin: true, Opcode: 1, Masked: true, Key: [4]byte{1, byte(i), 3, 4}, Payload: []byte(strings.Repeat(string(rune('a'+i%26)), size))}.Bytes()...)
		}
		return b
	}
	connect := []byte("CONNECT chat.example:80 HTTP/1.1\r\nHost: chat.example:80\r\n\r\n")
	cases := []struct {
		name   string
		client [][]byte
		frames int
		proxy  string
	}{
		{"upgrade, a few frames", [][]byte{up, frames(5, 10)}, 5, ""},
		{"upgrade, more than a header's worth", [][]byte{up, frames(200, 1000)}, 200, ""},
		{"connect, upgrade, frames", [][]byte{connect, up, frames(5, 10)}, 5, "chat.example:80"},
		{"connect, upgrade, many frames", [][]byte{connect, up, frames(200, 1000)}, 200, "chat.example:80"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var sends []send
			for _, b := range tc.client {
				sends = append(sends, send{true, string(b)})
			}
			data := oneConn(t, "10.0.0.9:8080", sends)
			for _, workers := range []int{1, 2} {
				n, unanswered := 0, false
				var proxy any
				for _, r := range jsonRecords(t, data, Options{}, workers) {
					switch r["type"] {
					case "conn":
						proxy = r["proxy"]
					case "frame":
						if r["dir"] == "c2s" {
							n++
						}
					}
					if as, ok := r["anomalies"].([]any); ok {
						for _, a := range as {
							unanswered = unanswered || a.(map[string]any)["id"] == "upgrade-unanswered"
						}
					}
				}
				if n != tc.frames || !unanswered {
					t.Errorf("%d workers: %d frames (want %d), upgrade-unanswered %v", workers, n, tc.frames, unanswered)
				}
				if want := any(tc.proxy); tc.proxy == "" && proxy != nil || tc.proxy != "" && proxy != want {
					t.Errorf("%d workers: proxy %v, want %q", workers, proxy, tc.proxy)
				}
			}
		})
	}
}

// TestSocksTunnel: WebSocket connections inside SOCKS tunnels, granted,
// refused, and bytes that only start like SOCKS.
func TestSocksTunnel(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	up := string(capgen.UpgradeRequest("/chat", "chat.example", key))
	ok101 := string(capgen.SwitchingProtocols(capgen.AcceptKey(key)))
	hi := string(capgen.Frame{Fin: true, Opcode: 1, Masked: true, Key: [4]byte{9, 8, 7, 6}, Payload: []byte("hi")}.Bytes())
	v6req := "\x05\x01\x00\x04" + string(netip.MustParseAddr("2001:db8::7").AsSlice()) + "\x1f\x90"
	okReply := "\x05\x00\x00\x01\x0a\x00\x00\x09\xc3\x50"
	cases := []struct {
		name  string
		sends []send
		want  []string
	}{
		{"socks5 ipv6 target", []send{{true, "\x05\x01\x00"}, {false, "\x05\x00"}, {true, v6req}, {false, okReply}, {true, up}, {false, ok101}, {true, hi}},
			[]string{"conn [2001:db8::7]:8080 SOCKS5 /chat", "c2s hi"}},
		{"socks5 request and upgrade in one segment", []send{{true, "\x05\x02\x00\x02"}, {false, "\x05\x00"}, {true, "\x05\x01\x00\x01\x0a\x00\x00\x02\x1f\x90" + up}, {false, okReply + ok101}, {true, hi}},
			[]string{"conn 10.0.0.2:8080 SOCKS5 /chat", "c2s hi"}},
		{"socks4 ip target", []send{{true, "\x04\x01\x1f\x90\x0a\x00\x00\x02me\x00"}, {false, "\x00\x5a\x00\x00\x00\x00\x00\x00"}, {true, up}, {false, ok101}, {true, hi}},
			[]string{"conn 10.0.0.2:8080 SOCKS4 /chat", "c2s hi"}},
		{"socks5 refused", []send{{true, "\x05\x01\x00"}, {false, "\x05\x00"}, {true, v6req}, {false, "\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00"}}, nil},
		{"socks5 password refused", []send{{true, "\x05\x01\x02"}, {false, "\x05\x02"}, {true, "\x01\x01u\x01p"}, {false, "\x01\x01"}}, nil},
		{"socks4 rejected", []send{{true, "\x04\x01\x1f\x90\x0a\x00\x00\x02me\x00"}, {false, "\x00\x5b\x00\x00\x00\x00\x00\x00"}}, nil},
		{"only looks like socks", []send{{true, "\x05\x01\x00"}, {false, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"}}, nil},
		{"socks then upgrade refused in the tunnel", []send{{true, "\x05\x01\x00"}, {false, "\x05\x00"}, {true, v6req}, {false, okReply}, {true, up}, {false, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"}},
			[]string{"conn [2001:db8::7]:8080 SOCKS5 /chat", "anomaly upgrade-rejected"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := oneConn(t, "10.0.0.9:1080", tc.sends)
			checkTunnelRecords(t, data, tc.want, func(r map[string]any) string {
				return fmt.Sprintf("conn %v %v %v", r["proxy"], r["proxy_protocol"], r["path"])
			})
		})
	}
}

// TestTunnelAnswerWithoutRequest: a capture that starts after the CONNECT
// (or lost it) begins with the proxy's "200 Connection established". Read
// as the answer to an unseen GET it has a body to the close, which hid the
// WebSocket in the tunnel; it opens the tunnel, whose target is unknown.
// Other bodiless 200s still do not.
func TestTunnelAnswerWithoutRequest(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	connect := "CONNECT chat.example:80 HTTP/1.1\r\nHost: chat.example:80\r\n\r\n"
	for _, tc := range []struct {
		answer string
		want   []string
	}{
		{"HTTP/1.1 200 Connection established\r\n\r\n", []string{"conn HTTP <nil> /chat", "c2s hi"}},
		{"HTTP/1.0 200 Connection Established\r\nProxy-agent: Squid\r\n\r\n", []string{"conn HTTP <nil> /chat", "c2s hi"}},
		{"HTTP/1.1 200 OK\r\n\r\n", nil},
	} {
		t.Run(strings.SplitN(tc.answer, "\r", 2)[0], func(t *testing.T) {
			cp := capgen.NewCapture(capgen.CaptureOptions{})
			c := testConn(t, cp, "10.0.0.9:3128")
			c.Open()
			c.Send(capgen.Client, []byte(connect))
			c.Send(capgen.Server, []byte(tc.answer))
			c.Send(capgen.Client, capgen.UpgradeRequest("/chat", "chat.example", key))
			c.Send(capgen.Server, capgen.SwitchingProtocols(capgen.AcceptKey(key)))
			c.Send(capgen.Client, capgen.Frame{Fin: true, Opcode: 1, Masked: true, Key: [4]byte{9, 8, 7, 6}, Payload: []byte("hi")}.Bytes())
			c.Close(capgen.Client)
			// The capture starts at the answer.
			pkts := memPackets(t, writePcap(t, cp))
			for len(pkts) > 0 && !bytes.Contains(pkts[0].Data, []byte(" 200 ")) {
				pkts = pkts[1:]
			}
			for _, workers := range []int{1, 2} {
				var got []string
				for _, r := range jsonLines(t, &parallelInput{name: "mem", pkts: pkts}, workers, nil) {
					switch r["type"] {
					case "conn":
						got = append(got, fmt.Sprintf("conn %v %v %v", r["proxy_protocol"], r["proxy"], r["path"]))
					case "frame":
						got = append(got, fmt.Sprintf("%v %v", r["dir"], r["text"]))
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("%d workers:\n got %s\nwant %s", workers, strings.Join(got, "; "), strings.Join(tc.want, "; "))
				}
			}
		})
	}
}

// TestTunnelWithLostSegments: the CONNECT or its answer lost from a
// capture that has the connection's start (found by review: the first
// case decoded nothing, the second only a gap anomaly).
func TestTunnelWithLostSegments(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	connect := "CONNECT chat.example:80 HTTP/1.1\r\nHost: chat.example:80\r\n\r\n"
	est := "HTTP/1.1 200 Connection established\r\n\r\n"
	hi := capgen.Frame{Fin: true, Opcode: 1, Masked: true, Key: [4]byte{9, 8, 7, 6}, Payload: []byte("hi")}.Bytes()
	for _, tc := range []struct {
		name string
		lost capgen.Side
		want []string
	}{
		{"connect lost", capgen.Client, []string{"conn HTTP <nil> /chat", "c2s hi"}},
		{"answer lost", capgen.Server, []string{"conn HTTP chat.example:80 /chat", "c2s hi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := capgen.NewCapture(capgen.CaptureOptions{})
			c := testConn(t, cp, "10.0.0.9:3128")
			c.Impair(capgen.Impairment{Kind: capgen.Drop, Side: tc.lost, Offset: 0})
			c.Open()
			c.Send(capgen.Client, []byte(connect))
			c.Send(capgen.Server, []byte(est))
			if tc.lost == capgen.Client {
				// The proxy's answer and the server's come before the
				// client's next bytes show its CONNECT lost.
				c.Send(capgen.Server, capgen.SwitchingProtocols(capgen.AcceptKey(key)))
				c.Send(capgen.Client, capgen.UpgradeRequest("/chat", "chat.example", key))
			} else {
				c.Send(capgen.Client, capgen.UpgradeRequest("/chat", "chat.example", key))
				c.Send(capgen.Server, capgen.SwitchingProtocols(capgen.AcceptKey(key)))
			}
			c.Send(capgen.Client, hi)
			c.Close(capgen.Client)
			checkTunnelRecords(t, writePcap(t, cp), tc.want, func(r map[string]any) string {
				return fmt.Sprintf("conn %v %v %v", r["proxy_protocol"], r["proxy"], r["path"])
			})
		})
	}
}

// TestHTTPSProxy reads testdata/https-proxy.pcap: two connections to an
// HTTPS proxy (TLS to the proxy, CONNECT inside it), one carrying wss://
// (TLS inside TLS), one ws://. With the key log, both WebSockets are
// decoded and listed with the tunnel; with the proxy sessions' secrets
// only, the wss connection is listed as TLS inside the tunnel; without a
// key log, as the TLS connections to the proxy.
func TestHTTPSProxy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "https-proxy.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := os.ReadFile(filepath.Join("..", "testdata", "https-proxy.keylog"))
	if err != nil {
		t.Fatal(err)
	}
	// The generator writes the first proxy session's four secrets, the
	// wss session's, then the second proxy session's.
	all := strings.SplitAfter(string(lines), "\n")
	if len(all) < 12 {
		t.Fatalf("key log of %d lines, want 12", len(all))
	}
	outer := strings.Join(all[:4], "") + strings.Join(all[8:12], "")
	keyLog := func(s string) *tlsdecrypt.KeyLog {
		kl := tlsdecrypt.NewKeyLog()
		if err := kl.Add(strings.NewReader(s), "test"); err != nil {
			t.Fatal(err)
		}
		return kl
	}
	tests := []struct {
		name string
		kl   *tlsdecrypt.KeyLog
		want []string // conn records (proxy, its protocol, SNI, decrypted, status) and frames by stream
	}{
		{"no key log", nil, []string{
			"conn 0 <nil> <nil> proxy.example false <nil>",
			"conn 1 <nil> <nil> proxy.example false <nil>",
		}},
		{"all keys", keyLog(string(lines)), []string{
			"conn 1 ws.example:80 HTTPS proxy.example true 101", "frames 1: 13",
			"conn 0 wss.example:443 HTTPS wss.example true 101", "frames 0: 10",
		}},
		{"the proxy's keys", keyLog(outer), []string{
			"conn 1 ws.example:80 HTTPS proxy.example true 101", "frames 1: 13",
			"conn 0 wss.example:443 HTTPS wss.example false <nil>",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLines(t, data, Options{Dissect: dissect.Options{KeyLog: tc.kl}}, tc.want, func(recs []map[string]any) []string {
				var got []string
				frames := map[float64]int{}
				for _, r := range recs {
					switch r["type"] {
					case "conn":
						tls, _ := r["tls"].(map[string]any)
						got = append(got, fmt.Sprintf("conn %v %v %v %v %v %v", r["stream"], r["proxy"], r["proxy_protocol"], tls["sni"], tls["decrypted"], r["status"]))
					case "frame":
						frames[r["stream"].(float64)]++
					}
				}
				return withFrameCounts(got, frames, []float64{1, 0}, "conn %v ")
			})
		})
	}
}

// tlsWSRecording is a WebSocket conversation (handshake and one masked
// text frame each way) to run inside tunnels and TLS layers.
func tlsWSRecording() *capgen.Recording {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	frame := func(masked bool, s string) []byte {
		return capgen.Frame{Fin: true, Opcode: 1, Masked: masked, Key: [4]byte{1, 2, 3, 4}, Payload: []byte(s)}.Bytes()
	}
	return &capgen.Recording{Name: "ws", Writes: []capgen.Write{
		{From: capgen.Client, Data: capgen.UpgradeRequest("/chat", "chat.example", key)},
		{From: capgen.Server, Data: capgen.SwitchingProtocols(capgen.AcceptKey(key))},
		{From: capgen.Client, Data: frame(true, "hi")},
		{From: capgen.Server, Data: frame(false, "ho")},
	}}
}

// replayOne writes r as one connection to 10.1.0.9:443 and returns the
// capture and r's key log.
func replayOne(t *testing.T, r *capgen.Recording) ([]byte, *tlsdecrypt.KeyLog) {
	t.Helper()
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	if _, err := capgen.ReplayInterleaved(cp, []*capgen.Recording{r}, []capgen.ReplayOptions{{Conn: capgen.ConnConfig{
		Server: netip.MustParseAddrPort("10.1.0.9:443"), Link: capgen.Link{Type: capgen.LinkEthernet}}}}); err != nil {
		t.Fatal(err)
	}
	kl := tlsdecrypt.NewKeyLog()
	if err := kl.AddBytes(r.KeyLog, "test"); err != nil {
		t.Fatal(err)
	}
	return writePcap(t, cp), kl
}

// TestNestedTLSBounded: TLS layers nested in decrypted TLS are followed only
// through proxy tunnels, at most maxTunnels deep, and each costs one walk
// down the layers (a capture of 40 layers took minutes when every layer
// walked the ones below it twice). A CONNECT whose answer is missing, with
// TLS after it, lists its connection once.
func TestNestedTLSBounded(t *testing.T) {
	tls13 := capgen.TLSOptions{MinVersion: tls.VersionTLS13}
	wrap := func(r *capgen.Recording, before []capgen.Write) *capgen.Recording {
		t.Helper()
		out, err := capgen.WrapTLS(r, before, tls13)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// 40 TLS layers with nothing between them, behind an HTTPS proxy.
	bare := tlsWSRecording()
	for range 40 {
		bare = wrap(bare, nil)
	}
	bare = wrap(bare, capgen.ConnectWrites("x.example:443", false, true))
	// Six HTTPS proxies, each reached through the one before.
	chained := wrap(tlsWSRecording(), nil)
	for i := range 6 {
		chained = wrap(chained, capgen.ConnectWrites(fmt.Sprintf("proxy%d.example:443", i), false, true))
	}
	// Two: the answer to the CONNECT is missing; the wss ClientHello
	// follows it.
	inner := wrap(tlsWSRecording(), nil)
	hello := &capgen.Recording{Name: "hello", Writes: inner.Writes[:1], KeyLog: inner.KeyLog}
	unanswered := wrap(hello, capgen.ConnectWrites("wss.example:443", false, false))
	tests := []struct {
		name string
		r    *capgen.Recording
		want []string
	}{
		{"40 bare layers", bare, []string{"conn x.example:443 HTTPS true <nil>"}},
		{"six proxies", chained, []string{"conn proxy2.example:443 HTTPS true <nil>"}},
		{"unanswered", unanswered, []string{"conn wss.example:443 HTTPS false <nil>"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, kl := replayOne(t, tc.r)
			for _, workers := range []int{1, 2} {
				start := time.Now()
				var got []string
				for _, r := range jsonRecords(t, data, Options{Dissect: dissect.Options{KeyLog: kl}}, workers) {
					if r["type"] == "conn" {
						tls, _ := r["tls"].(map[string]any)
						got = append(got, fmt.Sprintf("conn %v %v %v %v", r["proxy"], r["proxy_protocol"], tls["decrypted"], r["status"]))
					}
				}
				if el := time.Since(start); el > 5*time.Second {
					t.Errorf("%d workers: %v", workers, el)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("%d workers:\n got %q\nwant %q", workers, got, tc.want)
				}
			}
		})
	}
}

// TestH2Proxy decodes h2-proxy.pcap: tunnels opened by CONNECT requests
// on the HTTP/2 streams of a TLS connection to a proxy (RFC 9113 8.5), one
// carrying ws://, one refused, one carrying wss://, with all secrets, with
// the proxy session's only, and with none.
func TestH2Proxy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "h2-proxy.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := os.ReadFile(filepath.Join("..", "testdata", "h2-proxy.keylog"))
	if err != nil {
		t.Fatal(err)
	}
	// The generator writes the proxy session's four secrets, then the
	// wss session's.
	all := strings.SplitAfter(string(lines), "\n")
	if len(all) < 8 {
		t.Fatalf("key log of %d lines, want 8", len(all))
	}
	keyLog := func(s string) *tlsdecrypt.KeyLog {
		kl := tlsdecrypt.NewKeyLog()
		if err := kl.Add(strings.NewReader(s), "test"); err != nil {
			t.Fatal(err)
		}
		return kl
	}
	tests := []struct {
		name string
		kl   *tlsdecrypt.KeyLog
		want []string // conn records, frames and end records by HTTP/2 stream
	}{
		{"no key log", nil, []string{
			"conn 0/<nil> <nil> <nil> proxy.example false <nil>",
			"end 0/<nil> fin",
		}},
		{"all keys", keyLog(string(lines)), []string{
			"conn 0/1 ws.example:80 HTTPS/1 proxy.example true 101", "frames 1: 13",
			"conn 0/5 wss.example:443 HTTPS/5 wss.example true 101", "frames 5: 10",
			"end 0/1 h2-end-stream", "end 0/5 h2-end-stream",
		}},
		{"the proxy's keys", keyLog(strings.Join(all[:4], "")), []string{
			"conn 0/1 ws.example:80 HTTPS/1 proxy.example true 101", "frames 1: 13",
			"end 0/1 h2-end-stream",
			"conn 0/5 wss.example:443 HTTPS/5 wss.example false <nil>",
			"end 0/5 h2-end-stream",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkLines(t, data, Options{Dissect: dissect.Options{KeyLog: tc.kl}}, tc.want, func(recs []map[string]any) []string {
				var got []string
				frames := map[float64]int{}
				for _, r := range recs {
					switch r["type"] {
					case "conn":
						tls, _ := r["tls"].(map[string]any)
						proto := fmt.Sprint(r["proxy_protocol"])
						if s, ok := r["proxy_h2_stream"]; ok {
							proto += fmt.Sprintf("/%v", s)
						}
						got = append(got, fmt.Sprintf("conn %v/%v %v %v %v %v %v", r["stream"], r["h2_stream"], r["proxy"], proto, tls["sni"], tls["decrypted"], r["status"]))
					case "end":
						got = append(got, fmt.Sprintf("end %v/%v %v", r["stream"], r["h2_stream"], r["reason"]))
					case "frame":
						frames[r["h2_stream"].(float64)]++
					}
				}
				return withFrameCounts(got, frames, []float64{1, 5}, "conn 0/%v ")
			})
		})
	}
}

// TestChromiumProxy decodes chromium-proxy.pcap, real Chromium through an
// HTTPS proxy that speaks HTTP/2 (tools/genchromeproxy): its two tunnels
// are CONNECT streams 1 and 3, each ended by the proxy's END_STREAM and
// RST_STREAM (packets 27 and 51), which the end records name.
func TestChromiumProxy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "chromium-proxy.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	kl := tlsdecrypt.NewKeyLog()
	if err := kl.AddFile(filepath.Join("..", "testdata", "chromium-proxy.keylog")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"conn 0/1 ws.example:80 HTTPS/1 101",
		"anomaly 0/1 h2-stream-closed the tunnel on HTTP/2 stream 1 ended: RST_STREAM NO_ERROR from the server",
		"end 0/1 packet 27 h2-rst-stream rst s2c",
		"conn 0/3 wss.example:443 HTTPS/3 101",
		"anomaly 0/3 h2-stream-closed the tunnel on HTTP/2 stream 3 ended: RST_STREAM NO_ERROR from the server",
		"end 0/3 packet 51 h2-rst-stream rst s2c",
	}
	checkLines(t, data, Options{Dissect: dissect.Options{KeyLog: kl}}, want, func(recs []map[string]any) []string {
		var got []string
		for _, r := range recs {
			switch r["type"] {
			case "conn":
				got = append(got, fmt.Sprintf("conn %v/%v %v %v/%v %v", r["stream"], r["h2_stream"], r["proxy"], r["proxy_protocol"], r["proxy_h2_stream"], r["status"]))
			case "end":
				got = append(got, fmt.Sprintf("end %v/%v packet %v %v rst %v", r["stream"], r["h2_stream"], r["packet"], r["reason"], r["rst"]))
			case "anomaly":
				for _, a := range r["anomalies"].([]any) {
					a := a.(map[string]any)
					got = append(got, fmt.Sprintf("anomaly %v/%v %v %v", r["stream"], r["h2_stream"], a["id"], a["msg"]))
				}
			}
		}
		return got
	})
}

// checkLines decodes data with opts on one worker and on two, turns the
// records into lines with lines, and checks them against want.
func checkLines(t *testing.T, data []byte, opts Options, want []string, lines func(recs []map[string]any) []string) {
	t.Helper()
	for _, workers := range []int{1, 2} {
		if got := lines(jsonRecords(t, data, opts, workers)); !slices.Equal(got, want) {
			t.Errorf("%d workers:\n got %q\nwant %q", workers, got, want)
		}
	}
}

// withFrameCounts inserts "frames K: N" after the first line of got that
// starts with prefix (a format of K), for each K of keys with N frames.
func withFrameCounts(got []string, frames map[float64]int, keys []float64, prefix string) []string {
	for _, k := range keys {
		if n := frames[k]; n > 0 {
			for i, g := range got {
				if strings.HasPrefix(g, fmt.Sprintf(prefix, k)) {
					got = slices.Insert(got, i+1, fmt.Sprintf("frames %v: %d", k, n))
					break
				}
			}
		}
	}
	return got
}
