package cmd

import (
	"errors"
	"syscall"
)

// isBrokenPipe reports whether err is EPIPE (the reader, e.g. head, went away).
func isBrokenPipe(err error) bool { return errors.Is(err, syscall.EPIPE) }
