package graphqlws

// Held implements app.Holder: the operations remembered to name their
// results, and the record's buffer.
func (d *Decoder) Held() int { return d.held + cap(d.rec.buf) }

// Shrink implements app.Holder: results of the forgotten operations will
// not be named.
func (d *Decoder) Shrink() {
	d.ops = make(map[string]op)
	d.held = 0
	d.rec.buf = nil
}

// HoldAtMost implements app.Holder: the decoder holds no unfinished
// packets.
func (d *Decoder) HoldAtMost(int) {}
