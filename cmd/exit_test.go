package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExitCodes checks the documented exit codes and that errors are one
// clear sentence on stderr, with what could be decoded still on stdout.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	whole, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcap")
	if err := os.WriteFile(cut, whole[:len(whole)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("hello, this is not a capture\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		code       int
		stderr     string
		stdoutPart string
	}{
		{"ok", []string{"read", good}, ExitOK, "", "WebSocket handshake"},
		{"truncated keeps output", []string{"read", cut}, ExitDamaged, "capture damaged or truncated", "WebSocket handshake"},
		{"missing file", []string{"read", filepath.Join(dir, "nope.pcap")}, ExitUsage, "no such file", ""},
		{"not a capture", []string{"read", text}, ExitUsage, "looks like text", ""},
		{"no file", []string{"read"}, ExitUsage, "needs at least one capture file", ""},
		{"bad filter", []string{"read", good, "-Y", "opcode =="}, ExitUsage, "invalid filter", ""},
		{"unknown field", []string{"read", good, "-Y", "opcod == 1"}, ExitUsage, `did you mean "opcode"?`, ""},
		{"bad flag", []string{"read", good, "--bogus"}, ExitUsage, "unknown flag", ""},
		{"bad colour", []string{"read", good, "--color", "sometimes"}, ExitUsage, "--color must be", ""},
		{"bad size", []string{"read", good, "--max-message", "lots"}, ExitUsage, "invalid size", ""},
		{"json and tree", []string{"read", good, "--json", "-V"}, ExitUsage, "cannot be combined", ""},
		{"global filter before the command", []string{"-Y", "opcode == text", "read", good}, ExitOK, "", "Text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Execute(tc.args, nil, &out, &errOut)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if tc.stderr == "" && errOut.Len() != 0 {
				t.Errorf("unexpected stderr %q", errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tc.stderr)
			}
			if !strings.Contains(out.String(), tc.stdoutPart) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdoutPart, out.String())
			}
		})
	}
}
