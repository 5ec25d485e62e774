package tlsdecrypt

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/binary"
	"slices"
)

// Record size limits (RFC 8446 section 5.2, RFC 5246 section 6.2.3).
const (
	maxPlain    = 1 << 14
	maxRecord   = maxPlain + 2048
	minRecord13 = 17 // inner type byte and the tag
)

// plausibleHeader reports whether h (5 bytes) can start a TLS record.
func plausibleHeader(h []byte) bool {
	if h[0] < 20 || h[0] > 24 || h[1] != 3 || h[2] > 4 {
		return false
	}
	n := int(h[3])<<8 | int(h[4])
	return n > 0 && n <= maxRecord
}

// xorNonce sets k.nonce to the IV XOR the sequence number (TLS 1.3, and
// TLS 1.2 ChaCha20-Poly1305).
func (k *recordKeys) xorNonce(seq uint64) {
	k.nonce = k.iv
	binary.BigEndian.PutUint64(k.nonce[4:], binary.BigEndian.Uint64(k.iv[4:])^seq)
}

// open decrypts and authenticates one record with sequence number seq into
// dst (which must not overlap body). It returns the plaintext and the
// content type (for TLS 1.3 the inner type, padding removed).
func (k *recordKeys) open(dst, hdr, body []byte, seq uint64, tls13, etm bool) ([]byte, byte, bool) {
	if k == nil || !k.ready() {
		return nil, 0, false
	}
	if tls13 {
		if len(body) < minRecord13 {
			return nil, 0, false
		}
		k.xorNonce(seq)
		pt, err := k.aead.Open(dst, k.nonce[:], body, hdr)
		if err != nil {
			return nil, 0, false
		}
		j := len(pt) - 1
		for j >= 0 && pt[j] == 0 {
			j--
		}
		if j < 0 {
			return nil, 0, false
		}
		return pt[:j], pt[j], true
	}
	typ := hdr[0]
	binary.BigEndian.PutUint64(k.aad[:8], seq)
	k.aad[8], k.aad[9], k.aad[10] = typ, hdr[1], hdr[2]
	switch k.s.kind {
	case kindGCM:
		if len(body) < 8+16 {
			return nil, 0, false
		}
		copy(k.nonce[:4], k.iv[:4])
		copy(k.nonce[4:], body[:8])
		n := len(body) - 8 - 16
		k.aad[11], k.aad[12] = byte(n>>8), byte(n)
		pt, err := k.aead.Open(dst, k.nonce[:], body[8:], k.aad[:])
		return pt, typ, err == nil
	case kindChaCha:
		if len(body) < 16 {
			return nil, 0, false
		}
		k.xorNonce(seq)
		n := len(body) - 16
		k.aad[11], k.aad[12] = byte(n>>8), byte(n)
		pt, err := k.aead.Open(dst, k.nonce[:], body, k.aad[:])
		return pt, typ, err == nil
	case kindCBC:
		return k.openCBC(dst, body, typ, etm)
	}
	return nil, 0, false
}

// openCBC handles AES-CBC records with an explicit IV, MAC-then-encrypt or
// encrypt-then-MAC (RFC 7366). k.aad holds seq, type and version.
func (k *recordKeys) openCBC(dst, body []byte, typ byte, etm bool) ([]byte, byte, bool) {
	const bs = 16
	ml := k.s.macLen
	if etm {
		if len(body) < bs+bs+ml || (len(body)-ml)%bs != 0 {
			return nil, 0, false
		}
		ct := body[:len(body)-ml]
		n := len(ct)
		k.aad[11], k.aad[12] = byte(n>>8), byte(n)
		k.mac.Reset()
		k.mac.Write(k.aad[:])
		k.mac.Write(ct)
		k.macBuf = k.mac.Sum(k.macBuf[:0])
		if !hmac.Equal(k.macBuf, body[len(body)-ml:]) {
			return nil, 0, false
		}
		pt := k.cbcDecrypt(dst, ct)
		pad := int(pt[len(pt)-1])
		if pad+1 > len(pt) || !padOK(pt[len(pt)-1-pad:]) {
			return nil, 0, false
		}
		return pt[:len(pt)-1-pad], typ, true
	}
	if len(body) < bs+bs || len(body)%bs != 0 {
		return nil, 0, false
	}
	pt := k.cbcDecrypt(dst, body)
	pad := int(pt[len(pt)-1])
	if pad+1+ml > len(pt) || !padOK(pt[len(pt)-1-pad:]) {
		return nil, 0, false
	}
	pt = pt[:len(pt)-1-pad]
	data, mac := pt[:len(pt)-ml], pt[len(pt)-ml:]
	n := len(data)
	k.aad[11], k.aad[12] = byte(n>>8), byte(n)
	k.mac.Reset()
	k.mac.Write(k.aad[:])
	k.mac.Write(data)
	k.macBuf = k.mac.Sum(k.macBuf[:0])
	if !hmac.Equal(k.macBuf, mac) {
		return nil, 0, false
	}
	return data, typ, true
}

// cbcDecrypt decrypts IV||ciphertext into dst and returns the plaintext.
func (k *recordKeys) cbcDecrypt(dst, ivct []byte) []byte {
	ct := ivct[16:]
	dst = slices.Grow(dst[:0], len(ct))[:len(ct)]
	k.cbc.SetIV(ivct[:16])
	k.cbc.CryptBlocks(dst, ct)
	return dst
}

// padOK reports whether every byte of p (the padding and its length byte)
// equals the length byte.
func padOK(p []byte) bool {
	want := p[len(p)-1]
	var bad byte
	for _, b := range p {
		bad |= b ^ want
	}
	return subtle.ConstantTimeByteEq(bad, 0) == 1
}
