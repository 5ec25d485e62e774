// Package capture reads packets live from a network interface.
//
// The default build is pure Go: libpcap is loaded at run time (with purego,
// no cgo) when it is installed, which gives tcpdump's capture-filter syntax,
// the "any" pseudo-interface as Linux cooked capture v2 and the kernel's
// ring buffer. When libpcap cannot be loaded, capture falls back to a small
// AF_PACKET reader written with golang.org/x/sys/unix; it captures everything
// on the interface and so refuses a capture filter.
//
// Setting the environment variable WSDISSECT_NO_LIBPCAP=1 hides libpcap, as
// if it were not installed. It is a debugging switch for the fallback path.
//
// Building with -tags pcap_cgo uses github.com/gopacket/gopacket/pcap (cgo
// and the libpcap headers) instead of loading libpcap with purego.
package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsdissect/wsdissect/source"
)

// Defaults applied by Open to zero fields of Config.
const (
	// DefaultSnaplen is the snapshot length used when Config.Snaplen is 0,
	// as in tcpdump.
	DefaultSnaplen = 262144
	// BlockBufferKiB is the default kernel buffer outside immediate mode:
	// 32 MiB, about a quarter of a second of a fully used 1 Gbit/s link
	// (libpcap's own default of 2 MiB dropped packets at 1 Gbit/s on lo
	// while the sender shared the machine's two cores).
	BlockBufferKiB = 32 * 1024
	// DefaultTimeout is the poll granularity used when Config.Timeout is 0.
	DefaultTimeout = 100 * time.Millisecond
	// MaxTimeout caps Config.Timeout so that Next notices a cancelled
	// context promptly.
	MaxTimeout = 200 * time.Millisecond
	// fallbackBufferKiB is the socket buffer of the AF_PACKET fallback when
	// Config.BufferSize is 0.
	fallbackBufferKiB = 4096
)

// Backend names returned by Handle.Backend.
const (
	// BackendLibpcap is libpcap, loaded at run time or linked with cgo.
	BackendLibpcap = "libpcap"
	// BackendAFPacket is the pure-Go AF_PACKET fallback.
	BackendAFPacket = "afpacket"
)

// EnvNoLibpcap names the environment variable that, when set to anything but
// "" or "0", hides libpcap so that the AF_PACKET fallback is used.
const EnvNoLibpcap = "WSDISSECT_NO_LIBPCAP"

// Errors that Open's error wraps; the error's text is a full sentence meant
// for the user, errors.Is tells the cases apart.
var (
	// ErrPermission: the process may not capture (not root, no CAP_NET_RAW).
	ErrPermission = errors.New("capture permission denied")
	// ErrNoInterface: the interface does not exist.
	ErrNoInterface = errors.New("no such interface")
	// ErrNeedLibpcap: the request needs libpcap, which could not be loaded.
	ErrNeedLibpcap = errors.New("libpcap needed")
	// ErrBadFilter: libpcap rejected the capture filter.
	ErrBadFilter = errors.New("invalid capture filter")
	// ErrUnsupported: live capture is not available on this platform.
	ErrUnsupported = errors.New("live capture not supported")
)

// userError is an error whose text is one sentence for the user and that
// wraps a sentinel for errors.Is.
type userError struct {
	msg  string
	kind error
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.kind }

func permissionError(iface string) error {
	return &userError{
		msg: fmt.Sprintf("capturing on %s needs root or CAP_NET_RAW "+
			"(try: sudo setcap cap_net_raw,cap_net_admin=eip $(which wsdissect))", iface),
		kind: ErrPermission,
	}
}

// noInterfaceError builds the unknown-interface sentence; names are the
// interfaces that do exist.
func noInterfaceError(iface string, names []string) error {
	avail := strings.Join(names, ", ")
	if avail == "" {
		avail = "none"
	}
	return &userError{
		msg:  fmt.Sprintf("no interface %q; available: %s", iface, avail),
		kind: ErrNoInterface,
	}
}

func needLibpcapError(what string) error {
	return &userError{
		msg:  what + " needs libpcap at run time (apt install libpcap0.8)",
		kind: ErrNeedLibpcap,
	}
}

func badFilterError(filter, msg string) error {
	return &userError{
		msg:  fmt.Sprintf("invalid capture filter %q: %s", filter, msg),
		kind: ErrBadFilter,
	}
}

