package capgen

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
	"math/big"
	"net"
	"sync"
	"time"
)

// TLSOptions make a scenario run over TLS (wss://): the server and client
// use Go's crypto/tls, the recorded bytes are the TLS records, and the
// client's KeyLogWriter output becomes Recording.KeyLog.
type TLSOptions struct {
	// MinVersion and MaxVersion bound the negotiated version (tls.VersionTLS12,
	// tls.VersionTLS13); zero selects crypto/tls's defaults.
	MinVersion, MaxVersion uint16
	// CipherSuites, for TLS 1.2, are the suites both sides allow. TLS 1.3
	// suites are chosen by crypto/tls (AES-128-GCM on machines with AES
	// hardware).
	CipherSuites []uint16
	// RSA selects an RSA server certificate (needed by TLS_RSA_* and
	// TLS_ECDHE_RSA_* suites); the default is ECDSA P-256.
	RSA bool
	// ServerName is the client's SNI; default "wss.example".
	ServerName string
	// ALPN is offered by the client and accepted by the server; default
	// ["http/1.1"].
	ALPN []string
}

// syncBuffer is a bytes.Buffer safe for the key log writer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// tlsConfigs returns the server and client configurations of o.
func (o *TLSOptions) tlsConfigs(kl *syncBuffer) (srv, cli *tls.Config, err error) {
	cert, err := selfSignedCert(o.RSA)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate: %w", err)
	}
	name := o.ServerName
	if name == "" {
		name = "wss.example"
	}
	alpn := o.ALPN
	if alpn == nil {
		alpn = []string{"http/1.1"}
	}
	srv = &tls.Config{
		Certificates: []tls.Certificate{cert}, MinVersion: o.MinVersion, MaxVersion: o.MaxVersion,
		CipherSuites: o.CipherSuites, NextProtos: alpn,
	}
	cli = &tls.Config{
		ServerName: name, InsecureSkipVerify: true, MinVersion: o.MinVersion, MaxVersion: o.MaxVersion, //nolint:gosec // test peer
		CipherSuites: o.CipherSuites, NextProtos: alpn, KeyLogWriter: kl,
	}
	return srv, cli, nil
}

func selfSignedCert(useRSA bool) (tls.Certificate, error) {
	var key, pub any
	if useRSA {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return tls.Certificate{}, err
		}
		key, pub = k, &k.PublicKey
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, err
		}
		key, pub = k, &k.PublicKey
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wss.example"},
		DNSNames:  []string{"wss.example"},
		NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// tlsListener turns the recording listener's connections into TLS server
// connections whose plaintext writes are logged too.
type tlsListener struct {
	net.Listener
	cfg   *tls.Config
	plain *writeLog
}

// Accept returns the next connection as a TLS server connection.
func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recConn{Conn: tls.Server(c, l.cfg), side: Server, log: l.plain}, nil
}
