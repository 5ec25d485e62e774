package engine

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"runtime/metrics"
	"testing"

	"github.com/wsdissect/wsdissect/internal/attackgen"
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

// TestOpenConnectionCost opens many WebSocket connections that exchange
// one message and stay open, and checks the live heap they take each.
func TestOpenConnectionCost(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 20,000 connections")
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
	var capture bytes.Buffer
	if err := open.Write(&capture, scale); err != nil {
		t.Fatal(err)
	}
	src, err := source.OpenReader("open.pcap", bytes.NewReader(capture.Bytes()))
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
	if st.Reassembly.Active < 2000*scale {
		t.Fatalf("%d connections open, want at least %d", st.Reassembly.Active, 2000*scale)
	}
	per := float64(after-before) / float64(st.Reassembly.Active)
	t.Logf("%d open connections: %.0f bytes of live heap each", st.Reassembly.Active, per)
	if per > maxConnCost {
		t.Errorf("an open connection takes %.0f bytes of live heap, more than %d", per, maxConnCost)
	}
	e.Finish()
	runtime.KeepAlive(capture.Bytes())
}
