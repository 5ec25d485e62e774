package tlsdecrypt

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The OpenSSL tests run `openssl s_server -rev` (which answers every line
// reversed) and `openssl s_client` over 127.0.0.1 through a recording
// relay, with the client's -keylogfile. They skip when openssl is missing.

// relay accepts connections on ln, forwards each to addr and records its
// bytes; conns[i] is the i-th connection.
type relay struct {
	mu    sync.Mutex
	conns [][]piece
	wg    sync.WaitGroup
}

func (r *relay) serve(ln net.Listener, addr string) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", addr)
		if err != nil {
			c.Close()
			return
		}
		r.mu.Lock()
		idx := len(r.conns)
		r.conns = append(r.conns, nil)
		r.mu.Unlock()
		copyDir := func(dst, src net.Conn, dir Dir) {
			defer r.wg.Done()
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if n > 0 {
					r.mu.Lock()
					r.conns[idx] = append(r.conns[idx], piece{dir, bytes.Clone(buf[:n])})
					r.mu.Unlock()
					if _, werr := dst.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		}
		r.wg.Add(2)
		go copyDir(s, c, Client)
		go copyDir(c, s, Server)
	}
}

type opensslEnv struct {
	dir, cert, key string
}

func newOpenSSLEnv(t *testing.T) *opensslEnv {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed")
	}
	certs(t)
	dir := t.TempDir()
	e := &opensslEnv{dir: dir, cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
	kb, err := x509.MarshalPKCS8PrivateKey(rsaCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rsaCert.Certificate[0]}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// server starts s_server for n connections and returns its address.
func (e *opensslEnv) server(t *testing.T, n int, rev bool, args ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	all := []string{"s_server", "-accept", addr, "-cert", e.cert, "-key", e.key, "-naccept", fmt.Sprint(n)}
	if rev {
		all = append(all, "-rev")
	}
	cmd := exec.Command("openssl", append(all, args...)...)
	stdin, err := cmd.StdinPipe() // kept open: without -rev s_server sends what it reads
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close() })
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			if strings.Contains(sc.Text(), "ACCEPT") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("s_server did not start")
	}
	return addr
}

