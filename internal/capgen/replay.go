package capgen

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strconv"
)

// StreamPos is a position in one side's byte stream.
type StreamPos struct {
	// Side is the stream's sender.
	Side Side
	// Offset is the position; 0 is the first byte after the SYN.
	Offset uint64
}

// ReplayOptions configure how a Recording becomes one TCP connection.
type ReplayOptions struct {
	// Conn configures the synthesised connection (addresses, ISNs, MSS,
	// link). Zero fields select ConnConfig's defaults.
	Conn ConnConfig
	// Impairments are applied to the data segments they name.
	Impairments []Impairment
	// StartAt, when set, starts the capture at that stream position (no TCP
	// handshake, no earlier bytes of either side).
	StartAt *StreamPos
	// Reset ends the connection with a RST from the server instead of the
	// FIN exchange.
	Reset bool
	// ConnIndex is added to the Conn field of the returned truth (0 in a
	// recording of one connection).
	ConnIndex int
	// Proxy, when set, is the target (host:port) of an HTTP CONNECT the
	// client sends first and the server side answers with 200, as an
	// explicit proxy does: the recording then runs inside the tunnel (the
	// server's address is the proxy's). With ProxyAuth the first CONNECT
	// is refused with 407 and repeated with Proxy-Authorization.
	// ProxySOCKS 4 or 5 makes the proxy a SOCKS one instead: the client
	// sends a SOCKS 4a or 5 CONNECT for the host name and port of Proxy
	// (with ProxyAuth, SOCKS 5 user name and password authentication).
	Proxy      string
	ProxyAuth  bool
	ProxySOCKS int
}

// replayer replays one recording, one write at a time.
type replayer struct {
	rec  *Recording
	opts ReplayOptions
	conn *Conn
	next int
	pre  [2]uint64 // bytes each side sent before the recording (a CONNECT exchange)
}

func newReplayer(c *Capture, r *Recording, opts ReplayOptions) (*replayer, error) {
	conn, err := NewConn(c, opts.Conn)
	if err != nil {
		return nil, fmt.Errorf("replay %s: %w", r.Name, err)
	}
	conn.Impair(opts.Impairments...)
	if opts.StartAt != nil {
		conn.StartAt(opts.StartAt.Side, opts.StartAt.Offset)
	}
	conn.Open()
	p := &replayer{rec: r, opts: opts, conn: conn}
	switch {
	case opts.Proxy == "":
	case opts.ProxySOCKS != 0:
		if err := p.socks(); err != nil {
			return nil, fmt.Errorf("replay %s: %w", r.Name, err)
		}
	default:
		p.connect()
	}
	return p, nil
}

