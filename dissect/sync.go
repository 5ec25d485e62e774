package dissect

import (
	"cmp"
	"encoding/binary"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/reassembly"
)

// Frame-boundary search: when a direction's position in the frame sequence
// is unknown (the capture started mid-connection, or bytes were lost), the
// bytes are buffered and every offset is tried as the start of a chain of
// consecutive plausible frame headers. One lucky byte is not enough: a
// candidate is accepted only when several frames chain up, or when the chain
// ends exactly where the data ends and the frame carries strong evidence
// (valid UTF-8 text of some length, a valid close code).

// chainVerdict is the outcome of testing one candidate offset.
type chainVerdict uint8

const (
	chainReject chainVerdict = iota
	chainAccept
	chainWait   // more bytes are needed to decide
	chainPaired // accepted together with the other direction's (paired)
)

// startSearch puts the direction into search mode at the current offset.
func (w *wsDir) startSearch() {
	w.st = stSearch
	w.wm.moved()
	w.hbuf = w.hbuf[:0]
	w.searchCut = false
	w.search = w.search[:0]
	w.marks = w.marks[:0]
	w.searchFrom = 0
	w.pending = w.pending[:0]
	w.hn, w.need = 0, 2
}

// searchBase is the stream offset of w.search[0].
func (w *wsDir) searchBase() uint64 { return w.off - uint64(len(w.search)) }

// searchFeed buffers bytes while searching and tries to synchronise.
func (w *wsDir) searchFeed(b []byte, pkt uint64, ts time.Time) {
	w.searchRoom(len(b), pkt, ts)
	w.search = append(w.search, b...)
	w.off += uint64(len(b))
	w.marks = append(w.marks, mark{end: len(w.search), pkt: pkt, ts: ts})
	if len(w.marks) == 1 {
		w.wm.add(w)
	}
	w.trySync(false)
	if w.st == stSearch {
		if limit := w.opts.MaxSearch; len(w.search) > limit {
			w.dropSearch(len(w.search) - limit/2)
		}
	}
}

// dropSearch forgets the first k search bytes (they are skipped).
func (w *wsDir) dropSearch(k int) {
	if k <= 0 {
		return
	}
	k = min(k, len(w.search))
	w.skipped += uint64(k)
	w.wm.moved()
	n := copy(w.search, w.search[k:])
	w.search = w.search[:n]
	j := 0
	for _, m := range w.marks {
		m.end -= k
		if m.end > 0 {
			w.marks[j] = m
			j++
		}
	}
	w.marks = w.marks[:j]
	w.searchFrom = max(w.searchFrom-k, 0)
	j = 0
	for _, i := range w.pending {
		if i -= k; i >= 0 {
			w.pending[j] = i
			j++
		}
	}
	w.pending = w.pending[:j]
	if w.creditAt -= k; w.creditAt < 0 {
		w.credit = 0
	}
}

// searchFinal makes a last attempt when no more data will come.
func (w *wsDir) searchFinal() { w.trySync(true) }

// trySync tests candidate offsets and synchronises on the first accepted
// one. Offsets whose chain runs past the buffered data are kept pending and
// retried as data arrives; a later offset whose chain is verified is not held
// up by an earlier one that cannot be decided yet (random payload bytes make
// many such candidates), unless that earlier one starts a TCP segment:
// senders write a frame at a time, so a segment start that parses as a frame
// header is most likely the boundary, and a later offset inside its frames
// is most likely payload that happens to chain (a capture picked up in front
// of a 1,536-byte frame of SSH ciphertext synced 183 bytes into it and
// decoded garbage). Such a guard only delays: once its frame is all here,
// its chain is accepted or rejected like any other, and the search buffer
// stays within --max-search.
func (w *wsDir) trySync(final bool) {
	w.credit = 0
	best, bestV := -1, chainReject
	guard := 0 // offsets below it lie in the frames of a segment start still undecided
	j := 0
	for _, i := range w.pending {
		v, reach, bits := w.chainAt(i, final)
		if (v == chainAccept || v == chainPaired) && i < guard {
			v = chainWait
		}
		switch v {
		case chainAccept, chainPaired:
			if best < 0 {
				best, bestV = i, v
			}
		case chainWait:
			w.pending[j] = i
			j++
			w.noteCredit(i, bits)
			if reach > guard && best < 0 && w.segmentStart(i) {
				guard = reach
			}
		}
	}
	w.pending = w.pending[:j]
	if best >= 0 {
		w.accept(best, bestV)
		return
	}
	for i := w.searchFrom; i < len(w.search); i++ {
		if !firstBytePlausible(w.search[i]) {
			continue // most offsets of random bytes: no need to try them
		}
		v, reach, bits := w.chainAt(i, final)
		if (v == chainAccept || v == chainPaired) && i < guard {
			v = chainWait
		}
		switch v {
		case chainAccept, chainPaired:
			w.searchFrom = i + 1
			w.accept(i, v)
			return
		case chainWait:
			w.pending = append(w.pending, i)
			w.noteCredit(i, bits)
			if reach > guard && w.segmentStart(i) {
				guard = reach
			}
		}
	}
	w.searchFrom = len(w.search)
}

