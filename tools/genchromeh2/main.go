// Command genchromeh2 records headless Chromium opening WebSockets on a
// server that speaks HTTP/2 with RFC 8441 (extended CONNECT with
// :protocol websocket), and writes testdata/chromium-h2.pcap with its key
// log and truth file.
//
// It starts, all on 127.0.0.1:
//
//   - an HTTPS server: crypto/tls 1.3 with a self-signed certificate for
//     h2.example, ALPN ["h2", "http/1.1"] and a KeyLogWriter, serving h2
//     with golang.org/x/net/http2 (the process runs with
//     GODEBUG=http2xconnect=1, which x/net reads at start-up, so its
//     SETTINGS carry SETTINGS_ENABLE_CONNECT_PROTOCOL=1; genchromeh2 runs
//     itself again with it set when it is missing) and HTTP/1.1 with
//     net/http. GET / is a small HTML page; /chat is a WebSocket echo
//     endpoint, as an extended CONNECT stream over HTTP/2 or as an
//     HTTP/1.1 Upgrade, answering each text message M with "echo: " + M
//     and a close with close 1000 (WebSocket frames are read and written
//     here: no Go WebSocket library runs over an HTTP/2 stream). The
//     server declines permessage-deflate, to keep the truth plain text;
//   - tcpdump -i lo -U --immediate-mode, filtered to the server's port;
//   - headless Chromium with --host-resolver-rules="MAP h2.example
//     127.0.0.1, MAP * ~NOTFOUND" (so Chromium's own fetches to Google
//     hosts fail without a socket), --ignore-certificate-errors and
//     SSLKEYLOGFILE set, loading https://h2.example:PORT/, whose script
//     opens wss://h2.example:PORT/chat, sends "hello 1", "hello 2" and a
//     2000-character JSON text, one at a time after the echo of the
//     previous one, closes with 1000, then opens a second WebSocket to the
//     same URL, sends one message and closes it. Its profile turns network
//     prediction off, so that no spare preconnected socket is recorded.
//
// Once both WebSocket sessions have ended it stops Chromium and tcpdump and
// writes OUT/chromium-h2.pcap, OUT/chromium-h2.keylog (Chromium's key log
// merged with the server's) and OUT/chromium-h2.truth.json. The truth is
// parsed from the plaintext the server really read and wrote on each TLS
// connection: the HTTP/2 frames (HPACK decoded) and, inside the DATA of
// each extended CONNECT stream, the WebSocket frames (control frames
// included), or an HTTP/1.1 upgrade and its frames. It is checked against
// the page's script and numbered as the dissector orders sessions: TCP
// connection (in capture order), then HTTP/2 stream id. The notes record
// Chromium's version and flags, each connection's ALPN and streams, and
// how each WebSocket was carried.
//
// It needs chromium and tcpdump, and root (or capture rights on lo):
//
//	go run ./tools/genchromeh2 -out testdata
//
// (For comparison only, the testdata capture uses the defaults:
// -xconnect=false leaves RFC 8441 off in x/net, -file-page loads the page
// from a file:// URL so that no HTTP/2 connection exists when the
// WebSockets open, -alpn http/1.1 offers no h2, -preconnect leaves
// Chromium's network prediction on, -chromium-flag adds a Chromium flag;
// -netlog writes Chromium's NetLog.)
//
// What Chromium 148 did here (NetLog and captures of the comparison runs):
// with no feature flag it sends the WebSockets as extended CONNECT streams
// on the HTTP/2 connection that loaded the page (NetLog
// HTTP2_SESSION_POOL_FOUND_EXISTING_SESSION), once the server's SETTINGS
// carried SETTINGS_ENABLE_CONNECT_PROTOCOL=1. It never opens an HTTP/2
// connection for a WebSocket: with -xconnect=false or -file-page each
// WebSocket gets its own TLS connection offering ALPN http/1.1 only and an
// HTTP/1.1 Upgrade.
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
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
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
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/internal/chromerec"
)

const name = "chromium-h2"

