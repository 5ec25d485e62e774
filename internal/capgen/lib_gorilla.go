package capgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// gorillaLib records github.com/gorilla/websocket peers.
type gorillaLib struct{}

// controlWait bounds gorilla's control frame writes.
const controlWait = 5 * time.Second

func (gorillaLib) handler(sc *Scenario, ch chan<- acceptResult) http.Handler {
	up := &websocket.Upgrader{
		WriteBufferSize:   sc.WriteBufferSize,
		Subprotocols:      sc.Subprotocols,
		EnableCompression: sc.Compression != NoCompression,
	}
	if sc.AnyOrigin {
		up.CheckOrigin = func(*http.Request) bool { return true }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// A refusal is written by net/http; a fixed Date keeps it
		// deterministic (the 101 is written by gorilla, without Date).
		w.Header().Set("Date", fixedDate)
		c, err := up.Upgrade(w, r, sc.ResponseHeader.Clone())
		if err != nil {
			ch <- acceptResult{err: err}
			return
		}
		ch <- acceptResult{p: newGorillaPeer(c)}
	})
}

func (gorillaLib) dial(ctx context.Context, sc *Scenario, url string, dial dialFunc) (peer, error) {
	d := &websocket.Dialer{
		NetDialContext:    dial,
		WriteBufferSize:   sc.WriteBufferSize,
		Subprotocols:      sc.Subprotocols,
		EnableCompression: sc.Compression != NoCompression,
		HandshakeTimeout:  10 * time.Second,
	}
	c, resp, err := d.DialContext(ctx, url, sc.RequestHeader.Clone())
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	return newGorillaPeer(c), nil
}

type gorillaPeer struct {
	c    *websocket.Conn
	ev   chan event
	pong chan []byte
	done chan struct{}
	once sync.Once
}

func newGorillaPeer(c *websocket.Conn) *gorillaPeer {
	p := &gorillaPeer{c: c, ev: make(chan event, 8), pong: make(chan []byte, 4), done: make(chan struct{})}
	c.SetPongHandler(func(data string) error {
		select {
		case p.pong <- []byte(data):
		default:
		}
		return nil
	})
	go readerLoop(p.ev, p.done, func() event {
		mt, data, err := c.ReadMessage()
		if err != nil {
			ev := event{err: err, closeCode: -1}
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				ev.closeCode, ev.reason = ce.Code, ce.Text
			}
			return ev
		}
		op := OpText
		if mt == websocket.BinaryMessage {
			op = OpBinary
		}
		return event{opcode: op, payload: data, closeCode: -1}
	})
	return p
}

func gorillaType(op uint8) int {
	if op == OpBinary {
		return websocket.BinaryMessage
	}
	return websocket.TextMessage
}

func (p *gorillaPeer) write(ctx context.Context, st Step, midPing func() error) error {
	if d, ok := ctx.Deadline(); ok {
		if err := p.c.SetWriteDeadline(d); err != nil {
			return err
		}
	}
	if len(st.Chunks) == 0 {
		return p.c.WriteMessage(gorillaType(st.Opcode), st.Payload)
	}
	w, err := p.c.NextWriter(gorillaType(st.Opcode))
	if err != nil {
		return err
	}
	return writeChunks(w, st, midPing)
}

func (p *gorillaPeer) ping(ctx context.Context, payload []byte) ([]byte, error) {
	if err := p.c.WriteControl(websocket.PingMessage, payload, time.Now().Add(controlWait)); err != nil {
		return nil, err
	}
	select {
	case got := <-p.pong:
		if !bytes.Equal(got, payload) {
			return nil, fmt.Errorf("pong %q does not answer ping %q", got, payload)
		}
		return bytes.Clone(payload), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for pong: %w", ctx.Err())
	}
}

func (p *gorillaPeer) startClose(_ context.Context, code uint16, reason string) error {
	msg := websocket.FormatCloseMessage(int(code), reason)
	return p.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(controlWait))
}

// closeEcho: gorilla's default close handler answers with the code only.
func (p *gorillaPeer) closeEcho(code uint16, _ string) []byte {
	return websocket.FormatCloseMessage(int(code), "")
}

func (p *gorillaPeer) events() <-chan event { return p.ev }

func (p *gorillaPeer) shutdown() {
	p.once.Do(func() {
		close(p.done)
		_ = p.c.Close()
		for range p.ev {
		}
	})
}
