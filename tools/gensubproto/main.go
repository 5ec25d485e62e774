// Command gensubproto writes the pcap captures and truth files of the
// application-protocol recordings in testdata/subproto (see
// internal/subprotogen):
//
//	go run ./tools/gensubproto -dir testdata/subproto
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wsdissect/wsdissect/internal/subprotogen"
)

func main() {
	dir := flag.String("dir", "testdata/subproto", "directory of the recordings and output")
	flag.Parse()
	outs, err := subprotogen.Build(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gensubproto:", err)
		os.Exit(1)
	}
	for _, o := range outs {
		if err := os.WriteFile(filepath.Join(*dir, o.Name), o.Data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gensubproto:", err)
			os.Exit(1)
		}
		fmt.Printf("%-24s %7d bytes\n", o.Name, len(o.Data))
	}
}
