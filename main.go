// Command wsdissect dissects WebSocket traffic (RFC 6455, RFC 7692) from packet
// captures and live interfaces.
package main

import (
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/wsdissect/wsdissect/cmd"
)

// gcPercent is the garbage collector's target used unless GOGC is set. The
// live heap of a run is small and flat (connection state, bounded buffers),
// so letting the heap grow to five times it before collecting costs a few
// tens of megabytes and saves most of the collector's work on captures with
// many short connections. When the live heap is large, read and live lower
// the percentage for as long as it is (membudget.GCPacer), so that garbage
// stays within a fixed headroom.
const gcPercent = 400

func main() {
	// A reader that goes away (head) makes writes fail with EPIPE, which
	// ends the run with exit code 0, instead of killing the process with
	// SIGPIPE (exit 141, a failure under set -o pipefail).
	signal.Ignore(syscall.SIGPIPE)
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(cmd.Execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
