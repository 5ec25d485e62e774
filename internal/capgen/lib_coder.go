package capgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/coder/websocket"
)

// coderLib records github.com/coder/websocket peers.
type coderLib struct{}

func coderMode(c Compression) websocket.CompressionMode {
	switch c {
	case ContextTakeover:
		return websocket.CompressionContextTakeover
	case NoContextTakeover:
		return websocket.CompressionNoContextTakeover
	}
	return websocket.CompressionDisabled
}

func (coderLib) handler(sc *Scenario, ch chan<- acceptResult) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", fixedDate)
		for k, vs := range sc.ResponseHeader {
			w.Header()[k] = append([]string(nil), vs...)
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
			Subprotocols:         sc.Subprotocols,
			CompressionMode:      coderMode(sc.Compression),
			CompressionThreshold: sc.CompressionThreshold,
			InsecureSkipVerify:   sc.AnyOrigin,
		})
		if err != nil {
			ch <- acceptResult{err: err}
			return
		}
		ch <- acceptResult{p: newCoderPeer(c)}
	})
}

func (coderLib) dial(ctx context.Context, sc *Scenario, url string, dial dialFunc) (peer, error) {
	tr := &http.Transport{DialContext: dial, DisableCompression: true}
	defer tr.CloseIdleConnections()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPClient:           &http.Client{Transport: tr},
		HTTPHeader:           sc.RequestHeader.Clone(),
		Subprotocols:         sc.Subprotocols,
		CompressionMode:      coderMode(sc.Compression),
		CompressionThreshold: sc.CompressionThreshold,
	})
	if err != nil {
		return nil, err
	}
	return newCoderPeer(c), nil
}

type coderPeer struct {
	c      *websocket.Conn
	ev     chan event
	done   chan struct{}
	cancel context.CancelFunc
	pings  int
	once   sync.Once
}

func newCoderPeer(c *websocket.Conn) *coderPeer {
	c.SetReadLimit(1 << 24)
	ctx, cancel := context.WithCancel(context.Background())
	p := &coderPeer{c: c, ev: make(chan event, 8), done: make(chan struct{}), cancel: cancel}
	go readerLoop(p.ev, p.done, func() event {
		typ, data, err := c.Read(ctx)
		if err != nil {
			ev := event{err: err, closeCode: -1}
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				ev.closeCode, ev.reason = int(ce.Code), ce.Reason
			}
			return ev
		}
		op := OpText
		if typ == websocket.MessageBinary {
			op = OpBinary
		}
		return event{opcode: op, payload: data, closeCode: -1}
	})
	return p
}

func coderType(op uint8) websocket.MessageType {
	if op == OpBinary {
		return websocket.MessageBinary
	}
	return websocket.MessageText
}

func (p *coderPeer) write(ctx context.Context, st Step, midPing func() error) error {
	if len(st.Chunks) == 0 {
		return p.c.Write(ctx, coderType(st.Opcode), st.Payload)
	}
	w, err := p.c.Writer(ctx, coderType(st.Opcode))
	if err != nil {
		return err
	}
	return writeChunks(w, st, midPing)
}

func (p *coderPeer) ping(ctx context.Context, _ []byte) ([]byte, error) {
	// coder numbers its pings "1", "2", ... per connection.
	p.pings++
	if err := p.c.Ping(ctx); err != nil {
		return nil, err
	}
	return []byte(strconv.Itoa(p.pings)), nil
}

func (p *coderPeer) startClose(_ context.Context, code uint16, reason string) error {
	err := p.c.Close(websocket.StatusCode(code), reason)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("coder close: %w", err)
	}
	return nil
}

// closeEcho: coder answers a close frame with the same code and reason.
func (p *coderPeer) closeEcho(code uint16, reason string) []byte {
	return ClosePayload(code, reason)
}

func (p *coderPeer) events() <-chan event { return p.ev }

func (p *coderPeer) shutdown() {
	p.once.Do(func() {
		close(p.done)
		_ = p.c.CloseNow()
		p.cancel()
		for range p.ev {
		}
	})
}
