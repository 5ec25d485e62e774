package dissect

import (
	"bytes"
	"compress/flate"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/reassembly"
)

// countSink counts records and keeps nothing.
type countSink struct{ n int }

func (c *countSink) Emit(*Record) error { c.n++; return nil }

// frameStream is an upgraded connection fed a stream of client frames in
// segment-sized chunks.
type frameStream struct {
	h     reassembly.Handler
	sink  *countSink
	data  []byte // one round of frames
	plain int    // payload bytes of a round after unmasking and inflating
	ch    reassembly.Chunk
	off   uint64
	pkt   uint64
	chunk int
}

// newFrameStream upgrades a connection (with or without permessage-deflate)
// and prepares frames: masked text and binary frames of the given payload
// size.
func newFrameStream(tb testing.TB, opts Options, size int, deflate bool) *frameStream {
	tb.Helper()
	s := &frameStream{sink: &countSink{}, chunk: 1448}
	d := New(s.sink, opts)
	info := &reassembly.ConnInfo{Stream: 1, SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	s.h = d.NewConn(info)
	ext := ""
	if deflate {
		ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	}
	s.h.Data(reassembly.SideA, &reassembly.Chunk{Data: upgradeReq(ext), Packet: 1})
	s.h.Data(reassembly.SideB, &reassembly.Chunk{Data: upgradeResp(ext), Packet: 2})
	s.off = uint64(len(upgradeReq(ext)))
	s.pkt = 3
	text := make([]byte, size)
	for i := range text {
		text[i] = "abcdefghij klmnopqrstuvwxyz {\"id\":42}"[i%37]
	}
	bin := make([]byte, size)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	if deflate {
		for _, c := range compressTakeover(tb, text, text[:size/2]) {
			s.data = append(s.data, wsFrame{fin: true, rsv1: true, op: OpText, key: key, payload: c}.bytes()...)
		}
		s.plain = size + size/2
	} else {
		for range 8 {
			s.data = append(s.data, wsFrame{fin: true, op: OpText, key: key, payload: text}.bytes()...)
			s.data = append(s.data, wsFrame{fin: true, op: OpBinary, key: key, payload: bin}.bytes()...)
		}
		s.plain = 16 * size
	}
	return s
}

// round feeds one round of frames.
func (s *frameStream) round() {
	for b := s.data; len(b) > 0; {
		n := min(s.chunk, len(b))
		s.ch = reassembly.Chunk{Data: b[:n], Offset: s.off, Packet: s.pkt, Time: time.Unix(0, int64(s.pkt))}
		s.h.Data(reassembly.SideA, &s.ch)
		s.off += uint64(n)
		s.pkt++
		b = b[n:]
	}
}

// BenchmarkFrames parses, unmasks, validates (UTF-8) and emits masked client
// frames streamed through a connection in 1448-byte chunks, as frames and as
// messages; with permessage-deflate the messages are inflated too. MB/s
// counts payload bytes after unmasking and inflating.
func BenchmarkFrames(b *testing.B) {
	for _, deflate := range []bool{false, true} {
		for _, size := range []int{100, 1400, 16000} {
			for _, messages := range []bool{false, true} {
				name := "plain"
				if deflate {
					name = "deflate"
				}
				name += "/" + strconv.Itoa(size)
				if messages {
					name += "/messages"
				}
				b.Run(name, func(b *testing.B) {
					s := newFrameStream(b, Options{Messages: messages}, size, deflate)
					s.round()
					b.SetBytes(int64(s.plain))
					b.ReportAllocs()
					for b.Loop() {
						s.round()
					}
					if s.sink.n == 0 {
						b.Fatal("no records")
					}
				})
			}
		}
	}
}

// TestFramesDoNotAllocate requires zero allocations per round of frames once
// the buffers have grown.
func TestFramesDoNotAllocate(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		for _, messages := range []bool{false, true} {
			s := newFrameStream(t, Options{Messages: messages}, 1400, deflate)
			s.round()
			before := s.sink.n
			if n := testing.AllocsPerRun(20, s.round); n != 0 {
				t.Errorf("deflate=%v messages=%v: %v allocations per round, want 0", deflate, messages, n)
			}
			if s.sink.n == before {
				t.Errorf("deflate=%v messages=%v: no records", deflate, messages)
			}
		}
	}
}

// BenchmarkMask measures unmasking alone, at several offsets into the key.
func BenchmarkMask(b *testing.B) {
	for _, n := range []int{125, 1448, 65536} {
		buf := make([]byte, n+3)
		key := [4]byte{1, 2, 3, 4}
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				maskBytes(buf[i&3:i&3+n], key, uint64(i))
				i++
			}
		})
	}
}

// compressTakeover compresses messages for permessage-deflate with context
// takeover (each message may refer to the earlier ones).
func compressTakeover(tb testing.TB, msgs ...[]byte) [][]byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.DefaultCompression)
	if err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, m := range msgs {
		start := buf.Len()
		if _, err := w.Write(m); err != nil {
			tb.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		out = append(out, bytes.TrimSuffix(bytes.Clone(buf.Bytes()[start:]), []byte{0, 0, 0xff, 0xff}))
	}
	return out
}

// BenchmarkHandshake measures a connection's whole life up to its first
// frame, as on captures of many short connections: a browser-like upgrade
// request, the 101 response, one small frame each way and the close.
func BenchmarkHandshake(b *testing.B) {
	req := []byte("GET /socket?token=abc123 HTTP/1.1\r\nHost: app.example.com\r\n" +
		"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n" +
		"Accept: */*\r\nAccept-Language: en-US,en;q=0.5\r\nAccept-Encoding: gzip, deflate, br\r\n" +
		"Sec-WebSocket-Version: 13\r\nOrigin: https://app.example.com\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate\r\nSec-WebSocket-Key: " + testKey + "\r\n" +
		"Connection: keep-alive, Upgrade\r\nCookie: session=0123456789abcdef\r\n" +
		"Sec-Fetch-Dest: empty\r\nSec-Fetch-Mode: websocket\r\nSec-Fetch-Site: same-origin\r\n" +
		"Pragma: no-cache\r\nCache-Control: no-cache\r\nUpgrade: websocket\r\n\r\n")
	resp := upgradeResp("Sec-WebSocket-Extensions: permessage-deflate\r\n")
	key := []byte{1, 2, 3, 4}
	clientFrame := wsFrame{fin: true, op: OpText, key: key, payload: []byte("hello")}.bytes()
	serverFrame := wsFrame{fin: true, op: OpText, payload: []byte("world")}.bytes()
	sink := &countSink{}
	d := New(sink, Options{})
	info := &reassembly.ConnInfo{SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	var ch reassembly.Chunk
	b.SetBytes(int64(len(req) + len(resp)))
	b.ReportAllocs()
	for b.Loop() {
		info.Stream++
		h := d.NewConn(info)
		ch = reassembly.Chunk{Data: req, Packet: 1}
		h.Data(reassembly.SideA, &ch)
		ch = reassembly.Chunk{Data: resp, Packet: 2}
		h.Data(reassembly.SideB, &ch)
		ch = reassembly.Chunk{Data: clientFrame, Offset: uint64(len(req)), Packet: 3}
		h.Data(reassembly.SideA, &ch)
		ch = reassembly.Chunk{Data: serverFrame, Offset: uint64(len(resp)), Packet: 4}
		h.Data(reassembly.SideB, &ch)
		h.Close(reassembly.ClosedFIN)
	}
	if d.Stats().Frames == 0 {
		b.Fatal("no frames")
	}
}
