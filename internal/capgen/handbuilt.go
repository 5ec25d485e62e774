package capgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"time"
)

// sampleKey is the Sec-WebSocket-Key of RFC 6455 section 1.3.
const sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

// handConn builds one hand-made WebSocket conversation over a Conn and keeps
// its truth.
type handConn struct {
	conn    *Conn
	streams [2][]byte
	wsStart [2]int
	deflate bool
	window  [2]int // inflate window per side for the check; 0 is 32768
	truth   []TruthMessage
	keys    uint32
}

func newHandConn(c *Capture, cfg ConnConfig) (*handConn, error) {
	conn, err := NewConn(c, cfg)
	if err != nil {
		return nil, err
	}
	conn.Open()
	return &handConn{conn: conn}, nil
}

// send writes raw bytes from side, cut into the given segment sizes.
func (h *handConn) send(from Side, b []byte, sizes ...int) {
	h.conn.SendSegments(from, b, sizes...)
	h.streams[from] = append(h.streams[from], b...)
}

// sendHTTP writes an HTTP message that ends the handshake of side, followed
// by frames (which may be nil) in the same flight.
func (h *handConn) sendHTTP(from Side, msg, frames []byte, sizes ...int) {
	h.wsStart[from] = len(h.streams[from]) + len(msg)
	h.send(from, append(bytes.Clone(msg), frames...), sizes...)
}

// key returns the next deterministic masking key.
func (h *handConn) key() [4]byte {
	h.keys++
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], 0x3c5a7e91*h.keys+0x1234567)
	return k
}

// truthMsg records a message in the truth.
func (h *handConn) truthMsg(from Side, op uint8, payload []byte) {
	h.truth = append(h.truth, TruthMessage{Dir: from.Dir(), Opcode: op, Payload: bytes.Clone(payload)})
}

// frame returns one final frame, masked when sent by the client, and
// records it as a message.
func (h *handConn) frame(from Side, op uint8, payload []byte) []byte {
	h.truthMsg(from, op, payload)
	return h.raw(from, Frame{Fin: true, Opcode: op, Payload: payload})
}

// raw returns f masked with a fresh key when sent by the client.
func (h *handConn) raw(from Side, f Frame) []byte {
	if from == Client {
		f.Masked, f.Key = true, h.key()
	}
	return f.Bytes()
}

// closeBoth exchanges close frames (first, then the echo) and closes TCP.
func (h *handConn) closeBoth(first Side, code uint16, reason string) {
	h.send(first, h.frame(first, OpClose, ClosePayload(code, reason)))
	h.send(first.Other(), h.frame(first.Other(), OpClose, ClosePayload(code, "")))
	h.conn.Close(Server)
}

