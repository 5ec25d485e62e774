package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditCommand checks `wsdissect audit`: the report, NDJSON, exit code 3
// at --fail-on, and flag errors.
func TestAuditCommand(t *testing.T) {
	td := func(n string) string { return filepath.Join("..", "testdata", n) }
	cswsh, clean, secrets := td("audit-cswsh.pcap"), td("coder-basic.pcap"), td("audit-tunnel.pcap")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"high finding fails", []string{"audit", cswsh}, ExitFindings, []string{"chat.example.com", "HIGH", "cswsh", "evidence: Origin: https://evil.example"}, ""},
		{"fail-on none", []string{"audit", "--fail-on", "none", cswsh}, ExitOK, []string{"cswsh"}, ""},
		{"clean capture", []string{"audit", clean}, ExitOK, []string{"no findings"}, ""},
		{"medium below high", []string{"audit", secrets}, ExitOK, []string{"tunnelled-protocol"}, ""},
		{"medium at fail-on medium", []string{"audit", "--fail-on", "medium", secrets}, ExitFindings, []string{"tunnelled-protocol"}, ""},
		{"two files name each", []string{"audit", "--fail-on", "none", clean, cswsh}, ExitOK, []string{"Security audit of " + clean, "Security audit of " + cswsh}, ""},
		{"threshold flag", []string{"audit", "--fail-on", "low", "--audit-max-pings", "100", td("audit-ping-flood.pcap")}, ExitOK, []string{"no findings"}, ""},
		{"coverage", []string{"audit", cswsh}, ExitFindings, []string{"checked: 3 WebSocket handshakes\n"}, ""},
		{"TLS not checked", []string{"audit", td("wss-tls13.pcap")}, ExitOK, []string{"no findings\nchecked: 0 WebSocket handshakes\n" +
			"not checked: 1 TLS connection not decrypted (no key log given): WebSocket traffic inside was not audited (give the key log with --keylog)"}, ""},
		{"TLS checked", []string{"audit", "--keylog", td("wss-tls13.keylog"), td("wss-tls13.pcap")}, ExitOK, []string{"no findings\nchecked: 1 WebSocket handshake\n"}, ""},
		{"TLS not checked, NDJSON", []string{"audit", "--json", td("wss-tls13.pcap")}, ExitOK, nil,
			"wsdissect: audit: not checked: 1 TLS connection not decrypted (no key log given)"},
		{"midstream", []string{"audit", td("coder-midstream.pcap")}, ExitOK, []string{"checked: 0 WebSocket handshakes; 1 connection without its handshake (messages only)"}, ""},
		{"HTTP/2 sessions", []string{"audit", td("audit-h2.pcap")}, ExitFindings, []string{"stream 0/1", "answered 200", "checked: 4 WebSocket handshakes\n"}, ""},
		{"bad fail-on", []string{"audit", "--fail-on", "critical", cswsh}, ExitUsage, nil, "--fail-on must be"},
		{"bad size", []string{"audit", "--audit-max-size", "big", cswsh}, ExitUsage, nil, "--audit-max-size"},
		{"no file", []string{"audit"}, ExitUsage, nil, "needs at least one capture file"},
		{"missing file", []string{"audit", td("nope.pcap")}, ExitUsage, nil, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Execute(append(tc.args, "--color", "never"), nil, &out, &errOut)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.stderr) || tc.stderr == "" && errOut.Len() > 0 {
				t.Errorf("stderr %q, want %q", errOut.String(), tc.stderr)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			if strings.Contains(out.String(), "\x1b[") {
				t.Errorf("colour with --color never")
			}
		})
	}
}

// findingLines returns the "finding" records of NDJSON output and counts the
// other records.
func findingLines(t *testing.T, out []byte) (findings []map[string]any, others int) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("not JSON: %q: %v", sc.Text(), err)
		}
		if m["type"] == "finding" {
			findings = append(findings, m)
		} else {
			if len(findings) > 0 {
				t.Errorf("a %v record after the findings", m["type"])
			}
			others++
		}
	}
	return findings, others
}

// TestAuditJSONAndReadAudit checks that `audit --json` and `read --json
// --audit` give the same finding records, and that read --audit adds the
// report to the summary and tree output without changing the exit code.
func TestAuditJSONAndReadAudit(t *testing.T) {
	path := filepath.Join("..", "testdata", "audit-no-origin.pcap")
	var a, r bytes.Buffer
	if code := Execute([]string{"audit", "--json", path}, nil, &a, &bytes.Buffer{}); code != ExitFindings {
		t.Fatalf("audit exit %d", code)
	}
	af, aOthers := findingLines(t, a.Bytes())
	if len(af) != 4 || aOthers != 0 {
		t.Fatalf("audit --json: %d findings and %d other records, want 4 and 0", len(af), aOthers)
	}
	if af[0]["severity"] != "high" || af[3]["id"] != "cswsh-no-origin" {
		t.Errorf("order: %v ... %v", af[0], af[3])
	}
	if code := Execute([]string{"read", "--json", "--audit", path}, nil, &r, &bytes.Buffer{}); code != ExitOK {
		t.Fatalf("read --audit exit %d", code)
	}
	rf, rOthers := findingLines(t, r.Bytes())
	if rOthers == 0 {
		t.Error("read --json --audit printed no dissection records")
	}
	aj, _ := json.Marshal(af)
	rj, _ := json.Marshal(rf)
	if !bytes.Equal(aj, rj) {
		t.Errorf("read --audit findings differ from audit's:\n%s\n%s", rj, aj)
	}

	// Without --audit, no findings.
	var plain bytes.Buffer
	Execute([]string{"read", "--json", path}, nil, &plain, &bytes.Buffer{})
	if pf, _ := findingLines(t, plain.Bytes()); len(pf) != 0 {
		t.Errorf("read without --audit printed %d findings", len(pf))
	}

	// --messages: the same findings from message records.
	var m bytes.Buffer
	Execute([]string{"read", "--json", "--messages", "--audit", path}, nil, &m, &bytes.Buffer{})
	if mf, _ := findingLines(t, m.Bytes()); len(mf) != 4 {
		t.Errorf("read --messages --audit: %d findings, want 4", len(mf))
	}

	for _, args := range [][]string{{"read", path, "--audit"}, {"read", path, "--audit", "-V"}, {"read", path, "--audit", "-q"}} {
		var out bytes.Buffer
		if code := Execute(append(args, "--color", "never"), nil, &out, &bytes.Buffer{}); code != ExitOK {
			t.Errorf("%v: exit %d", args, code)
		}
		s := out.String()
		i := strings.Index(s, "Security audit")
		if i < 0 || !strings.Contains(s[i:], "cswsh-no-origin") || !strings.Contains(s[i:], "4 findings") {
			t.Errorf("%v: no audit report at the end:\n%s", args, s)
		}
	}
}
