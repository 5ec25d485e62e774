package dissect

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// fuzzSink checks record invariants while discarding them.
type fuzzSink struct {
	t   *testing.T
	max int64
}

func (s *fuzzSink) Emit(r *Record) error {
	if r.Conn == nil {
		s.t.Fatalf("record without Conn: %+v", r)
	}
	switch r.Kind {
	case KindFrame:
		if r.Frame == nil || int64(len(r.Frame.Payload)) > s.max {
			s.t.Fatalf("bad frame record: %+v", r.Frame)
		}
	case KindMessage:
		if r.Message == nil || int64(len(r.Message.Payload)) > s.max {
			s.t.Fatalf("bad message record: %+v", r.Message)
		}
	case KindAnomaly:
		if len(r.Anomalies) != 1 {
			s.t.Fatalf("anomaly record with %d anomalies", len(r.Anomalies))
		}
	case KindHTTP:
		if x := r.HTTP; x == nil || len(x.RequestBody) > MaxHTTPBody || len(x.ResponseBody) > MaxHTTPBody {
			s.t.Fatalf("bad http record: %+v", r.HTTP)
		}
	}
	return nil
}

// previewFuzzSink is a fuzzSink and a PreviewPolicy that wants every other
// message whole; a record with a preview must hold at most limit bytes.
type previewFuzzSink struct {
	fuzzSink
	limit int
	flip  bool
}

func (s *previewFuzzSink) WholePayload(*Conn) bool { s.flip = !s.flip; return s.flip }

func (s *previewFuzzSink) Emit(r *Record) error {
	if f := r.Frame; r.Kind == KindFrame && f.Preview && len(f.Payload) > s.limit {
		s.t.Fatalf("frame preview of %d bytes, limit %d", len(f.Payload), s.limit)
	}
	if m := r.Message; r.Kind == KindMessage && m.Preview && len(m.Payload) > s.limit {
		s.t.Fatalf("message preview of %d bytes, limit %d", len(m.Payload), s.limit)
	}
	return s.fuzzSink.Emit(r)
}

// keepAll keeps every plain HTTP exchange (fuzzing Options.KeepHTTP).
func keepAll(string, string) bool { return true }

// fuzzConn feeds the two streams to one connection in pieces chosen by
// split, alternating directions, with a gap when gapAt hits.
func fuzzConn(t *testing.T, opts Options, sawSYN bool, c2sData, s2cData []byte, split uint16, gapAt uint16) {
	fuzzConnWith(t, &fuzzSink{t: t, max: 1 << 16}, opts, sawSYN, c2sData, s2cData, split, gapAt)
}

