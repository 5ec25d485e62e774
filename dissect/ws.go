package dissect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/http1"
	"github.com/wsdissect/wsdissect/internal/inflate"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/reassembly"
)

// parseState is where a direction's frame parser stands.
type parseState uint8

const (
	stHeader  parseState = iota // collecting a frame header
	stPayload                   // streaming a frame's payload
	stSearch                    // looking for a verified frame boundary
	stHTTP                      // an HTTP response where a frame header should be
)

// deflateTail is re-appended to each compressed message (RFC 7692 7.2.2).
var deflateTail = [4]byte{0x00, 0x00, 0xff, 0xff}

// wsDir decodes the frames and messages of one direction of a WebSocket
// connection, streaming: payload bytes are unmasked (and inflated) as they
// arrive, and only the current frame or message is retained.
type wsDir struct {
	s wsSession // what the decoder knows of its session
	// opts, conn and mem are the session's options, Conn and memory
	// account (s.options(), s.wsConn(), s.memory()), which stay put for
	// its life: asked once, not per frame.
	opts *Options
	conn *Conn
	mem  *membudget.Account
	dir  Dir
	side reassembly.Side // the session's tag for this direction
	st   parseState
	// Flags of the groups below, kept here where they fill the padding.
	isCtl   bool
	inMsg   bool
	utfSaid bool
	ctxLost bool   // the sliding window may lack history the sender has
	noHTTP  bool   // the bytes being replayed are a frame header after all
	off     uint64 // stream offset of the next byte

	hdr     [14]byte
	hn      int
	need    int
	f       Frame
	pkts    []uint64
	lastPkt uint64
	lastTS  time.Time
	left    uint64 // payload bytes still to come
	pos     uint64 // payload bytes seen of the current frame
	lost    uint64 // of which lost in gaps
	fan     []Anomaly
	ctl     []byte

	msg    Message
	msgBuf []byte
	// lent is set instead of msgBuf holding the payload when a message
	// is one unmasked frame whose whole payload came in one delivery:
	// the record shows the delivered bytes themselves (records live only
	// during the sink call), saving their copy and the growth of msgBuf
	// to the largest such message of the direction. Set by payload,
	// cleared by endMessage, which endFrame always reaches for it.
	lent []byte
	// preview is set when the current message's records may carry only
	// a preview of its payload (Options.PreviewBytes).
	preview    bool
	man        []Anomaly
	utf        utf8Stream
	frameStart int
	msgCount   uint64
	outCount   uint64 // messages (data and control) completed in this direction
	closed     bool

	// permessage-deflate state
	compressed bool // current message (or, for deflate-frame, frame) is compressed
	rawMode    bool // inflation gave up for this message: show raw bytes
	cut        bool // inflation stopped at --max-decompressed
	infl       *inflate.Inflater
	inflBits   int    // window bits infl was made for
	hist       uint64 // bytes inflated into the window since it was last cleared
	inflated   uint64 // bytes inflated for the current message
	compIn     uint64 // compressed bytes fed for the current message (frame, for deflate-frame)
	scratch    []byte
	// visitFn is w.visitInflated as a func value, made once per decoder
	// (a method value passed each time would be allocated each time).
	visitFn func([]byte)

	// an HTTP response in the frame stream (see httpFeed)
	hbuf []byte

	// frame-boundary search (see sync.go)
	search     []byte
	marks      []mark
	searchFrom int   // next offset never tested
	pending    []int // offsets waiting for more data to decide
	skipped    uint64
	maskWant   int8 // -1 unknown, 0 unmasked, 1 masked
	// partner is the other direction of a connection without a handshake:
	// the first sync may count its evidence with this one's (paired).
	partner *wsDir
	// credit is the best evidence, in bits, of a chain of this search
	// waiting at the end of the data, creditAt its offset and
	// creditMasked its mask bit (noteCredit; strict searches only).
	credit       int
	creditAt     int
	creditMasked bool
	searchCut    bool // the budget cut this search (reported)
	// searchEpoch is the registration of this search with the
	// dissector's watermark (see watermark.go), 0 when not registered.
	searchEpoch uint64

	held int64 // buffer bytes charged to the memory budget (see budget.go)

	// tot counts what the direction carried, for the connection's end
	// record.
	tot DirTotals

	rec *Record    // where records are built: the session's (shared by a dissector's decoders)
	wm  *searchers // the watermark its searches register with (nil: none)
	// bufs is the pool its large message buffers go back to between
	// messages (nil: none).
	bufs *bufPool
}

// satAdd returns a+b, or the largest uint64 when that overflows.
func satAdd(a, b uint64) uint64 {
	if s := a + b; s >= a {
		return s
	}
	return ^uint64(0)
}

// countControl counts the current control frame as a message.
func (w *wsDir) countControl() {
	w.tot.Messages++
	w.tot.Bytes = satAdd(w.tot.Bytes, w.f.Len)
	if w.f.Opcode == OpClose {
		w.s.sawClose(w.dir, &w.f)
	}
}

