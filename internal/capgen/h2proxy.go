package capgen

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// H2Tunnel is one tunnel WrapH2Proxy asks its proxy for.
type H2Tunnel struct {
	// Target is the CONNECT's :authority (host:port).
	Target string
	// Auth adds a Proxy-Authorization header (Basic user:proxy-secret).
	Auth bool
	// Status is the proxy's answer; 0 means 200. A tunnel answered
	// otherwise carries nothing (Rec is ignored).
	Status int
	// Rec runs in the tunnel: its writes are sent through it in order.
	Rec *Recording
}

// WrapH2Proxy returns the connection of a client to a proxy that speaks
// HTTP/2, as Chromium talks to an HTTPS proxy that offers h2: one
// connection (TLS with ALPN h2 when opts is set, else HTTP/2 with prior
// knowledge in clear), one CONNECT stream per tunnel (RFC 9113 8.5), and
// the tunnels' recordings sent through their streams interleaved, a write
// of each in turn. Both ends are golang.org/x/net/http2 (Transport and
// Server) over a loopback TCP connection; each write is read by the other
// end before the next is made, so the streams' bytes are in the recordings'
// order. The result's truth numbers the tunnels' connections in order from
// 0 (Conn), its key log holds the proxy session's secrets then the
// tunnels'.
func WrapH2Proxy(tunnels []H2Tunnel, opts *TLSOptions) (*Recording, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kl := &SyncBuffer{}
	var srvCfg, cliCfg *tls.Config
	if opts != nil {
		o := *opts
		if o.ServerName == "" {
			o.ServerName = "proxy.example"
		}
		o.ALPN = []string{"h2"}
		var err error
		if srvCfg, cliCfg, err = o.tlsConfigs(kl); err != nil {
			return nil, fmt.Errorf("h2 proxy: %w", err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("h2 proxy: %w", err)
	}
	defer ln.Close()
	log := &writeLog{}
	ends := make(chan *pipeEnd, len(tunnels))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusBadRequest
		if r.Method == http.MethodConnect {
			for _, t := range tunnels {
				if t.Target == r.Host {
					status = max(t.Status, http.StatusOK)
				}
			}
		}
		if status != http.StatusOK {
			w.WriteHeader(status)
			return
		}
		w.WriteHeader(http.StatusOK)
		fl := w.(http.Flusher)
		fl.Flush()
		e := newPipeEnd(r.Body, w, fl.Flush)
		ends <- e
		select {
		case <-e.done:
		case <-ctx.Done():
		}
	})
	srvDone := make(chan struct{})
	go func() {
		defer close(srvDone)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var sc net.Conn = &recConn{Conn: c, side: Server, log: log}
		if srvCfg != nil {
			tc := tls.Server(sc, srvCfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				return
			}
			sc = tc
		}
		(&http2.Server{}).ServeConn(sc, &http2.ServeConnOpts{Context: ctx, Handler: handler})
	}()
	raw, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("h2 proxy: %w", err)
	}
	defer raw.Close()
	var cc net.Conn = &recConn{Conn: raw, side: Client, log: log}
	if cliCfg != nil {
		tc := tls.Client(cc, cliCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("h2 proxy: TLS handshake: %w", err)
		}
		cc = tc
	}
	conn, err := (&http2.Transport{AllowHTTP: true}).NewClientConn(cc)
	if err != nil {
		return nil, fmt.Errorf("h2 proxy: %w", err)
	}
	// Open the tunnels in order, then send their recordings interleaved.
	type open struct {
		cl, sv *pipeEnd
		rec    *Recording
		next   int
	}
	var opened []*open
	out := &Recording{Name: "h2-proxy"}
	for _, t := range tunnels {
		pr, pw := io.Pipe()
		req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Host: t.Target}, Host: t.Target,
			Header: http.Header{"User-Agent": {"wsdissect-capgen"}}, Body: pr, ContentLength: -1}
		if t.Auth {
			req.Header.Set("Proxy-Authorization", "Basic dXNlcjpwcm94eS1zZWNyZXQ=") // user:proxy-secret
		}
		resp, err := conn.RoundTrip(req.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("h2 proxy: CONNECT %s: %w", t.Target, err)
		}
		if t.Status != 0 && t.Status != http.StatusOK {
			if resp.StatusCode != t.Status {
				return nil, fmt.Errorf("h2 proxy: CONNECT %s: status %d, want %d", t.Target, resp.StatusCode, t.Status)
			}
			resp.Body.Close()
			pw.Close()
			continue
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("h2 proxy: CONNECT %s: status %d", t.Target, resp.StatusCode)
		}
		var sv *pipeEnd
		select {
		case sv = <-ends:
		case <-ctx.Done():
			return nil, fmt.Errorf("h2 proxy: CONNECT %s: %w", t.Target, ctx.Err())
		}
		cl := newPipeEnd(resp.Body, pw, func() {})
		idx := len(opened)
		opened = append(opened, &open{cl: cl, sv: sv, rec: t.Rec})
		for _, m := range t.Rec.Truth {
			m.Conn = idx
			out.Truth = append(out.Truth, m)
		}
	}
	for sent := true; sent; {
		sent = false
		for _, o := range opened {
			if o.next >= len(o.rec.Writes) {
				continue
			}
			w := o.rec.Writes[o.next]
			o.next++
			from, to := o.cl, o.sv
			if w.From == Server {
				from, to = o.sv, o.cl
			}
			if err := from.send(to, w.Data); err != nil {
				return nil, fmt.Errorf("h2 proxy: %s: %w", o.rec.Name, err)
			}
			sent = true
		}
	}
	// Each tunnel ends with END_STREAM both ways, the client's first: the
	// handler returns once the server read it (returning before would
	// reset the stream).
	for _, o := range opened {
		o.cl.w.(io.Closer).Close()
		err := o.sv.waitEOF()
		close(o.sv.done)
		if err == nil {
			err = o.cl.waitEOF()
		}
		if err != nil {
			return nil, fmt.Errorf("h2 proxy: %s: %w", o.rec.Name, err)
		}
	}
	// A last request round trip, so the END_STREAMs are on the wire
	// before the connection closes.
	if err := conn.Ping(ctx); err != nil {
		return nil, fmt.Errorf("h2 proxy: ping: %w", err)
	}
	raw.Close()
	select {
	case <-srvDone:
	case <-time.After(5 * time.Second):
		return nil, errors.New("h2 proxy: the server did not finish")
	}
	out.Writes = log.snapshot()
	out.KeyLog = kl.Bytes()
	for _, o := range opened {
		out.KeyLog = append(out.KeyLog, o.rec.KeyLog...)
	}
	return out, nil
}

