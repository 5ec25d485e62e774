package filter

import "github.com/wsdissect/wsdissect/dissect"

// Sink passes on the records that match a filter. A connection's conn record
// is passed on when the conn record itself matches, or, held back until then,
// just before the first of the connection's other records that matches.
// Sink is not safe for concurrent use.
type Sink struct {
	f    *Filter
	next dissect.Sink
	// conns remembers, per stream, the conn record not yet shown (with a
	// private copy of the Conn) or that it was shown.
	conns map[connKey]*heldConn
}

// connKey identifies a WebSocket connection: a TCP stream, and the HTTP/2
// stream of a session over HTTP/2 (several share one TCP stream).
type connKey struct {
	stream uint64
	h2     uint32
}

type heldConn struct {
	shown  bool
	conn   dissect.Conn
	rec    dissect.Record
	layers []dissect.Layer // the conn record's (valid until the connection ends)
}

// NewSink returns a Sink that sends the records matching f to next.
func NewSink(f *Filter, next dissect.Sink) *Sink {
	return &Sink{f: f, next: next, conns: make(map[connKey]*heldConn)}
}

// Emit implements dissect.Sink.
func (s *Sink) Emit(r *dissect.Record) error {
	stream := connKey{r.Conn.Stream, r.Conn.H2Stream}
	if r.Kind == dissect.KindConn {
		h := s.conns[stream]
		if h == nil || h.shown {
			// A new connection on this stream number (or a second
			// handshake on it): start over.
			h = &heldConn{}
			s.conns[stream] = h
		}
		if s.f.Match(r) {
			h.shown = true
			return s.next.Emit(r)
		}
		// A shallow copy is enough: the dissector replaces, never edits in
		// place, the slices a Conn points to.
		h.conn = *r.Conn
		h.layers = append(h.layers[:0], r.Layers...)
		h.rec = dissect.Record{Kind: dissect.KindConn, Conn: &h.conn, Packet: r.Packet, Time: r.Time, Layers: h.layers}
		return nil
	}
	if r.Kind == dissect.KindEnd {
		// The end of a connection is shown when its conn record was, or
		// when it matches itself; either way the connection is done.
		h := s.conns[stream]
		delete(s.conns, stream)
		if !(h != nil && h.shown) && !s.f.Match(r) {
			return nil
		}
		if h != nil && !h.shown {
			if err := s.next.Emit(&h.rec); err != nil {
				return err
			}
		}
		return s.next.Emit(r)
	}
	if !s.f.Match(r) {
		return nil
	}
	if h := s.conns[stream]; h != nil && !h.shown {
		h.shown = true
		if err := s.next.Emit(&h.rec); err != nil {
			return err
		}
		h.conn = dissect.Conn{}
		h.layers, h.rec.Layers = nil, nil
	}
	return s.next.Emit(r)
}
