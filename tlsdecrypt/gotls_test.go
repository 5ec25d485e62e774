//go:debug tlsrsakex=1

package tlsdecrypt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

// piece is one recorded read or write of the client's raw connection.
type piece struct {
	dir  Dir
	data []byte
}

// logConn records the client's raw TLS bytes in both directions.
type logConn struct {
	net.Conn
	mu     *sync.Mutex
	pieces *[]piece
}

func (c *logConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.pieces = append(*c.pieces, piece{Client, bytes.Clone(p)})
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *logConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		*c.pieces = append(*c.pieces, piece{Server, bytes.Clone(p[:n])})
		c.mu.Unlock()
	}
	return n, err
}

var (
	certOnce sync.Once
	rsaCert  tls.Certificate
	ecCert   tls.Certificate
)

func selfSigned(t testing.TB, key any, pub any) tls.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wss.test"},
		DNSNames: []string{"wss.test"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<33, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func certs(t testing.TB) {
	certOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		rsaCert = selfSigned(t, rk, &rk.PublicKey)
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		ecCert = selfSigned(t, ek, &ek.PublicKey)
	})
}

// conversation is what a recorded connection carried.
type conversation struct {
	pieces []piece
	sent   [2][]byte // application bytes each side wrote
	state  tls.ConnectionState
}

// messages the client sends; the server answers each with its reversal
// followed by a few extra bytes.
var script = [][]byte{
	[]byte("GET /ws HTTP/1.1\r\nHost: wss.test\r\n\r\n"),
	bytes.Repeat([]byte("0123456789abcdef"), 3000), // several records
	{0},
	[]byte("last"),
}

func reply(m []byte) []byte {
	r := make([]byte, len(m)+7)
	for i, c := range m {
		r[len(m)-1-i] = c
	}
	copy(r[len(m):], "-answer")
	return r
}

// runGoTLS runs one client/server conversation over 127.0.0.1 with Go's
// crypto/tls and returns the raw bytes, with the key log in kl.
func runGoTLS(t testing.TB, srv, cli *tls.Config, kl io.Writer) conversation {
	t.Helper()
	certs(t)
	if srv.Certificates == nil {
		srv.Certificates = []tls.Certificate{rsaCert}
	}
	cli.InsecureSkipVerify = true
	cli.ServerName = "wss.test"
	cli.KeyLogWriter = kl
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	var conv conversation
	var mu sync.Mutex
	lc := &logConn{Conn: a, mu: &mu, pieces: &conv.pieces}
	errc := make(chan error, 1)
	go func() {
		s := tls.Server(b, srv)
		defer b.Close()
		for _, m := range script {
			buf := make([]byte, len(m))
			if _, err := io.ReadFull(s, buf); err != nil {
				errc <- fmt.Errorf("server read: %w", err)
				return
			}
			if _, err := s.Write(reply(buf)); err != nil {
				errc <- fmt.Errorf("server write: %w", err)
				return
			}
		}
		_, _ = io.Copy(io.Discard, s) // until the client's close_notify
		errc <- nil
	}()
	c := tls.Client(lc, cli)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	for _, m := range script {
		if _, err := c.Write(m); err != nil {
			t.Fatalf("client write: %v", err)
		}
		conv.sent[Client] = append(conv.sent[Client], m...)
		want := reply(m)
		got := make([]byte, len(want))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatalf("client read: %v", err)
		}
		conv.sent[Server] = append(conv.sent[Server], want...)
	}
	conv.state = c.ConnectionState()
	c.Close()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	conv.pieces = append([]piece(nil), conv.pieces...)
	return conv
}

// collector is a Handler that keeps everything.
type collector struct {
	plain    [2][]byte
	problems []Problem
}

func (c *collector) Plaintext(dir Dir, data []byte) { c.plain[dir] = append(c.plain[dir], data...) }
func (c *collector) Problem(p Problem)              { c.problems = append(c.problems, p) }

func (c *collector) count(k ProblemKind) int {
	n := 0
	for _, p := range c.problems {
		if p.Kind == k {
			n++
		}
	}
	return n
}

// decode feeds the pieces, each split in pieces of at most split bytes
// (0: as recorded), to a new session.
func decode(kl *KeyLog, pieces []piece, split int) (*collector, *Session) {
	col := &collector{}
	s := NewSession(kl, col)
	for _, p := range pieces {
		d := p.data
		for len(d) > 0 {
			n := len(d)
			if split > 0 {
				n = min(n, split)
			}
			s.Feed(p.dir, d[:n])
			d = d[n:]
		}
	}
	s.Close()
	return col, s
}