// accept synchronises on offset i. A chain accepted together with the
// other direction's has that direction synchronise first, at its own
// chain: its frames may come first in the capture, and the connection's
// record goes with the first frame.
func (w *wsDir) accept(i int, v chainVerdict) {
	if o := w.partner; v == chainPaired && o.st == stSearch {
		o.syncAt(o.creditAt)
	}
	w.syncAt(i)
}

// noteCredit keeps the best evidence of the chains that wait at the end of
// the data, for the other direction of a connection without a handshake
// (see paired).
func (w *wsDir) noteCredit(i, bits int) {
	if bits > w.credit {
		w.credit, w.creditAt = bits, i
		w.creditMasked = w.search[i+1]&0x80 != 0
	}
}

// paired reports whether a chain with the given evidence, starting on a
// segment start and ending where the data ends, is enough together with
// the other direction's: two such chains, one masked and one not, are what
// a WebSocket connection picked up near its end shows (a close exchange),
// and random bytes rarely give both at once.
func (w *wsDir) paired(bits int, masked bool) bool {
	o := w.partner
	return bits >= pairBits && o != nil && o.st == stSearch && o.credit >= pairBits && o.creditMasked != masked
}

// segmentStart reports whether search offset i is where a TCP segment's
// payload starts: the first byte searched (nothing skipped before it) or
// the end of a buffered segment.
func (w *wsDir) segmentStart(i int) bool {
	if i == 0 {
		return w.skipped == 0
	}
	return w.boundary(i)
}

// boundary reports whether search offset i > 0 is where a buffered segment
// ends.
func (w *wsDir) boundary(i int) bool {
	_, found := slices.BinarySearchFunc(w.marks, i, func(m mark, i int) int { return cmp.Compare(m.end, i) })
	return found
}

// plausible checks one frame header for the search. It returns the header
// and payload lengths, the mask bit, the payload's evidence in bits (a valid
// close code, valid text; 0 for none) and whether the header is plausible;
// complete is false when the header is not all in b.
func (w *wsDir) plausible(b []byte) (hlen int, plen uint64, masked bool, score int, ok, complete bool) {
	if len(b) < 2 {
		return 0, 0, false, 0, true, false
	}
	b0, b1 := b[0], b[1]
	op := b0 & 0x0f
	switch op {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		return
	}
	if b0&0x30 != 0 {
		return
	}
	perMsg, perFrame, _ := w.deflateMode()
	// RSV1 marks a compressed message's first frame (RFC 7692 7.2.3.1);
	// only x-webkit-deflate-frame sets it on continuation frames too.
	if b0&0x40 != 0 && (IsControl(op) || !(perMsg || perFrame) || op == OpContinuation && !perFrame) {
		return
	}
	fin := b0&0x80 != 0
	masked = b1&0x80 != 0
	if w.maskWant >= 0 && masked != (w.maskWant == 1) {
		return
	}
	hlen = headerLen(b0, b1)
	if len(b) < hlen {
		return hlen, 0, masked, 0, true, false
	}
	var f Frame
	parseHeader(b[:hlen], &f)
	plen = f.Len
	if IsControl(op) && (!fin || plen > 125) {
		return
	}
	switch {
	case f.LenCode == 126 && plen < 126, f.LenCode == 127 && plen <= 0xffff, plen > 1<<40:
		return
	}
	// Look at the payload when it is all here.
	if uint64(len(b)-hlen) >= plen {
		p := b[hlen : hlen+int(plen)]
		switch {
		case op == OpClose && plen == 1:
			return
		case op == OpClose && plen >= 2:
			code := maskedU16(p, f.MaskKey, masked)
			if !CloseCodeAllowedOnWire(code) {
				return
			}
			score = bitsPayload
		case op == OpText && b0&0x40 == 0 && plen > 0:
			valid, ev := textPlausible(p, f.MaskKey, masked)
			if !valid {
				return 0, 0, false, 0, false, true
			}
			score = ev
		}
	}
	return hlen, plen, masked, score, true, true
}

