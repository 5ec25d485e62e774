package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsdissect/wsdissect/internal/capture"
)

// These tests run the built wsdissect binary as `wsdissect live -i lo ...`
// against real WebSocket traffic on 127.0.0.1. They need root (to capture)
// and libpcap (for the capture filter), and skip without them.

// needLiveCapture skips the test unless the binary will be able to capture
// on lo with a filter.
func needLiveCapture(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("live capture tests run on Linux only")
	}
	if os.Geteuid() != 0 {
		t.Skip("live capture needs root (or CAP_NET_RAW); skipping the end-to-end live test")
	}
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skip(`no loopback interface "lo"; skipping the end-to-end live test`)
	}
	if _, err := capture.LibpcapVersion(); err != nil {
		t.Skipf("libpcap is not loadable (%v); skipping the end-to-end live test (apt install libpcap0.8)", err)
	}
}

// wsdissectBinary builds the wsdissect binary into a temporary directory
// (the build cache makes the second build cheap).
func wsdissectBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go") //lint:ignore SA1019 only a fallback when go is not on PATH: the test runs under this toolchain
	}
	path := filepath.Join(t.TempDir(), "wsdissect")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", path, "github.com/wsdissect/wsdissect").CombinedOutput()
	if err != nil {
		t.Fatalf("building wsdissect: %v\n%s", err, out)
	}
	return path
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// liveRun is a running `wsdissect live`.
type liveRun struct {
	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	ready  chan struct{} // closed when stderr says "capturing on"
	exited chan struct{} // closed when the process has exited
	err    error         // Wait's result, set before exited is closed
}

// startLive starts wsdissect live with args and waits until it is capturing.
func startLive(t *testing.T, args ...string) *liveRun {
	t.Helper()
	bin := wsdissectBinary(t)
	cmd := exec.Command(bin, append([]string{"live"}, args...)...)
	r := &liveRun{cmd: cmd, stdout: &syncBuffer{}, stderr: &syncBuffer{}, ready: make(chan struct{}), exited: make(chan struct{})}
	cmd.Stdout = r.stdout
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			_, _ = r.stderr.Write([]byte(line + "\n"))
			if !signalled && strings.Contains(line, "capturing on") {
				signalled = true
				close(r.ready)
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		r.err = cmd.Wait()
		_ = pw.Close()
		close(r.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-r.exited:
		default:
			_ = cmd.Process.Kill()
			select {
			case <-r.exited:
			case <-time.After(5 * time.Second):
			}
		}
	})
	select {
	case <-r.ready:
	case <-r.exited:
		time.Sleep(50 * time.Millisecond) // let the stderr copier finish
		t.Fatalf("wsdissect live exited before capturing: %v\nstderr:\n%s", r.err, r.stderr.String())
	case <-time.After(3 * time.Second):
		// No readiness line: give the capture a moment to start anyway.
	}
	time.Sleep(300 * time.Millisecond)
	return r
}

// stop sends SIGINT and waits for the exit; it returns the exit error.
func (r *liveRun) stop(t *testing.T) error {
	t.Helper()
	if err := r.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("sending SIGINT: %v", err)
	}
	select {
	case <-r.exited:
		time.Sleep(50 * time.Millisecond) // let the stderr copier finish
		return r.err
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		t.Fatalf("wsdissect did not exit within 10s of SIGINT\nstderr:\n%s", r.stderr.String())
		return nil
	}
}

// msgRecord is the part of a JSON message record the tests check.
type msgRecord struct {
	Type       string  `json:"type"`
	Dir        string  `json:"dir"`
	Opcode     int     `json:"opcode"`
	OpcodeName string  `json:"opcode_name"`
	Text       *string `json:"text"`
	B64        *string `json:"b64"`
	Len        uint64  `json:"len"`
	Frames     int     `json:"frames"`
	Compressed bool    `json:"compressed"`
	raw        string
}

func (m msgRecord) payload() ([]byte, error) {
	switch {
	case m.Text != nil:
		return []byte(*m.Text), nil
	case m.B64 != nil:
		return base64.StdEncoding.DecodeString(*m.B64)
	}
	return nil, nil
}

