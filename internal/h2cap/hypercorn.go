package h2cap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// ErrNoHypercorn is returned by BuildHypercorn when python3 cannot import
// hypercorn (Debian: apt-get install python3-hypercorn).
var ErrNoHypercorn = errors.New("h2cap: python3 with hypercorn is not available")

// hypercornPython returns a Python interpreter that can import hypercorn:
// the system one first (Debian's python3-hypercorn), then python3 on PATH.
func hypercornPython() string {
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(p, "-c", "import hypercorn, wsproto").Run() == nil {
			return p
		}
	}
	return ""
}

// HypercornAvailable reports whether BuildHypercorn can run.
func HypercornAvailable() bool { return hypercornPython() != "" }

// hypercornApp is the ASGI application hypercorn serves: WebSocket
// messages are echoed (text with an "echo: " prefix), other requests get a
// plain response.
const hypercornApp = `
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif m["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"plain response from hypercorn\n"})
        return
    if scope["type"] == "websocket":
        await receive()
        sub = scope.get("subprotocols") or []
        await send({"type": "websocket.accept", "subprotocol": sub[0] if sub else None})
        while True:
            m = await receive()
            if m["type"] == "websocket.disconnect":
                return
            if m.get("text") is not None:
                await send({"type": "websocket.send", "text": "echo: " + m["text"]})
            else:
                await send({"type": "websocket.send", "bytes": m["bytes"]})
`

// readRecConn records the client's writes and the server's bytes as the
// client reads them, in one ordered log (the server runs in another
// process).
type readRecConn struct {
	net.Conn
	mu  sync.Mutex
	log []capgen.Write
}

func (c *readRecConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.log = append(c.log, capgen.Write{From: capgen.Client, Data: bytes.Clone(p[:n])})
	}
	return n, err
}

func (c *readRecConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.log = append(c.log, capgen.Write{From: capgen.Server, Data: bytes.Clone(p[:n])})
		c.mu.Unlock()
	}
	return n, err
}

