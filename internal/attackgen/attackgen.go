// Package attackgen writes hostile captures: each one attack on the memory
// or the counters of a dissector (floods, huge and endless frames,
// decompression bombs, unsynchronisable streams, out-of-order and overlapping
// segments), between two legitimate WebSocket connections whose messages
// must still be decoded.
package attackgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// Legitimate messages: the connection before the attack sends Before, the
// one after it After (client to server, echoed by the server).
const (
	Before = "legit-before-the-attack"
	After  = "legit-after-the-attack"
)

// ForcedPort is the port of the attack that needs --ws-port.
const ForcedPort = 9999

// Attack is one hostile capture.
type Attack struct {
	// Name identifies the attack (usable in file names).
	Name string
	// What describes it, at scale 1 and at the given scale, in one line.
	What func(scale int) string
	// Flags are the wsdissect flags the attack needs (e.g. --ws-port).
	Flags []string
	// Anomalies are ids at least one of which a small memory budget makes
	// the attack report (empty: it stays within any budget without drops).
	Anomalies []string
	// Payload says that what fills the budget is retained payload of data
	// frames (inflated or not) or application data decoded from it: a run
	// that keeps none (-q without a filter, which decodes no application
	// protocol) decodes the attack within any budget, without those
	// anomalies.
	Payload bool
	// Flat says that the attack's memory does not grow with the scale even
	// without a budget: it loads the output or the CPU, so a bound on the
	// heap cannot tell a run within the budget from one without it.
	Flat bool
	// TestScale is the scale tests run the attack at, 0 for DefaultTestScale:
	// large enough that without a budget it takes several times the heap
	// the budget test allows (h2-pending-connects does at 1, and its
	// capture is 42 MB there).
	TestScale int
	build     func(g *gen, scale int)
}

// DefaultTestScale is the scale tests run an attack at unless its
// TestScale says otherwise: at 1 several attacks stay under 16 MiB of heap
// even without a memory budget.
const DefaultTestScale = 4

// Scale returns the scale tests run a at.
func (a Attack) Scale() int {
	if a.TestScale > 0 {
		return a.TestScale
	}
	return DefaultTestScale
}

// All returns every attack.
func All() []Attack {
	return []Attack{
		{Name: "dense-frames", What: func(s int) string {
			return fmt.Sprintf("%d connections of 2-byte frames, %d KiB each (output ~60x the input)", 8, 32*s)
		}, Flat: true, build: denseFrames},
		{Name: "unfinished-frames", What: func(s int) string {
			return fmt.Sprintf("%d connections each left inside a frame after %d KiB of payload", 64*s, 64)
		}, Anomalies: []string{"memory-budget"}, Payload: true, build: unfinishedFrames},
		{Name: "unsynced-ws-port", What: func(s int) string {
			return fmt.Sprintf("%d --ws-port connections of %d KiB random bytes that never synchronise", 64*s, 64)
		}, Flags: []string{"--ws-port", fmt.Sprint(ForcedPort)}, Anomalies: []string{"memory-budget"}, build: unsynced},
		{Name: "huge-frame", What: func(s int) string {
			return fmt.Sprintf("one %d MiB frame", 4*s)
		}, Anomalies: []string{"memory-budget"}, Payload: true, build: hugeFrame},
		{Name: "length-2^63", What: func(s int) string {
			return fmt.Sprintf("a frame claiming 2^63 bytes, then %d MiB", 4*s)
		}, Anomalies: []string{"memory-budget"}, Payload: true, build: length63},
		{Name: "deflate-bomb", What: func(s int) string {
			return fmt.Sprintf("a %d KiB compressed message inflating to %d MiB", 32*s, 5*s)
		}, Anomalies: []string{"memory-budget"}, Payload: true, build: deflateBomb},
		{Name: "out-of-order", What: func(s int) string {
			return fmt.Sprintf("%d connections of 1,024-byte segments after a hole, %d KiB each", 16*s, 256)
		}, Anomalies: []string{"tcp-gap"}, build: outOfOrder},
		{Name: "overlapping-segments", What: func(s int) string {
			return fmt.Sprintf("%d connections of 1,024-byte segments retransmitted with different bytes or overlapped", 8*s)
		}, Anomalies: []string{"retransmission-differs"}, Flat: true, build: overlapping},
		{Name: "half-open-flood", What: func(s int) string {
			return fmt.Sprintf("%d TCP handshakes from distinct ports that never carry data or close", 10000*s)
		}, build: halfOpen},
		{Name: "open-websockets", What: func(s int) string {
			return fmt.Sprintf("%d WebSocket connections left open after one message", 2000*s)
		}, build: openWebSockets},
		{Name: "mqtt-unfinished-packets", What: func(s int) string {
			return fmt.Sprintf("%d MQTT-over-WebSocket connections left open inside a 1 MiB PUBLISH after %d KiB of it", 96*s, 64)
		}, Anomalies: []string{"memory-budget"}, Payload: true, build: mqttUnfinished},
		{Name: "unanswered-upgrades", What: func(s int) string {
			return fmt.Sprintf("%d connections left open after an upgrade request (half of them inside a proxy CONNECT) whose answer never comes, each followed by %d KiB of client frames", 16*s, 1024)
		}, Anomalies: []string{"upgrade-unanswered"}, Flat: true, build: unansweredUpgrades},
		{Name: "h2-pending-connects", What: func(s int) string {
			return fmt.Sprintf("%d HTTP/2 connections left open, each with %d extended CONNECTs (4 KiB of headers, 16 KiB of data) never answered", 8*s, h2Streams)
		}, Anomalies: []string{"memory-budget"}, TestScale: 1, build: h2PendingConnects},
	}
}

