package render

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// pieceWriter is a plain writer that keeps what it is given and the
// largest single write.
type pieceWriter struct {
	out     bytes.Buffer
	largest int
}

func (w *pieceWriter) Write(p []byte) (int, error) {
	w.largest = max(w.largest, len(p))
	return w.out.Write(p)
}

// sliceWriter is an Appender; with spill set it is a Spiller that moves
// what was appended to out at each Spill.
type sliceWriter struct {
	b       []byte
	out     []byte
	spills  int
	largest int
}

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
func (w *sliceWriter) Unbuffered()                 {}
func (w *sliceWriter) Buffer() *[]byte             { return &w.b }

type spillWriter struct{ sliceWriter }

func (w *spillWriter) Spill() error {
	w.spills++
	w.largest = max(w.largest, len(w.b))
	w.out = append(w.out, w.b...)
	w.b = w.b[:0]
	return nil
}

// bigText returns at least n bytes of valid UTF-8 whose multi-byte characters
// (2, 3 and 4 bytes) fall across every piece boundary somewhere.
func bigText(n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = append(b, strings.Repeat("a", i%7)...)
		b = append(b, "é€😀\"\\\n"...)
	}
	return b
}

// TestLargePayloadPieces renders records with payloads above bigPayload
// in every format through a plain writer (the record written in pieces),
// an Appender (formatted whole, reserved at once) and a Spiller (handed on
// in pieces), and checks that all three write the same bytes, that the
// pieces stay small and that the payload comes out intact.
func TestLargePayloadPieces(t *testing.T) {
	v4, _, _, _ := newConns()
	bin := seq(3*payloadChunk*2 + 7) // not a multiple of 16 or 3
	text := bigText(8 * payloadChunk)
	records := []struct {
		name string
		rec  dissect.Record
		text bool
	}{
		{"binary frame", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Time: at(0), Packet: 9,
			Frame: &dissect.Frame{Opcode: dissect.OpBinary, Fin: true, Len: uint64(len(bin)), Payload: bin}}, false},
		{"text message", dissect.Record{Kind: dissect.KindMessage, Conn: v4, Time: at(0), Packet: 9,
			Message: &dissect.Message{Opcode: dissect.OpText, Len: uint64(len(text)), Frames: 1, Payload: text}}, true},
		{"reassembled text", dissect.Record{Kind: dissect.KindFrame, Conn: v4, Time: at(0), Packet: 9,
			Frame: &dissect.Frame{Opcode: dissect.OpContinuation, Fin: true, IsText: true, Len: 3, Payload: text[len(text)-3:],
				Reassembled: &dissect.Message{Opcode: dissect.OpText, Len: uint64(len(text)), Frames: 2, Payload: text}}}, true},
	}
	formats := []struct {
		name string
		opts Options
	}{
		{"summary-hex", Options{Hex: true}},
		{"tree", Options{Format: FormatTree}},
		{"tree-hex", Options{Format: FormatTree, Hex: true}},
		{"json", Options{Format: FormatJSON}},
	}
	for _, rc := range records {
		for _, f := range formats {
			t.Run(rc.name+"/"+f.name, func(t *testing.T) {
				var plain pieceWriter
				r := New(&plain, f.opts)
				if err := r.Emit(&rc.rec); err != nil {
					t.Fatal(err)
				}
				if err := r.Flush(); err != nil {
					t.Fatal(err)
				}
				var whole sliceWriter
				if err := New(&whole, f.opts).Emit(&rc.rec); err != nil {
					t.Fatal(err)
				}
				var sp spillWriter
				if err := New(&sp, f.opts).Emit(&rc.rec); err != nil {
					t.Fatal(err)
				}
				sp.out = append(sp.out, sp.b...)
				if !bytes.Equal(plain.out.Bytes(), whole.b) || !bytes.Equal(sp.out, whole.b) {
					t.Fatalf("the record differs when written in pieces: %d bytes plain, %d spilled, %d whole", plain.out.Len(), len(sp.out), len(whole.b))
				}
				const most = 512 << 10 // a piece's output and a bufio buffer
				if plain.largest > most || sp.largest > most || (len(whole.b) > most && sp.spills < 2) {
					t.Errorf("pieces of up to %d bytes (plain) and %d (%d spills), want at most %d", plain.largest, sp.largest, sp.spills, most)
				}
				if f.name == "json" {
					checkJSONPayload(t, whole.b, rc.rec, rc.text)
				}
			})
		}
	}
}

// checkJSONPayload decodes the NDJSON record and compares its payload.
func checkJSONPayload(t *testing.T, line []byte, rec dissect.Record, text bool) {
	t.Helper()
	var v struct {
		Text    *string `json:"text"`
		B64     *string `json:"b64"`
		Message *struct {
			Text *string `json:"text"`
		} `json:"message"`
	}
	if err := json.Unmarshal(line, &v); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	want := recordPayload(&rec)
	var got []byte
	switch {
	case v.Message != nil && v.Message.Text != nil:
		want, got = rec.Frame.Reassembled.Payload, []byte(*v.Message.Text)
	case text && v.Text != nil:
		got = []byte(*v.Text)
	case !text && v.B64 != nil:
		var err error
		if got, err = base64.StdEncoding.DecodeString(*v.B64); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("no payload in %.200s", line)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("payload of %d bytes decodes to %d different bytes", len(want), len(got))
	}
}

