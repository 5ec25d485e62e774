package capgen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// WrapHTTPSProxy returns r as it crosses an HTTPS proxy (a proxy the client
// reaches over TLS, as browsers configured with an "HTTPS" proxy do): the
// client opens TLS to the proxy with opts, sends CONNECT target inside it
// (with a Proxy-Authorization header when auth is set), the proxy answers
// 200, and r's bytes (a wss:// recording's TLS records, or plain HTTP and
// WebSocket) run inside that TLS session. See WrapTLS.
func WrapHTTPSProxy(r *Recording, target string, auth bool, opts TLSOptions) (*Recording, error) {
	return WrapTLS(r, ConnectWrites(target, auth, true), opts)
}

// ConnectWrites returns the CONNECT request for target (with a
// Proxy-Authorization header for user:proxy-secret when auth is set) and,
// when answered is set, the proxy's 200 answer.
func ConnectWrites(target string, auth, answered bool) []Write {
	connect := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
	if auth {
		connect += "Proxy-Authorization: Basic dXNlcjpwcm94eS1zZWNyZXQ=\r\n" // user:proxy-secret
	}
	w := []Write{{Client, []byte(connect + "\r\n")}}
	if answered {
		w = append(w, Write{Server, []byte("HTTP/1.1 200 Connection established\r\n\r\n")})
	}
	return w
}

// WrapTLS returns r run inside a TLS session made with opts (SNI
// "proxy.example" unless opts names one), after the writes before: the
// TLS session is real (crypto/tls over a loopback TCP connection), the
// result's writes are its records, and its key log holds the session's
// secrets and then r's. Truth is r's; Spans are dropped (the stream is TLS
// records).
func WrapTLS(r *Recording, before []Write, opts TLSOptions) (*Recording, error) {
	kl := &SyncBuffer{}
	if opts.ServerName == "" {
		opts.ServerName = "proxy.example"
	}
	srvCfg, cliCfg, err := opts.tlsConfigs(kl)
	if err != nil {
		return nil, fmt.Errorf("tls wrap: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("tls wrap: %w", err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			c = nil
		}
		accepted <- c
	}()
	rawCli, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("tls wrap: %w", err)
	}
	defer rawCli.Close()
	var rawSrv net.Conn
	select {
	case rawSrv = <-accepted:
	case <-time.After(5 * time.Second):
		return nil, errors.New("tls wrap: accept timed out")
	}
	if rawSrv == nil {
		return nil, errors.New("tls wrap: accept failed")
	}
	defer rawSrv.Close()
	deadline := time.Now().Add(20 * time.Second)
	_ = rawCli.SetDeadline(deadline)
	_ = rawSrv.SetDeadline(deadline)

	log := &writeLog{}
	cli := tls.Client(&recConn{Conn: rawCli, side: Client, log: log}, cliCfg)
	srv := tls.Server(&recConn{Conn: rawSrv, side: Server, log: log}, srvCfg)
	hs := make(chan error, 1)
	go func() { hs <- srv.Handshake() }()
	if err := cli.Handshake(); err != nil {
		return nil, fmt.Errorf("tls wrap: client handshake: %w", err)
	}
	if err := <-hs; err != nil {
		return nil, fmt.Errorf("tls wrap: server handshake: %w", err)
	}
	// Both sides read everything the other writes, so that no write
	// blocks; the writes below come from this goroutine alone, in order.
	done := make(chan struct{}, 2)
	for _, c := range []*tls.Conn{cli, srv} {
		go func() {
			_, _ = io.Copy(io.Discard, c)
			done <- struct{}{}
		}()
	}
	writes := append(append([]Write(nil), before...), r.Writes...)
	for _, w := range writes {
		c := cli
		if w.From == Server {
			c = srv
		}
		if _, err := c.Write(w.Data); err != nil {
			return nil, fmt.Errorf("tls wrap: write: %w", err)
		}
	}
	// The connections end without close_notify (the replay closes the
	// TCP connection); the readers then see the end.
	rawCli.Close()
	rawSrv.Close()
	for range 2 {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			return nil, errors.New("tls wrap: readers did not finish")
		}
	}
	out := &Recording{Name: r.Name + "-tls", Writes: log.snapshot(), Truth: r.Truth}
	out.KeyLog = append(kl.Bytes(), r.KeyLog...)
	return out, nil
}