// Write writes the attack's capture, at the given scale (1 for tests;
// sizes grow linearly), as a pcap to w.
func (a Attack) Write(w io.Writer, scale int) error {
	g := &gen{cp: capgen.NewCapture(capgen.CaptureOptions{Step: 10 * time.Microsecond})}
	g.legit(Before)
	a.build(g, max(scale, 1))
	g.legit(After)
	if g.err != nil {
		return fmt.Errorf("%s: %w", a.Name, g.err)
	}
	return g.cp.WritePcap(w, capgen.PcapOptions{})
}

// gen builds one capture.
type gen struct {
	cp    *capgen.Capture
	conns int
	err   error
}

// wsKey is the Sec-WebSocket-Key of every handshake.
const wsKey = "dGhlIHNhbXBsZSBub25jZQ=="

// conn starts a new TCP connection (three-way handshake included) to port.
func (g *gen) conn(port uint16, mss int) *capgen.Conn {
	i := g.conns
	g.conns++
	client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 7, byte(i >> 16), byte(i >> 8)}), uint16(1024+i%60000))
	server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 8, 0, byte(1 + i%200)}), port)
	c, err := capgen.NewConn(g.cp, capgen.ConnConfig{
		Client: client, Server: server, MSS: mss,
		ClientISN: uint32(0x1000_0000 + i*7919), ServerISN: uint32(0x2000_0000 + i*104729),
		Link: capgen.Link{Type: capgen.LinkEthernet},
	})
	if err != nil {
		g.fail(err)
		return nil
	}
	return c
}

func (g *gen) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// ws opens a WebSocket connection (TCP and the upgrade), with extra
// handshake headers.
func (g *gen) ws(mss int, ext ...capgen.Header) *capgen.Conn {
	c := g.conn(8080, mss)
	if c == nil {
		return nil
	}
	c.Open()
	c.Send(capgen.Client, capgen.UpgradeRequest("/chat", "example.test", wsKey, ext...))
	c.Send(capgen.Server, capgen.SwitchingProtocols(capgen.AcceptKey(wsKey), ext...))
	return c
}

