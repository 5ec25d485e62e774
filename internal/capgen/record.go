package capgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"time"
)

// Library names a real WebSocket implementation used as both peers.
type Library uint8

const (
	// Coder is github.com/coder/websocket.
	Coder Library = iota + 1
	// Gorilla is github.com/gorilla/websocket.
	Gorilla
)

// String returns "coder" or "gorilla".
func (l Library) String() string {
	switch l {
	case Coder:
		return "coder"
	case Gorilla:
		return "gorilla"
	}
	return fmt.Sprintf("library-%d", uint8(l))
}

// Compression selects permessage-deflate negotiation.
type Compression uint8

const (
	// NoCompression does not offer permessage-deflate.
	NoCompression Compression = iota
	// ContextTakeover negotiates permessage-deflate keeping the sliding
	// window across messages (coder only).
	ContextTakeover
	// NoContextTakeover negotiates client_no_context_takeover and
	// server_no_context_takeover (coder; gorilla's only mode).
	NoContextTakeover
)

// StepKind is what a scenario step does.
type StepKind uint8

const (
	// SendMessage sends one data message.
	SendMessage StepKind = iota
	// SendPing sends a ping and waits for the pong.
	SendPing
)

// Step is one action of a scenario, performed by the library on side From.
// Steps run one after the other: a message step ends when the peer library
// has received the message, a ping step when the pong arrived.
type Step struct {
	// From is the side whose library acts.
	From Side
	// Kind is the action.
	Kind StepKind
	// Opcode is OpText or OpBinary for SendMessage.
	Opcode uint8
	// Payload is the message payload, or for a gorilla SendPing the ping's
	// application data (coder chooses its own ping payloads: "1", "2", ...).
	Payload []byte
	// Chunks, when set, streams the message through the library's message
	// writer with one Write call per chunk size (the last size repeats), so
	// the library fragments it as it sees fit.
	Chunks []int
	// PingAfter, with Chunks, makes From send a ping after that many chunks
	// were written, so the ping frame can land between the fragments.
	PingAfter int
	// PingPayload is the application data of that ping (gorilla only).
	PingPayload []byte
}

// CloseSpec is the closing handshake of a scenario. A zero Code skips the
// WebSocket closing handshake (the TCP connection is still closed).
type CloseSpec struct {
	// From is the side that sends the first close frame.
	From Side
	// Code is that close frame's status code.
	Code uint16
	// Reason is that close frame's reason text.
	Reason string
}

// Scenario is a data-driven conversation between two real library peers.
type Scenario struct {
	// Name identifies the scenario in errors.
	Name string
	// Library is used on both sides.
	Library Library
	// Compression selects permessage-deflate.
	Compression Compression
	// CompressionThreshold is passed to coder's Dial and Accept options. Note
	// that coder treats 0 as its default (128 or 512 bytes); 1 compresses
	// every non-empty message and -1 every message, including empty ones.
	CompressionThreshold int
	// WriteBufferSize is gorilla's write buffer size; a message longer than
	// it is sent in several frames. Zero selects gorilla's default (4096).
	WriteBufferSize int
	// Host is the URL host and Host header; default "10.1.0.2:8080" (the
	// default ConnConfig server). The actual connection goes to a random
	// port on 127.0.0.1.
	Host string
	// Path is the request target; default "/ws".
	Path string
	// Subprotocols are offered by the client and accepted by the server.
	Subprotocols []string
	// RequestHeader is added to the client's upgrade request (Origin,
	// Cookie, Authorization, ...).
	RequestHeader http.Header
	// AnyOrigin makes the server accept every Origin (gorilla's CheckOrigin
	// returning true, coder's InsecureSkipVerify). Without it both libraries
	// refuse with 403 an Origin whose host differs from the Host header.
	AnyOrigin bool
	// ResponseHeader is added to the server's 101 response. Gorilla writes
	// it in map order, so give it one field for a deterministic capture; a
	// Sec-WebSocket-Protocol here is selected by gorilla even if not offered
	// when Subprotocols is empty. Coder's response goes through net/http,
	// which sorts the fields.
	ResponseHeader http.Header
	// Rejected says the server is expected to refuse the upgrade: the
	// recording then holds only the HTTP request and response, and the
	// scenario must have no steps and no close.
	Rejected bool
	// Steps run in order.
	Steps []Step
	// Close ends the conversation.
	Close CloseSpec
	// TLS, when set, runs the conversation over TLS (wss://).
	TLS *TLSOptions
}

// Write is one Write call of a library on its network connection.
type Write struct {
	// From is the writing side.
	From Side
	// Data are the bytes written.
	Data []byte
}

