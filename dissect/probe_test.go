package dissect

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/wsdissect/wsdissect/reassembly"
)

// takenForWS reports whether a connection without a handshake fed the
// steps was reported as WebSocket, and how many frames it showed.
func takenForWS(t *testing.T, opts Options, steps ...step) (bool, int) {
	t.Helper()
	recs := feed(t, opts, false, false, steps...)
	for _, r := range recs {
		if r.kind == "conn" {
			return true, len(frames(recs))
		}
	}
	return false, 0
}

// TestProbeRandomStreams feeds connections picked up without their start
// whose bytes are random (what TLS picked up inside a record, SSH or any
// encrypted tunnel look like) or text that is not WebSocket, in large and
// small segments: none may be taken for WebSocket. Before the first sync
// of such a connection needed more evidence than a resync, three in four of
// the random ones were.
func TestProbeRandomStreams(t *testing.T) {
	const alpha = `{"id":12345,"name":"ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz","ok":true}@@@AAABBB` + "\r\n"
	for _, tc := range []struct {
		name  string
		ascii bool
		small bool
	}{{"random", false, false}, {"random-small-segments", false, true}, {"text", true, false}, {"text-small-segments", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			taken := 0
			const conns = 150
			for c := range conns {
				var steps []step
				for range 120 {
					n := 1448
					if tc.small {
						n = 20 + rng.IntN(100)
					} else if rng.IntN(3) == 0 {
						n = 20 + rng.IntN(600)
					}
					b := make([]byte, n)
					for k := range b {
						if tc.ascii {
							b[k] = alpha[rng.IntN(len(alpha))]
						} else {
							b[k] = byte(rng.Uint32())
						}
					}
					if rng.IntN(2) == 0 {
						steps = append(steps, c2s(b))
					} else {
						steps = append(steps, s2c(b))
					}
				}
				if ok, n := takenForWS(t, Options{}, steps...); ok {
					taken++
					t.Logf("connection %d taken for WebSocket, %d frames", c, n)
				}
			}
			if taken > 0 {
				t.Errorf("%d of %d connections of %s bytes taken for WebSocket", taken, conns, tc.name)
			}
		})
	}
}

// TestProbeEvidence: what a connection picked up without its handshake must
// show to be taken for WebSocket.
func TestProbeEvidence(t *testing.T) {
	k := []byte{1, 2, 3, 4}
	closeC := wsFrame{fin: true, op: OpClose, key: k, payload: []byte{0x03, 0xe9}}
	closeS := wsFrame{fin: true, op: OpClose, payload: []byte{0x03, 0xe9}}
	ping := wsFrame{fin: true, op: OpPing, payload: []byte{7}}
	bin := func(n int) wsFrame { return wsFrame{fin: true, op: OpBinary, payload: make([]byte, n)} }
	for _, tc := range []struct {
		name   string
		opts   Options
		steps  []step
		taken  bool
		frames int
	}{
		{"a close exchange", Options{}, []step{c2s(closeC.bytes()), s2c(closeS.bytes())}, true, 2},
		{"one close", Options{}, []step{c2s(closeC.bytes())}, false, 0},
		{"two closes, both masked", Options{}, []step{c2s(closeC.bytes()), s2c(closeC.bytes())}, false, 0},
		{"one long text frame", Options{}, []step{s2c(text(`{"event":"tick","seq":1234,"price":"101.25"}`).bytes())}, true, 1},
		{"one short text frame", Options{}, []step{s2c(text("hi there").bytes())}, false, 0},
		{"one short text frame on a --ws-port", Options{WSPorts: []uint16{80}}, []step{s2c(text("hi there").bytes())}, true, 1},
		{"three binary frames, a segment each", Options{}, []step{s2c(bin(40).bytes()), s2c(bin(50).bytes()), s2c(bin(60).bytes())}, true, 3},
		{"two binary frames, a segment each", Options{}, []step{s2c(bin(40).bytes()), s2c(bin(50).bytes())}, false, 0},
		{"short texts in one segment", Options{}, []step{s2c(cat(text("abc"), text("def"), text("ghi"), text("jkl")))}, true, 4},
		{"a ping among binary frames", Options{}, []step{s2c(cat(bin(30), ping, bin(20))), s2c(bin(10).bytes())}, true, 4},
		{"a message inside a message", Options{}, []step{s2c(cat(wsFrame{op: OpBinary, payload: make([]byte, 30)}, text("abc"), text("defgh"), text("ijklm"), text("nopqr")))}, true, 4},
		// The chain cannot start at "abc"; it starts at the continuation.
		{"a continuation after a whole message", Options{}, []step{s2c(cat(text("abc"), wsFrame{fin: true, op: OpContinuation, payload: []byte("defgh")},
			text("ijklm"), text("nopqr"), text("stuvw"), text("xyzab")))}, true, 5},
		{"RSV1 on a continuation", Options{}, []step{s2c(cat(wsFrame{rsv1: true, op: OpBinary, payload: make([]byte, 9)},
			wsFrame{rsv1: true, op: OpContinuation, payload: make([]byte, 9)}, wsFrame{fin: true, op: OpContinuation, payload: make([]byte, 9)}))}, false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			taken, n := takenForWS(t, tc.opts, tc.steps...)
			if taken != tc.taken || n != tc.frames {
				t.Errorf("taken %v with %d frames, want %v with %d", taken, n, tc.taken, tc.frames)
			}
		})
	}
}

