package tlsdecrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding"
	"encoding/binary"
	"fmt"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// Versions.
const (
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// VersionName returns "TLS 1.2", "TLS 1.3", ... or the number in hex.
func VersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case VersionTLS10:
		return "TLS 1.0"
	case VersionTLS11:
		return "TLS 1.1"
	case VersionTLS12:
		return "TLS 1.2"
	case VersionTLS13:
		return "TLS 1.3"
	case 0:
		return ""
	}
	return fmt.Sprintf("0x%04x", v)
}

type cipherKind uint8

const (
	kindGCM cipherKind = iota + 1
	kindChaCha
	kindCBC
)

// suite describes a cipher suite this package can decrypt.
type suite struct {
	id      uint16
	name    string
	tls13   bool
	kind    cipherKind
	keyLen  int
	hash    func() hash.Hash // PRF / HKDF hash
	hashLen int              // its output size
	mac     func() hash.Hash // CBC suites' record MAC
	macLen  int
}

var suites = func() map[uint16]*suite {
	m := map[uint16]*suite{}
	add := func(id uint16, name string, tls13 bool, kind cipherKind, keyLen int, h func() hash.Hash, mac func() hash.Hash, macLen int) {
		m[id] = &suite{id: id, name: name, tls13: tls13, kind: kind, keyLen: keyLen, hash: h, hashLen: h().Size(), mac: mac, macLen: macLen}
	}
	add(0x1301, "TLS_AES_128_GCM_SHA256", true, kindGCM, 16, sha256.New, nil, 0)
	add(0x1302, "TLS_AES_256_GCM_SHA384", true, kindGCM, 32, sha512.New384, nil, 0)
	add(0x1303, "TLS_CHACHA20_POLY1305_SHA256", true, kindChaCha, 32, sha256.New, nil, 0)
	for _, g := range []struct {
		id   uint16
		name string
		big  bool
	}{
		{0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", false}, {0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", true},
		{0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", false}, {0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", true},
		{0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", false}, {0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", true},
		{0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", false}, {0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", true},
	} {
		if g.big {
			add(g.id, g.name, false, kindGCM, 32, sha512.New384, nil, 0)
		} else {
			add(g.id, g.name, false, kindGCM, 16, sha256.New, nil, 0)
		}
	}
	add(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, kindChaCha, 32, sha256.New, nil, 0)
	add(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", false, kindChaCha, 32, sha256.New, nil, 0)
	add(0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", false, kindChaCha, 32, sha256.New, nil, 0)
	cbc := []struct {
		id     uint16
		name   string
		keyLen int
		mac    func() hash.Hash
		macLen int
		prf    func() hash.Hash
	}{
		{0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", 16, sha1.New, 20, sha256.New},
		{0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", 32, sha1.New, 20, sha256.New},
		{0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, 32, sha256.New},
		{0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", 32, sha256.New, 32, sha256.New},
		{0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", 16, sha1.New, 20, sha256.New},
		{0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", 32, sha1.New, 20, sha256.New},
		{0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, 32, sha256.New},
		{0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", 32, sha256.New, 32, sha256.New},
		{0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 16, sha1.New, 20, sha256.New},
		{0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 32, sha1.New, 20, sha256.New},
		{0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 16, sha1.New, 20, sha256.New},
		{0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 32, sha1.New, 20, sha256.New},
		{0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, 32, sha256.New},
		{0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", 32, sha512.New384, 48, sha512.New384},
		{0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 16, sha256.New, 32, sha256.New},
		{0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", 32, sha512.New384, 48, sha512.New384},
	}
	for _, c := range cbc {
		add(c.id, c.name, false, kindCBC, c.keyLen, c.prf, c.mac, c.macLen)
	}
	return m
}()

// CipherSuiteName returns the IANA name of a cipher suite this package
// knows, or "0x…" for others.
func CipherSuiteName(id uint16) string {
	if s, ok := suites[id]; ok {
		return s.name
	}
	return fmt.Sprintf("0x%04X", id)
}

// kdf derives keys (TLS 1.3's HKDF-Expand-Label, TLS 1.2's PRF) with HMACs
// computed on reusable digests: crypto/hkdf and crypto/hmac key new digests
// for every call, and allocating them cost a TLS 1.3 connection (four key
// and IV pairs) more than the rest of its handshake. A Scratch keeps one per
// hash for the sessions that share it. It is not safe for concurrent use.
//
// Every HMAC under one key starts with the same two blocks, the key XOR
// ipad and the key XOR opad. The kdf hashes them once per key and saves the
// digests' states after them (when the hash can marshal its state, as the
// standard library's do), so that each further HMAC under that key costs
// only the blocks of its message: a TLS 1.3 secret yields its key and IV
// in 6 compressions instead of 8, a TLS 1.2 AES-128-GCM key block in 13
// instead of 23 (with SHA-256).
type kdf struct {
	inner, outer hash.Hash
	block, size  int
	// The saved states, when the digests support it (saving is false
	// otherwise, and every HMAC hashes its pads).
	saving         bool
	innerU, outerU encoding.BinaryUnmarshaler
	innerA, outerA encoding.BinaryAppender
	keyed          bool      // innerState and outerState are those of key[:keyLen]
	keyLen         int       // length of the key the states belong to
	key            [256]byte // that key, when it is at most 256 bytes
	innerState     [256]byte // inner digest state after key XOR ipad
	outerState     [256]byte // outer digest state after key XOR opad
	innerLen       int
	outerLen       int

	pad [128]byte // the key XOR ipad or opad
	sum [64]byte  // the inner hash; a long key's hash
	buf [128]byte // TLS 1.3 label info; TLS 1.2 label and seed
	a   [64]byte  // TLS 1.2 PRF: A(i)
	out [256]byte // TLS 1.2 key block; TLS 1.3 HMAC output
}

// newKDF returns a kdf for the hash h.
func newKDF(h func() hash.Hash) *kdf {
	k := &kdf{inner: h(), outer: h()}
	k.block, k.size = k.inner.BlockSize(), k.inner.Size()
	var ok [4]bool
	k.innerU, ok[0] = k.inner.(encoding.BinaryUnmarshaler)
	k.outerU, ok[1] = k.outer.(encoding.BinaryUnmarshaler)
	k.innerA, ok[2] = k.inner.(encoding.BinaryAppender)
	k.outerA, ok[3] = k.outer.(encoding.BinaryAppender)
	k.saving = ok[0] && ok[1] && ok[2] && ok[3]
	return k
}

// setKey makes key the HMAC key of the following hmac calls: it hashes the
// pads and saves the digests' states, unless they are key's already.
func (k *kdf) setKey(key []byte) {
	if !k.saving {
		return
	}
	if k.keyed && k.keyLen == len(key) && string(k.key[:k.keyLen]) == string(key) {
		return
	}
	k.keyed = false
	if len(key) > len(k.key) {
		return // not saved: hmac hashes the pads itself
	}
	k.startPads(key)
	is, err1 := k.innerA.AppendBinary(k.innerState[:0])
	os, err2 := k.outerA.AppendBinary(k.outerState[:0])
	if err1 != nil || err2 != nil || len(is) > len(k.innerState) || len(os) > len(k.outerState) {
		return // the states did not fit (or would not marshal): not saved
	}
	k.innerLen, k.outerLen = len(is), len(os)
	k.keyLen = copy(k.key[:], key)
	k.keyed = true
}

// startPads resets both digests and writes the key XOR ipad into the
// inner one and the key XOR opad into the outer one (RFC 2104).
func (k *kdf) startPads(key []byte) {
	if len(key) > k.block {
		k.inner.Reset()
		k.inner.Write(key)
		key = k.inner.Sum(k.sum[:0])
	}
	clear(k.pad[:k.block])
	copy(k.pad[:], key)
	xorPad(k.pad[:k.block], 0x36)
	k.inner.Reset()
	k.inner.Write(k.pad[:k.block])
	xorPad(k.pad[:k.block], 0x36^0x5c)
	k.outer.Reset()
	k.outer.Write(k.pad[:k.block])
}

// xorPad XORs every byte of p (a hash block: a multiple of 8 bytes) with c.
func xorPad(p []byte, c byte) {
	m := uint64(c) * 0x0101010101010101
	for i := 0; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^m)
	}
}

// hmac appends HMAC(key, m1 || m2) to dst (RFC 2104). dst may share
// memory with m1 or m2: they are read before dst is written.
func (k *kdf) hmac(key, dst, m1, m2 []byte) []byte {
	k.setKey(key)
	if k.keyed {
		// The states were saved by the kdf's own digests, for this key:
		// restoring them cannot fail.
		_ = k.innerU.UnmarshalBinary(k.innerState[:k.innerLen])
		_ = k.outerU.UnmarshalBinary(k.outerState[:k.outerLen])
	} else {
		k.startPads(key)
	}
	k.inner.Write(m1)
	k.inner.Write(m2)
	k.outer.Write(k.inner.Sum(k.sum[:0]))
	return k.outer.Sum(dst)
}

// expandLabel appends HKDF-Expand-Label(secret, label, "", n) to dst. Every
// TLS 1.3 key, IV and secret is no longer than the hash, so HKDF-Expand is
// one HMAC of the label info and the counter 1 (RFC 5869).
func (k *kdf) expandLabel(secret []byte, label string, n int, dst []byte) []byte {
	if n > k.size || len(label) > 64 {
		panic("tlsdecrypt: HKDF-Expand-Label output longer than the hash")
	}
	info := append(k.buf[:0], byte(n>>8), byte(n), byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0, 1) // the empty context, then HKDF's counter
	return append(dst, k.hmac(secret, k.out[:0], info, nil)[:n]...)
}

// prf12 is the TLS 1.2 PRF (RFC 5246 section 5) with the kdf's hash, for
// at most 192 bytes. The result is only valid until the next call.
func (k *kdf) prf12(secret []byte, label string, seed []byte, n int) []byte {
	if n > len(k.out)-k.size || len(label)+len(seed) > len(k.buf) {
		panic("tlsdecrypt: TLS 1.2 PRF output or seed too long")
	}
	ls := append(append(k.buf[:0], label...), seed...)
	a := k.hmac(secret, k.a[:0], ls, nil)
	out := k.out[:0]
	for {
		out = k.hmac(secret, out, a, ls)
		if len(out) >= n {
			return out[:n]
		}
		a = k.hmac(secret, k.a[:0], a, nil)
	}
}

// cbcMode is a CBC decrypter whose IV can be reset (crypto/cipher's can).
type cbcMode interface {
	cipher.BlockMode
	SetIV([]byte)
}

// recordKeys protect one direction's records. A Session keeps its keys in
// slots of its own, reused from connection to connection; the cipher
// objects (crypto/aes and crypto/cipher's cannot be re-keyed) are built
// when the first record needs them, so that keys no record uses (0-RTT
// keys of rejected early data, a connection cut short) cost only their
// derivation.
type recordKeys struct {
	s      *suite
	aead   cipher.AEAD // AEAD suites, once built
	cbc    cbcMode     // CBC suites, once built
	mac    hash.Hash   // CBC suites' record MAC, once built
	macBuf []byte
	key    [32]byte
	macKey [48]byte // CBC suites
	iv     [12]byte // TLS 1.3 and ChaCha: full nonce IV; TLS 1.2 GCM: 4-byte salt
	nonce  [12]byte // per-record nonce (a field, so it does not escape per call)
	aad    [13]byte // TLS 1.2 additional data
	seq    uint64
	secret []byte // TLS 1.3 traffic secret, for KeyUpdate
}

// ready builds k's cipher objects unless they are built; it reports
// whether k can open records.
func (k *recordKeys) ready() bool {
	if k.aead != nil || k.cbc != nil {
		return true
	}
	key := k.key[:k.s.keyLen]
	switch k.s.kind {
	case kindChaCha:
		a, err := chacha20poly1305.New(key)
		if err != nil {
			return false
		}
		k.aead = a
	case kindGCM:
		b, err := aes.NewCipher(key)
		if err != nil {
			return false
		}
		a, err := cipher.NewGCM(b)
		if err != nil {
			return false
		}
		k.aead = a
	case kindCBC:
		b, err := aes.NewCipher(key)
		if err != nil {
			return false
		}
		var zero [16]byte
		cm, ok := cipher.NewCBCDecrypter(b, zero[:]).(cbcMode)
		if !ok {
			return false // crypto/cipher's decrypter can reset its IV
		}
		k.cbc = cm
		k.mac = hmac.New(k.s.mac, k.macKey[:k.s.macLen])
		k.macBuf = make([]byte, 0, k.s.macLen)
	default:
		return false
	}
	return true
}

// set13 makes k the TLS 1.3 record keys of a traffic secret, derived
// with f, a kdf for the suite's hash. The cipher objects are built by
// ready.
func (k *recordKeys) set13(f *kdf, s *suite, secret []byte) {
	*k = recordKeys{s: s, secret: secret}
	f.expandLabel(secret, "key", s.keyLen, k.key[:0])
	f.expandLabel(secret, "iv", 12, k.iv[:0])
}

// nextSecret13 is the KeyUpdate step of a TLS 1.3 traffic secret.
func nextSecret13(f *kdf, secret []byte) []byte {
	return f.expandLabel(secret, "traffic upd", f.size, nil)
}

// set12 makes client and server both directions' TLS 1.2 record keys,
// derived from the master secret with f, a kdf for the suite's PRF hash.
// The cipher objects are built by ready.
func set12(f *kdf, s *suite, master []byte, clientRandom, serverRandom [32]byte, client, server *recordKeys) {
	var seed [64]byte
	copy(seed[:32], serverRandom[:])
	copy(seed[32:], clientRandom[:])
	ivLen := 0
	switch s.kind {
	case kindGCM:
		ivLen = 4
	case kindChaCha:
		ivLen = 12
	}
	n := 2*s.macLen + 2*s.keyLen + 2*ivLen
	kb := f.prf12(master, "key expansion", seed[:], n)
	for i, k := range [2]*recordKeys{client, server} {
		*k = recordKeys{s: s}
		copy(k.macKey[:], kb[i*s.macLen:(i+1)*s.macLen])
		ks := kb[2*s.macLen:]
		copy(k.key[:], ks[i*s.keyLen:(i+1)*s.keyLen])
		ivs := ks[2*s.keyLen:]
		copy(k.iv[:], ivs[i*ivLen:(i+1)*ivLen])
	}
}
