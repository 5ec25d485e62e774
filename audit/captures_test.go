package audit_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/audit"
	"github.com/wsdissect/wsdissect/engine"
)

var update = flag.Bool("update", false, "rewrite testdata/*.findings.json from the current findings")

// expected is the form of NAME.findings.json: what must be found, nothing
// more.
type expected struct {
	ID       string   `json:"id"`
	Severity string   `json:"severity"`
	Host     string   `json:"host"`
	Path     string   `json:"path"`
	Streams  []uint64 `json:"streams"`
	H2       []uint32 `json:"h2_streams,omitempty"`
	Packet   uint64   `json:"packet"`
	Evidence string   `json:"evidence"`
}

// auditFile runs the auditor over a capture with frame records (as
// `wsdissect audit` does).
func auditFile(t *testing.T, path string, cfg audit.Config) []audit.Finding {
	t.Helper()
	a := audit.New(cfg)
	if _, err := engine.ReadFile(path, engine.Options{}, a); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return a.Findings()
}

func toExpected(fs []audit.Finding) []expected {
	out := make([]expected, 0, len(fs))
	for _, f := range fs {
		out = append(out, expected{f.ID, f.Severity.String(), f.Host, f.Path, f.Streams, f.H2Streams, f.Packet, f.Evidence})
	}
	return out
}

// auditCaptures are the captures made for the audit: the audit-* ones (real
// gorilla and coder peers, each weakness beside its harmless twin; see the
// notes in NAME.truth.json), two hand-built handshakes, and node-ws-origin
// (tools/gencap-node).
func auditCaptures(t *testing.T) []string {
	caps, _ := filepath.Glob("../testdata/audit-*.pcap")
	caps = append(caps, "../testdata/edge-version-8.pcap", "../testdata/edge-extension-forced.pcap",
		"../testdata/node-ws-origin.pcap") // a gorilla client and the Node.js ws server
	if len(caps) < 15 {
		t.Fatalf("found %d audit captures, want at least 15 (run go run ./tools/gencap -out testdata)", len(caps))
	}
	return caps
}

