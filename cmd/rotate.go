package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/wsdissect/wsdissect/audit"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/source"
)

// sizedSource is a packet source that reports its progress.
type sizedSource interface {
	engine.PacketSource
	Size() int64
	Pos() int64
}

// readChain dissects several files as one capture continued from file to
// file (rotated captures), so connections and their deflate contexts
// carry over; packet numbers continue across the files.
func (a *app) readChain(files []string, opts engine.Options, ro render.Options, f *filter.Filter, acfg audit.Config) error {
	ch := source.NewChain(files, a.stdin)
	ch.Overlap = func(prev, name string) {
		fmt.Fprintf(a.stderr, "wsdissect: %s starts before %s ends: the files overlap in time (merge them with mergecap, or read them with --separate)\n", name, prev)
	}
	defer ch.Close()
	aud := a.readAuditor(acfg)
	runErr := a.readOne(ch, opts, ro, f, false, aud)
	if runErr == nil || errors.Is(runErr, source.ErrDamaged) {
		if err := a.writeReadFindings(aud, ro); err != nil && runErr == nil {
			runErr = err
		}
	}
	if runErr == nil {
		return nil
	}
	if errors.Is(runErr, source.ErrDamaged) {
		fmt.Fprintf(a.stderr, "wsdissect: %v (everything before the damage, and the files after it, were decoded)\n", runErr)
		return &exitError{code: ExitDamaged}
	}
	if errors.Is(runErr, io.ErrClosedPipe) || isBrokenPipe(runErr) {
		return &exitError{code: ExitOK}
	}
	if errors.Is(runErr, source.ErrNotCapture) {
		return usageErr(runErr)
	}
	return &exitError{code: ExitUsage, err: runErr}
}