// Bounds on every loop.
const (
	maxConns    = 32     // TLS connections the server serves
	maxAccepts  = 320    // connections accepted in all (the rest closed)
	maxFrames   = 100000 // WebSocket or HTTP/2 frames read in one loop
	maxPackets  = 200000 // packets read back from the capture
	serverName  = "h2.example"
	wsPath      = "/chat"
	secondMsg   = "second session on the same connection"
	maxBodySize = 1 << 20
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func main() {
	out := flag.String("out", "testdata", "output directory")
	chromium := flag.String("chromium", "chromium", "Chromium binary")
	alpn := flag.String("alpn", "h2,http/1.1", "ALPN protocols the server offers, in order (the testdata capture uses the default)")
	xconnect := flag.Bool("xconnect", true, "enable RFC 8441 in x/net/http2 (GODEBUG=http2xconnect=1: SETTINGS_ENABLE_CONNECT_PROTOCOL=1)")
	netlog := flag.String("netlog", "", "also write Chromium's NetLog (--log-net-log) to this file")
	var extra multiFlag
	flag.Var(&extra, "chromium-flag", "an extra Chromium flag (repeatable), e.g. --enable-features=X")
	preconnect := flag.Bool("preconnect", false, "leave Chromium's network prediction on (it preconnects spare sockets to the page's origin; the testdata capture is made without)")
	filePage := flag.Bool("file-page", false, "load the page from a file:// URL instead of the server (for comparison: no HTTP/2 connection exists when the WebSockets open)")
	timeout := flag.Duration("timeout", 60*time.Second, "overall time limit")
	flag.Parse()
	has := strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1")
	if *xconnect && !has {
		os.Exit(reexec(*timeout))
	}
	if !*xconnect && has {
		fmt.Fprintln(os.Stderr, "genchromeh2: -xconnect=false but GODEBUG has http2xconnect=1")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cfg := config{out: *out, chromium: *chromium, alpn: strings.Split(*alpn, ","), xconnect: *xconnect,
		netlog: *netlog, extra: extra, filePage: *filePage, preconnect: *preconnect}
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "genchromeh2:", err)
		os.Exit(1)
	}
}

// reexec runs this program again with http2xconnect=1 added to GODEBUG
// (x/net/http2 reads it once, at start-up) and returns its exit code.
func reexec(timeout time.Duration) int {
	ctx, cancel := context.WithTimeout(context.Background(), timeout+20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], os.Args[1:]...)
	v := os.Getenv("GODEBUG")
	if v != "" {
		v += ","
	}
	cmd.Env = append(os.Environ(), "GODEBUG="+v+"http2xconnect=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "genchromeh2:", err)
		return 1
	}
	return 0
}

type config struct {
	out, chromium string
	alpn          []string
	xconnect      bool
	netlog        string
	extra         []string
	filePage      bool
	preconnect    bool
}

// page returns the page: two WebSockets to url (a JavaScript expression),
// one after the other, the first sending first, the second second.
func page(url string, first, second []string) string {
	return chromerec.Page("wsdissect "+name, `<link rel="icon" href="data:,">`,
		chromerec.PageSession{URL: url, Messages: first, TimeoutMS: 15000},
		chromerec.PageSession{URL: url, Messages: second, TimeoutMS: 15000})
}

// tcpConn is one TCP connection the server accepted, with the plaintext
// it read (c2s) and wrote (s2c) after the TLS handshake.
type tcpConn struct {
	remote    string
	plain     *chromerec.Plaintext
	mu        sync.Mutex
	alpn      string
	err       string // a handshake failure
	closed    chan struct{}
	closeOnce sync.Once
}

func (c *tcpConn) markClosed() { c.closeOnce.Do(func() { close(c.closed) }) }

// recTLS records a TLS connection's plaintext; *tls.Conn is embedded so
// that x/net/http2 still sees ConnectionState.
type recTLS struct {
	*tls.Conn
	c *tcpConn
}

func (r *recTLS) Read(b []byte) (int, error) { return r.c.plain.Read(r.Conn, b) }

func (r *recTLS) Write(b []byte) (int, error) { return r.c.plain.Write(r.Conn, b) }

func (r *recTLS) Close() error {
	err := r.Conn.Close()
	r.c.markClosed()
	return err
}

