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
	"encoding/binary"
	"fmt"
	"io"
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

// SyncBuffer is a bytes.Buffer safe for concurrent writers: a
// KeyLogWriter shared by several TLS connections, or a child process's
// output. The zero value is an empty buffer.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Bytes returns a copy of what was written so far.
func (s *SyncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// Configs returns the server and client configurations of o, with a fresh
// self-signed certificate; the client writes its key log to keyLog.
// Generators that drive crypto/tls themselves (HTTP/2 over TLS, say) use it.
func (o *TLSOptions) Configs(keyLog io.Writer) (srv, cli *tls.Config, err error) {
	return o.configs(keyLog)
}

// tlsConfigs returns the server and client configurations of o.
func (o *TLSOptions) tlsConfigs(kl *SyncBuffer) (srv, cli *tls.Config, err error) {
	return o.configs(kl)
}

// configs returns the server and client configurations of o.
func (o *TLSOptions) configs(kl io.Writer) (srv, cli *tls.Config, err error) {
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

// InjectSecrets returns a copy of a little-endian pcapng file (as
// Capture.WritePcapNG writes it) with a Decryption Secrets Block holding
// keyLog (secrets type TLS key log) right after the section header, like
// `editcap --inject-secrets tls,KEYLOG`.
func InjectSecrets(pcapng, keyLog []byte) ([]byte, error) {
	if len(pcapng) < 28 || binary.LittleEndian.Uint32(pcapng) != 0x0A0D0D0A || binary.LittleEndian.Uint32(pcapng[8:]) != 0x1A2B3C4D {
		return nil, fmt.Errorf("inject secrets: not a little-endian pcapng file")
	}
	shb := int(binary.LittleEndian.Uint32(pcapng[4:]))
	if shb < 28 || shb > len(pcapng) {
		return nil, fmt.Errorf("inject secrets: bad section header length %d", shb)
	}
	padded := (len(keyLog) + 3) &^ 3
	total := 4 + 4 + 4 + 4 + padded + 4
	dsb := make([]byte, total)
	binary.LittleEndian.PutUint32(dsb[0:], 0x0000000A)
	binary.LittleEndian.PutUint32(dsb[4:], uint32(total))
	binary.LittleEndian.PutUint32(dsb[8:], 0x544c534b)
	binary.LittleEndian.PutUint32(dsb[12:], uint32(len(keyLog)))
	copy(dsb[16:], keyLog)
	binary.LittleEndian.PutUint32(dsb[total-4:], uint32(total))
	out := make([]byte, 0, len(pcapng)+total)
	out = append(out, pcapng[:shb]...)
	out = append(out, dsb...)
	return append(out, pcapng[shb:]...), nil
}
