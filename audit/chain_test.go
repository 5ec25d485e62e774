package audit_test

import (
	"crypto/tls"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/audit"
	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// TestProxyChainCredentials: a client reaches an HTTPS proxy through a
// plain HTTP proxy it authenticates to, then opens ws:// through the
// HTTPS one. The credentials to the first proxy crossed the network in
// clear and are reported; the same chain with the HTTPS proxy first (the
// plain CONNECT inside its TLS) reports nothing.
func TestProxyChainCredentials(t *testing.T) {
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	ws := &capgen.Recording{Name: "ws", Writes: []capgen.Write{
		{From: capgen.Client, Data: capgen.UpgradeRequest("/chat", "chat.example", key)},
		{From: capgen.Server, Data: capgen.SwitchingProtocols(capgen.AcceptKey(key))},
	}}
	opts := capgen.TLSOptions{MinVersion: tls.VersionTLS13}
	viaHTTPS, err := capgen.WrapHTTPSProxy(ws, "chat.example:80", false, opts)
	if err != nil {
		t.Fatal(err)
	}
	clearFirst := &capgen.Recording{Name: "clear-first", KeyLog: viaHTTPS.KeyLog,
		Writes: append(capgen.ConnectWrites("proxyb.example:443", true, true), viaHTTPS.Writes...)}
	authInside := &capgen.Recording{Name: "ws-auth", Writes: append(capgen.ConnectWrites("chat.example:80", true, true), ws.Writes...)}
	httpsFirst, err := capgen.WrapHTTPSProxy(authInside, "proxyb.example:3128", false, opts)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		r    *capgen.Recording
		want string // evidence, "" for no finding
	}{
		{"plain proxy, then an HTTPS one", clearFirst, "to the HTTP proxy 10.1.0.9:3128 (CONNECT proxyb.example:443): Proxy-Authorization: Basic d"},
		{"HTTPS proxy, then a plain one", httpsFirst, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cp := capgen.NewCapture(capgen.CaptureOptions{})
			if _, err := capgen.ReplayInterleaved(cp, []*capgen.Recording{tc.r}, []capgen.ReplayOptions{{Conn: capgen.ConnConfig{
				Link: capgen.Link{Type: capgen.LinkEthernet}, Server: netip.MustParseAddrPort("10.1.0.9:3128")}}}); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "chain.pcap")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := cp.WritePcap(f, capgen.PcapOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			kl := tlsdecrypt.NewKeyLog()
			if err := kl.AddBytes(tc.r.KeyLog, "test"); err != nil {
				t.Fatal(err)
			}
			a := audit.New(audit.Config{})
			if _, err := engine.ReadFile(path, engine.Options{Dissect: dissect.Options{KeyLog: kl}}, a); err != nil {
				t.Fatal(err)
			}
			var got string
			for _, f := range a.Findings() {
				if f.ID == audit.IDProxyCredentials {
					got = f.Evidence
				}
			}
			handshakes := a.Coverage().Handshakes
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("evidence %q, want %q", got, tc.want)
			}
			if handshakes != 1 {
				t.Errorf("%d handshakes checked, want 1 (the ws:// one inside both tunnels)", handshakes)
			}
		})
	}
}
