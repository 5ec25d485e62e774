package h2cap

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

type netipAddrPort = netip.AddrPort

func mustAddrPort(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// hand builds the h2c-handbuilt connection: frames are written with x/net's
// Framer into per-side buffers and cut into flights by the builder.
type hand struct {
	m     masker
	fl    []flight
	buf   [2]bytes.Buffer
	fr    [2]*http2.Framer
	enc   [2]*hpack.Encoder
	hb    [2]bytes.Buffer
	truth []capgen.TruthMessage
}

func newHand() *hand {
	h := &hand{}
	for i := range 2 {
		h.fr[i] = http2.NewFramer(&h.buf[i], nil)
		h.enc[i] = hpack.NewEncoder(&h.hb[i])
	}
	return h
}

// flush turns what side wrote since the last flush into one flight.
func (h *hand) flush(from capgen.Side, sizes ...int) {
	b := &h.buf[from]
	if b.Len() == 0 {
		return
	}
	h.fl = append(h.fl, flight{from: from, data: bytes.Clone(b.Bytes()), sizes: sizes})
	b.Reset()
}

func (h *hand) block(from capgen.Side, kv ...string) []byte {
	return hpackBlock(h.enc[from], &h.hb[from], kv...)
}

// ws encodes a WebSocket message as one frame per size and records the
// truth; the caller puts the bytes into DATA frames.
func (h *hand) ws(conn int, from capgen.Side, op uint8, payload []byte, defl *capgen.Deflater, frames ...int) []byte {
	wire := payload
	if defl != nil {
		var err error
		if wire, err = defl.Compress(payload); err != nil {
			panic(err) // fixed inputs: cannot fail
		}
	}
	if len(frames) == 0 {
		frames = []int{len(wire)}
	}
	var out []byte
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
		out = append(out, h.m.wsFrame(from, last, defl != nil && i == 0, fop, rest[:n])...)
		rest = rest[n:]
	}
	h.truth = append(h.truth, capgen.TruthMessage{Conn: conn, Dir: from.Dir(), Opcode: op, Payload: bytes.Clone(payload)})
	return out
}

var connectFields = []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http",
	":authority", "h2c.example", "sec-websocket-version", "13", "origin", "http://h2c.example", "user-agent", "hand-built"}

