package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/h2"
	"github.com/wsdissect/wsdissect/netpkt"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/source"
)

// h2Packet is what one packet completes of the HTTP/2 frame layer: per
// frame its stream id, type, flags and length, and the decoded header
// fields of the frames that end a header block, in order.
type h2Packet struct {
	streams, types, flags, lengths []string
	names, values                  []string
	c2s                            bool // (ours only) all frames are the client's
}

func (p *h2Packet) String() string {
	return fmt.Sprintf("streams %v types %v flags %v lengths %v headers %v=%v", p.streams, p.types, p.flags, p.lengths, p.names, p.values)
}

// h2Frames runs the h2 frame layer over the capture's one TCP connection
// (skipping an HTTP/1.1 "Upgrade: h2c" exchange) and groups its frames by
// the packet that completed them.
func h2Frames(t *testing.T, path string) map[uint64]*h2Packet {
	src, err := source.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f := &h2Factory{out: map[uint64]*h2Packet{}}
	asm := reassembly.New(f, reassembly.Config{})
	var p source.Packet
	var seg netpkt.Segment
	var last uint64
	for {
		if err := src.Next(&p); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatal(err)
		}
		last = p.Number
		if netpkt.Decode(p.LinkType, p.Data, &seg) == nil {
			asm.Process(&seg, p.Number, p.Time)
		}
	}
	asm.FlushAll(last, p.Time)
	return f.out
}

type h2Factory struct{ out map[uint64]*h2Packet }

func (f *h2Factory) NewConn(*reassembly.ConnInfo) reassembly.Handler {
	h := &h2Handler{}
	h.conn = h2.NewConn(&h2Events{out: f.out}, h2.Limits{})
	return h
}

// h2Handler feeds one connection's sides to an h2.Conn once each side is
// past its HTTP/1.1 part (if any); the client is the side that sends the
// preface.
type h2Handler struct {
	conn   *h2.Conn
	buf    [2][]byte
	pkt    [2]uint64 // packet of the last bytes held per side
	ready  [2]bool
	client reassembly.Side
	known  bool
}

func (h *h2Handler) Data(side reassembly.Side, ch *reassembly.Chunk) bool {
	if h.ready[side] {
		h.conn.Feed(h.dir(side), ch.Data, h2.Meta{Packet: ch.Packet})
		return true
	}
	h.buf[side] = append(h.buf[side], ch.Data...)
	h.pkt[side] = ch.Packet
	b := h.buf[side]
	for _, start := range []string{"GET ", "HTTP/1.1 "} {
		if len(b) < len(start) && strings.HasPrefix(start, string(b)) {
			return true // may still be HTTP/1.1
		}
	}
	if bytes.HasPrefix(b, []byte("GET ")) || bytes.HasPrefix(b, []byte("HTTP/1.1 ")) {
		end := bytes.Index(b, []byte("\r\n\r\n"))
		if end < 0 {
			return true
		}
		if b[0] == 'G' {
			h.client, h.known = side, true
		} else {
			h.client, h.known = side.Other(), true
		}
		b = b[end+4:]
		h.buf[side] = b
	}
	if len(b) < len(h2.Preface) && bytes.HasPrefix([]byte(h2.Preface), b) {
		return true
	}
	if !h.known && bytes.HasPrefix(b, []byte(h2.Preface)) {
		h.client, h.known = side, true
	}
	if !h.known {
		return true // the server's frames wait for the client's preface
	}
	for _, s := range []reassembly.Side{h.client.Other(), h.client} {
		if !h.ready[s] && (s == side || len(h.buf[s]) > 0) && (s != h.client || len(h.buf[s]) >= len(h2.Preface)) {
			h.ready[s] = true
			h.conn.Feed(h.dir(s), h.buf[s], h2.Meta{Packet: h.pkt[s]})
		}
	}
	return true
}

func (h *h2Handler) dir(s reassembly.Side) h2.Dir {
	if s == h.client {
		return h2.ClientToServer
	}
	return h2.ServerToClient
}

func (h *h2Handler) Gap(reassembly.Side, *reassembly.Gap)   {}
func (h *h2Handler) Note(reassembly.Side, *reassembly.Note) {}
func (h *h2Handler) Close(reassembly.CloseReason)           { h.conn.Close(h2.Meta{}) }

// h2Events groups the frames by packet.
type h2Events struct{ out map[uint64]*h2Packet }