// chanListener hands the HTTP/1.1 connections to net/http.
type chanListener struct {
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
	addr net.Addr
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error   { l.once.Do(func() { close(l.done) }); return nil }
func (l *chanListener) Addr() net.Addr { return l.addr }

// wsEnd is how one WebSocket session ended, as the handler saw it.
type wsEnd struct {
	remote string
	proto  string
	ended  string
}

// server is the HTTPS server.
type server struct {
	ctx      context.Context
	page     []byte
	mu       sync.Mutex
	conns    []*tcpConn
	recs     []*recTLS
	ends     []wsEnd
	finished chan wsEnd
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodConnect && r.ProtoMajor == 2:
		if r.Header.Get(":protocol") != "websocket" || r.URL.Path != wsPath || r.Header.Get("Sec-WebSocket-Version") != "13" {
			http.Error(w, "bad extended CONNECT", http.StatusBadRequest)
			return
		}
		// No Sec-WebSocket-Extensions: permessage-deflate is declined.
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		if err := rc.Flush(); err != nil {
			return
		}
		ended := echo(r.Body, w, rc.Flush)
		s.sessionEnded(wsEnd{r.RemoteAddr, "HTTP/2 extended CONNECT", ended})
	case r.Method == http.MethodGet && r.URL.Path == wsPath && strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
		key := r.Header.Get("Sec-WebSocket-Key")
		if key == "" || r.Header.Get("Sec-WebSocket-Version") != "13" {
			http.Error(w, "bad upgrade", http.StatusBadRequest)
			return
		}
		conn, brw, ok := chromerec.Hijack(w, 40*time.Second)
		if !ok {
			return
		}
		defer conn.Close()
		if _, err := conn.Write(capgen.SwitchingProtocols(capgen.AcceptKey(key))); err != nil {
			return
		}
		ended := echo(brw.Reader, conn, nil)
		s.sessionEnded(wsEnd{r.RemoteAddr, "HTTP/1.1 Upgrade", ended})
	case r.Method == http.MethodGet && r.URL.Path == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(s.page)
	default:
		http.Error(w, "not found", http.StatusNotFound)
	}
}

func (s *server) sessionEnded(e wsEnd) {
	s.mu.Lock()
	s.ends = append(s.ends, e)
	s.mu.Unlock()
	select {
	case s.finished <- e:
	default:
	}
}

// echo serves a WebSocket on r and w: each text message M is answered with
// "echo: " + M, a ping with a pong, a close with close 1000 (then it
// returns). It returns how the session ended.
func echo(r io.Reader, w io.Writer, flush func() error) string {
	send := func(f capgen.Frame) error {
		if _, err := w.Write(f.Bytes()); err != nil {
			return err
		}
		if flush != nil {
			return flush()
		}
		return nil
	}
	var cur []byte
	var curOp uint8
	inMsg := false
	for range maxFrames {
		op, fin, payload, err := readFrame(r)
		if err != nil {
			return "read error before a close: " + err.Error()
		}
		switch {
		case op == capgen.OpClose:
			code := "no code"
			if len(payload) >= 2 {
				code = strconv.Itoa(int(binary.BigEndian.Uint16(payload)))
			}
			if err := send(capgen.Frame{Fin: true, Opcode: capgen.OpClose, Payload: capgen.ClosePayload(1000, "")}); err != nil {
				return "close " + code + " received, answer failed: " + err.Error()
			}
			return "close " + code + " received, answered close 1000"
		case op == capgen.OpPing:
			if err := send(capgen.Frame{Fin: true, Opcode: capgen.OpPong, Payload: payload}); err != nil {
				return "pong failed: " + err.Error()
			}
			continue
		case op == capgen.OpPong:
			continue
		case op == capgen.OpContinuation:
			if !inMsg {
				return "continuation without a message"
			}
			cur = append(cur, payload...)
		default:
			if inMsg {
				return "new message inside a fragmented one"
			}
			inMsg, curOp, cur = true, op, append([]byte(nil), payload...)
		}
		if !fin {
			continue
		}
		inMsg = false
		if curOp == capgen.OpText {
			if err := send(capgen.Frame{Fin: true, Opcode: capgen.OpText, Payload: append([]byte(chromerec.EchoPrefix), cur...)}); err != nil {
				return "echo failed: " + err.Error()
			}
		}
	}
	return "too many frames"
}

// readFrame reads one WebSocket frame and returns its opcode, FIN and
// unmasked payload.
func readFrame(r io.Reader) (op uint8, fin bool, payload []byte, err error) {
	var h [8]byte
	if _, err = io.ReadFull(r, h[:2]); err != nil {
		return
	}
	op, fin = h[0]&0xf, h[0]&0x80 != 0
	if h[0]&0x70 != 0 {
		return 0, false, nil, fmt.Errorf("RSV bits %#x set (no extension was negotiated)", h[0]&0x70)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err = io.ReadFull(r, h[:2]); err != nil {
			return
		}
		n = uint64(binary.BigEndian.Uint16(h[:2]))
	case 127:
		if _, err = io.ReadFull(r, h[:8]); err != nil {
			return
		}
		n = binary.BigEndian.Uint64(h[:8])
	}
	if n > maxBodySize {
		return 0, false, nil, fmt.Errorf("frame of %d bytes", n)
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err = io.ReadFull(r, key[:]); err != nil {
			return
		}
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return
	}
	if !masked {
		return 0, false, nil, errors.New("unmasked client frame")
	}
	for i := range payload {
		payload[i] ^= key[i%4]
	}
	return
}

