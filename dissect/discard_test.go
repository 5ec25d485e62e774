package dissect

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestDiscardPayload checks that decoding without keeping payloads
// (Options.DiscardPayload, -q) finds exactly what decoding with them finds
// (UTF-8 anomalies and their offsets in masked, unmasked and inflated text,
// across fragments, byte-by-byte deliveries and the unmasking pieces;
// truncation past --max-message; inflation failures), and that only the
// payloads of data frames are left out.
func TestDiscardPayload(t *testing.T) {
	// High bits in the key: text validated still masked would not be UTF-8.
	k := []byte{0x81, 0x42, 0xc3, 0x24}
	long := bytes.Repeat([]byte("é-"), 700)         // 2,100 bytes: several unmasking pieces
	badLate := append(bytes.Clone(long), 0xff, 'x') // bad byte past the first pieces
	splitRune := bytes.Repeat([]byte("a"), 511)     // "€" straddles the 512-byte piece boundary
	splitRune = append(splitRune, "€ ok"...)
	comp := deflateMsgs(t, true, "compressed text goes too", "bad \xff inflated", strings.Repeat("big message ✓ ", 300), "é-")
	// A message with context takeover split over two frames, the second
	// starting inside "é": its inflated text straddles the inflater calls.
	split2 := comp[3]
	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	tests := []struct {
		name       string
		ext        string
		client     []byte
		server     []byte
		messages   bool
		maxMessage int64
		// What the records must show (so that agreeing cannot mean both
		// missed it): these anomaly ids, and a truncated record.
		mustSee   []string
		truncated bool
	}{
		{name: "masked text", client: wsFrame{fin: true, op: OpText, key: k, payload: []byte("hello ✓")}.bytes()},
		{name: "masked long text", client: wsFrame{fin: true, op: OpText, key: k, payload: long}.bytes()},
		{name: "masked bad byte late", client: wsFrame{fin: true, op: OpText, key: k, payload: badLate}.bytes()},
		{name: "masked rune across pieces", client: wsFrame{fin: true, op: OpText, key: k, payload: splitRune}.bytes()},
		{name: "unmasked bad byte", server: text("ok\xc3(").bytes()},
		{name: "rune across fragments", client: cat(wsFrame{op: OpText, key: k, payload: []byte("x\xe2\x82")},
			wsFrame{fin: true, op: OpContinuation, key: k, payload: []byte("\xac!")})},
		{name: "truncated rune at message end", client: cat(wsFrame{op: OpText, key: k, payload: []byte("x\xe2\x82")},
			wsFrame{fin: true, op: OpContinuation, key: k, payload: []byte("!")})},
		{name: "binary and close", client: cat(wsFrame{fin: true, op: OpBinary, key: k, payload: []byte{0xff, 0, 1}}, closeF(1000, "bye", k)),
			server: closeF(1000, "bye", nil).bytes()},
		{name: "messages mode", messages: true, client: cat(wsFrame{op: OpText, key: k, payload: []byte("ab")},
			wsFrame{fin: true, op: OpContinuation, key: k, payload: []byte("\xff")}), server: text("fine").bytes()},
		{name: "compressed", ext: ext, server: cat(wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[0]})},
		{name: "compressed, bad text and past max-message", ext: ext, maxMessage: 1000,
			mustSee: []string{AnInvalidUTF8}, truncated: true, server: cat(
				wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[0]},
				wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[1]},
				wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[2]},
				wsFrame{rsv1: true, op: OpText, payload: split2[:len(split2)/2]},
				wsFrame{fin: true, op: OpContinuation, payload: split2[len(split2)/2:]})},
		{name: "compressed, masked, corrupt", ext: ext, mustSee: []string{AnDecompressFailed}, client: cat(
			wsFrame{fin: true, rsv1: true, op: OpText, key: k, payload: []byte{0xff, 0xff, 0xff, 0xff}})},
	}
	for _, tc := range tests {
		for _, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/split=%v", tc.name, split), func(t *testing.T) {
				steps := []step{c2s(upgradeReq(tc.ext)), s2c(upgradeResp(tc.ext))}
				if tc.client != nil {
					steps = append(steps, c2s(tc.client))
				}
				if tc.server != nil {
					steps = append(steps, s2c(tc.server))
				}
				kept := feed(t, Options{Messages: tc.messages, MaxMessage: tc.maxMessage}, true, split, steps...)
				gone := feed(t, Options{Messages: tc.messages, MaxMessage: tc.maxMessage, DiscardPayload: true}, true, split, steps...)
				var seen []string
				truncated := false
				for _, r := range gone {
					seen = append(seen, r.anomalies...)
					truncated = truncated || r.truncated
				}
				for _, id := range tc.mustSee {
					if !slices.Contains(seen, id) {
						t.Errorf("no %s anomaly in %v", id, seen)
					}
				}
				if tc.truncated && !truncated {
					t.Error("no truncated record")
				}
				if len(kept) != len(gone) {
					t.Fatalf("%d records without payloads, %d with", len(gone), len(kept))
				}
				for i := range kept {
					want := kept[i]
					if (want.kind == "frame" || want.kind == "message") && want.op < 8 {
						want.payload = ""
					}
					g := gone[i]
					if g.payload != want.payload || !slices.Equal(g.anomalies, want.anomalies) ||
						!slices.Equal(g.offsets, want.offsets) || g.op != want.op || g.len != want.len ||
						g.truncated != want.truncated || g.closeCode != want.closeCode {
						t.Errorf("record %d: got %+v, want %+v", i, g, want)
					}
				}
			})
		}
	}
}
