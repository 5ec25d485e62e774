package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFlagOrder checks that the flags of read (and the other commands that
// take some of the shared ones) work before the command's name as after
// it, as documented: "wsdissect -Y EXPR read FILE".
func TestFlagOrder(t *testing.T) {
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	tests := []struct {
		name          string
		before, after []string
		want          string // in the output of both
	}{
		{"read filter", []string{"-Y", "opcode == text", "read", good}, []string{"read", good, "-Y", "opcode == text"}, "Text"},
		{"read json quiet", []string{"--json", "-q", "read", good}, []string{"read", good, "--json", "-q"}, `"frames"`},
		{"top-level -r", []string{"-Y", "opcode == close", "-r", good}, []string{"-r", good, "-Y", "opcode == close"}, "Close"},
		{"read limits and -n", []string{"-n", "--max-message", "4", "--messages", "read", good}, []string{"read", good, "--messages", "-n", "--max-message", "4"}, "Text"},
		{"conns json", []string{"--json", "conns", good}, []string{"conns", good, "--json"}, `"stream":0`},
		{"follow colour and limit", []string{"--color", "never", "--memory", "64MiB", "follow", good, "0"}, []string{"follow", good, "0", "--color", "never", "--memory", "64MiB"}, "Stream 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var outs [2]string
			for i, args := range [][]string{tc.before, tc.after} {
				var out, errOut bytes.Buffer
				if code := Execute(args, nil, &out, &errOut); code != ExitOK {
					t.Fatalf("%q: exit %d: %s", args, code, errOut.String())
				}
				outs[i] = out.String()
			}
			if outs[0] != outs[1] {
				t.Errorf("flags before the command:\n%s\nafter it:\n%s", outs[0], outs[1])
			}
			if !strings.Contains(outs[0], tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, outs[0])
			}
		})
	}
}

// TestFlagOfAnotherCommand checks that a flag given to a command that does
// not take it is a usage error that says which commands do, in either
// order, instead of being silently ignored.
func TestFlagOfAnotherCommand(t *testing.T) {
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	tests := []struct {
		args   []string
		stderr []string
	}{
		{[]string{"fields", "--json"}, []string{"--json is not a flag of 'wsdissect fields'", "conns", "read"}},
		{[]string{"--json", "fields"}, []string{"--json is not a flag of 'wsdissect fields'"}},
		{[]string{"fields", "-Y", "opcode == 1"}, []string{"-Y is not a flag of 'wsdissect fields'", "follow", "live", "read"}},
		{[]string{"-V", "fields"}, []string{"-V is not a flag of 'wsdissect fields'"}},
		{[]string{"completion", "bash", "-V"}, []string{"-V is not a flag of 'wsdissect completion bash'", "read"}},
		{[]string{"conns", good, "-q"}, []string{"-q is not a flag of 'wsdissect conns'"}},
		{[]string{"conns", good, "--color", "never"}, []string{"--color is not a flag of 'wsdissect conns'", "follow"}},
		{[]string{"export", good, "--dir", "x", "--messages"}, []string{"--messages is not a flag of 'wsdissect export'"}},
		{[]string{"fields", "--keylog", "k"}, []string{"--keylog is not a flag of 'wsdissect fields'", "audit", "conns", "export", "follow"}},
		{[]string{"man", "--dir", "x", "--max-message", "1"}, []string{"--max-message is not a flag of 'wsdissect man'"}},
		// A flag no command has stays pflag's message.
		{[]string{"fields", "--bogus"}, []string{"unknown flag: --bogus"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Execute(tc.args, nil, &out, &errOut); code != ExitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, ExitUsage, errOut.String())
			}
			for _, w := range tc.stderr {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr %q lacks %q", errOut.String(), w)
				}
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}

// TestSharedFlagsDocumented checks that every shared flag is registered on
// read and live and listed in the README's flag table.
func TestSharedFlagsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	a := &app{}
	root := a.rootCmd()
	for _, name := range append(append([]string{}, selectionFlags...), decodeFlags...) {
		for _, cmd := range []string{"read", "live"} {
			c, _, err := root.Find([]string{cmd})
			if err != nil || c.Flags().Lookup(name) == nil {
				t.Errorf("%s lacks --%s", cmd, name)
			}
		}
		f := root.Flags().Lookup(name)
		if f == nil {
			t.Errorf("the top level lacks --%s", name)
			continue
		}
		short := f.Shorthand != "" && (bytes.Contains(readme, []byte("`-"+f.Shorthand)) || bytes.Contains(readme, []byte(" -"+f.Shorthand+" ")))
		if !bytes.Contains(readme, []byte("`--"+name)) && !short {
			t.Errorf("README's flag table lacks --%s", name)
		}
	}
}