// finish checks the conversation by parsing it back and returns the truth.
func (h *handConn) finish(name string) ([]TruthMessage, error) {
	if err := h.conn.Finish(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var wire [2][]wireMsg
	for s := range h.streams {
		inf := &inflater{takeover: true, window: h.window[s]}
		msgs, err := parseFrames(h.streams[s], h.wsStart[s], h.deflate, inf)
		if err != nil {
			return nil, fmt.Errorf("%s: check %v frames: %w", name, Side(s), err)
		}
		wire[s] = msgs
	}
	if _, err := matchTruth(h.truth, wire); err != nil {
		return nil, fmt.Errorf("%s: check: %w", name, err)
	}
	return h.truth, nil
}

// addHand writes one hand-built capture.
func (g *generator) addHand(name string, cfg ConnConfig, notes []string, build func(h *handConn) error, check bool) error {
	c := NewCapture(CaptureOptions{})
	h, err := newHandConn(c, cfg)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := build(h); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	truth := h.truth
	if check {
		if truth, err = h.finish(name); err != nil {
			return err
		}
	} else if err := h.conn.Finish(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := c.WritePcap(&buf, PcapOptions{}); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	g.out = append(g.out, Output{
		Name: name, Data: buf.Bytes(), Deterministic: true,
		Truth: &Truth{Messages: truth, Notes: append([]string{"hand-built frames and HTTP messages; TCP synthesised"}, notes...)},
	})
	return nil
}

// handshake sends the standard upgrade request and 101 response.
func (h *handConn) handshake(extraReq, extraResp []Header) {
	h.sendHTTP(Client, UpgradeRequest("/ws", "10.1.0.2:8080", sampleKey, extraReq...), nil)
	h.sendHTTP(Server, SwitchingProtocols(AcceptKey(sampleKey), extraResp...), nil)
}

func (g *generator) handBuilt() error {
	eth := ConnConfig{Link: ethernet()}
	type hand struct {
		name  string
		cfg   ConnConfig
		notes []string
		build func(h *handConn) error
		check bool
	}
	list := []hand{
		{"edge-split-frames.pcap", eth, []string{
			"c2s text frame (200 bytes, 16-bit length) whose 8-byte header is split over segments of 1, 2 and 3 bytes",
			"s2c binary frame of 5000 bytes spread over 17 segments of 300 bytes",
			"c2s text frame sent one byte per segment",
			"ten s2c text frames in one segment",
			"c2s fragmented text message (3 frames) cut into segments of 5, 7 and 9 bytes, so segment boundaries fall inside frame headers",
		}, buildSplitFrames, true},
		{"edge-64bit-len.pcap", eth, []string{
			"s2c binary frame with a 70000-byte payload and the 64-bit extended length",
		}, build64bit, true},
		{"edge-101-with-frames.pcap", eth, []string{
			"the 101 response and two s2c frames (text, binary) travel in the same TCP segment",
		}, build101WithFrames, true},
		{"edge-rejected-upgrade.pcap", eth, []string{
			"first upgrade request (Origin http://evil.example) answered 403 Forbidden with a Content-Length body; the connection stays open",
			"second upgrade request on the same connection, with a different key, answered 101",
		}, buildRejected, true},
		{"edge-http-before-upgrade.pcap", eth, []string{
			"GET /index.html answered 200 with a Content-Length body; the body contains the text of a fake 101 response",
			"GET /events answered 200 with a chunked body (chunks of 100, 37 and 5 bytes)",
			"then the upgrade on the same connection",
		}, buildHTTPBefore, true},
		{"edge-interim-1xx.pcap", eth, []string{
			"the server answers the upgrade request with 100 Continue (own segment), then 103 Early Hints with a Link header, then 101",
		}, buildInterim, true},
		{"edge-bad-accept.pcap", eth, []string{
			"the 101 response carries a wrong Sec-WebSocket-Accept (the value for another key); both sides send frames anyway",
		}, buildBadAccept, true},
		{"edge-nonstandard-port.pcap", ConnConfig{
			Client: netip.MustParseAddrPort("10.1.0.1:40000"),
			Server: netip.MustParseAddrPort("10.1.0.2:4444"),
			Link:   ethernet(),
		}, []string{"WebSocket on server port 4444"}, buildNonstandardPort, true},
		{"edge-deflate-windowbits.pcap", eth, []string{
			"permessage-deflate negotiated with server_max_window_bits=10 and client_max_window_bits=9, context takeover both ways",
			"messages compressed with capgen.Deflater: back-references reach into earlier messages but never further than the window",
			"one message per direction is sent uncompressed (RSV1 clear); one compressed c2s message is fragmented (RSV1 on the first frame only)",
		}, buildDeflateWindow, true},
		{"edge-violations.pcap", eth, []string{
			"protocol violations after a valid handshake; truth lists every frame as a message, in order",
			"c2s text 'non-minimal 16' with a 16-bit length for a 14-byte payload",
			"s2c binary of 10 bytes with a 64-bit length",
			"c2s text frame that is not masked",
			"s2c text frame that is masked",
			"c2s text frame with RSV2 set and no extension negotiated",
			"c2s frame with reserved opcode 0x3",
			"s2c ping with a 126-byte payload (control frames allow 125)",
			"c2s text with invalid UTF-8",
			"s2c close with status 1005, which must not appear on the wire",
			"c2s binary frame whose 64-bit length has the most significant bit set (8 payload bytes follow); anything after it is undecodable",
		}, buildViolations, false},
		{"edge-quiet-deflate.pcap", eth, []string{
			"permessage-deflate with context takeover both ways; every message compressed with capgen.Deflater",
			"a ticker: the server sends a price update, then the connection is quiet for 3 hours (no packet at all), then the next update and an exchange both ways",
			"the updates after the pause refer back into the compression window of those before it: losing the connection state at the pause loses them",
		}, buildQuietDeflate, true},
		{"edge-big-upgrade-header.pcap", eth, []string{
			"the upgrade request carries a 70000-byte X-Padding header: its header block exceeds wsdissect's default --max-http-header (64 KiB)",
			"then a normal 101 response and three text messages each way",
		}, buildBigUpgradeHeader, true},
		{"edge-101-without-request.pcap", eth, []string{
			"TCP handshake, then no upgrade request: the server's 101 response (permessage-deflate, context takeover) is the first payload",
			"three compressed s2c text messages and three uncompressed c2s text messages follow",
		}, build101WithoutRequest, true},
		{"edge-repeated-101.pcap", eth, []string{
			"a normal upgrade, then the server sends the same 101 response a second time, in the same segment as its first text frame",
			"then two text messages each way; truth lists the frames only (the second 101 is not a message)",
		}, buildRepeated101, false},
	}
	for _, hb := range list {
		if err := g.addHand(hb.name, hb.cfg, hb.notes, hb.build, hb.check); err != nil {
			return err
		}
	}
	return nil
}

func buildSplitFrames(h *handConn) error {
	h.handshake(nil, nil)
	h.send(Client, h.frame(Client, OpText, JSONText(200, 0)), 1, 2, 3, 1460)
	h.send(Server, h.frame(Server, OpBinary, RandomBytes(5000, 20)), 300)
	h.send(Client, h.frame(Client, OpText, []byte("one byte per segment!")), 1)
	var many []byte
	for i := range 10 {
		many = append(many, h.frame(Server, OpText, []byte("message #"+strconv.Itoa(i)))...)
	}
	h.send(Server, many)
	parts := [][]byte{[]byte("frag-one "), []byte("frag-two "), []byte("frag-three")}
	h.truthMsg(Client, OpText, bytes.Join(parts, nil))
	frag := h.raw(Client, Frame{Opcode: OpText, Payload: parts[0]})
	frag = append(frag, h.raw(Client, Frame{Opcode: OpContinuation, Payload: parts[1]})...)
	frag = append(frag, h.raw(Client, Frame{Fin: true, Opcode: OpContinuation, Payload: parts[2]})...)
	h.send(Client, frag, 5, 7, 9)
	h.closeBoth(Client, 1000, "split done")
	return nil
}

func build64bit(h *handConn) error {
	h.handshake(nil, nil)
	h.send(Server, h.frame(Server, OpBinary, RandomBytes(70000, 21)))
	h.send(Client, h.frame(Client, OpText, []byte("received 70000 bytes")))
	h.closeBoth(Client, 1000, "")
	return nil
}

func build101WithFrames(h *handConn) error {
	h.sendHTTP(Client, UpgradeRequest("/ws", "10.1.0.2:8080", sampleKey), nil)
	frames := h.frame(Server, OpText, []byte("first frame, same segment as the 101"))
	frames = append(frames, h.frame(Server, OpBinary, []byte{1, 2, 3, 4})...)
	h.sendHTTP(Server, SwitchingProtocols(AcceptKey(sampleKey)), frames)
	h.send(Client, h.frame(Client, OpText, []byte("hello")))
	h.closeBoth(Server, 1000, "bye")
	return nil
}

func buildRejected(h *handConn) error {
	const key2 = "x3JJHMbDL1EzLkh9GBhXDw=="
	h.send(Client, UpgradeRequest("/chat", "10.1.0.2:8080", sampleKey, Header{"Origin", "http://evil.example"}))
	body := []byte("origin not allowed\n")
	h.send(Server, HTTPMessage("HTTP/1.1 403 Forbidden", []Header{
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Length", strconv.Itoa(len(body))},
	}, body))
	h.sendHTTP(Client, UpgradeRequest("/chat", "10.1.0.2:8080", key2, Header{"Origin", "http://good.example"}), nil)
	h.sendHTTP(Server, SwitchingProtocols(AcceptKey(key2)), nil)
	h.send(Client, h.frame(Client, OpText, []byte("retry worked")))
	h.send(Server, h.frame(Server, OpText, []byte("welcome")))
	h.closeBoth(Client, 1000, "")
	return nil
}

func buildHTTPBefore(h *handConn) error {
	hdr := []Header{{"Host", "10.1.0.2:8080"}, {"User-Agent", "capgen"}}
	h.send(Client, HTTPMessage("GET /index.html HTTP/1.1", hdr, nil))
	page := []byte("<html><body><pre>\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05fake!</pre>" +
		string(bytes.Repeat([]byte("<p>filler</p>"), 150)) + "</body></html>\n")
	h.send(Server, HTTPMessage("HTTP/1.1 200 OK", []Header{
		{"Content-Type", "text/html"},
		{"Content-Length", strconv.Itoa(len(page))},
	}, page))
	h.send(Client, HTTPMessage("GET /events HTTP/1.1", hdr, nil))
	h.send(Server, HTTPMessage("HTTP/1.1 200 OK", []Header{
		{"Content-Type", "text/plain"},
		{"Transfer-Encoding", "chunked"},
	}, Chunked(RandomText(142, 30), 100, 37, 5)))
	h.handshake(nil, nil)
	h.send(Client, h.frame(Client, OpText, []byte("upgraded after two plain requests")))
	h.send(Server, h.frame(Server, OpBinary, RandomBytes(64, 22)))
	h.closeBoth(Server, 1000, "")
	return nil
}

func buildInterim(h *handConn) error {
	h.sendHTTP(Client, UpgradeRequest("/ws", "10.1.0.2:8080", sampleKey), nil)
	h.send(Server, HTTPMessage("HTTP/1.1 100 Continue", nil, nil))
	h.send(Server, HTTPMessage("HTTP/1.1 103 Early Hints", []Header{{"Link", "</style.css>; rel=preload; as=style"}}, nil))
	h.sendHTTP(Server, SwitchingProtocols(AcceptKey(sampleKey)), nil)
	h.send(Client, h.frame(Client, OpText, []byte("after interim responses")))
	h.send(Server, h.frame(Server, OpText, []byte("ack")))
	h.closeBoth(Client, 1000, "")
	return nil
}

func buildBadAccept(h *handConn) error {
	h.sendHTTP(Client, UpgradeRequest("/ws", "10.1.0.2:8080", sampleKey), nil)
	h.sendHTTP(Server, SwitchingProtocols(AcceptKey("x3JJHMbDL1EzLkh9GBhXDw==")), nil)
	h.send(Client, h.frame(Client, OpText, []byte("is this a websocket?")))
	h.send(Server, h.frame(Server, OpText, []byte("maybe")))
	h.closeBoth(Client, 1002, "bad accept")
	return nil
}

func buildNonstandardPort(h *handConn) error {
	h.sendHTTP(Client, UpgradeRequest("/socket", "10.1.0.2:4444", sampleKey), nil)
	h.sendHTTP(Server, SwitchingProtocols(AcceptKey(sampleKey)), nil)
	h.send(Client, h.frame(Client, OpText, []byte("on port 4444")))
	h.send(Server, h.frame(Server, OpBinary, RandomBytes(500, 23)))
	h.send(Client, h.frame(Client, OpPing, []byte("p")))
	h.send(Server, h.frame(Server, OpPong, []byte("p")))
	h.closeBoth(Client, 1000, "")
	return nil
}

func buildDeflateWindow(h *handConn) error {
	h.deflate = true
	h.window = [2]int{1 << 9, 1 << 10}
	h.handshake(
		[]Header{{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits; server_max_window_bits=10"}},
		[]Header{{"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9"}},
	)
	var dfl [2]*Deflater
	var err error
	if dfl[Client], err = NewDeflater(9, true); err != nil {
		return err
	}
	if dfl[Server], err = NewDeflater(10, true); err != nil {
		return err
	}
	compressed := func(from Side, op uint8, msg []byte) ([]byte, error) {
		p, err := dfl[from].Compress(msg)
		if err != nil {
			return nil, err
		}
		h.truthMsg(from, op, msg)
		return h.raw(from, Frame{Fin: true, RSV1: true, Opcode: op, Payload: p}), nil
	}
	msgs := []struct {
		from Side
		op   uint8
		msg  []byte
	}{
		{Client, OpText, JSONText(400, 0)},
		{Server, OpText, JSONText(900, 0)},
		{Client, OpText, JSONText(400, 0)},
		{Server, OpText, JSONText(900, 5)},
		{Server, OpBinary, bytes.Repeat([]byte{7, 7, 7, 9}, 200)},
		{Client, OpText, JSONText(500, 3)},
	}
	for _, m := range msgs {
		f, err := compressed(m.from, m.op, m.msg)
		if err != nil {
			return err
		}
		h.send(m.from, f)
	}
	h.send(Client, h.frame(Client, OpText, []byte("uncompressed, RSV1 clear")))
	h.send(Server, h.frame(Server, OpText, []byte("uncompressed too")))
	msg := JSONText(450, 1)
	p, err := dfl[Client].Compress(msg)
	if err != nil {
		return err
	}
	h.truthMsg(Client, OpText, msg)
	half := len(p) / 2
	frag := h.raw(Client, Frame{RSV1: true, Opcode: OpText, Payload: p[:half]})
	frag = append(frag, h.raw(Client, Frame{Fin: true, Opcode: OpContinuation, Payload: p[half:]})...)
	h.send(Client, frag)
	h.closeBoth(Client, 1000, "")
	return nil
}

func buildViolations(h *handConn) error {
	h.handshake(nil, nil)
	type v struct {
		from Side
		f    Frame
		mask bool
	}
	list := []v{
		{Client, Frame{Fin: true, Opcode: OpText, LenEncoding: Len16, Payload: []byte("non-minimal 16")}, true},
		{Server, Frame{Fin: true, Opcode: OpBinary, LenEncoding: Len64, Payload: RandomBytes(10, 24)}, false},
		{Client, Frame{Fin: true, Opcode: OpText, Payload: []byte("unmasked client frame")}, false},
		{Server, Frame{Fin: true, Opcode: OpText, Payload: []byte("masked server frame")}, true},
		{Client, Frame{Fin: true, RSV2: true, Opcode: OpText, Payload: []byte("rsv2")}, true},
		{Client, Frame{Fin: true, Opcode: 0x3, Payload: []byte("reserved")}, true},
		{Server, Frame{Fin: true, Opcode: OpPing, Payload: bytes.Repeat([]byte{'p'}, 126)}, false},
		{Client, Frame{Fin: true, Opcode: OpText, Payload: []byte{0xff, 0xfe, 'a'}}, true},
		{Server, Frame{Fin: true, Opcode: OpClose, Payload: ClosePayload(1005, "")}, false},
		{Client, Frame{Fin: true, Opcode: OpBinary, LenEncoding: Len64TopBit, Payload: RandomBytes(8, 25)}, true},
	}
	for _, x := range list {
		if x.mask {
			x.f.Masked, x.f.Key = true, h.key()
		}
		h.truthMsg(x.from, x.f.Opcode, x.f.Payload)
		h.send(x.from, x.f.Bytes())
	}
	h.conn.Close(Server)
	return nil
}

// buildQuietDeflate is a compressed connection with a 3-hour pause.
func buildQuietDeflate(h *handConn) error {
	h.deflate = true
	ext := []Header{{"Sec-WebSocket-Extensions", "permessage-deflate"}}
	h.handshake(ext, ext)
	var dfl [2]*Deflater
	for s := range dfl {
		d, err := NewDeflater(15, true)
		if err != nil {
			return err
		}
		dfl[s] = d
	}
	send := func(from Side, msg string) error {
		p, err := dfl[from].Compress([]byte(msg))
		if err != nil {
			return err
		}
		h.truthMsg(from, OpText, []byte(msg))
		h.send(from, h.raw(from, Frame{Fin: true, RSV1: true, Opcode: OpText, Payload: p}))
		return nil
	}
	tick := func(n int) string {
		return fmt.Sprintf(`{"type":"ticker","product_id":"BTC-USD","price":"%d.00","sequence":%d}`, 43000+n, n)
	}
	steps := []struct {
		from  Side
		msg   string
		pause bool
	}{
		{Client, `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["ticker"]}`, false},
		{Server, tick(1), false},
		{Server, tick(2), false},
		{Server, tick(3), true},
		{Client, `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["ticker"]}`, false},
		{Server, tick(4), false},
	}
	for _, st := range steps {
		if st.pause {
			h.conn.cap.Pause(3 * time.Hour)
		}
		if err := send(st.from, st.msg); err != nil {
			return err
		}
	}
	h.closeBoth(Client, 1000, "")
	return nil
}

// tickText is the i-th text message of side in the hostile handshake captures.
func tickText(from Side, i int) []byte {
	return []byte(fmt.Sprintf("%v message number %d", from, i))
}

// buildBigUpgradeHeader sends an upgrade request with a 70000-byte header.
func buildBigUpgradeHeader(h *handConn) error {
	h.handshake([]Header{{"X-Padding", string(bytes.Repeat([]byte("p"), 70000))}}, nil)
	for i := range 3 {
		h.send(Server, h.frame(Server, OpText, tickText(Server, i)))
		h.send(Client, h.frame(Client, OpText, tickText(Client, i)))
	}
	h.closeBoth(Client, 1000, "")
	return nil
}

// build101WithoutRequest answers an upgrade request that is not there.
func build101WithoutRequest(h *handConn) error {
	h.deflate = true
	ext := Header{"Sec-WebSocket-Extensions", "permessage-deflate"}
	h.sendHTTP(Server, SwitchingProtocols(AcceptKey(sampleKey), ext), nil)
	d, err := NewDeflater(15, true)
	if err != nil {
		return err
	}
	for i := range 3 {
		msg := tickText(Server, i)
		p, err := d.Compress(msg)
		if err != nil {
			return err
		}
		h.truthMsg(Server, OpText, msg)
		h.send(Server, h.raw(Server, Frame{Fin: true, RSV1: true, Opcode: OpText, Payload: p}))
		h.send(Client, h.frame(Client, OpText, tickText(Client, i)))
	}
	h.closeBoth(Client, 1000, "")
	return nil
}

// buildRepeated101 sends the 101 response twice.
func buildRepeated101(h *handConn) error {
	h.handshake(nil, nil)
	h.send(Server, append(SwitchingProtocols(AcceptKey(sampleKey)), h.frame(Server, OpText, tickText(Server, 0))...))
	h.send(Client, h.frame(Client, OpText, tickText(Client, 0)))
	for i := 1; i < 3; i++ {
		h.send(Server, h.frame(Server, OpText, tickText(Server, i)))
		h.send(Client, h.frame(Client, OpText, tickText(Client, i)))
	}
	h.closeBoth(Client, 1000, "")
	return nil
}
