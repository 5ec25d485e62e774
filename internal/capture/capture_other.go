//go:build !linux

package capture

import (
	"fmt"
	"runtime"
)

// anySupported says whether the "any" pseudo-interface works without libpcap.
const anySupported = false

func unsupported() error {
	return &userError{
		msg:  fmt.Sprintf("live capture is not supported on %s (only on Linux)", runtime.GOOS),
		kind: ErrUnsupported,
	}
}

func loadLibpcap() (pcapLib, error) { return nil, unsupported() }

func openAFPacket(Config) (capturer, error) { return nil, unsupported() }
