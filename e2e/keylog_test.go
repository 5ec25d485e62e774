package e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/wsdissect/wsdissect/internal/chromerec"
)

// TestLiveKeyLogFollowed runs `wsdissect live --keylog FILE` where FILE
// does not exist yet, as when a browser is started with SSLKEYLOGFILE
// after the capture: wss:// connections opened later, whose clients append
// their secrets to FILE during their handshakes, are decrypted (TLS 1.3
// and 1.2). Before, the key log was read once at the start and they were
// listed as TLS without a key.
func TestLiveKeyLogFollowed(t *testing.T) {
	needLiveCapture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cert, err := chromerec.SelfSigned([]string{"127.0.0.1"}, net.IPv4(127, 0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	port := wsServerTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
		func(ctx context.Context, c *websocket.Conn) {
			for range 10 {
				typ, p, err := c.Read(ctx)
				if err != nil {
					return
				}
				if err := c.Write(ctx, typ, append([]byte("echo: "), p...)); err != nil {
					return
				}
			}
		})
	keys := filepath.Join(t.TempDir(), "keys.log")
	run := startLive(t, "-i", "lo", "--json", "--messages", "--keylog", keys, "tcp", "port", fmt.Sprint(port))

	kf, err := os.OpenFile(keys, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer kf.Close()
	texts := map[uint16]string{tls.VersionTLS13: "secret over TLS 1.3", tls.VersionTLS12: "secret over TLS 1.2"}
	for _, ver := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
			InsecureSkipVerify: true, KeyLogWriter: kf, MinVersion: ver, MaxVersion: ver}}}
		c, _, err := websocket.Dial(ctx, fmt.Sprintf("wss://127.0.0.1:%d/chat", port), &websocket.DialOptions{HTTPClient: hc})
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if err := c.Write(ctx, websocket.MessageText, []byte(texts[ver])); err != nil {
			t.Fatalf("write: %v", err)
		}
		if _, got, err := c.Read(ctx); err != nil || string(got) != "echo: "+texts[ver] {
			t.Fatalf("echo = %q, %v", got, err)
		}
		if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
	time.Sleep(700 * time.Millisecond)
	exitErr := run.stop(t)
	stdout, stderr := run.stdout.String(), run.stderr.String()
	if exitErr != nil {
		t.Errorf("wsdissect exited with %v, want status 0\nstderr:\n%s", exitErr, stderr)
	}
	if !strings.Contains(stderr, "does not exist yet") {
		t.Errorf("stderr does not say the key log is followed before it exists:\n%s", stderr)
	}
	got := map[string]int{}
	for _, m := range messages(t, stdout) {
		p, _ := m.payload()
		got[m.Dir+" "+string(p)]++
	}
	for _, text := range texts {
		for _, want := range []string{"c2s " + text, "s2c echo: " + text} {
			if got[want] != 1 {
				t.Errorf("%q decrypted %d times, want once", want, got[want])
			}
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
}