// mark remembers which packet carried the search buffer's bytes up to end.
type mark struct {
	end int
	pkt uint64
	ts  time.Time
}

// newWSDir returns a fresh direction decoder of c; see Dissector.newDir,
// which reuses the buffers of closed connections' decoders.
func newWSDir(c *connState, d Dir) *wsDir { return c.d.newDir(c, d) }

// newDecoder returns a direction decoder of session s for direction d,
// whose events s tags with side. A field that needs a non-zero initial
// value is set here (and in Dissector.newDir, which reuses old buffers).
func newDecoder(s wsSession, d Dir, side reassembly.Side) *wsDir {
	return &wsDir{s: s, opts: s.options(), conn: s.wsConn(), mem: s.memory(), rec: s.record(), wm: s.watermark(), bufs: s.buffers(),
		dir: d, side: side, need: 2, maskWant: -1}
}

// dropInflater gives the decoder's inflater back to its session.
func (w *wsDir) dropInflater() {
	if w.infl != nil {
		w.s.releaseInflater(w.infl, w.inflBits)
		w.infl = nil
	}
}

// feed consumes in-order stream bytes carried by packet pkt.
func (w *wsDir) feed(b []byte, pkt uint64, ts time.Time) {
	for len(b) > 0 {
		switch w.st {
		case stSearch:
			w.searchFeed(b, pkt, ts)
			return
		case stHTTP:
			b = b[w.httpFeed(b, pkt, ts):]
		case stHeader:
			if w.hn == 0 && b[0] == 'H' && w.dir == ServerToClient && !w.noHTTP {
				// 0x48 is never a frame's first byte (a close frame with
				// FIN clear and RSV1 set): this is HTTP, such as a second
				// 101 response.
				w.st = stHTTP
				continue
			}
			if w.hn == 0 {
				w.pkts = w.pkts[:0]
				w.f.Offset = w.off
			}
			w.noHTTP = false
			w.addPkt(pkt, ts)
			n := copy(w.hdr[w.hn:w.need], b)
			w.hn += n
			w.off += uint64(n)
			b = b[n:]
			if w.hn == 2 {
				w.need = headerLen(w.hdr[0], w.hdr[1])
			}
			if w.hn == w.need {
				w.startFrame()
				if w.left == 0 {
					w.endFrame()
				}
			}
		case stPayload:
			w.addPkt(pkt, ts)
			n := uint64(len(b))
			if n > w.left {
				n = w.left
			}
			w.payload(b[:n])
			w.f.Wire += n
			w.left -= n
			w.off += n
			b = b[n:]
			if w.left == 0 {
				w.endFrame()
			}
		}
	}
}

// httpFeed collects an HTTP response found where a frame header should be
// and skips it, reporting it; it returns how many bytes of b it consumed.
// Bytes that turn out not to be HTTP are decoded as frames.
func (w *wsDir) httpFeed(b []byte, pkt uint64, ts time.Time) int {
	start := len(w.hbuf)
	w.hbuf = append(w.hbuf, b...)
	if len(w.hbuf) < 5 && bytes.HasPrefix([]byte("HTTP/"), w.hbuf) {
		return len(b)
	}
	if !bytes.HasPrefix(w.hbuf, []byte("HTTP/")) {
		// A (malformed) frame after all: decode the bytes as one.
		buf := w.hbuf
		w.hbuf = nil
		w.st, w.noHTTP = stHeader, true
		w.feed(buf[:start], w.lastPkt, w.lastTS)
		if w.hbuf == nil {
			w.hbuf = buf[:0]
		}
		return 0
	}
	end := http1.HeaderEnd(w.hbuf, start-3) // the blank line may begin in earlier bytes
	if end < 0 {
		if len(w.hbuf) > w.opts.MaxHTTPHeader {
			w.skipHTTP(len(w.hbuf), pkt, ts)
			w.startSearch()
		}
		return len(b)
	}
	w.skipHTTP(end, pkt, ts)
	w.st = stHeader
	return end - start
}

// skipHTTP reports and skips the first n bytes of w.hbuf, an HTTP message.
func (w *wsDir) skipHTTP(n int, pkt uint64, ts time.Time) {
	line := w.hbuf[:n]
	if i := bytes.IndexByte(line, '\r'); i >= 0 {
		line = line[:i]
	}
	line = line[:min(len(line), 60)]
	w.s.anomalyRecord(w.side, true, newAnomaly(AnUpgradeRepeated, int64(w.off),
		fmt.Sprintf("HTTP response %q at stream offset %d after the connection switched to WebSocket; skipped (%d bytes)", line, w.off, n)), pkt, ts)
	w.off += uint64(n)
	w.hbuf = w.hbuf[:0]
	if pkt >= w.lastPkt {
		w.lastPkt, w.lastTS = pkt, ts
	}
}

// addPkt records that pkt carried bytes of the current frame.
func (w *wsDir) addPkt(pkt uint64, ts time.Time) {
	if n := len(w.pkts); n == 0 || w.pkts[n-1] != pkt {
		w.pkts = append(w.pkts, pkt)
	}
	if pkt >= w.lastPkt {
		w.lastPkt, w.lastTS = pkt, ts
	}
}

