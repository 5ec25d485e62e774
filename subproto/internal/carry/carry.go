// Package carry keeps the bytes of a stream protocol's unfinished packet
// from one WebSocket message to the next (MQTT and STOMP split packets over
// messages), without disturbing records of the current call that point
// into the bytes they were decoded from.
package carry

// Buffer is one direction's carried bytes. The zero value holds nothing.
type Buffer struct {
	buf, spare []byte
	// Msgs counts the messages that carried the bytes of the packet being
	// assembled (the current one included during a call); decoders set it
	// to 1 when a packet ends inside the current message.
	Msgs int
}

// Join returns data preceded by the bytes held from earlier messages, and
// counts the message.
func (b *Buffer) Join(data []byte) []byte {
	if len(b.buf) > 0 {
		b.buf = append(b.buf, data...)
		data = b.buf
	}
	b.Msgs++
	return data
}

// Held returns the bytes held from earlier messages (empty when none).
func (b *Buffer) Held() []byte { return b.buf }

// Keep holds data[i:], the unfinished tail of what Join returned, for the
// next message. Records of this call may point into data: when data is
// the held buffer itself, the tail goes to the spare buffer instead, so
// that those records stay intact until the next call.
func (b *Buffer) Keep(data []byte, i int) {
	switch {
	case i >= len(data):
		b.buf = b.buf[:0]
		b.Msgs = 0
	case len(b.buf) == 0 || &data[0] != &b.buf[0]:
		b.buf = append(b.buf[:0], data[i:]...)
	default:
		b.spare = append(b.spare[:0], data[i:]...)
		b.buf, b.spare = b.spare, b.buf
	}
}

// Size returns the capacity of the buffers b keeps.
func (b *Buffer) Size() int { return cap(b.buf) + cap(b.spare) }

// SizeOf returns the sum of the Size of bs (a decoder's directions).
func SizeOf(bs ...*Buffer) int {
	n := 0
	for _, b := range bs {
		n += b.Size()
	}
	return n
}

// FreeAll calls Free on each of bs.
func FreeAll(bs ...*Buffer) {
	for _, b := range bs {
		b.Free()
	}
}

// Free drops the spare buffer, and the main one when it holds nothing.
// Records of the last call keep the bytes they point to.
func (b *Buffer) Free() {
	b.spare = nil
	if len(b.buf) == 0 {
		b.buf = nil
	}
}

// Release drops the held bytes, which a record of this call may still
// point to (they are left intact until the next call), and starts counting
// messages afresh.
func (b *Buffer) Release() {
	b.buf, b.spare = b.spare[:0], b.buf
	b.Msgs = 0
}
