package render

import (
	"bytes"
	"io"
	"net/netip"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/dissect"
)

// fuzzRecord builds a record of any kind from fuzz input. bits selects the
// header bits and flags; text fills every string field.
func fuzzRecord(payload []byte, text string, bits uint32, kind uint8) *dissect.Record {
	client := netip.AddrPortFrom(netip.MustParseAddr("2001:db8::1"), uint16(bits))
	if bits&(1<<31) != 0 {
		client = netip.AddrPortFrom(netip.MustParseAddr("fe80::1").WithZone(text), 1)
	}
	c := &dissect.Conn{
		Stream:              uint64(bits),
		Client:              client,
		Server:              netip.MustParseAddrPort("10.0.0.2:80"),
		Midstream:           bits&(1<<30) != 0,
		Method:              text,
		Path:                text,
		Host:                text,
		Origin:              text,
		UserAgent:           text,
		Status:              int(bits>>16) % 600,
		Reason:              text,
		SubprotocolsOffered: []string{text},
		Subprotocol:         text,
		Extensions:          []string{text, text},
		RequestHeaders:      []dissect.Header{{Name: text, Value: text}, {Name: text, Value: text}},
		ResponseHeaders:     []dissect.Header{{Name: "X-" + text, Value: text}},
		Request:             string(payload),
		Response:            text,
		AcceptValid:         bits&(1<<29) != 0,
	}
	if bits&(1<<28) != 0 {
		c.Deflate = &dissect.DeflateParams{Name: text, ClientMaxWindowBits: int(bits & 0xf)}
	}
	rec := &dissect.Record{
		Kind:      dissect.Kind(kind%4 + 1),
		Conn:      c,
		Packet:    uint64(bits) * 7919,
		Time:      time.Unix(int64(bits), int64(bits)*13),
		Dir:       dissect.Dir(bits >> 1 & 1),
		HasDir:    bits&4 != 0,
		Anomalies: []dissect.Anomaly{{ID: text, Severity: dissect.Severity(kind >> 4), Msg: text, Offset: int64(bits) - 100}},
	}
	if kind&8 != 0 && rec.Kind != dissect.KindAnomaly {
		rec.Anomalies = nil
	}
	code := uint16(bits >> 8)
	rec.Frame = &dissect.Frame{
		Dir: rec.Dir, Fin: bits&8 != 0, RSV1: bits&16 != 0, RSV2: bits&32 != 0, RSV3: bits&64 != 0,
		Masked: bits&128 != 0, Opcode: uint8(bits >> 8 & 0xff), LenCode: uint8(bits >> 12 & 0xff),
		Len: uint64(len(payload)) * uint64(bits), MaskKey: [4]byte{byte(bits), 1, 2, 3},
		Payload: payload, Truncated: bits&(1<<24) != 0, Incomplete: bits&(1<<25) != 0,
		Compressed: bits&(1<<26) != 0, IsText: bits&(1<<27) != 0,
		Packets: []uint64{1, uint64(bits)}[:bits>>20&1+1], HasCloseCode: bits&(1<<23) != 0,
		CloseCode: code, CloseReason: text,
	}
	rec.Message = &dissect.Message{
		Dir: rec.Dir, Opcode: rec.Frame.Opcode, Len: rec.Frame.Len, Frames: int(bits & 0xff),
		FirstPacket: uint64(bits >> 4), Payload: payload, Truncated: rec.Frame.Truncated,
		Incomplete: rec.Frame.Incomplete, Compressed: rec.Frame.Compressed,
		HasCloseCode: rec.Frame.HasCloseCode, CloseCode: code, CloseReason: text, Index: uint64(bits),
	}
	return rec
}

// FuzzRender renders arbitrary records in every format. JSON must be valid
// and follow the schema; text must be valid UTF-8 without raw control
// characters other than newlines (and colour escapes when colour is on).
func FuzzRender(f *testing.F) {
	f.Add([]byte("Hello world!"), "bye", uint32(0x0000_0189), uint8(1))
	f.Add([]byte("\xff\xfe\x00\x1b[31m\u202e"), "\xc3(\n\"\\", uint32(0x0880_88ff), uint8(2))
	f.Add([]byte{0x03, 0xe8, 'o', 'k'}, "ok", uint32(0x0800_8000), uint8(1))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "Sec-WebSocket-Key", uint32(0x3000_6501), uint8(0))
	f.Add([]byte{}, "", uint32(0xffff_ffff), uint8(0xff))
	f.Add(bytes.Repeat([]byte("é"), 100), "\x1b]0;title\x07", uint32(0x8000_7e00), uint8(3))
	// Renderers are made once and reused, as in a real run; each has its
	// own output buffer.
	optionSets := []Options{
		{Format: FormatJSON},
		{Format: FormatSummary, Hex: true},
		{Format: FormatTree, Hex: true},
		{Format: FormatSummary, Color: true},
		{Format: FormatTree, Color: true, Messages: true},
	}
	outs := make([]bytes.Buffer, len(optionSets))
	renderers := make([]*Renderer, len(optionSets))
	for i, o := range optionSets {
		renderers[i] = New(&outs[i], o)
	}
	f.Fuzz(func(t *testing.T, payload []byte, text string, bits uint32, kind uint8) {
		rec := fuzzRecord(payload, text, bits, kind)
		for i, opts := range optionSets {
			out, r := &outs[i], renderers[i]
			out.Reset()
			r.SetFile(text)
			if err := r.Emit(rec); err != nil {
				t.Fatalf("%v: %v", opts.Format, err)
			}
			if err := r.Flush(); err != nil {
				t.Fatal(err)
			}
			got := out.Bytes()
			if opts.Format == FormatJSON {
				if bytes.Count(got, []byte("\n")) != 1 {
					t.Fatalf("JSON record is not one line: %q", got)
				}
				validateJSONLine(t, 1, bytes.TrimSuffix(got, []byte("\n")))
				continue
			}
			if !utf8.Valid(got) {
				t.Fatalf("%v: invalid UTF-8: %q", opts.Format, got)
			}
			for _, c := range got {
				if c < 0x20 && c != '\n' && !(opts.Color && c == 0x1b) || c == 0x7f {
					t.Fatalf("%v: raw control byte %#x in %q", opts.Format, c, got)
				}
			}
		}
		// In pieces (a Spiller with small parts) every format writes
		// exactly what it writes with the payload whole.
		for _, opts := range optionSets {
			var whole sliceWriter
			if err := New(&whole, opts).Emit(rec); err != nil {
				t.Fatal(err)
			}
			sp := partSpillWriter{part: 64 + int(bits%4096)}
			if err := New(&sp, opts).Emit(rec); err != nil {
				t.Fatal(err)
			}
			if sp.out = append(sp.out, sp.b...); !bytes.Equal(sp.out, whole.b) {
				t.Fatalf("%+v, parts of %d: in pieces %q, whole %q", opts, sp.part, sp.out, whole.b)
			}
		}
		st := NewStats()
		if err := st.Emit(rec); err != nil {
			t.Fatal(err)
		}
		if _, err := st.WriteTo(io.Discard); err != nil {
			t.Fatal(err)
		}
	})
}