// headerLen returns the full header length given its first two bytes.
func headerLen(b0, b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&0x80 != 0 {
		n += 4
	}
	return n
}

// parseHeader decodes a complete header into f (payload fields untouched).
func parseHeader(h []byte, f *Frame) {
	b0, b1 := h[0], h[1]
	f.Fin = b0&0x80 != 0
	f.RSV1 = b0&0x40 != 0
	f.RSV2 = b0&0x20 != 0
	f.RSV3 = b0&0x10 != 0
	f.Opcode = b0 & 0x0f
	f.Masked = b1&0x80 != 0
	f.LenCode = b1 & 0x7f
	i := 2
	switch f.LenCode {
	case 126:
		f.Len = uint64(binary.BigEndian.Uint16(h[2:]))
		i = 4
	case 127:
		f.Len = binary.BigEndian.Uint64(h[2:])
		i = 10
	default:
		f.Len = uint64(f.LenCode)
	}
	f.MaskKey = [4]byte{}
	if f.Masked {
		copy(f.MaskKey[:], h[i:i+4])
		i += 4
	}
	f.HeaderLen = i
}

// deflateMode says how the connection compresses.
func (w *wsDir) deflateMode() (perMessage, perFrame, unknown bool) {
	c := w.conn
	switch {
	case c.Deflate != nil && c.Deflate.Name == "permessage-deflate":
		return true, false, false
	case c.Deflate != nil:
		return false, true, false
	case c.Midstream || w.s.probing():
		// No handshake seen: any data frame may be compressed.
		return true, false, true
	}
	return false, false, false
}

// startFrame validates a complete header and prepares for the payload.
func (w *wsDir) startFrame() {
	off, pkts := w.f.Offset, w.pkts
	w.f = Frame{Dir: w.dir, Offset: off, Packets: pkts}
	parseHeader(w.hdr[:w.hn], &w.f)
	f := &w.f
	w.tot.Frames++
	w.fan = w.fan[:0]
	w.left, w.pos, w.lost = f.Len, 0, 0
	w.hn, w.need = 0, 2
	w.st = stPayload
	perMsg, perFrame, unknown := w.deflateMode()

	control := IsControl(f.Opcode)
	if OpcodeName(f.Opcode) == "reserved" {
		w.frameAnomaly(AnReservedOpcode, -1, fmt.Sprintf("reserved opcode 0x%x", f.Opcode))
	}
	if control {
		if !f.Fin {
			w.frameAnomaly(AnControlFragmented, -1, "control frame with FIN clear (control frames must not be fragmented)")
		}
		if f.Len > 125 {
			w.frameAnomaly(AnControlTooLong, -1, fmt.Sprintf("control frame payload is %d bytes (at most 125 allowed)", f.Len))
		}
	}
	switch {
	case f.RSV1 && control && (perMsg || perFrame):
		w.frameAnomaly(AnRSV1Control, -1, "RSV1 (compressed) set on a control frame")
	case f.RSV1 && f.Opcode == OpContinuation && perMsg && !unknown:
		w.frameAnomaly(AnRSV1Continuation, -1, "RSV1 set on a continuation frame (only a message's first frame may carry it)")
	case f.RSV1 && !perMsg && !perFrame:
		w.frameAnomaly(AnRSVNoExtension, -1, "RSV1 set but no extension that defines it was negotiated")
	}
	if f.RSV2 || f.RSV3 {
		w.frameAnomaly(AnRSVNoExtension, -1, fmt.Sprintf("RSV2/RSV3 set (0x%x) but no extension defines them", rsvBits(f)))
	}
	if w.dir == ClientToServer && !f.Masked {
		w.frameAnomaly(AnClientUnmasked, -1, "client-to-server frame is not masked")
	}
	if w.dir == ServerToClient && f.Masked {
		w.frameAnomaly(AnServerMasked, -1, "server-to-client frame is masked")
	}
	if f.Masked && f.MaskKey == [4]byte{} {
		w.frameAnomaly(AnZeroMaskKey, -1, "masking key is 00000000: the payload is in clear")
	}
	switch {
	case f.LenCode == 127 && f.Len>>63 != 0:
		w.frameAnomaly(AnLengthTopBit, -1, fmt.Sprintf("64-bit payload length 0x%016x has its most significant bit set", f.Len))
	case f.LenCode == 126 && f.Len < 126, f.LenCode == 127 && f.Len <= 0xffff:
		bits := 16
		if f.LenCode == 127 {
			bits = 64
		}
		w.frameAnomaly(AnNonMinimalLength, -1, fmt.Sprintf("payload length %d sent in a %d-bit field; the minimal encoding is shorter", f.Len, bits))
	}
	if w.closed {
		w.frameAnomaly(AnDataAfterClose, -1, fmt.Sprintf("%s frame after this direction's close frame", OpcodeName(f.Opcode)))
	}

	if control {
		w.isCtl = true
		w.ctl = w.ctl[:0]
		w.frameStart = 0
		f.IsText = f.Opcode == OpClose
		f.MessageOpcode = f.Opcode
		return
	}
	w.isCtl = false
	switch {
	case f.Opcode == OpContinuation && !w.inMsg:
		w.frameAnomaly(AnContinuationNoMessage, -1, "continuation frame with no fragmented message in progress")
		w.startMessage(f.Opcode, false, unknown)
		w.msg.Incomplete = true
	case f.Opcode != OpContinuation && w.inMsg:
		w.frameAnomaly(AnDataDuringFragmented, -1, fmt.Sprintf("new %s frame while a fragmented message is in progress", OpcodeName(f.Opcode)))
		w.msg.Incomplete = true
		w.endMessage(false)
		w.startMessage(f.Opcode, f.RSV1 && (perMsg || perFrame), unknown)
	case f.Opcode != OpContinuation:
		w.startMessage(f.Opcode, f.RSV1 && (perMsg || perFrame), unknown)
	}
	if perFrame {
		w.compIn = 0
		w.compressed = f.RSV1
		if w.compressed {
			w.msg.Compressed = true
			w.prepareInflater(false)
		}
	}
	// The whole message is kept (up to --max-message) in frame mode too,
	// so that its last frame can show it reassembled.
	w.frameStart = len(w.msgBuf)
	f.IsText = w.msg.Opcode == OpText
	f.Compressed = w.compressed
	f.NotInflated = w.compressed && w.rawMode
	f.MessageIndex = w.msg.Index
	f.MessageOpcode = w.msg.Opcode
}

