package tlsdecrypt

import (
	"bytes"
	"crypto/tls"
	"testing"
)

// nopHandler discards plaintext.
type nopHandler struct{ n int }

func (h *nopHandler) Plaintext(_ Dir, b []byte) { h.n += len(b) }
func (h *nopHandler) Problem(Problem)           {}

// benchDecrypt replays the server's application records of one conversation
// after its handshake, over and over, with the sequence number rewound.
func benchDecrypt(b *testing.B, ver, suite uint16) {
	benchFeed(b, ver, suite, func(s *Session, rec []byte) { s.Feed(Server, rec) })
}

// benchDecryptSegmented is benchDecrypt with the records cut into TCP
// segments of 1448 bytes, as a capture delivers them: a record spans
// segments, and a segment holds the end of one record and the start of
// the next.
func benchDecryptSegmented(b *testing.B, ver, suite uint16) {
	benchFeed(b, ver, suite, func(s *Session, rec []byte) { feedSegments(s, rec, 1448) })
}

// benchFeed times feed handing the records to the session, the sequence
// number rewound before each round.
func benchFeed(b *testing.B, ver, suite uint16, feed func(s *Session, rec []byte)) {
	s, h, rec, seq := steadyState(b, ver, suite)
	d := &s.dirs[Server]
	b.SetBytes(int64(len(rec)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		d.keys.seq = seq
		feed(s, rec)
	}
	if h.n == 0 {
		b.Fatal("nothing decrypted")
	}
}

// feedSegments feeds b to the server direction of s in pieces of n bytes.
func feedSegments(s *Session, b []byte, n int) {
	for len(b) > 0 {
		k := min(n, len(b))
		s.Feed(Server, b[:k])
		b = b[k:]
	}
}

// TestSteadyStateAllocs checks that decrypting records costs no allocation
// once the buffers have grown.
func TestSteadyStateAllocs(t *testing.T) {
	for _, suite := range []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256} {
		s, h, rec, seq := steadyState(t, tls.VersionTLS12, suite)
		d := &s.dirs[Server]
		allocs := testing.AllocsPerRun(50, func() {
			d.keys.seq = seq
			s.Feed(Server, rec)
		})
		if allocs != 0 || h.n == 0 {
			t.Errorf("%s: %v allocations per run (%d bytes decrypted)", CipherSuiteName(suite), allocs, h.n)
		}
		allocs = testing.AllocsPerRun(50, func() {
			d.keys.seq = seq
			feedSegments(s, rec, 1448)
		})
		if allocs != 0 || len(d.in) != 0 {
			t.Errorf("%s, in segments: %v allocations per run (%d bytes held)", CipherSuiteName(suite), allocs, len(d.in))
		}
	}
}

// recordTLS records a Go crypto/tls conversation of version ver (and
// cipher suite suite, when not 0) and returns it with its key log.
func recordTLS(b testing.TB, ver, suite uint16) (conversation, *KeyLog) {
	var kl bytes.Buffer
	srv := &tls.Config{MaxVersion: ver}
	cli := &tls.Config{MaxVersion: ver}
	if suite != 0 {
		srv.CipherSuites, cli.CipherSuites = []uint16{suite}, []uint16{suite}
	}
	conv := runGoTLS(b, srv, cli, &kl)
	return conv, keyLogOf(b, kl.Bytes())
}

// steadyState returns a session past its handshake and whole server records
// to feed it again and again (rewinding the sequence number to seq).
func steadyState(b testing.TB, ver, suite uint16) (*Session, *nopHandler, []byte, uint64) {
	conv, keys := recordTLS(b, ver, suite)
	h := &nopHandler{}
	s := NewSession(keys, h)
	// Feed the handshake and the first application records, then loop
	// over the server's later records (cut at a record boundary).
	d := &s.dirs[Server]
	var rest []byte
	for _, p := range conv.pieces {
		if rest != nil {
			if p.dir == Server {
				rest = append(rest, p.data...)
			}
			continue
		}
		s.Feed(p.dir, p.data)
		if p.dir == Server && len(d.in) == 0 && h.n > 0 {
			rest = []byte{}
		}
	}
	i := 0
	for i+5 <= len(rest) {
		n := 5 + (int(rest[i+3])<<8 | int(rest[i+4]))
		if i+n > len(rest) {
			break
		}
		i += n
	}
	rec := rest[:i]
	if len(rec) == 0 {
		b.Fatal("no records to loop over")
	}
	seq := d.keys.seq
	s.Feed(Server, rec) // grow the buffers
	d.keys.seq = seq
	h.n = 0
	return s, h, rec, seq
}

