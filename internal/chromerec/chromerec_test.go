package chromerec

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// logged returns a Plaintext holding the c2s and s2c chunks, alternately.
func logged(t *testing.T, chunks ...[]byte) *Plaintext {
	t.Helper()
	var seq atomic.Int64
	p := NewPlaintext(&seq)
	for i, c := range chunks {
		if i%2 == 0 {
			buf := make([]byte, len(c))
			if n, err := p.Read(bytes.NewReader(c), buf); n != len(c) || err != nil {
				t.Fatalf("read: %d, %v", n, err)
			}
		} else if _, err := p.Write(io.Discard, c); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func masked(op uint8, fin bool, payload string) capgen.Frame {
	return capgen.Frame{Fin: fin, Opcode: op, Masked: true, Key: [4]byte{1, 2, 3, 4}, Payload: []byte(payload)}
}

func plain(op uint8, payload string) capgen.Frame {
	return capgen.Frame{Fin: true, Opcode: op, Payload: []byte(payload)}
}

func TestSplitHTTP1Messages(t *testing.T) {
	req := capgen.UpgradeRequest("/chat", "ws.example", "dGhlIHNhbXBsZSBub25jZQ==")
	resp := capgen.SwitchingProtocols(capgen.AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
	close1000 := string(capgen.ClosePayload(1000, ""))
	p := logged(t,
		append(req, capgen.Frames(masked(capgen.OpText, false, "hel"), masked(capgen.OpPing, true, "p"))...),
		resp,
		capgen.Frames(masked(capgen.OpContinuation, true, "lo")),
		capgen.Frames(plain(capgen.OpPong, "p"), plain(capgen.OpText, "echo: hello")),
		capgen.Frames(masked(capgen.OpClose, true, close1000)),
		capgen.Frames(plain(capgen.OpClose, close1000)),
	)
	h, err := SplitHTTP1(p)
	if err != nil {
		t.Fatal(err)
	}
	if h.Req != string(req) || h.Resp != string(resp) || Header(h.Req, "sec-websocket-version") != "13" {
		t.Errorf("heads %q %q", h.Req, h.Resp)
	}
	msgs, err := h.Messages()
	if err != nil {
		t.Fatal(err)
	}
	var truth capgen.Truth
	kinds, err := AddSession(&truth, 3, msgs, []string{"hello"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c2s op9/1", "c2s op1/5", "s2c op10/1", "s2c op1/11", "c2s op8/2", "s2c op8/2"}
	if !slices.Equal(kinds, want) {
		t.Errorf("kinds %q, want %q", kinds, want)
	}
	if len(truth.Messages) != 6 || truth.Messages[1].Conn != 3 || string(truth.Messages[1].Payload) != "hello" {
		t.Errorf("truth %+v", truth.Messages)
	}
	if _, err := AddSession(&truth, 0, msgs, []string{"other"}); err == nil {
		t.Error("a session off the script was accepted")
	}
}

func TestParseFramesErrors(t *testing.T) {
	rsv := masked(capgen.OpText, true, "x")
	rsv.RSV1 = true
	for name, c := range map[string]struct {
		data []byte
		c2s  bool
	}{
		"unmasked c2s":       {plain(capgen.OpText, "x").Bytes(), true},
		"masked s2c":         {masked(capgen.OpText, true, "x").Bytes(), false},
		"rsv":                {rsv.Bytes(), true},
		"cut":                {masked(capgen.OpText, true, "hello").Bytes()[:8], true},
		"header":             {[]byte{0x81}, false},
		"continuation":       {plain(capgen.OpContinuation, "x").Bytes(), false},
		"unfinished":         {capgen.Frame{Opcode: capgen.OpText, Payload: []byte("x")}.Bytes(), false},
		"long length":        {[]byte{0x81, 127, 0, 0}, false},
		"message in message": {capgen.Frames(capgen.Frame{Opcode: capgen.OpText}, plain(capgen.OpText, "x")), false},
	} {
		if _, err := ParseFrames(c.data, nil, c.c2s); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSeqAt(t *testing.T) {
	marks := []Mark{{End: 2, Seq: 7}, {End: 5, Seq: 9}}
	for off, want := range map[int]int64{0: 7, 1: 7, 2: 9, 4: 9, 10: 9} {
		if got := SeqAt(marks, off); got != want {
			t.Errorf("SeqAt(%d) = %d, want %d", off, got, want)
		}
	}
	if SeqAt(nil, 3) != 0 {
		t.Error("SeqAt without marks")
	}
}

func TestMergeKeyLogs(t *testing.T) {
	dir := t.TempDir()
	chrome := filepath.Join(dir, "chromium.keylog")
	shared := "CLIENT_TRAFFIC_SECRET_0 aa 01"
	if err := os.WriteFile(chrome, []byte("# comment\n"+shared+"\nCLIENT_TRAFFIC_SECRET_0 bb 02\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	kl, err := mergeKeyLogs(chrome, []byte(shared+"\nSERVER_TRAFFIC_SECRET_0 cc 03\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := KeyLog{Text: shared + "\nCLIENT_TRAFFIC_SECRET_0 bb 02\nSERVER_TRAFFIC_SECRET_0 cc 03\n", Chromium: 2, Go: 2, Both: 1}
	if kl != want {
		t.Errorf("got %+v, want %+v", kl, want)
	}
	kl, err = mergeKeyLogs(filepath.Join(dir, "missing"), []byte(shared))
	if err != nil || kl.Chromium != 0 || kl.Go != 1 {
		t.Errorf("missing Chromium log: %+v, %v", kl, err)
	}
	if _, err := mergeKeyLogs(chrome, nil); err == nil {
		t.Error("no Go secrets was accepted")
	}
}

func TestPage(t *testing.T) {
	p := Page("t", "<x>", PageSession{URL: `"ws://a/"`, Messages: []string{`say "hi"`}, TimeoutMS: 7})
	for _, want := range []string{`<title>t</title><x></head>`, `await session("ws://a/", ["say \"hi\""], 7);`, `log("DONE");`, `console.log("WSLOG " + s)`} {
		if !strings.Contains(p, want) {
			t.Errorf("page lacks %s:\n%s", want, p)
		}
	}
	if m := PageMessages(); len(m) != 3 || len(m[2]) < 1970 || len(m[2]) > 2100 {
		t.Errorf("page messages %d, %d bytes", len(m), len(m[2]))
	}
}

func TestArgs(t *testing.T) {
	a := Args("/p", []string{"--own"}, "--tail", "URL")
	if a[3] != "--own" || a[4] != "--user-data-dir=/p" || !slices.Equal(a[len(a)-2:], []string{"--tail", "URL"}) ||
		!slices.Contains(a, "--disable-background-networking") {
		t.Errorf("args %q", a)
	}
}

func TestBrowserPageLog(t *testing.T) {
	b := &browser{}
	b.out.Write([]byte("noise\n[1:1:INFO:CONSOLE:6] \"WSLOG ws open ext=\"\"\", source: file:///p.html (6)\n"))
	if b.PageDone() {
		t.Error("done too early")
	}
	b.out.Write([]byte("WSLOG DONE\n"))
	if got := b.PageLog(); !slices.Equal(got, []string{`ws open ext=""`, "DONE"}) || !b.PageDone() {
		t.Errorf("page log %q", got)
	}
}

func TestPoll(t *testing.T) {
	n := 0
	if !poll(time.Second, func() bool { n++; return n == 3 }) || n != 3 {
		t.Errorf("poll stopped at %d", n)
	}
	t0 := time.Now()
	if poll(250*time.Millisecond, func() bool { return false }) || time.Since(t0) > 2*time.Second {
		t.Error("poll of a false condition")
	}
}
