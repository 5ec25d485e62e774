package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestNodeCaptureMatchesTestdata regenerates node-ws-origin.pcap against the
// Node.js ws server and compares it with the committed file. It skips when
// node or the ws package (cd tools/nodews && npm install) is missing.
func TestNodeCaptureMatchesTestdata(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found; the committed node-ws-origin.pcap is still checked by the audit and engine tests")
	}
	if _, err := os.Stat(filepath.Join("..", "nodews", "node_modules", "ws")); err != nil {
		t.Skip("the ws package is not installed: run (cd tools/nodews && npm install)")
	}
	dir := t.TempDir()
	if err := run(dir, filepath.Join("..", "nodews")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "node-ws-origin.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "node-ws-origin.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("node-ws-origin.pcap differs from testdata (regenerate with go run ./tools/gencap-node -out testdata)")
	}
}