// TestAuditCaptures compares the findings on every audit capture with
// NAME.findings.json.
func TestAuditCaptures(t *testing.T) {
	caps := auditCaptures(t)
	// Some checks need a lower threshold than the default to fire on a
	// small capture; the default run is checked too (see below).
	cfgs := map[string]audit.Config{
		"audit-bomb.pcap": {MaxSize: 32 << 10},
	}
	for _, path := range caps {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			got := toExpected(auditFile(t, path, cfgs[name]))
			want := strings.TrimSuffix(path, ".pcap") + ".findings.json"
			if *update {
				b, err := json.MarshalIndent(got, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(want, append(b, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			b, err := os.ReadFile(want)
			if err != nil {
				t.Fatalf("%v (run go test ./audit -update after checking the findings by hand)", err)
			}
			var exp []expected
			if err := json.Unmarshal(b, &exp); err != nil {
				t.Fatalf("%s: %v", want, err)
			}
			gj, _ := json.MarshalIndent(got, "", "  ")
			ej, _ := json.MarshalIndent(exp, "", "  ")
			if !bytes.Equal(gj, ej) {
				t.Errorf("findings differ from %s:\ngot:\n%s\nwant:\n%s", filepath.Base(want), gj, ej)
			}
		})
	}
}

// TestAuditBombDefaultSize checks that the 64 KiB message of audit-bomb is
// not oversized at the default threshold (16 MiB) while the ratio check
// fires.
func TestAuditBombDefaultSize(t *testing.T) {
	fs := auditFile(t, "../testdata/audit-bomb.pcap", audit.Config{})
	if len(fs) != 1 || fs[0].ID != audit.IDDecompressionBomb {
		t.Fatalf("findings %+v, want only %s", toExpected(fs), audit.IDDecompressionBomb)
	}
}

// realWeaknesses lists the findings on the other test and corpus captures:
// each is a weakness really present in the traffic.
var realWeaknesses = map[string][]string{
	// Hand-built: the 101's Sec-WebSocket-Accept is wrong and the client
	// sends frames anyway.
	"edge-bad-accept.pcap": {audit.IDAcceptNotValidated},
	// Hand-built: Origin http://evil.example refused with 403 (then a retry
	// from another origin, without credentials, is accepted).
	"edge-rejected-upgrade.pcap": {audit.IDOriginChecked},
	// Hand-built: a frame header announcing 2^63+8 bytes.
	"edge-violations.pcap": {audit.IDOversizedMessage},
	// A browser session with cookies over ws:// and Origin: null, accepted.
	"ndn-ipv4-websocket-segmented.pcap": {audit.IDCleartextCredentials, audit.IDCSWSH},
	// Tracking and session cookies over ws:// (port 80).
	"sv-websocket-basic.pcap": {audit.IDCleartextCredentials},
	// HTTP requests carried inside WebSocket messages.
	"zeek-fragmented-http-reply.pcap": {audit.IDTunnelledProtocol},
	// Kaazing's echo server reflects Origin http://kaazing.org in
	// Access-Control-Allow-Origin with credentials; HTTP inside messages.
	"zeek-http-websocket.pcap": {audit.IDCORSOriginReflected, audit.IDTunnelledProtocol},
	// JupyterHub cookies and a session_id in the URL over ws://.
	"zeek-jupyter-websocket.pcap": {audit.IDCleartextCredentials, audit.IDTokenInURL},
	// wstunnel: an authorization bearer token in Sec-WebSocket-Protocol over
	// ws://, tunnelling HTTP, TLS and SSH.
	"zeek-wstunnel-http.pcap":  {audit.IDCleartextCredentials, audit.IDTunnelledProtocol},
	"zeek-wstunnel-https.pcap": {audit.IDCleartextCredentials, audit.IDTunnelledProtocol},
	"zeek-wstunnel-ssh.pcap":   {audit.IDCleartextCredentials, audit.IDTunnelledProtocol},
	// The HTTP/2 captures send a cookie over cleartext h2c (a 20 KB one in
	// h2c-xnet, to force CONTINUATION frames).
	"h2c-xnet.pcap":      {audit.IDCleartextCredentials},
	"h2c-handbuilt.pcap": {audit.IDCleartextCredentials},
	// Proxy credentials in clear: Proxy-Authorization Basic on the second
	// CONNECT (coder-proxy), a SOCKS 5 user name and password
	// (coder-socks).
	"coder-proxy.pcap": {audit.IDProxyCredentials},
	"coder-socks.pcap": {audit.IDProxyCredentials},
	// Proxy-Authorization Basic on a CONNECT stream to a proxy that speaks
	// HTTP/2 in clear (h2-proxy, the same over TLS, has none).
	"h2c-proxy.pcap": {audit.IDProxyCredentials},
}

// TestNoFindingsOnCleanCaptures runs the audit on every other test capture
// and on the shared corpus (skipped with a message when absent): only the
// weaknesses listed in realWeaknesses may be reported.
func TestNoFindingsOnCleanCaptures(t *testing.T) {
	var caps []string
	all, _ := filepath.Glob("../testdata/*.pcap*")
	for _, p := range all {
		if !slices.Contains(auditCaptures(t), p) {
			caps = append(caps, p)
		}
	}
	corpus, _ := filepath.Glob("../../shared/corpus/*.pcap*")
	if len(corpus) == 0 {
		t.Log("shared corpus not found (../shared/corpus); checking testdata only")
	}
	caps = append(caps, corpus...)
	for _, path := range caps {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			var ids []string
			for _, f := range auditFile(t, path, audit.Config{}) {
				ids = append(ids, f.ID)
			}
			want := realWeaknesses[name]
			if strings.Join(sorted(ids), ",") != strings.Join(sorted(want), ",") {
				t.Errorf("findings %v, want %v", ids, want)
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
