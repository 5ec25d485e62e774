package dissect

// The dissector's watermark: the earliest packet whose records may still be
// emitted. A direction searching for a frame boundary (a mid-stream start, a
// resync after lost bytes) holds its bytes and decodes them only once a
// chain of frames proves where frames start, so its records can follow the
// records of later packets of other connections. SearchFrom tells the
// caller how far back such records can reach, so that it can put the output
// of all connections in packet order (the engine does, see its order.go).

// searcher is a searching direction registered with its dissector.
type searcher struct {
	w     *wsDir
	epoch uint64 // w.searchEpoch when registered; a mismatch means w moved on
}

// searchers tracks the directions that hold search bytes.
type searchers struct {
	list  []searcher
	next  uint64 // the last epoch given out
	dirty bool   // the list or a member's first mark may have changed
	min   uint64 // cached: the earliest first mark, when have
	have  bool
}

// add registers w, which has just buffered search bytes, unless it is
// registered already. A nil register (a decoder driven without a
// dissector) does nothing.
func (s *searchers) add(w *wsDir) {
	if s == nil {
		return
	}
	s.dirty = true
	if w.searchEpoch != 0 {
		return
	}
	s.next++
	w.searchEpoch = s.next
	s.list = append(s.list, searcher{w: w, epoch: s.next})
}

// moved notes that a search's first mark may have moved or that the
// search ended.
func (s *searchers) moved() {
	if s != nil {
		s.dirty = true
	}
}

// SearchFrom returns the packet number of the earliest bytes held by a
// direction searching for a frame boundary, and whether any is: the records
// of that packet and later ones may still be emitted by the search. Records
// of earlier packets are final. It is cheap when nothing changed since the
// last call.
func (d *Dissector) SearchFrom() (uint64, bool) {
	s := &d.searchers
	if !s.dirty {
		return s.min, s.have
	}
	s.dirty = false
	s.have, s.min = false, 0
	j := 0
	for _, e := range s.list {
		w := e.w
		if w.searchEpoch != e.epoch || w.s == nil || w.st != stSearch || len(w.marks) == 0 {
			if w.searchEpoch == e.epoch {
				w.searchEpoch = 0
			}
			continue
		}
		s.list[j] = e
		j++
		if p := w.marks[0].pkt; !s.have || p < s.min {
			s.min, s.have = p, true
		}
	}
	clear(s.list[j:])
	s.list = s.list[:j]
	return s.min, s.have
}
