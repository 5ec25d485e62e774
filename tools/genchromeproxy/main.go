// Command genchromeproxy records headless Chromium opening WebSockets
// through an HTTPS proxy that offers HTTP/2, and writes
// testdata/chromium-proxy.pcap with its key log and truth file.
//
// It starts, all on 127.0.0.1:
//
//   - two github.com/coder/websocket echo servers, one in clear (reached as
//     ws.example:80) and one over crypto/tls 1.3 with a self-signed
//     certificate (wss.example:443), each answering every text message M
//     with "echo: " + M;
//   - an HTTPS proxy: crypto/tls with ALPN ["h2", "http/1.1"],
//     golang.org/x/net/http2 for h2 and net/http for HTTP/1.1, answering
//     CONNECT ws.example:80 and CONNECT wss.example:443 with 200 and piping
//     bytes to the matching echo server (any other request gets 403);
//   - tcpdump -i lo -U, filtered to the proxy's port;
//   - headless Chromium with --proxy-server=https://127.0.0.1:PORT and
//     SSLKEYLOGFILE set, loading a file:// page whose script opens
//     ws://ws.example/chat, then wss://wss.example/chat, sends on each
//     "hello 1", "hello 2" and a 2000-character JSON text, one at a time
//     after the echo of the previous one, and closes with code 1000.
//
// Once both echo sessions have ended it stops Chromium and tcpdump and
// writes OUT/chromium-proxy.pcap, OUT/chromium-proxy.keylog (Chromium's
// key log merged with the Go servers' KeyLogWriter output: the proxy TLS
// session(s) and the inner wss session) and OUT/chromium-proxy.truth.json.
// The truth is not what the page was asked to send but what the echo
// servers really read and wrote: both servers record the plaintext bytes of
// their connections, and the frames in them (control frames included) are
// parsed here, checked against the page's script, and numbered as the
// dissector orders sessions (proxy TCP connection, then HTTP/2 stream).
// The notes record Chromium's version, the proxy's negotiated ALPN and how
// each tunnel was carried (HTTP/2 CONNECT stream or HTTP/1.1 CONNECT).
//
// It needs chromium and tcpdump, and root (or capture rights on lo):
//
//	go run ./tools/genchromeproxy -out testdata
//
// (-alpn http/1.1 makes the proxy offer HTTP/1.1 only, for comparison;
// the testdata capture is made with the default, h2,http/1.1.)
//
// It is run by hand, never by the tests: Chromium masks its frames with
// random keys and picks its own TLS secrets, so every run gives a different
// capture (the same messages).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/http2"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

const name = "chromium-proxy"

// Bounds on every loop.
const (
	maxMessages = 64    // messages an echo session reads
	maxCopies   = 10000 // reads of one direction of a tunnel
	maxRequests = 64    // requests the proxy answers in all
)

func main() {
	out := flag.String("out", "testdata", "output directory")
	chromium := flag.String("chromium", "chromium", "Chromium binary")
	alpn := flag.String("alpn", "h2,http/1.1", "ALPN protocols the proxy offers, in order (h2 and/or http/1.1; "+
		"the testdata capture uses the default)")
	timeout := flag.Duration("timeout", 60*time.Second, "overall time limit")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if err := run(ctx, *out, *chromium, strings.Split(*alpn, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "genchromeproxy:", err)
		os.Exit(1)
	}
}

