package h2

import (
	"fmt"

	"golang.org/x/net/http2"
)

// Gap reports that n bytes of direction d are missing from the capture
// before the next Feed. Inside a DATA frame whose length covers the hole the
// frame layer keeps its place (the stream's session gets an exact DataGap);
// otherwise it searches for a frame boundary (a plausible frame header
// followed by another) and every open session of the direction gets an
// inexact DataGap. Header decoding in d stops, since lost header blocks
// would have changed the dynamic table. It reports whether the hole lay
// inside a WebSocket session's DATA and was handed to it (or held for it)
// whole; otherwise the caller should report the loss itself.
func (c *Conn) Gap(d Dir, n uint64, m Meta) (inSession bool) {
	if c.closed || n == 0 {
		return false
	}
	defer c.charge()
	ds := &c.dirs[d]
	ds.lastM = m
	if ds.preface >= 0 {
		ds.preface = -1 // the preface (or part of it) is lost
	}
	if !ds.searching && ds.inPay && ds.fh.Type == http2.FrameData && n < uint64(ds.left) {
		dataLost := n
		if ds.fh.Flags.Has(http2.FlagDataPadded) && ds.left == ds.fh.Length {
			// The pad length is lost with the hole: the whole rest of the
			// frame is treated as data.
			ds.dataPad = 0
			dataLost--
		}
		if s := ds.dataS; s != nil && dataLost > 0 {
			if s.Open {
				c.h.DataGap(s, d, dataLost, true, m)
			} else if s.Status == 0 {
				c.pendingGap(s, dataLost, m)
			}
		}
		ds.left -= uint32(n)
		ds.off += n
		return ds.dataS != nil
	}
	if ds.inPay || ds.hn > 0 {
		ds.inPay, ds.hn = false, 0
	}
	if !ds.hpackLost {
		c.loseHPACK(ds, m, fmt.Sprintf("%d bytes are missing from the capture", n))
	}
	ds.inBlock = false
	c.OpenSessions(func(s *Stream) {
		c.h.DataGap(s, d, n, false, m)
	})
	ds.off += n
	ds.searching = true
	ds.search = ds.search[:0]
	ds.skipped = 0
	return false
}

// knownFlags are the flags each frame type defines.
var knownFlags = [...]http2.Flags{
	http2.FrameData:         http2.FlagDataEndStream | http2.FlagDataPadded,
	http2.FrameHeaders:      http2.FlagHeadersEndStream | http2.FlagHeadersEndHeaders | http2.FlagHeadersPadded | http2.FlagHeadersPriority,
	http2.FramePriority:     0,
	http2.FrameRSTStream:    0,
	http2.FrameSettings:     http2.FlagSettingsAck,
	http2.FramePushPromise:  http2.FlagPushPromiseEndHeaders | http2.FlagPushPromisePadded,
	http2.FramePing:         http2.FlagPingAck,
	http2.FrameGoAway:       0,
	http2.FrameWindowUpdate: 0,
	http2.FrameContinuation: http2.FlagContinuationEndHeaders,
}

// plausible reports whether h (9 bytes) looks like a frame header a peer
// with maximum frame size maxFrame would send.
func plausible(h []byte, maxFrame uint32) bool {
	fh := parseFrameHeader(h)
	if h[5]&0x80 != 0 || fh.Length > maxFrame || int(fh.Type) >= len(knownFlags) {
		return false
	}
	if fh.Flags&^knownFlags[fh.Type] != 0 {
		return false
	}
	switch fh.Type {
	case http2.FrameSettings, http2.FramePing, http2.FrameGoAway:
		if fh.StreamID != 0 {
			return false
		}
	case http2.FrameWindowUpdate:
	default:
		if fh.StreamID == 0 {
			return false
		}
	}
	switch fh.Type {
	case http2.FramePing:
		return fh.Length == 8
	case http2.FramePriority:
		return fh.Length == 5
	case http2.FrameRSTStream, http2.FrameWindowUpdate:
		return fh.Length == 4
	case http2.FrameSettings:
		return fh.Length%6 == 0 && (fh.Flags == 0 || fh.Length == 0)
	case http2.FrameGoAway:
		return fh.Length >= 8
	case http2.FrameContinuation:
		return false // cannot start a search: its block's start is lost
	}
	return true
}

// searchFeed buffers bytes of a direction that lost its place and resumes
// parsing at the first frame header that chains to a second one.
func (c *Conn) searchFeed(ds *dirState, b []byte, m Meta) {
	if len(ds.search) == 0 {
		ds.searchM = m
	}
	ds.search = append(ds.search, b...)
	if c.trySync(ds, m, false) {
		return
	}
	if over := len(ds.search) - c.lim.MaxSearch; over > 0 {
		// Keep the last few bytes: a header may start there.
		drop := len(ds.search) - frameHeaderLen
		ds.skipped += uint64(drop)
		n := copy(ds.search, ds.search[drop:])
		ds.search = ds.search[:n]
	}
}

// trySync looks for a frame boundary in ds.search; final accepts a single
// plausible frame that ends exactly at the end of the data.
func (c *Conn) trySync(ds *dirState, m Meta, final bool) bool {
	buf := ds.search
	for i := 0; i+frameHeaderLen <= len(buf); i++ {
		if !plausible(buf[i:], ds.maxFrame) {
			continue
		}
		next := i + frameHeaderLen + int(parseFrameHeader(buf[i:]).Length)
		switch {
		case next+frameHeaderLen <= len(buf):
			if !plausible(buf[next:], ds.maxFrame) {
				continue
			}
		case next == len(buf) && final:
		default:
			// Not decidable yet: wait for more bytes from here.
			if i > 0 {
				ds.skipped += uint64(i)
				n := copy(ds.search, buf[i:])
				ds.search = ds.search[:n]
			}
			return false
		}
		skipped := ds.skipped + uint64(i)
		ds.off += skipped
		c.h.Anomaly(ds.dir, 0, Anomaly{ID: AnResync, Offset: int64(ds.off),
			Msg: fmt.Sprintf("skipped %d bytes to a verified HTTP/2 frame boundary", skipped)}, m)
		rest := buf[i:]
		ds.searching, ds.skipped = false, 0
		ds.search = buf[:0]
		// rest aliases the search buffer, which feed does not reuse while
		// parsing, so it is safe to hand over.
		held := append([]byte(nil), rest...)
		c.feed(ds, held, m)
		return true
	}
	return false
}

// searchEnd gives up the search when the connection ends.
func (c *Conn) searchEnd(ds *dirState, m Meta) {
	if len(ds.search) > 0 && c.trySync(ds, m, true) {
		return
	}
	ds.searching = false
}
