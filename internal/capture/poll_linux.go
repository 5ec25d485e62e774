package capture

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/wsdissect/wsdissect/source"
)

// anySupported says whether the "any" pseudo-interface works without
// libpcap (the AF_PACKET fallback synthesises cooked headers).
const anySupported = true

// pollIn waits until the descriptor in fds is readable or timeout passes. An
// interrupted poll counts as a timeout; the caller simply tries again.
func pollIn(fds []unix.PollFd, timeout time.Duration) error {
	fds[0].Revents = 0
	_, err := unix.Poll(fds, int(timeout/time.Millisecond))
	if err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("poll: %w", err)
	}
	if fds[0].Revents&unix.POLLNVAL != 0 {
		return errors.New("poll: capture descriptor closed")
	}
	return nil
}

// linkTypeFromDLT maps a libpcap DLT_ value, as pcap_datalink returns it on
// Linux, to the LINKTYPE_ value stored in capture files. The two differ only
// for a few historical values; unknown ones pass through unchanged.
func linkTypeFromDLT(dlt int) source.LinkType {
	switch dlt {
	case 12, 14: // DLT_RAW (12 on Linux, 14 on OpenBSD)
		return source.LinkRaw
	}
	if dlt < 0 || dlt > 0xffff {
		return source.LinkType(0xffff)
	}
	return source.LinkType(dlt)
}
