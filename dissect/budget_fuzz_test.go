package dissect

import (
	"testing"

	"github.com/wsdissect/wsdissect/internal/membudget"
)

// FuzzResyncBudget fuzzes mid-stream pickup and resynchronisation after
// gaps (frames fed without a handshake, and after one, cut into pieces with
// gaps) under a memory budget small enough to be exhausted, and checks that
// every byte the dissector charged to the budget is given back when the
// connection closes.
func FuzzResyncBudget(f *testing.F) {
	k := []byte{1, 2, 3, 4}
	f.Add(cat(ctext("hello"), ctext("world"), wsFrame{fin: true, op: OpBinary, key: k, payload: make([]byte, 300)}), cat(text("x"), text("y"), closeF(1000, "bye", nil)), uint16(5), uint16(3), uint16(700))
	f.Add(wsFrame{fin: true, op: OpBinary, key: k, lenBits: 64, lenOverride: 1 << 63}.bytes(), []byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3}, uint16(2), uint16(0), uint16(0))
	f.Add(make([]byte, 200), cat(text("after zeros")), uint16(96), uint16(4), uint16(200))
	f.Fuzz(func(t *testing.T, c2sFrames, s2cFrames []byte, split, gapAt, budgetKiB uint16) {
		// Keep each run short: longer streams only repeat the same paths.
		c2sFrames, s2cFrames = c2sFrames[:min(len(c2sFrames), 4096)], s2cFrames[:min(len(s2cFrames), 4096)]
		ext := "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		for _, tc := range []struct {
			opts   Options
			sawSYN bool
			c, s   []byte
		}{
			{Options{}, false, c2sFrames, s2cFrames},
			{Options{Messages: true}, false, c2sFrames, s2cFrames},
			{Options{Messages: true, PayloadCost: 4}, true, append(upgradeReq(ext), c2sFrames...), append(upgradeResp(ext), s2cFrames...)},
		} {
			b := membudget.New(int64(budgetKiB%64+1) << 10)
			tc.opts.Memory = b
			fuzzConn(t, tc.opts, tc.sawSYN, tc.c, tc.s, split, gapAt)
			if b.Used() > 2<<16 { // what accounts keep in reserve (two slabs)
				t.Fatalf("%d bytes still charged to the budget after the connection closed", b.Used())
			}
		}
	})
}
