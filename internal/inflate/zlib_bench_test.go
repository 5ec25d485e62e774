//go:build zlib && cgo

package inflate

import (
	"bytes"
	"testing"

	"github.com/wsdissect/wsdissect/internal/inflate/zlibref"
)

// BenchmarkZlibMessages is BenchmarkMessages with zlib's inflate (through
// cgo) in place of ours: the same message streams, each payload plus
// 00 00 ff ff inflated with Z_SYNC_FLUSH by a raw inflate stream
// (inflateInit2(strm, -15)), reset per message without context takeover.
// It is the yardstick of issue #24 (ours at least 1.5x zlib's throughput);
// compare the same case of both, run alternately:
//
//	go test -tags zlib -run XXX -bench 'Messages|Zlib' -count 5 ./internal/inflate
//
// It needs cgo and zlib's headers and library (Debian: zlib1g-dev). A cgo
// call costs some tens of nanoseconds per message, a few percent of
// zlib's time at these sizes.
func BenchmarkZlibMessages(b *testing.B) {
	b.Logf("zlib %s", zlibref.Version())
	for _, tc := range messageCases() {
		b.Run(tc.name, func(b *testing.B) {
			s := tc.stream(b)
			z, err := zlibref.New(15)
			if err != nil {
				b.Fatal(err)
			}
			defer z.Close()
			dst := make([]byte, 0, 2*s.maxLen)
			// inflate runs the whole stream once; check tells it to compare
			// every message with what was sent.
			inflate := func(check bool) {
				if err := z.Reset(); err != nil {
					b.Fatal(err)
				}
				for i, p := range s.payloads {
					if !tc.takeover {
						if err := z.Reset(); err != nil {
							b.Fatal(err)
						}
					}
					if dst, err = z.Append(dst[:0], p); err != nil {
						b.Fatalf("message %d: %v", i, err)
					}
					if check && !bytes.Equal(dst, s.msgs[i]) {
						b.Fatalf("message %d: zlib's output differs", i)
					}
				}
			}
			inflate(true)
			b.SetBytes(int64(s.total))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				inflate(false)
			}
			b.StopTimer()
			s.report(b)
			if !bytes.Equal(dst, s.msgs[len(s.msgs)-1]) {
				b.Fatal("output differs")
			}
		})
	}
}
