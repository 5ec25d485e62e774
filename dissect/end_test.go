package dissect

import (
	"net/netip"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/reassembly"
)

// endSink keeps copies of the end records.
type endSink struct {
	ends  []End
	pkts  []uint64
	kinds []Kind
}

func (s *endSink) Emit(r *Record) error {
	s.kinds = append(s.kinds, r.Kind)
	if r.Kind == KindEnd {
		s.ends = append(s.ends, *r.End)
		s.pkts = append(s.pkts, r.Packet)
	}
	return nil
}

// TestEndRecord checks the end record of a connection: how TCP ended, who
// closed first, and per-direction totals.
func TestEndRecord(t *testing.T) {
	info := func() *reassembly.ConnInfo {
		return &reassembly.ConnInfo{Stream: 1, SawSYN: true, Addr: [2]netip.AddrPort{
			netip.MustParseAddrPort("10.0.0.1:50000"), netip.MustParseAddrPort("10.0.0.2:80")}}
	}
	ts := time.Unix(1700000000, 0)
	data := func(h reassembly.Handler, side reassembly.Side, off *[2]uint64, pkt uint64, b []byte) {
		h.Data(side, &reassembly.Chunk{Data: b, Offset: off[side], Packet: pkt, Time: ts.Add(time.Duration(pkt) * time.Millisecond)})
		off[side] += uint64(len(b))
	}
	key := []byte{1, 2, 3, 4}
	tests := []struct {
		name   string
		run    func(h reassembly.Handler)
		reason reassembly.CloseReason
		want   End
		pkt    uint64
	}{{
		name: "fin after close handshake",
		run: func(h reassembly.Handler) {
			var off [2]uint64
			data(h, reassembly.SideA, &off, 1, upgradeReq(""))
			data(h, reassembly.SideB, &off, 2, upgradeResp(""))
			data(h, reassembly.SideA, &off, 3, ctext("hello").bytes())
			data(h, reassembly.SideB, &off, 4, append(text("hi").bytes(), text("there").bytes()...))
			data(h, reassembly.SideB, &off, 5, closeF(1001, "bye", nil).bytes())
			data(h, reassembly.SideA, &off, 6, closeF(1001, "", key).bytes())
			h.Note(reassembly.SideB, &reassembly.Note{Kind: reassembly.NoteFIN, Packet: 7, Time: ts.Add(7 * time.Millisecond)})
			h.Note(reassembly.SideA, &reassembly.Note{Kind: reassembly.NoteFIN, Packet: 8, Time: ts.Add(8 * time.Millisecond)})
		},
		reason: reassembly.ClosedFIN,
		pkt:    8,
		want: End{Reason: EndFIN, FIN: [2]bool{true, true}, FirstFIN: ServerToClient, HasFIN: true,
			CloseFrom: ServerToClient, HasClose: true, CloseCode: 1001, HasCloseCode: true,
			Start:  ts.Add(time.Millisecond),
			Totals: [2]DirTotals{{Frames: 2, Messages: 2, WireBytes: 7, Bytes: 7}, {Frames: 3, Messages: 3, WireBytes: 12, Bytes: 12}}},
	}, {
		name: "rst from the client mid-message",
		run: func(h reassembly.Handler) {
			var off [2]uint64
			data(h, reassembly.SideA, &off, 1, upgradeReq(""))
			data(h, reassembly.SideB, &off, 2, upgradeResp(""))
			f := wsFrame{fin: true, op: OpBinary, payload: make([]byte, 300)}.bytes()
			data(h, reassembly.SideB, &off, 3, f[:100])
			h.Note(reassembly.SideA, &reassembly.Note{Kind: reassembly.NoteRST, Packet: 4, Time: ts.Add(4 * time.Millisecond)})
		},
		reason: reassembly.ClosedRST,
		pkt:    4,
		want: End{Reason: EndRST, RSTFrom: ClientToServer, HasRST: true, Start: ts.Add(time.Millisecond),
			Totals: [2]DirTotals{{}, {Frames: 1, Messages: 1, WireBytes: 96, Bytes: 96}}},
	}, {
		name: "capture ends",
		run: func(h reassembly.Handler) {
			var off [2]uint64
			data(h, reassembly.SideA, &off, 1, upgradeReq(""))
			data(h, reassembly.SideB, &off, 2, upgradeResp(""))
		},
		reason: reassembly.ClosedEOF,
		pkt:    2,
		want:   End{Reason: EndCaptureEnd, Start: ts.Add(time.Millisecond)},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s endSink
			d := New(&s, Options{})
			h := d.NewConn(info())
			tc.run(h)
			h.Close(tc.reason)
			if len(s.ends) != 1 {
				t.Fatalf("%d end records, want 1 (kinds %v)", len(s.ends), s.kinds)
			}
			if s.kinds[len(s.kinds)-1] != KindEnd {
				t.Errorf("the end record is not the last one: %v", s.kinds)
			}
			if s.ends[0] != tc.want {
				t.Errorf("end\n got %+v\nwant %+v", s.ends[0], tc.want)
			}
			if s.pkts[0] != tc.pkt {
				t.Errorf("end record packet %d, want %d", s.pkts[0], tc.pkt)
			}
		})
	}

	// A connection that never showed a conn record has no end record.
	var s endSink
	d := New(&s, Options{})
	h := d.NewConn(info())
	var off [2]uint64
	data(h, reassembly.SideA, &off, 1, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	h.Close(reassembly.ClosedFIN)
	if len(s.kinds) != 0 {
		t.Errorf("a plain HTTP connection emitted %v", s.kinds)
	}
}
