package render

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// TestProxy checks that a connection tunnelled through an HTTP proxy
// shows its CONNECT target in every format, on a WebSocket handshake and
// on a TLS connection that was not dissected.
func TestProxy(t *testing.T) {
	ws := &dissect.Conn{
		Stream: 4, Client: netip.MustParseAddrPort("10.0.0.1:50000"), Server: netip.MustParseAddrPort("10.0.0.9:3128"),
		Method: "GET", Path: "/chat", Host: "chat.example", Status: 101, AcceptValid: true,
		Proxy: &dissect.ProxyTunnel{Target: "chat.example:80", Protocol: "HTTP", Authorization: "Basic dXNlcjpzZWNyZXQ="},
	}
	socks := &dissect.Conn{
		Stream: 6, Client: netip.MustParseAddrPort("10.0.0.1:50002"), Server: netip.MustParseAddrPort("10.0.0.9:1080"),
		Method: "GET", Path: "/chat", Host: "chat.example", Status: 101, AcceptValid: true,
		Proxy: &dissect.ProxyTunnel{Target: "[2001:db8::7]:8080", Protocol: "SOCKS5", User: "user", Password: "secret"},
	}
	tlsOnly := &dissect.Conn{
		Stream: 5, Client: netip.MustParseAddrPort("10.0.0.1:50001"), Server: netip.MustParseAddrPort("10.0.0.9:3128"),
		TLS:   &dissect.TLS{Version: "TLS 1.3", SNI: "chat.example", Reason: "no key log given"},
		Proxy: &dissect.ProxyTunnel{Target: "chat.example:443", Protocol: "HTTP"},
	}
	cases := []struct {
		name string
		conn *dissect.Conn
		opts Options
		want string
	}{
		{"summary", ws, Options{}, "101 Switching Protocols [proxy CONNECT chat.example:80]\n"},
		{"tree", ws, Options{Format: FormatTree}, "Stream 4: WebSocket handshake 10.0.0.1:50000 → 10.0.0.9:3128\n    Through an HTTP proxy tunnel: CONNECT chat.example:80\n        Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\n"},
		{"json", ws, Options{Format: FormatJSON}, `"packet":7,"proxy":"chat.example:80","proxy_protocol":"HTTP","proxy_authorization":"Basic dXNlcjpzZWNyZXQ=","host":"chat.example"`},
		{"socks summary", socks, Options{}, "101 Switching Protocols [proxy SOCKS5 [2001:db8::7]:8080]\n"},
		{"socks tree", socks, Options{Format: FormatTree}, "\n    Through a SOCKS5 proxy: CONNECT [2001:db8::7]:8080\n        User: user, password: secret\n"},
		{"socks json", socks, Options{Format: FormatJSON}, `"proxy":"[2001:db8::7]:8080","proxy_protocol":"SOCKS5","proxy_user":"user","proxy_password":"secret","host"`},
		{"unknown target", &dissect.Conn{Stream: 7, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101,
			Proxy: &dissect.ProxyTunnel{Protocol: "HTTP"}}, Options{}, "101 Switching Protocols [proxy CONNECT (target not in the capture)]\n"},
		{"tunnel summary", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101, Tunnel: "vxlan"},
			Options{}, "101 Switching Protocols [in vxlan]\n"},
		{"tunnel id summary", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101, Tunnel: "gtp-u",
			TunnelIDName: "TEID", HasTunnelID: true, TunnelID: 0xdeadbeef}, Options{}, "101 Switching Protocols [in gtp-u TEID 3735928559]\n"},
		{"tunnel id 0 tree", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101, Tunnel: "vxlan",
			TunnelIDName: "VNI", HasTunnelID: true}, Options{Format: FormatTree}, "\n    Captured inside vxlan encapsulation VNI 0\n"},
		{"tunnel id json", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101, Tunnel: "vxlan",
			TunnelIDName: "VNI", HasTunnelID: true, TunnelID: 5001}, Options{Format: FormatJSON}, `"packet":7,"tunnel":"vxlan","tunnel_id":5001,"path":"/"`},
		{"tunnel mid-stream", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Midstream: true, Tunnel: "gre"},
			Options{}, "picked up mid-stream [in gre]\n"},
		{"tunnel tree", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101, Tunnel: "vxlan"},
			Options{Format: FormatTree}, "\n    Captured inside vxlan encapsulation\n"},
		{"tunnel json", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101, Tunnel: "vxlan"},
			Options{Format: FormatJSON}, `"packet":7,"tunnel":"vxlan","path":"/"`},
		{"chain tree", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101,
			Proxy: &dissect.ProxyTunnel{Target: "chat.example:80", Protocol: "HTTPS",
				Outer: &dissect.ProxyTunnel{Target: "proxy2.example:443", Protocol: "HTTP", Authorization: "Basic eA=="}}},
			Options{Format: FormatTree}, "\n    Through an HTTPS proxy tunnel (TLS to the proxy): CONNECT chat.example:80\n    Inside an HTTP proxy tunnel: CONNECT proxy2.example:443\n        Proxy-Authorization: Basic eA==\n"},
		{"chain json", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101,
			Proxy: &dissect.ProxyTunnel{Target: "chat.example:80", Protocol: "HTTPS",
				Outer: &dissect.ProxyTunnel{Target: "proxy2.example:443", Protocol: "HTTP", Authorization: "Basic eA==",
					Outer: &dissect.ProxyTunnel{Protocol: "SOCKS5"}}}},
			Options{Format: FormatJSON}, `"proxy":"chat.example:80","proxy_protocol":"HTTPS","proxy_outer":[{"proxy":"proxy2.example:443","proxy_protocol":"HTTP","proxy_authorization":"Basic eA=="},{"proxy_protocol":"SOCKS5"}],"path"`},
		{"chain summary", &dissect.Conn{Stream: 8, Client: ws.Client, Server: ws.Server, Method: "GET", Path: "/", Status: 101,
			Proxy: &dissect.ProxyTunnel{Target: "chat.example:80", Protocol: "HTTPS", Outer: &dissect.ProxyTunnel{Target: "proxy2.example:443"}}},
			Options{}, "101 Switching Protocols [proxy HTTPS CONNECT chat.example:80 via CONNECT proxy2.example:443]\n"},
		{"tls summary", tlsOnly, Options{}, "(0 bytes c2s, 0 bytes s2c) [proxy CONNECT chat.example:443]\n"},
		{"tls tree", tlsOnly, Options{Format: FormatTree}, "(not dissected)\n    Through an HTTP proxy tunnel: CONNECT chat.example:443\n"},
		{"tls json", tlsOnly, Options{Format: FormatJSON}, `"proxy":"chat.example:443","proxy_protocol":"HTTP","tls":{`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := renderAll(tc.opts, []fixture{{"proxy", dissect.Record{Kind: dissect.KindConn, Conn: tc.conn, Packet: 7, Time: at(0)}}})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), tc.want) {
				t.Errorf("output\n%s\ndoes not contain\n%s", out, tc.want)
			}
		})
	}
}
