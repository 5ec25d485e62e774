package conv

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// TestKnownStatistics checks RTTs, compression ratio, counts and close
// information on a capture where they are known.
func TestKnownStatistics(t *testing.T) {
	path, compLen := knownCapture(t)
	col := collect(t, path, Options{})
	ss := col.Sessions()
	if len(ss) != 1 {
		t.Fatalf("%d sessions, want 1", len(ss))
	}
	s := ss[0]
	if s.Host != "example.test" || s.Path != "/known?x=1" || s.UserAgent != "known/1.0" || s.Status != 101 {
		t.Errorf("handshake: host %q path %q ua %q status %d", s.Host, s.Path, s.UserAgent, s.Status)
	}
	if got := s.RTT; got.Count != 3 || got.Min != 2*knownStep || got.Max != 6*knownStep || got.Median() != 2*knownStep {
		t.Errorf("RTT count %d min %v median %v max %v, want 3, 20ms, 20ms, 60ms", got.Count, got.Min, got.Median(), got.Max)
	}
	if s.UnansweredPings != 1 || s.UnmatchedPongs != 1 {
		t.Errorf("unanswered pings %d, unmatched pongs %d, want 1 and 1", s.UnansweredPings, s.UnmatchedPongs)
	}
	c2s, s2c := s.Dirs[dissect.ClientToServer], s.Dirs[dissect.ServerToClient]
	// Client: 4 pings, 1 text (compressed), 1 binary of 3 frames, 1 close.
	if c2s.Messages != 7 || c2s.Frames != 9 || c2s.Ping != 4 || c2s.Text != 1 || c2s.Binary != 1 || c2s.Close != 1 || c2s.Compressed != 1 {
		t.Errorf("c2s counts %+v", c2s)
	}
	if s2c.Messages != 5 || s2c.Pong != 4 || s2c.Close != 1 {
		t.Errorf("s2c counts %+v", s2c)
	}
	wantWire := uint64(compLen + 6)
	wantData := uint64(len(knownText) + 6)
	if c2s.DataWire != wantWire || c2s.DataBytes != wantData {
		t.Errorf("c2s data wire %d inflated %d, want %d and %d", c2s.DataWire, c2s.DataBytes, wantWire, wantData)
	}
	if r := c2s.Ratio(); r != float64(wantData)/float64(wantWire) {
		t.Errorf("ratio %v", r)
	}
	// Wire bytes: every frame's header (2 + 4 mask, the compressed text
	// with a 16-bit length when over 125 bytes) plus payloads.
	textHdr := 6
	if compLen > 125 {
		textHdr = 8
	}
	wantC2SWire := uint64(4*(6+1) + textHdr + compLen + 3*6 + 6 + 6 + 2)
	if c2s.WireBytes != wantC2SWire {
		t.Errorf("c2s wire bytes %d, want %d", c2s.WireBytes, wantC2SWire)
	}
	if s.Largest() != uint64(len(knownText)) {
		t.Errorf("largest %d, want %d", s.Largest(), len(knownText))
	}
	if !s.Closes[1].Seen || s.FirstCloser != dissect.ServerToClient || s.Closes[1].Code != 1001 || s.Closes[1].Reason != "going away" {
		t.Errorf("closes %+v first %v", s.Closes, s.FirstCloser)
	}
	if !s.Closes[0].Seen || s.Closes[0].Code != 1000 || s.WSEnd() != "closed" {
		t.Errorf("client close %+v, ws end %q", s.Closes[0], s.WSEnd())
	}
	if s.Duration() <= 0 || s.Duration() > time.Second {
		t.Errorf("duration %v", s.Duration())
	}
	if s.CommunityID == "" || s.CommunityID[:2] != "1:" {
		t.Errorf("community id %q", s.CommunityID)
	}
}

// TestKeepOnlySelected checks that only the kept stream's payloads are held
// and that messages are assembled across fragments and inflated.
func TestKeepOnlySelected(t *testing.T) {
	path, _ := knownCapture(t)
	none := collect(t, path, Options{})
	if n := len(none.Sessions()[0].Messages); n != 0 {
		t.Errorf("nothing kept, yet %d messages held", n)
	}
	col := collect(t, path, Options{Keep: func(id ID) bool { return id.Stream == 0 }})
	ms := col.Sessions()[0].Messages
	if len(ms) != 12 {
		t.Fatalf("%d messages, want 12", len(ms))
	}
	var text, bin *Message
	for i := range ms {
		if ms[i].N != i+1 {
			t.Errorf("message %d numbered %d", i, ms[i].N)
		}
		switch ms[i].Opcode {
		case dissect.OpText:
			text = &ms[i]
		case dissect.OpBinary:
			bin = &ms[i]
		}
	}
	if text == nil || string(text.Payload) != string(knownText) || !text.Compressed || !text.Text {
		t.Errorf("text message %+v", text)
	}
	if bin == nil || string(bin.Payload) != "\x00\x01\x02\x03\x04\x05" || bin.Frames != 3 || bin.Incomplete {
		t.Errorf("binary message %+v", bin)
	}
}