// Recording is the application-level traffic of one scenario run.
type Recording struct {
	// Name is the scenario name.
	Name string
	// Writes are the Write calls of both sides in the order they happened.
	Writes []Write
	// Truth lists the messages as given to the libraries (Conn is 0, or
	// numbers the connections a recording carries: tunnels through an
	// HTTP/2 proxy, see WrapH2Proxy), in the
	// order their last frame was written. Auto-generated replies (pongs and
	// the answer to a close frame) are listed with the payload the library
	// sends, which is checked against the recorded bytes.
	Truth []TruthMessage
	// Spans holds, for each Truth message, the stream offsets of its frames
	// (first header byte to end of the last frame) in the sender's stream,
	// where offset 0 is the first byte of the HTTP request or response.
	// Recordings over TLS have no Spans (the stream is TLS records), so their
	// replays never mark messages Partial or Absent.
	Spans []Range
	// KeyLog is the NSS key log of a recording over TLS (the client's
	// crypto/tls KeyLogWriter output); nil without TLS.
	KeyLog []byte
}

// Stream returns the concatenated bytes side wrote.
func (r *Recording) Stream(side Side) []byte {
	var b []byte
	for _, w := range r.Writes {
		if w.From == side {
			b = append(b, w.Data...)
		}
	}
	return b
}

// fixedDate replaces the Date header net/http would add to coder's 101
// response, so the recording does not depend on the wall clock.
const fixedDate = "Tue, 02 Jan 2024 03:04:05 GMT"

// writeLog is the shared, ordered log of both sides' writes.
type writeLog struct {
	mu     sync.Mutex
	writes []Write
}

// write writes p to c and logs what was written. The lock is held during the
// write so the peer cannot log a reply before the bytes it answers.
func (l *writeLog) write(side Side, c net.Conn, p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := c.Write(p)
	if n > 0 {
		l.writes = append(l.writes, Write{From: side, Data: bytes.Clone(p[:n])})
	}
	return n, err
}

func (l *writeLog) snapshot() []Write {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Write(nil), l.writes...)
}

// recConn records every Write.
type recConn struct {
	net.Conn
	side Side
	log  *writeLog
}

// Write writes p to the connection and logs it.
func (c *recConn) Write(p []byte) (int, error) { return c.log.write(c.side, c.Conn, p) }

// recListener wraps accepted connections in recConn.
type recListener struct {
	net.Listener
	log *writeLog
}

// Accept returns the next connection, wrapped for recording.
func (l *recListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &recConn{Conn: c, side: Server, log: l.log}, nil
}

// event is something a peer's reader goroutine received.
type event struct {
	opcode    uint8
	payload   []byte
	err       error
	closeCode int // -1 when err is not a received close frame
	reason    string
}

// peer drives one library connection.
type peer interface {
	// write sends one data message; midPing, if not nil, is called after
	// st.PingAfter chunks.
	write(ctx context.Context, st Step, midPing func() error) error
	// ping sends a ping, waits for its pong and returns the ping payload.
	ping(ctx context.Context, payload []byte) ([]byte, error)
	// startClose sends a close frame; it may wait for the handshake to end.
	startClose(ctx context.Context, code uint16, reason string) error
	// closeEcho is the payload the library answers a close frame with.
	closeEcho(code uint16, reason string) []byte
	// events delivers what the reader goroutine received; it ends with an
	// event carrying an error.
	events() <-chan event
	// shutdown closes the network connection and waits for the reader.
	shutdown()
}

// dialFunc connects the client to the recording server.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// library creates the two peers of one scenario.
type library interface {
	// handler returns the server's HTTP handler; it delivers the accepted
	// peer (or an error) on ch.
	handler(sc *Scenario, ch chan<- acceptResult) http.Handler
	// dial connects the client.
	dial(ctx context.Context, sc *Scenario, url string, dial dialFunc) (peer, error)
}

type acceptResult struct {
	p   peer
	err error
}

