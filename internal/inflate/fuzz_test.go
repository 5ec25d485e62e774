package inflate

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"
)

// FuzzInflate feeds arbitrary data in two pieces split at split. It checks
// that nothing panics, that no call appends more than its limit, that
// Discard agrees with Append, and that the output agrees with compress/flate:
// equal when compress/flate decodes the stream successfully, and a common
// prefix otherwise.
func FuzzInflate(f *testing.F) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, data := range [][]byte{nil, []byte("a"), textData(rng, 300), randData(rng, 100), make([]byte, 5000), mixedData(rng, 2000)} {
		for _, level := range levels {
			comp := compress(f, data, level)
			f.Add(comp, uint16(len(comp)/2))
		}
	}
	{
		var w bitWriter
		set := map[int]uint8{}
		for i := range 13 {
			set['a'+i] = uint8(i + 1)
		}
		set['n'], set['o'], set[256], set[257] = 15, 15, 15, 15
		w.dynamicBlock(false, lensWith(258, set), []uint8{1}, append(lits("abcno"), match(3, 1)))
		w.fixedBlock(false, append(lits("xyz"), match(10, 3)))
		w.storedBlock(true, []byte("stored"))
		f.Add(w.bytes(), uint16(7))
	}
	f.Add([]byte{0x07}, uint16(0))
	f.Add([]byte{0x01, 0x05, 0x00, 0xfa, 0xff, 'h', 'e', 'l', 'l', 'o'}, uint16(3))
	f.Add([]byte{0x00, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00}, uint16(5))

	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		const limit = 1 << 16
		s := int(split) % (len(data) + 1)

		z := New(15)
		out, err := z.Append(nil, data[:s], limit)
		if len(out) > limit {
			t.Fatalf("first call appended %d > %d", len(out), limit)
		}
		if err == nil {
			n := len(out)
			out, err = z.Append(out, data[s:], limit-n)
			if len(out)-n > limit-n {
				t.Fatalf("second call appended %d > %d", len(out)-n, limit-n)
			}
		}
		if p := z.Pending(); p > 8 {
			t.Fatalf("Pending() = %d", p)
		}

		// Discard must count what Append produced and fail the same way.
		zd := New(15)
		n, derr := zd.Discard(data[:s], limit)
		if derr == nil {
			var m int
			m, derr = zd.Discard(data[s:], limit-n)
			n += m
		}
		if n != len(out) || (derr == nil) != (err == nil) || zd.Final() != z.Final() || zd.Total() != z.Total() {
			t.Fatalf("Discard: %d, %v; Append: %d, %v", n, derr, len(out), err)
		}

		// Visit must show exactly what Append produced and fail the same
		// way.
		zv := New(15)
		var seen []byte
		see := func(p []byte) { seen = append(seen, p...) }
		n, verr := zv.Visit(data[:s], limit, see)
		if verr == nil {
			var m int
			m, verr = zv.Visit(data[s:], limit-n, see)
			n += m
		}
		if n != len(out) || !bytes.Equal(seen, out) || (verr == nil) != (err == nil) || zv.Final() != z.Final() {
			t.Fatalf("Visit: %d bytes (%d seen), %v; Append: %d, %v", n, len(seen), verr, len(out), err)
		}

		ref, rerr := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(data)), limit+1))
		flateOK := rerr == nil && len(ref) <= limit
		// LimitReader ends with io.EOF at the limit too; only a shorter
		// result with a nil error is a complete stream.
		if flateOK {
			if err != nil || !z.Final() || !bytes.Equal(out, ref) {
				t.Fatalf("compress/flate decodes %d bytes; got %d bytes, %v (Final %v)", len(ref), len(out), err, z.Final())
			}
		} else if err == nil && z.Final() && len(ref) <= limit {
			t.Fatalf("accepted a stream compress/flate rejects (%v)", rerr)
		}
		k := min(len(out), len(ref))
		if !bytes.Equal(out[:k], ref[:k]) {
			t.Fatalf("output differs from compress/flate within the first %d bytes", k)
		}
	})
}
