package cmd

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
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
	// The connection up to its last text frame (packet 29 of 37), whose
	// other records are not shown.
	if !strings.Contains(got, `"packets":27,`) || !strings.Contains(got, `"frames_by_opcode":{"binary":2,"ping":2,"pong":2,"text":4}`) {
		t.Errorf("the filtered copy: %s", got)
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
	// Several link types do not fit in a pcap file; the message says how
	// to keep them.
	errOut.Reset()
	links := filepath.Join("..", "testdata", "coder-links.pcapng")
	if code := Execute([]string{"read", links, "-q", "-w", filepath.Join(dir, "links.pcap")}, nil, &out, &errOut); code != ExitOutput || !strings.Contains(errOut.String(), ".pcapng") {
		t.Errorf("-w pcap of three link types: exit %d, %s", code, errOut.String())
	}
	run("read", links, "-q", "-w", filepath.Join(dir, "links.pcapng"))
	if a, b := run("read", filepath.Join(dir, "links.pcapng"), "--json"), run("read", links, "--json"); a != b {
		t.Errorf("the pcapng copy decodes differently:\n%s\nwant\n%s", a, b)
	}
}

// TestReadWriteDecodesAlike checks that what read -w saves with a filter
// decodes, with the same filter, into the records that were shown: the
// copy holds each record's connection from its first packet on, which the
// handshakes, a compression context, TLS and HTTP/2 need. Packet and stream
// numbers change (other packets are left out), and the connection's end
// record says where the copy ends, so those are not compared.
func TestReadWriteDecodesAlike(t *testing.T) {
	td := func(name string) string { return filepath.Join("..", "testdata", name) }
	numbers := regexp.MustCompile(`"(packet|first_packet|request_packet|stream)":[0-9]+,?|"packets":\[[0-9,]*\],?`)
	shown := func(out string) string {
		var b strings.Builder
		for line := range strings.Lines(out) {
			if !strings.HasPrefix(line, `{"type":"end"`) {
				b.WriteString(numbers.ReplaceAllString(line, ""))
			}
		}
		return b.String()
	}
	tests := []struct {
		capture, filter string
		extra           []string
		packets         int // in the copy
	}{
		// the connection up to its last text frame (packet 29 of 37)
		{"coder-basic.pcap", "opcode == text", nil, 27},
		{"coder-deflate-takeover.pcap", "frame.number > 20 && opcode == text", nil, 26},
		{"gorilla-deflate.pcap", "frame.number > 12 && opcode == text", nil, 24},
		{"wss-tls13.pcap", "frame.number > 25 && opcode == text", []string{"--keylog", td("wss-tls13.keylog")}, 29},
		{"wss-proxy.pcap", "opcode == text", []string{"--keylog", td("wss-proxy.keylog")}, 33},
		{"h2-tls-xnet.pcap", "frame.number > 100 && opcode == text", []string{"--keylog", td("h2-tls-xnet.keylog")}, 196},
		{"h2c-xnet.pcap", "frame.number > 100 && opcode == text", nil, 131},
		// a tunnel on an HTTP/2 stream to a proxy, wss:// inside
		{"h2-proxy.pcap", "h2_stream == 5 && opcode == text", []string{"--keylog", td("h2-proxy.keylog")}, 86},
		{"coder-fragments.pcap", "opcode == binary", nil, 123},
		{"coder-tunnels.pcap", "opcode == text", nil, 216},
		{"coder-midstream.pcap", "opcode == text", nil, 12},
		{"coder-lost.pcap", "opcode == text", nil, 22},
		// three link types: the copy is pcapng (its name says so)
		{"coder-links.pcapng", "opcode == text", nil, 84},
		// An end record that matches itself keeps its connection up to
		// its last packet (the final ACK, 38, is not the connection's
		// end).
		{"coder-deflate-takeover.pcap", `type == "end"`, nil, 37},
	}
	for _, tc := range tests {
		t.Run(tc.capture+" "+tc.filter, func(t *testing.T) {
			cp := filepath.Join(t.TempDir(), "copy"+filepath.Ext(tc.capture))
			args := append([]string{"read", td(tc.capture), "-Y", tc.filter, "--json"}, tc.extra...)
			want, _ := runOK(t, append(args, "-w", cp)...)
			if !strings.Contains(want, `"type":"frame"`) && !strings.Contains(want, `"type":"end"`) {
				t.Fatalf("the filter shows nothing: %s", want)
			}
			got, _ := runOK(t, append([]string{"read", cp, "-Y", tc.filter, "--json"}, tc.extra...)...)
			if g, w := strings.Split(shown(got), "\n"), strings.Split(shown(want), "\n"); !slices.Equal(g, w) {
				for i := range min(len(g), len(w)) {
					if g[i] != w[i] {
						t.Fatalf("the copy decodes differently: record %d is\n%.400s\nwant\n%.400s", i, g[i], w[i])
					}
				}
				t.Fatalf("the copy decodes into %d records, want %d", len(g), len(w))
			}
			out, _ := runOK(t, append([]string{"read", cp, "-q", "--json"}, tc.extra...)...)
			if n := fmt.Sprintf(`"packets":%d,`, tc.packets); !strings.Contains(out, n) {
				t.Errorf("the copy's statistics: %s\nwant %s", out, n)
			}
		})
	}
}
