package h2

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// rec records what a Conn reports.
type rec struct {
	frames   []string
	requests []uint32
	opened   []uint32
	rejected []uint32
	data     map[string]*bytes.Buffer // "id/dir"
	gaps     []string
	ends     []string
	anom     []string
	fields   map[uint32][]hpack.HeaderField
}

func newRec() *rec {
	return &rec{data: map[string]*bytes.Buffer{}, fields: map[uint32][]hpack.HeaderField{}}
}

func (r *rec) Frame(f *Frame, m Meta) {
	r.frames = append(r.frames, fmt.Sprintf("%s %s s%d f%#x", f.Dir, f.Type, f.StreamID, uint8(f.Flags)))
	if f.Fields != nil && f.Dir == ClientToServer {
		r.fields[f.StreamID] = append([]hpack.HeaderField(nil), f.Fields...)
	}
}
func (r *rec) Request(s *Stream, m Meta)  { r.requests = append(r.requests, s.ID) }
func (r *rec) Open(s *Stream, m Meta)     { r.opened = append(r.opened, s.ID) }
func (r *rec) Rejected(s *Stream, m Meta) { r.rejected = append(r.rejected, s.ID) }
func (r *rec) Data(s *Stream, d Dir, b []byte, m Meta) {
	k := fmt.Sprintf("%d/%s", s.ID, d)
	if r.data[k] == nil {
		r.data[k] = &bytes.Buffer{}
	}
	r.data[k].Write(b)
}
func (r *rec) DataGap(s *Stream, d Dir, n uint64, exact bool, m Meta) {
	r.gaps = append(r.gaps, fmt.Sprintf("%d/%s %d %v", s.ID, d, n, exact))
}
func (r *rec) End(s *Stream, e EndReason, m Meta) {
	r.ends = append(r.ends, fmt.Sprintf("%d %s", s.ID, e))
}
func (r *rec) Anomaly(d Dir, stream uint32, a Anomaly, m Meta) {
	r.anom = append(r.anom, a.ID)
}

// wire builds the two directions of a connection with x/net's Framer and
// hpack encoders (one dynamic table per direction, as a real peer).
type wire struct {
	log []logEntry
	buf [2]bytes.Buffer
	fr  [2]*http2.Framer
	enc [2]*hpack.Encoder
	hb  [2]bytes.Buffer
}

// logEntry is one write, in the order of writing.
type logEntry struct {
	d Dir
	b []byte
}

type logWriter struct {
	w *wire
	d Dir
}

func (l logWriter) Write(p []byte) (int, error) {
	l.w.buf[l.d].Write(p)
	l.w.log = append(l.w.log, logEntry{l.d, append([]byte(nil), p...)})
	return len(p), nil
}

// feedLog feeds the writes in order, each in pieces of n bytes.
func (w *wire) feedLog(c *Conn, n int) {
	for _, e := range w.log {
		feedPieces(c, e.d, e.b, n)
	}
}

func newWire(preface bool) *wire {
	w := &wire{}
	if preface {
		logWriter{w, 0}.Write([]byte(Preface))
	}
	for i := range 2 {
		w.fr[i] = http2.NewFramer(logWriter{w, Dir(i)}, nil)
		w.fr[i].AllowIllegalWrites = true
		w.enc[i] = hpack.NewEncoder(&w.hb[i])
	}
	return w
}

// block encodes fields with direction d's encoder.
func (w *wire) block(d Dir, kv ...string) []byte {
	w.hb[d].Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		w.enc[d].WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return append([]byte(nil), w.hb[d].Bytes()...)
}

func (w *wire) headers(d Dir, id uint32, end bool, kv ...string) {
	w.fr[d].WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: w.block(d, kv...), EndStream: end, EndHeaders: true})
}

var wsConnect = []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http", ":path", "/chat", ":authority", "example.com", "sec-websocket-version", "13"}

// feedPieces feeds b in pieces of size n.
func feedPieces(c *Conn, d Dir, b []byte, n int) {
	for len(b) > 0 {
		k := min(n, len(b))
		c.Feed(d, b[:k], Meta{})
		b = b[k:]
	}
}

