package dissect

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/h2"
	"github.com/wsdissect/wsdissect/internal/inflate"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/reassembly"
)

// memSession is a wsSession that is no connection at all: the test feeds
// its two direction decoders from byte slices in memory, with no TCP, TLS,
// HTTP or Dissector involved.
type memSession struct {
	conn   Conn
	opts   Options
	out    []string
	closes []Dir
	rec    Record
}

func (s *memSession) wsConn() *Conn                          { return &s.conn }
func (s *memSession) options() *Options                      { return &s.opts }
func (s *memSession) memory() *membudget.Account             { return nil }
func (s *memSession) inflater(bits int) *inflate.Inflater    { return inflate.New(bits) }
func (s *memSession) probing() bool                          { return false }
func (s *memSession) unproven() bool                         { return false }
func (s *memSession) drainHeld(bool)                         {}
func (s *memSession) sawClose(d Dir, f *Frame)               { s.closes = append(s.closes, d) }
func (s *memSession) record() *Record                        { return &s.rec }
func (s *memSession) watermark() *searchers                  { return nil }
func (s *memSession) buffers() *bufPool                      { return nil }
func (s *memSession) previewOnly() bool                      { return false }
func (s *memSession) releaseInflater(*inflate.Inflater, int) {}

// emit keeps a one-line summary of each record (records are valid only
// during the call).
func (s *memSession) emit(r *Record) {
	if r.Conn != &s.conn {
		s.out = append(s.out, "record not pointing to the session's Conn")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Kind, r.Dir)
	switch r.Kind {
	case KindFrame:
		f := r.Frame
		fmt.Fprintf(&b, " %s fin=%v comp=%v %q", OpcodeName(f.Opcode), f.Fin, f.Compressed, f.Payload)
		if f.HasCloseCode {
			fmt.Fprintf(&b, " code=%d", f.CloseCode)
		}
		if f.Reassembled != nil {
			fmt.Fprintf(&b, " msg=%q", f.Reassembled.Payload)
		}
	case KindMessage:
		m := r.Message
		fmt.Fprintf(&b, " %s frames=%d comp=%v incomplete=%v %q", OpcodeName(m.Opcode), m.Frames, m.Compressed, m.Incomplete, m.Payload)
		if m.HasCloseCode {
			fmt.Fprintf(&b, " code=%d", m.CloseCode)
		}
	}
	for _, a := range r.Anomalies {
		fmt.Fprintf(&b, " !%s", a.ID)
	}
	s.out = append(s.out, b.String())
}

func (s *memSession) anomalyRecord(side reassembly.Side, hasDir bool, a Anomaly, pkt uint64, ts time.Time) {
	s.emit(&Record{Kind: KindAnomaly, Conn: &s.conn, Packet: pkt, Time: ts, HasDir: hasDir, Dir: Dir(side), Anomalies: []Anomaly{a}})
}

// synced replays the searched bytes at once: with no other layer to keep
// in order with, nothing needs holding.
func (s *memSession) synced(w *wsDir, p *syncPoint) {
	prev := p.at
	for _, m := range p.marks {
		if m.end > prev {
			w.feed(p.data[prev:m.end], m.pkt, m.ts)
			prev = m.end
		}
	}
}

// memEvent is one piece of a direction's byte stream, or a gap in it.
type memEvent struct {
	dir  Dir
	data []byte
	gap  uint64
}