// RecordScenario runs sc with real library peers over a TCP connection on
// 127.0.0.1 and returns the recorded traffic and ground truth. The recorded
// bytes are checked by parsing them independently (unmasking and inflating)
// and comparing with the truth. It gives up after 30 seconds.
func RecordScenario(ctx context.Context, sc Scenario) (*Recording, error) {
	if err := sc.validate(); err != nil {
		return nil, fmt.Errorf("record %s: %w", sc.Name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rec, err := record(ctx, &sc)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", sc.Name, err)
	}
	return rec, nil
}

func (sc *Scenario) validate() error {
	if sc.Library != Coder && sc.Library != Gorilla {
		return fmt.Errorf("unknown library %d", sc.Library)
	}
	if sc.Library == Gorilla && sc.Compression == ContextTakeover {
		return errors.New("gorilla supports only NoContextTakeover compression")
	}
	if sc.Compression > NoContextTakeover {
		return fmt.Errorf("unknown compression mode %d", sc.Compression)
	}
	for i, st := range sc.Steps {
		if st.From > Server {
			return fmt.Errorf("step %d: bad side %d", i, st.From)
		}
		switch st.Kind {
		case SendPing:
			if len(st.Payload) > 125 {
				return fmt.Errorf("step %d: ping payload over 125 bytes", i)
			}
		case SendMessage:
			if st.Opcode != OpText && st.Opcode != OpBinary {
				return fmt.Errorf("step %d: opcode %d is not text or binary", i, st.Opcode)
			}
			for _, n := range st.Chunks {
				if n <= 0 {
					return fmt.Errorf("step %d: chunk size %d", i, n)
				}
			}
			if st.PingAfter > 0 && len(st.Chunks) == 0 {
				return fmt.Errorf("step %d: PingAfter without Chunks", i)
			}
		default:
			return fmt.Errorf("step %d: unknown kind %d", i, st.Kind)
		}
	}
	if sc.Close.From > Server {
		return fmt.Errorf("close: bad side %d", sc.Close.From)
	}
	if sc.Rejected && (len(sc.Steps) > 0 || sc.Close.Code != 0) {
		return errors.New("a rejected scenario has no steps and no close")
	}
	return nil
}

func record(ctx context.Context, sc *Scenario) (_ *Recording, err error) {
	var lib library = coderLib{}
	if sc.Library == Gorilla {
		lib = gorillaLib{}
	}
	wl := &writeLog{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	accepted := make(chan acceptResult, 1)
	// Over TLS, wl records the TLS records and plain the WebSocket bytes
	// inside them (which are checked against the truth).
	plain := wl
	var lnr net.Listener = &recListener{Listener: ln, log: wl}
	var keyLog SyncBuffer
	var cliTLS *tls.Config
	if sc.TLS != nil {
		plain = &writeLog{}
		srvTLS, c, err := sc.TLS.tlsConfigs(&keyLog)
		if err != nil {
			return nil, err
		}
		cliTLS = c
		lnr = &tlsListener{Listener: lnr, cfg: srvTLS, plain: plain}
	}
	srv := &http.Server{
		Handler:           lib.handler(sc, accepted),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lnr)
	}()
	defer func() {
		_ = srv.Close()
		<-served
		// A peer accepted but never taken (the dial failed) is closed here.
		select {
		case r := <-accepted:
			if r.p != nil {
				r.p.shutdown()
			}
		default:
		}
	}()

	addr := ln.Addr().String()
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		rc := &recConn{Conn: c, side: Client, log: wl}
		if cliTLS != nil {
			return &recConn{Conn: tls.Client(rc, cliTLS), side: Client, log: plain}, nil
		}
		return rc, nil
	}
	host, path := sc.Host, sc.Path
	if host == "" {
		host = "10.1.0.2:8080"
	}
	if path == "" {
		path = "/ws"
	}
	client, err := lib.dial(ctx, sc, "ws://"+host+path, dial)
	if sc.Rejected {
		return recordRejected(ctx, sc, client, err, accepted, wl)
	}
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer client.shutdown()
	var server peer
	select {
	case r := <-accepted:
		if r.err != nil {
			return nil, fmt.Errorf("accept: %w", r.err)
		}
		server = r.p
	case <-ctx.Done():
		return nil, fmt.Errorf("accept: %w", ctx.Err())
	}
	defer server.shutdown()

	d := &driver{peers: [2]peer{client, server}, rec: &Recording{Name: sc.Name}}
	if err := d.run(ctx, sc); err != nil {
		return nil, err
	}
	client.shutdown()
	server.shutdown()
	d.rec.Writes = plain.snapshot()
	wire, err := parseWire([2][]byte{d.rec.Stream(Client), d.rec.Stream(Server)})
	if err != nil {
		return nil, fmt.Errorf("check recording: %w", err)
	}
	d.rec.Spans, err = matchTruth(d.rec.Truth, wire)
	if err != nil {
		return nil, fmt.Errorf("check recording: %w", err)
	}
	if sc.TLS != nil {
		d.rec.Writes, d.rec.Spans, d.rec.KeyLog = wl.snapshot(), nil, keyLog.Bytes()
	}
	return d.rec, nil
}

