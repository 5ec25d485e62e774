package capgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// The security-audit captures (audit-*.pcap): real gorilla and coder peers
// over 127.0.0.1 with chosen request headers, origin checks and messages,
// each weakness next to its harmless twin; plus two hand-built handshakes
// the libraries refuse to produce. The expected findings are in
// testdata/audit-*.findings.json, checked by the audit package's tests.

// recordRejected finishes a scenario whose upgrade the server must refuse:
// the recording is the HTTP request and the refusal.
func recordRejected(ctx context.Context, sc *Scenario, client peer, dialErr error, accepted <-chan acceptResult, wl *writeLog) (*Recording, error) {
	if dialErr == nil {
		client.shutdown()
		return nil, errors.New("the server accepted an upgrade the scenario expects refused")
	}
	select {
	case r := <-accepted:
		if r.err == nil {
			r.p.shutdown()
			return nil, errors.New("the server accepted an upgrade the scenario expects refused")
		}
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the refusal: %w", ctx.Err())
	}
	rec := &Recording{Name: sc.Name, Writes: wl.snapshot()}
	resp := rec.Stream(Server)
	if !bytes.HasPrefix(resp, []byte("HTTP/1.1 4")) {
		return nil, fmt.Errorf("refusal is not a 4xx response: %.40q", resp)
	}
	return rec, nil
}

// Audit scenario values. The secrets are made up for the tests (the AWS key
// id is the example from AWS's documentation).
const (
	auditHost    = "chat.example.com"
	auditCookie  = "session=6f1c0e7d9a2b4c5e8f30a1b2c3d4e5f6; theme=dark"
	auditJWT     = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInJvbGUiOiJhZG1pbiIsImV4cCI6MTcwNDE2NTA0NX0.c2lnbmF0dXJlLW5vdC1yZWFsLWJ1dC1sb25nLWVub3VnaA"
	auditAWSKey  = "AKIAIOSFODNN7EXAMPLE"
	auditPrivKey = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"
)

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// chatSteps is a short harmless conversation.
func chatSteps() []Step {
	return []Step{
		{From: Client, Opcode: OpText, Payload: []byte(`{"type":"join","room":"lobby"}`)},
		{From: Server, Opcode: OpText, Payload: []byte(`{"type":"joined","room":"lobby","users":3}`)},
	}
}

func auditScenario(name string, lib Library, mod func(*Scenario)) Scenario {
	sc := Scenario{
		Name: name, Library: lib, Host: auditHost, Path: "/ws",
		Steps: chatSteps(), Close: CloseSpec{From: Client, Code: 1000},
	}
	mod(&sc)
	return sc
}

// auditCapture describes one audit capture: its recordings (one connection
// each, replayed in this order, interleaved) and notes.
type auditCapture struct {
	name  string
	scs   []Scenario
	notes []string
}

