package dissect

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/reassembly"
)

// wsFrame builds a frame for tests.
type wsFrame struct {
	fin, rsv1, rsv2, rsv3 bool
	op                    uint8
	key                   []byte // nil: unmasked
	payload               []byte
	lenBits               int // 0 minimal, 16 or 64 to force an encoding
	lenOverride           uint64
}

func (f wsFrame) bytes() []byte {
	b0 := f.op
	if f.fin {
		b0 |= 0x80
	}
	if f.rsv1 {
		b0 |= 0x40
	}
	if f.rsv2 {
		b0 |= 0x20
	}
	if f.rsv3 {
		b0 |= 0x10
	}
	n := uint64(len(f.payload))
	if f.lenOverride != 0 {
		n = f.lenOverride
	}
	out := []byte{b0}
	var m byte
	if f.key != nil {
		m = 0x80
	}
	switch {
	case f.lenBits == 64 || (f.lenBits == 0 && n > 0xffff):
		out = append(out, m|127)
		out = binary.BigEndian.AppendUint64(out, n)
	case f.lenBits == 16 || (f.lenBits == 0 && n > 125):
		out = append(out, m|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, m|byte(n))
	}
	p := append([]byte(nil), f.payload...)
	if f.key != nil {
		out = append(out, f.key...)
		maskBytes(p, [4]byte(f.key), 0)
	}
	return append(out, p...)
}

func text(s string) wsFrame { return wsFrame{fin: true, op: OpText, payload: []byte(s)} }
func ctext(s string) wsFrame {
	return wsFrame{fin: true, op: OpText, key: []byte{1, 2, 3, 4}, payload: []byte(s)}
}
func closeF(code uint16, reason string, key []byte) wsFrame {
	p := binary.BigEndian.AppendUint16(nil, code)
	return wsFrame{fin: true, op: OpClose, key: key, payload: append(p, reason...)}
}