// legit writes a well-behaved connection: text out, echo back, close.
func (g *gen) legit(text string) {
	c := g.ws(0)
	if c == nil {
		return
	}
	c.Send(capgen.Client, capgen.Frame{Fin: true, Opcode: capgen.OpText, Masked: true, Key: [4]byte{9, 8, 7, 6}, Payload: []byte(text)}.Bytes())
	c.Send(capgen.Server, capgen.Frame{Fin: true, Opcode: capgen.OpText, Payload: []byte(text)}.Bytes())
	c.Send(capgen.Client, capgen.Frame{Fin: true, Opcode: capgen.OpClose, Masked: true, Key: [4]byte{1, 2, 3, 4}, Payload: capgen.ClosePayload(1000, "")}.Bytes())
	c.Send(capgen.Server, capgen.Frame{Fin: true, Opcode: capgen.OpClose, Payload: capgen.ClosePayload(1000, "")}.Bytes())
	c.Close(capgen.Client)
	g.finish(c)
}

func (g *gen) finish(c *capgen.Conn) {
	if err := c.Finish(); err != nil {
		g.fail(err)
	}
}

// header returns an unmasked server frame header for a payload of n bytes.
func header(fin bool, op uint8, n uint64) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	switch {
	case n < 126:
		return []byte{b0, byte(n)}
	case n <= 0xffff:
		return []byte{b0, 126, byte(n >> 8), byte(n)}
	}
	h := []byte{b0, 127, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(h[2:], n)
	return h
}

// denseFrames: connections of back-to-back 2-byte server frames, the
// input that renders to the most output per byte.
func denseFrames(g *gen, s int) {
	frame := append(header(true, capgen.OpBinary, 2), 0xab, 0xcd)
	chunk := make([]byte, 0, 32<<10)
	for len(chunk)+len(frame) <= cap(chunk) {
		chunk = append(chunk, frame...)
	}
	var conns []*capgen.Conn
	for range 8 {
		conns = append(conns, g.ws(0))
	}
	for range s {
		for _, c := range conns {
			if c != nil {
				c.Send(capgen.Server, chunk)
			}
		}
	}
	for _, c := range conns {
		if c != nil {
			c.Close(capgen.Client)
			g.finish(c)
		}
	}
}

// unfinishedFrames: connections that start a 1 MiB frame, send 64 KiB of
// it and are never heard from again, so every partial frame is held to the
// end of the capture.
func unfinishedFrames(g *gen, s int) {
	payload := capgen.RandomBytes(64<<10, 1)
	for range 64 * s {
		c := g.ws(0)
		if c == nil {
			return
		}
		c.Send(capgen.Server, append(header(true, capgen.OpBinary, 1<<20), payload...))
		g.finish(c)
	}
}

// unsynced: connections on the forced port whose bytes never form a
// verified frame chain, so each direction's search buffer fills up.
func unsynced(g *gen, s int) {
	for i := range 64 * s {
		c := g.conn(ForcedPort, 0)
		if c == nil {
			return
		}
		c.Open()
		// 0xff bytes: opcode 0xf (reserved), never a plausible header.
		junk := capgen.RandomBytes(64<<10, uint64(i))
		for k := range junk {
			junk[k] |= 0x0f
		}
		c.Send(capgen.Client, junk)
		g.finish(c)
	}
}

// hugeFrame: one complete frame of 4 MiB per scale.
func hugeFrame(g *gen, s int) {
	c := g.ws(0)
	if c == nil {
		return
	}
	n := 4 << 20 * s
	c.Send(capgen.Server, header(true, capgen.OpBinary, uint64(n)))
	block := capgen.RandomText(1<<20, 2)
	for range n >> 20 {
		c.Send(capgen.Server, block)
	}
	c.Close(capgen.Client)
	g.finish(c)
}

// length63: a frame whose length field says 2^63 bytes, followed by 4 MiB
// per scale of the "payload".
func length63(g *gen, s int) {
	c := g.ws(0)
	if c == nil {
		return
	}
	c.Send(capgen.Server, header(true, capgen.OpBinary, 1<<63))
	block := capgen.RandomBytes(1<<20, 3)
	for range 4 * s {
		c.Send(capgen.Server, block)
	}
	c.Close(capgen.Client)
	g.finish(c)
}

