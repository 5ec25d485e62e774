package render

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// update rewrites golden files instead of comparing with them:
//
//	go test ./render -run Golden -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden with the current output")

// checkGolden compares got with testdata/<name>.golden. With -update it
// writes got to the file instead. On a mismatch it reports the first line
// that differs, quoted so that escape sequences and trailing spaces show.
//
// The helper only depends on the standard library, so other packages can
// copy it as is.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("create golden directory: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file: %v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gotLines := strings.Split(string(got), "\n")
	wantLines := strings.Split(string(want), "\n")
	for i := 0; i < max(len(gotLines), len(wantLines)); i++ {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Errorf("%s: line %d differs\n got: %q\nwant: %q\n(run go test -update to accept the new output)", path, i+1, g, w)
			return
		}
	}
	t.Errorf("%s: output differs (line endings?)", path)
}

// TestGolden renders every fixture in every format and compares the whole
// output with the golden files.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"summary", Options{}},
		{"summary_color", Options{Color: true}},
		{"summary_hex", Options{Hex: true}},
		{"summary_file", Options{File: "capture one.pcapng", Messages: true}},
		{"tree", Options{Format: FormatTree}},
		{"tree_color", Options{Format: FormatTree, Color: true}},
		{"tree_hex", Options{Format: FormatTree, Hex: true}},
		{"json", Options{Format: FormatJSON}},
		{"json_color_ignored", Options{Format: FormatJSON, Color: true, Hex: true}},
		{"json_file", Options{Format: FormatJSON, File: "dir/capture\"1\".pcap"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderAll(tc.opts, fixtures())
			if err != nil {
				t.Fatal(err)
			}
			if !tc.opts.Color && bytes.IndexByte(got, 0x1b) >= 0 {
				t.Errorf("escape character in output without colour")
			}
			if tc.opts.Format == FormatJSON {
				validateNDJSON(t, got)
			}
			checkGolden(t, tc.name, got)
		})
	}
}
