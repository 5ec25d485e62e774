// Command genh2cap writes wsdissect's HTTP/2 test captures (testdata/h2c-*, audit-h2)
// with their truth files; see internal/h2cap. x/net/http2 reads
// GODEBUG=http2xconnect=1 only at start-up, so genh2cap runs itself again
// with it set when it is missing. With -hand it writes only the hand-built
// captures, which need neither.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"

	"github.com/wsdissect/wsdissect/internal/h2cap"
)

func main() {
	out := flag.String("out", "testdata", "directory to write the captures to")
	handOnly := flag.Bool("hand", false, "write only the hand-built captures (deterministic: no network, no recording)")
	flag.Parse()
	if !*handOnly && !h2cap.Enabled() {
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), "GODEBUG="+joinGODEBUG(os.Getenv("GODEBUG")))
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				os.Exit(ee.ExitCode())
			}
			fmt.Fprintln(os.Stderr, "genh2cap:", err)
			os.Exit(1)
		}
		return
	}
	outs, err := build(*handOnly)
	if err == nil {
		err = h2cap.Write(*out, outs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genh2cap:", err)
		os.Exit(1)
	}
	report(outs)
}

// build makes the hand-built captures, or all of them (h2c-hypercorn when
// python3 with hypercorn is there).
func build(handOnly bool) ([]h2cap.Output, error) {
	if handOnly {
		return h2cap.BuildHand()
	}
	outs, err := h2cap.Build(context.Background())
	if err != nil {
		return nil, err
	}
	switch hc, err := h2cap.BuildHypercorn(context.Background()); {
	case errors.Is(err, h2cap.ErrNoHypercorn):
		fmt.Fprintln(os.Stderr, "genh2cap: python3 with hypercorn not found; h2c-hypercorn not written")
	case err != nil:
		return nil, err
	default:
		outs = append(outs, hc)
	}
	return outs, nil
}

// report prints what was written.
func report(outs []h2cap.Output) {
	for _, o := range outs {
		fmt.Printf("%s: %d bytes, %d messages\n", o.Name, len(o.Pcap), len(o.Truth.Messages))
	}
}

// joinGODEBUG adds http2xconnect=1 to an existing GODEBUG value.
func joinGODEBUG(v string) string {
	if v == "" {
		return "http2xconnect=1"
	}
	return v + ",http2xconnect=1"
}
