package capgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/gorilla/websocket"
)

// extConn records a client connection to a server outside this process:
// what the client writes is logged as the client's, what it reads as the
// server's.
type extConn struct {
	net.Conn
	log *writeLog
}

// Write writes p and logs it as the client's.
func (c *extConn) Write(p []byte) (int, error) { return c.log.write(Client, c.Conn, p) }

// Read reads and logs what arrived as the server's.
func (c *extConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.log.mu.Lock()
		c.log.writes = append(c.log.writes, Write{From: Server, Data: bytes.Clone(p[:n])})
		c.log.mu.Unlock()
	}
	return n, err
}

// RecordEcho records a gorilla client talking to an echo server at addr
// (127.0.0.1, run by the caller, e.g. the Node.js ws server of
// tools/nodews): the client sends each step's message and reads the echo,
// then closes with sc.Close's code and reason. Only client message steps
// are allowed; sc.Library is ignored. With sc.Rejected the recording is the
// request and the refusal. The recorded bytes are checked like
// RecordScenario's.
func RecordEcho(ctx context.Context, sc Scenario, addr string) (*Recording, error) {
	for i, st := range sc.Steps {
		if st.From != Client || st.Kind != SendMessage || len(st.Chunks) > 0 {
			return nil, fmt.Errorf("record %s: step %d: only whole client messages can be echoed", sc.Name, i)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rec, err := recordEcho(ctx, &sc, addr)
	if err != nil {
		return nil, fmt.Errorf("record %s: %w", sc.Name, err)
	}
	return rec, nil
}

func recordEcho(ctx context.Context, sc *Scenario, addr string) (*Recording, error) {
	wl := &writeLog{}
	d := &websocket.Dialer{
		NetDialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var nd net.Dialer
			c, err := nd.DialContext(ctx, "tcp", addr)
			if err != nil {
				return nil, err
			}
			return &extConn{Conn: c, log: wl}, nil
		},
		HandshakeTimeout: 10 * time.Second,
	}
	host, path := sc.Host, sc.Path
	if host == "" {
		host = "10.1.0.2:8080"
	}
	if path == "" {
		path = "/ws"
	}
	c, resp, err := d.DialContext(ctx, "ws://"+host+path, sc.RequestHeader.Clone())
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	rec := &Recording{Name: sc.Name}
	if sc.Rejected {
		if err == nil {
			_ = c.Close()
			return nil, errors.New("the server accepted an upgrade the scenario expects refused")
		}
		rec.Writes = wl.snapshot()
		if !bytes.HasPrefix(rec.Stream(Server), []byte("HTTP/1.1 4")) {
			return nil, fmt.Errorf("refusal is not a 4xx response: %.40q", rec.Stream(Server))
		}
		return rec, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetReadDeadline(dl)
		_ = c.SetWriteDeadline(dl)
	}
	add := func(from Side, op uint8, p []byte) {
		rec.Truth = append(rec.Truth, TruthMessage{Dir: from.Dir(), Opcode: op, Payload: bytes.Clone(p)})
	}
	for i, st := range sc.Steps {
		if err := c.WriteMessage(gorillaType(st.Opcode), st.Payload); err != nil {
			return nil, fmt.Errorf("step %d: write: %w", i, err)
		}
		add(Client, st.Opcode, st.Payload)
		mt, data, err := c.ReadMessage()
		if err != nil {
			return nil, fmt.Errorf("step %d: read the echo: %w", i, err)
		}
		if mt != gorillaType(st.Opcode) || !bytes.Equal(data, st.Payload) {
			return nil, fmt.Errorf("step %d: the echo differs (type %d, %d bytes)", i, mt, len(data))
		}
		add(Server, st.Opcode, data)
	}
	if sc.Close.Code != 0 {
		msg := websocket.FormatCloseMessage(int(sc.Close.Code), sc.Close.Reason)
		if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(controlWait)); err != nil {
			return nil, fmt.Errorf("close: %w", err)
		}
		add(Client, OpClose, ClosePayload(sc.Close.Code, sc.Close.Reason))
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			return nil, fmt.Errorf("close: no close answer: %w", err)
		}
		add(Server, OpClose, ClosePayload(uint16(ce.Code), ce.Text))
		// Wait for the server to close TCP, so its FIN follows the answer.
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _ = c.UnderlyingConn().Read(make([]byte, 1))
	}
	_ = c.Close()
	rec.Writes = wl.snapshot()
	wire, err := parseWire([2][]byte{rec.Stream(Client), rec.Stream(Server)})
	if err != nil {
		return nil, fmt.Errorf("check recording: %w", err)
	}
	if rec.Spans, err = matchTruth(rec.Truth, wire); err != nil {
		return nil, fmt.Errorf("check recording: %w", err)
	}
	return rec, nil
}

