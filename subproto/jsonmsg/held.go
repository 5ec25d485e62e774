package jsonmsg

import "unsafe"

// Held implements app.Holder: the reused records and the buffer of compact
// values.
func (d *Decoder) Held() int { return len(d.pool)*int(unsafe.Sizeof(Record{})) + cap(d.buf) }

// Shrink implements app.Holder.
func (d *Decoder) Shrink() { d.pool, d.out, d.buf = nil, nil, nil }

// HoldAtMost implements app.Holder: the decoder holds no unfinished
// packets.
func (d *Decoder) HoldAtMost(int) {}
