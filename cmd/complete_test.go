package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompletionValues checks that shell completion offers the values of
// --color and the field names of -Y.
func TestCompletionValues(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    []string
		notWant string
	}{
		{[]string{"__complete", "read", "--color", ""}, []string{"auto", "always", "never"}, ""},
		{[]string{"__complete", "read", "-Y", "close."}, []string{"close.code\t", "close.reason\t"}, "opcode"},
		{[]string{"__complete", "-Y", "close."}, []string{"close.code\t"}, "opcode"},
		{[]string{"__complete", "follow", "x.pcap", "-Y", "close."}, []string{"close.code\t"}, "opcode"},
		{[]string{"__complete", "audit", "x.pcap", "--color", ""}, []string{"auto", "always", "never"}, ""},
	} {
		var out, errOut bytes.Buffer
		if code := Execute(tc.args, nil, &out, &errOut); code != ExitOK {
			t.Fatalf("%v: exit %d, stderr %q", tc.args, code, errOut.String())
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: completions lack %q:\n%s", tc.args, w, out.String())
			}
		}
		if tc.notWant != "" && strings.Contains(out.String(), tc.notWant) {
			t.Errorf("%v: completions offer %q:\n%s", tc.args, tc.notWant, out.String())
		}
	}
}

// TestFieldsAligned checks that every description in the fields table
// starts in the header's last column, however long the names and aliases.
func TestFieldsAligned(t *testing.T) {
	for _, args := range [][]string{{"fields"}, {"fields", "--anomalies"}} {
		var out, errOut bytes.Buffer
		if code := Execute(args, nil, &out, &errOut); code != ExitOK {
			t.Fatalf("exit %d: %s", code, errOut.String())
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		head := []rune(lines[0])
		last := strings.LastIndex(lines[0], " ") + 1 // the header is ASCII
		for _, l := range lines[1:] {
			r := []rune(l)
			if len(r) <= last || r[last-1] != ' ' || r[last] == ' ' {
				t.Errorf("%v: not aligned with the header's last column (%d):\n%s\n%s", args, last, string(head), l)
			}
		}
	}
}

// TestManPages checks that man writes a page per command.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if code := Execute([]string{"man", "--dir", dir}, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, name := range []string{"wsdissect.1", "wsdissect-read.1", "wsdissect-live.1", "wsdissect-fields.1"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(b, []byte(".TH \"WSDISSECT\" \"1\"")) {
			t.Errorf("%s is not a man page:\n%.200s", name, b)
		}
	}
	// Each page lists the flags of its command only: the output flags are
	// read's and live's, not fields'.
	for _, tc := range []struct {
		page string
		has  bool
	}{{"wsdissect-read.1", true}, {"wsdissect-live.1", true}, {"wsdissect-fields.1", false}, {"wsdissect-conns.1", false}} {
		b, err := os.ReadFile(filepath.Join(dir, tc.page))
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.Contains(b, []byte(`\fB--tree\fP`)); got != tc.has {
			t.Errorf("%s lists --tree: %v, want %v", tc.page, got, tc.has)
		}
	}
	if code := Execute([]string{"man"}, nil, &out, &errOut); code != ExitUsage {
		t.Errorf("man without --dir: exit %d, want %d", code, ExitUsage)
	}
}
