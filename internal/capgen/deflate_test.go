package capgen

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"testing"
)

// inflateWindowed inflates a message with a dictionary of at most
// window-len(message) bytes of history, which proves no back-reference
// distance exceeds window.
func inflateWindowed(t *testing.T, payload, history []byte, want int, window int) []byte {
	t.Helper()
	in := append(bytes.Clone(payload), 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
	keep := max(0, window-want)
	dict := history[max(0, len(history)-keep):]
	out, err := io.ReadAll(flate.NewReaderDict(bytes.NewReader(in), dict))
	if err != nil {
		t.Fatalf("inflate with %d-byte window: %v", window, err)
	}
	return out
}

func TestDeflaterRoundTrip(t *testing.T) {
	msgs := [][]byte{
		JSONText(200, 0), JSONText(200, 0), {}, JSONText(250, 3), RandomText(100, 1), JSONText(256, 0),
	}
	for bits := 8; bits <= 15; bits++ {
		for _, takeover := range []bool{false, true} {
			d, err := NewDeflater(bits, takeover)
			if err != nil {
				t.Fatal(err)
			}
			inf := &inflater{takeover: takeover, window: 1 << bits}
			var history []byte
			var total [2]int
			for i, m := range msgs {
				p, err := d.Compress(m)
				if err != nil {
					t.Fatalf("bits %d takeover %v msg %d: %v", bits, takeover, i, err)
				}
				if bytes.HasSuffix(p, []byte{0, 0, 0xff, 0xff}) {
					t.Errorf("bits %d: trailing 00 00 ff ff not stripped", bits)
				}
				got, err := inf.inflate(p)
				if err != nil || !bytes.Equal(got, m) {
					t.Fatalf("bits %d takeover %v msg %d: round trip failed: %v", bits, takeover, i, err)
				}
				if bits < 15 {
					h := history
					if !takeover {
						h = nil
					}
					if got := inflateWindowed(t, p, h, len(m), 1<<bits); !bytes.Equal(got, m) {
						t.Fatalf("bits %d msg %d: windowed inflate differs", bits, i)
					}
				}
				history = append(history, m...)
				total[0] += len(p)
				total[1] += len(m)
			}
			if total[0] >= total[1] {
				t.Errorf("bits %d takeover %v: %d compressed bytes for %d", bits, takeover, total[0], total[1])
			}
		}
	}
}

func TestDeflaterTakeoverUsesHistory(t *testing.T) {
	msg := JSONText(400, 0)
	for _, bits := range []int{9, 15} {
		with, _ := NewDeflater(bits, true)
		without, _ := NewDeflater(bits, false)
		for _, d := range []*Deflater{with, without} {
			if _, err := d.Compress(msg); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := with.Compress(msg)
		b, _ := without.Compress(msg)
		if len(a) >= len(b) {
			t.Errorf("bits %d: repeated message with takeover %d bytes, without %d", bits, len(a), len(b))
		}
	}
}

func TestDeflaterEmptyAndErrors(t *testing.T) {
	d, err := NewDeflater(15, false)
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Compress(nil)
	if err != nil || !bytes.Equal(p, []byte{0x00}) {
		t.Errorf("empty message compresses to %x, %v; want 00", p, err)
	}
	for _, bits := range []int{7, 16} {
		if _, err := NewDeflater(bits, true); err == nil {
			t.Errorf("window bits %d accepted", bits)
		}
	}
	d, _ = NewDeflater(8, true)
	if _, err := d.Compress(make([]byte, 257)); !errors.Is(err, ErrWindowTooSmall) {
		t.Errorf("257 bytes with 8 window bits: %v", err)
	}
}
