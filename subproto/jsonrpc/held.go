package jsonrpc

import "unsafe"

// Held implements app.Holder: the requests waiting for their response and
// the reused records with their buffers.
func (d *Decoder) Held() int {
	n := d.held
	for _, r := range d.pool {
		n += int(unsafe.Sizeof(*r)) + cap(r.buf)
	}
	return n
}

// Shrink implements app.Holder: the responses to the forgotten requests
// will not be linked to them.
func (d *Decoder) Shrink() {
	clear(d.pending)
	d.pending = make(map[pendingKey]pending)
	d.held = 0
	d.pool, d.out = nil, nil
}

// HoldAtMost implements app.Holder: the decoder holds no unfinished
// packets.
func (d *Decoder) HoldAtMost(int) {}