// messages parses NDJSON output and returns its message records.
func messages(t *testing.T, out string) []msgRecord {
	t.Helper()
	var msgs []msgRecord
	for i, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var m msgRecord
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("stdout line %d is not JSON: %v\n%s", i+1, err, line)
			continue
		}
		if m.Type != "message" {
			continue
		}
		m.raw = line
		msgs = append(msgs, m)
	}
	return msgs
}

// wsServer serves WebSocket on 127.0.0.1 and runs handle for each
// connection.
func wsServer(t *testing.T, handle func(ctx context.Context, c *websocket.Conn)) int {
	t.Helper()
	return wsServerTLS(t, nil, handle)
}

// wsServerTLS is wsServer over TLS with cfg (in clear when cfg is nil).
func wsServerTLS(t *testing.T, cfg *tls.Config, handle func(ctx context.Context, c *websocket.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
				CompressionMode:      websocket.CompressionContextTakeover,
				CompressionThreshold: 64,
			})
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			defer cancel()
			handle(ctx, c)
		}),
		TLSConfig: cfg,
	}
	go func() {
		if cfg != nil {
			_ = srv.ServeTLS(ln, "", "")
		} else {
			_ = srv.Serve(ln)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// dial opens a compressing WebSocket client connection to port.
func dial(ctx context.Context, t *testing.T, port int) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(ctx, fmt.Sprintf("ws://127.0.0.1:%d/chat", port), &websocket.DialOptions{
		CompressionMode:      websocket.CompressionContextTakeover,
		CompressionThreshold: 64,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return c
}

// readUntilClosed reads (and drops) messages until the connection ends, so
// that pongs and the closing handshake are processed.
func readUntilClosed(ctx context.Context, c *websocket.Conn) {
	for range 1000 {
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
	}
}

// expected is one message the capture must show exactly once.
type expected struct {
	name       string
	dir        string
	opcode     int
	payload    []byte
	compressed bool
	minFrames  int
}

func TestLiveEndToEnd(t *testing.T) {
	needLiveCapture(t)
	const (
		serverText  = "hello from the server"
		clientText  = "hello from the client \u00e9\u00e8"
		closeReason = "bye"
	)
	var (
		serverBinary = []byte{0x00, 0x01, 0x02, 0xfe, 0xff, 0x80, 0x7f}
		serverBig    = strings.Repeat("server says: compress me please. ", 40)
		clientBinary = []byte{0xde, 0xad, 0xbe, 0xef, 0x00, 0x10}
		clientBig    = []byte(strings.Repeat("client data, very compressible; ", 50))
		clientFrags  = []string{"frag-one ", "frag-two ", "frag-three"}
	)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	serverDone := make(chan error, 1)
	port := wsServer(t, func(ctx context.Context, c *websocket.Conn) {
		err := errors.Join(
			c.Write(ctx, websocket.MessageText, []byte(serverText)),
			c.Write(ctx, websocket.MessageBinary, serverBinary),
			c.Write(ctx, websocket.MessageText, []byte(serverBig)),
		)
		readUntilClosed(ctx, c) // answers the client's ping and close
		serverDone <- err
	})
	run := startLive(t, "-i", "lo", "--json", "--messages", "tcp", "port", fmt.Sprint(port))

	c := dial(ctx, t, port)
	for i, want := range [][]byte{[]byte(serverText), serverBinary, []byte(serverBig)} {
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("client read %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("client read %d = %q, want %q", i, got, want)
		}
	}
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		readUntilClosed(ctx, c) // processes the pong and the close reply
	}()
	if err := c.Write(ctx, websocket.MessageText, []byte(clientText)); err != nil {
		t.Fatalf("write text: %v", err)
	}
	if err := c.Write(ctx, websocket.MessageBinary, clientBinary); err != nil {
		t.Fatalf("write binary: %v", err)
	}
	if err := c.Write(ctx, websocket.MessageBinary, clientBig); err != nil {
		t.Fatalf("write compressed: %v", err)
	}
	w, err := c.Writer(ctx, websocket.MessageText)
	if err != nil {
		t.Fatalf("writer: %v", err)
	}
	for _, f := range clientFrags { // each Write is a frame (below the compression threshold)
		if _, err := w.Write([]byte(f)); err != nil {
			t.Fatalf("fragment write: %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("fragment close: %v", err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := c.Close(websocket.StatusNormalClosure, closeReason); err != nil {
		t.Fatalf("close: %v", err)
	}
	<-readerDone
	select {
	case err := <-serverDone:
		if err != nil {
			t.Fatalf("server: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("server did not finish")
	}

	time.Sleep(700 * time.Millisecond) // let the last packets through the capture
	exitErr := run.stop(t)
	stdout, stderr := run.stdout.String(), run.stderr.String()
	t.Logf("stderr:\n%s", stderr)
	if exitErr != nil {
		t.Errorf("wsdissect exited with %v, want status 0", exitErr)
	}
	if !strings.Contains(stderr, "packets captured") {
		t.Errorf("stderr has no summary line containing %q", "packets captured")
	}

	msgs := messages(t, stdout)
	want := []expected{
		{name: "server text", dir: "s2c", opcode: 1, payload: []byte(serverText), minFrames: 1},
		{name: "server binary", dir: "s2c", opcode: 2, payload: serverBinary, minFrames: 1},
		{name: "server compressed", dir: "s2c", opcode: 1, payload: []byte(serverBig), compressed: true, minFrames: 1},
		{name: "client text", dir: "c2s", opcode: 1, payload: []byte(clientText), minFrames: 1},
		{name: "client binary", dir: "c2s", opcode: 2, payload: clientBinary, minFrames: 1},
		{name: "client compressed", dir: "c2s", opcode: 2, payload: clientBig, compressed: true, minFrames: 1},
		{name: "client fragmented", dir: "c2s", opcode: 1, payload: []byte(strings.Join(clientFrags, "")), minFrames: len(clientFrags)},
		{name: "ping", dir: "c2s", opcode: 9, payload: []byte("1"), minFrames: 1},
		{name: "pong", dir: "s2c", opcode: 10, payload: []byte("1"), minFrames: 1},
	}
	matched := make([]bool, len(msgs))
	for _, w := range want {
		var hits []int
		for i, m := range msgs {
			p, err := m.payload()
			if err != nil {
				t.Errorf("bad payload in %s: %v", m.raw, err)
				continue
			}
			if m.Dir == w.dir && m.Opcode == w.opcode && bytes.Equal(p, w.payload) {
				hits = append(hits, i)
			}
		}
		if len(hits) != 1 {
			t.Errorf("%s: found %d times, want exactly once", w.name, len(hits))
			continue
		}
		m := msgs[hits[0]]
		matched[hits[0]] = true
		if m.Len != uint64(len(w.payload)) {
			t.Errorf("%s: len %d, want %d: %s", w.name, m.Len, len(w.payload), m.raw)
		}
		if m.Compressed != w.compressed {
			t.Errorf("%s: compressed %v, want %v: %s", w.name, m.Compressed, w.compressed, m.raw)
		}
		if m.Frames < w.minFrames {
			t.Errorf("%s: %d frames, want at least %d: %s", w.name, m.Frames, w.minFrames, m.raw)
		}
		if name := map[int]string{1: "text", 2: "binary", 9: "ping", 10: "pong"}[w.opcode]; m.OpcodeName != name {
			t.Errorf("%s: opcode_name %q, want %q", w.name, m.OpcodeName, name)
		}
	}
	// The closing handshake: one close message each way, the client's with
	// its reason.
	for _, dir := range []string{"c2s", "s2c"} {
		var hits []int
		for i, m := range msgs {
			if m.Dir == dir && m.Opcode == 8 {
				hits = append(hits, i)
			}
		}
		if len(hits) != 1 {
			t.Errorf("close %s: found %d times, want exactly once", dir, len(hits))
			continue
		}
		m := msgs[hits[0]]
		matched[hits[0]] = true
		if m.OpcodeName != "close" {
			t.Errorf("close %s: opcode_name %q, want close", dir, m.OpcodeName)
		}
		if dir == "c2s" {
			p, _ := m.payload()
			if !strings.Contains(m.raw, closeReason) && !bytes.Contains(p, []byte(closeReason)) {
				t.Errorf("client close record lacks the reason %q: %s", closeReason, m.raw)
			}
		}
	}
	for i, m := range msgs {
		if !matched[i] {
			t.Errorf("unexpected message record: %s", m.raw)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", stdout)
	}
}

func TestLiveFilterExcludesOtherPort(t *testing.T) {
	needLiveCapture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	echo := func(ctx context.Context, c *websocket.Conn) {
		for range 100 {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	}
	shown := wsServer(t, echo)
	hidden := wsServer(t, echo)
	run := startLive(t, "-i", "lo", "--json", "--messages", "tcp", "port", fmt.Sprint(shown))

	talk := func(port int, text string) {
		c := dial(ctx, t, port)
		if err := c.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
			t.Fatalf("write to port %d: %v", port, err)
		}
		if _, got, err := c.Read(ctx); err != nil || string(got) != text {
			t.Fatalf("echo from port %d = %q, %v", port, got, err)
		}
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatalf("close on port %d: %v", port, err)
		}
	}
	hiddenText := fmt.Sprintf("must not be captured %d", hidden)
	shownText := fmt.Sprintf("must be captured %d", shown)
	talk(hidden, hiddenText)
	talk(shown, shownText)

	time.Sleep(700 * time.Millisecond)
	exitErr := run.stop(t)
	stdout, stderr := run.stdout.String(), run.stderr.String()
	if exitErr != nil {
		t.Errorf("wsdissect exited with %v, want status 0\nstderr:\n%s", exitErr, stderr)
	}
	if strings.Contains(stdout, hiddenText) {
		t.Errorf("traffic on port %d (outside the filter) was shown:\n%s", hidden, stdout)
	}
	msgs := messages(t, stdout)
	n := 0
	for _, m := range msgs {
		p, _ := m.payload()
		switch {
		case string(p) == shownText:
			n++
		case bytes.Contains(p, []byte("must not be captured")):
			t.Errorf("message from the filtered-out port: %s", m.raw)
		}
	}
	if n != 2 { // the client's message and the server's echo
		t.Errorf("message on port %d shown %d times, want 2 (one each way)\nstdout:\n%s", shown, n, stdout)
	}
}

// TestLiveCountAndWrite checks that -c stops after that many records by
// itself, and that -w saves the raw packets as a capture that `read`
// decodes to the same messages.
func TestLiveCountAndWrite(t *testing.T) {
	needLiveCapture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	port := wsServer(t, func(ctx context.Context, c *websocket.Conn) {
		for range 10 {
			typ, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			if err := c.Write(ctx, typ, p); err != nil {
				return
			}
		}
	})
	saved := filepath.Join(t.TempDir(), "saved.pcap")
	run := startLive(t, "-i", "lo", "--json", "--messages", "-c", "2", "-w", saved, "tcp", "port", fmt.Sprint(port))
	c := dial(ctx, t, port)
	text := fmt.Sprintf("count me %d", port)
	if err := c.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		t.Fatal(err)
	}
	if _, got, err := c.Read(ctx); err != nil || string(got) != text {
		t.Fatalf("echo = %q, %v", got, err)
	}
	select {
	case <-run.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("-c 2 did not stop wsdissect after two records\nstdout:\n%s", run.stdout.String())
	}
	time.Sleep(50 * time.Millisecond)
	if run.err != nil {
		t.Errorf("exit: %v\nstderr:\n%s", run.err, run.stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(run.stdout.String()), "\n")
	if len(lines) != 3 { // the conn record and two messages
		t.Errorf("-c 2 printed %d lines, want the conn record and 2 messages:\n%s", len(lines), run.stdout.String())
	}
	out, err := exec.Command(wsdissectBinary(t), "read", "--json", "--messages", saved).Output()
	if err != nil {
		t.Fatalf("reading the -w capture: %v", err)
	}
	if n := strings.Count(string(out), base64.StdEncoding.EncodeToString([]byte(text))) + strings.Count(string(out), `"text":"`+text+`"`); n != 2 {
		t.Errorf("the -w capture holds the message %d times, want 2:\n%s", n, out)
	}
}
