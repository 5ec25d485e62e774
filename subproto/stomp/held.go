package stomp

import "unsafe"

// Held implements app.Holder: the bytes kept for unfinished frames and the
// reused frame records with their buffers.
func (d *Decoder) Held() int {
	n := 0
	for _, f := range d.pool {
		n += int(unsafe.Sizeof(*f)) + cap(f.buf)
	}
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
