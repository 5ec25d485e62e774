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
//
// The recording itself (tcpdump, Chromium, the key logs, the WebSocket
// frames in the servers' plaintext) is internal/chromerec's; this command
// holds its servers, its page and its truth's notes.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/net/http2"

	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/internal/chromerec"
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

// page returns the page: ws://ws.example/chat, then wss://wss.example/chat,
// each sending msgs.
func page(msgs []string) string {
	return chromerec.Page("wsdissect "+name, "",
		chromerec.PageSession{URL: strconv.Quote("ws://ws.example/chat"), Messages: msgs, TimeoutMS: 20000},
		chromerec.PageSession{URL: strconv.Quote("wss://wss.example/chat"), Messages: msgs, TimeoutMS: 20000})
}

// session is the plaintext of one echo server connection, as the server
// read (c2s) and wrote (s2c) it.
type session struct {
	server string // "ws" or "wss"
	remote string // the proxy's dialing address
	plain  *chromerec.Plaintext
	mu     sync.Mutex
	closed string // how the WebSocket ended, as the server saw it
	done   chan struct{}
}

// recConn logs a connection's plaintext in its session.
type recConn struct {
	net.Conn
	s *session
}

func (c *recConn) Read(b []byte) (int, error) { return c.s.plain.Read(c.Conn, b) }

