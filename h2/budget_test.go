package h2

import (
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/http2"
)

// testBudget is a Budget that counts, refusing Take beyond limit (0: none).
type testBudget struct {
	t             *testing.T
	used, limit   int64
	peak, refused int64
}

func (b *testBudget) Take(n int64) bool {
	if b.limit > 0 && b.used+n > b.limit {
		b.refused++
		return false
	}
	b.add(n)
	return true
}

func (b *testBudget) Force(n int64) bool {
	b.add(n)
	return b.limit <= 0 || b.used <= b.limit
}

func (b *testBudget) Give(n int64) {
	b.add(-n)
	if b.used < 0 {
		b.t.Fatalf("budget given back more than taken: %d", b.used)
	}
}

func (b *testBudget) add(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

// budgetWire opens n extended CONNECTs and n ordinary GETs, each with a
// header of size bytes, and sends each CONNECT's stream data bytes before
// any response.
func budgetWire(n, size, data int) *wire {
	w := newWire(true)
	w.fr[1].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	big := strings.Repeat("v", size)
	for i := range n {
		ws, get := uint32(4*i+1), uint32(4*i+3)
		w.headers(0, ws, false, append(wsConnect, "x-big", big+fmt.Sprint(i))...)
		w.headers(0, get, true, ":method", "GET", ":scheme", "http", ":path", "/", ":authority", "a", "x-big", big+fmt.Sprint(i))
		w.fr[0].WriteData(ws, false, make([]byte, data))
	}
	return w
}

// TestBudgetCharged checks that what a Conn keeps is charged: the
// WebSocket streams' fields and held data, not an ordinary request's
// fields once reported, and that everything is given back, the held data
// when the responses come and the rest by Close.
func TestBudgetCharged(t *testing.T) {
	const n, size, data = 50, 2000, 1000
	w := budgetWire(n, size, data)
	b := &testBudget{t: t}
	r := newRec()
	c := NewConn(r, Limits{Budget: b})
	w.feedLog(c, 1000)
	wsFields := int64(n * (size + 32 + 6)) // x-big with its value, as counted
	if low := wsFields + n*data; b.used < low || b.used > low+wsFields/2 {
		t.Errorf("budget holds %d bytes with %d requests pending, want %d (+ overheads, without the GETs' fields)", b.used, n, low)
	}
	held := b.used
	for i := range n {
		w.headers(1, uint32(4*i+1), false, ":status", "200")
	}
	w.log = w.log[len(w.log)-n:]
	w.feedLog(c, 1000)
	if len(r.opened) != n {
		t.Fatalf("%d sessions opened, want %d", len(r.opened), n)
	}
	// The responses' fields (":status: 200", 42 bytes as counted) are
	// kept instead, and the server direction's frame buffer grew a little.
	if released := held - b.used; released > n*(data-42) || released < n*(data-42)-512 {
		t.Errorf("answering released %d bytes, want the %d held less the responses' %d", released, n*data, n*42)
	}
	c.Close(Meta{})
	if b.used != 0 {
		t.Errorf("budget holds %d bytes after Close", b.used)
	}
}

// TestBudgetRefusesHeldData checks what an exhausted budget costs: client
// data sent before the response is held only while the budget allows (the
// rest is a hole the session reports when it opens), and each new CONNECT
// then takes the place of the oldest unanswered one, reported, so the
// connection holds no more than when the budget ran out.
func TestBudgetRefusesHeldData(t *testing.T) {
	const n, size, data = 20, 100, 4000
	w := budgetWire(n, size, data)
	for i := range n {
		w.headers(1, uint32(4*i+1), false, ":status", "200")
	}
	b := &testBudget{t: t, limit: 30000}
	r := newRec()
	c := NewConn(r, Limits{Budget: b})
	w.feedLog(c, 1<<20)
	if b.refused == 0 || len(r.gaps) == 0 || len(r.opened) == n {
		t.Fatalf("budget refused %d times, %d holes, %d of %d sessions opened; want refusals, holes and CONNECTs dropped",
			b.refused, len(r.gaps), len(r.opened), n)
	}
	var got int
	for _, d := range r.data {
		got += d.Len()
	}
	if got+len(r.gaps)*data != len(r.opened)*data {
		t.Errorf("%d bytes delivered and %d holes for %d sessions of %d bytes each", got, len(r.gaps), len(r.opened), data)
	}
	for _, g := range r.gaps {
		if !strings.HasSuffix(g, fmt.Sprintf(" %d true", data)) {
			t.Errorf("hole %q, want a whole message's %d bytes, exact", g, data)
		}
	}
	if got, want := strings.Count(strings.Join(r.anom, " "), AnMemoryBudget), len(r.gaps)+n-len(r.opened); got < want {
		t.Errorf("%d %s anomalies, want at least one per hole and per dropped CONNECT (%d)", got, AnMemoryBudget, want)
	}
	if b.peak > b.limit+8<<10 {
		t.Errorf("budget peaked at %d bytes, limit %d", b.peak, b.limit)
	}
	c.Close(Meta{})
	if b.used != 0 {
		t.Errorf("budget holds %d bytes after Close", b.used)
	}
}

// TestStreamsLimitReported checks that an unanswered extended CONNECT
// dropped for the limit of streams tracked is reported, and that its late
// answer opens nothing.
func TestStreamsLimitReported(t *testing.T) {
	w := newWire(true)
	w.fr[1].WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1})
	for i := range 5 {
		w.headers(0, uint32(2*i+1), false, wsConnect...)
	}
	w.headers(1, 1, false, ":status", "200")
	w.headers(1, 9, false, ":status", "200")
	r := newRec()
	c := NewConn(r, Limits{MaxStreams: 4})
	w.feedLog(c, 1<<20)
	if got := fmt.Sprint(r.anom); got != "["+AnStreamsLimit+"]" {
		t.Errorf("anomalies %s, want one %s", got, AnStreamsLimit)
	}
	if got := fmt.Sprint(r.opened); got != "[9]" {
		t.Errorf("sessions opened %s, want only stream 9 (stream 1 was dropped)", got)
	}
}