func (h *h2Events) Frame(fr *h2.Frame, m h2.Meta) {
	p := h.out[m.Packet]
	if p == nil {
		p = &h2Packet{c2s: true}
		h.out[m.Packet] = p
	}
	p.c2s = p.c2s && fr.Dir == h2.ClientToServer
	p.streams = append(p.streams, fmt.Sprint(fr.StreamID))
	p.types = append(p.types, fmt.Sprint(uint8(fr.Type)))
	p.flags = append(p.flags, fmt.Sprintf("0x%02x", uint8(fr.Flags)))
	p.lengths = append(p.lengths, fmt.Sprint(fr.Length))
	for _, hf := range fr.Fields {
		p.names = append(p.names, hf.Name)
		p.values = append(p.values, hf.Value)
	}
}
func (h *h2Events) Request(*h2.Stream, h2.Meta)                       {}
func (h *h2Events) Open(*h2.Stream, h2.Meta)                          {}
func (h *h2Events) Rejected(*h2.Stream, h2.Meta)                      {}
func (h *h2Events) Data(*h2.Stream, h2.Dir, []byte, h2.Meta)          {}
func (h *h2Events) DataGap(*h2.Stream, h2.Dir, uint64, bool, h2.Meta) {}
func (h *h2Events) End(*h2.Stream, h2.EndReason, h2.Meta)             {}
func (h *h2Events) Anomaly(h2.Dir, uint32, h2.Anomaly, h2.Meta)       {}

// tsharkH2 runs tshark on the capture and returns the same per-packet view.
func tsharkH2(t *testing.T, path string, decodeAs string) map[uint64]*h2Packet {
	args := []string{"-r", path, "-Y", "http2", "-T", "fields", "-E", "aggregator=\x1f", "-E", "occurrence=a",
		"-e", "frame.number", "-e", "http2.streamid", "-e", "http2.type", "-e", "http2.flags", "-e", "http2.length",
		"-e", "http2.header.name", "-e", "http2.header.value"}
	if decodeAs != "" {
		args = append(args, "-d", decodeAs)
	}
	out, err := exec.Command("tshark", args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	res := map[uint64]*h2Packet{}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, "\x1f")
	}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 7 {
			continue
		}
		var pkt uint64
		fmt.Sscan(f[0], &pkt)
		res[pkt] = &h2Packet{streams: split(f[1]), types: split(f[2]), flags: split(f[3]), lengths: split(f[4]),
			names: split(f[5]), values: split(f[6])}
	}
	return res
}

// tsharkH2Differences says, per capture, why tshark 4.0.17 shows none of
// the frames of some client packets that wsdissect's frame layer decodes.
var tsharkH2Differences = map[string]string{
	"h2c-handbuilt": "after an HTTP/1.1 Upgrade: h2c, tshark 4.0.17 switches only the server's side to HTTP/2: " +
		"the client's bytes after the upgrade request (preface, SETTINGS, the CONNECTs, DATA) stay in HTTP's " +
		"reassembly as [TCP segment of a reassembled PDU], so none of the client's frames are dissected",
}

// TestHTTP2FramesMatchTshark compares the HTTP/2 frame layer with tshark
// on the committed h2c captures: per packet, the same frames (stream ids,
// types, flags, lengths) and the same decoded header fields.
func TestHTTP2FramesMatchTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	for _, tc := range []struct{ name, decodeAs string }{
		{"h2c-xnet", "tcp.port==8080,http2"},
		{"h2c-handbuilt", ""},
		{"h2c-hypercorn", "tcp.port==8000,http2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("..", "testdata", tc.name+".pcap")
			ours, theirs := h2Frames(t, path), tsharkH2(t, path, tc.decodeAs)
			var pkts []uint64
			for p := range ours {
				pkts = append(pkts, p)
			}
			for p := range theirs {
				if _, ok := ours[p]; !ok {
					pkts = append(pkts, p)
				}
			}
			slices.Sort(pkts)
			missing := 0
			for _, p := range pkts {
				o, th := ours[p], theirs[p]
				switch {
				case th == nil && o.c2s && tsharkH2Differences[tc.name] != "":
					missing++
				case o == nil || th == nil:
					t.Errorf("packet %d: wsdissect %v, tshark %v", p, o, th)
				case o.String() != th.String():
					t.Errorf("packet %d:\nwsdissect %s\ntshark    %s", p, o, th)
				}
			}
			if missing > 0 {
				t.Logf("%d packets with frames tshark does not show (%s)", missing, tsharkH2Differences[tc.name])
			}
			if len(theirs) == 0 {
				t.Fatal("tshark shows no HTTP/2 frames")
			}
		})
	}
}
