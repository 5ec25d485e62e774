package engine

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/source"
)

// wsKey is the Sec-WebSocket-Key of every synthetic connection.
const wsKey = "dGhlIHNhbXBsZSBub25jZQ=="

// synthConn is a hand-built WebSocket connection written into a capture:
// handshake, then messages from either side, then close.
type synthConn struct {
	tb   testing.TB
	c    *capgen.Conn
	defl [2]*capgen.Deflater // by capgen.Side, when permessage-deflate is on
	n    int                 // messages sent so far
}

// synthAddrs returns the endpoints of synthetic connection i.
func synthAddrs(i int) (client, server netip.AddrPort) {
	u := uint32(i)
	client = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 2, byte(u >> 8), byte(u)}), uint16(30000+u%30000))
	server = netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, 0, byte(1 + u%3)}), 8080)
	return client, server
}

// openSynth starts connection i in cp: TCP handshake, WebSocket upgrade.
func openSynth(tb testing.TB, cp *capgen.Capture, i int, deflate bool) *synthConn {
	tb.Helper()
	client, server := synthAddrs(i)
	return openSynthAt(tb, cp, client, server, uint32(0x1000_0000+i*7919), deflate)
}

// openSynthAt starts a connection with the given endpoints and client ISN.
func openSynthAt(tb testing.TB, cp *capgen.Capture, client, server netip.AddrPort, isn uint32, deflate bool) *synthConn {
	tb.Helper()
	c, err := capgen.NewConn(cp, capgen.ConnConfig{
		Client: client, Server: server,
		ClientISN: isn, ServerISN: isn ^ 0x5a5a_0000,
		Link: capgen.Link{Type: capgen.LinkEthernet},
	})
	if err != nil {
		tb.Fatal(err)
	}
	s := &synthConn{tb: tb, c: c}
	var ext []capgen.Header
	if deflate {
		ext = []capgen.Header{{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate"}}
		for side := range s.defl {
			d, err := capgen.NewDeflater(15, true)
			if err != nil {
				tb.Fatal(err)
			}
			s.defl[side] = d
		}
	}
	c.Open()
	c.Send(capgen.Client, capgen.UpgradeRequest("/bench", server.String(), wsKey, ext...))
	c.Send(capgen.Server, capgen.SwitchingProtocols(capgen.AcceptKey(wsKey), ext...))
	return s
}

// message sends the connection's next message from side: text (JSON-like)
// or binary, of a size cycling through 24, 180, 1400 and 5000 bytes.
func (s *synthConn) message(from capgen.Side) {
	sizes := [...]int{24, 180, 1400, 5000}
	n := sizes[s.n%len(sizes)]
	op := capgen.OpText
	var payload []byte
	if s.n%3 == 2 {
		op = capgen.OpBinary
		payload = capgen.RandomBytes(n, uint64(s.n))
	} else {
		payload = capgen.JSONText(n, s.n)
	}
	s.n++
	f := capgen.Frame{Fin: true, Opcode: op, Payload: payload}
	if from == capgen.Client {
		f.Masked = true
		f.Key = [4]byte{byte(s.n), 0x5c, 0xa3, 0x17}
	}
	if d := s.defl[from]; d != nil && len(payload) > 100 {
		comp, err := d.Compress(payload)
		if err != nil {
			s.tb.Fatal(err)
		}
		f.RSV1, f.Payload = true, comp
	}
	s.c.Send(from, f.Bytes())
}

// close sends close frames both ways and closes the TCP connection.
func (s *synthConn) close() {
	s.c.Send(capgen.Client, capgen.Frame{Fin: true, Opcode: capgen.OpClose, Masked: true,
		Key: [4]byte{1, 2, 3, 4}, Payload: capgen.ClosePayload(1000, "bye")}.Bytes())
	s.c.Send(capgen.Server, capgen.Frame{Fin: true, Opcode: capgen.OpClose,
		Payload: capgen.ClosePayload(1000, "bye")}.Bytes())
	s.c.Close(capgen.Client)
	if err := s.c.Finish(); err != nil {
		s.tb.Fatal(err)
	}
}

// synthCapture returns a pcap of conns connections, k of them interleaved at
// a time, each exchanging msgs messages (alternating directions).
func synthCapture(tb testing.TB, conns, k, msgs int, deflate bool) []byte {
	tb.Helper()
	cp := capgen.NewCapture(capgen.CaptureOptions{Step: 50 * time.Microsecond})
	for first := 0; first < conns; first += k {
		group := make([]*synthConn, 0, k)
		for i := first; i < min(first+k, conns); i++ {
			group = append(group, openSynth(tb, cp, i, deflate))
		}
		for m := range msgs {
			for _, s := range group {
				s.message(capgen.Side(m & 1))
			}
		}
		for _, s := range group {
			s.close()
		}
	}
	return writePcap(tb, cp)
}

// writePcap serialises cp as a pcap file.
func writePcap(tb testing.TB, cp *capgen.Capture) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := cp.WritePcap(&buf, capgen.PcapOptions{}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// openMem opens an in-memory capture.
func openMem(tb testing.TB, data []byte) *source.File {
	tb.Helper()
	f, err := source.OpenReader("mem", bytes.NewReader(data))
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// memPackets reads every packet of an in-memory capture into memory.
func memPackets(tb testing.TB, data []byte) []source.Packet {
	tb.Helper()
	f := openMem(tb, data)
	var out []source.Packet
	for {
		var p source.Packet
		if err := f.Next(&p); err != nil {
			break
		}
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
	if len(out) == 0 {
		tb.Fatal("no packets")
	}
	return out
}

// sliceSource is a PacketSource over packets in memory.
type sliceSource struct {
	pkts []source.Packet
	i    int
	err  error // returned at the end instead of io.EOF, when set
}

func (s *sliceSource) Next(p *source.Packet) error {
	if s.i >= len(s.pkts) {
		if s.err != nil {
			return s.err
		}
		return io.EOF
	}
	*p = s.pkts[s.i]
	s.i++
	return nil
}

// describe names a synthetic capture in subtest names.
func describe(conns, msgs int, deflate bool) string {
	kind := "plain"
	if deflate {
		kind = "deflate"
	}
	return fmt.Sprintf("%s-%dconns-%dmsgs", kind, conns, msgs)
}
