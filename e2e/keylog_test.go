package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
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
	cert := selfSignedCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
			defer cancel()
			for range 10 {
				typ, p, err := c.Read(ctx)
				if err != nil {
					return
				}
				if err := c.Write(ctx, typ, append([]byte("echo: "), p...)); err != nil {
					return
				}
			}
		}),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}},
	}
	go func() { _ = srv.ServeTLS(ln, "", "") }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	port := ln.Addr().(*net.TCPAddr).Port
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

// selfSignedCert returns an ECDSA certificate for 127.0.0.1.
func selfSignedCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