func buildHand() (Output, error) {
	h := newHand()
	const cl, sv = capgen.Client, capgen.Server
	// HTTP/1.1 upgrade to h2c; the request is stream 1.
	h.buf[cl].WriteString("GET /start HTTP/1.1\r\nHost: h2c.example\r\nConnection: Upgrade, HTTP2-Settings\r\n" +
		"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n")
	h.flush(cl)
	h.buf[sv].WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
	h.fr[sv].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1},
		http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
	h.fr[sv].WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, PadLength: 6,
		BlockFragment: h.block(sv, ":status", "200", "content-type", "text/plain")})
	// A push promised on stream 1 before it ends keeps both HPACK tables busy.
	h.fr[sv].WritePushPromise(http2.PushPromiseParam{StreamID: 1, PromiseID: 2, EndHeaders: true,
		BlockFragment: h.block(sv, ":method", "GET", ":scheme", "http", ":authority", "h2c.example", ":path", "/style.css")})
	h.fr[sv].WriteData(1, true, []byte("upgraded to h2c\n"))
	h.fr[sv].WriteHeaders(http2.HeadersFrameParam{StreamID: 2, EndHeaders: true,
		BlockFragment: h.block(sv, ":status", "200", "content-type", "text/css")})
	h.fr[sv].WriteData(2, true, []byte("body{}"))
	h.flush(sv, tinySegments...)
	h.buf[cl].WriteString(http2.ClientPreface)
	h.fr[cl].WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 1})
	h.fr[cl].WriteSettingsAck()
	// Stream 3: a WebSocket; the CONNECT is split into HEADERS (padded, with
	// priority) and two CONTINUATIONs.
	blk := h.block(cl, append(connectFields, ":path", "/ws/hand", "cookie", strings.Repeat("k", 300))...)
	h.fr[cl].WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: blk[:10], PadLength: 20,
		Priority: http2.PriorityParam{Weight: 200}})
	h.fr[cl].WriteContinuation(3, false, blk[10:100])
	h.fr[cl].WriteContinuation(3, true, blk[100:])
	h.flush(cl, tinySegments...)
	h.fr[sv].WriteSettingsAck()
	h.fr[sv].WriteHeaders(http2.HeadersFrameParam{StreamID: 3, EndHeaders: true,
		BlockFragment: h.block(sv, ":status", "200")})
	h.flush(sv)
	// Several WebSocket frames in one padded DATA frame, then a message
	// split across three DATA frames.
	two := append(h.ws(0, cl, capgen.OpText, []byte("first message"), nil), h.ws(0, cl, capgen.OpBinary, []byte{1, 2, 3, 4, 5}, nil)...)
	h.fr[cl].WriteDataPadded(3, false, two, make([]byte, 33))
	long := h.ws(0, cl, capgen.OpText, []byte(strings.Repeat("split across DATA frames ", 12)), nil, 100, 100)
	h.fr[cl].WriteData(3, false, long[:7])
	h.fr[cl].WriteDataPadded(3, false, long[7:150], make([]byte, 3))
	h.fr[cl].WriteData(3, false, long[150:])
	h.fr[cl].WritePriority(3, http2.PriorityParam{Weight: 50, StreamDep: 0})
	h.fr[cl].WriteWindowUpdate(0, 1<<20)
	h.flush(cl)
	h.fr[sv].WriteData(3, false, h.ws(0, sv, capgen.OpPing, []byte("are you there"), nil))
	h.fr[sv].WritePing(false, [8]byte{'h', '2', 'p', 'i', 'n', 'g'})
	h.flush(sv)
	h.fr[cl].WritePing(true, [8]byte{'h', '2', 'p', 'i', 'n', 'g'})
	h.fr[cl].WriteData(3, false, h.ws(0, cl, capgen.OpPong, []byte("are you there"), nil))
	// Stream 5: a second WebSocket with permessage-deflate; the dynamic
	// table supplies most of its CONNECT.
	h.fr[cl].WriteHeaders(http2.HeadersFrameParam{StreamID: 5, EndHeaders: true, BlockFragment: h.block(cl,
		append(connectFields, ":path", "/ws/deflate", "sec-websocket-extensions", "permessage-deflate; server_no_context_takeover")...)})
	h.flush(cl)
	h.fr[sv].WriteHeaders(http2.HeadersFrameParam{StreamID: 5, EndHeaders: true,
		BlockFragment: h.block(sv, ":status", "200", "sec-websocket-extensions", "permessage-deflate; server_no_context_takeover")})
	sd, err := capgen.NewDeflater(15, false)
	if err != nil {
		return Output{}, err
	}
	cd, err := capgen.NewDeflater(15, true)
	if err != nil {
		return Output{}, err
	}
	h.fr[sv].WriteData(5, false, h.ws(1, sv, capgen.OpText, []byte(strings.Repeat("deflated over h2 ", 40)), sd))
	h.flush(sv)
	h.fr[cl].WriteData(5, false, h.ws(1, cl, capgen.OpText, []byte(strings.Repeat("client deflate ", 30)), cd))
	h.fr[cl].WriteData(5, false, h.ws(1, cl, capgen.OpText, []byte(strings.Repeat("client deflate ", 31)), cd))
	// Stream 7: an extended CONNECT the server refuses; stream 9 a plain GET.
	h.fr[cl].WriteHeaders(http2.HeadersFrameParam{StreamID: 7, EndHeaders: true,
		BlockFragment: h.block(cl, append(connectFields, ":path", "/ws/forbidden")...)})
	h.fr[cl].WriteHeaders(http2.HeadersFrameParam{StreamID: 9, EndHeaders: true, EndStream: true,
		BlockFragment: h.block(cl, ":method", "GET", ":scheme", "http", ":authority", "h2c.example", ":path", "/data")})
	h.flush(cl)
	h.fr[sv].WriteHeaders(http2.HeadersFrameParam{StreamID: 7, EndHeaders: true, EndStream: true,
		BlockFragment: h.block(sv, ":status", "403")})
	h.fr[sv].WriteHeaders(http2.HeadersFrameParam{StreamID: 9, EndHeaders: true,
		BlockFragment: h.block(sv, ":status", "200", "content-type", "application/json")})
	h.fr[sv].WriteData(9, true, []byte(`{"not":"websocket"}`))
	// Closing handshakes: stream 3 ends with END_STREAM both ways, stream 5
	// with RST_STREAM after its close frames.
	h.fr[sv].WriteData(3, false, h.ws(0, sv, capgen.OpClose, capgen.ClosePayload(1000, "done"), nil))
	h.fr[sv].WriteData(5, false, h.ws(1, sv, capgen.OpClose, capgen.ClosePayload(1000, ""), nil))
	h.flush(sv)
	h.fr[cl].WriteData(3, true, h.ws(0, cl, capgen.OpClose, capgen.ClosePayload(1000, "done"), nil))
	h.fr[cl].WriteData(5, false, h.ws(1, cl, capgen.OpClose, capgen.ClosePayload(1000, ""), nil))
	h.fr[cl].WriteRSTStream(5, http2.ErrCodeCancel)
	h.flush(cl, tinySegments...)
	h.fr[sv].WriteData(3, true, nil)
	h.fr[sv].WriteGoAway(9, http2.ErrCodeNo, nil)
	h.flush(sv)
	return h.output("h2c-handbuilt", "10.8.0.3:80",
		"HTTP/1.1 Upgrade: h2c (request = stream 1), a server push (stream 2), padded HEADERS and DATA, CONTINUATION, PRIORITY, PING, WINDOW_UPDATE",
		"conn 0 is the WebSocket on HTTP/2 stream 3 (END_STREAM both ways), conn 1 the permessage-deflate one on stream 5 (ended by RST_STREAM CANCEL); stream 7 is refused with 403, stream 9 is a plain GET; the server ends with GOAWAY")
}