// serveConn does the TLS handshake of one connection and serves it with
// x/net/http2 (ALPN h2) or hands it to net/http.
func (s *server) serveConn(raw net.Conn, tc *tcpConn, cfg *tls.Config, h2srv *http2.Server, h1 *chanListener) {
	tlsc := tls.Server(raw, cfg)
	tlsc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tlsc.HandshakeContext(s.ctx); err != nil {
		tc.mu.Lock()
		tc.err = "TLS handshake: " + err.Error()
		tc.mu.Unlock()
		raw.Close()
		tc.markClosed()
		return
	}
	tlsc.SetDeadline(time.Time{})
	tc.mu.Lock()
	tc.alpn = tlsc.ConnectionState().NegotiatedProtocol
	tc.mu.Unlock()
	rc := &recTLS{Conn: tlsc, c: tc}
	s.mu.Lock()
	s.recs = append(s.recs, rc)
	s.mu.Unlock()
	if tc.alpn == "h2" {
		h2srv.ServeConn(rc, &http2.ServeConnOpts{Context: s.ctx, Handler: s})
		rc.Close()
		return
	}
	select {
	case h1.ch <- rc:
	case <-s.ctx.Done():
		rc.Close()
	}
}

func (s *server) openConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.conns {
		select {
		case <-c.closed:
		default:
			n++
		}
	}
	return n
}

// start serves HTTPS on a new listener on 127.0.0.1 with tlsCfg: HTTP/2
// with x/net/http2 (ALPN h2), HTTP/1.1 with net/http. It returns the
// listener and a function that stops serving.
func (s *server) start(tlsCfg *tls.Config) (net.Listener, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, fmt.Errorf("listen: %w", err)
	}
	h1 := &chanListener{ch: make(chan net.Conn), done: make(chan struct{}), addr: ln.Addr()}
	h1srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go h1srv.Serve(h1)
	go s.accept(ln, tlsCfg, &http2.Server{}, h1)
	stop := func() {
		ln.Close()
		h1srv.Close()
		s.closeAll()
	}
	return ln, stop, nil
}

// accept serves the connections of ln (maxConns of them; up to maxAccepts
// more are closed at once).
func (s *server) accept(ln net.Listener, tlsCfg *tls.Config, h2srv *http2.Server, h1 *chanListener) {
	var seq atomic.Int64
	for i := 0; i < maxAccepts; i++ {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		if i >= maxConns {
			c.Close()
			continue
		}
		tc := &tcpConn{remote: c.RemoteAddr().String(), plain: chromerec.NewPlaintext(&seq), closed: make(chan struct{})}
		s.mu.Lock()
		s.conns = append(s.conns, tc)
		s.mu.Unlock()
		go s.serveConn(c, tc, tlsCfg, h2srv, h1)
	}
}

// closeAll closes the TLS connections being served.
func (s *server) closeAll() {
	s.mu.Lock()
	recs := slices.Clone(s.recs)
	s.mu.Unlock()
	for _, r := range recs {
		r.Close()
	}
}

// noPrediction turns network prediction off in Chromium's profile (the
// "Preload pages" setting: 2 is never): otherwise Chromium's loading
// predictor preconnects spare TLS sockets to the page's origin at
// navigation, which end unused once the HTTP/2 session exists.
func noPrediction(profile string) error {
	if err := os.MkdirAll(filepath.Join(profile, "Default"), 0o755); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	prefs := `{"net":{"network_prediction_options":2}}`
	if err := os.WriteFile(filepath.Join(profile, "Default", "Preferences"), []byte(prefs), 0o644); err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	return nil
}

// resolverRule maps h2.example to 127.0.0.1 and no other name: Chromium's
// own fetches from Google hosts fail name resolution at once, without a
// socket.
const resolverRule = "--host-resolver-rules=MAP " + serverName + " 127.0.0.1, MAP * ~NOTFOUND"

