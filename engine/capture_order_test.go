package engine

import (
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
)

// tcpInfo returns the source port and payload length of an Ethernet/IPv4/TCP
// packet.
func tcpInfo(tb testing.TB, b []byte) (port uint16, payload int) {
	tb.Helper()
	ip := b[14:]
	ihl := int(ip[0]&0x0f) * 4
	tcp := ip[ihl:]
	thl := int(tcp[12]>>4) * 4
	return binary.BigEndian.Uint16(tcp[0:2]), int(binary.BigEndian.Uint16(ip[2:4])) - ihl - thl
}

// TestAckCapturedBeforeData: capture order is not wire order. Segments are
// moved after the ACK of them, as a capture taken on two interfaces or NIC
// queues can have them: the ACK acknowledges data the capture has not shown
// yet. The messages must be those of the capture in wire order, with no
// gap, and the records still in packet order, with one worker and with two.
func TestAckCapturedBeforeData(t *testing.T) {
	cp := capgen.NewCapture(capgen.CaptureOptions{Step: 50 * time.Microsecond})
	var conns []*synthConn
	for i := range 4 {
		conns = append(conns, openSynth(t, cp, i, false))
	}
	for m := range 12 {
		for _, s := range conns {
			s.message(capgen.Side(m & 1))
		}
	}
	for _, s := range conns {
		s.close()
	}
	inOrder := writePcap(t, cp)
	// Two data segments and the ACK of both, D1 D2 A, are captured as
	// D2 A D1: when D2 comes, the hole before it is already acknowledged.
	pkts := cp.Packets()
	moved := 0
	for i := 0; i+2 < len(pkts); i++ {
		p1, n1 := tcpInfo(t, pkts[i].Data)
		p2, n2 := tcpInfo(t, pkts[i+1].Data)
		p3, n3 := tcpInfo(t, pkts[i+2].Data)
		if n1 > 0 && n2 > 0 && p1 == p2 && n3 == 0 && p3 != p1 {
			pkts[i].Data, pkts[i+1].Data, pkts[i+2].Data = pkts[i+1].Data, pkts[i+2].Data, pkts[i].Data
			moved++
			i += 2
		}
	}
	if moved < 10 {
		t.Fatalf("only %d segments moved", moved)
	}
	reordered := writePcap(t, cp)

	messages := func(recs []map[string]any) []string {
		var out []string
		for _, r := range recs {
			if r["type"] == "message" {
				out = append(out, fmt.Sprintf("%v %v %v %v", r["stream"], r["dir"], r["len"], r["text"]))
			}
		}
		slices.Sort(out)
		return out
	}
	opts := Options{Dissect: dissect.Options{Messages: true}}
	want := messages(jsonRecords(t, inOrder, opts, 1))
	if len(want) != 4*12+8 {
		t.Fatalf("%d messages in wire order, want %d", len(want), 4*12+8)
	}
	for _, workers := range []int{1, 2} {
		recs := jsonRecords(t, reordered, opts, workers)
		if got := messages(recs); !slices.Equal(got, want) {
			t.Errorf("%d workers: %d messages, want the %d of the capture in wire order", workers, len(got), len(want))
		}
		var last float64
		for _, r := range recs {
			if r["anomalies"] != nil {
				t.Errorf("%d workers: anomalies %v", workers, r["anomalies"])
			}
			if p, _ := r["packet"].(float64); p < last && r["type"] != "end" {
				t.Errorf("%d workers: record of packet %v after one of packet %v", workers, p, last)
			} else if r["type"] != "end" {
				last = p
			}
		}
	}
}

// TestResponseCapturedBeforeRequest: the upgrade's 101 captured before its
// GET (capture order is not wire order) still makes a handshake with the
// request's details, and the request is not decoded as frames.
func TestResponseCapturedBeforeRequest(t *testing.T) {
	cp := capgen.NewCapture(capgen.CaptureOptions{Step: 50 * time.Microsecond})
	s := openSynth(t, cp, 0, false)
	for m := range 6 {
		s.message(capgen.Side(m & 1))
	}
	s.close()
	inOrder := writePcap(t, cp)
	pkts := cp.Packets()
	client, _ := synthAddrs(0)
	get, resp := -1, -1
	for i, p := range pkts {
		port, n := tcpInfo(t, p.Data)
		switch {
		case n == 0:
		case port == client.Port() && get < 0:
			get = i
		case port != client.Port() && resp < 0:
			resp = i
		}
	}
	if get < 0 || resp < get {
		t.Fatalf("GET at %d, 101 at %d", get, resp)
	}
	pkts[get].Data, pkts[resp].Data = pkts[resp].Data, pkts[get].Data
	reordered := writePcap(t, cp)

	opts := Options{Dissect: dissect.Options{Messages: true}}
	summary := func(recs []map[string]any) (conn map[string]any, msgs []string) {
		for _, r := range recs {
			switch r["type"] {
			case "conn":
				conn = r
			case "message":
				msgs = append(msgs, fmt.Sprintf("%v %v %v", r["dir"], r["len"], r["text"]))
			}
			if r["anomalies"] != nil {
				t.Errorf("anomalies %v", r["anomalies"])
			}
		}
		slices.Sort(msgs)
		return conn, msgs
	}
	_, want := summary(jsonRecords(t, inOrder, opts, 1))
	conn, got := summary(jsonRecords(t, reordered, opts, 1))
	if conn == nil || conn["path"] != "/bench" || conn["midstream"] != false {
		t.Errorf("conn record %v, want the handshake of GET /bench", conn)
	}
	if !slices.Equal(got, want) {
		t.Errorf("messages %q, want %q", got, want)
	}
}
