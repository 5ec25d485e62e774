package reassembly

import (
	"time"

	"github.com/wsdissect/wsdissect/internal/membudget"
)

// Defaults used by DefaultConfig and for the zero fields of a Config.
const (
	// DefaultMaxBufferedPerConn is 4 MiB of out-of-order data per connection
	// (both directions together).
	DefaultMaxBufferedPerConn int64 = 4 << 20
	// DefaultMaxBufferedTotal is 256 MiB of out-of-order data across all
	// connections.
	DefaultMaxBufferedTotal int64 = 256 << 20
	// DefaultMaxConns is 1<<20 tracked connections (closed connections'
	// tombstones included).
	DefaultMaxConns = 1 << 20
	// DefaultIdleTimeout is two minutes of capture time.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultRecentWindow is 4096 bytes of recently delivered data remembered
	// per direction.
	DefaultRecentWindow = 4096
	// DefaultAckGrace is 8 packets.
	DefaultAckGrace = 8
)

// Reasons given in Gap.Reason.
const (
	// GapBufferLimit: the out-of-order buffer of the connection, or of the
	// whole assembler, was full, so the oldest hole was given up.
	GapBufferLimit = "buffer limit"
	// GapAcked: the receiver acknowledged bytes the capture does not have.
	GapAcked = "acknowledged but not captured"
	// GapSnapLen: the capture cut the segment short (snap length).
	GapSnapLen = "snaplen"
	// GapReset: the connection was reset with bytes still missing.
	GapReset = "connection reset"
	// GapIdle: the connection timed out with bytes still missing.
	GapIdle = "idle timeout"
	// GapEOF: the input ended with bytes still missing.
	GapEOF = "end of input"
	// GapEvicted: the connection was evicted from a full table with bytes
	// still missing.
	GapEvicted = "connection evicted"
	// GapReused: a new connection reused the addresses with bytes of the old
	// one still missing.
	GapReused = "connection reused"
	// GapMemory: the memory budget was exhausted, so the oldest hole was
	// given up, or the connection was dropped (ClosedMemory), with bytes
	// still missing.
	GapMemory = "memory budget"
)

// ConnCost is what each tracked connection is charged against the memory
// budget by the connection table: its table entry and the reassembler's
// state of it (the handler's state is the handler's to count).
const ConnCost = 1024

// Config holds the reassembler's limits; the zero value of a field means its
// default.
type Config struct {
	// MaxBufferedPerConn bounds the out-of-order bytes buffered per connection
	// (both sides). Each buffered segment is also charged a fixed bookkeeping
	// cost of a few dozen bytes, so floods of tiny segments are bounded too.
	// Zero or negative means DefaultMaxBufferedPerConn.
	MaxBufferedPerConn int64
	// MaxBufferedTotal bounds the out-of-order bytes buffered across all
	// connections, counted like MaxBufferedPerConn. Zero or negative means
	// DefaultMaxBufferedTotal.
	MaxBufferedTotal int64
	// MaxConns bounds the tracked connections, tombstones of closed ones
	// included; when full, the least recently active is evicted
	// (ClosedEvicted). Zero or negative means DefaultMaxConns.
	MaxConns int
	// IdleTimeout closes a connection whose last packet is older than this,
	// by capture time, with ClosedIdle (ClosedFIN when a FIN was seen), if
	// it never carried payload (half-open connections of a SYN flood, port
	// scans) or already ended (a RST, or FINs both ways: its tombstone is
	// dropped). A connection that carried data is never expired, however
	// long it is quiet: only FIN/RST, MaxConns or the end of the input end
	// it. Zero or negative means DefaultIdleTimeout.
	IdleTimeout time.Duration
	// RecentWindow is how many recently delivered bytes are remembered per
	// side to detect retransmissions whose bytes differ from the first copy.
	// The memory is allocated lazily, growing up to this size as the side
	// delivers data, and freed when the connection closes. Zero means
	// DefaultRecentWindow; negative disables the check for delivered data
	// (buffered data is still compared).
	RecentWindow int
	// AckGrace is how many packets of the capture a hole waits for its
	// data once the peer acknowledged it (with data beyond it buffered)
	// before it is declared a gap (GapAcked). Capture order is not always
	// wire order: an ACK captured on one interface or queue can come before
	// the data it acknowledges, captured a few packets later. Zero means
	// DefaultAckGrace; negative declares the gap at once.
	AckGrace int
	// Memory, when set, is the memory budget the reassembler and the
	// connection table charge what they hold to (out-of-order pieces by the
	// memory they occupy, recent-window rings, ConnCost per tracked
	// connection). When it is exhausted, the oldest holes are given up
	// (GapMemory), and a new connection first ends the least recently active
	// one (ClosedMemory).
	Memory *membudget.Budget
}