func cat(fs ...wsFrame) []byte {
	var b []byte
	for _, f := range fs {
		b = append(b, f.bytes()...)
	}
	return b
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

func upgradeReq(extra string) []byte {
	return []byte("GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" +
		"Sec-WebSocket-Key: " + testKey + "\r\nSec-WebSocket-Version: 13\r\nOrigin: http://example.com\r\n" + extra + "\r\n")
}

func upgradeResp(extra string) []byte {
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: " + AcceptFor(testKey) + "\r\n" + extra + "\r\n")
}

// step is one event fed to a connection.
type step struct {
	side reassembly.Side
	data []byte
	gap  uint64
}

func c2s(b []byte) step { return step{side: reassembly.SideA, data: b} }
func s2c(b []byte) step { return step{side: reassembly.SideB, data: b} }

// got is a simplified, copied record.
type got struct {
	kind       string
	dir        string
	op         uint8
	fin        bool
	payload    string
	anomalies  []string
	packet     uint64
	incomplete bool
	truncated  bool
	compressed bool
	midstream  bool
	closeCode  uint16
	offsets    []int64
	len        uint64 // a message's Len
}

type collect struct{ recs []got }

func (c *collect) Emit(r *Record) error {
	g := got{kind: r.Kind.String(), packet: r.Packet}
	if r.HasDir {
		g.dir = r.Dir.String()
	}
	for _, a := range r.Anomalies {
		g.anomalies = append(g.anomalies, a.ID)
		g.offsets = append(g.offsets, a.Offset)
	}
	switch r.Kind {
	case KindFrame:
		f := r.Frame
		g.op, g.fin, g.payload, g.incomplete, g.truncated, g.compressed = f.Opcode, f.Fin, string(f.Payload), f.Incomplete, f.Truncated, f.Compressed
		g.closeCode = f.CloseCode
	case KindMessage:
		m := r.Message
		g.op, g.fin, g.payload, g.incomplete, g.truncated, g.compressed = m.Opcode, true, string(m.Payload), m.Incomplete, m.Truncated, m.Compressed
		g.closeCode, g.len = m.CloseCode, m.Len
	case KindConn:
		g.midstream = r.Conn.Midstream
	}
	c.recs = append(c.recs, g)
	return nil
}

// feed runs steps through one connection; when split is set every byte is
// delivered on its own.
func feed(t *testing.T, opts Options, sawSYN bool, split bool, steps ...step) []got {
	t.Helper()
	var c collect
	feedConn(New(&c, opts), sawSYN, split, steps...)
	return c.recs
}

// feedConn runs steps through a new connection of d and closes it; it
// returns the connection's handler.
func feedConn(d *Dissector, sawSYN bool, split bool, steps ...step) reassembly.Handler {
	info := &reassembly.ConnInfo{Stream: 7, SawSYN: sawSYN, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	h := d.NewConn(info)
	var off [2]uint64
	for i, s := range steps {
		pkt := uint64(i + 1)
		ts := time.Unix(1700000000, int64(i)*1000)
		if s.gap > 0 {
			h.Gap(s.side, &reassembly.Gap{Offset: off[s.side], Len: s.gap, Packet: pkt, Time: ts, Reason: "test"})
			off[s.side] += s.gap
			continue
		}
		pieces := [][]byte{s.data}
		if split {
			pieces = nil
			for j := range s.data {
				pieces = append(pieces, s.data[j:j+1])
			}
		}
		for _, p := range pieces {
			h.Data(s.side, &reassembly.Chunk{Data: p, Offset: off[s.side], Packet: pkt, Time: ts})
			off[s.side] += uint64(len(p))
		}
	}
	h.Close(reassembly.ClosedEOF)
	return h
}

// TestRecycledConnStartsClean checks that a connection whose state is
// recycled from a closed one (left mid-message, compressed, with anomalies)
// decodes exactly as on a fresh Dissector.
func TestRecycledConnStartsClean(t *testing.T) {
	comp := deflateMsgs(t, true, "first message", "second message")
	first := []step{
		c2s(upgradeReq("Sec-WebSocket-Extensions: permessage-deflate\r\n")),
		s2c(append(upgradeResp("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
			cat(wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[0]},
				wsFrame{rsv1: true, op: OpText, payload: comp[1][:3]})...)),
		c2s(wsFrame{fin: true, op: OpText, payload: []byte("unmasked")}.bytes()),
	}
	second := []step{
		c2s(upgradeReq("")),
		s2c(append(upgradeResp(""), cat(text("one"), text("two"))...)),
	}
	var fresh collect
	feedConn(New(&fresh, Options{Messages: true}), true, false, second...)

	var c collect
	d := New(&c, Options{Messages: true})
	h1 := feedConn(d, true, false, first...)
	if len(ids(c.recs)) == 0 {
		t.Fatalf("the first connection raised no anomaly; the test lost its point")
	}
	s1 := h1.(*lazyConn).c
	c.recs = nil
	h2 := feedConn(d, true, false, second...)
	if s2 := h2.(*lazyConn).c; s1 == nil || s1 != s2 {
		t.Fatalf("the second connection did not reuse the first one's state")
	}
	if !reflect.DeepEqual(c.recs, fresh.recs) {
		t.Errorf("records after reuse:\n%+v\nwant, as on a fresh Dissector:\n%+v", c.recs, fresh.recs)
	}
}

// TestRecycledHTTPBuffers checks that the header buffers of closed
// connections are reused empty: a connection that ended with half a request
// and half a response buffered leaves nothing behind for the next one, which
// is dissected as on a fresh Dissector.
func TestRecycledHTTPBuffers(t *testing.T) {
	first := []step{
		c2s([]byte("GET /first HTTP/1.1\r\nHost: a.example\r\nX-Half: ")),
		s2c([]byte("HTTP/1.1 200 OK\r\nContent-")),
	}
	second := []step{
		c2s(upgradeReq("")),
		s2c(append(upgradeResp(""), text("after reuse").bytes()...)),
	}
	var fresh collect
	feedConn(New(&fresh, Options{}), true, false, second...)

	var c collect
	d := New(&c, Options{})
	feedConn(d, true, false, first...)
	if n := len(d.pool.httpBufs); n != 2 {
		t.Fatalf("%d header buffers kept from the first connection, want 2", n)
	}
	c.recs = nil
	feedConn(d, true, false, second...)
	if !reflect.DeepEqual(c.recs, fresh.recs) {
		t.Errorf("records with reused buffers:\n%+v\nwant, as on a fresh Dissector:\n%+v", c.recs, fresh.recs)
	}
	if n := len(d.pool.httpBufs); n != 2 {
		t.Errorf("%d header buffers kept after the upgraded connection, want 2", n)
	}
}

// TestConnStateOnlyWithData checks that a connection's state is set up at
// its first bytes or gap only: connections that never carry data (a SYN
// flood's) cost a handler of a few words, and emit nothing.
func TestConnStateOnlyWithData(t *testing.T) {
	var c collect
	d := New(&c, Options{})
	info := &reassembly.ConnInfo{Stream: 1, SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	h := d.NewConn(info)
	h.Note(reassembly.SideA, &reassembly.Note{Kind: reassembly.NoteRST, Packet: 2})
	if l := h.(*lazyConn); l.c != nil {
		t.Fatal("a connection without data got its state")
	}
	h.Close(reassembly.ClosedRST)
	if len(c.recs) != 0 || d.pool.conns.Len() != 0 {
		t.Fatalf("a connection without data emitted %d records and left %d states", len(c.recs), d.pool.conns.Len())
	}

	for _, gap := range []bool{false, true} {
		h := d.NewConn(info)
		if gap {
			h.Gap(reassembly.SideA, &reassembly.Gap{Len: 10, Packet: 3, Reason: "test"})
		} else {
			h.Data(reassembly.SideA, &reassembly.Chunk{Data: []byte("GET / HTTP/1.1\r\n"), Packet: 3})
		}
		if h.(*lazyConn).c == nil {
			t.Errorf("gap=%v: the connection's state was not set up", gap)
		}
		h.Close(reassembly.ClosedEOF)
	}
}

func TestAcceptFor(t *testing.T) {
	// The example of RFC 6455 section 1.3.
	if got := AcceptFor(testKey); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptFor = %q", got)
	}
}

func frames(recs []got) []got {
	var out []got
	for _, r := range recs {
		if r.kind == "frame" || r.kind == "message" {
			out = append(out, r)
		}
	}
	return out
}

func ids(recs []got) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.anomalies...)
	}
	return out
}

