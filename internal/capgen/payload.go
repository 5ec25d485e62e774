package capgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// RandomBytes returns n pseudo-random bytes from a generator seeded with
// seed: the same seed always gives the same bytes.
func RandomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// RandomText returns n pseudo-random letters and digits (poorly
// compressible text) from a generator seeded with seed.
func RandomText(n int, seed uint64) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	r := rand.New(rand.NewPCG(seed, 0x632be59bd9b4e019))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

// JSONText returns at most n bytes (and at least n-40 for n >= 42) of
// repetitive JSON text (compresses well), its records numbered from first.
func JSONText(n, first int) []byte {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := first; ; i++ {
		item := fmt.Sprintf(`{"id":%d,"event":"tick","status":"ok"}`, i)
		if i > first {
			item = "," + item
		}
		if sb.Len()+len(item)+1 > n {
			break
		}
		sb.WriteString(item)
	}
	sb.WriteByte(']')
	return []byte(sb.String())
}