// The page's messages, sent on each WebSocket in order.
func pageMessages() []string {
	var b strings.Builder
	b.WriteString(`{"kind":"bulk","items":[`)
	for i := 0; b.Len() < 1970; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"v":"item-%03d"}`, i, i)
	}
	b.WriteString(`],"end":true}`)
	return []string{"hello 1", "hello 2", b.String()}
}

const pageTemplate = `<!doctype html>
<html><head><meta charset="utf-8"><title>wsdissect chromium-proxy</title></head>
<body><pre id="log"></pre>
<script>
const msgs = MESSAGES;
function log(s) { console.log("WSLOG " + s); document.getElementById("log").textContent += s + "\n"; }
function session(url) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let i = 0;
    const got = [];
    const timer = setTimeout(() => { log(url + " timeout"); try { ws.close(1000); } catch (e) {} }, 20000);
    ws.onopen = () => { log(url + " open ext=" + JSON.stringify(ws.extensions)); ws.send(msgs[i++]); };
    ws.onmessage = (e) => {
      got.push(e.data);
      if (i < msgs.length) { ws.send(msgs[i++]); } else { ws.close(1000); }
    };
    ws.onerror = () => log(url + " error");
    ws.onclose = (e) => {
      clearTimeout(timer);
      const ok = got.length === msgs.length && got.every((g, k) => g === "echo: " + msgs[k]);
      log(url + " closed code=" + e.code + " clean=" + e.wasClean + " echoes_ok=" + ok);
      resolve();
    };
  });
}
(async () => {
  await session("ws://ws.example/chat");
  await session("wss://wss.example/chat");
  log("DONE");
})();
</script></body></html>
`

// chunk is one read or write of a recorded connection.
type chunk struct {
	seq  int64
	c2s  bool
	data []byte
}

// session is the plaintext of one echo server connection, as the server
// read (c2s) and wrote (s2c) it.
type session struct {
	server string        // "ws" or "wss"
	remote string        // the proxy's dialing address
	seq    *atomic.Int64 // orders the chunks of all sessions
	mu     sync.Mutex
	chunks []chunk
	closed string // how the WebSocket ended, as the server saw it
	done   chan struct{}
}

func (s *session) add(c2s bool, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chunks = append(s.chunks, chunk{s.seq.Add(1), c2s, bytes.Clone(b)})
}

type recConn struct {
	net.Conn
	s *session
}

func (c *recConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if n > 0 {
		c.s.add(true, b[:n])
	}
	return n, err
}

func (c *recConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if n > 0 {
		c.s.add(false, b[:n])
	}
	return n, err
}

// recListener records every accepted connection's plaintext (after TLS when
// the inner listener is a TLS one).
type recListener struct {
	net.Listener
	server   string
	seq      *atomic.Int64 // shared by the listeners
	mu       sync.Mutex
	sessions []*session
}

func (l *recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	s := &session{server: l.server, remote: c.RemoteAddr().String(), seq: l.seq, done: make(chan struct{})}
	l.mu.Lock()
	l.sessions = append(l.sessions, s)
	l.mu.Unlock()
	return &recConn{Conn: c, s: s}, nil
}

type ctxKey struct{}

// startEcho serves the echo WebSocket on ln; finished receives each
// session whose WebSocket handler returned.
func startEcho(ctx context.Context, ln *recListener, finished chan<- *session) *http.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, _ := r.Context().Value(ctxKey{}).(*recConn)
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "WebSocket echo server (ws.example / wss.example)", http.StatusNotFound)
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			InsecureSkipVerify: true, // the page is a file:// one: Origin: null
			CompressionMode:    websocket.CompressionDisabled,
		})
		if err != nil {
			return
		}
		defer c.CloseNow()
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		var end error
		for range maxMessages {
			typ, b, err := c.Read(rctx)
			if err != nil {
				end = err
				break
			}
			if typ == websocket.MessageText {
				if err := c.Write(rctx, websocket.MessageText, append([]byte("echo: "), b...)); err != nil {
					end = err
					break
				}
			}
		}
		if rc != nil {
			rc.s.mu.Lock()
			rc.s.closed = fmt.Sprintf("status %d (%v)", websocket.CloseStatus(end), end)
			rc.s.mu.Unlock()
			c.CloseNow()
			close(rc.s.done)
			select {
			case finished <- rc.s:
			default:
			}
		}
	})
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, ctxKey{}, c)
		}}
	go srv.Serve(ln)
	return srv
}

// tunnel is one CONNECT the proxy answered.
type tunnel struct {
	proto     string // "HTTP/2.0" or "HTTP/1.1"
	authority string
	status    int
	client    string // the proxy connection's client address
	reqIndex  int    // index of the request on its proxy connection
	dialFrom  string // the proxy's local address to the echo server
	alpn      string
	ended     chan struct{}
}

type proxy struct {
	routes   map[string]string
	mu       sync.Mutex
	tunnels  []*tunnel
	conns    []string       // client addresses in accept order
	perConn  map[string]int // requests seen per client address
	open     int            // connections not closed yet
	requests int
}

func (p *proxy) record(t *tunnel) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t.reqIndex = p.perConn[t.client]
	p.perConn[t.client]++
	p.tunnels = append(p.tunnels, t)
	p.requests++
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := &tunnel{proto: r.Proto, authority: r.Host, client: r.RemoteAddr, ended: make(chan struct{})}
	if r.TLS != nil {
		t.alpn = r.TLS.NegotiatedProtocol
	}
	defer close(t.ended)
	p.mu.Lock()
	tooMany := p.requests >= maxRequests
	p.mu.Unlock()
	target, ok := p.routes[r.Host]
	if r.Method != http.MethodConnect || !ok || tooMany {
		t.status = http.StatusForbidden
		t.authority = r.Method + " " + r.Host + r.URL.RequestURI()
		p.record(t)
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	tc, err := net.DialTimeout("tcp", target, 5*time.Second)
	if err != nil {
		t.status = http.StatusBadGateway
		p.record(t)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(40 * time.Second))
	t.status = http.StatusOK
	t.dialFrom = tc.LocalAddr().String()
	p.record(t)
	if r.ProtoMajor == 2 {
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		if err := rc.Flush(); err != nil {
			return
		}
		go func() {
			copyBounded(tc, r.Body, nil)
			tc.(*net.TCPConn).CloseWrite()
		}()
		copyBounded(w, tc, func() error { return rc.Flush() })
		// The echo server closed its side: end the response at once
		// (END_STREAM). Chromium does not end its side of a tunnel
		// first (it waits for the server to close), so x/net follows
		// with RST_STREAM NO_ERROR when the request body is still open.
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return
	}
	cc, brw, err := hj.Hijack()
	if err != nil {
		return
	}
	defer cc.Close()
	cc.SetDeadline(time.Now().Add(40 * time.Second))
	if _, err := io.WriteString(cc, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	up := make(chan struct{})
	go func() {
		defer close(up)
		if n := brw.Reader.Buffered(); n > 0 {
			b, _ := brw.Reader.Peek(n)
			tc.Write(b)
		}
		copyBounded(tc, cc, nil)
		tc.(*net.TCPConn).CloseWrite()
	}()
	copyBounded(cc, tc, nil)
	if cw, ok := cc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	select {
	case <-up:
	case <-time.After(2 * time.Second):
	}
}

// copyBounded copies src to dst, calling flush after each write, for at
// most maxCopies reads.
func copyBounded(dst io.Writer, src io.Reader, flush func() error) {
	buf := make([]byte, 32<<10)
	for range maxCopies {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
			if flush != nil {
				if ferr := flush(); ferr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// proxyListener records the accept order of the proxy's connections.
type proxyListener struct {
	net.Listener
	p *proxy
}

func (l *proxyListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.p.mu.Lock()
	l.p.conns = append(l.p.conns, c.RemoteAddr().String())
	l.p.open++
	l.p.mu.Unlock()
	return &proxyConn{Conn: c, p: l.p}, nil
}

// proxyConn counts the proxy's open connections.
type proxyConn struct {
	net.Conn
	p    *proxy
	once sync.Once
}

func (c *proxyConn) Close() error {
	c.once.Do(func() {
		c.p.mu.Lock()
		c.p.open--
		c.p.mu.Unlock()
	})
	return c.Conn.Close()
}

func (p *proxy) openConns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.open
}

func selfSigned(names []string, ips []net.IP) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: names[0]},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// syncBuffer is a KeyLogWriter shared by the Go TLS servers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lockedBuffer collects a child process's output.
type lockedBuffer = syncBuffer

func run(ctx context.Context, out, chromium string, alpn []string) error {
	for _, a := range alpn {
		if a != "h2" && a != "http/1.1" {
			return fmt.Errorf("-alpn: %q is neither h2 nor http/1.1", a)
		}
	}
	for _, bin := range []string{chromium, "tcpdump"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found: %w", bin, err)
		}
	}
	version, err := exec.CommandContext(ctx, chromium, "--version").Output()
	if err != nil {
		return fmt.Errorf("%s --version: %w", chromium, err)
	}
	chromeVersion := strings.TrimSpace(string(version))
	tmp, err := os.MkdirTemp("", "genchromeproxy")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	goKeys := &syncBuffer{}

	// Echo servers.
	finished := make(chan *session, 8)
	wsRaw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var seq atomic.Int64
	wsLn := &recListener{Listener: wsRaw, server: "ws", seq: &seq}
	wsSrv := startEcho(ctx, wsLn, finished)
	defer wsSrv.Close()
	wssCert, err := selfSigned([]string{"wss.example"}, nil)
	if err != nil {
		return err
	}
	wssRaw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	wssTLS := tls.NewListener(wssRaw, &tls.Config{Certificates: []tls.Certificate{wssCert},
		NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12, KeyLogWriter: goKeys})
	wssLn := &recListener{Listener: wssTLS, server: "wss", seq: &seq}
	wssSrv := startEcho(ctx, wssLn, finished)
	defer wssSrv.Close()

	// The HTTPS proxy.
	p := &proxy{routes: map[string]string{
		"ws.example:80":   wsRaw.Addr().String(),
		"wss.example:443": wssRaw.Addr().String(),
	}, perConn: map[string]int{}}
	proxyCert, err := selfSigned([]string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return err
	}
	pRaw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	proxyPort := pRaw.Addr().(*net.TCPAddr).Port
	pCfg := &tls.Config{Certificates: []tls.Certificate{proxyCert}, NextProtos: alpn,
		MinVersion: tls.VersionTLS12, KeyLogWriter: goKeys}
	pSrv := &http.Server{Handler: p, TLSConfig: pCfg, ReadHeaderTimeout: 10 * time.Second}
	if slices.Contains(alpn, "h2") {
		if err := http2.ConfigureServer(pSrv, &http2.Server{}); err != nil {
			return err
		}
	} else {
		pSrv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){} // no HTTP/2
	}
	go pSrv.Serve(tls.NewListener(&proxyListener{Listener: pRaw, p: p}, pCfg))
	defer pSrv.Close()

	// tcpdump.
	pcapTmp := filepath.Join(tmp, "capture.pcap")
	dump := exec.Command("tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root", "-w", pcapTmp,
		fmt.Sprintf("tcp port %d", proxyPort))
	dumpErr := &lockedBuffer{}
	pr, pw := io.Pipe()
	dump.Stderr = io.MultiWriter(dumpErr, pw)
	dump.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := dump.Start(); err != nil {
		return fmt.Errorf("tcpdump: %w", err)
	}
	dumpDone := make(chan error, 1)
	go func() { dumpDone <- dump.Wait(); pw.Close() }()
	stopDump := func() error {
		dump.Process.Signal(syscall.SIGINT)
		select {
		case err := <-dumpDone:
			return err
		case <-time.After(5 * time.Second):
			dump.Process.Kill()
			return fmt.Errorf("tcpdump did not stop on SIGINT: %s", dumpErr.String())
		}
	}
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for i := 0; i < 100 && sc.Scan(); i++ {
			if strings.Contains(sc.Text(), "listening on") {
				close(listening)
				break
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-listening:
	case err := <-dumpDone:
		return fmt.Errorf("tcpdump exited: %v: %s", err, dumpErr.String())
	case <-time.After(10 * time.Second):
		stopDump()
		return fmt.Errorf("tcpdump not listening after 10 s: %s", dumpErr.String())
	}

	// Chromium.
	msgs := pageMessages()
	var js strings.Builder
	js.WriteString("[")
	for i, m := range msgs {
		if i > 0 {
			js.WriteString(", ")
		}
		js.WriteString(strconv.Quote(m))
	}
	js.WriteString("]")
	pagePath := filepath.Join(tmp, "page.html")
	if err := os.WriteFile(pagePath, []byte(strings.Replace(pageTemplate, "MESSAGES", js.String(), 1)), 0o644); err != nil {
		return err
	}
	chromeKeys := filepath.Join(tmp, "chromium.keylog")
	args := []string{
		"--headless=new", "--no-sandbox", "--disable-gpu",
		fmt.Sprintf("--proxy-server=https://127.0.0.1:%d", proxyPort),
		// <-loopback> so that nothing bypasses the proxy implicitly.
		// Chromium still fetches from Google at startup whatever the
		// flags below say (GAIA ListAccounts, GCM checkin, a
		// www.google.com /async call): those hosts bypass the proxy and
		// fail name resolution at once (no socket is opened), so only the
		// page's WebSockets reach the proxy.
		"--proxy-bypass-list=<-loopback>;*.google.com;*.googleapis.com;*.gstatic.com;*.gvt1.com",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--ignore-certificate-errors",
		"--user-data-dir=" + filepath.Join(tmp, "profile"),
		"--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--disable-default-apps",
		"--disable-domain-reliability", "--disable-client-side-phishing-detection",
		"--disable-breakpad", "--metrics-recording-only", "--no-pings",
		"--disable-field-trial-config", "--disable-search-engine-choice-screen",
		"--password-store=basic", "--use-mock-keychain", "--enable-automation",
		"--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider," +
			"AutofillServerCommunication,CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying," +
			"PreconnectToSearch,NetworkPrediction",
		"--enable-logging=stderr", "--v=0",
		"file://" + pagePath,
	}
	chrome := exec.Command(chromium, args...)
	chrome.Env = append(os.Environ(), "SSLKEYLOGFILE="+chromeKeys)
	chromeOut := &lockedBuffer{}
	chrome.Stdout, chrome.Stderr = chromeOut, chromeOut
	chrome.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := chrome.Start(); err != nil {
		stopDump()
		return fmt.Errorf("start chromium: %w", err)
	}
	chromeDone := make(chan error, 1)
	go func() { chromeDone <- chrome.Wait() }()
	stopChrome := func() {
		// Chromium's own process group (Setpgid): the browser and its
		// children, started here.
		t0 := time.Now()
		syscall.Kill(-chrome.Process.Pid, syscall.SIGTERM)
		select {
		case err := <-chromeDone:
			fmt.Fprintf(os.Stderr, "chromium stopped after %v (%v)\n", time.Since(t0).Round(time.Millisecond), err)
		case <-time.After(5 * time.Second):
			fmt.Fprintln(os.Stderr, "chromium still running 5 s after SIGTERM: SIGKILL")
			syscall.Kill(-chrome.Process.Pid, syscall.SIGKILL)
			<-chromeDone
		}
	}

	// Wait for both echo sessions to end.
	var runErr error
	var ended []*session
wait:
	for len(ended) < 2 {
		select {
		case s := <-finished:
			ended = append(ended, s)
		case err := <-chromeDone:
			runErr = fmt.Errorf("chromium exited early (%v):\n%s", err, chromeOut.String())
			chromeDone <- err
			break wait
		case <-ctx.Done():
			runErr = fmt.Errorf("timed out waiting for the WebSocket sessions (%d ended):\n%s", len(ended), chromeOut.String())
			break wait
		}
	}
	// Let the tunnels end, and the page log DONE.
	p.mu.Lock()
	tunnels := slices.Clone(p.tunnels)
	p.mu.Unlock()
	for _, t := range tunnels {
		select {
		case <-t.ended:
		case <-time.After(5 * time.Second):
		}
	}
	for i := 0; i < 50 && !strings.Contains(chromeOut.String(), "WSLOG DONE"); i++ {
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	stopChrome()
	// Chromium's network process may outlive the browser process a
	// little: wait for the proxy to see its connections close, so the
	// capture ends with their FINs.
	for i := 0; i < 50 && p.openConns() > 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if n := p.openConns(); n > 0 {
		fmt.Fprintf(os.Stderr, "%d proxy connections still open 5 s after Chromium stopped\n", n)
	}
	time.Sleep(300 * time.Millisecond)
	if err := stopDump(); err != nil && runErr == nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			runErr = err
		}
	}
	if runErr != nil {
		return runErr
	}
	for _, line := range strings.Split(chromeOut.String(), "\n") {
		if strings.Contains(line, "WSLOG") {
			fmt.Fprintln(os.Stderr, "page:", line)
		}
	}
	if !strings.Contains(chromeOut.String(), "WSLOG DONE") {
		return fmt.Errorf("the page did not finish:\n%s", chromeOut.String())
	}

	// Truth.
	p.mu.Lock()
	tunnels = slices.Clone(p.tunnels)
	conns := slices.Clone(p.conns)
	p.mu.Unlock()
	truth, notes, err := buildTruth(tunnels, conns, append(wsLn.sessions, wssLn.sessions...), msgs)
	if err != nil {
		return err
	}
	keylog, klNotes, err := mergeKeyLogs(chromeKeys, goKeys.String())
	if err != nil {
		return err
	}
	truth.Notes = append([]string{
		"made by tools/genchromeproxy (run by hand): headless " + chromeVersion +
			" with --proxy-server=https://127.0.0.1:PORT --ignore-certificate-errors and --proxy-bypass-list=<-loopback>;*.google.com;*.googleapis.com;*.gstatic.com;*.gvt1.com with --host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1 (Chromium's own startup fetches from Google hosts fail without a socket instead of reaching the proxy), loading a file:// page (Origin: null)",
		"the proxy is Go crypto/tls (self-signed certificate for 127.0.0.1, ALPN offered " + fmt.Sprint(alpn) + ") with golang.org/x/net/http2 and net/http; it answers CONNECT ws.example:80 and wss.example:443 with 200 and pipes each tunnel to a github.com/coder/websocket echo server on 127.0.0.1 (clear, and crypto/tls with a self-signed wss.example certificate, ALPN http/1.1, compression disabled)",
		"the page opens ws://ws.example/chat, then (after it closed) wss://wss.example/chat; on each it sends \"hello 1\", \"hello 2\" and a " + strconv.Itoa(len(msgs[2])) + "-byte JSON text, each after the echo of the previous, the server answering \"echo: \" + message, then closes with code 1000",
		"each tunnel ends when its echo server closes the TCP connection after the close handshake: the proxy then ends its response (over HTTP/2 with END_STREAM, followed by x/net's RST_STREAM NO_ERROR when Chromium's side of the stream is still open; over HTTP/1.1 with TLS close_notify); once the page is done Chromium is stopped with SIGTERM",
		"captured with tcpdump -i lo -U --immediate-mode on the proxy's port only; the truth is parsed from the plaintext the echo servers really read and wrote",
	}, notes...)
	truth.Notes = append(truth.Notes, klNotes...)
	tj, err := truth.JSON()
	if err != nil {
		return err
	}
	pcap, err := os.ReadFile(pcapTmp)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for file, b := range map[string][]byte{
		name + ".pcap": pcap, name + ".keylog": []byte(keylog), name + ".truth.json": tj,
	} {
		if err := os.WriteFile(filepath.Join(out, file), b, 0o644); err != nil {
			return err
		}
	}
	for _, n := range truth.Notes {
		fmt.Fprintln(os.Stderr, "note:", n)
	}
	fmt.Fprintf(os.Stderr, "wrote %s/%s.{pcap,keylog,truth.json}: %d bytes of capture, %d messages\n",
		out, name, len(pcap), len(truth.Messages))
	return nil
}

// message is one parsed WebSocket message of a session.
type message struct {
	c2s     bool
	opcode  uint8
	payload []byte
	seq     int64 // the chunk holding its last byte
}

// parseSession splits a recorded session into its HTTP upgrade and its
// messages.
func parseSession(s *session) (req, resp string, msgs []message, err error) {
	s.mu.Lock()
	chunks := slices.Clone(s.chunks)
	s.mu.Unlock()
	for _, c2s := range []bool{true, false} {
		var data []byte
		type mark struct {
			end int
			seq int64
		}
		var marks []mark
		for _, c := range chunks {
			if c.c2s == c2s {
				data = append(data, c.data...)
				marks = append(marks, mark{len(data), c.seq})
			}
		}
		seqAt := func(off int) int64 { // off: index of a byte
			for _, m := range marks {
				if off < m.end {
					return m.seq
				}
			}
			return marks[len(marks)-1].seq
		}
		hdrEnd := bytes.Index(data, []byte("\r\n\r\n"))
		if hdrEnd < 0 {
			return "", "", nil, fmt.Errorf("%s session %s: no HTTP header end (c2s=%v)", s.server, s.remote, c2s)
		}
		head := string(data[:hdrEnd+4])
		if c2s {
			req = head
		} else {
			resp = head
		}
		fr := data[hdrEnd+4:]
		base := hdrEnd + 4
		off := 0
		var cur *message
		for n := 0; off < len(fr); n++ {
			if n > 10000 {
				return "", "", nil, errors.New("too many frames")
			}
			if len(fr)-off < 2 {
				return "", "", nil, fmt.Errorf("%s: truncated frame header at %d", s.server, off)
			}
			b0, b1 := fr[off], fr[off+1]
			fin, rsv, op := b0&0x80 != 0, b0&0x70, b0&0x0f
			masked := b1&0x80 != 0
			l := uint64(b1 & 0x7f)
			p := off + 2
			switch l {
			case 126:
				if len(fr) < p+2 {
					return "", "", nil, errors.New("truncated length")
				}
				l = uint64(binary.BigEndian.Uint16(fr[p:]))
				p += 2
			case 127:
				if len(fr) < p+8 {
					return "", "", nil, errors.New("truncated length")
				}
				l = binary.BigEndian.Uint64(fr[p:])
				p += 8
			}
			var key []byte
			if masked {
				if len(fr) < p+4 {
					return "", "", nil, errors.New("truncated mask")
				}
				key = fr[p : p+4]
				p += 4
			}
			if masked != c2s {
				return "", "", nil, fmt.Errorf("%s: frame masked=%v in direction c2s=%v", s.server, masked, c2s)
			}
			if rsv != 0 {
				return "", "", nil, fmt.Errorf("%s: RSV bits %#x set", s.server, rsv)
			}
			if l > uint64(len(fr)-p) {
				return "", "", nil, fmt.Errorf("%s: frame cut at end (%d of %d bytes)", s.server, len(fr)-p, l)
			}
			pl := bytes.Clone(fr[p : p+int(l)])
			for i := range pl {
				if key != nil {
					pl[i] ^= key[i%4]
				}
			}
			end := p + int(l)
			seq := seqAt(base + end - 1)
			switch {
			case op >= 8:
				msgs = append(msgs, message{c2s, op, pl, seq})
			case op == 0:
				if cur == nil {
					return "", "", nil, errors.New("continuation without a message")
				}
				cur.payload = append(cur.payload, pl...)
			default:
				if cur != nil {
					return "", "", nil, errors.New("new message inside a fragmented one")
				}
				cur = &message{c2s: c2s, opcode: op, payload: pl}
			}
			if fin && op < 8 {
				cur.seq = seq
				msgs = append(msgs, *cur)
				cur = nil
			}
			off = end
		}
		if cur != nil {
			return "", "", nil, fmt.Errorf("%s: unfinished message", s.server)
		}
	}
	slices.SortStableFunc(msgs, func(a, b message) int { return int(a.seq - b.seq) })
	return req, resp, msgs, nil
}

func header(head, key string) string {
	for _, line := range strings.Split(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func buildTruth(tunnels []*tunnel, conns []string, sessions []*session, want []string) (*capgen.Truth, []string, error) {
	var notes []string
	connIndex := func(addr string) int { return slices.Index(conns, addr) }
	for i, c := range conns {
		alpn := "?"
		for _, t := range tunnels {
			if t.client == c {
				alpn = t.alpn
			}
		}
		notes = append(notes, fmt.Sprintf("proxy TCP connection %d (from Chromium's %s): TLS ALPN %q", i, c, alpn))
	}
	for _, t := range tunnels {
		how := t.proto + " CONNECT"
		if t.proto == "HTTP/2.0" {
			how = fmt.Sprintf("HTTP/2 CONNECT (RFC 9113 8.5) on stream %d (request %d of the connection)", 2*t.reqIndex+1, t.reqIndex+1)
		}
		notes = append(notes, fmt.Sprintf("proxy connection %d: %s %s answered %d", connIndex(t.client), how, t.authority, t.status))
	}
	type keyed struct {
		conn, stream int
		s            *session
		t            *tunnel
	}
	var ks []keyed
	for _, s := range sessions {
		var tt *tunnel
		for _, t := range tunnels {
			if t.dialFrom == s.remote {
				tt = t
			}
		}
		if tt == nil {
			return nil, nil, fmt.Errorf("%s session from %s matches no tunnel", s.server, s.remote)
		}
		select {
		case <-s.done:
		default:
			return nil, nil, fmt.Errorf("%s session from %s did not end", s.server, s.remote)
		}
		ks = append(ks, keyed{connIndex(tt.client), tt.reqIndex, s, tt})
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if a.conn != b.conn {
			return a.conn - b.conn
		}
		return a.stream - b.stream
	})
	truth := &capgen.Truth{}
	for i, k := range ks {
		req, resp, msgs, err := parseSession(k.s)
		if err != nil {
			return nil, nil, err
		}
		if err := checkScript(k.s.server, msgs, want); err != nil {
			return nil, nil, err
		}
		var kinds []string
		for _, m := range msgs {
			dir := "s2c"
			if m.c2s {
				dir = "c2s"
			}
			truth.Messages = append(truth.Messages, capgen.TruthMessage{Conn: i, Dir: dir, Opcode: m.opcode, Payload: m.payload})
			kinds = append(kinds, fmt.Sprintf("%s op%d/%d", dir, m.opcode, len(m.payload)))
		}
		ext := header(req, "Sec-WebSocket-Extensions")
		notes = append(notes, fmt.Sprintf("conn %d: %s://%s%s through proxy connection %d (%s), request offered Sec-WebSocket-Extensions %q, answer %q without extensions; the server saw the end as %s; messages: %s",
			i, k.s.server, strings.TrimSuffix(strings.TrimSuffix(k.t.authority, ":80"), ":443"), strings.Fields(req)[1],
			k.conn, k.t.proto, ext, strings.SplitN(resp, "\r\n", 2)[0], k.s.closed, strings.Join(kinds, ", ")))
	}
	return truth, notes, nil
}

// checkScript checks that a session carried what the page was told to send
// and the echoes, closed with code 1000 both ways.
func checkScript(server string, msgs []message, want []string) error {
	var c2s, s2c []message
	for _, m := range msgs {
		if m.c2s {
			c2s = append(c2s, m)
		} else {
			s2c = append(s2c, m)
		}
	}
	closeOK := func(ms []message) bool {
		if len(ms) == 0 {
			return false
		}
		l := ms[len(ms)-1]
		return l.opcode == 8 && len(l.payload) >= 2 && binary.BigEndian.Uint16(l.payload) == 1000
	}
	var texts, echoes []string
	for _, m := range c2s {
		if m.opcode == 1 {
			texts = append(texts, string(m.payload))
		}
	}
	for _, m := range s2c {
		if m.opcode == 1 {
			echoes = append(echoes, string(m.payload))
		}
	}
	var wantEchoes []string
	for _, w := range want {
		wantEchoes = append(wantEchoes, "echo: "+w)
	}
	if !slices.Equal(texts, want) || !slices.Equal(echoes, wantEchoes) || !closeOK(c2s) || !closeOK(s2c) {
		return fmt.Errorf("%s session: texts %q, echoes %q, close c2s %v s2c %v", server, texts, echoes, closeOK(c2s), closeOK(s2c))
	}
	return nil
}

// mergeKeyLogs returns Chromium's key log with the Go servers' lines it
// lacks appended, and notes on what each held.
func mergeKeyLogs(chromePath, goKeys string) (string, []string, error) {
	cb, err := os.ReadFile(chromePath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", nil, err
	}
	var lines []string
	randoms := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			if f := strings.Fields(l); len(f) == 3 && !strings.HasPrefix(l, "#") {
				m[f[1]] = true
			}
		}
		return m
	}
	seen := map[string]bool{}
	for _, src := range []string{string(cb), goKeys} {
		for _, l := range strings.Split(src, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") || seen[l] {
				continue
			}
			seen[l] = true
			lines = append(lines, l)
		}
	}
	cr, gr := randoms(string(cb)), randoms(goKeys)
	covered := 0
	for r := range gr {
		if cr[r] {
			covered++
		}
	}
	note := fmt.Sprintf("key log: Chromium's SSLKEYLOGFILE held %d TLS sessions, the Go servers' KeyLogWriter %d (the proxy's and the wss server's), %d in both; chromium-proxy.keylog is their union",
		len(cr), len(gr), covered)
	if len(gr) == 0 {
		return "", nil, errors.New("the Go servers logged no TLS secrets")
	}
	return strings.Join(lines, "\n") + "\n", []string{note}, nil
}