// TestLargePayloadPieceError checks that a failure to write a piece of a
// record is returned by Emit.
func TestLargePayloadPieceError(t *testing.T) {
	v4, _, _, _ := newConns()
	p := seq(4 * bigPayload)
	rec := dissect.Record{Kind: dissect.KindFrame, Conn: v4, Time: at(0),
		Frame: &dissect.Frame{Opcode: dissect.OpBinary, Fin: true, Len: uint64(len(p)), Payload: p}}
	r := New(failWriter{}, Options{Hex: true})
	if err := r.Emit(&rec); !errors.Is(err, errDisk) {
		t.Errorf("Emit = %v, want %v", err, errDisk)
	}
}

// partSpillWriter is a spillWriter with parts of a given size (a
// PartSizer), as the parallel engine's under a small --memory.
type partSpillWriter struct {
	spillWriter
	part int
}

func (w *partSpillWriter) PartSize() int { return w.part }

// TestPartSizedPieces checks that a Spiller with small parts gets payloads
// far below bigPayload in pieces that keep its slice near a part's size,
// with the same bytes as when formatted whole, in every format; and that
// parts of bigPayload or more change nothing.
func TestPartSizedPieces(t *testing.T) {
	v4, _, _, _ := newConns()
	bin := seq(64<<10 + 5)
	text := bigText(64 << 10)
	recs := []dissect.Record{
		{Kind: dissect.KindMessage, Conn: v4, Time: at(0), Packet: 9,
			Message: &dissect.Message{Opcode: dissect.OpBinary, Len: uint64(len(bin)), Frames: 1, Payload: bin}},
		{Kind: dissect.KindMessage, Conn: v4, Time: at(0), Packet: 9,
			Message: &dissect.Message{Opcode: dissect.OpText, Len: uint64(len(text)), Frames: 1, Payload: text}},
	}
	formats := []Options{{Hex: true}, {Format: FormatTree}, {Format: FormatTree, Hex: true}, {Format: FormatJSON}}
	for _, part := range []int{100, 8 << 10, 40 << 10, bigPayload} {
		for i := range recs {
			for _, f := range formats {
				var whole sliceWriter
				if err := New(&whole, f).Emit(&recs[i]); err != nil {
					t.Fatal(err)
				}
				sp := partSpillWriter{part: part}
				r := New(&sp, f)
				if err := r.Emit(&recs[i]); err != nil {
					t.Fatal(err)
				}
				sp.largest = max(sp.largest, len(sp.b))
				sp.out = append(sp.out, sp.b...)
				name := fmt.Sprintf("part %d, record %d, %+v", part, i, f)
				if !bytes.Equal(sp.out, whole.b) {
					t.Fatalf("%s: %d bytes in pieces, %d whole", name, len(sp.out), len(whole.b))
				}
				// A piece is an eighth of a part (at least 48 bytes of
				// payload), so its output fits in a part: the slice stays
				// within two parts and the record's first lines.
				if most := 2*max(part, 8*pieceQuantum) + 1024; part < bigPayload && sp.largest > most {
					t.Errorf("%s: the slice grew to %d bytes, over %d", name, sp.largest, most)
				}
				if part >= bigPayload && sp.spills != 0 {
					t.Errorf("%s: %d spills, want none (formatted whole below bigPayload)", name, sp.spills)
				}
			}
		}
	}
}

// TestPiecesAnyBytes renders text payloads of random bytes, valid UTF-8
// or not (characters of every length, stray continuation bytes, U+FFFD
// itself, escapes), in pieces as small as a Spiller with small parts asks
// for, and checks that every format writes exactly what it writes with the
// payload whole: a cut never splits a character that decodes in the whole.
func TestPiecesAnyBytes(t *testing.T) {
	v4, _, _, _ := newConns()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := [][]byte{{'a'}, []byte("é"), []byte("€"), []byte("😀"), []byte("\uFFFD"), {0x80}, {0xbf}, {0xa9}, {0xac},
		{0xc3}, {0xe2, 0x82}, {0xf0, 0x9f}, {0xf0}, {'"'}, {'\\'}, {'\n'}, {0x01}, {0xff}}
	formats := []Options{{Format: FormatTree}, {Format: FormatJSON}, {Hex: true}, {Format: FormatTree, Hex: true}}
	for iter := range 200 {
		var p []byte
		for n := 100 + rng.IntN(4000); len(p) < n; {
			p = append(p, alphabet[rng.IntN(len(alphabet))]...)
		}
		rec := dissect.Record{Kind: dissect.KindMessage, Conn: v4, Time: at(0), Packet: 9,
			Message: &dissect.Message{Opcode: dissect.OpText, Len: uint64(len(p)), Frames: 1, Payload: p}}
		for _, f := range formats {
			var whole sliceWriter
			if err := New(&whole, f).Emit(&rec); err != nil {
				t.Fatal(err)
			}
			sp := partSpillWriter{part: 100 + rng.IntN(2000)}
			if err := New(&sp, f).Emit(&rec); err != nil {
				t.Fatal(err)
			}
			sp.out = append(sp.out, sp.b...)
			if !bytes.Equal(sp.out, whole.b) {
				i := 0
				for i < len(sp.out) && i < len(whole.b) && sp.out[i] == whole.b[i] {
					i++
				}
				t.Fatalf("payload %d, %+v, parts of %d: in pieces the output differs at byte %d:\n%q\nwhole:\n%q", iter, f, sp.part, i,
					sp.out[max(0, i-40):min(i+40, len(sp.out))], whole.b[max(0, i-40):min(i+40, len(whole.b))])
			}
		}
	}
}