// pipeEnd is one end of a tunnel's stream: what it reads (counted, so the
// writer can wait for it) and what it writes.
type pipeEnd struct {
	w     io.Writer
	flush func()
	done  chan struct{} // closed to end the server's handler

	mu   sync.Mutex
	got  int
	eof  bool
	err  error
	more chan struct{} // signalled after each read
}

// newPipeEnd starts reading r in the background.
func newPipeEnd(r io.Reader, w io.Writer, flush func()) *pipeEnd {
	e := &pipeEnd{w: w, flush: flush, done: make(chan struct{}), more: make(chan struct{}, 1)}
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Read(buf)
			e.mu.Lock()
			e.got += n
			if err != nil {
				e.eof = true
				if err != io.EOF {
					e.err = err
				}
			}
			stop := e.eof
			e.mu.Unlock()
			select {
			case e.more <- struct{}{}:
			default:
			}
			if stop {
				return
			}
		}
	}()
	return e
}

// state returns the bytes read so far and whether the reading ended.
func (e *pipeEnd) state() (int, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.got, e.eof, e.err
}

// wait blocks until cond holds of the end's reading, or times out.
func (e *pipeEnd) wait(cond func(got int, eof bool) bool) error {
	deadline := time.After(10 * time.Second)
	for {
		got, eof, err := e.state()
		if err != nil {
			return err
		}
		if cond(got, eof) {
			return nil
		}
		if eof {
			return fmt.Errorf("stream ended after %d bytes", got)
		}
		select {
		case <-e.more:
		case <-deadline:
			return fmt.Errorf("timed out with %d bytes read", got)
		}
	}
}

// send writes b from e and waits until the other end, to, has read it.
func (e *pipeEnd) send(to *pipeEnd, b []byte) error {
	before, _, _ := to.state()
	if _, err := e.w.Write(b); err != nil {
		return err
	}
	e.flush()
	return to.wait(func(got int, _ bool) bool { return got >= before+len(b) })
}

// waitEOF waits until the end has read the end of its stream.
func (e *pipeEnd) waitEOF() error {
	return e.wait(func(_ int, eof bool) bool { return eof })
}
