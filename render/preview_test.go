package render

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// TestSummaryOfPreview checks that a summary line shows a payload cut to
// SummaryPayloadBytes (dissect.Options.PreviewBytes) exactly as the whole
// payload: its preview, the ellipsis and the count of bytes not shown.
func TestSummaryOfPreview(t *testing.T) {
	v4, _, _, _ := newConns()
	payloads := []struct {
		name string
		text bool
		p    []byte
	}{
		{"ascii", true, []byte(strings.Repeat("abcdefghij", 100))},
		{"four-byte runes", true, []byte(strings.Repeat("😀", 200))},
		{"four-byte runes to the preview's end", true, []byte(strings.Repeat("😀", previewRunes) + "x")},
		{"escapes", true, []byte(strings.Repeat("\x01\"\\é", 100))},
		{"invalid bytes", true, bytes.Repeat([]byte{0xff, 'a'}, 300)},
		{"one byte more than kept", true, []byte(strings.Repeat("z", SummaryPayloadBytes+1))},
		{"binary", false, bytes.Repeat([]byte{1, 2, 3}, 400)},
	}
	for _, tc := range payloads {
		op := dissect.OpBinary
		if tc.text {
			op = dissect.OpText
		}
		cut := tc.p[:min(len(tc.p), SummaryPayloadBytes)]
		frame := func(p []byte, preview bool) fixture {
			return fixture{tc.name, dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 9, Time: at(time.Second), Dir: dissect.ServerToClient, HasDir: true,
				Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, Opcode: op, LenCode: 127, Len: uint64(len(tc.p)), HeaderLen: 10,
					Payload: p, IsText: tc.text, Preview: preview}}}
		}
		message := func(p []byte, preview bool) fixture {
			return fixture{tc.name, dissect.Record{Kind: dissect.KindMessage, Conn: v4, Packet: 9, Time: at(time.Second), Dir: dissect.ServerToClient, HasDir: true,
				Message: &dissect.Message{Dir: dissect.ServerToClient, Opcode: op, Len: uint64(len(tc.p)), Frames: 1, FirstPacket: 9, Payload: p, Preview: preview}}}
		}
		for kind, build := range map[string]func([]byte, bool) fixture{"frame": frame, "message": message} {
			whole, err := renderAll(Options{}, []fixture{build(tc.p, false)})
			if err != nil {
				t.Fatal(err)
			}
			preview, err := renderAll(Options{}, []fixture{build(cut, true)})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(preview, whole) {
				t.Errorf("%s %s:\npreview %s\nwhole   %s", tc.name, kind, preview, whole)
			}
		}
	}
}

// TestPreviewMarked checks that JSON and tree output say when a payload is
// a preview (a library may combine dissect.Options.PreviewBytes with them;
// the command line does not), and say nothing when it is whole.
func TestPreviewMarked(t *testing.T) {
	v4, _, _, _ := newConns()
	p := []byte("first bytes")
	whole := &dissect.Message{Dir: dissect.ServerToClient, Opcode: dissect.OpText, Len: 500, Frames: 2, FirstPacket: 7, Payload: p}
	cut := *whole
	cut.Preview = true
	for _, tc := range []struct {
		name string
		rec  func(m *dissect.Message) dissect.Record
	}{
		{"frame", func(m *dissect.Message) dissect.Record {
			return dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 9, Time: at(time.Second), Dir: dissect.ServerToClient, HasDir: true,
				Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, Opcode: dissect.OpText, LenCode: 126, Len: 500, HeaderLen: 4,
					Payload: p, IsText: true, Preview: m.Preview}}
		}},
		{"message", func(m *dissect.Message) dissect.Record {
			return dissect.Record{Kind: dissect.KindMessage, Conn: v4, Packet: 9, Time: at(time.Second), Dir: dissect.ServerToClient, HasDir: true, Message: m}
		}},
		{"reassembled", func(m *dissect.Message) dissect.Record {
			return dissect.Record{Kind: dissect.KindFrame, Conn: v4, Packet: 9, Time: at(time.Second), Dir: dissect.ServerToClient, HasDir: true,
				Frame: &dissect.Frame{Dir: dissect.ServerToClient, Fin: true, Opcode: dissect.OpContinuation, LenCode: 5, Len: 5, HeaderLen: 2,
					Payload: p[:5], IsText: true, Reassembled: m}}
		}},
	} {
		for _, f := range []struct {
			format Format
			mark   string
		}{{FormatJSON, `"preview":true`}, {FormatTree, "[Preview: first 11 bytes kept]"}} {
			got, err := renderAll(Options{Format: f.format}, []fixture{{tc.name, tc.rec(&cut)}})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(got, []byte(f.mark)) {
				t.Errorf("%s, format %d: no %q in\n%s", tc.name, f.format, f.mark, got)
			}
			got, err = renderAll(Options{Format: f.format}, []fixture{{tc.name, tc.rec(whole)}})
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(got, []byte("review")) {
				t.Errorf("%s, format %d, whole payload: a preview mark in\n%s", tc.name, f.format, got)
			}
		}
	}
}
