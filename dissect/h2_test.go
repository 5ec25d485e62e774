package dissect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/reassembly"
)

// h2Collect keeps a line per record.
type h2Collect struct{ lines []string }

func (c *h2Collect) Emit(r *Record) error {
	var s string
	switch r.Kind {
	case KindConn:
		s = fmt.Sprintf("conn h2=%d v=%s %s %s %d", r.Conn.H2Stream, r.Conn.HTTPVersion(), r.Conn.Method, r.Conn.Path, r.Conn.Status)
		if r.Conn.Deflate != nil {
			s += " deflate"
		}
	case KindMessage:
		s = fmt.Sprintf("msg h2=%d %s %s %q", r.Conn.H2Stream, r.Message.Dir, OpcodeName(r.Message.Opcode), r.Message.Payload)
	case KindFrame:
		s = fmt.Sprintf("frame h2=%d %s", r.Conn.H2Stream, OpcodeName(r.Frame.Opcode))
	case KindAnomaly:
		s = fmt.Sprintf("anomaly h2=%d %s", r.Conn.H2Stream, r.Anomalies[0].ID)
	case KindEnd:
		s = fmt.Sprintf("end h2=%d %s", r.Conn.H2Stream, r.End.Reason)
	}
	c.lines = append(c.lines, s)
	return nil
}

// feedH2 runs one connection: first (side, bytes) pieces in order.
func feedH2(t *testing.T, pieces []h2Piece, gap bool) (*h2Collect, Stats) {
	t.Helper()
	sink := &h2Collect{}
	d := New(sink, Options{Messages: true})
	info := &reassembly.ConnInfo{SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	h := d.NewConn(info)
	var off [2]uint64
	for i, p := range pieces {
		if p.gap > 0 && gap {
			h.Gap(p.side, &reassembly.Gap{Offset: off[p.side], Len: p.gap, Packet: uint64(i + 1), Time: time.Unix(0, 0)})
			off[p.side] += p.gap
			continue
		}
		h.Data(p.side, &reassembly.Chunk{Data: p.b, Offset: off[p.side], Packet: uint64(i + 1), Time: time.Unix(0, 0)})
		off[p.side] += uint64(len(p.b))
	}
	h.Close(reassembly.ClosedEOF)
	return sink, d.Stats()
}

type h2Piece struct {
	side reassembly.Side
	b    []byte
	gap  uint64
}

func TestH2PriorKnowledgeSessions(t *testing.T) {
	c, s := h2Seed()
	A, B := reassembly.SideA, reassembly.SideB
	// The server's SETTINGS arrive first, then everything in small pieces.
	var pieces []h2Piece
	pieces = append(pieces, h2Piece{side: B, b: s[:15]})
	for i := 0; i < len(c); i += 5 {
		pieces = append(pieces, h2Piece{side: A, b: c[i:min(i+5, len(c))]})
	}
	for i := 15; i < len(s); i += 3 {
		pieces = append(pieces, h2Piece{side: B, b: s[i:min(i+3, len(s))]})
	}
	got, st := feedH2(t, pieces, false)
	// The client's DATA precede the responses: they are held until the
	// 200 opens each session.
	want := []string{
		"conn h2=1 v=2 CONNECT /ws 200 deflate",
		`msg h2=1 c2s text "hello"`,
		"conn h2=3 v=2 CONNECT /ws 200 deflate",
		`msg h2=3 c2s close "\x03\xe8"`,
		`msg h2=3 s2c text "hi"`,
		"anomaly h2=1 h2-stream-closed",
		"end h2=1 h2-rst-stream",
		"anomaly h2=3 h2-stream-closed",
		"end h2=3 h2-goaway",
	}
	if !slices.Equal(got.lines, want) {
		t.Errorf("records\n%s\nwant\n%s", strings.Join(got.lines, "\n"), strings.Join(want, "\n"))
	}
	if st.H2Requests != 1 || st.Conns != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestH2CUpgrade(t *testing.T) {
	c, s := h2Seed()
	A, B := reassembly.SideA, reassembly.SideB
	req := "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n"
	resp := "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
	// Here stream 1 is the upgraded GET, half-closed by the client: the
	// seed's CONNECT HEADERS on stream 1 do not make it a session, and the
	// seed's DATA on it come after the client's END_STREAM.
	got, st := feedH2(t, []h2Piece{{side: A, b: []byte(req)}, {side: B, b: append([]byte(resp), s[:15]...)}, {side: A, b: c}, {side: B, b: s[15:]}}, false)
	want := []string{"anomaly h2=0 h2-data-after-end-stream", "conn h2=3 v=2 CONNECT /ws 200 deflate",
		`msg h2=3 c2s close "\x03\xe8"`, `msg h2=3 s2c text "hi"`, "anomaly h2=3 h2-stream-closed", "end h2=3 h2-goaway"}
	if !slices.Equal(got.lines, want) {
		t.Errorf("records\n%s", strings.Join(got.lines, "\n"))
	}
	if st.H2Requests != 2 {
		t.Errorf("requests %d, want 2 (the upgraded GET and the seed's GET)", st.H2Requests)
	}
}

func TestH2Gap(t *testing.T) {
	c, s := h2Seed()
	A, B := reassembly.SideA, reassembly.SideB
	// Lose 4 bytes in the middle of the client's first DATA payload.
	at := strings.Index(string(c), "\x81\x85") + 4
	got, _ := feedH2(t, []h2Piece{{side: B, b: s[:15]}, {side: A, b: c[:at]}, {side: A, gap: 4}, {side: A, b: c[at+4:]}, {side: B, b: s[15:]}}, true)
	joined := strings.Join(got.lines, "\n")
	if !strings.Contains(joined, "anomaly h2=1 tcp-gap") || strings.Contains(joined, `"hello"`) {
		t.Errorf("records\n%s", joined)
	}
	if !strings.Contains(joined, `msg h2=3 s2c text "hi"`) {
		t.Errorf("the other session lost data:\n%s", joined)
	}
}

// TestStartHTTP2Entry drives HTTP/2 the way the TLS layer does: startHTTP2
// on a connection whose mode stays its own, then decrypted bytes through
// h2Data and a lost piece through h2Gap.
func TestStartHTTP2Entry(t *testing.T) {
	c, s := h2Seed()
	sink := &h2Collect{}
	d := New(sink, Options{Messages: true})
	cs := d.newConnState(&reassembly.ConnInfo{SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:443")}})
	cs.mode = modeIgnore // whatever the TLS layer uses: startHTTP2 must not change it
	cs.startHTTP2(reassembly.SideB)
	if cs.mode != modeIgnore {
		t.Fatalf("startHTTP2 changed the mode to %d", cs.mode)
	}
	ts := time.Unix(0, 0)
	cs.h2Data(reassembly.SideA, s[:15], 1, ts)
	cs.h2Data(reassembly.SideB, c, 2, ts)
	cs.h2Data(reassembly.SideA, s[15:], 3, ts)
	cs.h2Gap(reassembly.SideA, 10, 4, ts)
	cs.Close(reassembly.ClosedEOF)
	joined := strings.Join(sink.lines, "\n")
	for _, w := range []string{"conn h2=1 v=2 CONNECT /ws 200 deflate", `msg h2=1 c2s text "hello"`, `msg h2=3 s2c text "hi"`, "anomaly h2=0 tcp-gap"} {
		if !strings.Contains(joined, w) {
			t.Errorf("records lack %q:\n%s", w, joined)
		}
	}
	if st := d.Stats(); st.H2Requests != 1 {
		t.Errorf("requests %d, want 1", st.H2Requests)
	}
}
