package engine

import (
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/reassembly"
)

// midstreamBothWays is a connection captured from the middle of a large
// server frame while the client keeps sending: the server direction must
// search for a frame boundary while the client direction decodes.
func midstreamBothWays(t *testing.T) []byte {
	t.Helper()
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	client, server := synthAddrs(0)
	c, err := capgen.NewConn(cp, capgen.ConnConfig{Client: client, Server: server, MSS: 500, Link: capgen.Link{Type: capgen.LinkEthernet}})
	if err != nil {
		t.Fatal(err)
	}
	big := capgen.Frame{Fin: true, Opcode: capgen.OpBinary, Payload: capgen.RandomBytes(4000, 3)}.Bytes()
	c.StartAt(capgen.Server, 1000)
	c.Open()
	c.Send(capgen.Server, big[:2000])
	for i := range 3 {
		c.Send(capgen.Client, capgen.Frame{Fin: true, Opcode: capgen.OpText, Masked: true, Key: [4]byte{1, 2, 3, byte(i)},
			Payload: []byte("client text while the server is mid-frame")}.Bytes())
	}
	c.Send(capgen.Server, big[2000:])
	for i := range 3 {
		c.Send(capgen.Server, capgen.Frame{Fin: true, Opcode: capgen.OpText, Payload: capgen.JSONText(100, i)}.Bytes())
		c.Send(capgen.Client, capgen.Frame{Fin: true, Opcode: capgen.OpText, Masked: true, Key: [4]byte{4, 5, 6, byte(i)},
			Payload: []byte("client text after")}.Bytes())
	}
	c.Close(capgen.Client)
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	return writePcap(t, cp)
}

// midstreamBesideOther is a connection picked up in the middle of a
// server frame, whose search for a frame boundary spans messages of another
// connection: a small frame complete in the first packets is only known to
// be a frame once the large one after it ends, packets later. The other
// connection's records of the packets in between must not come out before
// it.
func midstreamBesideOther(t *testing.T, large bool) []byte {
	t.Helper()
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	client, server := synthAddrs(7)
	a, err := capgen.NewConn(cp, capgen.ConnConfig{Client: client, Server: server, MSS: 500, Link: capgen.Link{Type: capgen.LinkEthernet}})
	if err != nil {
		t.Fatal(err)
	}
	var stream []byte
	stream = append(stream, capgen.Frame{Fin: true, Opcode: capgen.OpText, Payload: capgen.JSONText(200, 1)}.Bytes()...)
	stream = append(stream, capgen.Frame{Fin: true, Opcode: capgen.OpText, Payload: capgen.JSONText(100, 2)}.Bytes()...)
	stream = append(stream, capgen.Frame{Fin: true, Opcode: capgen.OpBinary, Payload: capgen.RandomBytes(3000, 5)}.Bytes()...)
	for i := range 3 {
		stream = append(stream, capgen.Frame{Fin: true, Opcode: capgen.OpText, Payload: capgen.JSONText(60, 3+i)}.Bytes()...)
	}
	a.StartAt(capgen.Server, 100)
	a.Open()
	a.Send(capgen.Server, stream[:800])
	b := openSynth(t, cp, 8, false)
	for i := range 4 {
		b.message(capgen.Side(i & 1))
	}
	if large {
		// Formatted in pieces, handed on part by part while held.
		b.c.Send(capgen.Server, capgen.Frame{Fin: true, Opcode: capgen.OpBinary, Payload: capgen.RandomBytes(600<<10, 9)}.Bytes())
	}
	a.Send(capgen.Server, stream[800:])
	b.message(capgen.Server)
	a.Close(capgen.Server)
	if err := a.Finish(); err != nil {
		t.Fatal(err)
	}
	b.close()
	return writePcap(t, cp)
}

// TestRecordsInPacketOrder checks that records come out in the order of
// the packets that complete them when a direction has to search for frame
// boundaries (mid-stream pickup, also after an eviction), within a
// connection and across connections, as frames and as messages, with one
// and several workers.
func TestRecordsInPacketOrder(t *testing.T) {
	evicted := func() []byte {
		cp := capgen.NewCapture(capgen.CaptureOptions{})
		a := openSynth(t, cp, 0, false)
		a.message(capgen.Server)
		b := openSynth(t, cp, 1, false)
		b.message(capgen.Server)
		for i := range 4 {
			a.message(capgen.Side(i & 1))
		}
		a.close()
		return writePcap(t, cp)
	}
	inputs := []struct {
		name string
		data []byte
		opts Options
	}{
		{"midstream-both-ways", midstreamBothWays(t), Options{}},
		{"midstream-beside-other", midstreamBesideOther(t, false), Options{}},
		{"midstream-beside-large", midstreamBesideOther(t, true), Options{}},
		{"after-eviction", evicted(), Options{Reassembly: reassembly.Config{MaxConns: 1}}},
	}
	for _, in := range inputs {
		for _, messages := range []bool{false, true} {
			for _, workers := range []int{1, 3} {
				opts := in.opts
				opts.Dissect = dissect.Options{Messages: messages}
				recs := jsonRecords(t, in.data, opts, workers)
				var last float64
				frames := 0
				for i, r := range recs {
					p := r["packet"].(float64)
					if p < last {
						t.Errorf("%s messages=%v workers=%d: record %d (%v) at packet %v after packet %v", in.name, messages, workers, i, r["type"], p, last)
					}
					last = max(last, p)
					if r["type"] == "frame" || r["type"] == "message" {
						frames++
					}
				}
				if frames < 6 {
					t.Errorf("%s messages=%v workers=%d: only %d frames/messages decoded", in.name, messages, workers, frames)
				}
			}
		}
	}
}