// TestDecoderFromMemory drives the WebSocket decoder from two in-memory
// byte streams, not TCP: plain frames, a fragmented compressed message, a
// ping, the close handshake, and a resynchronisation after lost bytes; in
// frame and message mode, whole and cut into small pieces.
func TestDecoderFromMemory(t *testing.T) {
	key := []byte{9, 8, 7, 6}
	comp := deflateMsgs(t, true, "compressed, fragmented and compressed")[0]
	half := len(comp) / 2
	client := cat(
		ctext("hello"),
		wsFrame{op: OpText, rsv1: true, key: key, payload: comp[:half]},
		wsFrame{op: OpContinuation, fin: true, key: key, payload: comp[half:]},
		wsFrame{fin: true, op: OpPing, key: key, payload: []byte("p")},
		closeF(1000, "bye", key),
	)
	server := cat(
		text("welcome"),
		wsFrame{fin: true, op: OpBinary, payload: []byte{1, 2, 3}},
		wsFrame{fin: true, op: OpPong, payload: []byte("p")},
		closeF(1000, "", nil),
	)
	resync := cat(text("one"), text("two"), text("three"))
	deflate := &DeflateParams{Name: "permessage-deflate", ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}

	tests := []struct {
		name     string
		messages bool
		piece    int // bytes per event; 0: whole
		events   []memEvent
		want     []string
		closes   []Dir
	}{
		{
			name:   "frames",
			events: []memEvent{{dir: ClientToServer, data: client}, {dir: ServerToClient, data: server}},
			want: []string{
				`frame c2s text fin=true comp=false "hello"`,
				// Each frame shows what its bytes inflate to; the last
				// one the whole message.
				`frame c2s text fin=false comp=true "compressed, fr"`,
				`frame c2s continuation fin=true comp=true "agmented and compressed" msg="compressed, fragmented and compressed"`,
				`frame c2s ping fin=true comp=false "p"`,
				`frame c2s close fin=true comp=false "\x03\xe8bye" code=1000`,
				`frame s2c text fin=true comp=false "welcome"`,
				`frame s2c binary fin=true comp=false "\x01\x02\x03"`,
				`frame s2c pong fin=true comp=false "p"`,
				`frame s2c close fin=true comp=false "\x03\xe8" code=1000`,
			},
			closes: []Dir{ClientToServer, ServerToClient},
		},
		{
			name:     "messages, byte by byte, interleaved",
			messages: true,
			piece:    1,
			events:   []memEvent{{dir: ClientToServer, data: client}, {dir: ServerToClient, data: server}},
			// The server's frames are shorter (unmasked): its messages
			// complete first, byte for byte.
			want: []string{
				`message s2c text frames=1 comp=false incomplete=false "welcome"`,
				`message c2s text frames=1 comp=false incomplete=false "hello"`,
				`message s2c binary frames=1 comp=false incomplete=false "\x01\x02\x03"`,
				`message s2c pong frames=1 comp=false incomplete=false "p"`,
				`message s2c close frames=1 comp=false incomplete=false "\x03\xe8" code=1000`,
				`message c2s text frames=2 comp=true incomplete=false "compressed, fragmented and compressed"`,
				`message c2s ping frames=1 comp=false incomplete=false "p"`,
				`message c2s close frames=1 comp=false incomplete=false "\x03\xe8bye" code=1000`,
			},
			closes: []Dir{ServerToClient, ClientToServer},
		},
		{
			name:  "lost bytes, then a resynchronisation",
			piece: 3,
			events: []memEvent{
				{dir: ServerToClient, data: text("before").bytes()},
				{dir: ServerToClient, gap: 4},
				{dir: ServerToClient, data: append([]byte("junk"), resync...)},
			},
			want: []string{
				`frame s2c text fin=true comp=false "before"`,
				`anomaly s2c !tcp-gap`,
				`frame s2c text fin=true comp=false "one"`,
				`frame s2c text fin=true comp=false "two"`,
				`frame s2c text fin=true comp=false "three"`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &memSession{conn: Conn{Deflate: deflate}, opts: Options{Messages: tt.messages}}
			s.opts.setDefaults()
			dirs := [2]*wsDir{newDecoder(s, ClientToServer, reassembly.Side(ClientToServer)),
				newDecoder(s, ServerToClient, reassembly.Side(ServerToClient))}
			pkt := uint64(0)
			ts := time.Unix(1700000000, 0)
			// Cut the events into pieces and alternate between the
			// directions, as two independent streams would arrive.
			var queues [2][]memEvent
			for _, e := range tt.events {
				if e.gap > 0 || tt.piece == 0 {
					queues[e.dir] = append(queues[e.dir], e)
					continue
				}
				for b := range slices.Chunk(e.data, tt.piece) {
					queues[e.dir] = append(queues[e.dir], memEvent{dir: e.dir, data: b})
				}
			}
			for len(queues[0])+len(queues[1]) > 0 {
				for d := range queues {
					if len(queues[d]) == 0 {
						continue
					}
					e := queues[d][0]
					queues[d] = queues[d][1:]
					pkt++
					w := dirs[d]
					if e.gap > 0 {
						w.gap(&reassembly.Gap{Offset: w.off, Len: e.gap, Packet: pkt, Time: ts, Reason: "test"})
					} else {
						w.feed(e.data, pkt, ts)
					}
				}
			}
			for _, w := range dirs {
				w.finish()
			}
			if !slices.Equal(s.out, tt.want) {
				t.Errorf("records:\n%s\nwant:\n%s", strings.Join(s.out, "\n"), strings.Join(tt.want, "\n"))
			}
			if !slices.Equal(s.closes, tt.closes) {
				t.Errorf("close frames seen from %v, want %v", s.closes, tt.closes)
			}
		})
	}
}

// TestH2SessionResync drives the decoders of an HTTP/2 session (the other
// wsSession) across lost bytes: the search that follows replays the frames
// it found at once, after the anomaly saying what it skipped.
func TestH2SessionResync(t *testing.T) {
	sink := &h2Collect{}
	d := New(sink, Options{Messages: true})
	cs := d.newConnState(&reassembly.ConnInfo{SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:443")}})
	cs.startHTTP2(reassembly.SideA)
	ch := cs.h2.newSession(&h2.Stream{ID: 5})
	w := d.newDir(ch, ServerToClient)
	w.side = reassembly.SideB
	ts := time.Unix(0, 0)
	w.feed(text("before").bytes(), 1, ts)
	w.gap(&reassembly.Gap{Offset: w.off, Len: 4, Packet: 2, Time: ts, Reason: "test"})
	w.feed([]byte("junk"), 3, ts)
	w.feed(cat(text("one"), text("two"), text("three")), 4, ts)
	w.finish()
	want := []string{
		`msg h2=5 s2c text "before"`,
		"anomaly h2=5 tcp-gap",
		"anomaly h2=5 resync-skipped-bytes",
		`msg h2=5 s2c text "one"`,
		`msg h2=5 s2c text "two"`,
		`msg h2=5 s2c text "three"`,
	}
	if !slices.Equal(sink.lines, want) {
		t.Errorf("records\n%s\nwant\n%s", strings.Join(sink.lines, "\n"), strings.Join(want, "\n"))
	}
}
