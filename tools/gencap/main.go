//go:debug randseednop=0

// Command gencap writes wsdissect's test captures and their ground-truth
// files:
//
//	go run ./tools/gencap -out testdata
//
// Real-library captures are recorded from github.com/coder/websocket and
// github.com/gorilla/websocket peers talking over 127.0.0.1. To make them
// byte-identical on every run, gencap replaces the process's randomness
// before each recording with a seeded generator: crypto/rand.Reader (handshake
// keys, coder's masking keys) and math/rand's top-level source (gorilla's
// masking keys; the //go:debug randseednop=0 line makes math/rand.Seed work).
// The libraries' bytes are never altered.
package main

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/binary"
	"flag"
	"fmt"
	"math/rand"
	randv2 "math/rand/v2"
	"os"
	"sync"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

func main() {
	out := flag.String("out", "testdata", "output directory")
	flag.Parse()
	outs, err := capgen.Generate(context.Background(), *out, capgen.GenerateOptions{Reseed: reseed})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gencap:", err)
		os.Exit(1)
	}
	var total int
	for _, o := range outs {
		total += len(o.Data)
		fmt.Printf("%-36s %7d bytes\n", o.Name, len(o.Data))
	}
	fmt.Printf("%d captures, %d bytes\n", len(outs), total)
}

// reseed makes crypto/rand and math/rand deterministic. The crypto/rand
// stream is the one testing/cryptotest.SetGlobalRandom(t, seed) installs, so
// the capgen test regenerates identical files.
func reseed(seed uint64) {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:8], seed)
	cryptorand.Reader = &lockedReader{r: randv2.NewChaCha8(s)}
	rand.Seed(int64(seed)) //nolint:staticcheck // deliberate: gorilla masks with math/rand
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