func TestSessionsAndRequests(t *testing.T) {
	for _, piece := range []int{1, 3, 9, 10, 1 << 20} {
		t.Run(fmt.Sprint(piece), func(t *testing.T) {
			w := newWire(true)
			w.fr[1].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
			w.fr[0].WriteSettings()
			w.fr[1].WriteSettingsAck()
			w.fr[0].WriteSettingsAck()
			// Stream 1: CONNECT split over HEADERS (padded, with priority) and two CONTINUATIONs.
			blk := w.block(0, append(wsConnect, "origin", "http://example.com", "cookie", strings.Repeat("c", 100))...)
			w.fr[0].WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: blk[:5], PadLength: 7,
				Priority: http2.PriorityParam{StreamDep: 0, Weight: 15}})
			w.fr[0].WriteContinuation(1, false, blk[5:20])
			w.fr[0].WriteContinuation(1, true, blk[20:])
			w.headers(1, 1, false, ":status", "200")
			// Stream 3: a second WebSocket; its request reuses dynamic table entries.
			w.headers(0, 3, false, wsConnect...)
			w.headers(1, 3, false, ":status", "200", "sec-websocket-extensions", "permessage-deflate")
			// Stream 5: an ordinary GET.
			w.headers(0, 5, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "example.com")
			w.headers(1, 5, false, ":status", "200")
			w.fr[1].WriteData(5, true, []byte("plain body"))
			w.fr[0].WriteDataPadded(1, false, []byte("hello "), make([]byte, 5))
			w.fr[0].WriteData(3, false, []byte("three"))
			w.fr[1].WriteData(1, false, []byte("from server"))
			w.fr[0].WriteData(1, false, []byte("world"))
			w.fr[1].WritePing(false, [8]byte{1})
			w.fr[0].WritePing(true, [8]byte{1})
			w.fr[0].WriteWindowUpdate(0, 1000)
			w.fr[0].WritePriority(3, http2.PriorityParam{Weight: 3})
			w.fr[0].WriteData(1, true, nil)
			w.fr[1].WriteDataPadded(1, true, []byte("!"), make([]byte, 200))
			w.fr[1].WriteRSTStream(3, http2.ErrCodeCancel)

			r := newRec()
			c := NewConn(r, Limits{})
			w.feedLog(c, piece)
			c.Close(Meta{})

			if got, want := fmt.Sprint(r.opened), "[1 3]"; got != want {
				t.Errorf("opened %s, want %s", got, want)
			}
			if got, want := fmt.Sprint(r.requests), "[5]"; got != want {
				t.Errorf("requests %s, want %s", got, want)
			}
			if got := r.data["1/c2s"].String(); got != "hello world" {
				t.Errorf("1/c2s %q", got)
			}
			if got := r.data["1/s2c"].String(); got != "from server!" {
				t.Errorf("1/s2c %q", got)
			}
			if got := r.data["3/c2s"].String(); got != "three" {
				t.Errorf("3/c2s %q", got)
			}
			if _, ok := r.data["5/s2c"]; ok {
				t.Error("an ordinary response's body was delivered as WebSocket data")
			}
			want := []string{"1 END_STREAM in both directions", "3 RST_STREAM CANCEL from the server"}
			if fmt.Sprint(r.ends) != fmt.Sprint(want) {
				t.Errorf("ends %q, want %q", r.ends, want)
			}
			if len(r.anom) != 0 {
				t.Errorf("anomalies %v", r.anom)
			}
			if v, _ := Get(r.fields[1], "origin"); v != "http://example.com" {
				t.Errorf("stream 1 origin %q (fields %v)", v, r.fields[1])
			}
			if v, _ := Get(r.fields[3], ":path"); v != "/chat" {
				t.Errorf("stream 3 :path %q", v)
			}
			if st := c.Stats(); st.Requests != 1 || st.WebSockets != 2 || st.Frames != uint64(len(r.frames)) {
				t.Errorf("stats %+v, %d frames", st, len(r.frames))
			}
		})
	}
}