func run(ctx context.Context, cfg config) error {
	for _, a := range cfg.alpn {
		if a != "h2" && a != "http/1.1" {
			return fmt.Errorf("-alpn: %q is neither h2 nor http/1.1", a)
		}
	}
	rec, err := chromerec.NewRecorder(ctx, cfg.chromium, "genchromeh2", os.Stderr)
	if err != nil {
		return err
	}
	defer rec.Close()

	first, second := chromerec.PageMessages(), []string{secondMsg}
	srv := &server{ctx: ctx, finished: make(chan wsEnd, 16),
		page: []byte(page(`"wss://" + location.host + "`+wsPath+`"`, first, second))}
	cert, err := chromerec.SelfSigned([]string{serverName})
	if err != nil {
		return err
	}
	ln, stop, err := srv.start(&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: cfg.alpn,
		MinVersion: tls.VersionTLS13, KeyLogWriter: rec.KeyLog})
	if err != nil {
		return err
	}
	defer stop()
	port := ln.Addr().(*net.TCPAddr).Port

	if !cfg.preconnect {
		if err := noPrediction(rec.ProfileDir()); err != nil {
			return err
		}
	}
	url := fmt.Sprintf("https://%s:%d/", serverName, port)
	if cfg.filePage {
		// The same page from a file: no HTTP/2 connection to the server
		// exists when the page opens its WebSockets.
		pagePath := rec.Path("page.html")
		wsURL := strconv.Quote(fmt.Sprintf("wss://%s:%d%s", serverName, port, wsPath))
		if err := os.WriteFile(pagePath, []byte(page(wsURL, first, second)), 0o644); err != nil {
			return fmt.Errorf("write the page: %w", err)
		}
		url = "file://" + pagePath
	}
	var tail []string
	if cfg.netlog != "" {
		tail = append(tail, "--log-net-log="+cfg.netlog, "--net-log-capture-mode=Everything")
	}
	tail = append(append(tail, cfg.extra...), url)
	args := chromerec.Args(rec.ProfileDir(), []string{"--ignore-certificate-errors", resolverRule}, tail...)
	res, err := chromerec.Record(ctx, rec, chromerec.Plan{
		Port: port, Args: args, Stop: chromerec.TermBrowser, Sessions: 2,
		OpenConns: srv.openConns, CloseConns: srv.closeAll,
	}, srv.finished)
	if err != nil {
		return err
	}

	order, err := captureOrder(res.Pcap, port)
	if err != nil {
		return err
	}
	srv.mu.Lock()
	conns := slices.Clone(srv.conns)
	ends := slices.Clone(srv.ends)
	srv.mu.Unlock()
	truth, notes, err := buildTruth(conns, order, ends, [][]string{first, second})
	if err != nil {
		return err
	}
	truth.Notes = append(runNotes(cfg, rec.Version, url, port, first), notes...)
	if len(res.PageLog) > 0 {
		truth.Notes = append(truth.Notes, "the page logged: "+strings.Join(res.PageLog, "; "))
	}
	truth.Notes = append(truth.Notes, fmt.Sprintf("key log: Chromium's SSLKEYLOGFILE held %d TLS sessions, the server's KeyLogWriter %d, %d in both; %s.keylog is their union",
		res.KeyLog.Chromium, res.KeyLog.Go, res.KeyLog.Both, name))
	return res.Write(cfg.out, name, truth, os.Stderr)
}

// runNotes describe how the capture was made.
func runNotes(cfg config, chromeVersion, url string, port int, first []string) []string {
	flagsNote := "made by tools/genchromeh2 (run by hand): headless " + chromeVersion +
		" with --headless=new --no-sandbox --ignore-certificate-errors \"" + resolverRule +
		"\" (Chromium's own fetches from Google hosts fail name resolution without a socket), SSLKEYLOGFILE, the background-networking flags of tools/genchromeproxy"
	if len(cfg.extra) > 0 {
		flagsNote += " and " + strings.Join(cfg.extra, " ")
	} else {
		flagsNote += ", and no feature flag (no --enable-features)"
	}
	flagsNote += ", loading " + url
	if !cfg.preconnect {
		flagsNote += "; the profile's Preferences set net.network_prediction_options=2 (no preloading): otherwise Chromium's loading predictor also preconnects one or two spare TLS sockets to the page's origin at navigation, which are closed unused, or even before their handshake ends, once the HTTP/2 session exists (-preconnect keeps them)"
	}
	if cfg.filePage {
		flagsNote += " (-file-page: the page is not served by the server, Origin: null)"
	}
	xc := "with GODEBUG=http2xconnect=1 (RFC 8441 on)"
	if !cfg.xconnect {
		xc = "without GODEBUG=http2xconnect=1 (RFC 8441 off)"
	}
	return []string{
		flagsNote,
		"the server is Go crypto/tls 1.3 (self-signed certificate for " + serverName + ", ALPN offered " + fmt.Sprint(cfg.alpn) +
			") with golang.org/x/net/http2 " + xc + " and net/http for HTTP/1.1; it serves GET / (the page) and the WebSocket echo at " + wsPath +
			" (extended CONNECT :protocol websocket over HTTP/2, or an HTTP/1.1 Upgrade), answering each text message M with \"echo: \" + M and a close with close 1000, then ending the stream (the handler returns: END_STREAM, followed by x/net's RST_STREAM NO_ERROR when Chromium's side is still open) or, over HTTP/1.1, closing the connection",
		fmt.Sprintf("the page opens wss://%s:%d%s and sends \"hello 1\", \"hello 2\" and a %d-byte JSON text, each after the echo of the previous, then closes with 1000; then it opens a second WebSocket to the same URL, sends %q and closes with 1000",
			serverName, port, wsPath, len(first[2]), secondMsg),
		"permessage-deflate: Chromium offers it; the server declines it (no Sec-WebSocket-Extensions in its answer) to keep the truth plain text, so no frame is compressed",
		"captured with tcpdump -i lo -U --immediate-mode on the server's port only; the truth is parsed from the plaintext the server really read and wrote (HTTP/2 frames with HPACK decoded, the WebSocket frames in each stream's DATA), checked against the page's script; conn numbers the sessions by TCP connection in capture order, then HTTP/2 stream id",
	}
}

