package inflate

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"testing"
)

// expand applies tokens to produce the expected output.
func expand(toks []tok) []byte {
	var out []byte
	for _, t := range toks {
		if t.length == 0 {
			out = append(out, t.lit)
			continue
		}
		for range t.length {
			out = append(out, out[len(out)-t.dist])
		}
	}
	return out
}

// flateDecode decodes with compress/flate as a reference.
func flateDecode(stream []byte) ([]byte, error) {
	return io.ReadAll(flate.NewReader(bytes.NewReader(stream)))
}

func lensWith(n int, set map[int]uint8) []uint8 {
	l := make([]uint8, n)
	for s, v := range set {
		l[s] = v
	}
	return l
}

func TestDynamicEdgeCases(t *testing.T) {
	type tc struct {
		name   string
		stream []byte
		want   []byte
	}
	var cases []tc

	{ // Deepest codes (15 bits, sub-tables) and a single one-bit distance code.
		set := map[int]uint8{}
		for i := range 13 {
			set['a'+i] = uint8(i + 1)
		}
		set['n'], set['o'], set[256], set[257] = 15, 15, 15, 15
		litLens := lensWith(258, set)
		toks := lits("abcdefghijklmnoonmlkjihgfedcbaa")
		toks = append(toks, match(3, 1), tok{lit: 'o'}, match(3, 1))
		var w bitWriter
		w.dynamicBlock(true, litLens, []uint8{1}, toks)
		cases = append(cases, tc{"deep codes", w.bytes(), expand(toks)})
	}
	{ // Literals only, with an empty distance code.
		toks := lits("xyzzy")
		var w bitWriter
		w.dynamicBlock(true, lensWith(257, map[int]uint8{'x': 2, 'y': 2, 'z': 2, 256: 2}), []uint8{0}, toks)
		cases = append(cases, tc{"empty distance code", w.bytes(), expand(toks)})
	}
	{ // Repeat codes 16/17/18 at their extremes, a run crossing from the
		// literal/length lengths into the distance lengths.
		cl := []clTok{
			{18, 97 - 11}, // 0..96 zero
			{3, 0},        // 'a' = 3
			{16, 0},       // 'b','c','d' = 3
			{18, 138 - 11},
			{17, 10 - 3},
			{17, 7 - 3}, // 101..255 zero (155)
			{2, 0},      // 256 = 2
			{4, 0},      // 257 = 4
			{16, 0},     // 258..260 = 4 (repeat 3 - 3)
			{17, 4 - 3}, // 261, 262 and distance 0, 1 zero
			{1, 0},
			{1, 0}, // distance 2, 3 = 1
		}
		litLens := lensWith(263, map[int]uint8{'a': 3, 'b': 3, 'c': 3, 'd': 3, 256: 2, 257: 4, 258: 4, 259: 4, 260: 4})
		distLens := []uint8{0, 0, 1, 1}
		toks := append(lits("abcd"), match(3, 4), match(4, 3), match(5, 4), match(6, 3))
		var w bitWriter
		w.dynHeader(true, 263, 4, nil, cl)
		w.writeTokens(toks, litLens, distLens)
		cases = append(cases, tc{"repeat codes", w.bytes(), expand(toks)})
	}
	{ // Two blocks: dynamic then fixed then stored, tables switch correctly.
		var w bitWriter
		w.dynamicBlock(false, lensWith(257, map[int]uint8{'q': 1, 256: 1}), []uint8{0}, lits("qqq"))
		w.fixedBlock(false, append(lits("xyz"), match(6, 3)))
		w.storedBlock(true, []byte("end"))
		cases = append(cases, tc{"mixed blocks", w.bytes(), []byte("qqqxyzxyzxyzend")})
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if ref, err := flateDecode(c.stream); err != nil || !bytes.Equal(ref, c.want) {
				t.Fatalf("compress/flate disagrees with the test stream: %q, %v", ref, err)
			}
			for _, pieces := range [][]int{onePiece(len(c.stream)), ones(len(c.stream))} {
				z := New(15)
				got := feed(t, z, nil, c.stream, pieces)
				if !bytes.Equal(got, c.want) || !z.Final() {
					t.Fatalf("got %q (Final %v), want %q", got, z.Final(), c.want)
				}
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	fl, _ := fixedLens()
	fl = append(fl, 8, 8)
	fixedCodes := canonical(fl)

	type tc struct {
		name     string
		stream   []byte
		sentinel error
		offset   int64
		out      string // output before the error
	}
	var cases []tc
	add := func(name string, stream []byte, sentinel error, offset int64, out string) {
		cases = append(cases, tc{name, stream, sentinel, offset, out})
	}

	add("reserved block type", []byte{0x07}, ErrCorrupt, 0, "")
	add("reserved block type after stored", []byte{0x00, 0x03, 0x00, 0xfc, 0xff, 'a', 'b', 'c', 0x07}, ErrCorrupt, 8, "abc")
	add("stored LEN/NLEN mismatch", []byte{0x01, 0x05, 0x00, 0x00, 0x00, 'h', 'e', 'l', 'l', 'o'}, ErrCorrupt, 1, "")
	{
		var w bitWriter
		w.fixedBlock(true, []tok{match(3, 1)})
		add("distance at start of stream", w.bytes(), ErrDistance, 0, "")
	}
	{
		var w bitWriter
		w.fixedBlock(true, append(lits("ab"), match(3, 5)))
		add("distance beyond history", w.bytes(), ErrDistance, 2, "ab") // 3 + 2*8 bits
	}
	{
		var w bitWriter
		w.bits(1, 1)
		w.bits(1, 2)
		w.code(fixedCodes[286], 8)
		add("fixed literal/length symbol 286", w.bytes(), ErrCorrupt, 0, "")
	}
	{
		var w bitWriter
		w.bits(1, 1)
		w.bits(1, 2)
		w.code(fixedCodes['z'], 8)
		w.code(fixedCodes[257], 7)
		w.code(30, 5)
		add("fixed distance symbol 30", w.bytes(), ErrCorrupt, 1, "z") // 3+8 bits
	}
	{
		var w bitWriter
		w.storedBlock(false, []byte("0123456789"))
		w.dynamicBlock(true, lensWith(257, map[int]uint8{'a': 1, 'b': 1, 256: 1}), []uint8{1}, nil)
		add("over-subscribed literal/length code", w.bytes(), ErrCorrupt, 15, "0123456789")
	}
	{
		var w bitWriter
		w.dynamicBlock(true, lensWith(257, map[int]uint8{'a': 1, 256: 2}), []uint8{1}, nil)
		add("incomplete literal/length code", w.bytes(), ErrCorrupt, 0, "")
	}
	{
		var w bitWriter
		w.dynamicBlock(true, lensWith(257, map[int]uint8{'a': 1, 256: 1}), []uint8{1, 1, 1}, nil)
		add("over-subscribed distance code", w.bytes(), ErrCorrupt, 0, "")
	}
	{
		var w bitWriter
		cl := make([]uint8, 19)
		for i := range cl {
			cl[i] = 1
		}
		w.dynHeader(true, 257, 1, cl, nil)
		add("over-subscribed code-length code", w.bytes(), ErrCorrupt, 0, "")
	}
	{
		var w bitWriter
		cl := make([]uint8, 19)
		cl[0], cl[1] = 2, 2
		w.dynHeader(true, 257, 1, cl, nil)
		add("incomplete code-length code", w.bytes(), ErrCorrupt, 0, "")
	}
	{
		var w bitWriter
		cl := make([]uint8, 19)
		cl[0] = 1 // a single one-bit code: the pattern "1" is unused
		w.dynHeader(true, 257, 1, cl, nil)
		w.bits(0, 1)
		w.bits(1, 1)
		add("unused pattern of one-code code-length code", w.bytes(), ErrCorrupt, 75/8, "")
	}
	{
		var w bitWriter
		w.dynHeader(true, 257, 1, nil, []clTok{{16, 0}})
		// 3 + 14 + 19*3 = 74 bits of header before the bad code.
		add("repeat with no previous length", w.bytes(), ErrCorrupt, 74/8, "")
	}
	{
		var w bitWriter
		// 138 + 121 zeros for 258 lengths: the second run overflows by one.
		w.dynHeader(true, 257, 1, nil, []clTok{{18, 127}, {18, 110}})
		// 74 + (4+7) bits before the overflowing run.
		add("repeat overflows", w.bytes(), ErrCorrupt, (74+11)/8, "")
	}
	{
		var w bitWriter
		w.dynHeader(true, 287, 1, nil, nil)
		add("HLIT too large", w.bytes(), ErrCorrupt, 0, "")
	}
	{
		var w bitWriter
		w.dynHeader(true, 257, 31, nil, nil)
		add("HDIST too large", w.bytes(), ErrCorrupt, 0, "")
	}
	{
		litLens := lensWith(258, map[int]uint8{'a': 1, 256: 2, 257: 2})
		var w bitWriter
		w.dynHeader(true, 258, 1, nil, plainCL(litLens, []uint8{0}))
		headerBits := len(w.buf)*8 + int(w.n)
		lc := canonical(litLens)
		w.code(lc['a'], 1)
		w.code(lc[257], 2) // a length, but there is no distance code
		w.bits(0, 8)
		add("length with empty distance code", w.bytes(), ErrCorrupt, int64(headerBits+1)/8, "a")
	}
	{
		litLens := lensWith(258, map[int]uint8{'a': 1, 256: 2, 257: 2})
		var w bitWriter
		w.dynHeader(true, 258, 1, nil, plainCL(litLens, []uint8{1}))
		headerBits := len(w.buf)*8 + int(w.n)
		lc := canonical(litLens)
		w.code(lc['a'], 1)
		w.code(lc[257], 2)
		w.bits(1, 1) // the unused half of a one-code distance code
		w.bits(0, 8)
		add("unused pattern of one-code distance code", w.bytes(), ErrCorrupt, int64(headerBits+1)/8, "a")
	}

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := flateDecode(c.stream); err == nil {
				t.Fatalf("compress/flate accepts the stream")
			}
			for _, mode := range []string{"whole", "oneByte", "padded"} {
				z := New(15)
				var got []byte
				var err error
				switch mode {
				case "padded":
					// Trailing bytes make the decoder take its fast path.
					padded := append(bytes.Clone(c.stream), make([]byte, 16)...)
					got, err = z.Append(nil, padded, 1<<20)
				case "oneByte":
					for i := 0; i < len(c.stream) && err == nil; i++ {
						got, err = z.Append(got, c.stream[i:i+1], 1<<20)
					}
				default:
					got, err = z.Append(nil, c.stream, 1<<20)
				}
				var e *Error
				if !errors.As(err, &e) || !errors.Is(err, c.sentinel) {
					t.Fatalf("mode=%s: err = %v, want *Error wrapping %v", mode, err, c.sentinel)
				}
				if e.Offset != c.offset {
					t.Errorf("mode=%s: offset %d, want %d (%v)", mode, e.Offset, c.offset, err)
				}
				if string(got) != c.out {
					t.Errorf("mode=%s: output %q, want %q", mode, got, c.out)
				}
				// Sticky until Reset.
				again, err2 := z.Append(nil, []byte{0x03, 0x00}, 100)
				if err2 != err || len(again) != 0 || z.Pending() != 0 || z.AtBlockBoundary() || z.Final() || z.Trailing() != 0 {
					t.Fatalf("after failure: %q, %v (Pending %d)", again, err2, z.Pending())
				}
				if _, err2 := z.Discard([]byte{0}, 100); err2 != err {
					t.Fatalf("Discard after failure: %v", err2)
				}
				z.Reset(false)
				if got, err := z.Append(nil, []byte{0x03, 0x00}, 100); err != nil || len(got) != 0 || !z.Final() {
					t.Fatalf("after Reset: %q, %v", got, err)
				}
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	e := &Error{Offset: 12, Reason: "reserved block type 3", Err: ErrCorrupt}
	if got, want := e.Error(), "inflate: corrupt input at offset 12: reserved block type 3"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, ErrCorrupt) || errors.Is(e, ErrDistance) {
		t.Error("Unwrap does not expose the sentinel")
	}
}