func (c *recConn) Write(b []byte) (int, error) { return c.s.plain.Write(c.Conn, b) }

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
	s := &session{server: l.server, remote: c.RemoteAddr().String(), plain: chromerec.NewPlaintext(l.seq),
		done: make(chan struct{})}
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
				if err := c.Write(rctx, websocket.MessageText, append([]byte(chromerec.EchoPrefix), b...)); err != nil {
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
	cc, brw, ok := chromerec.Hijack(w, 40*time.Second)
	if !ok {
		return
	}
	defer cc.Close()
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

// servers are the echo servers and the proxy, running.
type servers struct {
	ws, wss *recListener
	proxy   *proxy
	port    int            // the proxy's
	closers []func() error // in start order
}

// startServers starts the echo servers and the proxy offering alpn, all
// logging their TLS secrets to keyLog; finished receives each echo session
// that ended.
func startServers(ctx context.Context, alpn []string, keyLog io.Writer, finished chan<- *session) (*servers, error) {
	s := &servers{}
	if err := s.startEchoes(ctx, keyLog, finished); err != nil {
		s.close()
		return nil, fmt.Errorf("echo servers: %w", err)
	}
	if err := s.startProxy(alpn, keyLog); err != nil {
		s.close()
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return s, nil
}

// close stops the servers.
func (s *servers) close() {
	for _, c := range slices.Backward(s.closers) {
		c()
	}
}

// startEchoes starts the ws (clear) and wss echo servers.
func (s *servers) startEchoes(ctx context.Context, keyLog io.Writer, finished chan<- *session) error {
	var seq atomic.Int64
	wsRaw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.ws = &recListener{Listener: wsRaw, server: "ws", seq: &seq}
	s.closers = append(s.closers, startEcho(ctx, s.ws, finished).Close)
	wssCert, err := chromerec.SelfSigned([]string{"wss.example"})
	if err != nil {
		return err
	}
	wssRaw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	wssTLS := tls.NewListener(wssRaw, &tls.Config{Certificates: []tls.Certificate{wssCert},
		NextProtos: []string{"http/1.1"}, MinVersion: tls.VersionTLS12, KeyLogWriter: keyLog})
	s.wss = &recListener{Listener: wssTLS, server: "wss", seq: &seq}
	s.closers = append(s.closers, startEcho(ctx, s.wss, finished).Close)
	return nil
}

// startProxy starts the HTTPS proxy to the echo servers.
func (s *servers) startProxy(alpn []string, keyLog io.Writer) error {
	s.proxy = &proxy{routes: map[string]string{
		"ws.example:80":   s.ws.Addr().String(),
		"wss.example:443": s.wss.Addr().String(),
	}, perConn: map[string]int{}}
	cert, err := chromerec.SelfSigned([]string{"localhost"}, net.IPv4(127, 0, 0, 1))
	if err != nil {
		return err
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.closers = append(s.closers, raw.Close)
	s.port = raw.Addr().(*net.TCPAddr).Port
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: alpn,
		MinVersion: tls.VersionTLS12, KeyLogWriter: keyLog}
	srv := &http.Server{Handler: s.proxy, TLSConfig: cfg, ReadHeaderTimeout: 10 * time.Second}
	if slices.Contains(alpn, "h2") {
		if err := http2.ConfigureServer(srv, &http2.Server{}); err != nil {
			return err
		}
	} else {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){} // no HTTP/2
	}
	go srv.Serve(tls.NewListener(&proxyListener{Listener: raw, p: s.proxy}, cfg))
	s.closers = append(s.closers, srv.Close)
	return nil
}

// waitTunnels lets the proxy's tunnels end (5 s each at the most).
func (p *proxy) waitTunnels() {
	p.mu.Lock()
	tunnels := slices.Clone(p.tunnels)
	p.mu.Unlock()
	for _, t := range tunnels {
		select {
		case <-t.ended:
		case <-time.After(5 * time.Second):
		}
	}
}

func run(ctx context.Context, out, chromium string, alpn []string) error {
	for _, a := range alpn {
		if a != "h2" && a != "http/1.1" {
			return fmt.Errorf("-alpn: %q is neither h2 nor http/1.1", a)
		}
	}
	rec, err := chromerec.NewRecorder(ctx, chromium, "genchromeproxy", os.Stderr)
	if err != nil {
		return err
	}
	defer rec.Close()
	finished := make(chan *session, 8)
	srv, err := startServers(ctx, alpn, rec.KeyLog, finished)
	if err != nil {
		return err
	}
	defer srv.close()

	msgs := chromerec.PageMessages()
	pagePath := rec.Path("page.html")
	if err := os.WriteFile(pagePath, []byte(page(msgs)), 0o644); err != nil {
		return fmt.Errorf("write the page: %w", err)
	}
	args := chromerec.Args(rec.ProfileDir(), []string{
		fmt.Sprintf("--proxy-server=https://127.0.0.1:%d", srv.port),
		// <-loopback> so that nothing bypasses the proxy implicitly.
		// Chromium still fetches from Google at startup whatever the
		// flags say (GAIA ListAccounts, GCM checkin, a www.google.com
		// /async call): those hosts bypass the proxy and fail name
		// resolution at once (no socket is opened), so only the page's
		// WebSockets reach the proxy.
		"--proxy-bypass-list=<-loopback>;*.google.com;*.googleapis.com;*.gstatic.com;*.gvt1.com",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
		"--ignore-certificate-errors",
	}, "file://"+pagePath)
	res, err := chromerec.Record(ctx, rec, chromerec.Plan{
		Port: srv.port, Args: args, Stop: chromerec.TermGroup, Sessions: 2,
		Settle: srv.proxy.waitTunnels, OpenConns: srv.proxy.openConns,
	}, finished)
	if err != nil {
		return err
	}

	srv.proxy.mu.Lock()
	tunnels := slices.Clone(srv.proxy.tunnels)
	conns := slices.Clone(srv.proxy.conns)
	srv.proxy.mu.Unlock()
	truth, notes, err := buildTruth(tunnels, conns, append(srv.ws.sessions, srv.wss.sessions...), msgs)
	if err != nil {
		return err
	}
	truth.Notes = append(append(runNotes(rec.Version, alpn, msgs), notes...), keyLogNote(res.KeyLog))
	return res.Write(out, name, truth, os.Stderr)
}

// runNotes describe how the capture was made.
func runNotes(chromeVersion string, alpn, msgs []string) []string {
	return []string{
		"made by tools/genchromeproxy (run by hand): headless " + chromeVersion +
			" with --proxy-server=https://127.0.0.1:PORT --ignore-certificate-errors and --proxy-bypass-list=<-loopback>;*.google.com;*.googleapis.com;*.gstatic.com;*.gvt1.com with --host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1 (Chromium's own startup fetches from Google hosts fail without a socket instead of reaching the proxy), loading a file:// page (Origin: null)",
		"the proxy is Go crypto/tls (self-signed certificate for 127.0.0.1, ALPN offered " + fmt.Sprint(alpn) + ") with golang.org/x/net/http2 and net/http; it answers CONNECT ws.example:80 and wss.example:443 with 200 and pipes each tunnel to a github.com/coder/websocket echo server on 127.0.0.1 (clear, and crypto/tls with a self-signed wss.example certificate, ALPN http/1.1, compression disabled)",
		"the page opens ws://ws.example/chat, then (after it closed) wss://wss.example/chat; on each it sends \"hello 1\", \"hello 2\" and a " + strconv.Itoa(len(msgs[2])) + "-byte JSON text, each after the echo of the previous, the server answering \"echo: \" + message, then closes with code 1000",
		"each tunnel ends when its echo server closes the TCP connection after the close handshake: the proxy then ends its response (over HTTP/2 with END_STREAM, followed by x/net's RST_STREAM NO_ERROR when Chromium's side of the stream is still open; over HTTP/1.1 with TLS close_notify); once the page is done Chromium is stopped with SIGTERM",
		"captured with tcpdump -i lo -U --immediate-mode on the proxy's port only; the truth is parsed from the plaintext the echo servers really read and wrote",
	}
}

// keyLogNote says what the key logs held.
func keyLogNote(kl chromerec.KeyLog) string {
	return fmt.Sprintf("key log: Chromium's SSLKEYLOGFILE held %d TLS sessions, the Go servers' KeyLogWriter %d (the proxy's and the wss server's), %d in both; %s.keylog is their union",
		kl.Chromium, kl.Go, kl.Both, name)
}

// parseSession splits a logged echo session into its HTTP upgrade and its
// messages.
func parseSession(s *session) (req, resp string, msgs []chromerec.Message, err error) {
	h, err := chromerec.SplitHTTP1(s.plain)
	if err == nil {
		msgs, err = h.Messages()
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("%s session from %s: %w", s.server, s.remote, err)
	}
	return h.Req, h.Resp, msgs, nil
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
		kinds, err := chromerec.AddSession(truth, i, msgs, want)
		if err != nil {
			return nil, nil, fmt.Errorf("%s session: %w", k.s.server, err)
		}
		k.s.mu.Lock()
		closed := k.s.closed
		k.s.mu.Unlock()
		ext := chromerec.Header(req, "Sec-WebSocket-Extensions")
		notes = append(notes, fmt.Sprintf("conn %d: %s://%s%s through proxy connection %d (%s), request offered Sec-WebSocket-Extensions %q, answer %q without extensions; the server saw the end as %s; messages: %s",
			i, k.s.server, strings.TrimSuffix(strings.TrimSuffix(k.t.authority, ":80"), ":443"), strings.Fields(req)[1],
			k.conn, k.t.proto, ext, strings.SplitN(resp, "\r\n", 2)[0], closed, strings.Join(kinds, ", ")))
	}
	return truth, notes, nil
}
