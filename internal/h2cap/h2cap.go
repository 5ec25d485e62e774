// Package h2cap generates wsdissect's HTTP/2 test captures: WebSockets over
// HTTP/2 (RFC 8441) on cleartext h2c connections, with ground truth.
//
// h2c-xnet is recorded from a real RFC 8441 implementation over 127.0.0.1:
// golang.org/x/net/http2's Server (ServeConn) and its Transport
// (ClientConn.RoundTrip with a ":protocol" header), which only enable
// extended CONNECT when the process runs with GODEBUG=http2xconnect=1 (read
// once at start-up; Build fails without it, tools/genh2cap sets it). The
// WebSocket frames inside the streams are written with capgen's frame
// encoder and Deflater: no Go WebSocket library runs over an arbitrary
// io.ReadWriter such as an HTTP/2 request body and response writer. Three
// WebSockets and a plain GET share the connection; one WebSocket negotiates
// permessage-deflate, one sends a header block large enough for
// CONTINUATION frames, x/net's HPACK encoders use their dynamic tables.
//
// h2c-handbuilt is built with x/net's Framer and HPACK encoder (no network):
// an HTTP/1.1 "Upgrade: h2c" whose request becomes stream 1, padded HEADERS
// and DATA, PRIORITY, PUSH_PROMISE, WebSocket frames split across and
// packed into DATA frames, a deflate session ended by RST_STREAM, a
// rejected extended CONNECT and a closing GOAWAY. h2c-single, built the
// same way, is the common shape of a browser's WebSocket over HTTP/2: a
// prior-knowledge connection that carries one session.
//
// Both are wrapped in synthesised TCP (internal/capgen): consecutive writes
// of one side form one flight, some flights are cut into tiny segments so
// frame headers straddle packets, others carry many frames in one segment.
package h2cap

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// Output is one generated capture.
type Output struct {
	// Name is the file name without extension.
	Name string
	// Pcap is the capture file.
	Pcap []byte
	// Truth is its ground truth.
	Truth *capgen.Truth
	// KeyLog is the TLS key log of a capture over TLS (written as
	// NAME.keylog), nil for cleartext.
	KeyLog []byte
}