// client runs s_client against addr, writing each line (a line "k" or "K"
// is s_client's key update command) and waiting for its reversal; it
// returns the application bytes the client sent. With sessOut set, the
// client is kept open until it has written its session there (a TLS 1.3
// ticket arrives after the handshake: a client closed first writes none,
// and the next one, told to resume from it, would not even connect).
func (e *opensslEnv) client(t *testing.T, addr string, rev bool, lines []string, sessOut string, args ...string) []byte {
	t.Helper()
	all := append([]string{"s_client", "-connect", addr, "-servername", "wss.test"}, args...)
	cmd := exec.Command("openssl", all...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var out bytes.Buffer
	cmd.Stdout = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return out.Write(p)
	})
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Wait() }()
	var sent []byte
	for _, l := range lines {
		if _, err := io.WriteString(in, l+"\n"); err != nil {
			t.Fatal(err)
		}
		if l == "k" || l == "K" {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		sent = append(sent, l+"\n"...)
		if !rev {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		rev := []rune(l)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			ok := strings.Contains(out.String(), string(rev))
			mu.Unlock()
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no answer to %q", l)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if sessOut != "" {
		deadline := time.Now().Add(15 * time.Second)
		for {
			if fi, err := os.Stat(sessOut); err == nil && fi.Size() > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("s_client wrote no session to %s", sessOut)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	in.Close()
	return sent
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestOpenSSL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs openssl s_server and s_client (about 20 s)")
	}
	lines := []string{"GET /ws HTTP/1.1", strings.Repeat("x", 3000), "hello wss", "last line"}
	tests := []struct {
		name       string
		srv, cli   []string
		conns      int    // connections: the last one is checked for resumption
		version    uint16 // expected
		suite      uint16
		keyUpdates bool
		early      bool
	}{
		{name: "tls13-aes256", srv: []string{"-ciphersuites", "TLS_AES_256_GCM_SHA384"}, version: VersionTLS13, suite: 0x1302},
		{name: "tls13-chacha-keyupdate", srv: []string{"-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"}, version: VersionTLS13, suite: 0x1303, keyUpdates: true},
		{name: "tls13-aes128-keyupdate", srv: []string{"-ciphersuites", "TLS_AES_128_GCM_SHA256"}, version: VersionTLS13, suite: 0x1301, keyUpdates: true},
		{name: "tls12-cbc-sha384-etm", srv: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES256-SHA384"}, version: VersionTLS12, suite: 0xC028},
		{name: "tls12-cbc-sha1-etm", srv: []string{"-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA"}, version: VersionTLS12, suite: 0xC013},
		{name: "tls12-cbc-sha256-no-etm", srv: []string{"-tls1_2", "-cipher", "AES128-SHA256", "-no_etm"}, version: VersionTLS12, suite: 0x003C},
		{name: "tls12-dhe-gcm", srv: []string{"-tls1_2", "-cipher", "DHE-RSA-AES256-GCM-SHA384"}, version: VersionTLS12, suite: 0x009F},
		{name: "tls12-dhe-chacha", srv: []string{"-tls1_2", "-cipher", "DHE-RSA-CHACHA20-POLY1305"}, version: VersionTLS12, suite: 0xCCAA},
		{name: "tls12-resume-session-id", srv: []string{"-tls1_2", "-no_ticket", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"}, conns: 2, version: VersionTLS12, suite: 0xC02F},
		{name: "tls12-resume-ticket", srv: []string{"-tls1_2", "-cipher", "ECDHE-RSA-CHACHA20-POLY1305"}, conns: 2, version: VersionTLS12, suite: 0xCCA8},
		{name: "tls13-resume-early-data", srv: []string{"-early_data", "-max_early_data", "16384", "-no_anti_replay"}, conns: 2, version: VersionTLS13, suite: 0x1302, early: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newOpenSSLEnv(t)
			n := max(tt.conns, 1)
			rev := !tt.early // s_server cannot answer reversed with -early_data
			srvAddr := e.server(t, n, rev, tt.srv...)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			r := &relay{}
			go r.serve(ln, srvAddr)
			keylog := filepath.Join(e.dir, "keys.log")
			sess := filepath.Join(e.dir, "sess.pem")
			var sent [][]byte
			for i := range n {
				args := []string{"-keylogfile", keylog}
				waitSess := ""
				if n > 1 && i == 0 {
					args = append(args, "-sess_out", sess)
					waitSess = sess
				}
				if n > 1 && i > 0 {
					args = append(args, "-sess_in", sess)
				}
				cl := lines
				if tt.keyUpdates {
					cl = []string{lines[0], "k", lines[1], "K", lines[2], "k", lines[3]}
				}
				earlySent := []byte{}
				if tt.early && i > 0 {
					earlySent = []byte("early data: GET / HTTP/1.1\r\n\r\n")
					ef := filepath.Join(e.dir, "early.txt")
					if err := os.WriteFile(ef, earlySent, 0o600); err != nil {
						t.Fatal(err)
					}
					args = append(args, "-early_data", ef)
				}
				s := e.client(t, ln.Addr().String(), rev, cl, waitSess, args...)
				sent = append(sent, append(earlySent, s...))
				time.Sleep(100 * time.Millisecond) // let s_server take its session ticket round trip
			}
			ln.Close()
			r.wg.Wait()
			kb, err := os.ReadFile(keylog)
			if err != nil {
				t.Fatal(err)
			}
			kl := keyLogOf(t, kb)
			if len(r.conns) != n {
				t.Fatalf("%d connections relayed, want %d", len(r.conns), n)
			}
			for i, pieces := range r.conns {
				col, s := decode(kl, pieces, 0)
				for _, p := range col.problems {
					if p.Kind != ProblemAlert || !p.CloseNotify {
						t.Errorf("conn %d: problem %+v", i, p)
					}
				}
				if !bytes.Equal(col.plain[Client], sent[i]) {
					t.Errorf("conn %d: client plaintext %q, want %q", i, col.plain[Client], sent[i])
				}
				for _, l := range lines {
					if !rev {
						break
					}
					rev := []byte(l)
					for a, b := 0, len(rev)-1; a < b; a, b = a+1, b-1 {
						rev[a], rev[b] = rev[b], rev[a]
					}
					if !bytes.Contains(col.plain[Server], rev) {
						t.Errorf("conn %d: server plaintext lacks %.20q", i, rev)
					}
				}
				in := s.Info()
				if in.Version != tt.version || in.CipherSuite != tt.suite || in.SNI != "wss.test" || !in.Decrypted {
					t.Errorf("conn %d: info %+v", i, in)
				}
				if i > 0 && !in.Resumed {
					t.Errorf("conn %d: not resumed", i)
				}
				if tt.keyUpdates && in.KeyUpdates < 3 {
					t.Errorf("conn %d: %d key updates seen", i, in.KeyUpdates)
				}
				if tt.early && i > 0 && !in.EarlyData {
					t.Errorf("conn %d: early data not accepted", i)
				}
			}
		})
	}
}