func auditCaptures() []auditCapture {
	evil := "https://evil.example"
	return []auditCapture{
		{"audit-cswsh.pcap", []Scenario{
			auditScenario("audit-cswsh-foreign", Gorilla, func(s *Scenario) {
				s.AnyOrigin = true
				s.RequestHeader = hdr("Origin", evil, "Cookie", auditCookie)
			}),
			auditScenario("audit-cswsh-foreign", Gorilla, func(s *Scenario) {
				s.AnyOrigin = true
				s.RequestHeader = hdr("Origin", evil, "Cookie", auditCookie)
			}),
			auditScenario("audit-cswsh-null", Gorilla, func(s *Scenario) {
				s.AnyOrigin = true
				s.Path = "/ws/null"
				s.RequestHeader = hdr("Origin", "null", "Cookie", auditCookie)
			}),
		}, []string{
			"conn 0 and 1: gorilla server with CheckOrigin accepting everything; the client sends Origin https://evil.example and a session cookie to Host chat.example.com",
			"conn 2: the same with Origin null (sandboxed iframe, file://)",
		}},
		{"audit-origin-checked.pcap", []Scenario{
			auditScenario("audit-origin-same", Gorilla, func(s *Scenario) {
				s.RequestHeader = hdr("Origin", "http://"+auditHost, "Cookie", auditCookie)
			}),
			auditScenario("audit-origin-refused", Gorilla, func(s *Scenario) {
				s.RequestHeader = hdr("Origin", evil, "Cookie", auditCookie)
				s.Rejected, s.Steps, s.Close = true, nil, CloseSpec{}
			}),
		}, []string{
			"gorilla server with its default CheckOrigin (Origin host must equal Host)",
			"conn 0: Origin http://chat.example.com (same origin) with a session cookie: accepted",
			"conn 1: Origin https://evil.example with the cookie: refused with 403 (no WebSocket messages)",
		}},
		{"audit-no-origin.pcap", []Scenario{
			auditScenario("audit-no-origin", Gorilla, func(s *Scenario) {
				s.RequestHeader = hdr("Cookie", auditCookie)
			}),
			auditScenario("audit-basic-auth", Coder, func(s *Scenario) {
				s.AnyOrigin = true
				s.Path = "/admin"
				s.RequestHeader = hdr("Origin", evil, "Authorization", "Basic YWRtaW46czNjcjN0LXBhc3N3b3Jk")
			}),
		}, []string{
			"conn 0: gorilla peers; a session cookie and no Origin header, accepted",
			"conn 1: coder peers, the server skipping its origin check (InsecureSkipVerify); HTTP Basic credentials (sent by browsers on their own) with Origin https://evil.example, accepted",
		}},
		{"audit-same-site.pcap", []Scenario{
			auditScenario("audit-same-site", Gorilla, func(s *Scenario) {
				s.AnyOrigin = true
				s.RequestHeader = hdr("Origin", "https://app.example.com", "Cookie", auditCookie)
			}),
			auditScenario("audit-same-host", Gorilla, func(s *Scenario) {
				s.AnyOrigin = true
				s.Path = "/ws/tls-page"
				s.RequestHeader = hdr("Origin", "https://"+auditHost, "Cookie", auditCookie)
			}),
		}, []string{
			"conn 0: Origin https://app.example.com (same site, another origin) with a session cookie to Host chat.example.com, accepted",
			"conn 1: Origin https://chat.example.com (the same host, page over https) with the cookie, accepted",
		}},
		{"audit-token-url.pcap", []Scenario{
			auditScenario("audit-token-url", Gorilla, func(s *Scenario) {
				s.AnyOrigin = true
				s.Path = "/ws?room=lobby&access_token=" + auditJWT
				s.RequestHeader = hdr("Origin", evil)
			}),
			auditScenario("audit-token-protocol", Gorilla, func(s *Scenario) {
				s.AnyOrigin = true
				s.Path = "/stream"
				s.ResponseHeader = hdr("Sec-Websocket-Protocol", "chat.v1")
				s.RequestHeader = hdr("Origin", evil, "Cookie", auditCookie,
					"Sec-Websocket-Protocol", "chat.v1, base64url.bearer.authorization.example.c2VjcmV0LXRva2VuLTEyMzQ1Njc4OQ")
			}),
		}, []string{
			"conn 0: the credential is an access_token in the URL query; foreign Origin, no cookie, accepted",
			"conn 1: a bearer token offered as a subprotocol (as Kubernetes does) beside chat.v1, which the server selects; foreign Origin and a cookie, accepted",
		}},
		{"audit-cors.pcap", []Scenario{
			auditScenario("audit-cors-reflect", Coder, func(s *Scenario) {
				s.AnyOrigin = true
				s.RequestHeader = hdr("Origin", evil)
				s.ResponseHeader = hdr("Access-Control-Allow-Origin", evil, "Access-Control-Allow-Credentials", "true")
			}),
			auditScenario("audit-cors-fixed", Coder, func(s *Scenario) {
				s.Path = "/ws/fixed"
				s.RequestHeader = hdr("Origin", "http://"+auditHost)
				s.ResponseHeader = hdr("Access-Control-Allow-Origin", "http://"+auditHost, "Access-Control-Allow-Credentials", "true")
			}),
		}, []string{
			"coder peers (net/http writes the response headers in a fixed order)",
			"conn 0: the server (origin check skipped) echoes the foreign Origin in Access-Control-Allow-Origin with Access-Control-Allow-Credentials: true",
			"conn 1: the same headers naming the server's own origin, requested from that origin",
		}},
		{"audit-subprotocol.pcap", []Scenario{
			auditScenario("audit-subprotocol-forced", Gorilla, func(s *Scenario) {
				s.RequestHeader = hdr("Sec-Websocket-Protocol", "chat.v1")
				s.ResponseHeader = hdr("Sec-Websocket-Protocol", "admin.v1")
			}),
			auditScenario("audit-subprotocol-agreed", Gorilla, func(s *Scenario) {
				s.Path = "/ws/agreed"
				s.Subprotocols = []string{"chat.v1"}
			}),
		}, []string{
			"conn 0: the client offers chat.v1, the gorilla server selects admin.v1 (set in its response header), and the gorilla client goes on",
			"conn 1: chat.v1 offered and selected",
		}},
		{"audit-secrets.pcap", []Scenario{
			auditScenario("audit-secrets", Gorilla, func(s *Scenario) {
				s.Steps = []Step{
					{From: Client, Opcode: OpText, Payload: []byte(`{"type":"login","user":"alice","password":"correct horse battery staple"}`)},
					{From: Server, Opcode: OpText, Payload: []byte(`{"type":"welcome","token":"` + auditJWT + `"}`)},
					{From: Client, Opcode: OpText, Payload: []byte(`{"type":"config","aws":"` + auditAWSKey + `"}`)},
					{From: Server, Opcode: OpBinary, Payload: []byte(auditPrivKey)},
					{From: Client, Opcode: OpText, Payload: []byte(`{"type":"chat","text":"the password is not in here"}`)},
				}
			}),
			auditScenario("audit-no-secrets", Gorilla, func(s *Scenario) {
				s.Path = "/ws/clean"
				s.Steps = []Step{
					{From: Client, Opcode: OpText, Payload: []byte(`{"type":"login","user":"alice","password":"********"}`)},
					{From: Server, Opcode: OpText, Payload: []byte(`{"type":"welcome","motd":"eyJ is how every JWT starts"}`)},
				}
			}),
		}, []string{
			"conn 0: a password field, a JWT, an AWS access key id and an RSA private key block in messages over ws://",
			"conn 1: a masked password and the string eyJ without a token",
		}},
		{"audit-deflate-secrets.pcap", []Scenario{
			auditScenario("audit-deflate-secrets", Coder, func(s *Scenario) {
				s.Compression, s.CompressionThreshold = ContextTakeover, 1
				s.Steps = []Step{
					{From: Client, Opcode: OpText, Payload: []byte(`{"type":"auth","session_token":"6f1c0e7d9a2b4c5e8f30a1b2c3d4e5f6"}`)},
					{From: Client, Opcode: OpText, Payload: []byte(`{"type":"search","q":"session_token 6f1c"}`)},
					{From: Server, Opcode: OpText, Payload: []byte(`{"type":"results","q":"session_token 6f1c","hits":0}`)},
				}
			}),
			auditScenario("audit-deflate-nocontext", Coder, func(s *Scenario) {
				s.Path = "/ws/nocontext"
				s.Compression, s.CompressionThreshold = NoContextTakeover, 1
				s.Steps = []Step{
					{From: Client, Opcode: OpText, Payload: []byte(`{"type":"auth","session_token":"6f1c0e7d9a2b4c5e8f30a1b2c3d4e5f6"}`)},
					{From: Client, Opcode: OpText, Payload: []byte(`{"type":"search","q":"session_token 6f1c"}`)},
				}
			}),
		}, []string{
			"coder peers with permessage-deflate, every message compressed",
			"conn 0: context takeover; a session token and a search string the user (or an attacker) chose share the compression context",
			"conn 1: the same messages with no context takeover",
		}},
		{"audit-bomb.pcap", []Scenario{
			auditScenario("audit-bomb", Gorilla, func(s *Scenario) {
				s.Compression = NoContextTakeover
				s.Steps = []Step{
					{From: Client, Opcode: OpBinary, Payload: make([]byte, 64<<10)},
					{From: Server, Opcode: OpText, Payload: JSONText(2000, 0)},
				}
			}),
		}, []string{
			"gorilla peers with permessage-deflate: the client sends 64 KiB of zeros, which deflate to a few hundred bytes; the server answers with 2000 bytes of JSON (a normal ratio)",
		}},
		{"audit-ping-flood.pcap", []Scenario{
			auditScenario("audit-ping-flood", Gorilla, func(s *Scenario) {
				for i := range 60 {
					s.Steps = append(s.Steps, Step{From: Client, Kind: SendPing, Payload: fmt.Appendf(nil, "p%d", i)})
				}
				s.Steps = append(s.Steps, Step{From: Server, Kind: SendPing, Payload: []byte("keepalive")})
			}),
		}, []string{
			"gorilla peers: the client sends 60 pings in about a quarter of a second (each answered); the server one",
		}},
		{"audit-tunnel.pcap", []Scenario{
			auditScenario("audit-tunnel", Gorilla, func(s *Scenario) {
				s.Path = "/websockify"
				s.Steps = []Step{
					{From: Server, Opcode: OpBinary, Payload: []byte("SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13\r\n")},
					{From: Client, Opcode: OpBinary, Payload: []byte("SSH-2.0-OpenSSH_9.7\r\n")},
				}
			}),
		}, []string{
			"gorilla peers carrying SSH version banners in binary messages, as websockify or wstunnel would",
		}},
	}
}

