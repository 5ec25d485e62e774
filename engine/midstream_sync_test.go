package engine

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// midstreamBinaryCapture is conns connections of binary messages of random
// bytes (as a tunnel of SSH or TLS sends) whose capture starts at a client
// segment that begins a 1,536-byte frame, the rest of it in the next
// segment; it returns the capture and each connection's messages by
// direction, base64, as sent.
func midstreamBinaryCapture(t *testing.T, conns int) ([]byte, []map[string]bool) {
	t.Helper()
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	sent := make([]map[string]bool, conns)
	for i := range conns {
		client, server := synthAddrs(i)
		c, err := capgen.NewConn(cp, capgen.ConnConfig{Client: client, Server: server, Link: capgen.Link{Type: capgen.LinkEthernet}})
		if err != nil {
			t.Fatal(err)
		}
		req := capgen.UpgradeRequest("/tunnel", server.String(), wsKey)
		resp := capgen.SwitchingProtocols(capgen.AcceptKey(wsKey))
		seed := uint64(i) * 100
		first := capgen.RandomBytes(41, seed)
		c.StartAt(capgen.Client, uint64(len(req)+len(capgen.Frame{Fin: true, Opcode: capgen.OpBinary, Masked: true, Payload: first}.Bytes())))
		c.Open()
		c.Send(capgen.Client, req)
		c.Send(capgen.Server, resp)
		sent[i] = map[string]bool{}
		send := func(from capgen.Side, p []byte, sizes ...int) {
			f := capgen.Frame{Fin: true, Opcode: capgen.OpBinary, Payload: p}
			if from == capgen.Client {
				f.Masked, f.Key = true, [4]byte{byte(seed), 0x5a, byte(i), 0xc3}
			}
			c.SendSegments(from, f.Bytes(), sizes...)
			sent[i][from.Dir()+" "+base64.StdEncoding.EncodeToString(p)] = true
		}
		send(capgen.Client, first)
		send(capgen.Server, capgen.RandomBytes(41, seed+1))
		send(capgen.Client, sshLike(1536, seed+2), 1448)
		send(capgen.Server, capgen.RandomBytes(1056, seed+3))
		for k := range 6 {
			send(capgen.Client, capgen.RandomBytes(48+k*40, seed+4+uint64(k)))
			send(capgen.Server, capgen.RandomBytes(44+k*30, seed+20+uint64(k)))
		}
		c.Close(capgen.Client)
		if err := c.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	return writePcap(t, cp), sent
}

// sshLike returns n bytes shaped like SSH binary packets inside a tunnel:
// a 4-byte length (small, so mostly zero bytes), a padding length, a
// message type and random bytes, again and again.
func sshLike(n int, seed uint64) []byte {
	var b []byte
	for k := uint64(0); len(b) < n; k++ {
		body := capgen.RandomBytes(24+int(k*37%90), seed*1000+k)
		l := len(body) + 2
		b = append(b, 0, 0, byte(l>>8), byte(l), byte(4+k%12), byte(20+k%80))
		b = append(b, body...)
	}
	return b[:n]
}

// TestMidstreamSyncAtSegmentStart checks that a connection picked up in
// front of a frame of random bytes that spans two segments is synchronised
// at that frame, not on a chain of lookalike headers inside its random
// payload: every message decoded is one that was sent. (A corpus capture of
// wstunnel carrying SSH, cut in front of such a frame, synced 183 bytes
// into it and decoded garbage.)
func TestMidstreamSyncAtSegmentStart(t *testing.T) {
	const conns = 200
	data, sent := midstreamBinaryCapture(t, conns)
	recs := jsonRecords(t, data, Options{Dissect: dissect.Options{Messages: true}}, 1)
	decoded, foreign := 0, 0
	for _, r := range recs {
		if r["type"] != "message" || r["incomplete"] == true {
			continue
		}
		stream := int(r["stream"].(float64))
		b64, _ := r["b64"].(string)
		if r["opcode_name"] != "binary" || !sent[stream][fmt.Sprint(r["dir"], " ", b64)] {
			foreign++
			if foreign <= 3 {
				t.Errorf("stream %d: a %v message of %v bytes %v that was not sent", stream, r["opcode_name"], r["len"], r["dir"])
			}
			continue
		}
		decoded++
	}
	// Of the 14 messages a connection sends after the start, the first
	// client one is cut; the rest are all decoded.
	if want := conns * 13; decoded < want || foreign > 0 {
		t.Errorf("%d messages decoded as sent (want at least %d), %d that were not sent", decoded, want, foreign)
	}
}

// TestTLSPickedUp checks that a TLS connection picked up mid-stream, at a
// record boundary, is listed as TLS that cannot be decrypted, not searched
// for WebSocket frames (its ciphertext chains up as garbage frames).
func TestTLSPickedUp(t *testing.T) {
	hello := append([]byte{22, 3, 1, 0, 60, 1, 0, 0, 56, 3, 3}, capgen.RandomBytes(55, 1)...)
	for _, tc := range []struct {
		name  string
		start uint64 // the client's first byte in the capture
	}{
		{"at a record boundary", uint64(len(hello))},
		// The client's first bytes are ciphertext; the first record
		// header starts the server's first segment.
		{"inside a record", uint64(len(hello)) + 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cp := capgen.NewCapture(capgen.CaptureOptions{})
			client, server := synthAddrs(0)
			c, err := capgen.NewConn(cp, capgen.ConnConfig{Client: client, Server: server, Link: capgen.Link{Type: capgen.LinkEthernet}})
			if err != nil {
				t.Fatal(err)
			}
			record := func(n int, seed uint64) []byte {
				return append([]byte{23, 3, 3, byte(n >> 8), byte(n)}, capgen.RandomBytes(n, seed)...)
			}
			c.StartAt(capgen.Client, tc.start)
			c.Open()
			c.Send(capgen.Client, hello)
			for k := range 12 {
				c.Send(capgen.Client, record(100+k*37, uint64(k)))
				c.SendSegments(capgen.Server, record(3000+k*101, uint64(100+k)), 1448)
			}
			c.Close(capgen.Client)
			if err := c.Finish(); err != nil {
				t.Fatal(err)
			}
			recs := jsonRecords(t, writePcap(t, cp), Options{}, 1)
			conns := 0
			for _, r := range recs {
				switch r["type"] {
				case "conn":
					conns++
					tls, _ := r["tls"].(map[string]any)
					if tls == nil || tls["reason"] != tlsdecrypt.PickedUpReason || r["anomalies"] != nil || r["client"] != client.String() {
						t.Errorf("conn record %v, want a TLS listing from %v: %q, without anomalies", r, client, tlsdecrypt.PickedUpReason)
					}
				case "frame", "message", "anomaly":
					t.Errorf("%v record: the TLS connection was searched for WebSocket frames: %v", r["type"], r)
				}
			}
			if conns != 1 {
				t.Errorf("%d conn records, want 1", conns)
			}
		})
	}
}