// output wraps the flights into a capture of one TCP connection to server
// and returns it as name, with its truth: the messages recorded and, after
// the note every hand-built capture has, notes.
func (h *hand) output(name, server string, notes ...string) (Output, error) {
	pcap, err := wrapTCP(h.fl, server)
	if err != nil {
		return Output{}, fmt.Errorf("%s: %w", name, err)
	}
	notes = append([]string{"hand-built with golang.org/x/net/http2's Framer and HPACK encoder; TCP segmentation, addresses and timestamps are synthetic"}, notes...)
	return Output{Name: name, Pcap: pcap, Truth: &capgen.Truth{Messages: h.truth, Notes: notes}}, nil
}

// priorKnowledge writes the start of a prior-knowledge h2c connection: the
// client's preface and SETTINGS, the server's SETTINGS (extended CONNECT
// enabled) and both acknowledgements; the client's acknowledgement is not
// flushed, so that its first request joins it.
func (h *hand) priorKnowledge() {
	const cl, sv = capgen.Client, capgen.Server
	h.buf[cl].WriteString(http2.ClientPreface)
	h.fr[cl].WriteSettings()
	h.flush(cl)
	h.fr[sv].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	h.fr[sv].WriteSettingsAck()
	h.flush(sv)
	h.fr[cl].WriteSettingsAck()
}

// buildSingle builds h2c-single: prior knowledge (no upgrade), one
// WebSocket session on stream 1 with a text message each way, close frames
// and END_STREAM both ways.
func buildSingle() (Output, error) {
	h := newHand()
	const cl, sv = capgen.Client, capgen.Server
	h.priorKnowledge()
	h.fr[cl].WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
		BlockFragment: h.block(cl, append(connectFields, ":path", "/ws/single")...)})
	h.flush(cl)
	h.fr[sv].WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true, BlockFragment: h.block(sv, ":status", "200")})
	h.flush(sv)
	h.fr[cl].WriteData(1, false, h.ws(0, cl, capgen.OpText, []byte("hello over h2"), nil))
	h.flush(cl)
	h.fr[sv].WriteData(1, false, h.ws(0, sv, capgen.OpText, []byte("hello back"), nil))
	h.fr[sv].WriteData(1, false, h.ws(0, sv, capgen.OpClose, capgen.ClosePayload(1000, "bye"), nil))
	h.flush(sv)
	h.fr[cl].WriteData(1, true, h.ws(0, cl, capgen.OpClose, capgen.ClosePayload(1000, "bye"), nil))
	h.flush(cl)
	h.fr[sv].WriteData(1, true, nil)
	h.flush(sv)
	return h.output("h2c-single", "10.8.0.5:80",
		"prior-knowledge h2c (no upgrade) with one WebSocket, on HTTP/2 stream 1: a text message each way, close frames, END_STREAM both ways")
}