// maskedU16 reads a big-endian uint16 from the start of a (masked) payload.
func maskedU16(p []byte, key [4]byte, masked bool) uint16 {
	a, b := p[0], p[1]
	if masked {
		a ^= key[0]
		b ^= key[1]
	}
	return binary.BigEndian.Uint16([]byte{a, b})
}

// textPlausible reports whether a (masked) text payload is valid UTF-8
// (checking at most the first 4 KiB), and how strong that evidence is, in
// bits: random bytes are valid UTF-8 less than six times in ten per byte,
// so about 0.7 bits a byte (from bitsPayload at 8 bytes up to maxTextBits),
// and printable ASCII at 3 bytes is worth bitsPayload.
func textPlausible(p []byte, key [4]byte, masked bool) (ok bool, bits int) {
	var tmp [4096]byte
	n := copy(tmp[:], p)
	t := tmp[:n]
	if masked {
		maskBytes(t, key, 0)
	}
	if n < len(p) {
		// cut at a rune start so a rune split by the cut is not an error
		for k := 0; k < utf8.UTFMax && len(t) > 0 && !utf8.RuneStart(t[len(t)-1]); k++ {
			t = t[:len(t)-1]
		}
		if len(t) > 0 {
			t = t[:len(t)-1]
		}
	}
	if !utf8.Valid(t) {
		return false, 0
	}
	if len(t) >= 8 {
		return true, max(bitsPayload, min(len(t)*2/3, maxTextBits))
	}
	for _, c := range t {
		if c < 0x20 || c > 0x7e {
			return true, 0
		}
	}
	if len(p) >= 3 {
		return true, bitsPayload
	}
	return true, 0
}

// Evidence, in bits, that a chain of frames found in a connection without a
// handshake is WebSocket at all. Encrypted or compressed streams (TLS picked
// up inside a record, SSH, a SOCKS tunnel) are random bytes to the search,
// and in a megabyte of them chains of three plausible headers turn up by
// the dozen: three-quarters of random 60 KB connections were once taken for
// WebSocket. A random header passes plausible about one time in twenty or
// thirty; a random frame end or start falls on a TCP segment boundary about
// one time in a hundred or more, while senders write a frame at a time, so
// real frames line up with segments; strong payload evidence (valid text of
// some length, a valid close code) is rarer still in random bytes. Once the
// connection is known to be WebSocket, a resync needs only the weaker chain.
const (
	bitsHeader  = 5  // a plausible header that counts
	bitsPayload = 5  // strong payload evidence: a valid close code, short text
	maxTextBits = 20 // long valid text (see textPlausible)
	bitsAligned = 7  // a frame boundary on a segment boundary
	probeBits   = 36 // what a first sync without a handshake needs
	// pairBits is what each direction needs when both show a chain that
	// starts on a segment start and ends where their data ends, one masked
	// and the other not: a close exchange, a ping and its pong, a request
	// and its answer of a connection picked up near its end.
	pairBits = 24
)