// fuzzConnWith is fuzzConn with the caller's sink.
func fuzzConnWith(t *testing.T, sink Sink, opts Options, sawSYN bool, c2sData, s2cData []byte, split uint16, gapAt uint16) {
	opts.MaxMessage = 1 << 16
	opts.MaxSearch = 4096
	d := New(sink, opts)
	info := &reassembly.ConnInfo{SawSYN: sawSYN, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	h := d.NewConn(info)
	step := int(split%97) + 1
	data := [2][]byte{c2sData, s2cData}
	var off [2]int
	ts := time.Unix(0, 0)
	for pkt := uint64(1); off[0] < len(data[0]) || off[1] < len(data[1]); pkt++ {
		side := reassembly.Side(pkt & 1)
		if off[side] >= len(data[side]) {
			side = side.Other()
		}
		end := min(off[side]+step, len(data[side]))
		if gapAt != 0 && pkt%uint64(gapAt) == 0 {
			h.Gap(side, &reassembly.Gap{Offset: uint64(off[side]), Len: uint64(end - off[side]), Packet: pkt, Time: ts})
		} else {
			h.Data(side, &reassembly.Chunk{Data: data[side][off[side]:end], Offset: uint64(off[side]), Packet: pkt, Time: ts})
		}
		off[side] = end
	}
	h.Close(reassembly.ClosedEOF)
}

// FuzzHandshake fuzzes the HTTP parsing of both directions.
func FuzzHandshake(f *testing.F) {
	f.Add(upgradeReq(""), append(upgradeResp(""), text("hi").bytes()...), uint16(5))
	f.Add(upgradeReq("Sec-WebSocket-Extensions: permessage-deflate\r\n"), upgradeResp("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9\r\n"), uint16(1))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"), []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), uint16(3))
	f.Add(upgradeReq(""), []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"), uint16(50))
	f.Add([]byte("POST /socket.io/?EIO=4&transport=polling&sid=a HTTP/1.1\r\nContent-Length: 2\r\n\r\n40GET /x HTTP/1.1\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\nto the close"), uint16(4))
	connect := []byte("CONNECT a:80 HTTP/1.1\r\nHost: a:80\r\n\r\n")
	established := []byte("HTTP/1.1 200 Connection established\r\n\r\n")
	f.Add(append(bytes.Clone(connect), upgradeReq("")...), append(append(bytes.Clone(established), upgradeResp("")...), text("hi").bytes()...), uint16(60))
	f.Add(append(append(bytes.Clone(connect), connect...), 0x16, 3, 1, 0, 5, 1, 0, 0, 1, 0), append(append(bytes.Clone(established), "HTTP/1.1 407 x\r\nContent-Length: 1\r\n\r\nx"...), established...), uint16(41))
	f.Add([]byte("\x05\x02\x00\x02\x01\x01u\x01p\x05\x01\x00\x03\x01a\x00\x50"+string(upgradeReq(""))),
		[]byte("\x05\x02\x01\x00\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"+string(upgradeResp(""))), uint16(6))
	f.Add([]byte("\x04\x01\x00\x50\x00\x00\x00\x01u\x00host\x00"+string(upgradeReq(""))), []byte("\x00\x5a\x00\x00\x00\x00\x00\x00"+string(upgradeResp(""))), uint16(9))
	f.Add(append(bytes.Clone(connect), clientHelloRecord()...), append(bytes.Clone(established), 0x16, 3, 3, 0, 2, 2, 0), uint16(13))
	f.Fuzz(func(t *testing.T, c2sData, s2cData []byte, split uint16) {
		fuzzConn(t, Options{}, true, c2sData, s2cData, split, 0)
		fuzzConn(t, Options{Messages: true}, true, c2sData, s2cData, split, 7)
		fuzzConn(t, Options{KeepHTTP: keepAll}, true, c2sData, s2cData, split, 5)
		fuzzDecrypted(t, Options{}, c2sData, s2cData, split, 9)
	})
}

// fuzzDecrypted is fuzzConn for the plaintext of a decrypted TLS
// connection (an HTTPS proxy's CONNECT, wss:// handshakes): the data goes
// to a TLS layer's plaintext handler, with gaps every gapAt pieces.
func fuzzDecrypted(t *testing.T, opts Options, c2sData, s2cData []byte, split, gapAt uint16) {
	opts.MaxMessage = 1 << 16
	opts.MaxSearch = 4096
	d := New(&fuzzSink{t: t, max: 1 << 16}, opts)
	info := &reassembly.ConnInfo{SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.9:443")}}
	tc := d.newTLSConn(info, reassembly.SideA)
	step := int(split%97) + 1
	data := [2][]byte{c2sData, s2cData}
	var off [2]int
	for pkt := uint64(1); off[0] < len(data[0]) || off[1] < len(data[1]); pkt++ {
		dir := tlsdecrypt.Dir(pkt & 1)
		if off[dir] >= len(data[dir]) {
			dir ^= 1
		}
		end := min(off[dir]+step, len(data[dir]))
		tc.pkt, tc.ts = pkt, time.Unix(0, 0)
		if gapAt != 0 && pkt%uint64(gapAt) == 0 {
			tc.plainGap(dir, uint64(end-off[dir]), "fuzz")
		} else {
			tc.Plaintext(dir, data[dir][off[dir]:end])
		}
		off[dir] = end
	}
	tc.Close(reassembly.ClosedEOF)
}

// FuzzFrames fuzzes the frame, message and inflate paths behind a valid
// handshake that negotiated permessage-deflate, and the mid-stream search.
func FuzzFrames(f *testing.F) {
	k := []byte{1, 2, 3, 4}
	f.Add(cat(ctext("hello"), wsFrame{op: OpBinary, key: k, payload: []byte{1, 2}}, wsFrame{fin: true, op: OpContinuation, key: k, payload: []byte{3}}), cat(text("x"), closeF(1000, "bye", nil)), uint16(3), uint16(0))
	comp := []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}
	f.Add(wsFrame{fin: true, rsv1: true, op: OpText, key: k, payload: comp}.bytes(), wsFrame{fin: true, rsv1: true, op: OpText, payload: comp}.bytes(), uint16(1), uint16(0))
	f.Add(wsFrame{fin: true, op: OpBinary, key: k, lenBits: 64, lenOverride: 1 << 62}.bytes(), []byte{0x88, 0x7f, 0xff}, uint16(2), uint16(3))
	f.Fuzz(func(t *testing.T, c2sFrames, s2cFrames []byte, split, gapAt uint16) {
		ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		c := append(upgradeReq(ext), c2sFrames...)
		s := append(upgradeResp(ext), s2cFrames...)
		fuzzConn(t, Options{}, true, c, s, split, gapAt)
		fuzzConn(t, Options{Messages: true}, true, c, s, split, gapAt)
		fuzzConn(t, Options{DiscardPayload: true}, true, c, s, split, gapAt) // -q
		// Previews, for every other message (the policy flips).
		for _, messages := range []bool{false, true} {
			ps := &previewFuzzSink{fuzzSink: fuzzSink{t: t, max: 1 << 16}, limit: 13}
			fuzzConnWith(t, ps, Options{Messages: messages, PreviewBytes: ps.limit}, true, c, s, split, gapAt)
		}
		// The same frames with no handshake: the mid-stream search.
		fuzzConn(t, Options{}, false, c2sFrames, s2cFrames, split, gapAt)
	})
}
