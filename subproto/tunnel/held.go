package tunnel

// Held implements app.Holder: the first bytes of each direction kept to
// recognise the protocol, and the buffer of decoded base64.
func (d *Decoder) Held() int {
	n := cap(d.dec)
	for i := range d.dirs {
		n += cap(d.dirs[i].head)
	}
	return n
}

// Shrink implements app.Holder: the base64 buffer goes (the first bytes
// are bounded and still needed).
func (d *Decoder) Shrink() { d.dec = nil }

// HoldAtMost implements app.Holder: the decoder holds no unfinished
// packets.
func (d *Decoder) HoldAtMost(int) {}
