package h2

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"golang.org/x/net/http2"
)

// events records everything a Conn reports as strings, for comparing runs.
type events struct{ log []string }

func (e *events) add(format string, a ...any) { e.log = append(e.log, fmt.Sprintf(format, a...)) }
func (e *events) Frame(f *Frame, m Meta) {
	e.add("frame %s %s %d %d %x %v", f.Dir, f.Type, f.StreamID, f.Length, uint8(f.Flags), f.Fields)
}
func (e *events) Request(s *Stream, m Meta)  { e.add("request %d", s.ID) }
func (e *events) Open(s *Stream, m Meta)     { e.add("open %d %v", s.ID, s.Anomalies) }
func (e *events) Rejected(s *Stream, m Meta) { e.add("rejected %d %d", s.ID, s.Status) }
func (e *events) Data(s *Stream, d Dir, b []byte, m Meta) {
	// Data may arrive in any pieces: log bytes one by one.
	for _, c := range b {
		e.add("data %d %s %x", s.ID, d, c)
	}
}
func (e *events) DataGap(s *Stream, d Dir, n uint64, exact bool, m Meta) {
	e.add("gap %d %s %d %v", s.ID, d, n, exact)
}
func (e *events) End(s *Stream, r EndReason, m Meta) { e.add("end %d %s", s.ID, r) }
func (e *events) Anomaly(d Dir, stream uint32, a Anomaly, m Meta) {
	e.add("anomaly %s %d %s", d, stream, a.ID)
}

// FuzzFrameLayer checks that arbitrary bytes never panic and that how the
// bytes are cut into pieces changes nothing the frame layer reports, as long
// as the directions' relative order is kept (each direction is fed whole
// before the other in both runs).
func FuzzFrameLayer(f *testing.F) {
	w := newWire(true)
	w.fr[1].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	w.headers(0, 1, false, wsConnect...)
	w.headers(1, 1, false, ":status", "200")
	w.fr[0].WriteDataPadded(1, false, []byte("hello"), make([]byte, 4))
	w.fr[1].WriteData(1, true, []byte("bye"))
	w.fr[0].WriteRSTStream(1, http2.ErrCodeCancel)
	w.fr[1].WriteGoAway(1, http2.ErrCodeNo, nil)
	f.Add(bytes.Clone(w.buf[0].Bytes()), bytes.Clone(w.buf[1].Bytes()), uint8(3))
	f.Add([]byte(Preface+"\x00\x00\x05\x01\x04\x00\x00\x00\x01\x82\x86\x84\x41\x00"), []byte{0, 0, 0, 4, 0, 0, 0, 0, 0}, uint8(1))
	f.Fuzz(func(t *testing.T, c2s, s2c []byte, step uint8) {
		if !bytes.HasPrefix(c2s, []byte(Preface)) {
			c2s = append([]byte(Preface), c2s...)
		}
		// Server bytes first, then the client's: the same order in both
		// runs, whatever the piece size.
		whole := runOrdered(t, s2c, c2s, 1<<30)
		pieces := runOrdered(t, s2c, c2s, int(step%61)+1)
		if !slices.Equal(whole, pieces) {
			t.Fatalf("events differ with pieces of %d bytes:\nwhole:  %q\npieces: %q", int(step%61)+1, whole, pieces)
		}
	})
}

// runOrdered feeds all of s2c, then all of c2s, in pieces of step bytes,
// and checks that what was charged to the (unlimited) budget is given back
// by Close.
func runOrdered(t *testing.T, s2c, c2s []byte, step int) []string {
	e := &events{}
	b := &testBudget{t: t}
	defer func() {
		if b.used != 0 {
			t.Fatalf("%d bytes still charged after Close", b.used)
		}
	}()
	c := NewConn(e, Limits{MaxSearch: 1 << 20, MaxFrame: 1 << 16, Budget: b})
	for _, p := range []struct {
		d Dir
		b []byte
	}{{ServerToClient, s2c}, {ClientToServer, c2s}} {
		for b := p.b; len(b) > 0; {
			n := min(step, len(b))
			c.Feed(p.d, b[:n], Meta{})
			b = b[n:]
		}
	}
	c.Close(Meta{})
	return e.log
}
