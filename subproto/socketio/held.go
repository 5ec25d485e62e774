package socketio

import "unsafe"

// Held implements app.Holder: the packets waiting for their attachments,
// the reused records with their buffers, and the decoded polling payload.
func (d *Decoder) Held() int {
	n := cap(d.polling)
	for _, r := range d.pool {
		n += r.held()
	}
	for i := range d.dirs {
		n += d.dirs[i].pending.held() + d.dirs[i].spare.held()
	}
	return n
}

// held returns what r and its buffers take (0 for nil).
func (r *Record) held() int {
	if r == nil {
		return 0
	}
	n := int(unsafe.Sizeof(*r)) + cap(r.buf) + cap(r.abuf)
	for _, b := range r.attb[:cap(r.attb)] {
		n += cap(b)
	}
	return n
}

// Shrink implements app.Holder: waiting packets are Gap's to give up.
func (d *Decoder) Shrink() {
	for i := range d.dirs {
		d.dirs[i].spare = nil
	}
	d.pool, d.npool, d.out, d.polling = nil, 0, nil, nil
}

// HoldAtMost implements app.Holder: what Socket.IO holds are packets
// waiting for their attachments, which the budget's give-up covers.
func (d *Decoder) HoldAtMost(int) {}