// deflateBomb: a permessage-deflate message whose compressed bytes (fixed
// Huffman codes, each a 258-byte copy of the previous byte) inflate ~160
// times.
func deflateBomb(g *gen, s int) {
	ext := capgen.Header{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate"}
	c := g.ws(0, ext)
	if c == nil {
		return
	}
	comp := bomb(32 << 10 * s)
	f := capgen.Frame{Fin: true, RSV1: true, Opcode: capgen.OpBinary, Payload: comp}
	c.Send(capgen.Server, f.Bytes())
	c.Close(capgen.Client)
	g.finish(c)
}

// bomb returns about n bytes of raw DEFLATE, as permessage-deflate sends
// it (the final 00 00 ff ff left off): one fixed-Huffman block of a literal
// zero and copies of 258 bytes at distance 1.
func bomb(n int) []byte {
	var w bitWriter
	w.bits(0, 1) // BFINAL
	w.bits(1, 2) // BTYPE fixed
	w.code(0x30, 8)
	for len(w.out) < n {
		w.code(0xc5, 8) // length 258 (symbol 285)
		w.code(0, 5)    // distance 1
	}
	w.code(0, 7) // end of block
	// Sync flush: an empty stored block, whose LEN/NLEN the receiver adds.
	w.bits(0, 3)
	w.align()
	return w.out
}

// bitWriter writes DEFLATE's LSB-first bit stream.
type bitWriter struct {
	out  []byte
	acc  uint32
	nacc uint
}

// bits writes the n low bits of v, least significant first.
func (w *bitWriter) bits(v uint32, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

// code writes an n-bit Huffman code, most significant bit first.
func (w *bitWriter) code(c uint32, n uint) {
	var r uint32
	for i := range n {
		r |= (c >> i & 1) << (n - 1 - i)
	}
	w.bits(r, n)
}

// align pads to a byte boundary.
func (w *bitWriter) align() {
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
		w.acc, w.nacc = 0, 0
	}
}

// outOfOrder: connections sending 1,024-byte segments after a dropped one,
// so that all of them wait in the out-of-order buffers.
func outOfOrder(g *gen, s int) {
	data := capgen.RandomText(256<<10, 4)
	for range 16 * s {
		c := g.ws(1024)
		if c == nil {
			return
		}
		at := c.Sent(capgen.Server)
		c.Impair(capgen.Impairment{Kind: capgen.Drop, Side: capgen.Server, Offset: at})
		msg := append(header(true, capgen.OpBinary, uint64(len(data))), data...)
		c.Send(capgen.Server, msg)
		g.finish(c)
	}
}

// overlapping: connections whose segments are, in turn, retransmitted with
// different bytes or overlapped by the next one.
func overlapping(g *gen, s int) {
	for i := range 8 * s {
		c := g.ws(1024)
		if c == nil {
			return
		}
		start := c.Sent(capgen.Server)
		data := capgen.RandomText(32<<10, uint64(i))
		msg := append(header(true, capgen.OpText, uint64(len(data))), data...)
		for k := 0; k+1 < len(msg)/1024; k += 2 {
			kind := capgen.RetransmitDiffer
			if k%4 == 2 {
				kind = capgen.Overlap
			}
			c.Impair(capgen.Impairment{Kind: kind, Side: capgen.Server, Offset: start + uint64(k*1024)})
		}
		c.Send(capgen.Server, msg)
		c.Close(capgen.Client)
		g.finish(c)
	}
}

// mqttUnfinished: WebSocket connections negotiating MQTT whose client sends
// the first 64 KiB of a PUBLISH announcing 1 MiB, in one message, which
// an MQTT decoder keeps until the rest arrives; it never does.
func mqttUnfinished(g *gen, s int) {
	sub := capgen.Header{Name: "Sec-WebSocket-Protocol", Value: "mqtt"}
	msg := []byte{0x30, 0x80, 0x80, 0x40, 0, 1, 't'} // PUBLISH, 1 MiB to come; topic "t"
	msg = append(msg, make([]byte, 64<<10-len(msg))...)
	for i := range 96 * s {
		c := g.ws(0, sub)
		if c == nil {
			return
		}
		key := [4]byte{byte(i), 1, 2, 3}
		c.Send(capgen.Client, capgen.Frame{Fin: true, Opcode: capgen.OpBinary, Masked: true, Key: key, Payload: msg}.Bytes())
		g.finish(c)
	}
}

// h2Streams is how many extended CONNECTs each connection of
// h2PendingConnects opens.
const h2Streams = 256

// h2PendingConnects: prior-knowledge HTTP/2 connections whose client opens
// WebSockets with large headers and sends data on each before any answer,
// which a decoder holds until the answer: the server enables extended
// CONNECT and then never answers.
func h2PendingConnects(g *gen, s int) {
	var wb, hb bytes.Buffer
	fr := http2.NewFramer(&wb, nil)
	for range 8 * s {
		c := g.conn(80, 1460)
		if c == nil {
			return
		}
		c.Open()
		enc := hpack.NewEncoder(&hb) // one dynamic table per connection
		wb.WriteString(http2.ClientPreface)
		fr.WriteSettings()
		c.Send(capgen.Client, bytes.Clone(wb.Bytes()))
		wb.Reset()
		fr.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
		c.Send(capgen.Server, bytes.Clone(wb.Bytes()))
		wb.Reset()
		big := bytes.Repeat([]byte("h"), 4<<10)
		data := make([]byte, 16<<10)
		for i := range h2Streams {
			id := uint32(2*i + 1)
			hb.Reset()
			for _, f := range []hpack.HeaderField{{Name: ":method", Value: "CONNECT"}, {Name: ":protocol", Value: "websocket"},
				{Name: ":scheme", Value: "http"}, {Name: ":path", Value: "/chat"}, {Name: ":authority", Value: "example.test"},
				{Name: "x-pad", Value: fmt.Sprintf("%s%08d", big[8:], i)}} {
				if err := enc.WriteField(f); err != nil {
					g.fail(err)
					return
				}
			}
			fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true})
			fr.WriteData(id, false, data[:16000])
			c.Send(capgen.Client, bytes.Clone(wb.Bytes()))
			wb.Reset()
		}
		g.finish(c)
	}
}