// Config says what to capture and how.
type Config struct {
	// Interface is the interface to capture on (tcpdump's -i). "any"
	// captures on all interfaces (Linux cooked capture).
	Interface string
	// Filter is a capture filter in tcpdump's syntax, compiled by libpcap.
	// Empty (or blank) captures everything.
	Filter string
	// Snaplen is the most bytes kept of each packet (-s); 0 means
	// DefaultSnaplen.
	Snaplen int
	// Promisc puts the interface in promiscuous mode. The zero value does
	// not; the command line sets it unless -p is given (DefaultConfig does).
	Promisc bool
	// BufferSize is the kernel capture buffer in KiB, as tcpdump's -B. 0
	// picks a default: BlockBufferKiB, or in immediate mode libpcap's 2 MiB
	// raised so that the ring holds at least 256 packets of the interface's
	// MTU (32 MiB on lo, whose MTU is 64 KiB); 4 MiB of socket buffer for
	// the AF_PACKET fallback.
	BufferSize int
	// Immediate delivers every packet as soon as it arrives (libpcap's
	// immediate mode), for a person watching. Otherwise the kernel hands
	// packets over in blocks, at the latest after Timeout: each packet
	// takes only its own size in the ring instead of a frame of the
	// interface's MTU, and the capture keeps up with far higher rates (on
	// lo, 64 KiB frames let a 32 MiB ring hold just 256 packets, a few
	// milliseconds of a busy link).
	Immediate bool
	// Timeout is how long Next waits in one poll before it looks at its
	// context again; 0 means DefaultTimeout, and it is capped at MaxTimeout.
	Timeout time.Duration

	// noLibpcap hides libpcap, like EnvNoLibpcap; for tests.
	noLibpcap bool
}

// DefaultConfig returns the configuration tcpdump would use for iface:
// default snaplen, promiscuous mode, the default buffer size, and
// DefaultTimeout.
func DefaultConfig(iface string) Config {
	return Config{Interface: iface, Snaplen: DefaultSnaplen, Promisc: true, Timeout: DefaultTimeout}
}

// normalize applies the defaults and rejects impossible values.
func (c Config) normalize() (Config, error) {
	c.Filter = strings.TrimSpace(c.Filter)
	if c.Interface == "" {
		return c, errors.New("no capture interface given (use -i; -D lists the interfaces)")
	}
	if c.Snaplen < 0 {
		return c, fmt.Errorf("invalid snapshot length %d: must be positive", c.Snaplen)
	}
	if c.Snaplen == 0 {
		c.Snaplen = DefaultSnaplen
	}
	if c.BufferSize < 0 {
		return c, fmt.Errorf("invalid buffer size %d KiB: must be positive", c.BufferSize)
	}
	if c.BufferSize > 1<<21 { // 2 GiB: the kernel's int limit
		return c, fmt.Errorf("invalid buffer size %d KiB: at most %d", c.BufferSize, 1<<21)
	}
	switch {
	case c.Timeout <= 0:
		c.Timeout = DefaultTimeout
	case c.Timeout < time.Millisecond:
		c.Timeout = time.Millisecond
	case c.Timeout > MaxTimeout:
		c.Timeout = MaxTimeout
	}
	return c, nil
}

// libpcapHidden reports whether libpcap must not be used.
func (c Config) libpcapHidden() bool {
	return c.noLibpcap || envHidesLibpcap()
}

func envHidesLibpcap() bool {
	v := os.Getenv(EnvNoLibpcap)
	return v != "" && v != "0"
}

// Stats are the capture counters.
type Stats struct {
	// Received counts the packets the kernel handed to the capture (after
	// the capture filter), as libpcap's ps_recv. On a loopback interface it
	// counts both the outgoing and the incoming copy of each packet, of
	// which only one is returned by Next.
	Received uint64
	// Dropped counts the packets the kernel dropped because the capture
	// buffer was full (ps_drop).
	Dropped uint64
	// IfDropped counts the packets the interface or its driver dropped
	// (ps_ifdrop), where the backend knows it; 0 otherwise.
	IfDropped uint64
	// Captured counts the packets Next returned.
	Captured uint64
}

// capturer is one open capture of a backend. Handle serialises all calls.
type capturer interface {
	// read fills p's Time, Data and OrigLen with the next packet if one is
	// ready, without blocking; it reports false when none is.
	read(p *source.Packet) (bool, error)
	// wait blocks until a packet may be ready or timeout has passed.
	wait(timeout time.Duration) error
	// stats returns the backend's counters (Captured is left 0).
	stats() (Stats, error)
	// linkType is the link type of the packets.
	linkType() source.LinkType
	// close releases the capture.
	close() error
}

