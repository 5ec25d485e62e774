package stomp

import (
	"unsafe"

	"github.com/wsdissect/wsdissect/subproto/internal/carry"
)

// Held implements app.Holder: the bytes kept for unfinished frames and the
// reused frame records with their buffers.
func (d *Decoder) Held() int {
	n := carry.SizeOf(&d.dirs[0].Buffer, &d.dirs[1].Buffer)
	for _, f := range d.pool {
		n += int(unsafe.Sizeof(*f)) + cap(f.buf)
	}
	return n
}

// Shrink implements app.Holder.
func (d *Decoder) Shrink() {
	carry.FreeAll(&d.dirs[0].Buffer, &d.dirs[1].Buffer)
	d.pool, d.out = nil, nil
}

// HoldAtMost implements app.Holder.
func (d *Decoder) HoldAtMost(n int) { d.hold = max(n, 0) }