// halfOpen: TCP handshakes from distinct ports that never carry data.
func halfOpen(g *gen, s int) {
	for range 10000 * s {
		c := g.conn(80, 0)
		if c == nil {
			return
		}
		c.Open()
		g.finish(c)
	}
}

// unansweredUpgrades: connections whose client sends an upgrade request
// (every other one first a CONNECT) and then goes on sending frames, with
// no answer in the capture, as a capture of one direction shows them. The
// client's bytes were held for the answer until the connection ended; they
// are now held up to --max-http-header (the test runs it as Flat: the bound
// does not depend on the budget).
func unansweredUpgrades(g *gen, s int) {
	var frames []byte
	for i := range 1024 {
		frames = append(frames, capgen.Frame{Fin: true, Opcode: capgen.OpBinary, Masked: true, Key: [4]byte{1, 2, 3, byte(i)}, Payload: capgen.RandomBytes(1000, uint64(i))}.Bytes()...)
	}
	for i := range 16 * s {
		c := g.conn(3128, 0)
		if c == nil {
			return
		}
		c.Open()
		if i%2 == 1 {
			c.Send(capgen.Client, []byte("CONNECT example.test:80 HTTP/1.1\r\nHost: example.test:80\r\n\r\n"))
		}
		c.Send(capgen.Client, capgen.UpgradeRequest("/chat", "example.test", wsKey))
		c.Send(capgen.Client, frames)
		g.finish(c)
	}
}

// openWebSockets: WebSocket connections that exchange one message and stay
// open to the end of the capture.
func openWebSockets(g *gen, s int) {
	for i := range 2000 * s {
		c := g.ws(0)
		if c == nil {
			return
		}
		c.Send(capgen.Server, capgen.Frame{Fin: true, Opcode: capgen.OpText, Payload: fmt.Appendf(nil, "hello %d", i)}.Bytes())
		g.finish(c)
	}
}
