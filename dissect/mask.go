package dissect

import (
	"encoding/binary"
	"math/bits"
)

// maskBytes XORs b in place with the masking key, starting at payload
// position pos (RFC 6455 section 5.3). Masking and unmasking are the same.
func maskBytes(b []byte, key [4]byte, pos uint64) {
	k := keyAt(key, pos)
	if len(b) >= 16 {
		k32 := binary.LittleEndian.Uint32(k[:])
		k64 := uint64(k32) | uint64(k32)<<32
		for len(b) >= 8 {
			v := binary.LittleEndian.Uint64(b) ^ k64
			binary.LittleEndian.PutUint64(b, v)
			b = b[8:]
		}
	}
	for i := range b {
		b[i] ^= k[i&3]
	}
}

// keyAt returns the masking key turned to payload position pos: its byte i
// masks the payload byte at pos+i.
func keyAt(key [4]byte, pos uint64) [4]byte {
	return [4]byte{key[pos&3], key[(pos+1)&3], key[(pos+2)&3], key[(pos+3)&3]}
}

// maskedASCIILen returns the length of the prefix of b, masked with key from
// payload position pos, whose unmasked bytes are ASCII. b is not changed.
func maskedASCIILen(b []byte, key [4]byte, pos uint64) int {
	const high = 0x8080808080808080 // each byte's top bit
	// k's byte i masks the payload byte at pos+i, and at pos+i+4.
	kb := keyAt(key, pos)
	k := uint64(binary.LittleEndian.Uint32(kb[:]))
	k |= k << 32
	q := b[:len(b):len(b)]
	for len(q) >= 32 {
		if ((word(q[0:8])^k)|(word(q[8:16])^k)|(word(q[16:24])^k)|(word(q[24:32])^k))&high != 0 {
			break
		}
		q = q[32:]
	}
	for len(q) >= 8 {
		if m := (word(q[:8]) ^ k) & high; m != 0 {
			return len(b) - len(q) + bits.TrailingZeros64(m)>>3
		}
		q = q[8:]
	}
	if len(q) > 0 && len(b) >= 8 {
		// The last bytes, in one word that overlaps bytes found ASCII
		// already, masked by k turned to the word's offset.
		at := len(b) - 8
		if m := (word(b[at:]) ^ bits.RotateLeft64(k, -8*(at&3))) & high; m != 0 {
			return at + bits.TrailingZeros64(m)>>3
		}
		return len(b)
	}
	for i, c := range q {
		if c^kb[(len(b)-len(q)+i)&3] >= 0x80 {
			return len(b) - len(q) + i
		}
	}
	return len(b)
}
