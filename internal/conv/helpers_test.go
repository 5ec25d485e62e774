package conv

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/capgen"
)

// knownStep is the time between two packets of knownCapture.
const knownStep = 10 * time.Millisecond

// Payloads of knownCapture.
var (
	knownText = bytes.Repeat([]byte("hello websocket "), 64) // 1024 bytes, compressible
)

// knownCapture writes a capture whose statistics are known exactly and
// returns its path and the compressed size of knownText. The client pings
// "a" and "b", the server answers "b" first (2 steps after its ping) and
// then "a" (6 steps after); the client pings "c", answered 2 steps later;
// the server sends an unsolicited pong "zz"; the client pings "u", never
// answered. The client sends knownText compressed (permessage-deflate) and
// a 3-frame fragmented binary message; the server closes with 1001 "going
// away", the client answers with 1000.
func knownCapture(t *testing.T) (string, int) {
	t.Helper()
	c := capgen.NewCapture(capgen.CaptureOptions{Step: knownStep})
	conn, err := capgen.NewConn(c, capgen.ConnConfig{})
	if err != nil {
		t.Fatal(err)
	}
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	ext := capgen.Header{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate"}
	conn.Open()
	conn.Send(capgen.Client, capgen.UpgradeRequest("/known?x=1", "example.test", key, ext, capgen.Header{Name: "User-Agent", Value: "known/1.0"}))
	conn.Send(capgen.Server, capgen.SwitchingProtocols(capgen.AcceptKey(key), ext))
	mk := [4]byte{1, 2, 3, 4}
	cf := func(f capgen.Frame) []byte { f.Masked, f.Key = true, mk; return f.Bytes() }
	sf := func(f capgen.Frame) []byte { return f.Bytes() }
	// Each Send is one data packet and one ACK: a step apart.
	conn.Send(capgen.Client, cf(capgen.Frame{Fin: true, Opcode: 0x9, Payload: []byte("a")}))
	conn.Send(capgen.Client, cf(capgen.Frame{Fin: true, Opcode: 0x9, Payload: []byte("b")}))
	conn.Send(capgen.Server, sf(capgen.Frame{Fin: true, Opcode: 0xA, Payload: []byte("b")}))
	conn.Send(capgen.Server, sf(capgen.Frame{Fin: true, Opcode: 0xA, Payload: []byte("a")}))
	conn.Send(capgen.Client, cf(capgen.Frame{Fin: true, Opcode: 0x9, Payload: []byte("c")}))
	conn.Send(capgen.Server, sf(capgen.Frame{Fin: true, Opcode: 0xA, Payload: []byte("c")}))
	conn.Send(capgen.Server, sf(capgen.Frame{Fin: true, Opcode: 0xA, Payload: []byte("zz")}))
	conn.Send(capgen.Client, cf(capgen.Frame{Fin: true, Opcode: 0x9, Payload: []byte("u")}))
	d, err := capgen.NewDeflater(15, true)
	if err != nil {
		t.Fatal(err)
	}
	comp, err := d.Compress(knownText)
	if err != nil {
		t.Fatal(err)
	}
	conn.Send(capgen.Client, cf(capgen.Frame{Fin: true, RSV1: true, Opcode: 0x1, Payload: comp}))
	conn.Send(capgen.Client, capgen.Frames(
		capgen.Frame{Opcode: 0x2, Masked: true, Key: mk, Payload: []byte{0, 1, 2}},
		capgen.Frame{Opcode: 0x0, Masked: true, Key: mk, Payload: []byte{3, 4}},
		capgen.Frame{Fin: true, Opcode: 0x0, Masked: true, Key: mk, Payload: []byte{5}},
	))
	conn.Send(capgen.Server, sf(capgen.Frame{Fin: true, Opcode: 0x8, Payload: capgen.ClosePayload(1001, "going away")}))
	conn.Send(capgen.Client, cf(capgen.Frame{Fin: true, Opcode: 0x8, Payload: capgen.ClosePayload(1000, "")}))
	conn.Close(capgen.Server)
	if err := conn.Finish(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "known.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WritePcap(f, capgen.PcapOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, len(comp)
}

// collect runs a capture through a new Collector.
func collect(t *testing.T, path string, opts Options) *Collector {
	t.Helper()
	col := New(opts)
	if _, err := engine.ReadFile(path, engine.Options{}, col); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := col.Finish(); err != nil {
		t.Fatal(err)
	}
	return col
}

// testdataPath returns the path of a capture in the repository's testdata.
func testdataPath(name string) string { return filepath.Join("..", "..", "testdata", name) }