// TestPickupRecordFirst: the connection record of a pickup goes with the
// connection's first frame, also when the direction that proved the
// connection to be WebSocket is not the one that sent it.
func TestPickupRecordFirst(t *testing.T) {
	k := []byte{9, 8, 7, 6}
	pong := wsFrame{fin: true, op: OpPong, key: k, payload: []byte("hb")}
	recs := feed(t, Options{}, false, false,
		c2s(pong.bytes()),
		s2c(text(`{"event":"tick","seq":1,"price":"101.25","qty":"3"}`).bytes()),
		s2c(text(`{"event":"tick","seq":2,"price":"101.50","qty":"1"}`).bytes()),
		c2s(wsFrame{fin: true, op: OpText, key: k, payload: []byte("subscribe")}.bytes()))
	var got []string
	for _, r := range recs {
		switch r.kind {
		case "conn":
			got = append(got, fmt.Sprintf("conn@%d", r.packet))
		case "frame", "message":
			got = append(got, fmt.Sprintf("%s@%d", r.dir, r.packet))
		}
	}
	want := []string{"conn@1", "c2s@1", "s2c@2", "s2c@3", "c2s@4"}
	if !slices.Equal(got, want) {
		t.Errorf("records %v, want %v", got, want)
	}
}

// TestProbeGivesUp: a connection without a handshake that shows no
// WebSocket within four times --max-search is left alone, and its searches
// leave the watermark (which would otherwise hold other connections'
// output back until it closes).
func TestProbeGivesUp(t *testing.T) {
	var c collect
	d := New(&c, Options{MaxSearch: 4096})
	h := d.NewConn(&reassembly.ConnInfo{Stream: 1, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:22")}})
	rng := rand.New(rand.NewPCG(5, 6))
	var off [2]uint64
	wants := true
	for i := range 40 {
		b := make([]byte, 1000)
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
		side := reassembly.Side(i % 2)
		wants = h.Data(side, &reassembly.Chunk{Data: b, Offset: off[side], Packet: uint64(i + 1)})
		off[side] += uint64(len(b))
		if !wants {
			break
		}
	}
	if wants {
		t.Fatal("the connection is still wanted after 40 KB of random bytes")
	}
	if pkt, ok := d.SearchFrom(); ok {
		t.Errorf("the watermark is still held at packet %d by the given-up searches", pkt)
	}
	h.Close(reassembly.ClosedFIN)
	if len(c.recs) != 0 {
		t.Errorf("records of a connection given up: %+v", c.recs)
	}
}

// TestProbeGapsQuiet: bytes lost in a connection that nothing shows to be
// WebSocket make no record (the old search printed a tcp-gap for every
// loss of every such connection, with no connection record to go with it).
func TestProbeGapsQuiet(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	random := func(n int) []byte {
		b := make([]byte, n)
		for k := range b {
			b[k] = byte(rng.Uint32())
		}
		return b
	}
	recs := feed(t, Options{}, false, false, s2c(random(700)), step{side: reassembly.SideB, gap: 300}, s2c(random(700)),
		c2s(random(200)), step{side: reassembly.SideA, gap: 50}, c2s(random(200)))
	if len(recs) != 0 {
		t.Errorf("records of a connection not shown to be WebSocket: %+v", recs)
	}
}

// TestCutUpgradeIsEvidence: a handshake cut by the snap length or by lost
// bytes is not decodable, but an answer that starts "HTTP/1.1 101" shows the
// connection upgraded: its frames need no more evidence than a resync's.
func TestCutUpgradeIsEvidence(t *testing.T) {
	head := []byte("HTTP/1.1 101 Switching Protocols\r\nUpgr")
	recs := feed(t, Options{}, true, false,
		c2s([]byte("GET /chat HTTP/1.1\r\nHost: ex")), step{side: reassembly.SideA, gap: 150},
		s2c(head), step{side: reassembly.SideB, gap: 90},
		s2c(text("hey").bytes()))
	var got []string
	for _, r := range frames(recs) {
		got = append(got, r.payload)
	}
	// One short frame alone is not enough for a connection without a
	// handshake (TestProbeEvidence).
	if !slices.Equal(got, []string{"hey"}) {
		t.Errorf("frames %q, want the one after the cut 101", got)
	}
}
