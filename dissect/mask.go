package dissect

import "encoding/binary"

// maskBytes XORs b in place with the masking key, starting at payload
// position pos (RFC 6455 section 5.3). Masking and unmasking are the same.
func maskBytes(b []byte, key [4]byte, pos uint64) {
	var k [4]byte
	for i := range 4 {
		k[i] = key[(pos+uint64(i))&3]
	}
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