func rsvBits(f *Frame) int {
	v := 0
	if f.RSV1 {
		v |= 4
	}
	if f.RSV2 {
		v |= 2
	}
	if f.RSV3 {
		v |= 1
	}
	return v
}

// frameAnomaly records a problem with the current frame.
func (w *wsDir) frameAnomaly(id string, off int64, msg string) {
	w.fan = append(w.fan, newAnomaly(id, off, msg))
}

// startMessage begins a data message.
func (w *wsDir) startMessage(op uint8, compressed, unknown bool) {
	first := uint64(0)
	if len(w.pkts) > 0 {
		first = w.pkts[0]
	}
	w.inMsg = true
	w.msg = Message{Dir: w.dir, Opcode: op, FirstPacket: first, Index: w.msgCount, Compressed: compressed}
	// Previews cut uncompressed messages only: inflated output is kept
	// whole, and a message whose frames may each be compressed or not
	// (a per-frame extension, or an unknown one mid-stream) could
	// otherwise hold a cut plain part followed by inflated bytes.
	if w.opts.PreviewBytes > 0 && !compressed && !unknown {
		_, perFrame, _ := w.deflateMode()
		w.preview = !perFrame && w.s.previewOnly()
	} else {
		w.preview = false
	}
	w.msgCount++
	w.msgBuf = w.msgBuf[:0]
	w.man = w.man[:0]
	w.utf.reset()
	w.utfSaid = false
	w.compressed = compressed
	w.rawMode = false
	w.cut = false
	w.inflated = 0
	w.compIn = 0
	if compressed {
		// While the context is lost, the window holds only what was
		// inflated since it was cleared (every loss clears it), which is
		// exactly the sender's most recent history: references into it
		// are right, and references beyond it fail instead of producing
		// garbage.
		w.prepareInflater(unknown)
	}
}

// prepareInflater makes sure the direction has an inflater for a new
// compressed message.
func (w *wsDir) prepareInflater(unknown bool) {
	if w.infl == nil {
		bits := 15
		if p := w.conn.Deflate; p != nil {
			bits = p.ClientMaxWindowBits
			if w.dir == ServerToClient {
				bits = p.ServerMaxWindowBits
			}
		}
		// zlib cannot make 8-bit windows and silently uses 9 (RFC 7692 7.1.2.1).
		bits = max(bits, 9)
		w.infl, w.inflBits = w.s.inflater(bits), bits
		w.ctxLost = unknown
	}
}

// payload consumes payload bytes of the current frame.
func (w *wsDir) payload(b []byte) {
	f := &w.f
	if w.isCtl {
		w.appendPlain(&w.ctl, b, false, f.Masked)
		w.pos += uint64(len(b))
		return
	}
	if !w.compressed || w.rawMode {
		if w.canLend(b) {
			w.lent = b
			if w.msg.Opcode == OpText {
				w.utf.write(b)
			}
			w.msg.Len += uint64(len(b))
			w.pos += uint64(len(b))
			return
		}
		w.appendPlain(&w.msgBuf, b, w.msg.Opcode == OpText && !w.rawMode, f.Masked)
		w.msg.Len += uint64(len(b))
		w.pos += uint64(len(b))
		return
	}
	in := b
	if f.Masked {
		// The inflater reads its input only during the call and never
		// writes it: an unmasked payload goes to it as it is, a masked
		// one is unmasked into scratch first.
		w.scratch = append(w.scratch[:0], b...)
		maskBytes(w.scratch, f.MaskKey, w.pos)
		in = w.scratch
	}
	w.pos += uint64(len(b))
	w.compIn += uint64(len(b))
	w.inflateChunk(in)
}