func TestRejectedAndAnomalies(t *testing.T) {
	w := newWire(true)
	// CONNECT before the server's SETTINGS, without :scheme, with a key.
	w.headers(0, 1, false, ":method", "CONNECT", ":protocol", "websocket", ":path", "/", ":authority", "a",
		"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
	w.fr[1].WriteSettings()
	w.headers(1, 1, false, ":status", "200", "sec-websocket-accept", "x")
	w.fr[0].WriteData(1, true, []byte("a"))
	w.fr[0].WriteData(1, false, []byte("late"))
	w.headers(0, 3, false, wsConnect...)
	w.headers(1, 3, true, ":status", "403")
	r := newRec()
	c := NewConn(r, Limits{})
	w.feedLog(c, 7)
	c.Close(Meta{})
	if fmt.Sprint(r.rejected) != "[3]" || fmt.Sprint(r.opened) != "[1]" {
		t.Errorf("opened %v rejected %v", r.opened, r.rejected)
	}
	if got, want := fmt.Sprint(r.anom), "["+AnDataAfterEndStream+"]"; got != want {
		t.Errorf("connection anomalies %s, want %s", got, want)
	}
	// The rejected stream ends too (with the connection: the client never
	// ended its side), so its session gets its end.
	if got := fmt.Sprint(r.ends); got != "[1 connection ended without END_STREAM 3 connection ended without END_STREAM]" {
		t.Errorf("ends %s", got)
	}
}

func TestStreamAnomalies(t *testing.T) {
	w := newWire(true)
	w.headers(0, 1, false, ":method", "CONNECT", ":protocol", "websocket", ":path", "/", ":authority", "a",
		"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
	w.fr[1].WriteSettings()
	w.headers(1, 1, false, ":status", "200", "sec-websocket-accept", "x")
	var got []string
	h := &anomalyGrab{rec: newRec(), got: &got}
	c := NewConn(h, Limits{})
	w.feedLog(c, 100)
	want := []string{AnConnectNotEnabled, AnConnectPseudoMissing, AnWebSocketKeyPresent, AnWebSocketKeyPresent}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("stream anomalies %v, want %v", got, want)
	}
}

type anomalyGrab struct {
	*rec
	got *[]string
}

func (a *anomalyGrab) Open(s *Stream, m Meta) {
	for _, x := range s.Anomalies {
		*a.got = append(*a.got, x.ID)
	}
}

func TestGoAwayAndHPACKError(t *testing.T) {
	w := newWire(true)
	w.fr[1].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	w.headers(0, 1, false, wsConnect...)
	w.headers(0, 3, false, wsConnect...)
	w.headers(1, 1, false, ":status", "200")
	w.headers(1, 3, false, ":status", "200")
	w.fr[1].WriteGoAway(1, http2.ErrCodeNo, nil)
	// An index far beyond the tables.
	w.fr[0].WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: []byte{0xff, 0xff, 0x7f}, EndHeaders: true})
	w.headers(0, 7, false, wsConnect...) // lost: after the HPACK error
	r := newRec()
	c := NewConn(r, Limits{})
	w.feedLog(c, 5)
	c.Close(Meta{})
	want := []string{"3 GOAWAY NO_ERROR from the server", "1 GOAWAY NO_ERROR from the server"}
	if fmt.Sprint(r.ends) != fmt.Sprint(want) {
		t.Errorf("ends %q, want %q", r.ends, want)
	}
	if fmt.Sprint(r.anom) != "["+AnHPACKError+"]" {
		t.Errorf("anomalies %v", r.anom)
	}
	if len(r.opened) != 2 {
		t.Errorf("opened %v", r.opened)
	}
}