// Handle is an open live capture. Next must be called from one goroutine at
// a time; Close, Stats, LinkType and Backend may be called from any.
type Handle struct {
	mu       sync.Mutex // guards c, count and closing c
	closed   atomic.Bool
	c        capturer
	count    uint64
	link     source.LinkType
	backend  string
	iface    string
	timeout  time.Duration
	warning  string
	closeErr error
	idle     func() // called by Next when it waited a poll period in vain
}

// OnIdle sets fn to be called by Next, in its caller's goroutine, each time
// a poll period passes without a packet (a caller writes out what it holds
// while the interface is quiet). Set it before the first Next.
func (h *Handle) OnIdle(fn func()) { h.idle = fn }

// Open starts capturing as cfg says. libpcap is used when it can be loaded;
// otherwise the AF_PACKET fallback, which refuses a capture filter. Errors
// for the usual mistakes (no permission, unknown interface, libpcap missing
// while a filter was given, bad filter) are single sentences that wrap
// ErrPermission, ErrNoInterface, ErrNeedLibpcap and ErrBadFilter.
func Open(cfg Config) (*Handle, error) {
	cfg, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	var lib pcapLib
	loadErr := errors.New("libpcap hidden by " + EnvNoLibpcap)
	if !cfg.libpcapHidden() {
		lib, loadErr = loadLibpcap()
		if errors.Is(loadErr, ErrUnsupported) {
			return nil, loadErr
		}
	}
	h := &Handle{iface: cfg.Interface, timeout: cfg.Timeout}
	if lib != nil {
		c, warning, err := lib.open(cfg)
		if err != nil {
			return nil, err
		}
		h.c, h.warning, h.backend = c, warning, BackendLibpcap
	} else {
		if cfg.Filter != "" {
			return nil, needLibpcapError("a capture filter")
		}
		c, err := openAFPacket(cfg)
		if err != nil {
			return nil, err
		}
		h.c, h.backend = c, BackendAFPacket
		h.warning = fmt.Sprintf("libpcap not loaded (%v); capturing with AF_PACKET", loadErr)
	}
	h.link = h.c.linkType()
	return h, nil
}

// Next fills p with the next packet: Number counts from 1, Data is valid
// until the next call. It blocks until a packet arrives, ctx is done (it
// returns ctx.Err()) or the handle is closed (it returns io.EOF). It notices
// a cancelled ctx within the configured Timeout even when no traffic flows.
func (h *Handle) Next(ctx context.Context, p *source.Packet) error {
	done := ctx.Done()
	for {
		select {
		case <-done:
			return ctx.Err()
		default:
		}
		if h.closed.Load() {
			return io.EOF
		}
		ok, err := h.step(p)
		if ok || err != nil {
			return err
		}
		if h.idle != nil {
			h.idle()
		}
	}
}

// step reads one packet or, when none is ready, waits for one for at most
// one poll period. It holds the lock so that Close cannot free the capture
// underneath it.
func (h *Handle) step(p *source.Packet) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return false, io.EOF
	}
	ok, err := h.c.read(p)
	if err != nil {
		return false, fmt.Errorf("capturing on %s: %w", h.iface, err)
	}
	if ok {
		h.count++
		p.Number = h.count
		p.LinkType = h.link
		return true, nil
	}
	if err := h.c.wait(h.timeout); err != nil {
		return false, fmt.Errorf("capturing on %s: %w", h.iface, err)
	}
	return false, nil
}

// Stats returns the capture counters.
func (h *Handle) Stats() (Stats, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed.Load() {
		return Stats{}, fmt.Errorf("capture statistics of %s: handle closed", h.iface)
	}
	st, err := h.c.stats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture statistics of %s: %w", h.iface, err)
	}
	st.Captured = h.count
	return st, nil
}

// LinkType returns the link type of the captured packets.
func (h *Handle) LinkType() source.LinkType { return h.link }

// Backend returns BackendLibpcap or BackendAFPacket.
func (h *Handle) Backend() string { return h.backend }

// Warning returns a note worth showing the user, or "": libpcap's
// activation warning (for example that "any" has no promiscuous mode), or
// why the AF_PACKET fallback is in use.
func (h *Handle) Warning() string { return h.warning }

// Close stops the capture; a Next in progress returns io.EOF. Close may be
// called more than once.
func (h *Handle) Close() error {
	h.closed.Store(true)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.c != nil {
		if err := h.c.close(); err != nil {
			h.closeErr = fmt.Errorf("closing capture on %s: %w", h.iface, err)
		}
		h.c = nil
	}
	return h.closeErr
}