func TestHandshakeAndFramesAnySplit(t *testing.T) {
	steps := []step{
		c2s(upgradeReq("")),
		s2c(append(upgradeResp(""), cat(text("hi"), wsFrame{fin: true, op: OpPing, payload: []byte("p")})...)),
		c2s(cat(ctext("hello"), wsFrame{op: OpBinary, key: []byte{9, 9, 9, 9}, payload: []byte{1, 2, 3}},
			wsFrame{fin: true, op: OpPing, key: []byte{5, 6, 7, 8}, payload: []byte("x")},
			wsFrame{fin: true, op: OpContinuation, key: []byte{1, 1, 1, 1}, payload: []byte{4, 5}},
			closeF(1000, "bye", []byte{7, 7, 7, 7}))),
		s2c(cat(closeF(1000, "", nil))),
	}
	for _, split := range []bool{false, true} {
		recs := feed(t, Options{}, true, split, steps...)
		if recs[0].kind != "conn" {
			t.Fatalf("first record %+v, want conn", recs[0])
		}
		fr := frames(recs)
		want := []struct {
			dir, payload string
			op           uint8
		}{
			{"s2c", "hi", OpText}, {"s2c", "p", OpPing}, {"c2s", "hello", OpText},
			{"c2s", "\x01\x02\x03", OpBinary}, {"c2s", "x", OpPing}, {"c2s", "\x04\x05", OpContinuation},
			{"c2s", "\x03\xe8bye", OpClose}, {"s2c", "\x03\xe8", OpClose},
		}
		if len(fr) != len(want) {
			t.Fatalf("split=%v: %d frames, want %d: %+v", split, len(fr), len(want), fr)
		}
		for i, w := range want {
			if fr[i].dir != w.dir || fr[i].payload != w.payload || fr[i].op != w.op {
				t.Errorf("split=%v frame %d = %+v, want %+v", split, i, fr[i], w)
			}
		}
		if a := ids(recs); len(a) != 0 {
			t.Errorf("clean traffic produced anomalies %v", a)
		}
		// Messages: the fragmented binary message is reassembled around the ping.
		msgs := frames(feed(t, Options{Messages: true}, true, split, steps...))
		var bin *got
		for i := range msgs {
			if msgs[i].op == OpBinary {
				bin = &msgs[i]
			}
		}
		if bin == nil || bin.payload != "\x01\x02\x03\x04\x05" {
			t.Errorf("split=%v: fragmented binary message = %+v", split, bin)
		}
	}
}

func TestHTTPBeforeUpgradeAndRejected(t *testing.T) {
	get := []byte("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	chunked := []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	rejected := []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno")
	interim := []byte("HTTP/1.1 100 Continue\r\n\r\n")
	recs := feed(t, Options{}, true, false,
		c2s(get), s2c(resp), c2s(get), s2c(chunked),
		c2s(upgradeReq("")), s2c(rejected),
		c2s(upgradeReq("")), s2c(append(interim, upgradeResp("")...)),
		s2c(text("ok").bytes()),
	)
	var kinds []string
	for _, r := range recs {
		kinds = append(kinds, r.kind+":"+strings.Join(r.anomalies, ","))
	}
	want := []string{"conn:", "anomaly:upgrade-rejected", "conn:", "frame:", "end:"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("records %v, want %v", kinds, want)
	}
}