func TestGapsAndResync(t *testing.T) {
	w := newWire(true)
	w.fr[1].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	w.headers(0, 1, false, wsConnect...)
	w.headers(1, 1, false, ":status", "200")
	w.fr[0].WriteData(1, false, []byte("0123456789"))
	w.fr[0].WriteData(1, false, []byte("abcdef"))
	w.fr[0].WritePing(false, [8]byte{})
	w.fr[0].WriteData(1, false, []byte("XYZ"))
	w.fr[0].WriteData(1, false, []byte("tail"))
	cb := w.buf[0].Bytes()
	dataAt := bytes.Index(cb, []byte("0123456789"))
	abcAt := bytes.Index(cb, []byte("abcdef"))
	r := newRec()
	c := NewConn(r, Limits{})
	for _, e := range w.log[:len(w.log)-5] {
		c.Feed(e.d, e.b, Meta{})
	}
	c.Feed(ClientToServer, cb[dataAt-9:dataAt+2], Meta{})
	c.Gap(ClientToServer, 3, Meta{}) // inside the first DATA frame: exact
	c.Feed(ClientToServer, cb[dataAt+5:abcAt+1], Meta{})
	c.Gap(ClientToServer, 20, Meta{}) // loses the rest of "abcdef" and part of the PING
	c.Feed(ClientToServer, cb[abcAt+21:], Meta{})
	c.Close(Meta{})
	if got := r.data["1/c2s"].String(); got != "0156789aXYZtail" {
		t.Errorf("data %q", got)
	}
	if got, want := fmt.Sprint(r.gaps), "[1/c2s 3 true 1/c2s 20 false]"; got != want {
		t.Errorf("gaps %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(r.anom), "["+AnHeadersLost+" "+AnResync+"]"; got != want {
		t.Errorf("anomalies %s, want %s", got, want)
	}
}

func TestPrefaceMissing(t *testing.T) {
	w := newWire(false)
	w.fr[0].WriteSettings()
	r := newRec()
	c := NewConn(r, Limits{})
	c.Feed(ClientToServer, w.buf[0].Bytes(), Meta{})
	c.Close(Meta{})
	if len(r.anom) == 0 || r.anom[0] != AnPrefaceMissing {
		t.Errorf("anomalies %v", r.anom)
	}
}

func TestUpgradeStream1(t *testing.T) {
	w := newWire(true)
	w.fr[0].WriteSettings()
	w.fr[1].WriteSettings()
	w.headers(1, 1, false, ":status", "200")
	w.fr[1].WriteData(1, true, []byte("body"))
	r := newRec()
	c := NewConn(r, Limits{})
	c.UpgradeStream1([]hpack.HeaderField{{Name: ":method", Value: "GET"}}, Meta{})
	c.Feed(ClientToServer, w.buf[0].Bytes(), Meta{})
	c.Feed(ServerToClient, w.buf[1].Bytes(), Meta{})
	c.Close(Meta{})
	if fmt.Sprint(r.requests) != "[1]" || len(r.anom) != 0 || len(r.opened) != 0 {
		t.Errorf("requests %v anomalies %v opened %v", r.requests, r.anom, r.opened)
	}
}

func TestLimits(t *testing.T) {
	w := newWire(true)
	w.fr[1].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	w.headers(0, 1, false, append(wsConnect, "big", strings.Repeat("v", 2000))...)
	r := newRec()
	c := NewConn(r, Limits{MaxFrame: 1000})
	c.Feed(ServerToClient, w.buf[1].Bytes(), Meta{})
	c.Feed(ClientToServer, w.buf[0].Bytes(), Meta{})
	if fmt.Sprint(r.anom) != "["+AnHeadersLost+"]" {
		t.Errorf("anomalies %v", r.anom)
	}
	r = newRec()
	c = NewConn(r, Limits{MaxHeaderBlock: 500})
	c.Feed(ServerToClient, w.buf[1].Bytes(), Meta{})
	c.Feed(ClientToServer, w.buf[0].Bytes(), Meta{})
	if fmt.Sprint(r.anom) != "["+AnHPACKError+"]" {
		// a string longer than the cap is an hpack error
		t.Errorf("anomalies %v", r.anom)
	}
}

// nopHandler ignores everything.
type nopHandler struct{}

func (nopHandler) Frame(*Frame, Meta)                       {}
func (nopHandler) Request(*Stream, Meta)                    {}
func (nopHandler) Open(*Stream, Meta)                       {}
func (nopHandler) Rejected(*Stream, Meta)                   {}
func (nopHandler) Data(*Stream, Dir, []byte, Meta)          {}
func (nopHandler) DataGap(*Stream, Dir, uint64, bool, Meta) {}
func (nopHandler) End(*Stream, EndReason, Meta)             {}
func (nopHandler) Anomaly(Dir, uint32, Anomaly, Meta)       {}

// TestSteadyStateAllocs checks that the frames of an open session (DATA,
// PING, WINDOW_UPDATE) are decoded without allocating.
func TestSteadyStateAllocs(t *testing.T) {
	w := newWire(true)
	w.fr[1].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	w.headers(0, 1, false, wsConnect...)
	w.headers(1, 1, false, ":status", "200")
	c := NewConn(nopHandler{}, Limits{})
	w.feedLog(c, 1<<20)
	var b bytes.Buffer
	fr := http2.NewFramer(&b, nil)
	fr.WriteData(1, false, []byte("some websocket bytes"))
	fr.WritePing(false, [8]byte{})
	fr.WriteWindowUpdate(1, 100)
	fr.WriteDataPadded(1, false, []byte("more"), make([]byte, 10))
	chunk := b.Bytes()
	allocs := testing.AllocsPerRun(100, func() {
		c.Feed(ClientToServer, chunk[:7], Meta{})
		c.Feed(ClientToServer, chunk[7:], Meta{})
	})
	if allocs != 0 {
		t.Errorf("%v allocations per batch of frames, want 0", allocs)
	}
}
