package mqtt

import (
	"unsafe"

	"github.com/wsdissect/wsdissect/subproto/internal/carry"
)

// Held implements app.Holder: the bytes kept for unfinished packets and
// the reused packet records.
func (d *Decoder) Held() int {
	return len(d.pool)*int(unsafe.Sizeof(Packet{})) + carry.SizeOf(&d.dirs[0].Buffer, &d.dirs[1].Buffer)
}

// Shrink implements app.Holder.
func (d *Decoder) Shrink() {
	carry.FreeAll(&d.dirs[0].Buffer, &d.dirs[1].Buffer)
	d.pool, d.out = nil, nil
}

// HoldAtMost implements app.Holder.
func (d *Decoder) HoldAtMost(n int) { d.hold = max(n, 0) }