// canLend reports whether the payload bytes b can be shown as they are
// (wsDir.lent): they are the whole payload of an unmasked, uncompressed final
// frame that starts its message (or follows only empty frames of it), within
// --max-message, and payloads are retained at all.
func (w *wsDir) canLend(b []byte) bool {
	f := &w.f
	return !w.opts.DiscardPayload && w.pos == 0 && uint64(len(b)) == w.left && f.Fin && !f.Masked &&
		!w.rawMode && len(w.msgBuf) == 0 && int64(len(b)) <= w.opts.MaxMessage
}

// msgBytes returns the current message's retained payload.
func (w *wsDir) msgBytes() []byte {
	if w.lent != nil {
		return w.lent
	}
	return w.msgBuf
}

// appendPlain appends bytes to buf within the retention cap, unmasking them
// when masked is set and validating them as text when text is set.
func (w *wsDir) appendPlain(buf *[]byte, b []byte, text, masked bool) {
	f := &w.f
	if buf == &w.msgBuf {
		if w.opts.DiscardPayload {
			if text {
				w.checkText(b, masked, w.pos)
			}
			return
		}
		if w.preview && !w.compressed {
			// Keep what the preview still takes; the rest is only
			// validated, after the kept bytes.
			base := 0
			if !w.opts.Messages {
				base = w.frameStart
			}
			if keep := max(w.opts.PreviewBytes-(len(w.msgBuf)-base), 0); len(b) > keep {
				f.Preview, w.msg.Preview = true, true
				rest, pos := b[keep:], w.pos+uint64(keep)
				if keep > 0 {
					w.appendPlain(buf, b[:keep], text, masked)
				}
				if text {
					w.checkText(rest, masked, pos)
				}
				return
			}
		}
	}
	room := w.opts.MaxMessage - int64(len(*buf))
	k := int64(len(b))
	if k > room {
		k = max(room, 0)
		f.Truncated = true
		if !w.isCtl {
			w.msg.Truncated = true
		}
	}
	k = w.room(buf, k)
	start := len(*buf)
	*buf = append(*buf, b[:k]...)
	if masked {
		maskBytes((*buf)[start:], f.MaskKey, w.pos)
	}
	if text {
		w.utf.write((*buf)[start:])
	}
}

// checkText validates text bytes that are not retained (DiscardPayload,
// PreviewBytes), unmasking them first, a piece at a time, when masked; pos
// is the offset of b in the frame's payload.
func (w *wsDir) checkText(b []byte, masked bool, pos uint64) {
	if !masked {
		w.utf.write(b)
		return
	}
	if w.utf.np == 0 {
		// The ASCII prefix needs neither unmasking into tmp nor the
		// validator: its masked words, XORed with the key, show it.
		k := maskedASCIILen(b, w.f.MaskKey, pos)
		w.utf.off += int64(k)
		b, pos = b[k:], pos+uint64(k)
	}
	var tmp [512]byte
	for len(b) > 0 {
		n := copy(tmp[:], b)
		maskBytes(tmp[:n], w.f.MaskKey, pos)
		w.utf.write(tmp[:n])
		b, pos = b[n:], pos+uint64(n)
	}
}

// inflateChunk inflates unmasked compressed bytes: into the message buffer
// while it is under --max-message, then only through the window (counted in
// the message's length, not retained), so that the compression context of
// later messages stays exact. A message inflating past --max-decompressed
// is cut off there (decompression-limit).
func (w *wsDir) inflateChunk(in []byte) {
	if w.cut {
		return
	}
	if w.opts.DiscardPayload {
		w.inflateUnkept(in)
		return
	}
	opts := w.opts
	// What the memory budget lets the message buffer grow by during this
	// call (see inflateRoom); past it, output is discarded like output past
	// --max-message, and the cut is reported as memory-budget.
	if cap(w.msgBuf) == 0 && w.bufs != nil {
		// Large buffers go back to the pool after each message: take one
		// before the inflater's appends allocate one.
		w.msgBuf = w.bufs.take()
	}
	room, base := w.inflateRoom(len(in)), len(w.msgBuf)
	if w.budgetCutBefore() {
		// Output after a cut would make the retained payload something
		// other than its beginning (as room says for plain payloads).
		room = 0
	}
	for {
		bomb := opts.MaxDecompressed - int64(w.inflated)
		keep := min(opts.MaxMessage-int64(len(w.msgBuf)), bomb)
		budgetLimited := false
		if r := room - int64(len(w.msgBuf)-base); r < keep {
			keep, budgetLimited = max(r, 0), true
		}
		var n int
		var err error
		if keep > 0 {
			start := len(w.msgBuf)
			var out []byte
			out, err = w.infl.Append(w.msgBuf, in, int(min(keep, math.MaxInt32)))
			w.msgBuf = out
			n = len(out) - start
			if w.msg.Opcode == OpText {
				w.utf.write(out[start:])
			}
		} else {
			n, err = w.infl.Discard(in, int(min(bomb, math.MaxInt32)))
			if n > 0 {
				w.f.Truncated, w.msg.Truncated = true, true
				if budgetLimited {
					w.budgetCut(int64(w.inflated), fmt.Sprintf("inflated message kept up to %d bytes: the memory budget (--memory) is exhausted (the rest was inflated, not retained)", w.inflated))
				}
			}
		}
		w.inflated += uint64(n)
		w.msg.Len += uint64(n)
		if errors.Is(err, inflate.ErrLimit) && int64(w.inflated) < opts.MaxDecompressed {
			// The retention cap (or the budget) was reached: go on
			// discarding.
			w.f.Truncated, w.msg.Truncated = true, true
			in = in[len(in)-w.infl.Unconsumed():]
			continue
		}
		w.inflateEnded(in, err)
		return
	}
}

