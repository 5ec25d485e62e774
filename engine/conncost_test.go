package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/internal/attackgen"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/source"
)

// maxConnCost is the most live heap an open, idle WebSocket connection may
// take (README, "Performance"; 5.1 KB measured): its connection table
// entry, reassembly stream and recent-window rings, connection state with
// its two handshake heads, and two direction decoders.
const maxConnCost = 5632

// liveHeap collects garbage and returns the live heap.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// noTakeover is the extension offer and answer of the deflate case.
const noTakeover = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

// deflateIdle writes n WebSocket connections that negotiate
// permessage-deflate without context takeover, exchange one compressed
// message each way and stay open.
func deflateIdle(t *testing.T, n int) []byte {
	t.Helper()
	cp := capgen.NewCapture(capgen.CaptureOptions{Step: 10 * time.Microsecond})
	ext := capgen.Header{Name: "Sec-WebSocket-Extensions", Value: noTakeover}
	for i := range n {
		client, server := synthAddrs(i)
		c, err := capgen.NewConn(cp, capgen.ConnConfig{Client: client, Server: server,
			ClientISN: uint32(0x1000_0000 + i*7919), ServerISN: uint32(0x2000_0000 + i*104729),
			Link: capgen.Link{Type: capgen.LinkEthernet}})
		if err != nil {
			t.Fatal(err)
		}
		c.Open()
		c.Send(capgen.Client, capgen.UpgradeRequest("/chat", server.String(), wsKey, ext))
		c.Send(capgen.Server, capgen.SwitchingProtocols(capgen.AcceptKey(wsKey), ext))
		for _, side := range []capgen.Side{capgen.Client, capgen.Server} {
			d, err := capgen.NewDeflater(15, false)
			if err != nil {
				t.Fatal(err)
			}
			p, err := d.Compress(fmt.Appendf(nil, `{"hello":%d,"pad":"%0200d"}`, i, 0))
			if err != nil {
				t.Fatal(err)
			}
			f := capgen.Frame{Fin: true, RSV1: true, Opcode: capgen.OpText, Payload: p}
			if side == capgen.Client {
				f.Masked, f.Key = true, [4]byte{1, 2, 3, 4}
			}
			c.Send(side, f.Bytes())
		}
		if err := c.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := cp.WritePcap(&b, capgen.PcapOptions{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestOpenConnectionCost opens many WebSocket connections that exchange
// a message and stay open, and checks the live heap they take each: plain
// ones (attackgen's open-websockets), and ones that compress without
// context takeover, whose inflaters go back to the pool between messages.
func TestOpenConnectionCost(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 24,000 connections")
	}
	var open *attackgen.Attack
	for _, a := range attackgen.All() {
		if a.Name == "open-websockets" {
			open = &a
		}
	}
	if open == nil {
		t.Fatal("attackgen has no open-websockets attack")
	}
	const scale = 10 // 2,000 connections a unit
	var plain bytes.Buffer
	if err := open.Write(&plain, scale); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		capture []byte
		conns   int
		most    float64
	}{
		{"open-websockets", plain.Bytes(), 2000 * scale, maxConnCost},
		// Longer heads, the negotiated parameters and each direction's
		// small message buffers: ~6.8 KB, against 113 KB when each
		// direction kept its inflater.
		{"deflate without context takeover", deflateIdle(t, 4000), 4000, maxConnCost + 1536},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src, err := source.OpenReader("open.pcap", bytes.NewReader(tc.capture))
			if err != nil {
				t.Fatal(err)
			}
			e := New(&discardSink{}, Options{Memory: DefaultMemory})
			before := liveHeap()
			var p source.Packet
			for {
				if err := src.Next(&p); err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatal(err)
					}
					break
				}
				e.Packet(&p)
			}
			after := liveHeap()
			st := e.Stats()
			if st.Reassembly.Active < tc.conns || st.Dissect.Frames < uint64(tc.conns) {
				t.Fatalf("%d connections open and %d frames, want at least %d", st.Reassembly.Active, st.Dissect.Frames, tc.conns)
			}
			per := float64(after-before) / float64(st.Reassembly.Active)
			t.Logf("%d open connections: %.0f bytes of live heap each", st.Reassembly.Active, per)
			if per > tc.most {
				t.Errorf("an open connection takes %.0f bytes of live heap, more than %.0f", per, tc.most)
			}
			e.Finish()
			runtime.KeepAlive(tc.capture)
		})
	}
}
