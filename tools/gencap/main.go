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
	"flag"
	"fmt"
	"os"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

func main() {
	out := flag.String("out", "testdata", "output directory")
	flag.Parse()
	outs, err := capgen.Generate(context.Background(), *out, capgen.GenerateOptions{Reseed: capgen.SeedGlobalRandom})
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
