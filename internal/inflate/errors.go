package inflate

import (
	"errors"
	"strconv"
)

// Sentinel errors. Decoding failures are reported as *Error values that wrap
// ErrCorrupt or ErrDistance; ErrLimit is returned as is.
var (
	// ErrCorrupt reports input that is not valid DEFLATE data.
	ErrCorrupt = errors.New("inflate: corrupt input")
	// ErrDistance reports a back-reference that reaches further back than
	// the window or than the history available (for example, the start of
	// a stream whose earlier context was never seen).
	ErrDistance = errors.New("inflate: back-reference beyond available history")
	// ErrLimit reports that producing more output would exceed the limit
	// passed to Append or Discard.
	ErrLimit = errors.New("inflate: output limit reached")
)

// Error describes a decoding failure at a position in the input.
type Error struct {
	// Offset is the byte offset, counted over all input fed since the last
	// Reset (bytes left unread by ErrLimit count once, when fed again), of
	// the element that is bad: the block header for malformed
	// headers and code tables, the code for bad symbols and distances, the
	// LEN field for a stored block whose LEN and NLEN disagree.
	Offset int64
	// Reason is a short human-readable description of the problem.
	Reason string
	// Err is ErrCorrupt or ErrDistance.
	Err error
}

// Error implements the error interface.
func (e *Error) Error() string {
	return e.Err.Error() + " at offset " + strconv.FormatInt(e.Offset, 10) + ": " + e.Reason
}

// Unwrap returns the sentinel (ErrCorrupt or ErrDistance) that e wraps.
func (e *Error) Unwrap() error { return e.Err }
