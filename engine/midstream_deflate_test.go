package engine

import (
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
)

// midstreamDeflateCapture is a compressed connection (context takeover)
// whose capture starts after the handshake and the first messages: the
// later messages refer to history that is not in the capture.
func midstreamDeflateCapture(t *testing.T) []byte {
	t.Helper()
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	client, server := synthAddrs(0)
	c, err := capgen.NewConn(cp, capgen.ConnConfig{Client: client, Server: server, Link: capgen.Link{Type: capgen.LinkEthernet}})
	if err != nil {
		t.Fatal(err)
	}
	ext := capgen.Header{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate"}
	req := capgen.UpgradeRequest("/", server.String(), wsKey, ext)
	resp := capgen.SwitchingProtocols(capgen.AcceptKey(wsKey), ext)
	d, err := capgen.NewDeflater(15, true)
	if err != nil {
		t.Fatal(err)
	}
	// The capture starts at the second message, which shares nothing with
	// the first and inflates; the third repeats the first, so it refers to
	// history from before the capture.
	x, y := capgen.RandomText(400, 1), capgen.RandomText(400, 2)
	var frames [][]byte
	for _, m := range [][]byte{x, y, x, y, capgen.JSONText(300, 0)} {
		p, err := d.Compress(m)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, capgen.Frame{Fin: true, RSV1: true, Opcode: capgen.OpText, Payload: p}.Bytes())
	}
	c.StartAt(capgen.Server, uint64(len(resp)+len(frames[0])))
	c.Open()
	c.Send(capgen.Client, req)
	c.Send(capgen.Server, resp)
	for _, f := range frames {
		c.Send(capgen.Server, f)
	}
	c.Close(capgen.Client)
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	return writePcap(t, cp)
}

// TestMidstreamDeflateContextLost checks that compressed messages whose
// history predates the capture are reported as deflate-context-lost (a
// warning: the capture's fault), never as decompression-failed (an error
// of the sender), and that payloads shown without inflating say so.
func TestMidstreamDeflateContextLost(t *testing.T) {
	recs := jsonRecords(t, midstreamDeflateCapture(t), Options{Dissect: dissect.Options{Messages: true}}, 1)
	var lost, raw int
	for _, r := range recs {
		an, _ := r["anomalies"].([]any)
		for _, x := range an {
			switch id := x.(map[string]any)["id"]; id {
			case dissect.AnDecompressFailed:
				t.Errorf("packet %v: %s: %v", r["packet"], id, x)
			case dissect.AnDeflateContextLost:
				lost++
			}
		}
		if r["type"] == "message" && r["inflated"] == false {
			raw++
		}
	}
	if lost == 0 || raw == 0 {
		t.Errorf("%d deflate-context-lost anomalies and %d records marked \"inflated\": false, want both", lost, raw)
	}
}
