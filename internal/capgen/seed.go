package capgen

import (
	cryptorand "crypto/rand"
	"encoding/binary"
	"math/rand"
	randv2 "math/rand/v2"
	"sync"
)

// SeedGlobalRandom makes crypto/rand and math/rand deterministic, so that the
// libraries' handshake keys and masking keys are the same on every run. It
// replaces process-wide state and is meant for generator programs only (use
// it as GenerateOptions.Reseed); tests use testing/cryptotest instead, which
// installs the same crypto/rand stream. The program must be built with
// `//go:debug randseednop=0` for math/rand.Seed to take effect.
func SeedGlobalRandom(seed uint64) {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:8], seed)
	cryptorand.Reader = &lockedReader{r: randv2.NewChaCha8(s)}
	//lint:ignore SA1019 deliberate: gorilla masks with the global math/rand source
	rand.Seed(int64(seed))
}

// lockedReader serialises reads of a ChaCha8 stream.
type lockedReader struct {
	mu sync.Mutex
	r  *randv2.ChaCha8
}

// Read fills b from the stream.
func (l *lockedReader) Read(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(b)
}
