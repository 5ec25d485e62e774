package cmd

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/source"
)

// embeddedSecrets returns the key log lines of the Decryption Secrets
// Blocks of a pcapng file.
func embeddedSecrets(t *testing.T, path string) []string {
	t.Helper()
	f, err := source.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var kl bytes.Buffer
	f.OnSecrets(func(s source.Secrets) { kl.Write(s.KeyLog) })
	var p source.Packet
	for {
		if err := f.Next(&p); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	return strings.Fields(strings.ReplaceAll(kl.String(), "\n", " | "))
}

// TestInjectSecrets checks read -w FILE.pcapng --inject-secrets: the copy
// decodes without a key log as the original does with it (also through
// HTTPS and HTTP/2 proxies, where each record needs two sessions' secrets,
// and from an input that carried its secrets), holds the secrets of the
// saved sessions only, and Wireshark's format (a Decryption Secrets Block
// per file, before the packets).
func TestInjectSecrets(t *testing.T) {
	td := func(name string) string { return filepath.Join("..", "testdata", name) }
	numbers := regexp.MustCompile(`"(packet|first_packet|request_packet|response_packet|stream)":[0-9]+,?|"packets":\[[0-9,]*\],?`)
	tests := []struct {
		capture, keylog, filter string
		sessions                int // whose secrets the copy holds
	}{
		{"wss-tls13.pcap", "wss-tls13.keylog", "opcode == text", 1},
		{"wss-tls12-cbc.pcap", "wss-tls12-cbc.keylog", "opcode == text", 1},
		{"wss-tls13-dsb.pcapng", "", "opcode == binary", 1},
		{"h2-tls-xnet.pcap", "h2-tls-xnet.keylog", "frame.number > 100 && opcode == text", 1},
		// two sessions each: the proxy's and the one inside the tunnel
		{"https-proxy.pcap", "https-proxy.keylog", `proxy contains "wss"`, 2},
		{"h2-proxy.pcap", "h2-proxy.keylog", "h2_stream == 5", 2},
		// the proxy's only: ws:// in the tunnel
		{"https-proxy.pcap", "https-proxy.keylog", `proxy contains "ws.example"`, 1},
		// every record: both HTTPS proxy connections and the wss inside one
		{"https-proxy.pcap", "https-proxy.keylog", "", 3},
	}
	for _, tc := range tests {
		t.Run(tc.capture+" "+tc.filter, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "copy.pcapng")
			var sel []string
			if tc.filter != "" {
				sel = []string{"-Y", tc.filter}
			}
			orig := append([]string{"read", td(tc.capture), "--json"}, sel...)
			if tc.keylog != "" {
				orig = append(orig, "--keylog", td(tc.keylog))
			}
			want, _ := runOK(t, append(orig, "-w", cp, "--inject-secrets")...)
			if !strings.Contains(want, `"type":"frame"`) {
				t.Fatalf("the filter shows no frame: %.300s", want)
			}
			got, _ := runOK(t, append([]string{"read", cp, "--json"}, sel...)...)
			// (End records say the copy ends after the last record shown.)
			ends := regexp.MustCompile(`(?m)^\{"type":"end".*\n`)
			clean := func(s string) string { return numbers.ReplaceAllString(ends.ReplaceAllString(s, ""), "") }
			if g, w := clean(got), clean(want); g != w {
				gl, wl := strings.Split(g, "\n"), strings.Split(w, "\n")
				for i := range min(len(gl), len(wl)) {
					if gl[i] != wl[i] {
						t.Fatalf("the copy decodes differently without a key log: record %d is\n%.300s\nwant\n%.300s", i, gl[i], wl[i])
					}
				}
				t.Fatalf("the copy decodes into %d records, want %d", len(gl), len(wl))
			}
			lines := embeddedSecrets(t, cp)
			randoms := map[string]bool{}
			for i := 0; i+3 < len(lines); i += 4 { // label, random, secret, "|"
				randoms[lines[i+1]] = true
			}
			if len(randoms) != tc.sessions {
				t.Errorf("the copy holds the secrets of %d sessions, want %d:\n%s", len(randoms), tc.sessions, strings.Join(lines, " "))
			}
		})
	}
}

// TestInjectSecretsUsage checks what --inject-secrets needs, and the hint
// given when an input's embedded secrets are not copied.
func TestInjectSecretsUsage(t *testing.T) {
	dir := t.TempDir()
	dsb := filepath.Join("..", "testdata", "wss-tls13-dsb.pcapng")
	for _, args := range [][]string{
		{"read", dsb, "--inject-secrets"},
		{"read", dsb, "--inject-secrets", "-w", filepath.Join(dir, "x.pcap")},
	} {
		var out, errOut bytes.Buffer
		if code := Execute(args, nil, &out, &errOut); code != ExitUsage || !strings.Contains(errOut.String(), "-w FILE.pcapng") {
			t.Errorf("%v: exit %d, %q; want %d naming -w FILE.pcapng", args, code, errOut.String(), ExitUsage)
		}
	}
	cp := filepath.Join(dir, "plain.pcapng")
	_, errOut := runOK(t, "read", dsb, "-q", "-w", cp)
	if !strings.Contains(errOut, "--inject-secrets") {
		t.Errorf("no hint that the embedded secrets were not copied: %q", errOut)
	}
	if s := embeddedSecrets(t, cp); len(s) != 0 {
		t.Errorf("secrets copied without --inject-secrets: %q", s)
	}
	_, errOut = runOK(t, "read", filepath.Join("..", "testdata", "wss-tls13.pcap"), "-q", "-w", cp, "--inject-secrets")
	if !strings.Contains(errOut, "no secrets for the TLS session") {
		t.Errorf("no word that the key log had no secrets: %q", errOut)
	}
	if !slices.Equal(embeddedSecrets(t, cp), nil) {
		t.Error("secrets written with none in the key log")
	}
}

// TestInjectSecretsCount checks --inject-secrets with -c and no -Y: the
// copy holds every packet up to the last record shown, so the secrets of
// every session among them, shown or not.
func TestInjectSecretsCount(t *testing.T) {
	td := func(name string) string { return filepath.Join("..", "testdata", name) }
	cp := filepath.Join(t.TempDir(), "count.pcapng")
	runOK(t, "read", td("https-proxy.pcap"), "--keylog", td("https-proxy.keylog"), "-c", "1", "-w", cp, "--inject-secrets")
	out, _ := runOK(t, "read", cp, "--json")
	if strings.Contains(out, `"decrypted":false`) || !strings.Contains(out, `"sni":"wss.example"`) {
		t.Errorf("the copy does not decrypt alone:\n%s", out)
	}
}
