package source

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"testing"
)

func TestDecryptionSecrets(t *testing.T) {
	dsb, err := os.ReadFile("../testdata/wss-tls13-dsb.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../testdata/wss-tls13.keylog")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(dsb)
	zw.Close()
	files := map[string][]byte{
		"dsb.pcapng":    dsb,
		"dsb.pcapng.gz": gz.Bytes(),
		"cut.pcapng":    dsb[:200], // the block is cut short
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		path string
		n    int
	}{
		{filepath.Join(dir, "dsb.pcapng"), 1},
		{filepath.Join(dir, "dsb.pcapng.gz"), 1},
		{filepath.Join(dir, "cut.pcapng"), 0},
		{"../testdata/wss-tls13.pcap", 0},
		{"../testdata/coder-sll2.pcap", 0},
		{"-", 0},
	} {
		got, err := DecryptionSecrets(tt.path)
		if err != nil {
			t.Fatalf("%s: %v", tt.path, err)
		}
		if len(got) != tt.n {
			t.Fatalf("%s: %d secrets, want %d", tt.path, len(got), tt.n)
		}
		// gencap writes the DSB capture and wss-tls13.keylog from one
		// recording.
		if tt.n == 1 && !bytes.Equal(got[0], want) {
			t.Fatalf("%s: secrets %q", tt.path, got[0])
		}
	}
	if _, err := DecryptionSecrets(filepath.Join(dir, "missing.pcapng")); err == nil {
		t.Fatal("no error for a missing file")
	}
}