// audit generates the security-audit captures.
func (g *generator) audit() error {
	for _, ac := range auditCaptures() {
		recs := make([]*Recording, len(ac.scs))
		opts := make([]ReplayOptions, len(ac.scs))
		for i, sc := range ac.scs {
			r, err := g.record(sc)
			if err != nil {
				return err
			}
			recs[i] = r
			opts[i] = ReplayOptions{ConnIndex: i, Conn: ConnConfig{
				Link:   ethernet(),
				Client: netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), uint16(51000+i)),
			}}
		}
		notes := append([]string{
			"recorded from real github.com/gorilla/websocket and github.com/coder/websocket peers over 127.0.0.1; TCP segmentation, addresses and timestamps are synthetic",
		}, ac.notes...)
		if err := g.addPcap(ac.name, recs, opts, CaptureOptions{}, PcapOptions{}, notes); err != nil {
			return err
		}
	}
	if err := g.handshakeFlood(); err != nil {
		return err
	}
	eth := ConnConfig{Link: ethernet()}
	if err := g.addHand("edge-version-8.pcap", eth, []string{
		"a server that accepts Sec-WebSocket-Version: 8 (hybi-08) with a 101; both sides then exchange a message",
	}, buildVersion8, true); err != nil {
		return err
	}
	return g.addHand("edge-extension-forced.pcap", eth, []string{
		"the client offers no extension; the server's 101 selects x-custom-mux anyway; both sides then exchange plain messages",
	}, buildExtensionForced, true)
}