// driver runs scenario steps and builds the truth.
type driver struct {
	peers [2]peer
	rec   *Recording
}

func (d *driver) add(from Side, op uint8, payload []byte) {
	d.rec.Truth = append(d.rec.Truth, TruthMessage{Dir: from.Dir(), Opcode: op, Payload: bytes.Clone(payload)})
}

// next waits for the next event of side's reader.
func (d *driver) next(ctx context.Context, side Side) (event, error) {
	select {
	case ev, ok := <-d.peers[side].events():
		if !ok {
			return event{}, fmt.Errorf("%v reader ended", side)
		}
		return ev, nil
	case <-ctx.Done():
		return event{}, fmt.Errorf("wait for %v: %w", side, ctx.Err())
	}
}

func (d *driver) ping(ctx context.Context, from Side, payload []byte) error {
	p, err := d.peers[from].ping(ctx, payload)
	if err != nil {
		return fmt.Errorf("%v ping: %w", from, err)
	}
	d.add(from, OpPing, p)
	d.add(from.Other(), OpPong, p)
	return nil
}

func (d *driver) run(ctx context.Context, sc *Scenario) error {
	for i, st := range sc.Steps {
		switch st.Kind {
		case SendPing:
			if err := d.ping(ctx, st.From, st.Payload); err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
		case SendMessage:
			var mid func() error
			if st.PingAfter > 0 {
				mid = func() error { return d.ping(ctx, st.From, st.PingPayload) }
			}
			if err := d.peers[st.From].write(ctx, st, mid); err != nil {
				return fmt.Errorf("step %d: %v write: %w", i, st.From, err)
			}
			ev, err := d.next(ctx, st.From.Other())
			if err != nil {
				return fmt.Errorf("step %d: %w", i, err)
			}
			if ev.err != nil {
				return fmt.Errorf("step %d: %v read: %w", i, st.From.Other(), ev.err)
			}
			if ev.opcode != st.Opcode || !bytes.Equal(ev.payload, st.Payload) {
				return fmt.Errorf("step %d: %v received opcode %d with %d bytes, want opcode %d with %d bytes",
					i, st.From.Other(), ev.opcode, len(ev.payload), st.Opcode, len(st.Payload))
			}
			d.add(st.From, st.Opcode, st.Payload)
		}
	}
	cs := sc.Close
	if cs.Code == 0 {
		return nil
	}
	init, resp := cs.From, cs.From.Other()
	if err := d.peers[init].startClose(ctx, cs.Code, cs.Reason); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	ev, err := d.next(ctx, resp)
	if err != nil {
		return fmt.Errorf("close: %w", err)
	}
	if ev.closeCode != int(cs.Code) || ev.reason != cs.Reason {
		return fmt.Errorf("close: %v got close %d %q (err %v), want %d %q", resp, ev.closeCode, ev.reason, ev.err, cs.Code, cs.Reason)
	}
	// Wait until the initiator's reader has seen the answer (or the end of
	// the connection), so the answer is in the log.
	if _, err := d.next(ctx, init); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	d.add(init, OpClose, ClosePayload(cs.Code, cs.Reason))
	d.add(resp, OpClose, d.peers[resp].closeEcho(cs.Code, cs.Reason))
	return nil
}

// splitSizes cuts data into pieces of the given sizes; the last size
// repeats. Sizes must be positive.
func splitSizes(data []byte, sizes []int) [][]byte {
	var out [][]byte
	for i := 0; len(data) > 0; i++ {
		n := len(data)
		if len(sizes) > 0 {
			n = min(max(sizes[min(i, len(sizes)-1)], 1), len(data))
		}
		out = append(out, data[:n])
		data = data[n:]
	}
	return out
}

// readerLoop runs read until it fails, delivering events on ch until done
// is closed.
func readerLoop(ch chan<- event, done <-chan struct{}, read func() event) {
	defer close(ch)
	for {
		ev := read()
		select {
		case ch <- ev:
		case <-done:
			return
		}
		if ev.err != nil {
			return
		}
	}
}

// writeChunks streams a step's payload through a library's message writer,
// one Write per chunk, sending the mid-message ping after chunk
// st.PingAfter, then closes the writer (which ends the message).
func writeChunks(w io.WriteCloser, st Step, midPing func() error) error {
	for i, chunk := range splitSizes(st.Payload, st.Chunks) {
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		if midPing != nil && i+1 == st.PingAfter {
			if err := midPing(); err != nil {
				return err
			}
		}
	}
	return w.Close()
}
