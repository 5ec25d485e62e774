package cmd

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestTsharkHabits checks the tshark/tcpdump spellings: -r at the top level
// and on read, a bare capture file, -c on read, -n.
func TestTsharkHabits(t *testing.T) {
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	frames := func(s string) int { return strings.Count(s, "WebSocket ") - strings.Count(s, "WebSocket handshake") }
	tests := []struct {
		name   string
		args   []string
		code   int
		frames int // frame lines wanted; -1: any number above 2
		stderr string
	}{
		{"top-level -r", []string{"-r", good}, ExitOK, -1, ""},
		{"read -r", []string{"read", "-r", good}, ExitOK, -1, ""},
		{"bare file", []string{good}, ExitOK, -1, ""},
		{"read -c", []string{"read", good, "-c", "2"}, ExitOK, 2, ""},
		{"top-level -c with a filter", []string{"-r", good, "-Y", "opcode == text", "-c", "1"}, ExitOK, 1, ""},
		{"-c over several files", []string{"read", "-c", "3", good, good}, ExitOK, 3, ""},
		{"-n accepted", []string{"-n", "-r", good, "-c", "1"}, ExitOK, 1, ""},
		{"unknown word", []string{"nosuchthing"}, ExitUsage, 0, `unknown command or file "nosuchthing"`},
		{"negative -c", []string{"read", good, "-c", "-1"}, ExitUsage, 0, "-c takes a positive number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Execute(tc.args, nil, &out, &errOut)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, errOut.String())
			}
			if !strings.Contains(errOut.String(), tc.stderr) || tc.stderr == "" && errOut.Len() > 0 {
				t.Errorf("stderr %q, want %q", errOut.String(), tc.stderr)
			}
			n := frames(out.String())
			if tc.frames >= 0 && n != tc.frames || tc.frames < 0 && n <= 2 {
				t.Errorf("%d frame lines, want %d:\n%s", n, tc.frames, out.String())
			}
		})
	}
}

// TestTimeFormats checks tshark's -t time formats on the summary's time
// column (packet 8 is 2024-01-02T03:04:05.007Z, 2 ms after packet 6).
func TestTimeFormats(t *testing.T) {
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	for _, tc := range []struct {
		format, want string
	}{
		{"r", "     8    0.007000  "},
		{"u", "     8  03:04:05.007000  "},
		{"ud", "     8  2024-01-02 03:04:05.007000  "},
		{"e", "     8  1704164645.007000  "},
		{"d", "     8    0.002000  "},
	} {
		var out, errOut bytes.Buffer
		if code := Execute([]string{"-r", good, "-t", tc.format, "-c", "1"}, nil, &out, &errOut); code != ExitOK {
			t.Fatalf("-t %s: exit %d: %s", tc.format, code, errOut.String())
		}
		lines := strings.Split(out.String(), "\n")
		if len(lines) < 2 || !strings.HasPrefix(lines[1], tc.want) {
			t.Errorf("-t %s: second line %q, want it to start %q", tc.format, lines[min(1, len(lines)-1)], tc.want)
		}
	}
	var out, errOut bytes.Buffer
	if code := Execute([]string{"-r", good, "-t", "x"}, nil, &out, &errOut); code != ExitUsage || !strings.Contains(errOut.String(), "unknown time format") {
		t.Errorf("-t x: exit %d, stderr %q", code, errOut.String())
	}
}

// TestFieldsOutput checks -T fields -e with tshark's -E options.
func TestFieldsOutput(t *testing.T) {
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"tab separated", []string{"-r", good, "-T", "fields", "-e", "packet", "-e", "text", "-c", "2"}, ExitOK,
			"8\tHello from the coder client\n10\tHello from the coder server\n"},
		{"header, separator, quotes, absent value", []string{"-r", good, "-T", "fields", "-e", "frame.number", "-e", "dir", "-e", "text",
			"-E", "header=y", "-E", "separator=,", "-E", "quote=d", "-Y", "opcode == binary", "-c", "1"}, ExitOK,
			"frame.number,dir,text\n\"12\",\"c2s\",\n"},
		{"with a filter and messages", []string{"read", good, "--messages", "-T", "fields", "-e", "close.code", "-Y", "opcode == close"}, ExitOK,
			"1000\n1000\n"},
		{"unknown field", []string{"-r", good, "-T", "fields", "-e", "nosuch"}, ExitUsage, ""},
		{"-e without -T", []string{"-r", good, "-e", "len"}, ExitUsage, ""},
		{"-T fields without -e", []string{"-r", good, "-T", "fields"}, ExitUsage, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Execute(tc.args, nil, &out, &errOut); code != tc.code {
				t.Fatalf("exit %d, want %d: %s", code, tc.code, errOut.String())
			}
			if out.String() != tc.want {
				t.Errorf("output %q, want %q", out.String(), tc.want)
			}
		})
	}
}

// TestReadWrite checks read -w: all packets without a filter (the copy
// decodes the same), the packets of the shown records with -Y.
func TestReadWrite(t *testing.T) {
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, _ := runOK(t, args...)
		return out
	}
	all := filepath.Join(dir, "all.pcap")
	run("read", good, "-q", "-w", all)
	if a, b := run("read", all, "--json"), run("read", good, "--json"); a != b {
		t.Errorf("the copy decodes differently:\n%s\nwant\n%s", a, b)
	}
	texts := filepath.Join(dir, "texts.pcap")
	run("-r", good, "-Y", "opcode == text", "-w", texts)
	got := run("-r", texts, "-q", "--json")
	// The text frames' packets (one frame spans two), the handshake's and
	// the last one of the connection (its end record's).
	if !strings.Contains(got, `"packets":7,`) || !strings.Contains(got, `"frames_by_opcode":{"text":4}`) {
		t.Errorf("the filtered copy holds other packets: %s", got)
	}
	// Fragmented packets go with all their fragments: the copy has no
	// datagram left incomplete.
	frags := filepath.Join(dir, "frags.pcap")
	run("-r", filepath.Join("..", "testdata", "coder-fragments.pcap"), "-Y", "opcode == binary", "-w", frags)
	got = run("-r", frags, "-q", "--json")
	if !strings.Contains(got, `"fragments_dropped":0,`) || strings.Contains(got, `"defragmented_packets":0,`) {
		t.Errorf("the filtered copy of fragmented packets: %s", got)
	}
	var out, errOut bytes.Buffer
	if code := Execute([]string{"read", "-", "-w", filepath.Join(dir, "x.pcap")}, nil, &out, &errOut); code != ExitUsage {
		t.Errorf("-w with stdin: exit %d, want %d", code, ExitUsage)
	}
}