// handshakeFlood replays one short recording 25 times from one client
// address, interleaved: 25 upgrades within about a tenth of a second.
func (g *generator) handshakeFlood() error {
	r, err := g.record(auditScenario("audit-handshake-flood", Gorilla, func(s *Scenario) {
		s.Host, s.Steps = "api.example.com", nil
	}))
	if err != nil {
		return err
	}
	const n = 25
	recs := make([]*Recording, n)
	opts := make([]ReplayOptions, n)
	for i := range n {
		recs[i] = r
		opts[i] = ReplayOptions{ConnIndex: i, Conn: ConnConfig{
			Link:   ethernet(),
			Client: netip.AddrPortFrom(netip.MustParseAddr("10.1.0.7"), uint16(40000+i)),
		}}
	}
	return g.addPcap("audit-handshake-flood.pcap", recs, opts, CaptureOptions{}, PcapOptions{}, []string{
		"recorded from real github.com/gorilla/websocket peers over 127.0.0.1; TCP segmentation, addresses and timestamps are synthetic",
		fmt.Sprintf("the same handshake and close replayed %d times from 10.1.0.7 (ports 40000-%d), interleaved, 1 ms per packet", n, 40000+n-1),
	})
}

func buildVersion8(h *handConn) error {
	req := UpgradeRequest("/legacy", "chat.example.com", sampleKey)
	req = bytes.Replace(req, []byte("Sec-WebSocket-Version: 13"), []byte("Sec-WebSocket-Version: 8"), 1)
	h.sendHTTP(Client, req, nil)
	h.sendHTTP(Server, SwitchingProtocols(AcceptKey(sampleKey)), nil)
	h.send(Client, h.frame(Client, OpText, []byte("hello from a hybi-08 client")))
	h.send(Server, h.frame(Server, OpText, []byte("hello")))
	h.closeBoth(Client, 1000, "")
	return nil
}

func buildExtensionForced(h *handConn) error {
	h.sendHTTP(Client, UpgradeRequest("/ws", "chat.example.com", sampleKey), nil)
	h.sendHTTP(Server, SwitchingProtocols(AcceptKey(sampleKey), Header{"Sec-WebSocket-Extensions", "x-custom-mux; channels=4"}), nil)
	h.send(Client, h.frame(Client, OpText, []byte(strings.Repeat("plain ", 4))))
	h.send(Server, h.frame(Server, OpText, []byte("ok")))
	h.closeBoth(Server, 1000, "")
	return nil
}
