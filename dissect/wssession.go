package dissect

import (
	"bytes"
	"fmt"
	"time"

	"github.com/wsdissect/wsdissect/internal/inflate"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/reassembly"
)

// wsSession is all a WebSocket direction decoder (wsDir) knows of the
// session it decodes: the session feeds it one direction's bytes and gaps,
// and the decoder asks it only for what is below. A TCP connection after an
// HTTP/1.1 upgrade (or picked up mid-stream, or decrypted TLS) is one
// (*connState); a WebSocket on an HTTP/2 stream is another (*h2Session,
// fed with the stream's DATA, see h2.go); a test drives the decoder from
// plain byte slices with a session of its own.
//
// side, in anomalyRecord and syncPoint, is the opaque tag the session gave
// the decoder (wsDir.side); the decoder only hands it back.
type wsSession interface {
	// wsConn is the session's description: the decoder reads the
	// negotiated extensions (Deflate) and Midstream, and its records point
	// to it. The decoder asks once: the pointer must stay valid (the Conn
	// may change) for the session's life.
	wsConn() *Conn
	// options are the limits and output mode the decoder works within
	// (asked once, like wsConn).
	options() *Options
	// memory is the budget account its buffers are charged to (nil: no
	// budget; asked once, like wsConn).
	memory() *membudget.Account
	// inflater returns an inflater with an empty window of 1<<bits bytes;
	// releaseInflater takes back one the decoder no longer needs.
	inflater(bits int) *inflate.Inflater
	releaseInflater(infl *inflate.Inflater, bits int)
	// record is where the decoder builds the records it emits (records
	// are valid only during the sink call, so a dissector's decoders share
	// one); asked once, like wsConn.
	record() *Record
	// watermark is the register the decoder's frame-boundary searches
	// join, so that output can be put in packet order across sessions
	// (watermark.go); nil for none. Asked once, like wsConn.
	watermark() *searchers
	// buffers is the pool of message buffers the decoder's large ones go
	// back to between messages (nil: none). Asked once, like wsConn.
	buffers() *bufPool
	// previewOnly reports whether the records of the data message
	// starting now may carry only a preview of its payload
	// (Options.PreviewBytes).
	previewOnly() bool
	// probing reports whether the session has seen no handshake yet and
	// is looking for frames (any data frame may then be compressed).
	probing() bool
	// unproven reports whether nothing but the frames themselves says the
	// session is WebSocket (no handshake, no --ws-port): its first
	// frame-boundary search must then show much more evidence (see
	// chainAt).
	unproven() bool

	// emit hands a frame or message record to the sink.
	emit(r *Record)
	// anomalyRecord emits an anomaly that belongs to no frame.
	anomalyRecord(side reassembly.Side, hasDir bool, a Anomaly, pkt uint64, ts time.Time)
	// sawClose notes a close frame sent in direction d (the close
	// handshake, for the end record).
	sawClose(d Dir, f *Frame)

	// synced is told that a frame-boundary search of w found its first
	// frame; the session must feed the bytes of p from p.at on back to w
	// (now or, to keep records in packet order, later). It may give w
	// p.data back as its search buffer (w.search, when nil) only once
	// nothing refers to those bytes any more.
	synced(w *wsDir, p *syncPoint)
	// drainHeld lets the session decode what it held back for ordering;
	// the decoder calls it with force when it ends and its search found
	// frames in its last bytes.
	drainHeld(force bool)
}

// syncPoint is what a frame-boundary search hands its session when it
// finds a frame boundary.
type syncPoint struct {
	data    []byte // the searched bytes; the first frame starts at data[at]
	marks   []mark // which packet carried data up to each mark's end
	at      int
	base    uint64 // stream offset of data[0]
	skipped uint64 // bytes skipped before data[at], this search's earlier drops included
	masked  bool   // the first frame is masked (sent by the client)
}

// The connection state is the session of the WebSocket decoders of a TCP
// connection.

func (c *connState) wsConn() *Conn                       { return &c.conn }
func (c *connState) options() *Options                   { return &c.d.opts }
func (c *connState) memory() *membudget.Account          { return c.d.mem }
func (c *connState) inflater(bits int) *inflate.Inflater { return c.d.inflater(bits) }
func (c *connState) probing() bool                       { return c.mode == modeProbe }
func (c *connState) unproven() bool {
	return c.mode == modeProbe && !c.forced && !c.evident
}
func (c *connState) emit(r *Record)        { c.d.emit(r) }
func (c *connState) record() *Record       { return &c.d.rec }
func (c *connState) watermark() *searchers { return &c.d.searchers }
func (c *connState) buffers() *bufPool     { return &c.d.bufs }
func (c *connState) previewOnly() bool     { return c.d.previewOnly(&c.conn) }
func (c *connState) releaseInflater(infl *inflate.Inflater, bits int) {
	c.d.keepInflater(infl, bits)
}

// synced implements wsSession: a mid-stream pickup becomes a WebSocket
// connection, and the searched bytes are replayed in packet order with the
// other direction's (see order.go).
func (c *connState) synced(w *wsDir, p *syncPoint) {
	probe := c.mode == modeProbe
	if probe {
		c.midstreamFound(w, p.masked)
	}
	items := make([]heldItem, 0, len(p.marks)+1)
	prev := 0
	for _, m := range p.marks {
		lo := max(prev, p.at)
		if m.end > lo {
			if len(items) == 0 {
				if conn := probe || c.takeConnRecord(m.pkt); conn || p.skipped > 0 {
					items = append(items, heldItem{kind: heldSync, side: w.side, pkt: m.pkt, ts: m.ts,
						conn: conn, skipped: p.skipped, syncOff: p.base + uint64(p.at)})
				}
			}
			items = append(items, heldItem{kind: heldData, side: w.side, pkt: m.pkt, ts: m.ts, data: bytes.Clone(p.data[lo:m.end])})
		}
		prev = m.end
	}
	c.holdFirst(items)
	if w.search == nil {
		// The held items are copies: the search buffer can be reused
		// while they are decoded.
		w.search, w.marks = p.data[:0], p.marks[:0]
	}
	c.drainHeld(false)
}

// takeConnRecord takes the connection record of a mid-stream pickup from
// the other direction's sync, still held, when this direction's first
// frame, in packet pkt, comes before it: the record goes with the
// connection's first frame, whichever direction found its frames first.
func (c *connState) takeConnRecord(pkt uint64) bool {
	for i := c.heldHead; i < len(c.held); i++ {
		if it := &c.held[i]; it.kind == heldSync && it.conn {
			if it.pkt <= pkt {
				return false
			}
			it.conn = false
			return true
		}
	}
	return false
}

// resyncAnomaly says that a search skipped bytes to the first verified
// frame boundary at stream offset off.
func resyncAnomaly(off, skipped uint64) Anomaly {
	return newAnomaly(AnMidstreamResync, int64(off),
		fmt.Sprintf("skipped %d bytes to the first verified frame boundary at stream offset %d", skipped, off))
}