func TestAnomalies(t *testing.T) {
	k := []byte{1, 2, 3, 4}
	big := bytes.Repeat([]byte("a"), 126)
	tests := []struct {
		name   string
		frames []byte // client frames
		srv    []byte // server frames
		reqExt string
		rspExt string
		want   []string
	}{
		{name: "client unmasked", frames: text("x").bytes(), want: []string{AnClientUnmasked}},
		{name: "server masked", srv: ctext("x").bytes(), want: []string{AnServerMasked}},
		{name: "rsv1 without extension", frames: wsFrame{fin: true, rsv1: true, op: OpText, key: k, payload: []byte("x")}.bytes(), want: []string{AnRSVNoExtension}},
		{name: "rsv2", frames: wsFrame{fin: true, rsv2: true, op: OpText, key: k, payload: []byte("x")}.bytes(), want: []string{AnRSVNoExtension}},
		{name: "rsv1 on control", reqExt: "permessage-deflate", rspExt: "permessage-deflate",
			frames: wsFrame{fin: true, rsv1: true, op: OpPing, key: k}.bytes(), want: []string{AnRSV1Control}},
		{name: "reserved opcode", frames: wsFrame{fin: true, op: 3, key: k}.bytes(), want: []string{AnReservedOpcode}},
		{name: "control too long", frames: wsFrame{fin: true, op: OpPing, key: k, payload: big}.bytes(), want: []string{AnControlTooLong}},
		{name: "control fragmented", frames: wsFrame{op: OpPing, key: k}.bytes(), want: []string{AnControlFragmented}},
		{name: "continuation without message", frames: wsFrame{fin: true, op: OpContinuation, key: k, payload: []byte("x")}.bytes(), want: []string{AnContinuationNoMessage}},
		{name: "data during fragmented", frames: cat(wsFrame{op: OpText, key: k, payload: []byte("a")}, ctext("b")), want: []string{AnDataDuringFragmented}},
		{name: "invalid utf8", frames: ctext("ab\xffc").bytes(), want: []string{AnInvalidUTF8}},
		{name: "utf8 split across fragments is fine", frames: cat(wsFrame{op: OpText, key: k, payload: []byte("\xe2\x82")}, wsFrame{fin: true, op: OpContinuation, key: k, payload: []byte("\xac")}), want: nil},
		{name: "close reason utf8", frames: closeF(1000, "\xff", k).bytes(), want: []string{AnCloseReasonUTF8}},
		{name: "close one byte", frames: wsFrame{fin: true, op: OpClose, key: k, payload: []byte{3}}.bytes(), want: []string{AnCloseOneByte}},
		{name: "close code 1005", frames: closeF(1005, "", k).bytes(), want: []string{AnCloseCodeInvalid}},
		{name: "close code 2000", frames: closeF(2000, "", k).bytes(), want: []string{AnCloseCodeInvalid}},
		{name: "close code 4000 ok", frames: closeF(4000, "", k).bytes(), want: nil},
		{name: "non-minimal length", frames: wsFrame{fin: true, op: OpBinary, key: k, payload: []byte("x"), lenBits: 16}.bytes(), want: []string{AnNonMinimalLength}},
		{name: "64-bit top bit", frames: wsFrame{fin: true, op: OpBinary, key: k, lenBits: 64, lenOverride: 1 << 63}.bytes(), want: []string{AnLengthTopBit, AnFrameCutAtEnd}},
		{name: "data after close", frames: cat(closeF(1000, "", k), ctext("late")), want: []string{AnDataAfterClose}},
		{name: "zero mask key", frames: wsFrame{fin: true, op: OpText, key: []byte{0, 0, 0, 0}, payload: []byte("x")}.bytes(), want: []string{AnZeroMaskKey}},
		{name: "extension not offered", rspExt: "permessage-deflate", want: []string{AnExtensionNotOffered}},
		{name: "subprotocol not offered", rspExt: "", reqExt: "", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, rsp := "", ""
			if tc.reqExt != "" {
				req = "Sec-WebSocket-Extensions: " + tc.reqExt + "\r\n"
			}
			if tc.rspExt != "" {
				rsp = "Sec-WebSocket-Extensions: " + tc.rspExt + "\r\n"
			}
			steps := []step{c2s(upgradeReq(req)), s2c(upgradeResp(rsp))}
			if tc.frames != nil {
				steps = append(steps, c2s(tc.frames))
			}
			if tc.srv != nil {
				steps = append(steps, s2c(tc.srv))
			}
			got := ids(feed(t, Options{}, true, false, steps...))
			if !slices.Equal(got, tc.want) {
				t.Errorf("anomalies %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHandshakeAnomalies(t *testing.T) {
	tests := []struct {
		name      string
		req, resp string
		want      []string
	}{
		{"wrong accept", string(upgradeReq("")), strings.Replace(string(upgradeResp("")), AcceptFor(testKey), "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1), []string{AnAcceptMismatch}},
		{"missing accept", string(upgradeReq("")), "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", []string{AnAcceptMissing}},
		{"version 8", strings.Replace(string(upgradeReq("")), "Version: 13", "Version: 8", 1), string(upgradeResp("")), []string{AnVersionNot13}},
		{"no connection token", strings.Replace(string(upgradeReq("")), "keep-alive, Upgrade", "keep-alive", 1), string(upgradeResp("")), []string{AnConnTokenMissing}},
		{"subprotocol not offered", string(upgradeReq("")), string(upgradeResp("Sec-WebSocket-Protocol: chat\r\n")), []string{AnSubprotoNotOffered}},
		{"subprotocol offered", string(upgradeReq("Sec-WebSocket-Protocol: chat, superchat\r\n")), string(upgradeResp("Sec-WebSocket-Protocol: chat\r\n")), nil},
		{"rejected", string(upgradeReq("")), "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n", []string{AnUpgradeRejected}},
		{"unanswered", string(upgradeReq("")), "", []string{AnUpgradeUnanswered}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := []step{c2s([]byte(tc.req))}
			if tc.resp != "" {
				steps = append(steps, s2c([]byte(tc.resp)))
			}
			got := ids(feed(t, Options{}, true, false, steps...))
			if !slices.Equal(got, tc.want) {
				t.Errorf("anomalies %v, want %v", got, tc.want)
			}
		})
	}
}

// deflateMsgs compresses messages as a permessage-deflate sender does.
func deflateMsgs(t *testing.T, takeover bool, msgs ...string) [][]byte {
	t.Helper()
	var out [][]byte
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, 6)
	for _, m := range msgs {
		if !takeover {
			buf.Reset()
			w.Reset(&buf)
		}
		start := buf.Len()
		w.Write([]byte(m))
		w.Flush()
		b := bytes.Clone(buf.Bytes()[start:])
		out = append(out, bytes.TrimSuffix(b, []byte{0, 0, 0xff, 0xff}))
	}
	return out
}

func TestPermessageDeflate(t *testing.T) {
	msgs := []string{"hello hello hello", "", "hello again, hello hello", strings.Repeat("abc", 1000)}
	for _, takeover := range []bool{true, false} {
		t.Run(fmt.Sprintf("takeover=%v", takeover), func(t *testing.T) {
			comp := deflateMsgs(t, takeover, msgs...)
			ext := "permessage-deflate"
			if !takeover {
				ext += "; server_no_context_takeover"
			}
			var srv []byte
			for i, c := range comp {
				if i == 3 {
					// fragmented compressed message: RSV1 only on the first frame
					h := len(c) / 2
					srv = append(srv, cat(wsFrame{rsv1: true, op: OpText, payload: c[:h]},
						wsFrame{op: OpPing, fin: true, payload: []byte("between")},
						wsFrame{fin: true, op: OpContinuation, payload: c[h:]})...)
					continue
				}
				srv = append(srv, wsFrame{fin: true, rsv1: true, op: OpText, payload: c}.bytes()...)
			}
			srv = append(srv, text("plain in a compressed connection").bytes()...)
			for _, split := range []bool{false, true} {
				recs := feed(t, Options{Messages: true}, true, split,
					c2s(upgradeReq("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n")),
					s2c(append(upgradeResp("Sec-WebSocket-Extensions: "+ext+"\r\n"), srv...)))
				var texts []string
				for _, r := range frames(recs) {
					if r.op == OpText {
						texts = append(texts, r.payload)
					}
				}
				want := append(slices.Clone(msgs), "plain in a compressed connection")
				if !slices.Equal(texts, want) {
					t.Errorf("split=%v: messages %q, want %q", split, texts, want)
				}
				if a := ids(recs); len(a) != 0 {
					t.Errorf("split=%v: anomalies %v", split, a)
				}
			}
		})
	}
}

func TestDecompressionBomb(t *testing.T) {
	// 64 MiB of zeros compress to about 64 KiB.
	comp := deflateMsgs(t, true, strings.Repeat("\x00", 64<<20))
	if len(comp[0]) > 128<<10 {
		t.Fatalf("bomb is %d bytes", len(comp[0]))
	}
	steps := []step{c2s(upgradeReq("Sec-WebSocket-Extensions: permessage-deflate\r\n")),
		s2c(append(upgradeResp("Sec-WebSocket-Extensions: permessage-deflate\r\n"), wsFrame{fin: true, rsv1: true, op: OpBinary, payload: comp[0]}.bytes()...))}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	recs := feed(t, Options{Messages: true, MaxMessage: 1 << 20, MaxDecompressed: 8 << 20}, true, false, steps...)
	runtime.ReadMemStats(&after)
	// The message is retained up to 1 MiB and inflated up to 8 MiB: what is
	// allocated must be a small multiple of that, nowhere near the 64 MiB
	// the bomb inflates to.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("inflating the bomb allocated %d bytes", alloc)
	}
	fr := frames(recs)
	if len(fr) != 1 || len(fr[0].payload) != 1<<20 || !fr[0].truncated {
		t.Fatalf("bomb message: %d records, payload %d, truncated %v", len(fr), len(fr[0].payload), fr[0].truncated)
	}
	if !slices.Contains(fr[0].anomalies, AnDecompressLimit) {
		t.Errorf("anomalies %v, want %s", fr[0].anomalies, AnDecompressLimit)
	}
	if fr[0].len != 8<<20 {
		t.Errorf("len %d, want the %d bytes inflated before the cut", fr[0].len, 8<<20)
	}
}

// TestMaxMessageKeepsContext checks that --max-message limits what is kept,
// not what is decoded: a compressed message longer than the cap is inflated
// to its end (its len is its real length), so the later messages of the
// direction, which refer back into it (context takeover), still inflate.
func TestMaxMessageKeepsContext(t *testing.T) {
	big := strings.Repeat("the quick brown fox jumps over the lazy dog; ", 2000) // 90,000 bytes
	msgs := []string{big, "small " + big[:40], "tail: " + big[100:160], big}
	comp := deflateMsgs(t, true, msgs...)
	srv := upgradeResp("Sec-WebSocket-Extensions: permessage-deflate\r\n")
	for _, c := range comp {
		srv = append(srv, wsFrame{fin: true, rsv1: true, op: OpText, payload: c}.bytes()...)
	}
	for _, split := range []bool{false, true} {
		for _, messages := range []bool{false, true} {
			recs := feed(t, Options{Messages: messages, MaxMessage: 1000}, true, split,
				c2s(upgradeReq("Sec-WebSocket-Extensions: permessage-deflate\r\n")), s2c(srv))
			fr := frames(recs)
			if len(fr) != len(msgs) {
				t.Fatalf("split=%v messages=%v: %d records, want %d", split, messages, len(fr), len(msgs))
			}
			for i, r := range fr {
				want := msgs[i][:min(len(msgs[i]), 1000)]
				if r.payload != want || r.truncated != (len(msgs[i]) > 1000) {
					t.Errorf("split=%v messages=%v: message %d: payload %.30q (%d bytes, truncated %v), want %.30q (%d bytes)",
						split, messages, i, r.payload, len(r.payload), r.truncated, want, len(want))
				}
				if messages && r.len != uint64(len(msgs[i])) {
					t.Errorf("split=%v: message %d: len %d, want %d", split, i, r.len, len(msgs[i]))
				}
				for _, a := range r.anomalies {
					if a != AnMessageTruncated {
						t.Errorf("split=%v messages=%v: message %d: anomaly %s", split, messages, i, a)
					}
				}
			}
		}
	}
}

func TestMidstreamAndResync(t *testing.T) {
	k := []byte{0xa, 0xb, 0xc, 0xd}
	long := bytes.Repeat([]byte("z"), 3000)
	bigFrame := wsFrame{fin: true, op: OpBinary, payload: long}.bytes()
	srv := append(bigFrame[1500:], cat(text("after"), text("more"), text("again"))...)
	cli := cat(wsFrame{fin: true, op: OpText, key: k, payload: []byte("hello")})
	recs := feed(t, Options{}, false, false, s2c(srv), c2s(cli))
	var got []string
	mid := false
	for _, r := range recs {
		if r.kind == "conn" {
			mid = r.midstream
		}
		if r.kind == "frame" {
			got = append(got, r.dir+":"+r.payload)
		}
	}
	if !mid {
		t.Errorf("connection not marked midstream: %+v", recs)
	}
	want := []string{"s2c:after", "s2c:more", "s2c:again", "c2s:hello"}
	if !slices.Equal(got, want) {
		t.Errorf("frames %q, want %q", got, want)
	}
	if !slices.Contains(ids(recs), AnMidstreamResync) {
		t.Errorf("no resync anomaly: %v", ids(recs))
	}

	// A gap inside a frame's payload: its length is known, decoding goes on.
	data := cat(text("one"), wsFrame{fin: true, op: OpBinary, payload: long}, text("two"))
	recs = feed(t, Options{}, true, false,
		c2s(upgradeReq("")), s2c(upgradeResp("")),
		s2c(data[:1000]), step{side: reassembly.SideB, gap: 1000}, s2c(data[2000:]))
	got = nil
	for _, r := range frames(recs) {
		got = append(got, fmt.Sprintf("%d:%v:%d", r.op, r.incomplete, len(r.payload)))
	}
	want = []string{"1:false:3", "2:true:2000", "1:false:3"}
	if !slices.Equal(got, want) {
		t.Errorf("after a gap in a payload: %v, want %v", got, want)
	}
	// A gap covering frame boundaries: resync on the next verified frame.
	data = cat(text("one"), text("two"), text("three"), text("four"), text("five"), text("six"))
	recs = feed(t, Options{}, true, false,
		c2s(upgradeReq("")), s2c(upgradeResp("")),
		s2c(data[:3]), step{side: reassembly.SideB, gap: 8}, s2c(data[11:]))
	got = nil
	for _, r := range frames(recs) {
		got = append(got, r.payload)
	}
	if !slices.Equal(got, []string{"o", "four", "five", "six"}) {
		t.Errorf("after a gap over boundaries: %q", got)
	}
}

func TestEmptyCompressedPayloadKeepsContext(t *testing.T) {
	comp := deflateMsgs(t, true, "first first", "second first")
	srv := cat(wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[0]},
		wsFrame{fin: true, rsv1: true, op: OpText}, // zero-length compressed payload
		wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[1]})
	recs := feed(t, Options{Messages: true}, true, false,
		c2s(upgradeReq("Sec-WebSocket-Extensions: permessage-deflate\r\n")),
		s2c(append(upgradeResp("Sec-WebSocket-Extensions: permessage-deflate\r\n"), srv...)))
	var got []string
	for _, r := range frames(recs) {
		got = append(got, r.payload)
	}
	if !slices.Equal(got, []string{"first first", "", "second first"}) || len(ids(recs)) != 0 {
		t.Errorf("messages %q, anomalies %v", got, ids(recs))
	}
}

func TestWSPortForcesDecoding(t *testing.T) {
	srv := cat(text("first"), text("second"))
	for _, tc := range []struct {
		ports []uint16
		want  int
	}{{nil, 0}, {[]uint16{80}, 2}} {
		recs := feed(t, Options{WSPorts: tc.ports}, true, false, s2c(srv))
		if n := len(frames(recs)); n != tc.want {
			t.Errorf("--ws-port %v: %d frames, want %d", tc.ports, n, tc.want)
		}
	}
}

func TestDeflateFrame(t *testing.T) {
	// x-webkit-deflate-frame compresses each frame on its own (sync flush per
	// frame), sharing the window.
	comp := deflateMsgs(t, true, "frame one ", "frame two")
	srv := cat(wsFrame{rsv1: true, op: OpText, payload: comp[0]}, wsFrame{fin: true, rsv1: true, op: OpContinuation, payload: comp[1]})
	recs := feed(t, Options{Messages: true}, true, false,
		c2s(upgradeReq("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n")),
		s2c(append(upgradeResp("Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\n"), srv...)))
	fr := frames(recs)
	if len(fr) != 1 || fr[0].payload != "frame one frame two" || !fr[0].compressed || len(ids(recs)) != 0 {
		t.Errorf("records %+v, anomalies %v", fr, ids(recs))
	}
}

func TestMidstreamCompressed(t *testing.T) {
	// No handshake: RSV1 frames are inflated when they need no earlier
	// history, and marked when they refer to history the capture lacks.
	comp := deflateMsgs(t, true, "hello hello hello", "hello hello hello again")
	k := []byte{5, 6, 7, 8}
	cli1 := wsFrame{fin: true, rsv1: true, op: OpText, key: k, payload: comp[1]}
	cli2 := wsFrame{fin: true, rsv1: true, op: OpText, key: k, payload: deflateMsgs(t, false, "fresh start")[0]}
	// A segment each and an answer: compressed payloads say nothing, so
	// the search needs that much evidence (TestProbeEvidence).
	recs := feed(t, Options{}, false, false, c2s(cli1.bytes()), c2s(cli2.bytes()), s2c(text("ok!").bytes()))
	fr := frames(recs)
	if len(fr) != 3 {
		t.Fatalf("frames %+v", fr)
	}
	if !slices.Contains(fr[0].anomalies, AnDeflateContextLost) || !fr[0].compressed {
		t.Errorf("first frame refers to lost history: %+v", fr[0])
	}
	if fr[1].payload != "fresh start" || len(fr[1].anomalies) != 0 {
		t.Errorf("second frame: %+v", fr[1])
	}
}

func TestFramePacketsListsEveryCarrier(t *testing.T) {
	fr := wsFrame{fin: true, op: OpBinary, payload: bytes.Repeat([]byte{7}, 300)}.bytes()
	var c collectPackets
	d := New(&c, Options{})
	h := d.NewConn(&reassembly.ConnInfo{SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2")}})
	var off [2]uint64
	put := func(side reassembly.Side, pkt uint64, b []byte) {
		h.Data(side, &reassembly.Chunk{Data: b, Offset: off[side], Packet: pkt})
		off[side] += uint64(len(b))
	}
	put(reassembly.SideA, 1, upgradeReq(""))
	put(reassembly.SideB, 2, upgradeResp(""))
	put(reassembly.SideB, 5, fr[:3])
	put(reassembly.SideB, 6, fr[3:100])
	put(reassembly.SideB, 9, fr[100:])
	if !slices.Equal(c.pkts, []uint64{5, 6, 9}) || c.last != 9 {
		t.Errorf("frame packets %v (record packet %d), want [5 6 9] and 9", c.pkts, c.last)
	}
}

type collectPackets struct {
	pkts []uint64
	last uint64
}

func (c *collectPackets) Emit(r *Record) error {
	if r.Kind == KindFrame {
		c.pkts, c.last = slices.Clone(r.Frame.Packets), r.Packet
	}
	return nil
}

// TestResponseWaitsForRequest: with the connection's start captured, a 101
// that comes before any byte of the client waits for the client's first
// bytes: its request (captured after it), lost bytes (a gap) or frames.
func TestResponseWaitsForRequest(t *testing.T) {
	k := []byte{1, 2, 3, 4}
	req := upgradeReq("")
	cliFrame := wsFrame{fin: true, op: OpText, key: k, payload: []byte("from the client")}.bytes()
	for _, tc := range []struct {
		name    string
		steps   []step
		mid     bool
		anomaly string
	}{
		{"the request captured after the response", []step{s2c(upgradeResp("")), c2s(append(slices.Clone(req), cliFrame...)), s2c(text("from the server").bytes())}, false, ""},
		{"the request lost", []step{s2c(upgradeResp("")), {side: reassembly.SideA, gap: uint64(len(req))}, c2s(cliFrame), s2c(text("from the server").bytes())}, true, AnUpgradeRequestMissing},
		{"no request at all", []step{s2c(upgradeResp("")), c2s(cliFrame), s2c(text("from the server").bytes())}, true, AnUpgradeRequestMissing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := feed(t, Options{}, true, false, tc.steps...)
			var conns, msgs []string
			for _, r := range recs {
				switch r.kind {
				case "conn":
					conns = append(conns, fmt.Sprint(r.midstream))
				case "frame", "message":
					msgs = append(msgs, r.dir+":"+r.payload)
				}
			}
			if want := []string{fmt.Sprint(tc.mid)}; !slices.Equal(conns, want) {
				t.Errorf("conn records (midstream) %v, want %v", conns, want)
			}
			if want := []string{"c2s:from the client", "s2c:from the server"}; !slices.Equal(msgs, want) {
				t.Errorf("frames %q, want %q", msgs, want)
			}
			if got := ids(recs); tc.anomaly == "" && len(got) > 0 || tc.anomaly != "" && !slices.Contains(got, tc.anomaly) {
				t.Errorf("anomalies %v, want %q", got, tc.anomaly)
			}
		})
	}
}
