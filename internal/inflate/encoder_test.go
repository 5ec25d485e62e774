package inflate

import "math/bits"

// A tiny DEFLATE writer for hand-built test streams. It is written straight
// from RFC 1951 and shares no tables with the decoder, so it also checks the
// decoder's tables.

// bitWriter packs values LSB first.
type bitWriter struct {
	buf []byte
	acc uint64
	n   uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= (v & (1<<n - 1)) << w.n
	w.n += n
	for w.n >= 8 {
		w.buf = append(w.buf, byte(w.acc))
		w.acc >>= 8
		w.n -= 8
	}
}

// code writes a Huffman code of length n, most significant bit first.
func (w *bitWriter) code(c uint32, n uint8) {
	w.bits(uint64(bits.Reverse32(c)>>(32-uint(n))), uint(n))
}

func (w *bitWriter) align() {
	if w.n > 0 {
		w.bits(0, 8-w.n)
	}
}

func (w *bitWriter) bytes() []byte {
	out := append([]byte(nil), w.buf...)
	if w.n > 0 {
		out = append(out, byte(w.acc))
	}
	return out
}

// canonical assigns canonical Huffman codes to lengths (RFC 1951 3.2.2).
func canonical(lens []uint8) []uint32 {
	var count [16]uint32
	for _, l := range lens {
		count[l]++
	}
	count[0] = 0
	var next [16]uint32
	code := uint32(0)
	for l := 1; l < 16; l++ {
		code = (code + count[l-1]) << 1
		next[l] = code
	}
	codes := make([]uint32, len(lens))
	for s, l := range lens {
		if l != 0 {
			codes[s] = next[l]
			next[l]++
		}
	}
	return codes
}

// tok is a literal (length == 0) or a match.
type tok struct {
	lit    byte
	length int
	dist   int
}

func lits(s string) []tok {
	t := make([]tok, len(s))
	for i := range len(s) {
		t[i] = tok{lit: s[i]}
	}
	return t
}

func match(length, dist int) tok { return tok{length: length, dist: dist} }

var (
	testLenBase  = [...]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	testLenExtra = [...]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	testDstBase  = [...]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	testDstExtra = [...]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
)

func lengthSym(length int) (sym int, extra uint, val int) {
	for i := len(testLenBase) - 1; i >= 0; i-- {
		if length >= testLenBase[i] {
			if i == len(testLenBase)-1 && length != 258 {
				continue
			}
			return 257 + i, testLenExtra[i], length - testLenBase[i]
		}
	}
	panic("bad length")
}

func distSym(d int) (sym int, extra uint, val int) {
	for i := len(testDstBase) - 1; i >= 0; i-- {
		if d >= testDstBase[i] {
			return i, testDstExtra[i], d - testDstBase[i]
		}
	}
	panic("bad distance")
}

func fixedLens() (lit, dist []uint8) {
	lit = make([]uint8, 288)
	for s := range lit {
		switch {
		case s < 144:
			lit[s] = 8
		case s < 256:
			lit[s] = 9
		case s < 280:
			lit[s] = 7
		default:
			lit[s] = 8
		}
	}
	dist = make([]uint8, 30)
	for s := range dist {
		dist[s] = 5
	}
	return lit, dist
}

// writeTokens encodes toks and an end-of-block code.
func (w *bitWriter) writeTokens(toks []tok, litLens, distLens []uint8) {
	lc, dc := canonical(litLens), canonical(distLens)
	for _, t := range toks {
		if t.length == 0 {
			w.code(lc[t.lit], litLens[t.lit])
			continue
		}
		s, e, v := lengthSym(t.length)
		w.code(lc[s], litLens[s])
		w.bits(uint64(v), e)
		s, e, v = distSym(t.dist)
		w.code(dc[s], distLens[s])
		w.bits(uint64(v), e)
	}
	w.code(lc[256], litLens[256])
}

func (w *bitWriter) fixedBlock(final bool, toks []tok) {
	w.bits(b2u(final), 1)
	w.bits(1, 2)
	l, d := fixedLens()
	w.writeTokens(toks, l, d)
}

func (w *bitWriter) storedBlock(final bool, data []byte) {
	w.bits(b2u(final), 1)
	w.bits(0, 2)
	w.align()
	w.bits(uint64(len(data)), 16)
	w.bits(uint64(^uint16(len(data))), 16)
	for _, c := range data {
		w.bits(uint64(c), 8)
	}
}

// clTok is a code-length alphabet symbol with its extra-bits value.
type clTok struct {
	sym   int
	extra int
}

// plainCL spells lengths with symbols 0-15 only.
func plainCL(lens ...[]uint8) []clTok {
	var t []clTok
	for _, ls := range lens {
		for _, l := range ls {
			t = append(t, clTok{sym: int(l)})
		}
	}
	return t
}

// defaultCLLens is a complete code over all 19 code-length symbols.
func defaultCLLens() []uint8 {
	l := make([]uint8, 19)
	for s := range l {
		l[s] = 5
		if s < 13 {
			l[s] = 4
		}
	}
	return l
}

// dynHeader writes a dynamic block header. clLens nil means defaultCLLens;
// nlit and ndist are the HLIT+257 and HDIST+1 values written.
func (w *bitWriter) dynHeader(final bool, nlit, ndist int, clLens []uint8, cl []clTok) {
	if clLens == nil {
		clLens = defaultCLLens()
	}
	w.bits(b2u(final), 1)
	w.bits(2, 2)
	w.bits(uint64(nlit-257), 5)
	w.bits(uint64(ndist-1), 5)
	w.bits(19-4, 4)
	for _, s := range clOrder {
		w.bits(uint64(clLens[s]), 3)
	}
	codes := canonical(clLens)
	for _, t := range cl {
		w.code(codes[t.sym], clLens[t.sym])
		switch t.sym {
		case 16:
			w.bits(uint64(t.extra), 2)
		case 17:
			w.bits(uint64(t.extra), 3)
		case 18:
			w.bits(uint64(t.extra), 7)
		}
	}
}

// dynamicBlock writes a complete dynamic block whose code lengths are spelled
// plainly.
func (w *bitWriter) dynamicBlock(final bool, litLens, distLens []uint8, toks []tok) {
	w.dynHeader(final, len(litLens), len(distLens), nil, plainCL(litLens, distLens))
	w.writeTokens(toks, litLens, distLens)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
