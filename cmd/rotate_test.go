package cmd

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/source"
)

// splitCapture writes the packets of a capture into classic pcap files of
// at most per packets each (like editcap -c), named part-000.pcap, ... in
// dir, and returns their paths.
func splitCapture(t *testing.T, capture, dir string, per int) []string {
	t.Helper()
	src, err := source.Open(capture, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var paths []string
	var out *os.File
	n := 0
	var p source.Packet
	for i := 0; i < 1_000_000; i++ {
		err := src.Next(&p)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n%per == 0 {
			if out != nil {
				out.Close()
			}
			name := filepath.Join(dir, fmt.Sprintf("part-%03d.pcap", len(paths)))
			out, err = os.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			paths = append(paths, name)
			var h [24]byte
			binary.LittleEndian.PutUint32(h[0:], 0xa1b23c4d) // nanosecond pcap
			binary.LittleEndian.PutUint16(h[4:], 2)
			binary.LittleEndian.PutUint16(h[6:], 4)
			binary.LittleEndian.PutUint32(h[16:], 262144)
			binary.LittleEndian.PutUint32(h[20:], uint32(p.LinkType))
			out.Write(h[:])
		}
		var r [16]byte
		binary.LittleEndian.PutUint32(r[0:], uint32(p.Time.Unix()))
		binary.LittleEndian.PutUint32(r[4:], uint32(p.Time.Nanosecond()))
		binary.LittleEndian.PutUint32(r[8:], uint32(len(p.Data)))
		binary.LittleEndian.PutUint32(r[12:], uint32(p.OrigLen))
		out.Write(r[:])
		out.Write(p.Data)
		n++
	}
	if out != nil {
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

// runOK runs the command line and returns its standard output.
func runOK(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Execute(args, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errOut.String())
	}
	return out.String(), errOut.String()
}

// TestRotatedCaptures splits captures into parts (the deflate one inside a
// compressed connection) and checks that reading the parts, listed, as a
// directory or as a glob, gives exactly the whole file's output, while
// --separate restarts the connection in each part.
func TestRotatedCaptures(t *testing.T) {
	for _, tc := range []struct {
		capture string
		per     int
	}{
		{"coder-deflate-takeover.pcap", 12},
		{"coder-fragmented.pcap", 9},
		{"gorilla-impaired.pcap", 7},
	} {
		t.Run(tc.capture, func(t *testing.T) {
			whole := filepath.Join("..", "testdata", tc.capture)
			dir := t.TempDir()
			parts := splitCapture(t, whole, dir, tc.per)
			if len(parts) < 2 {
				t.Fatalf("split into %d parts", len(parts))
			}
			for _, mode := range [][]string{{"--json", "--messages"}, {"-V"}} {
				want, _ := runOK(t, append([]string{"read", "--color", "never", whole}, mode...)...)
				reversed := make([]string, len(parts))
				for i, p := range parts {
					reversed[len(parts)-1-i] = p
				}
				for _, in := range [][]string{reversed, {dir}, {filepath.Join(dir, "part-*.pcap")}} {
					got, errOut := runOK(t, append(append([]string{"read", "--color", "never"}, in...), mode...)...)
					if got != want {
						t.Errorf("%v %v: output differs from the whole file's:\n%s", in, mode, firstDiff(got, want))
					}
					if errOut != "" {
						t.Errorf("%v: stderr %q", in, errOut)
					}
				}
			}
			sep, _ := runOK(t, append([]string{"read", "--separate", "--json", "--messages"}, parts...)...)
			whole1, _ := runOK(t, "read", "--json", "--messages", whole)
			if sep == whole1 || !strings.Contains(sep, `"file":`) {
				t.Error("--separate gives the whole file's output: the parts were not read on their own")
			}
		})
	}
}

// TestRotatedDeflateInflates checks that the compressed connection split
// over two files inflates every message: none is marked as lost context.
func TestRotatedDeflateInflates(t *testing.T) {
	dir := t.TempDir()
	parts := splitCapture(t, filepath.Join("..", "testdata", "coder-deflate-takeover.pcap"), dir, 12)
	out, _ := runOK(t, append([]string{"read", "--json", "--messages"}, parts...)...)
	if strings.Contains(out, "deflate-context-lost") || strings.Contains(out, "decompression-failed") {
		t.Errorf("chained read lost the deflate context:\n%s", out)
	}
	sep, _ := runOK(t, append([]string{"read", "--separate", "--json", "--messages"}, parts...)...)
	if !strings.Contains(sep, "deflate-context-lost") && !strings.Contains(sep, `"midstream":true`) {
		t.Errorf("--separate did not restart the connection in the second part:\n%s", sep)
	}
}

// TestRotatedConns checks that conns, follow's input and export read the
// parts of a rotated capture as one.
func TestRotatedConns(t *testing.T) {
	whole := filepath.Join("..", "testdata", "coder-deflate-takeover.pcap")
	dir := t.TempDir()
	parts := splitCapture(t, whole, dir, 12)
	want, _ := runOK(t, "conns", "--json", whole)
	got, _ := runOK(t, "conns", "--json", dir)
	if got != want {
		t.Errorf("conns of the parts differs:\n%s", firstDiff(got, want))
	}
	same := filepath.Join(t.TempDir(), "same.pcap")
	b, _ := os.ReadFile(parts[0])
	os.WriteFile(same, b, 0o644)
	var out, errOut bytes.Buffer
	if code := Execute([]string{"conns", parts[0], same}, nil, &out, &errOut); code != ExitUsage || !strings.Contains(errOut.String(), "do not follow each other") {
		t.Errorf("two files starting together: exit %d, %q", code, errOut.String())
	}
}