// chainAt tests offset i as a frame boundary. For a chain that waits for
// the rest of a frame whose header is here, reach is the end of that frame;
// for one whose frames end where the data ends, that end (see trySync);
// otherwise it is 0.
//
// A resync needs three frames that count, or two (one with strong payload
// evidence) ending exactly where the data ends. A session that is not
// known to be WebSocket needs probeBits of evidence instead, or pairBits
// with the other direction's (see paired). bits is the evidence of a
// chain that waits at the end of the data (strict searches only).
func (w *wsDir) chainAt(i int, final bool) (v chainVerdict, reach, bits int) {
	b := w.search
	strict := w.s.unproven()
	p := i
	n := 0
	score := 0
	aligned := false // decided once the first header is plausible (most are not)
	enough := func() bool {
		if strict {
			return bits >= probeBits
		}
		return n >= 3
	}
	maskSeen := -1
	open := -1 // a message is open: -1 unknown (the chain may start inside one), 0 no, 1 yes
	for steps := 0; !enough() && steps < 64; steps++ {
		if p == len(b) {
			switch {
			case strict && enough(), !strict && (n >= 2 || n == 1 && score > 0):
				return chainAccept, 0, 0
			case strict && aligned && w.paired(bits, b[i+1]&0x80 != 0):
				return chainPaired, 0, 0
			case final:
				return chainReject, 0, 0
			}
			// Whole frames up to the end of the data, waiting for the
			// next header.
			if !aligned {
				bits = 0
			}
			return chainWait, p, bits
		}
		hlen, plen, masked, s, ok, complete := w.plausible(b[p:])
		if !ok {
			return chainReject, 0, 0
		}
		if !complete {
			if final {
				return chainReject, 0, 0
			}
			return chainWait, 0, 0
		}
		if steps == 0 && strict && w.segmentStart(i) {
			aligned = true
			bits += bitsAligned
		}
		m := 0
		if masked {
			m = 1
		}
		if maskSeen >= 0 && m != maskSeen {
			return chainReject, 0, 0
		}
		maskSeen = m
		// Frames of a message follow each other: a continuation only
		// inside one, a new message only outside.
		if op := op0(b[p]); !IsControl(op) {
			if op == OpContinuation && open == 0 || op != OpContinuation && open == 1 {
				return chainReject, 0, 0
			}
			open = 1
			if b[p]&0x80 != 0 {
				open = 0
			}
		}
		end := uint64(p) + uint64(hlen) + plen
		if end > uint64(len(b)) {
			// The frame runs past the data: wait unless it can never fit.
			if final || plen > uint64(w.opts.MaxSearch) {
				if strict && bits+bitsHeader >= probeBits || !strict && (n >= 2 || (n >= 1 && score > 0)) {
					return chainAccept, 0, 0
				}
				return chainReject, 0, 0
			}
			// The chain reaches to the end of the frame that is not all
			// here yet.
			return chainWait, int(end), 0
		}
		score += s
		// Empty continuation and binary frames prove nothing (a run of zero
		// bytes parses as them); they may sit in a chain but do not count.
		if plen > 0 || (op0(b[p]) != OpContinuation && op0(b[p]) != OpBinary) {
			n++
			bits += bitsHeader + s
			if strict && w.boundary(int(end)) {
				bits += bitsAligned
			}
		}
		p = int(end)
	}
	if enough() {
		return chainAccept, 0, 0
	}
	return chainReject, 0, 0
}

// firstBytePlausible reports whether b0 may start a frame: a defined
// opcode, no RSV2 or RSV3 (plausible checks the rest).
func firstBytePlausible(b0 byte) bool {
	op := b0 & 0x0f
	return b0&0x30 == 0 && (op <= OpBinary || op >= OpClose && op <= OpPong)
}

// op0 returns the opcode in a frame's first byte.
func op0(b0 byte) uint8 { return b0 & 0x0f }

// syncAt accepts offset i as a frame boundary and has the session replay
// the buffered bytes from there through the frame parser (a connection does
// it in packet order with the other direction's, see order.go).
func (w *wsDir) syncAt(i int) {
	p := syncPoint{data: w.search, marks: w.marks, at: i, base: w.searchBase(),
		skipped: w.skipped + uint64(i), masked: w.search[i+1]&0x80 != 0}
	w.search, w.marks = nil, nil
	w.skipped = 0
	w.wm.moved()
	if p.masked {
		w.maskWant = 1
	} else {
		w.maskWant = 0
	}
	w.st = stHeader
	w.hn, w.need = 0, 2
	w.off = p.base + uint64(i)
	w.s.synced(w, &p)
	if w.search == nil { // keep the buffer for the next search
		w.search, w.marks = p.data[:0], p.marks[:0]
	}
}

// midstreamFound turns a probed connection into a WebSocket connection once
// one direction has synchronised; the masked direction is the client. The
// connection record follows, at the packet of the first frame (emitSync).
func (c *connState) midstreamFound(w *wsDir, masked bool) {
	client := w.side
	switch {
	case masked:
	case c.info.SawSYN:
		// Unmasked frames from a side we know opened the connection: a
		// client that does not mask.
		client = reassembly.SideA
	default:
		client = w.side.Other()
	}
	var other *wsDir
	for _, x := range c.ws {
		if x != w {
			other = x
		}
	}
	c.setClient(client)
	c.conn.Midstream = true
	c.mode = modeWS
	w.dir = c.dirOf(w.side)
	c.ws[w.dir] = w
	if other != nil {
		other.dir = c.dirOf(other.side)
		c.ws[other.dir] = other
	}
}
