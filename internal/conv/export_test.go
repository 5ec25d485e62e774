package conv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// TestFileExporter checks the files and the index written for the known
// capture: one file per message with the right content and extension.
func TestFileExporter(t *testing.T) {
	path, _ := knownCapture(t)
	out := filepath.Join(t.TempDir(), "out")
	fe, err := NewFileExporter(out)
	if err != nil {
		t.Fatal(err)
	}
	collect(t, path, Options{OnMessage: fe.Message})
	if err := fe.Close(); err != nil {
		t.Fatal(err)
	}
	idx, err := os.ReadFile(filepath.Join(out, "index.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(idx)), "\n")
	if len(lines) != 12 {
		t.Fatalf("%d index lines, want 12", len(lines))
	}
	var exts = map[string]int{}
	for _, l := range lines {
		var j MessageJSON
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(j.File)))
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(b)) != j.Len {
			t.Errorf("%s: %d bytes, index says %d", j.File, len(b), j.Len)
		}
		exts[filepath.Ext(j.File)]++
		if j.OpcodeName == "text" && !bytes.Equal(b, knownText) {
			t.Errorf("%s: text content differs", j.File)
		}
		if j.OpcodeName == "binary" && string(b) != "\x00\x01\x02\x03\x04\x05" {
			t.Errorf("%s: binary content %x", j.File, b)
		}
		if !strings.HasPrefix(j.File, "0/") || !strings.Contains(j.File, "-"+j.Dir+".") {
			t.Errorf("file name %q", j.File)
		}
	}
	if exts[".txt"] != 1 || exts[".bin"] != 11 {
		t.Errorf("extensions %v, want 1 .txt and 11 .bin", exts)
	}
	if _, err := NewFileExporter(out); err == nil {
		t.Error("a second export into the same directory was not refused")
	}
}

// TestHAR checks the HAR's WebSocket entry against the shape Chrome DevTools
// writes, and validates the file with har-validator when node and the
// package (internal/conv/testdata/harcheck, npm ci) are installed.
func TestHAR(t *testing.T) {
	path, _ := knownCapture(t)
	hc := NewHARCollector()
	col := collect(t, path, Options{OnMessage: hc.Message})
	var buf bytes.Buffer
	if err := hc.WriteHAR(&buf, col.Sessions(), "test"); err != nil {
		t.Fatal(err)
	}
	var har struct {
		Log struct {
			Version string
			Entries []struct {
				StartedDateTime string
				Request         struct{ Method, URL string }
				Response        struct{ Status int }
				Messages        []map[string]any `json:"_webSocketMessages"`
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &har); err != nil {
		t.Fatal(err)
	}
	if har.Log.Version != "1.2" || len(har.Log.Entries) != 1 {
		t.Fatalf("version %q, %d entries", har.Log.Version, len(har.Log.Entries))
	}
	e := har.Log.Entries[0]
	if e.Request.Method != "GET" || e.Request.URL != "ws://example.test/known?x=1" || e.Response.Status != 101 {
		t.Errorf("entry %+v", e)
	}
	if len(e.Messages) != 2 {
		t.Fatalf("%d messages, want the 2 data messages", len(e.Messages))
	}
	var want []Message
	for _, m := range collect(t, path, Options{Keep: func(ID) bool { return true }}).Sessions()[0].Messages {
		if m.Opcode == dissect.OpText || m.Opcode == dissect.OpBinary {
			want = append(want, m)
		}
	}
	for i, m := range e.Messages {
		if len(m) != 4 {
			t.Errorf("message %d has keys %v, want type, time, opcode, data", i, m)
		}
		w := want[i]
		typ := "send"
		if w.Dir == dissect.ServerToClient {
			typ = "receive"
		}
		data := string(w.Payload)
		if w.Opcode == dissect.OpBinary {
			data = base64.StdEncoding.EncodeToString(w.Payload)
		}
		if m["type"] != typ || m["opcode"] != float64(w.Opcode) || m["data"] != data {
			t.Errorf("message %d: %v", i, m)
		}
		if tm, _ := m["time"].(float64); tm != float64(w.Time.UnixMicro())/1e6 {
			t.Errorf("message %d: time %v, want %v", i, m["time"], float64(w.Time.UnixMicro())/1e6)
		}
	}
	validateHAR(t, buf.Bytes())
}

// validateHAR runs har-validator on HAR documents, or skips.
func validateHAR(t *testing.T, hars ...[]byte) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed: HAR not validated with har-validator")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "harcheck"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "har-validator")); err != nil {
		t.Skip("har-validator not installed (cd internal/conv/testdata/harcheck && npm ci): HAR not validated")
	}
	args := []string{filepath.Join(dir, "check.js")}
	for i, har := range hars {
		f := filepath.Join(t.TempDir(), fmt.Sprintf("out%d.har", i))
		if err := os.WriteFile(f, har, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, f)
	}
	out, err := exec.Command(node, args...).CombinedOutput()
	if err != nil {
		t.Errorf("har-validator: %v\n%s", err, out)
	}
}

// TestHARInvalidDetected proves the validator step can fail: a HAR without
// the required entry fields is rejected.
func TestHARInvalidDetected(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed")
	}
	dir, _ := filepath.Abs(filepath.Join("testdata", "harcheck"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "har-validator")); err != nil {
		t.Skip("har-validator not installed")
	}
	f := filepath.Join(t.TempDir(), "bad.har")
	os.WriteFile(f, []byte(`{"log":{"version":"1.2","creator":{"name":"x","version":"1"},"entries":[{"startedDateTime":"x"}]}}`), 0o644)
	if err := exec.Command(node, filepath.Join(dir, "check.js"), f).Run(); err == nil {
		t.Error("har-validator accepted an invalid HAR")
	}
}

// TestHARTestdata validates the HAR of every testdata capture.
func TestHARTestdata(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*.pcap"))
	var hars [][]byte
	for _, name := range names {
		hc := NewHARCollector()
		col := collect(t, name, Options{OnMessage: hc.Message})
		var buf bytes.Buffer
		if err := hc.WriteHAR(&buf, col.Sessions(), "test"); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("%s: invalid JSON", name)
		}
		hars = append(hars, buf.Bytes())
	}
	validateHAR(t, hars...)
}
