package dissect

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// previewSink collects records and is a PreviewPolicy answering whole.
type previewSink struct {
	collect
	whole bool
	asked int
}

func (s *previewSink) WholePayload(*Conn) bool { s.asked++; return s.whole }

// previewCollect keeps the Preview flags beside the collected records.
type previewCollect struct {
	previewSink
	flags []bool
}

func (s *previewCollect) Emit(r *Record) error {
	switch r.Kind {
	case KindFrame:
		s.flags = append(s.flags, r.Frame.Preview)
	case KindMessage:
		s.flags = append(s.flags, r.Message.Preview)
	default:
		s.flags = append(s.flags, false)
	}
	return s.collect.Emit(r)
}

// TestPreviewPayload checks Options.PreviewBytes: with a sink that needs no
// whole payloads, frame and message records keep the first PreviewBytes
// bytes of what they kept before (per frame, or per message with Messages),
// say so with Preview exactly when they hold fewer, and report the same
// lengths and anomalies (UTF-8 is still checked past the preview, masked or
// not); with a sink that wants them whole, or one that cannot say, nothing
// changes.
func TestPreviewPayload(t *testing.T) {
	const p = 15 // not a multiple of 4: a mask offset off by the kept bytes shows
	k := []byte{0x81, 0x42, 0xc3, 0x24}
	long := strings.Repeat("é-", 40) // 120 bytes
	badLate := long + "\xff tail"
	tests := []struct {
		name   string
		client []byte
		server []byte
	}{
		{name: "short text", server: text("under sixteen").bytes()},
		{name: "exactly the preview", server: text(strings.Repeat("x", p)).bytes()},
		{name: "one more", server: text(strings.Repeat("x", p+1)).bytes()},
		{name: "long text", server: text(long).bytes(), client: wsFrame{fin: true, op: OpText, key: k, payload: []byte(long)}.bytes()},
		{name: "bad byte past the preview", server: text(badLate).bytes(), client: wsFrame{fin: true, op: OpText, key: k, payload: []byte(badLate)}.bytes()},
		{name: "binary", server: wsFrame{fin: true, op: OpBinary, payload: bytes.Repeat([]byte{0xfe, 1}, 50)}.bytes(),
			client: wsFrame{fin: true, op: OpBinary, key: k, payload: bytes.Repeat([]byte{0xfe, 1}, 50)}.bytes()},
		{name: "fragmented", client: cat(wsFrame{op: OpText, key: k, payload: []byte(long[:30])},
			wsFrame{op: OpContinuation, key: k, payload: []byte(long[30:32])},
			wsFrame{fin: true, op: OpContinuation, key: k, payload: []byte(long[32:])})},
		{name: "control frames kept", server: cat(wsFrame{fin: true, op: OpPing, payload: []byte(strings.Repeat("p", 40))},
			closeF(1000, strings.Repeat("r", 40), nil))},
	}
	for _, tc := range tests {
		for _, mode := range []struct{ messages, split bool }{{false, true}, {true, true}, {false, false}, {true, false}} {
			messages := mode.messages
			t.Run(fmt.Sprintf("%s/messages=%v/split=%v", tc.name, messages, mode.split), func(t *testing.T) {
				steps := []step{c2s(upgradeReq("")), s2c(upgradeResp(""))}
				if tc.client != nil {
					steps = append(steps, c2s(tc.client))
				}
				if tc.server != nil {
					steps = append(steps, s2c(tc.server))
				}
				// Split, every byte is delivered on its own; whole, the
				// preview's end falls inside a delivery, and the server's
				// unmasked frames, delivered whole, are lent whole.
				run := func(opts Options, s Sink) {
					feedConn(New(s, opts), true, mode.split, steps...)
				}
				whole := &previewCollect{}
				run(Options{Messages: messages}, whole)
				cut := &previewCollect{}
				run(Options{Messages: messages, PreviewBytes: p}, cut)
				if len(cut.recs) != len(whole.recs) {
					t.Fatalf("%d records with a preview, %d without", len(cut.recs), len(whole.recs))
				}
				data := false
				for i, w := range whole.recs {
					data = data || (w.kind == "frame" || w.kind == "message") && w.op < 8
					want, wantFlag := w, false
					lent := !mode.split && w.dir == ServerToClient.String()
					if (w.kind == "frame" || w.kind == "message") && w.op < 8 && len(w.payload) > p && !lent {
						want.payload, wantFlag = w.payload[:p], true
					}
					if !reflect.DeepEqual(cut.recs[i], want) || cut.flags[i] != wantFlag {
						t.Errorf("record %d: got %+v preview=%v, want %+v preview=%v", i, cut.recs[i], cut.flags[i], want, wantFlag)
					}
				}
				if data && cut.asked == 0 {
					t.Errorf("the sink was never asked")
				}
				asks := &previewCollect{previewSink: previewSink{whole: true}}
				run(Options{Messages: messages, PreviewBytes: p}, asks)
				plain := &collect{}
				run(Options{Messages: messages, PreviewBytes: p}, plain)
				for name, recs := range map[string][]got{"a sink wanting whole payloads": asks.recs, "a sink that cannot say": plain.recs} {
					if !reflect.DeepEqual(recs, whole.recs) {
						t.Errorf("%s got previews:\n%+v\nwant\n%+v", name, recs, whole.recs)
					}
				}
			})
		}
	}
}

// TestPreviewKeepsInflatedWhole checks that on a permessage-deflate
// connection a compressed message is kept whole while an uncompressed one
// is cut to its preview.
func TestPreviewKeepsInflatedWhole(t *testing.T) {
	long := strings.Repeat("compressed text, ", 10)
	comp := deflateMsgs(t, true, long)
	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	for _, messages := range []bool{false, true} {
		s := &previewCollect{}
		feedConn(New(s, Options{Messages: messages, PreviewBytes: 15}), true, true,
			c2s(upgradeReq(ext)), s2c(upgradeResp(ext)),
			s2c(cat(wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[0]}, text(long))))
		var got []string
		for i, r := range s.recs {
			if r.op == OpText {
				got = append(got, fmt.Sprintf("%d %v", len(r.payload), s.flags[i]))
			}
		}
		want := []string{fmt.Sprintf("%d false", len(long)), "15 true"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("messages=%v: text records (bytes, preview) %q, want %q", messages, got, want)
		}
	}
}