// inflateUnkept is inflateChunk for DiscardPayload: the output is validated
// as text straight from the inflater's window and not retained. Past
// --max-message the frame and message are marked truncated, as when
// retaining; past --max-decompressed the message is cut off.
func (w *wsDir) inflateUnkept(in []byte) {
	if w.visitFn == nil {
		w.visitFn = w.visitInflated
	}
	bomb := w.opts.MaxDecompressed - int64(w.inflated)
	n, err := w.infl.Visit(in, int(min(bomb, math.MaxInt32)), w.visitFn)
	w.inflated += uint64(n)
	w.msg.Len += uint64(n)
	if n > 0 && int64(w.inflated) > w.opts.MaxMessage {
		w.f.Truncated, w.msg.Truncated = true, true
	}
	w.inflateEnded(in, err)
}

// visitInflated validates inflated output that is not retained.
func (w *wsDir) visitInflated(p []byte) {
	if w.msg.Opcode == OpText {
		w.utf.write(p)
	}
}

// inflateEnded handles how a call of the inflater on in ended: nothing to do
// without an error; past --max-decompressed (ErrLimit) the message is cut
// off; on corrupt input or lost context the message is shown compressed.
func (w *wsDir) inflateEnded(in []byte, err error) {
	switch {
	case err == nil:
	case errors.Is(err, inflate.ErrLimit):
		w.f.Truncated, w.msg.Truncated = true, true
		w.frameAnomaly(AnDecompressLimit, int64(w.inflated), fmt.Sprintf("message inflates past --max-decompressed (%d bytes); cut off there", w.opts.MaxDecompressed))
		w.cut = true
		w.ctxLost = true
		w.hist = 0
		w.infl.Reset(false)
	default:
		if w.ctxLost {
			w.frameAnomaly(AnDeflateContextLost, int64(w.inflated), "compressed message refers to data not in the capture (context takeover history lost); shown compressed")
		} else {
			w.frameAnomaly(AnDecompressFailed, int64(w.inflated), fmt.Sprintf("inflation failed after %d bytes: %v", w.inflated, err))
		}
		w.giveUpInflate()
		w.appendPlain(&w.msgBuf, in, false, false) // show the raw (already unmasked) bytes
		w.msg.Len += uint64(len(in))
	}
}

// giveUpInflate stops inflating the current message and marks the context
// lost.
func (w *wsDir) giveUpInflate() {
	w.rawMode = true
	w.ctxLost = true
	w.hist = 0
	w.f.NotInflated, w.msg.NotInflated = true, true
	if w.infl != nil {
		w.infl.Reset(false)
	}
}

// endFrame completes the current frame: validates its payload, emits it and,
// when it ends a message, the message.
func (w *wsDir) endFrame() {
	f := &w.f
	w.tot.WireBytes = satAdd(w.tot.WireBytes, w.pos-w.lost)
	w.st = stHeader
	if !w.isCtl && w.compressed && !w.rawMode {
		// An empty compressed payload is an empty message: appending the
		// tail to nothing would leave the inflater inside a block header.
		if perMsg, perFrame, _ := w.deflateMode(); ((perMsg && f.Fin) || perFrame) && !w.cut && w.compIn > 0 {
			w.inflateChunk(deflateTail[:])
		}
	}
	messages := w.opts.Messages
	if w.isCtl {
		f.Payload = w.ctl
		w.controlPayload()
		w.countControl()
	} else {
		f.Payload = w.msgBytes()[w.frameStart:]
		if w.msg.Opcode == OpText && f.Fin && !w.rawMode {
			if ok, bad := w.utf.end(); !ok && !w.utfSaid {
				w.utfSaid = true
				w.frameAnomaly(AnInvalidUTF8, bad, fmt.Sprintf("text message is not valid UTF-8 (first bad byte at message offset %d)", bad))
			}
		} else if w.utf.bad && !w.utfSaid {
			w.utfSaid = true
			w.frameAnomaly(AnInvalidUTF8, w.utf.badOff, fmt.Sprintf("text message is not valid UTF-8 (first bad byte at message offset %d)", w.utf.badOff))
		}
		w.msg.Frames++
		w.man = append(w.man, w.fan...)
	}
	if !messages {
		if !w.isCtl && f.Fin && w.msg.Frames > 1 {
			w.msg.Payload = w.msgBytes()
			f.Reassembled = &w.msg
		}
		w.emitFrame()
	}
	switch {
	case w.isCtl:
		if messages {
			w.emitControlMessage()
		} else {
			w.outCount++
		}
		if f.Opcode == OpClose {
			w.closed = true
		}
	case f.Fin:
		w.endMessage(true)
	}
	w.f.Incomplete = false
}