// NodeAuditScenarios are the scenarios tools/gencap-node records against
// the Node.js ws server of tools/nodews, in the order of their connections
// in node-ws-origin.pcap.
func NodeAuditScenarios() []Scenario {
	steps := []Step{{From: Client, Opcode: OpText, Payload: []byte(`{"type":"join","room":"lobby"}`)}}
	return []Scenario{
		{Name: "node-any-origin", Host: auditHost, Path: "/ws", Steps: steps,
			RequestHeader: hdr("Origin", "https://evil.example", "Cookie", auditCookie),
			Close:         CloseSpec{From: Client, Code: 1000, Reason: "bye"}},
		{Name: "node-checked-refused", Host: auditHost, Path: "/checked", Rejected: true,
			RequestHeader: hdr("Origin", "https://evil.example", "Cookie", auditCookie)},
		{Name: "node-checked-same", Host: auditHost, Path: "/checked", Steps: steps,
			RequestHeader: hdr("Origin", "https://"+auditHost, "Cookie", auditCookie),
			Close:         CloseSpec{From: Client, Code: 1000, Reason: "bye"}},
	}
}

// NodeAuditNotes describe node-ws-origin.pcap.
var NodeAuditNotes = []string{
	"recorded from a github.com/gorilla/websocket client talking to the Node.js ws 8.18.0 echo server of tools/nodews over 127.0.0.1 (tools/gencap-node); TCP segmentation, addresses and timestamps are synthetic",
	"conn 0: path /ws, where the server has no origin check (like ws without verifyClient): Origin https://evil.example with a session cookie, accepted",
	"conn 1: path /checked, where verifyClient compares the Origin's host with Host: the same foreign Origin is refused (401)",
	"conn 2: path /checked from Origin https://chat.example.com (the server's own host): accepted",
	"the refused connection has no messages; it comes second, so the truth's conn 1 is the third TCP connection",
}

// WriteNodeCapture replays the recordings of NodeAuditScenarios into the
// pcap bytes of node-ws-origin.pcap and returns them with the truth.
func WriteNodeCapture(recs []*Recording) ([]byte, *Truth, error) {
	c := NewCapture(CaptureOptions{})
	opts := make([]ReplayOptions, len(recs))
	idx := 0
	for i := range recs {
		opts[i] = ReplayOptions{ConnIndex: idx, Conn: ConnConfig{
			Link:   ethernet(),
			Client: netip.AddrPortFrom(netip.MustParseAddr("10.1.0.1"), uint16(51000+i)),
		}}
		if len(recs[i].Truth) > 0 {
			idx++
		}
	}
	truth, err := ReplayInterleaved(c, recs, opts)
	if err != nil {
		return nil, nil, err
	}
	var buf bytes.Buffer
	if err := c.WritePcap(&buf, PcapOptions{}); err != nil {
		return nil, nil, err
	}
	return buf.Bytes(), &Truth{Messages: truth, Notes: NodeAuditNotes}, nil
}
