package mqtt

import "unsafe"

// Held implements app.Holder: the bytes kept for unfinished packets and
// the reused packet records.
func (d *Decoder) Held() int {
	n := len(d.pool) * int(unsafe.Sizeof(Packet{}))
	for i := range d.dirs {
		n += d.dirs[i].Size()
	}
	return n
}

// Shrink implements app.Holder.
func (d *Decoder) Shrink() {
	for i := range d.dirs {
		d.dirs[i].Free()
	}
	d.pool, d.out = nil, nil
}

// HoldAtMost implements app.Holder.
func (d *Decoder) HoldAtMost(n int) { d.hold = max(n, 0) }