func keyLogOf(t testing.TB, b []byte) *KeyLog {
	t.Helper()
	kl := NewKeyLog()
	if err := kl.AddBytes(b, "test"); err != nil {
		t.Fatal(err)
	}
	return kl
}

func TestDecryptGoTLS(t *testing.T) {
	certs(t)
	tests := []struct {
		name  string
		ver   uint16
		suite uint16
		ec    bool
	}{
		{"tls13", tls.VersionTLS13, 0, false},
		{"tls12-ecdhe-aes128-gcm", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, false},
		{"tls12-ecdhe-aes256-gcm", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, false},
		{"tls12-ecdsa-aes256-gcm", tls.VersionTLS12, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, true},
		{"tls12-chacha", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, false},
		{"tls12-ecdhe-aes128-cbc-sha", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, false},
		{"tls12-ecdhe-aes256-cbc-sha", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, false},
		{"tls12-ecdhe-aes128-cbc-sha256", tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, false},
		{"tls12-rsa-aes128-gcm", tls.VersionTLS12, tls.TLS_RSA_WITH_AES_128_GCM_SHA256, false},
		{"tls12-rsa-aes256-cbc-sha", tls.VersionTLS12, tls.TLS_RSA_WITH_AES_256_CBC_SHA, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var kl bytes.Buffer
			srv := &tls.Config{MinVersion: tt.ver, MaxVersion: tt.ver, NextProtos: []string{"http/1.1"}}
			if tt.ec {
				srv.Certificates = []tls.Certificate{ecCert}
			}
			cli := &tls.Config{MinVersion: tt.ver, MaxVersion: tt.ver, NextProtos: []string{"h2", "http/1.1"}}
			if tt.suite != 0 {
				srv.CipherSuites = []uint16{tt.suite}
				cli.CipherSuites = []uint16{tt.suite}
			}
			conv := runGoTLS(t, srv, cli, &kl)
			for _, split := range []int{0, 1, 4, 5, 6, 7, 333, 1000, 1449} {
				col, s := decode(keyLogOf(t, kl.Bytes()), conv.pieces, split)
				checkConv(t, col, s, conv)
			}
		})
	}
}

func checkConv(t *testing.T, col *collector, s *Session, conv conversation) {
	t.Helper()
	for _, p := range col.problems {
		if p.Kind != ProblemAlert || !p.CloseNotify {
			t.Errorf("problem: %+v", p)
		}
	}
	for d := range 2 {
		if !bytes.Equal(col.plain[d], conv.sent[d]) {
			t.Errorf("dir %d: got %d plaintext bytes, want %d", d, len(col.plain[d]), len(conv.sent[d]))
		}
	}
	in := s.Info()
	if in.Version != conv.state.Version || in.CipherSuite != conv.state.CipherSuite {
		t.Errorf("info version %x suite %x, want %x %x", in.Version, in.CipherSuite, conv.state.Version, conv.state.CipherSuite)
	}
	if in.SNI != "wss.test" || in.ALPN != conv.state.NegotiatedProtocol || !in.Decrypted || in.Reason != "" {
		t.Errorf("info %+v, want SNI wss.test, ALPN %q, decrypted", in, conv.state.NegotiatedProtocol)
	}
}

// TestSharedScratch decodes two conversations (TLS 1.3 with SHA-256 and
// TLS 1.2 with SHA-384, so that both of the Scratch's kdfs are used) with
// sessions that share one Scratch, their pieces interleaved.
func TestSharedScratch(t *testing.T) {
	var kl13, kl12 bytes.Buffer
	conv13 := runGoTLS(t, &tls.Config{MinVersion: tls.VersionTLS13}, &tls.Config{}, &kl13)
	suite := []uint16{tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}
	conv12 := runGoTLS(t, &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: suite},
		&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: suite}, &kl12)
	var sc Scratch
	convs := []conversation{conv13, conv12}
	cols := []*collector{{}, {}}
	sessions := []*Session{NewSession(keyLogOf(t, kl13.Bytes()), cols[0]), NewSession(keyLogOf(t, kl12.Bytes()), cols[1])}
	for i, s := range sessions {
		s.SetScratch(&sc)
		if s.sc != &sc {
			t.Fatalf("session %d does not use the shared Scratch", i)
		}
	}
	for i := 0; i < len(conv13.pieces) || i < len(conv12.pieces); i++ {
		for c, conv := range convs {
			if i < len(conv.pieces) {
				sessions[c].Feed(conv.pieces[i].dir, conv.pieces[i].data)
			}
		}
	}
	for c, s := range sessions {
		s.Close()
		checkConv(t, cols[c], s, convs[c])
	}
	if sc.kdf[0] == nil || sc.kdf[1] == nil {
		t.Errorf("kdfs of the shared Scratch: %v", sc.kdf)
	}
}