// Enabled reports whether this process can record x/net's extended CONNECT.
func Enabled() bool { return strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") }

// Build produces the captures (not h2c-hypercorn: BuildHypercorn).
func Build(ctx context.Context) ([]Output, error) {
	if !Enabled() {
		return nil, fmt.Errorf("h2cap: x/net/http2 enables extended CONNECT only with GODEBUG=http2xconnect=1 in the environment at start-up")
	}
	x, err := buildXNet(ctx, false)
	if err != nil {
		return nil, err
	}
	xt, err := buildXNet(ctx, true)
	if err != nil {
		return nil, err
	}
	hs, err := BuildHand()
	if err != nil {
		return nil, err
	}
	return append([]Output{x, xt}, hs...), nil
}

// BuildHand produces the hand-built captures, h2c-handbuilt, h2c-single
// and audit-h2: deterministic, without network or GODEBUG.
func BuildHand() ([]Output, error) {
	h, err := buildHand()
	if err != nil {
		return nil, err
	}
	one, err := buildSingle()
	if err != nil {
		return nil, err
	}
	aud, err := buildAuditH2()
	if err != nil {
		return nil, err
	}
	return []Output{h, one, aud}, nil
}

// Write writes outs as NAME.pcap and NAME.truth.json in dir.
func Write(dir string, outs []Output) error {
	for _, o := range outs {
		p := dir + "/" + o.Name + ".pcap"
		if err := os.WriteFile(p, o.Pcap, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		tj, err := o.Truth.JSON()
		if err != nil {
			return err
		}
		if err := os.WriteFile(capgen.TruthPath(p), tj, 0o644); err != nil {
			return fmt.Errorf("write truth of %s: %w", p, err)
		}
		if o.KeyLog != nil {
			if err := os.WriteFile(dir+"/"+o.Name+".keylog", o.KeyLog, 0o644); err != nil {
				return fmt.Errorf("write key log of %s: %w", p, err)
			}
		}
	}
	return nil
}

// flight is what one side sends at once, with the segment sizes to use
// (nil: MSS-sized).
type flight struct {
	from  capgen.Side
	data  []byte
	sizes []int
}

// tinySegments cut a flight into segments of a few bytes, so that frame
// headers and WebSocket headers straddle packets.
var tinySegments = []int{1, 4, 2, 9, 3, 7, 5, 11}

// wrapTCP turns flights into a pcap of one synthesised TCP connection.
func wrapTCP(fl []flight, server string) ([]byte, error) {
	c := capgen.NewCapture(capgen.CaptureOptions{})
	conn, err := capgen.NewConn(c, capgen.ConnConfig{
		Client: netipMust("10.8.0.1:52000"), Server: netipMust(server),
		Link: capgen.Link{Type: capgen.LinkEthernet},
	})
	if err != nil {
		return nil, err
	}
	conn.Open()
	for _, f := range fl {
		conn.SendSegments(f.from, f.data, f.sizes...)
	}
	conn.Close(capgen.Client)
	if err := conn.Finish(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := c.WritePcap(&buf, capgen.PcapOptions{}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// flightsOf merges consecutive writes of one side into flights; every
// fifth flight shorter than 4 KiB is cut into tiny segments.
func flightsOf(ws []capgen.Write) []flight {
	var fl []flight
	for _, w := range ws {
		if n := len(fl); n > 0 && fl[n-1].from == w.From {
			fl[n-1].data = append(fl[n-1].data, w.Data...)
			continue
		}
		fl = append(fl, flight{from: w.From, data: bytes.Clone(w.Data)})
	}
	for i := range fl {
		if i%5 == 2 && len(fl[i].data) < 4096 {
			fl[i].sizes = tinySegments
		}
	}
	return fl
}

// masker hands out deterministic masking keys.
type masker struct{ n uint32 }

func (m *masker) key() [4]byte {
	m.n++
	v := m.n*0x9e3779b1 + 0x7f4a7c15
	return [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v) | 1}
}

// wsFrame encodes one WebSocket frame; client frames are masked.
func (m *masker) wsFrame(from capgen.Side, fin, rsv1 bool, op uint8, payload []byte) []byte {
	f := capgen.Frame{Fin: fin, RSV1: rsv1, Opcode: op, Payload: payload}
	if from == capgen.Client {
		f.Masked, f.Key = true, m.key()
	}
	return f.Bytes()
}

// readFrame reads one WebSocket frame and returns its opcode, FIN and
// unmasked payload.
func readFrame(r io.Reader) (op uint8, fin bool, payload []byte, err error) {
	var h [14]byte
	if _, err = io.ReadFull(r, h[:2]); err != nil {
		return
	}
	op, fin = h[0]&0xf, h[0]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err = io.ReadFull(r, h[2:4]); err != nil {
			return
		}
		n = uint64(h[2])<<8 | uint64(h[3])
	case 127:
		if _, err = io.ReadFull(r, h[2:10]); err != nil {
			return
		}
		n = 0
		for _, b := range h[2:10] {
			n = n<<8 | uint64(b)
		}
	}
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err = io.ReadFull(r, key[:]); err != nil {
			return
		}
	}
	if n > 1<<24 {
		return 0, false, nil, fmt.Errorf("frame of %d bytes", n)
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return
	}
	if masked {
		for i := range payload {
			payload[i] ^= key[i%4]
		}
	}
	return
}

// readMessage reads frames up to the end of a message and returns the
// frames' payloads joined (still compressed for a compressed message).
func readMessage(r io.Reader) (uint8, []byte, error) {
	var first uint8
	var all []byte
	for i := 0; ; i++ {
		op, fin, p, err := readFrame(r)
		if err != nil {
			return 0, nil, err
		}
		if i == 0 {
			first = op
		}
		all = append(all, p...)
		if fin {
			return first, all, nil
		}
	}
}

// recConn records every Write of one side into a shared, ordered log;
// the lock is held during the write so the peer cannot log a reply before
// the bytes it answers.
type recConn struct {
	net.Conn
	side capgen.Side
	log  *wlog
}

type wlog struct {
	mu     sync.Mutex
	writes []capgen.Write
}

func (c *recConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	defer c.log.mu.Unlock()
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.log.writes = append(c.log.writes, capgen.Write{From: c.side, Data: bytes.Clone(p[:n])})
	}
	return n, err
}

// session is one end of a WebSocket over an HTTP/2 stream.
type session struct {
	r     io.Reader
	w     io.Writer
	flush func()
	close func() error // ends the stream in this direction
	done  chan struct{}
}

// xnetScenario drives the x/net recording.
type xnetScenario struct {
	m     masker
	truth []capgen.TruthMessage
}

// send writes a message as frames (sizes: payload bytes per frame) from
// one end and reads it at the other, recording the truth.
func (x *xnetScenario) send(conn int, from capgen.Side, snd, rcv *session, op uint8, payload []byte, defl *capgen.Deflater, frames ...int) error {
	wire := payload
	if defl != nil {
		var err error
		if wire, err = defl.Compress(payload); err != nil {
			return err
		}
	}
	var out []byte
	if len(frames) == 0 {
		frames = []int{len(wire)}
	}
	rest := wire
	for i, n := range frames {
		last := i == len(frames)-1
		if last {
			n = len(rest)
		}
		fop := op
		if i > 0 {
			fop = capgen.OpContinuation
		}
		out = append(out, x.m.wsFrame(from, last, defl != nil && i == 0, fop, rest[:n])...)
		rest = rest[n:]
	}
	if _, err := snd.w.Write(out); err != nil {
		return fmt.Errorf("conn %d %s write: %w", conn, from.Dir(), err)
	}
	snd.flush()
	gotOp, got, err := readMessage(rcv.r)
	if err != nil {
		return fmt.Errorf("conn %d %s read: %w", conn, from.Dir(), err)
	}
	if gotOp != op || !bytes.Equal(got, wire) {
		return fmt.Errorf("conn %d %s: peer received opcode %d %q, sent %d %q", conn, from.Dir(), gotOp, got, op, wire)
	}
	x.truth = append(x.truth, capgen.TruthMessage{Conn: conn, Dir: from.Dir(), Opcode: op, Payload: bytes.Clone(payload)})
	return nil
}

// closeBoth runs the closing handshake (close 1000 from first, echoed) and
// ends the stream in both directions.
func (x *xnetScenario) closeBoth(conn int, first capgen.Side, cl, sv *session) error {
	a, b := cl, sv
	if first == capgen.Server {
		a, b = sv, cl
	}
	body := capgen.ClosePayload(1000, "bye")
	if err := x.send(conn, first, a, b, capgen.OpClose, body, nil); err != nil {
		return err
	}
	if err := x.send(conn, first.Other(), b, a, capgen.OpClose, body, nil); err != nil {
		return err
	}
	if err := cl.close(); err != nil {
		return err
	}
	close(sv.done) // the handler returns: END_STREAM from the server
	return nil
}

// buildXNet records x/net/http2's server and client: in cleartext (h2c
// prior knowledge), or, with overTLS, over crypto/tls with ALPN h2 and the
// client's key log (what a browser's wss:// over HTTP/2 looks like).
func buildXNet(ctx context.Context, overTLS bool) (Output, error) {
	name := "h2c-xnet"
	var srvTLS, cliTLS *tls.Config
	var keyLog bytes.Buffer
	if overTLS {
		name = "h2-tls-xnet"
		var err error
		opts := capgen.TLSOptions{MinVersion: tls.VersionTLS13, ALPN: []string{"h2"}, ServerName: "h2.example"}
		if srvTLS, cliTLS, err = opts.Configs(&keyLog); err != nil {
			return Output{}, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Output{}, err
	}
	defer ln.Close()
	log := &wlog{}
	sessions := make(chan *session, 4)
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, "a plain HTTP/2 response that is not WebSocket\n")
			return
		}
		if strings.Contains(r.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate") {
			w.Header().Set("Sec-WebSocket-Extensions", "permessage-deflate")
		}
		if strings.Contains(r.Header.Get("Sec-Websocket-Protocol"), "chat") {
			w.Header().Set("Sec-WebSocket-Protocol", "chat")
		}
		w.WriteHeader(http.StatusOK)
		fl := w.(http.Flusher)
		fl.Flush()
		s := &session{r: r.Body, w: w, flush: fl.Flush, done: make(chan struct{})}
		sessions <- s
		select {
		case <-s.done:
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
		srv := &http2.Server{}
		var sc net.Conn = &recConn{Conn: c, side: capgen.Server, log: log}
		if srvTLS != nil {
			tc := tls.Server(sc, srvTLS)
			if err := tc.HandshakeContext(ctx); err != nil {
				return
			}
			sc = tc
		}
		srv.ServeConn(sc, &http2.ServeConnOpts{Context: ctx, Handler: mux})
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return Output{}, err
	}
	tr := &http2.Transport{AllowHTTP: true}
	var cconn net.Conn = &recConn{Conn: raw, side: capgen.Client, log: log}
	if cliTLS != nil {
		tc := tls.Client(cconn, cliTLS)
		if err := tc.HandshakeContext(ctx); err != nil {
			return Output{}, fmt.Errorf("%s: TLS handshake: %w", name, err)
		}
		cconn = tc
	}
	cc, err := tr.NewClientConn(cconn)
	if err != nil {
		return Output{}, err
	}
	open := func(path string, hdr map[string]string) (*session, *session, error) {
		pr, pw := io.Pipe()
		req, err := http.NewRequestWithContext(ctx, http.MethodConnect, "http://h2c.example/"+path, pr)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set(":protocol", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Origin", "http://h2c.example")
		req.Header.Set("User-Agent", "wsdissect-h2cap")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := cc.RoundTrip(req)
		if err != nil {
			return nil, nil, fmt.Errorf("extended CONNECT %s: %w", path, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("extended CONNECT %s: status %d", path, resp.StatusCode)
		}
		var sv *session
		select {
		case sv = <-sessions:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		cl := &session{r: resp.Body, w: pw, flush: func() {}, close: pw.Close}
		return cl, sv, nil
	}
	x := &xnetScenario{}
	var steps error
	func() {
		cl1, sv1, err := open("ws/one", nil)
		if err != nil {
			steps = err
			return
		}
		// A plain GET on its own stream between the WebSockets.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://h2c.example/plain", nil)
		resp, err := cc.RoundTrip(req)
		if err != nil {
			steps = err
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cl2, sv2, err := open("ws/deflate", map[string]string{"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits"})
		if err != nil {
			steps = err
			return
		}
		cl3, sv3, err := open("ws/chat", map[string]string{"Sec-WebSocket-Protocol": "chat, superchat",
			"Cookie": "session=" + strings.Repeat("0123456789abcdef", 1300)})
		if err != nil {
			steps = err
			return
		}
		cd, _ := capgen.NewDeflater(15, true)
		sd, _ := capgen.NewDeflater(15, true)
		big := bytes.Repeat([]byte("binary payload over several DATA frames; "), 1000)[:40000]
		for _, st := range []func() error{
			func() error {
				return x.send(0, capgen.Client, cl1, sv1, capgen.OpText, []byte("hello over HTTP/2 stream 1"), nil)
			},
			func() error {
				return x.send(1, capgen.Client, cl2, sv2, capgen.OpText, []byte(strings.Repeat("compressible text, ", 20)), cd)
			},
			func() error {
				return x.send(0, capgen.Server, sv1, cl1, capgen.OpText, []byte("echo: hello over HTTP/2 stream 1"), nil)
			},
			func() error { return x.send(0, capgen.Client, cl1, sv1, capgen.OpPing, []byte("client ping"), nil) },
			func() error { return x.send(0, capgen.Server, sv1, cl1, capgen.OpPong, []byte("client ping"), nil) },
			func() error { return x.send(0, capgen.Server, sv1, cl1, capgen.OpPing, []byte("server ping"), nil) },
			func() error { return x.send(0, capgen.Client, cl1, sv1, capgen.OpPong, []byte("server ping"), nil) },
			func() error { return x.send(0, capgen.Server, sv1, cl1, capgen.OpBinary, big, nil) },
			func() error {
				return x.send(0, capgen.Client, cl1, sv1, capgen.OpText, []byte("fragmented | in | three frames"), nil, 11, 5)
			},
			func() error {
				return x.send(1, capgen.Server, sv2, cl2, capgen.OpText, []byte(strings.Repeat("compressed answer ", 30)), sd)
			},
			func() error {
				return x.send(1, capgen.Client, cl2, sv2, capgen.OpText, []byte(strings.Repeat("compressible text, ", 25)), cd)
			},
			func() error {
				return x.send(1, capgen.Server, sv2, cl2, capgen.OpBinary, bytes.Repeat([]byte{0, 1, 2, 3}, 500), sd)
			},
			func() error { return x.send(1, capgen.Client, cl2, sv2, capgen.OpBinary, []byte{9, 8, 7}, nil) },
			func() error { return x.send(2, capgen.Client, cl3, sv3, capgen.OpText, []byte(`{"chat":"hi"}`), nil) },
			func() error {
				return x.send(2, capgen.Server, sv3, cl3, capgen.OpText, []byte(`{"chat":"hello"}`), nil)
			},
			func() error { return x.closeBoth(0, capgen.Client, cl1, sv1) },
			func() error { return x.closeBoth(2, capgen.Server, cl3, sv3) },
			func() error { return x.closeBoth(1, capgen.Client, cl2, sv2) },
		} {
			if err := st(); err != nil {
				steps = err
				return
			}
		}
	}()
	// Let the END_STREAMs reach the wire before the connection goes.
	time.Sleep(50 * time.Millisecond)
	cc.Close()
	raw.Close()
	<-srvDone
	if steps != nil {
		return Output{}, fmt.Errorf("%s: %w", name, steps)
	}
	log.mu.Lock()
	writes := append([]capgen.Write(nil), log.writes...)
	log.mu.Unlock()
	server := "10.8.0.2:8080"
	note := "recorded from golang.org/x/net/http2 Server and Transport (GODEBUG=http2xconnect=1) over 127.0.0.1; TCP segmentation, addresses and timestamps are synthetic"
	var kl []byte
	if overTLS {
		server = "10.8.0.2:8443"
		note = "recorded from golang.org/x/net/http2 Server and Transport (GODEBUG=http2xconnect=1) over crypto/tls 1.3 with ALPN h2 over 127.0.0.1 (the client's key log is NAME.keylog); TCP segmentation, addresses and timestamps are synthetic"
		kl = keyLog.Bytes()
	}
	pcap, err := wrapTCP(flightsOf(writes), server)
	if err != nil {
		return Output{}, fmt.Errorf("%s: %w", name, err)
	}
	return Output{Name: name, Pcap: pcap, KeyLog: kl, Truth: &capgen.Truth{Messages: x.truth, Notes: []string{
		note,
		"WebSocket frames inside the HTTP/2 streams written with capgen's frame encoder and Deflater; conn numbers the WebSocket sessions in HTTP/2 stream order (streams 1, 5, 7; stream 3 is a plain GET)",
		"consecutive writes of a side form one TCP flight; every fifth flight under 4 KiB is cut into segments of 1-11 bytes",
		"session 1 negotiates permessage-deflate; session 2's request carries a 20 KB cookie (HEADERS + CONTINUATION)",
	}}}, nil
}

func netipMust(s string) netipAddrPort { return mustAddrPort(s) }

// hpackBlock encodes fields with enc into a fresh slice.
func hpackBlock(enc *hpack.Encoder, buf *bytes.Buffer, kv ...string) []byte {
	buf.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return bytes.Clone(buf.Bytes())
}
