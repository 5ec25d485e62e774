package tlsdecrypt

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
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

// TestPRF12 checks the kdf's TLS 1.2 PRF against P_hash written with
// crypto/hmac (RFC 5246 section 5).
func TestPRF12(t *testing.T) {
	ref := func(h func() hash.Hash, secret []byte, label string, seed []byte, n int) []byte {
		ls := append([]byte(label), seed...)
		mac := hmac.New(h, secret)
		mac.Write(ls)
		a := mac.Sum(nil)
		var out []byte
		for len(out) < n {
			mac.Reset()
			mac.Write(a)
			mac.Write(ls)
			out = mac.Sum(out)
			mac.Reset()
			mac.Write(a)
			a = mac.Sum(nil)
		}
		return out[:n]
	}
	for _, h := range []func() hash.Hash{sha256.New, sha512.New384} {
		f := newKDF(h)
		for _, secretLen := range []int{48, 200} {
			secret := bytes.Repeat([]byte{byte(secretLen)}, secretLen)
			seed := bytes.Repeat([]byte{3}, 64)
			for _, n := range []int{1, 40, 72, 104, 192} {
				if got, want := f.prf12(secret, "key expansion", seed, n), ref(h, secret, "key expansion", seed, n); !bytes.Equal(got, want) {
					t.Errorf("hash size %d, secret of %d bytes, %d bytes: got %x, want %x", f.size, secretLen, n, got, want)
				}
			}
		}
	}
}

// plainHash hides the state marshaling of the hash it wraps, so that the
// kdf hashes the HMAC pads for every call.
type plainHash struct{ hash.Hash }

// TestKDFSavedStates checks the kdf's HMACs against crypto/hmac when keys
// of the same length alternate (the saved pad states must follow the key),
// with keys too long to be saved, and with a hash whose state cannot be
// saved.
func TestKDFSavedStates(t *testing.T) {
	hashes := []func() hash.Hash{sha256.New, sha512.New384,
		func() hash.Hash { return plainHash{sha256.New()} }}
	for hi, h := range hashes {
		f := newKDF(h)
		if f.saving != (hi < 2) {
			t.Fatalf("hash %d: saving = %v", hi, f.saving)
		}
		for i := range 12 {
			n := 48
			if i%4 == 3 {
				n = 300 // longer than the saved key
			}
			key := bytes.Repeat([]byte{byte(i / 2 % 3)}, n) // each key twice in a row
			mac := hmac.New(h, key)
			mac.Write([]byte("label"))
			mac.Write([]byte("seed"))
			want := mac.Sum(nil)
			if got := f.hmac(key, nil, []byte("label"), []byte("seed")); !bytes.Equal(got, want) {
				t.Errorf("hash %d, call %d (key of %d bytes): got %x, want %x", hi, i, n, got, want)
			}
		}
	}
}