// controlPayload decodes a close frame's status code and reason.
func (w *wsDir) controlPayload() {
	f := &w.f
	if f.Opcode != OpClose {
		return
	}
	p := f.Payload
	switch {
	case f.Len == 1:
		w.frameAnomaly(AnCloseOneByte, -1, "close payload is 1 byte; a status code needs 2")
	case len(p) >= 2:
		f.HasCloseCode = true
		f.CloseCode = binary.BigEndian.Uint16(p)
		f.CloseReason = string(p[2:])
		if !CloseCodeAllowedOnWire(f.CloseCode) {
			w.frameAnomaly(AnCloseCodeInvalid, 0, fmt.Sprintf("close code %d (%s) must not be sent in a close frame", f.CloseCode, CloseCodeName(f.CloseCode)))
		}
		if !utf8.Valid(p[2:]) {
			bad := 2
			for i := 2; i < len(p); {
				r, n := utf8.DecodeRune(p[i:])
				if r == utf8.RuneError && n <= 1 {
					bad = i
					break
				}
				i += n
			}
			w.frameAnomaly(AnCloseReasonUTF8, int64(bad), fmt.Sprintf("close reason is not valid UTF-8 (first bad byte at payload offset %d)", bad))
		}
	}
}

// emitFrame sends the current frame record.
func (w *wsDir) emitFrame() {
	w.f.Packets = w.pkts // w.pkts may have grown since the header
	*w.rec = Record{Kind: KindFrame, Conn: w.conn, Packet: w.lastPkt, Time: w.lastTS,
		Dir: w.dir, HasDir: true, Frame: &w.f, Anomalies: w.fan}
	w.s.emit(w.rec)
}

// emitControlMessage sends a control frame as a message record.
func (w *wsDir) emitControlMessage() {
	f := &w.f
	f.Packets = w.pkts
	m := Message{Dir: w.dir, Opcode: f.Opcode, Len: f.Len, Frames: 1, Payload: f.Payload, Index: w.outCount,
		Truncated: f.Truncated, Incomplete: f.Incomplete, HasCloseCode: f.HasCloseCode,
		CloseCode: f.CloseCode, CloseReason: f.CloseReason}
	if len(f.Packets) > 0 {
		m.FirstPacket = f.Packets[0]
	}
	*w.rec = Record{Kind: KindMessage, Conn: w.conn, Packet: w.lastPkt, Time: w.lastTS,
		Dir: w.dir, HasDir: true, Message: &m, Anomalies: w.fan}
	w.s.emit(w.rec)
	w.outCount++
}

// endMessage completes the current data message (complete is false when it
// was cut short).
func (w *wsDir) endMessage(complete bool) {
	if !w.inMsg {
		return
	}
	w.inMsg = false
	if !complete {
		w.msg.Incomplete = true
	}
	w.tot.Messages++
	w.tot.Bytes = satAdd(w.tot.Bytes, w.msg.Len)
	w.msg.Index = w.outCount
	w.outCount++
	if w.msg.Truncated && !w.cut && w.msg.Len > uint64(max(w.opts.MaxMessage, 0)) {
		// (A message the budget alone cut has its memory-budget anomaly.)
		limit := w.opts.MaxMessage
		w.man = append(w.man, newAnomaly(AnMessageTruncated, limit,
			fmt.Sprintf("message of %d bytes cut at --max-message (%d bytes)", w.msg.Len, limit)))
	}
	if w.opts.Messages {
		w.msg.Payload = w.msgBytes()
		*w.rec = Record{Kind: KindMessage, Conn: w.conn, Packet: w.lastPkt, Time: w.lastTS,
			Dir: w.dir, HasDir: true, Message: &w.msg, Anomalies: w.man}
		w.s.emit(w.rec)
	}
	if w.compressed && w.infl != nil {
		perMsg, _, _ := w.deflateMode()
		keep := !w.noContextTakeover()
		switch {
		case w.rawMode || !complete || w.cut:
			w.ctxLost = w.ctxLost || keep
			w.hist = 0
			w.infl.Reset(false)
		case perMsg:
			w.infl.Reset(keep)
			w.hist += w.inflated
			if w.ctxLost && w.hist >= 1<<w.inflBits {
				// A whole window was inflated since the history was lost:
				// from here on the window is exact again, and a reference
				// the inflater cannot resolve is the sender's error.
				w.ctxLost = false
			}
		}
	}
	if cap(w.msgBuf) > keepMsgBuf && w.bufs != nil {
		w.bufs.put(w.msgBuf)
		w.msgBuf, w.msg.Payload = nil, nil
	} else {
		w.msgBuf = w.msgBuf[:0]
	}
	w.lent = nil
	w.compressed = false
	w.rawMode = false
}

