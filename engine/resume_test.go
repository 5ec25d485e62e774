package engine

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// tlsWrite is one write of a recorded TLS conversation.
type tlsWrite struct {
	side capgen.Side
	data []byte
}

// tlsLog records the writes of both ends of a conversation, in order.
type tlsLog struct {
	mu     sync.Mutex
	writes []tlsWrite
}

// loggedConn logs what one end writes.
type loggedConn struct {
	net.Conn
	side capgen.Side
	log  *tlsLog
}

func (c *loggedConn) Write(p []byte) (int, error) {
	c.log.mu.Lock()
	c.log.writes = append(c.log.writes, tlsWrite{c.side, bytes.Clone(p)})
	c.log.mu.Unlock()
	return c.Conn.Write(p)
}

// tlsWebSocket runs a WebSocket upgrade and one message each way over
// crypto/tls through an in-memory pipe, and returns the TLS bytes each end
// wrote: the handshake's writes, then the rest.
func tlsWebSocket(t *testing.T, srv, cli *tls.Config) (handshake, rest []tlsWrite, resumed bool) {
	t.Helper()
	a, b := net.Pipe()
	log := &tlsLog{}
	client := tls.Client(&loggedConn{a, capgen.Client, log}, cli)
	server := tls.Server(&loggedConn{b, capgen.Server, log}, srv)
	// Closing the pipe, not the TLS connections: no close_notify to log
	// (and no write blocking on a reader that is gone).
	defer a.Close()
	defer b.Close()
	req := capgen.UpgradeRequest("/resume", "wss.example", wsKey)
	resp := append([]byte(capgen.SwitchingProtocols(capgen.AcceptKey(wsKey))),
		capgen.Frame{Fin: true, Opcode: capgen.OpText, Payload: []byte("hello from the server")}.Bytes()...)
	msg := capgen.Frame{Fin: true, Opcode: capgen.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4},
		Payload: []byte("hello from the client")}.Bytes()
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, len(req))
		if _, err := io.ReadFull(server, buf); err != nil {
			done <- err
			return
		}
		if _, err := server.Write(resp); err != nil {
			done <- err
			return
		}
		buf = make([]byte, len(msg))
		_, err := io.ReadFull(server, buf)
		done <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	a.SetDeadline(deadline)
	b.SetDeadline(deadline)
	if err := client.Handshake(); err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	n := len(log.writes)
	log.mu.Unlock()
	buf := make([]byte, len(resp))
	if _, err := client.Write(req); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(client, buf); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	return log.writes[:n], log.writes[n:], client.ConnectionState().DidResume
}

// resumptionCapture builds a capture of pairs TLS 1.2 connections and, for
// each, a second connection resuming its session (by session ticket, the
// only kind crypto/tls offers), overlapping it: every original connection
// does its handshake, then every resumed one, then all exchange their
// WebSocket messages and close. It returns the capture and the key log,
// which has no line for the resumed connections.
func resumptionCapture(t *testing.T, pairs int) ([]byte, []byte) {
	t.Helper()
	var keys bytes.Buffer
	type conv struct {
		c               *capgen.Conn
		handshake, rest []tlsWrite
	}
	cp := capgen.NewCapture(capgen.CaptureOptions{Step: 50 * time.Microsecond})
	var convs []conv
	for i := range pairs {
		opts := capgen.TLSOptions{MaxVersion: tls.VersionTLS12}
		srv, cli, err := opts.Configs(&keys)
		if err != nil {
			t.Fatal(err)
		}
		cli.ClientSessionCache = tls.NewLRUClientSessionCache(1)
		for j := range 2 {
			var resumed bool
			var cv conv
			cv.handshake, cv.rest, resumed = tlsWebSocket(t, srv, cli)
			if resumed != (j == 1) {
				t.Fatalf("pair %d, connection %d: resumed %v", i, j, resumed)
			}
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 3, byte(i), 1}), uint16(40000+j))
			server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 4, 0, 1}), 443)
			cv.c, err = capgen.NewConn(cp, capgen.ConnConfig{
				Client: client, Server: server, ClientISN: uint32(1000 + i*10 + j), ServerISN: uint32(900000 + i*10 + j),
				Link: capgen.Link{Type: capgen.LinkEthernet},
			})
			if err != nil {
				t.Fatal(err)
			}
			convs = append(convs, cv)
		}
	}
	replay := func(c *capgen.Conn, ws []tlsWrite) {
		for _, w := range ws {
			c.Send(w.side, w.data)
		}
	}
	for _, resumed := range []int{0, 1} {
		for i := resumed; i < len(convs); i += 2 {
			convs[i].c.Open()
			replay(convs[i].c, convs[i].handshake)
		}
		if resumed == 0 {
			// Cleartext connections with much to show in between, so that
			// the merger's back-pressure holds workers up.
			for i := range 6 {
				s := openSynth(t, cp, i, false)
				for m := range 40 {
					s.message(capgen.Side(m & 1))
				}
				s.close()
			}
		}
	}
	for _, cv := range convs {
		replay(cv.c, cv.rest)
	}
	for _, cv := range convs {
		cv.c.Close(capgen.Client)
		if err := cv.c.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	return writePcap(t, cp), keys.Bytes()
}

// TestResumptionAnyWorkers decodes TLS 1.2 connections resumed from
// connections still open, each pair likely spread over two workers, and
// requires the output of one worker from every number of workers: a
// resumed connection waits for the connections before it to be decoded.
func TestResumptionAnyWorkers(t *testing.T) {
	data, keys := resumptionCapture(t, 12)
	in := parallelInput{name: "resumption", pkts: memPackets(t, data)}
	// Each run gets a key log of its own: the resumption cache fills up.
	run := func(workers int, ro render.Options, memory int64) []byte {
		kl := tlsdecrypt.NewKeyLog()
		if err := kl.AddBytes(keys, "keys"); err != nil {
			t.Fatal(err)
		}
		if kl.Len() != 12 {
			t.Fatalf("the key log has %d client randoms, want the 12 original connections'", kl.Len())
		}
		in.opts.Dissect = dissect.Options{Messages: true, KeyLog: kl}
		in.opts.Memory = memory
		out, _, err := renderRun(t, &in, ro, workers)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		ro     render.Options
		memory int64
	}{
		{"summary", render.Options{}, 0},
		// Hex dumps through the smallest queues: workers wait on the merger.
		{"hex, small queues", render.Options{Format: render.FormatTree, Hex: true}, 8 << 20},
	} {
		want := run(1, tt.ro, tt.memory)
		if n := strings.Count(string(want), "hello from the client"); n != 24 || strings.Contains(string(want), "not decrypted") {
			t.Fatalf("%s, one worker: %d client messages decrypted, want 24:\n%.3000s", tt.name, n, want)
		}
		for _, workers := range []int{2, 8} {
			for range 3 {
				if got := run(workers, tt.ro, tt.memory); !bytes.Equal(got, want) {
					t.Fatalf("%s, %d workers: output differs from one worker's\ngot:\n%.3000s\nwant:\n%.3000s", tt.name, workers, got, want)
				}
			}
		}
	}
}