// DefaultConfig returns a Config with every field set to its default:
// DefaultMaxBufferedPerConn, DefaultMaxBufferedTotal, DefaultMaxConns,
// DefaultIdleTimeout, DefaultRecentWindow and DefaultAckGrace.
func DefaultConfig() Config {
	return Config{
		MaxBufferedPerConn: DefaultMaxBufferedPerConn,
		MaxBufferedTotal:   DefaultMaxBufferedTotal,
		MaxConns:           DefaultMaxConns,
		IdleTimeout:        DefaultIdleTimeout,
		RecentWindow:       DefaultRecentWindow,
		AckGrace:           DefaultAckGrace,
	}
}

// withDefaults returns c with zero (or out of range) fields replaced by their
// defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxBufferedPerConn <= 0 {
		c.MaxBufferedPerConn = d.MaxBufferedPerConn
	}
	if c.MaxBufferedTotal <= 0 {
		c.MaxBufferedTotal = d.MaxBufferedTotal
	}
	if c.MaxConns <= 0 {
		c.MaxConns = d.MaxConns
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = d.IdleTimeout
	}
	if c.RecentWindow == 0 {
		c.RecentWindow = d.RecentWindow
	}
	if c.AckGrace == 0 {
		c.AckGrace = d.AckGrace
	}
	return c
}

// Stats holds an Assembler's counters.
type Stats struct {
	// Conns counts the connections seen (stream numbers given out).
	Conns uint64
	// Active is the number of open connections (tombstones not counted).
	Active int
	// Packets counts the segments passed to Process.
	Packets uint64
	// BytesDelivered counts the bytes passed to Handler.Data.
	BytesDelivered uint64
	// Gaps counts the gaps declared; BytesLost is the sum of their lengths.
	Gaps      uint64
	BytesLost uint64
	// Retransmissions counts segments whose bytes were, at least in part,
	// seen before (delivered or buffered).
	Retransmissions uint64
	// Evictions counts open connections closed because the table was full.
	Evictions uint64
	// OutOfOrder counts segments that arrived ahead of a hole and were
	// buffered.
	OutOfOrder uint64
	// OldSegments counts segments lying wholly before the start of their
	// side's stream (data older than the capture's view of it); they are
	// ignored.
	OldSegments uint64
	// OutOfWindow counts segments ignored because they start far beyond
	// the receiver's advertised window (see NoteOutOfWindow).
	OutOfWindow uint64
	// Ignored counts segments of closed connections (tombstones) and of
	// connections whose handler wanted no more data; they are only counted.
	Ignored uint64
	// Buffered is the out-of-order bytes buffered now, counted as for
	// Config.MaxBufferedPerConn; PeakBuffered is its highest value.
	Buffered     int64
	PeakBuffered int64
}

// Add adds the counters of o, from another reassembler over other
// connections (a worker's), to s. Peaks add up too: the sum bounds the
// peak of all together.
func (s *Stats) Add(o Stats) {
	s.Conns += o.Conns
	s.Active += o.Active
	s.Packets += o.Packets
	s.BytesDelivered += o.BytesDelivered
	s.Gaps += o.Gaps
	s.BytesLost += o.BytesLost
	s.Retransmissions += o.Retransmissions
	s.Evictions += o.Evictions
	s.OutOfOrder += o.OutOfOrder
	s.OldSegments += o.OldSegments
	s.OutOfWindow += o.OutOfWindow
	s.Ignored += o.Ignored
	s.Buffered += o.Buffered
	s.PeakBuffered += o.PeakBuffered
}
