package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/render"
)

// Exit codes beyond those in root.go, documented in README.md.
const (
	// ExitOutput: the output could not be written (a full disk, a closed
	// file); a reader that closes a pipe (head) is not an error.
	ExitOutput = 4
	// ExitInterrupted: read was stopped by SIGINT (128 + 2), after printing
	// every whole record decoded so far.
	ExitInterrupted = 130
	// ExitTerminated: read was stopped by SIGTERM (128 + 15).
	ExitTerminated = 143
)

// stopper is something a signal can stop (a capture being read).
type stopper interface{ Stop() }

// interrupt turns SIGINT and SIGTERM into a clean stop of the current
// input: the reader ends at a packet boundary, the records decoded so far
// are written out whole, and the command exits with 128 + the signal's
// number. A second signal kills the process as usual.
type interrupt struct {
	mu   sync.Mutex
	sig  os.Signal
	cur  stopper
	ch   chan os.Signal
	done chan struct{}
}

// catchSignals starts catching SIGINT and SIGTERM; release stops it.
func catchSignals() *interrupt {
	in := &interrupt{ch: make(chan os.Signal, 1), done: make(chan struct{})}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-in.ch:
			// The next signal gets the default action (ends the process).
			signal.Reset(os.Interrupt, syscall.SIGTERM)
			in.mu.Lock()
			in.sig = s
			cur := in.cur
			in.mu.Unlock()
			if cur != nil {
				cur.Stop()
			}
		case <-in.done:
		}
	}()
	return in
}

// watch makes a signal stop s (stopping it at once when one already came).
func (in *interrupt) watch(s stopper) {
	in.mu.Lock()
	in.cur = s
	sig := in.sig
	in.mu.Unlock()
	if sig != nil {
		s.Stop()
	}
}

// signal returns the signal that arrived, or nil.
func (in *interrupt) signal() os.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sig
}

// release stops catching signals.
func (in *interrupt) release() {
	signal.Stop(in.ch)
	close(in.done)
}

// exitCodeFor is the exit code for a stop by sig.
func exitCodeFor(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitInterrupted
}

// signalName names a signal as people know it.
func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// outWriter remembers the first error writing to the output, so that a
// failed write (a full disk) can be told apart from other errors of a run,
// whichever layer reports it.
type outWriter struct {
	w   io.Writer
	err error
}

// Write implements io.Writer.
func (o *outWriter) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil && o.err == nil {
		o.err = err
	}
	return n, err
}

// outputError turns a failed write to the output into the command's error:
// nothing (exit 0) when the reader went away (EPIPE: head), otherwise a
// message and ExitOutput.
func outputError(err error) error {
	if isBrokenPipe(err) || errors.Is(err, io.ErrClosedPipe) {
		return &exitError{code: ExitOK}
	}
	return &exitError{code: ExitOutput, err: fmt.Errorf("writing output: %w", err)}
}

// inputOf turns the engine's counters into the statistics' input counts.
func (a *app) inputOf(es engine.Stats, files uint64) render.Input {
	return render.Input{
		Files:               files,
		Packets:             es.Packets,
		TCP:                 es.TCP,
		Malformed:           es.Malformed,
		Decapsulated:        es.Decapsulated,
		Defragmented:        es.Defragmented,
		FragmentsDropped:    es.FragmentsDropped,
		UnsupportedLink:     es.UnsupportedLink,
		UnsupportedLinkType: uint32(es.UnsupportedLinkType),
		MessagesOnly:        a.out.messages,
	}
}

// statsLine is the one-line statistics printed on stderr when a run is
// stopped (Ctrl-C in live, a signal in read).
func statsLine(st *render.Stats) string {
	in := st.JSON()
	return fmt.Sprintf("%d packets; %s", in.Packets, st.Summary())
}

// writeStats writes the end-of-run statistics of -q: text, or one JSON
// object with --json.
func (a *app) writeStats(w io.Writer, st *render.Stats) error {
	if a.out.json {
		return st.WriteJSON(w)
	}
	_, err := st.WriteTo(w)
	return err
}
