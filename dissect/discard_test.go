package dissect

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
)

// TestDiscardPayload checks that decoding without keeping payloads
// (Options.DiscardPayload, -q) finds exactly what decoding with them finds
// (UTF-8 anomalies and their offsets in masked and unmasked text, across
// fragments, byte-by-byte deliveries and the unmasking pieces), and that
// only the payloads of uncompressed data frames are left out.
func TestDiscardPayload(t *testing.T) {
	// High bits in the key: text validated still masked would not be UTF-8.
	k := []byte{0x81, 0x42, 0xc3, 0x24}
	long := bytes.Repeat([]byte("é-"), 700)         // 2,100 bytes: several unmasking pieces
	badLate := append(bytes.Clone(long), 0xff, 'x') // bad byte past the first pieces
	splitRune := bytes.Repeat([]byte("a"), 511)     // "€" straddles the 512-byte piece boundary
	splitRune = append(splitRune, "€ ok"...)
	comp := deflateMsgs(t, true, "compressed text stays")
	ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	tests := []struct {
		name     string
		ext      string
		client   []byte
		server   []byte
		messages bool
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
		{name: "compressed kept", ext: ext, server: cat(wsFrame{fin: true, rsv1: true, op: OpText, payload: comp[0]})},
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
				kept := feed(t, Options{Messages: tc.messages}, true, split, steps...)
				gone := feed(t, Options{Messages: tc.messages, DiscardPayload: true}, true, split, steps...)
				if len(kept) != len(gone) {
					t.Fatalf("%d records without payloads, %d with", len(gone), len(kept))
				}
				for i := range kept {
					want := kept[i]
					if (want.kind == "frame" || want.kind == "message") && want.op < 8 && !want.compressed {
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