// BuildHypercorn records h2c-hypercorn: Python's hypercorn (RFC 8441 over
// prior-knowledge h2c; its WebSocket frames written by wsproto, including
// permessage-deflate) answering x/net's http2.Transport over 127.0.0.1.
func BuildHypercorn(ctx context.Context) (Output, error) {
	if !Enabled() {
		return Output{}, fmt.Errorf("h2cap: x/net/http2 enables extended CONNECT only with GODEBUG=http2xconnect=1")
	}
	python := hypercornPython()
	if python == "" {
		return Output{}, ErrNoHypercorn
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "h2cap-hypercorn")
	if err != nil {
		return Output{}, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "wsapp.py"), []byte(hypercornApp), 0o644); err != nil {
		return Output{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Output{}, err
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.CommandContext(ctx, python, "-m", "hypercorn", "--bind", addr, "wsapp:app")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return Output{}, err
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	var raw net.Conn
	for i := 0; i < 200; i++ {
		if raw, err = net.Dial("tcp", addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if raw == nil {
		return Output{}, fmt.Errorf("h2cap: hypercorn did not start: %v: %s", err, stderr.String())
	}
	rc := &readRecConn{Conn: raw}
	tr := &http2.Transport{AllowHTTP: true}
	cc, err := tr.NewClientConn(rc)
	if err != nil {
		return Output{}, err
	}
	x := &xnetScenario{}
	type ws struct {
		w    *io.PipeWriter
		r    io.Reader
		body io.Closer
	}
	open := func(path string, hdr map[string]string) (*ws, error) {
		pr, pw := io.Pipe()
		req, err := http.NewRequestWithContext(ctx, http.MethodConnect, "http://"+addr+path, pr)
		if err != nil {
			return nil, err
		}
		req.Header.Set(":protocol", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := cc.RoundTrip(req)
		if err != nil {
			return nil, fmt.Errorf("extended CONNECT %s: %w", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("extended CONNECT %s: status %d", path, resp.StatusCode)
		}
		return &ws{w: pw, r: resp.Body, body: resp.Body}, nil
	}
	// exchange sends one client message and reads the server's answer; the
	// truth gets the message and the answer as the app sends it.
	exchange := func(conn int, s *ws, op uint8, payload []byte, defl *capgen.Deflater, answerOp uint8, answer []byte) error {
		wire := payload
		if defl != nil {
			var err error
			if wire, err = defl.Compress(payload); err != nil {
				return err
			}
		}
		if _, err := s.w.Write(x.m.wsFrame(capgen.Client, true, defl != nil, op, wire)); err != nil {
			return err
		}
		x.truth = append(x.truth, capgen.TruthMessage{Conn: conn, Dir: "c2s", Opcode: op, Payload: bytes.Clone(payload)})
		gotOp, _, err := readMessage(s.r)
		if err != nil {
			return fmt.Errorf("conn %d: reading the answer: %w", conn, err)
		}
		if gotOp != answerOp {
			return fmt.Errorf("conn %d: answer opcode %d, want %d", conn, gotOp, answerOp)
		}
		x.truth = append(x.truth, capgen.TruthMessage{Conn: conn, Dir: "s2c", Opcode: answerOp, Payload: bytes.Clone(answer)})
		return nil
	}
	steps := func() error {
		a, err := open("/ws/echo", map[string]string{"Sec-WebSocket-Protocol": "chat"})
		if err != nil {
			return err
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/plain", nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b, err := open("/ws/deflate", map[string]string{"Sec-WebSocket-Extensions": "permessage-deflate"})
		if err != nil {
			return err
		}
		cd, err := capgen.NewDeflater(15, true)
		if err != nil {
			return err
		}
		bin := bytes.Repeat([]byte{7, 7, 7, 1, 2, 3}, 300)
		long := strings.Repeat("hypercorn over h2 ", 200)
		bye := capgen.ClosePayload(1000, "bye")
		for _, st := range []func() error{
			func() error {
				return exchange(0, a, capgen.OpText, []byte("hello hypercorn"), nil, capgen.OpText, []byte("echo: hello hypercorn"))
			},
			func() error {
				return exchange(0, a, capgen.OpPing, []byte("client ping"), nil, capgen.OpPong, []byte("client ping"))
			},
			func() error {
				return exchange(1, b, capgen.OpText, []byte(long), cd, capgen.OpText, []byte("echo: "+long))
			},
			func() error { return exchange(0, a, capgen.OpBinary, bin, nil, capgen.OpBinary, bin) },
			func() error { return exchange(1, b, capgen.OpBinary, bin, cd, capgen.OpBinary, bin) },
			func() error {
				return exchange(1, b, capgen.OpText, []byte(long+"again"), cd, capgen.OpText, []byte("echo: "+long+"again"))
			},
			func() error { return exchange(0, a, capgen.OpClose, bye, nil, capgen.OpClose, bye) },
			func() error { return exchange(1, b, capgen.OpClose, bye, nil, capgen.OpClose, bye) },
		} {
			if err := st(); err != nil {
				return err
			}
		}
		a.w.Close()
		b.w.Close()
		// Wait for the server's END_STREAMs.
		io.Copy(io.Discard, a.r)
		io.Copy(io.Discard, b.r)
		return nil
	}
	err = steps()
	time.Sleep(50 * time.Millisecond)
	cc.Close()
	raw.Close()
	if err != nil {
		return Output{}, fmt.Errorf("h2c-hypercorn: %w (hypercorn: %s)", err, stderr.String())
	}
	rc.mu.Lock()
	writes := append([]capgen.Write(nil), rc.log...)
	rc.mu.Unlock()
	pcap, err := wrapTCP(flightsOf(writes), "10.8.0.4:8000")
	if err != nil {
		return Output{}, fmt.Errorf("h2c-hypercorn: %w", err)
	}
	return Output{Name: "h2c-hypercorn", Pcap: pcap, Truth: &capgen.Truth{Messages: x.truth, Notes: []string{
		"recorded from Python hypercorn 0.13 (RFC 8441 over prior-knowledge h2c; server WebSocket frames by wsproto, permessage-deflate included) and golang.org/x/net/http2's Transport (GODEBUG=http2xconnect=1) over 127.0.0.1; both directions recorded at the client; TCP segmentation, addresses and timestamps are synthetic",
		"client WebSocket frames written with capgen's frame encoder and Deflater; conn 0 is HTTP/2 stream 1 (subprotocol chat), stream 3 is a plain GET, conn 1 is stream 5 (permessage-deflate)",
		"server messages are listed as the ASGI app sent them (echoes); pongs and the close answer are wsproto's",
		"hypercorn 0.13 never ends a WebSocket stream with END_STREAM: the client's END_STREAMs and the connection's end close the sessions",
	}}}, nil
}
