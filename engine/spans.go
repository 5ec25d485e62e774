package engine

import (
	"errors"
	"hash/maphash"
	"io"
	"net/netip"

	"github.com/wsdissect/wsdissect/source"
)

// ConnSpans selects, in a second reading of a capture, the packets of
// chosen TCP connections from their first packet up to a given one. `read -w`
// with a filter uses it so that the records shown decode alike from the
// saved capture: a message needs its connection's TCP and WebSocket (or
// HTTP/2) handshakes, and with permessage-deflate, TLS or HTTP/2 the
// messages before it as well, none of which the record's own packets hold.
// The zero value selects nothing. It is not safe for concurrent use.
type ConnSpans struct {
	// spans holds each connection's span, by a hash of its endpoints
	// (about 40 bytes a connection: a collision could only add another
	// connection's packets to the copy); more holds the further spans of
	// the same endpoints (a reused port), rare.
	spans map[uint64]span
	more  map[uint64][]span
	last  uint64 // the largest span end
}

// spanSeed seeds the hash of ConnSpans keys: the same for every ConnSpans
// of the process, so that their keys merge, and never changed.
var spanSeed = maphash.MakeSeed()

// span is the packets first..last of the connection that starts at packet
// first.
type span struct{ first, last uint64 }

// key returns the hash of a connection's endpoints, in either order.
func (s *ConnSpans) key(x, y netip.AddrPort) uint64 {
	if x.Compare(y) > 0 {
		x, y = y, x
	}
	return maphash.Comparable(spanSeed, [2]netip.AddrPort{x, y})
}

// Add selects the packets from first to last (both included) of the
// connection between x and y whose first packet is first (dissect.Conn's
// FirstPacket). Adding the same connection again extends its span.
func (s *ConnSpans) Add(x, y netip.AddrPort, first, last uint64) {
	if first == 0 || last < first {
		return
	}
	s.put(s.key(x, y), span{first, last})
}

// Merge adds o's spans to s.
func (s *ConnSpans) Merge(o *ConnSpans) {
	for k, sp := range o.spans {
		s.put(k, sp)
	}
	for k, list := range o.more {
		for _, sp := range list {
			s.put(k, sp)
		}
	}
}

// put adds sp to the spans of the endpoints whose key is k, extending the
// one with the same first packet if there is one.
func (s *ConnSpans) put(k uint64, sp span) {
	if s.spans == nil {
		s.spans = make(map[uint64]span)
	}
	s.last = max(s.last, sp.last)
	if old, ok := s.spans[k]; !ok || old.first == sp.first {
		s.spans[k] = span{sp.first, max(old.last, sp.last)}
		return
	}
	list := s.more[k]
	for i := range list {
		if list[i].first == sp.first {
			list[i].last = max(list[i].last, sp.last)
			return
		}
	}
	if s.more == nil {
		s.more = make(map[uint64][]span)
	}
	s.more[k] = append(list, sp)
}

// Len returns the number of connections selected.
func (s *ConnSpans) Len() int {
	n := len(s.spans)
	for _, list := range s.more {
		n += len(list)
	}
	return n
}

// Mark reads src and calls mark with the number of every packet that
// carries a TCP segment of a selected connection within its span. Packets
// are decoded as Run decodes them (through tunnels; a fragmented datagram's
// segment is its completing packet's, so the caller adds the other
// fragments). It stops after the last packet any span selects, and returns
// the read error, if any (not io.EOF).
func (s *ConnSpans) Mark(src PacketSource, mark func(uint64)) error {
	if len(s.spans) == 0 {
		return nil
	}
	var r reader
	var p source.Packet
	for {
		if err := src.Next(&p); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if p.Number > s.last {
			return nil
		}
		if !r.packet(&p) {
			continue
		}
		seg := &r.seg
		k := s.key(netip.AddrPortFrom(seg.Src, seg.SrcPort), netip.AddrPortFrom(seg.Dst, seg.DstPort))
		if sp, ok := s.spans[k]; ok && sp.has(p.Number) {
			mark(p.Number)
			continue
		}
		for _, sp := range s.more[k] {
			if sp.has(p.Number) {
				mark(p.Number)
				break
			}
		}
	}
}

// has reports whether packet n is in the span.
func (sp span) has(n uint64) bool { return n >= sp.first && n <= sp.last }