// captureOrder returns the client addresses of the capture's TCP
// connections to port, in the order of their first packet.
func captureOrder(pcap []byte, port int) ([]string, error) {
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		return nil, fmt.Errorf("read back the capture: %w", err)
	}
	var order []string
	for range maxPackets {
		data, _, err := r.ReadPacketData()
		if err == io.EOF {
			return order, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read back the capture: %w", err)
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.DecodeOptions{Lazy: true, NoCopy: true})
		ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
		tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		if ip == nil || tcp == nil {
			continue
		}
		client := net.JoinHostPort(ip.SrcIP.String(), strconv.Itoa(int(tcp.SrcPort)))
		if int(tcp.SrcPort) == port {
			client = net.JoinHostPort(ip.DstIP.String(), strconv.Itoa(int(tcp.DstPort)))
		}
		if !slices.Contains(order, client) {
			order = append(order, client)
		}
	}
	return nil, errors.New("too many packets in the capture")
}

// h2stream is one HTTP/2 stream as the server read and wrote it.
type h2stream struct {
	id         uint32
	req, resp  []hpack.HeaderField
	data       [2][]byte // [0] c2s, [1] s2c
	marks      [2][]chromerec.Mark
	endStream  [2]bool
	rst        [2]string
	dataFrames [2]int
}

func (st *h2stream) field(req bool, key string) string {
	fs := st.resp
	if req {
		fs = st.req
	}
	for _, f := range fs {
		if strings.EqualFold(f.Name, key) {
			return f.Value
		}
	}
	return ""
}

func (st *h2stream) isWebSocket() bool {
	return st.field(true, ":method") == "CONNECT" && st.field(true, ":protocol") == "websocket"
}

// h2conn is an HTTP/2 connection parsed from the server's plaintext.
type h2conn struct {
	streams  map[uint32]*h2stream
	order    []uint32
	settings [2][]string
	goaway   [2]string
	frames   [2]int
}

func (h *h2conn) stream(id uint32) *h2stream {
	st := h.streams[id]
	if st == nil {
		st = &h2stream{id: id}
		h.streams[id] = st
		h.order = append(h.order, id)
	}
	return st
}

type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}

// parseH2 parses both directions of an HTTP/2 connection.
func parseH2(c *tcpConn) (*h2conn, error) {
	h := &h2conn{streams: map[uint32]*h2stream{}}
	for d, c2s := range []bool{true, false} {
		data, marks := c.plain.Direction(c2s)
		base := 0
		if c2s {
			if !bytes.HasPrefix(data, []byte(http2.ClientPreface)) {
				return nil, fmt.Errorf("connection from %s: no HTTP/2 client preface", c.remote)
			}
			base = len(http2.ClientPreface)
		}
		cr := &countReader{r: bytes.NewReader(data[base:])}
		fr := http2.NewFramer(io.Discard, cr)
		fr.SetMaxReadFrameSize(1 << 24)
		fr.MaxHeaderListSize = 1 << 20
		fr.ReadMetaHeaders = hpack.NewDecoder(1<<16, nil)
		for n := 0; ; n++ {
			if n > maxFrames {
				return nil, errors.New("too many HTTP/2 frames")
			}
			f, err := fr.ReadFrame()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("connection from %s, c2s=%v, HTTP/2 frame %d: %w", c.remote, c2s, n, err)
			}
			h.frames[d]++
			seq := chromerec.SeqAt(marks, base+cr.n-1)
			id := f.Header().StreamID
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					var s []string
					f.ForeachSetting(func(st http2.Setting) error {
						s = append(s, fmt.Sprintf("%v=%d", st.ID, st.Val))
						return nil
					})
					h.settings[d] = append(h.settings[d], strings.Join(s, " "))
				}
			case *http2.GoAwayFrame:
				h.goaway[d] = fmt.Sprintf("GOAWAY %v last stream %d", f.ErrCode, f.LastStreamID)
			case *http2.MetaHeadersFrame:
				st := h.stream(id)
				if c2s && st.req == nil {
					st.req = f.Fields
				} else if !c2s && st.resp == nil {
					st.resp = f.Fields
				}
				if f.StreamEnded() {
					st.endStream[d] = true
				}
			case *http2.DataFrame:
				st := h.stream(id)
				st.data[d] = append(st.data[d], f.Data()...)
				st.marks[d] = append(st.marks[d], chromerec.Mark{End: len(st.data[d]), Seq: seq})
				st.dataFrames[d]++
				if f.StreamEnded() {
					st.endStream[d] = true
				}
			case *http2.RSTStreamFrame:
				h.stream(id).rst[d] = f.ErrCode.String()
			}
		}
	}
	return h, nil
}