// noContextTakeover reports whether this direction's sender resets its
// window after each message.
func (w *wsDir) noContextTakeover() bool {
	p := w.conn.Deflate
	if p == nil {
		return false
	}
	if w.dir == ClientToServer {
		return p.ClientNoContextTakeover
	}
	return p.ServerNoContextTakeover
}

// gap handles bytes of this direction missing from the capture.
func (w *wsDir) gap(g *reassembly.Gap) {
	var broke string
	switch {
	case w.st == stSearch:
		w.skipped += uint64(len(w.search))
		w.startSearch()
		w.off += g.Len
		if w.s.unproven() {
			// Nothing says the connection is WebSocket yet: its losses
			// are not worth a record (most such connections are not).
			return
		}
		broke = "while looking for a frame boundary"
		w.gapRecord(g, broke)
		return
	case w.st == stPayload && g.Len < w.left && !g.Unsized:
		// The frame's length is known: skip the missing payload and go on.
		w.f.Incomplete = true
		if !w.isCtl {
			w.msg.Incomplete = true
			if w.compressed && !w.rawMode {
				w.giveUpInflate()
				w.fan = append(w.fan, newAnomaly(AnDeflateContextLost, int64(w.inflated), "compressed bytes of this message are missing; it cannot be inflated"))
			}
		}
		w.left -= g.Len
		w.pos += g.Len
		w.off += g.Len
		w.lost += g.Len
		broke = fmt.Sprintf("inside the payload of the %s frame at offset %d (the frame's length is known; decoding goes on)", OpcodeName(w.f.Opcode), w.f.Offset)
		w.gapRecord(g, broke)
		return
	case w.st == stPayload:
		broke = fmt.Sprintf("the end of the %s frame at offset %d and whatever followed", OpcodeName(w.f.Opcode), w.f.Offset)
		w.f.Incomplete = true
		if !w.isCtl {
			w.msg.Incomplete = true
			if w.compressed && !w.rawMode {
				w.giveUpInflate()
			}
		}
		w.gapRecord(g, broke)
		w.fan = append(w.fan, newAnomaly(AnTCPGap, int64(g.Offset), "frame cut by lost bytes"))
		w.emitPartial()
	case w.hn > 0:
		broke = fmt.Sprintf("a frame header at offset %d", w.f.Offset)
		w.gapRecord(g, broke)
	default:
		broke = "whole frames (at a frame boundary)"
		w.gapRecord(g, broke)
	}
	if w.inMsg {
		w.msg.Incomplete = true
		if w.compressed && !w.rawMode {
			w.giveUpInflate()
		}
	}
	w.off += g.Len
	w.hn, w.need = 0, 2
	w.startSearch()
}

// gapRecord reports a gap as an anomaly record.
func (w *wsDir) gapRecord(g *reassembly.Gap, broke string) {
	w.s.anomalyRecord(w.side, true, newAnomaly(AnTCPGap, int64(g.Offset),
		fmt.Sprintf("%d bytes missing from the capture at stream offset %d (%s); lost %s", g.Len, g.Offset, g.Reason, broke)), g.Packet, g.Time)
}

// emitPartial emits the current, unfinished frame (and ends its message as
// incomplete when it was a data frame).
func (w *wsDir) emitPartial() {
	f := &w.f
	w.tot.WireBytes = satAdd(w.tot.WireBytes, w.pos-w.lost)
	f.Incomplete = true
	if w.isCtl {
		f.Payload = w.ctl
		w.controlPayload()
		w.countControl()
		if !w.opts.Messages {
			w.emitFrame()
		} else {
			w.emitControlMessage()
		}
	} else {
		f.Payload = w.msgBytes()[w.frameStart:]
		w.msg.Frames++
		w.man = append(w.man, w.fan...)
		if !w.opts.Messages {
			w.emitFrame()
		}
		w.endMessage(false)
	}
	w.st = stHeader
	w.hn, w.need = 0, 2
}

// finish is called when the connection ends: a frame or message in progress
// is emitted as incomplete.
func (w *wsDir) finish() {
	switch {
	case w.st == stSearch:
		w.searchFinal()
		if w.st == stSearch {
			// Nothing was found: the held bytes are given up, and the
			// search no longer holds the watermark back.
			w.marks = w.marks[:0]
			w.wm.moved()
			return
		}
		w.s.drainHeld(true) // the bytes the search found frames in
		w.finish()
		return
	case w.st == stHTTP:
		w.skipHTTP(len(w.hbuf), w.lastPkt, w.lastTS)
		w.st = stHeader
	case w.st == stPayload || w.hn > 0:
		if w.st == stPayload {
			w.fan = append(w.fan, newAnomaly(AnFrameCutAtEnd, int64(w.off),
				fmt.Sprintf("connection ended %d bytes before the end of the %s frame", w.left, OpcodeName(w.f.Opcode))))
			w.emitPartial()
		}
	}
	if w.inMsg {
		w.endMessage(false)
	}
}