// socks sends a SOCKS 4a or 5 handshake that opens a tunnel to Proxy.
func (p *replayer) socks() error {
	host, portText, err := net.SplitHostPort(p.opts.Proxy)
	if err != nil {
		return fmt.Errorf("socks: %w", err)
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil || len(host) > 255 {
		return fmt.Errorf("socks: bad target %q", p.opts.Proxy)
	}
	send := func(from Side, b []byte) {
		p.conn.Send(from, b)
		p.pre[from] += uint64(len(b))
	}
	switch p.opts.ProxySOCKS {
	case 4:
		req := binary.BigEndian.AppendUint16([]byte{4, 1}, uint16(port))
		req = append(req, 0, 0, 0, 1)         // 0.0.0.1: SOCKS 4a, the host name follows
		req = append(req, "capgen\x00"...)    // user id
		req = append(append(req, host...), 0) // host name
		send(Client, req)
		send(Server, []byte{0, 90, 0, 0, 0, 0, 0, 0})
	case 5:
		if p.opts.ProxyAuth {
			send(Client, []byte{5, 2, 0, 2})
			send(Server, []byte{5, 2})
			send(Client, append(append([]byte{1, 4}, "user"...), append([]byte{6}, "secret"...)...))
			send(Server, []byte{1, 0})
		} else {
			send(Client, []byte{5, 1, 0})
			send(Server, []byte{5, 0})
		}
		req := append([]byte{5, 1, 0, 3, byte(len(host))}, host...)
		send(Client, binary.BigEndian.AppendUint16(req, uint16(port)))
		send(Server, []byte{5, 0, 0, 1, 10, 1, 0, 9, 0xc3, 0x50}) // bound to 10.1.0.9:50000
	default:
		return fmt.Errorf("socks: version %d", p.opts.ProxySOCKS)
	}
	return nil
}

// connect sends the CONNECT exchange that opens a proxy tunnel, and notes
// how many bytes each side sent before the recording.
func (p *replayer) connect() {
	t := p.opts.Proxy
	req := "CONNECT " + t + " HTTP/1.1\r\nHost: " + t + "\r\nUser-Agent: capgen\r\nProxy-Connection: keep-alive\r\n"
	ok := "HTTP/1.1 200 Connection established\r\n\r\n"
	if p.opts.ProxyAuth {
		refused := "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxy\"\r\nContent-Type: text/plain\r\nContent-Length: 14\r\n\r\nauth required\n"
		p.conn.Send(Client, []byte(req+"\r\n"))
		p.conn.Send(Server, []byte(refused))
		p.pre[Client] += uint64(len(req) + 2)
		p.pre[Server] += uint64(len(refused))
		req += "Proxy-Authorization: Basic dXNlcjpzZWNyZXQ=\r\n"
	}
	req += "\r\n"
	p.conn.Send(Client, []byte(req))
	p.conn.Send(Server, []byte(ok))
	p.pre[Client] += uint64(len(req))
	p.pre[Server] += uint64(len(ok))
}

// step sends the next write; it reports false when all were sent.
func (p *replayer) step() bool {
	if p.next >= len(p.rec.Writes) {
		return false
	}
	w := p.rec.Writes[p.next]
	p.conn.Send(w.From, w.Data)
	p.next++
	return true
}

// finish closes the connection and returns the truth with Partial and
// Absent set from the bytes missing in the capture.
func (p *replayer) finish() ([]TruthMessage, error) {
	if p.opts.Reset {
		p.conn.Reset(Server)
	} else {
		p.conn.Close(Server)
	}
	if err := p.conn.Finish(); err != nil {
		return nil, fmt.Errorf("replay %s: %w", p.rec.Name, err)
	}
	out := make([]TruthMessage, len(p.rec.Truth))
	for i, m := range p.rec.Truth {
		m.Conn += p.opts.ConnIndex // (a recording may carry several)
		if i < len(p.rec.Spans) {
			side := Client
			if m.Dir == Server.Dir() {
				side = Server
			}
			span := p.rec.Spans[i]
			span.Start += p.pre[side]
			span.End += p.pre[side]
			m.Partial, m.Absent = coverage(span, p.conn.Missing(side))
		}
		out[i] = m
	}
	return out, nil
}

// coverage reports whether span is partly or wholly inside the missing
// ranges.
func coverage(span Range, missing []Range) (partial, absent bool) {
	var covered uint64
	for _, m := range missing {
		lo, hi := max(span.Start, m.Start), min(span.End, m.End)
		if lo < hi {
			covered += hi - lo
		}
	}
	switch {
	case covered == 0:
		return false, false
	case covered >= span.End-span.Start:
		return false, true
	}
	return true, false
}

// Replay writes the recording into c as one TCP connection: handshake, each
// recorded Write as one flight of segments acknowledged by the peer, then
// FIN from the server (or RST). It returns the truth for this connection.
func (r *Recording) Replay(c *Capture, opts ReplayOptions) ([]TruthMessage, error) {
	return ReplayInterleaved(c, []*Recording{r}, []ReplayOptions{opts})
}

// ReplayInterleaved replays several recordings as concurrent connections:
// all handshakes first, then the recordings' writes round-robin, then the
// closes in order. The truth lists the connections' messages one connection
// after the other.
func ReplayInterleaved(c *Capture, recs []*Recording, opts []ReplayOptions) ([]TruthMessage, error) {
	if len(recs) != len(opts) {
		return nil, fmt.Errorf("replay: %d recordings but %d option sets", len(recs), len(opts))
	}
	ps := make([]*replayer, len(recs))
	for i, r := range recs {
		p, err := newReplayer(c, r, opts[i])
		if err != nil {
			return nil, err
		}
		ps[i] = p
	}
	for more := true; more; {
		more = false
		for _, p := range ps {
			if p.step() {
				more = true
			}
		}
	}
	var truth []TruthMessage
	for _, p := range ps {
		t, err := p.finish()
		if err != nil {
			return nil, err
		}
		truth = append(truth, t...)
	}
	return truth, nil
}

// WriteOptions configure Recording.WritePcap.
type WriteOptions struct {
	// Replay configures the connection.
	Replay ReplayOptions
	// Capture configures the synthetic clock.
	Capture CaptureOptions
	// Pcap selects the pcap variant.
	Pcap PcapOptions
}

// WritePcap replays the recording as one connection and writes it to w as a
// pcap file. Use Truth (or Replay, for Partial and Absent flags) for the
// expected messages.
func (r *Recording) WritePcap(w io.Writer, opts WriteOptions) error {
	c := NewCapture(opts.Capture)
	if _, err := r.Replay(c, opts.Replay); err != nil {
		return err
	}
	if err := c.WritePcap(w, opts.Pcap); err != nil {
		return fmt.Errorf("recording %s: %w", r.Name, err)
	}
	return nil
}
