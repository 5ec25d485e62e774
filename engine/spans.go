package engine

import (
	"errors"
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
	spans map[endpoints][]span
	last  uint64 // the largest span end
}

// endpoints are a connection's two endpoints, the lower one first.
type endpoints struct{ lo, hi netip.AddrPort }

// span is the packets first..last of the connection that starts at packet
// first.
type span struct{ first, last uint64 }

func endpointsOf(x, y netip.AddrPort) endpoints {
	if x.Compare(y) > 0 {
		x, y = y, x
	}
	return endpoints{x, y}
}

// Add selects the packets from first to last (both included) of the
// connection between x and y whose first packet is first (dissect.Conn's
// FirstPacket). Adding the same connection again extends its span.
func (s *ConnSpans) Add(x, y netip.AddrPort, first, last uint64) {
	if first == 0 || last < first {
		return
	}
	if s.spans == nil {
		s.spans = make(map[endpoints][]span)
	}
	k := endpointsOf(x, y)
	list := s.spans[k]
	for i := range list {
		if list[i].first == first {
			list[i].last = max(list[i].last, last)
			s.last = max(s.last, last)
			return
		}
	}
	s.spans[k] = append(list, span{first, last})
	s.last = max(s.last, last)
}

// Merge adds o's spans to s.
func (s *ConnSpans) Merge(o *ConnSpans) {
	for k, list := range o.spans {
		for _, sp := range list {
			s.Add(k.lo, k.hi, sp.first, sp.last)
		}
	}
}

// Len returns the number of connections selected.
func (s *ConnSpans) Len() int {
	n := 0
	for _, list := range s.spans {
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
		list := s.spans[endpointsOf(netip.AddrPortFrom(seg.Src, seg.SrcPort), netip.AddrPortFrom(seg.Dst, seg.DstPort))]
		for _, sp := range list {
			if p.Number >= sp.first && p.Number <= sp.last {
				mark(p.Number)
				break
			}
		}
	}
}