func BenchmarkDecryptTLS13AESGCM(b *testing.B) { benchDecrypt(b, tls.VersionTLS13, 0) }
func BenchmarkDecryptTLS12AESGCM(b *testing.B) {
	benchDecrypt(b, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
}
func BenchmarkDecryptSegmentedTLS13AESGCM(b *testing.B) {
	benchDecryptSegmented(b, tls.VersionTLS13, 0)
}
func BenchmarkDecryptSegmentedTLS12AESGCM(b *testing.B) {
	benchDecryptSegmented(b, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
}
func BenchmarkDecryptTLS12ChaCha(b *testing.B) {
	benchDecrypt(b, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256)
}
func BenchmarkDecryptTLS12CBC(b *testing.B) {
	benchDecrypt(b, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA)
}

// BenchmarkKeys13 derives the record keys of one TLS 1.3 traffic secret and
// builds its AEAD, as every connection does four times (handshake and
// application, each way).
func BenchmarkKeys13(b *testing.B) { benchKeys13(b, true) }

// BenchmarkKeys12 derives both directions' TLS 1.2 record keys from a master
// secret and builds their AEADs, as every connection does once.
func BenchmarkKeys12(b *testing.B) {
	master := bytes.Repeat([]byte{7}, 48)
	f := newKDF(suites[0xC02F].hash)
	var c, s recordKeys
	b.ReportAllocs()
	for i := range b.N {
		master[0] = byte(i)
		set12(f, suites[0xC02F], master, [32]byte{1}, [32]byte{2}, &c, &s)
		if !c.ready() || !s.ready() {
			b.Fatal("no AEAD")
		}
	}
}

// BenchmarkDerive13 is BenchmarkKeys13 without building the AEAD: the key
// schedule alone.
func BenchmarkDerive13(b *testing.B) { benchKeys13(b, false) }

// benchKeys13 derives the record keys of a new TLS 1.3 traffic secret each
// time, as in a capture, and builds the AEAD when aead is set.
func benchKeys13(b *testing.B, aead bool) {
	secret := bytes.Repeat([]byte{7}, 32)
	f := newKDF(suites[0x1301].hash)
	var k recordKeys
	b.ReportAllocs()
	for i := range b.N {
		secret[0] = byte(i)
		k.set13(f, suites[0x1301], secret)
		if aead && !k.ready() {
			b.Fatal("no AEAD")
		}
	}
}

// benchHandshake decodes the handshake of a recorded conversation and its
// first application record with a reused Session, as the dissector does for
// every connection: the per-connection cost of TLS, key derivation
// included.
func benchHandshake(b *testing.B, ver, suite uint16) {
	conv, keys := recordTLS(b, ver, suite)
	h := &nopHandler{}
	s := NewSession(keys, h)
	n := 0 // pieces up to the first plaintext
	for _, p := range conv.pieces {
		n++
		if s.Feed(p.dir, p.data); h.n > 0 {
			break
		}
	}
	if h.n == 0 {
		b.Fatal("nothing decrypted")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.Reset(keys, h)
		for _, p := range conv.pieces[:n] {
			s.Feed(p.dir, p.data)
		}
	}
}

func BenchmarkHandshakeTLS13(b *testing.B) { benchHandshake(b, tls.VersionTLS13, 0) }
func BenchmarkHandshakeTLS12(b *testing.B) {
	benchHandshake(b, tls.VersionTLS12, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)
}
