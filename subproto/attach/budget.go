package attach

import (
	"slices"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/subproto/app"
)

// shedMin is the least a decoder must hold to be made to give it up when
// the memory budget runs out: smaller state is left alone, as the
// dissector always keeps payloads of up to 4 KiB.
const shedMin = 16 << 10

// UseMemory makes the sink charge what the decoders keep between messages
// (unfinished packets, attachments, requests waiting for their answer,
// reused buffers; see app.Holder) to a, one account of the run's memory
// budget (the engine calls it before the first record; nil: not charged).
// When the budget runs out as a decoder's state grows, the decoder gives
// that state up at once: the record of the message that made it grow
// carries the records saying what was lost and a memory-budget anomaly.
func (s *Sink) UseMemory(a *membudget.Account) { s.mem = a }

// bound lowers what dec may hold of an unfinished packet to shedMin while
// the memory budget is exhausted, so that a packet that would only be given
// up is not copied first, and lifts the bound when the budget has room
// again; *bounded is the state dec was left in.
func (s *Sink) bound(bounded *bool, dec app.Decoder) {
	if s.mem == nil {
		return
	}
	if over := s.mem.Over(); over != *bounded {
		if ho, ok := dec.(app.Holder); ok {
			*bounded = over
			if over {
				ho.HoldAtMost(shedMin)
			} else {
				ho.HoldAtMost(0)
			}
		}
	}
}

// charge brings what the budget holds for a decoder, *charged, to what dec
// keeps now. It reports false when the budget ran out as the state grew
// to shedMin or more.
func (s *Sink) charge(charged *int64, dec app.Decoder) bool {
	if s.mem == nil {
		return true
	}
	ho, ok := dec.(app.Holder)
	if !ok {
		return true
	}
	now := int64(ho.Held())
	d := now - *charged
	*charged = now
	switch {
	case d > 0:
		return s.mem.Force(d) || now < shedMin
	case d < 0:
		s.mem.Give(-d)
	}
	return true
}

// keep charges what dec keeps after it decoded a message into recs; when
// the budget ran out, dec gives up its unfinished packets (in both
// directions) and what it keeps for reuse or to match answers, and keep
// returns recs (copied) followed by the records saying what was lost, and
// notes the anomaly for the record they go on.
func (s *Sink) keep(charged *int64, dec app.Decoder, gap func(app.Dir) []app.Record, recs []app.Record) []app.Record {
	if s.charge(charged, dec) {
		return recs
	}
	recs = slices.Clone(recs) // Gap reuses the decoder's result slice
	for d := app.ClientToServer; d <= app.ServerToClient; d++ {
		recs = append(recs, gap(d)...)
	}
	if ho, ok := dec.(app.Holder); ok {
		ho.Shrink()
	}
	s.charge(charged, dec)
	s.shedNote = true
	return recs
}

// release gives back what a decoder was charged.
func (s *Sink) release(charged *int64) {
	s.mem.Give(*charged)
	*charged = 0
}

// shedAnomaly says that a decoder gave its state up.
var shedAnomaly = dissect.Anomaly{ID: dissect.AnMemoryBudget, Severity: dissect.SevWarning, Offset: -1,
	Msg: "the application-protocol decoder of this connection gave up what it held (unfinished packets, attachments, requests waiting for an answer): the memory budget (--memory) is exhausted"}