// TestOnMessageStreaming checks that OnMessage sees every message with its
// payload even when nothing is kept.
func TestOnMessageStreaming(t *testing.T) {
	path, _ := knownCapture(t)
	var n int
	var textLen int
	collect(t, path, Options{OnMessage: func(s *Session, m *Message) error {
		n++
		if m.Opcode == dissect.OpText {
			textLen = len(m.Payload)
		}
		return nil
	}})
	if n != 12 || textLen != len(knownText) {
		t.Errorf("OnMessage saw %d messages, text of %d bytes; want 12 and %d", n, textLen, len(knownText))
	}
}

// TestIncompleteMessages checks messages cut by the capture: a lost
// segment and a mid-stream start.
func TestIncompleteMessages(t *testing.T) {
	for _, name := range []string{"coder-lost.pcap", "coder-midstream.pcap", "coder-fragmented.pcap", "gorilla-impaired.pcap",
		"edge-violations.pcap", "edge-split-frames.pcap", "coder-deflate-lost.pcap", "edge-64bit-len.pcap"} {
		col := collect(t, testdataPath(name), Options{Keep: func(ID) bool { return true }})
		if len(col.Sessions()) == 0 {
			t.Errorf("%s: no sessions", name)
			continue
		}
		for _, s := range col.Sessions() {
			var msgs uint64
			for _, m := range s.Messages {
				if uint64(len(m.Payload)) != m.Len && !m.Truncated && !m.Incomplete {
					t.Errorf("%s: message %d: %d payload bytes, len %d", name, m.N, len(m.Payload), m.Len)
				}
				msgs++
			}
			if msgs != s.Msgs() {
				t.Errorf("%s: %d messages kept, %d counted", name, msgs, s.Msgs())
			}
		}
	}
}

// TestEnded checks that the dissector's end record, and a later report,
// fill the session's End and the JSON tcp_end.
func TestEnded(t *testing.T) {
	path, _ := knownCapture(t)
	col := collect(t, path, Options{})
	s := col.Sessions()[0]
	if s.End.Reason != "fin:s2c" || s.JSON().TCPEnd != "fin:s2c" {
		t.Fatalf("end from the end record: %+v, want fin:s2c", s.End)
	}
	at := s.Last.Add(time.Second)
	col.Ended(ID{Stream: 0}, "fin", 999, at)
	col.Ended(ID{Stream: 7}, "rst", 1000, at) // an unknown stream is ignored
	if s.End.Reason != "fin" || s.JSON().TCPEnd != "fin" || !s.Last.Equal(at) || s.LastPacket != 999 {
		t.Errorf("after Ended: %+v, last %v %d", s.End, s.Last, s.LastPacket)
	}
	if got := endText(s); got != "closed,fin" {
		t.Errorf("END column %q", got)
	}
}

// TestMessageRecordsRefused checks that message records are refused with a
// clear error rather than miscounted.
func TestMessageRecordsRefused(t *testing.T) {
	c := New(Options{})
	err := c.Emit(&dissect.Record{Kind: dissect.KindMessage, Conn: &dissect.Conn{}, Message: &dissect.Message{}})
	if err != ErrMessageRecord {
		t.Errorf("Emit(message record) = %v", err)
	}
}

// TestCorpusSessions runs the collector over every corpus capture: no
// error, every message counted once, and messages kept equal to those
// counted.
func TestCorpusSessions(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join(corpusDir, "*.pcap*"))
	if len(names) == 0 {
		t.Skipf("corpus not found at %s", corpusDir)
	}
	for _, name := range names {
		col := collect(t, name, Options{Keep: func(ID) bool { return true }})
		for _, s := range col.Sessions() {
			if uint64(len(s.Messages)) != s.Msgs() {
				t.Errorf("%s stream %d: %d messages kept, %d counted", filepath.Base(name), s.Stream, len(s.Messages), s.Msgs())
			}
			if s.CommunityID == "" {
				t.Errorf("%s stream %d: no community id", filepath.Base(name), s.Stream)
			}
		}
	}
}

// TestPayloadsSelected checks that OnMessage gets payloads only for the
// connections Payloads selects, and every message either way.
func TestPayloadsSelected(t *testing.T) {
	path := testdataPath("mixed-linktypes.pcapng")
	var with, without int
	collect(t, path, Options{
		Payloads: func(id ID) bool { return id.Stream == 1 },
		OnMessage: func(s *Session, m *Message) error {
			if s.Stream == 1 && len(m.Payload) == int(m.Len) {
				with++
			}
			if s.Stream != 1 && m.Payload == nil && !dissect.IsControl(m.Opcode) {
				without++
			}
			return nil
		},
	})
	if with == 0 || without == 0 {
		t.Errorf("%d messages of stream 1 with payload, %d data messages of others without", with, without)
	}
}