// wsSession is one WebSocket session found in the recordings.
type wsSession struct {
	capIndex int    // TCP connection in capture order
	h2       uint32 // HTTP/2 stream id, 0 over HTTP/1.1
	conn     *tcpConn
	offered  string // Sec-WebSocket-Extensions offered
	answer   string // status
	answered string // Sec-WebSocket-Extensions answered
	how      string
	msgs     []chromerec.Message
}

// ordered is a TCP connection the server accepted, with its index in the
// capture.
type ordered struct {
	idx int
	c   *tcpConn
}

func buildTruth(conns []*tcpConn, order []string, ends []wsEnd, want [][]string) (*capgen.Truth, []string, error) {
	var notes []string
	var sessions []wsSession
	var oc []ordered
	for _, c := range conns {
		i := slices.Index(order, c.remote)
		if i < 0 {
			return nil, nil, fmt.Errorf("connection from %s is not in the capture", c.remote)
		}
		oc = append(oc, ordered{i, c})
	}
	slices.SortFunc(oc, func(a, b ordered) int { return a.idx - b.idx })
	if len(oc) != len(order) {
		notes = append(notes, fmt.Sprintf("the capture has %d TCP connections, the server accepted %d", len(order), len(oc)))
	}
	for _, o := range oc {
		note, ss, err := connSessions(o)
		if err != nil {
			return nil, nil, err
		}
		notes = append(notes, note)
		sessions = append(sessions, ss...)
	}
	slices.SortFunc(sessions, func(a, b wsSession) int {
		if a.capIndex != b.capIndex {
			return a.capIndex - b.capIndex
		}
		return int(a.h2) - int(b.h2)
	})
	if len(sessions) != len(want) {
		return nil, nil, fmt.Errorf("%d WebSocket sessions in the recordings, the page opens %d", len(sessions), len(want))
	}
	truth := &capgen.Truth{}
	for i, s := range sessions {
		kinds, err := chromerec.AddSession(truth, i, s.msgs, want[i])
		if err != nil {
			return nil, nil, err
		}
		end := "?"
		for _, e := range ends {
			if e.remote == s.conn.remote && (s.h2 == 0) == (e.proto == "HTTP/1.1 Upgrade") {
				end = e.ended
			}
		}
		answered := "without Sec-WebSocket-Extensions"
		if s.answered != "" {
			answered = fmt.Sprintf("with Sec-WebSocket-Extensions %q", s.answered)
		}
		notes = append(notes, fmt.Sprintf("conn %d: %s; Chromium offered Sec-WebSocket-Extensions %q, the server answered %s %s; the server saw the end as: %s; messages: %s",
			i, s.how, s.offered, s.answer, answered, end, strings.Join(kinds, ", ")))
	}
	return truth, notes, nil
}

// connSessions returns a note on one TCP connection and the WebSocket
// sessions it carried.
func connSessions(o ordered) (string, []wsSession, error) {
	c := o.c
	c.mu.Lock()
	alpn, herr := c.alpn, c.err
	c.mu.Unlock()
	c2s, _ := c.plain.Direction(true)
	s2c, _ := c.plain.Direction(false)
	port := c.remote[strings.LastIndex(c.remote, ":")+1:]
	switch {
	case herr != "":
		return fmt.Sprintf("TCP connection %d (Chromium port %s): %s", o.idx, port, herr), nil, nil
	case c.plain.Chunks() == 0:
		return fmt.Sprintf("TCP connection %d (Chromium port %s): TLS ALPN %q, no application data either way", o.idx, port, alpn), nil, nil
	case len(c2s) == 0:
		return fmt.Sprintf("TCP connection %d (Chromium port %s): TLS ALPN %q, Chromium sent no application data (not even the HTTP/2 preface); the server wrote %d bytes (its SETTINGS)",
			o.idx, port, alpn, len(s2c)), nil, nil
	case alpn == "h2":
		return h2Sessions(o, port)
	default:
		return http1Session(o, port, alpn)
	}
}

