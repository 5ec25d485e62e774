package tlsdecrypt

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"testing"
)

// TestExpandLabel checks the kdf's HKDF-Expand-Label against crypto/hkdf,
// for both hashes, secrets of every length that matters (a key longer than
// the hash's block is hashed first) and one kdf reused across them.
func TestExpandLabel(t *testing.T) {
	for _, h := range []func() hash.Hash{sha256.New, sha512.New384} {
		f := newKDF(h)
		for _, secretLen := range []int{0, 1, 32, 48, 64, 128, 129, 200} {
			secret := bytes.Repeat([]byte{byte(secretLen)}, secretLen)
			for _, tt := range []struct {
				label string
				n     int
			}{{"key", 16}, {"key", 32}, {"iv", 12}, {"traffic upd", f.size}} {
				info := []byte{byte(tt.n >> 8), byte(tt.n), byte(6 + len(tt.label))}
				info = append(info, "tls13 "+tt.label...)
				info = append(info, 0)
				want, err := hkdf.Expand(h, secret, string(info), tt.n)
				if err != nil {
					t.Fatal(err)
				}
				if got := f.expandLabel(secret, tt.label, tt.n, []byte("x")); string(got) != "x"+string(want) {
					t.Errorf("hash size %d, secret of %d bytes, %q: got %x, want %x", f.size, secretLen, tt.label, got[1:], want)
				}
			}
		}
	}
}