// h2Sessions returns a note on an HTTP/2 connection and the WebSocket
// sessions of its extended CONNECT streams.
func h2Sessions(o ordered, port string) (string, []wsSession, error) {
	h, err := parseH2(o.c)
	if err != nil {
		return "", nil, err
	}
	var desc []string
	var sessions []wsSession
	for _, id := range h.order {
		st := h.streams[id]
		desc = append(desc, st.describe())
		if !st.isWebSocket() {
			continue
		}
		s := wsSession{capIndex: o.idx, h2: id, conn: o.c, offered: st.field(true, "sec-websocket-extensions"),
			answer: st.field(false, ":status"), answered: st.field(false, "sec-websocket-extensions"),
			how: fmt.Sprintf("RFC 8441 extended CONNECT on HTTP/2 stream %d of TCP connection %d", id, o.idx)}
		if s.answer != "200" {
			return "", nil, fmt.Errorf("stream %d: extended CONNECT answered %s", id, s.answer)
		}
		for k, c2s := range []bool{true, false} {
			m, err := chromerec.ParseFrames(st.data[k], st.marks[k], c2s)
			if err != nil {
				return "", nil, fmt.Errorf("TCP connection %d stream %d c2s=%v: %w", o.idx, id, c2s, err)
			}
			s.msgs = append(s.msgs, m...)
		}
		sessions = append(sessions, s)
	}
	for k, who := range []string{"Chromium", "the server"} {
		if h.goaway[k] != "" {
			desc = append(desc, h.goaway[k]+" from "+who)
		}
	}
	note := fmt.Sprintf("TCP connection %d (Chromium port %s): TLS ALPN \"h2\"; Chromium's SETTINGS %s; the server's SETTINGS %s; %d HTTP/2 frames from Chromium, %d from the server; %s",
		o.idx, port, strings.Join(h.settings[0], " / "), strings.Join(h.settings[1], " / "), h.frames[0], h.frames[1], strings.Join(desc, "; "))
	return note, sessions, nil
}

// describe returns "stream ID REQUEST -> STATUS (ENDS)".
func (st *h2stream) describe() string {
	what := fmt.Sprintf("%s %s", st.field(true, ":method"), st.field(true, ":path"))
	if p := st.field(true, ":protocol"); p != "" {
		what = fmt.Sprintf("extended CONNECT :protocol %s :path %s", p, st.field(true, ":path"))
	}
	d := fmt.Sprintf("stream %d %s -> %s", st.id, what, st.field(false, ":status"))
	var ends []string
	for k, dir := range []string{"Chromium", "server"} {
		if st.endStream[k] {
			ends = append(ends, dir+" END_STREAM")
		}
		if st.rst[k] != "" {
			ends = append(ends, dir+" RST_STREAM "+st.rst[k])
		}
	}
	if len(ends) > 0 {
		d += " (" + strings.Join(ends, ", ") + ")"
	}
	return d
}

// http1Session returns a note on an HTTP/1.1 connection and its WebSocket
// session, if its first request is an upgrade.
func http1Session(o ordered, port, alpn string) (string, []wsSession, error) {
	h, err := chromerec.SplitHTTP1(o.c.plain)
	if err != nil {
		return "", nil, fmt.Errorf("TCP connection %d: %w", o.idx, err)
	}
	line := strings.SplitN(h.Req, "\r\n", 2)[0]
	status := strings.SplitN(h.Resp, "\r\n", 2)[0]
	note := fmt.Sprintf("TCP connection %d (Chromium port %s): TLS ALPN %q; first request %q -> %q", o.idx, port, alpn, line, status)
	if !strings.EqualFold(chromerec.Header(h.Req, "Upgrade"), "websocket") {
		if c2s, _ := o.c.plain.Direction(true); bytes.Contains(c2s, []byte("websocket")) {
			return "", nil, fmt.Errorf("TCP connection %d: a WebSocket upgrade after another request is not parsed", o.idx)
		}
		return note, nil, nil
	}
	s := wsSession{capIndex: o.idx, conn: o.c, offered: chromerec.Header(h.Req, "Sec-WebSocket-Extensions"),
		answer: strings.Fields(status)[1], answered: chromerec.Header(h.Resp, "Sec-WebSocket-Extensions"),
		how: fmt.Sprintf("HTTP/1.1 Upgrade on its own TCP connection %d (ALPN %q)", o.idx, alpn)}
	if s.msgs, err = h.Messages(); err != nil {
		return "", nil, fmt.Errorf("TCP connection %d: %w", o.idx, err)
	}
	return note, []wsSession{s}, nil
}
