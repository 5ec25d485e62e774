package reassembly

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/netpkt"
)

// TestRandomStreams splits random streams (both directions) into random,
// overlapping segments, delivers them shuffled with duplicates and checks
// that both streams come out byte-identical, without gaps or notes of
// differing bytes.
func TestRandomStreams(t *testing.T) {
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 0x5eed))
		var streams [2][]byte
		var isn [2]uint32
		for d := range 2 {
			streams[d] = make([]byte, rng.IntN(20000))
			for i := range streams[d] {
				streams[d][i] = byte(rng.Uint32())
			}
			isn[d] = rng.Uint32()
			if rng.IntN(3) == 0 {
				isn[d] = 0xFFFFFFFF - rng.Uint32N(5000) // wraps inside the stream
			}
		}
		steps := handshake(isn[0], isn[1])
		var body []step
		for d := range 2 {
			s := streams[d]
			seg := func(off, end int, flags uint8) step {
				return step{fromSrv: d == 1, flags: flags, seq: isn[d] + 1 + uint32(off), ack: isn[1-d] + 1, payload: string(s[off:end])}
			}
			// A partition of the stream, then retransmissions with other
			// boundaries.
			for off := 0; off < len(s); {
				end := min(len(s), off+1+rng.IntN(1500))
				body = append(body, seg(off, end, fPA))
				off = end
			}
			for range rng.IntN(20) {
				if len(s) == 0 {
					break
				}
				off := rng.IntN(len(s))
				body = append(body, seg(off, min(len(s), off+1+rng.IntN(3000)), fPA))
			}
			body = append(body, seg(len(s), len(s), fFA))
			if rng.IntN(2) == 0 {
				body = append(body, seg(len(s), len(s), fFA))
			}
		}
		rng.Shuffle(len(body), func(i, j int) { body[i], body[j] = body[j], body[i] })
		steps = append(steps, body...)

		a, f := run(t, Config{}, steps, true)
		if len(f.conns) != 1 {
			t.Fatalf("seed %d: %d connections", seed, len(f.conns))
		}
		r := f.conns[0]
		for d := range 2 {
			if string(r.stream[d]) != string(streams[d]) {
				t.Fatalf("seed %d side %d: stream of %d bytes differs from the %d sent", seed, d, len(r.stream[d]), len(streams[d]))
			}
		}
		for _, e := range r.events {
			if e.kind == "gap" || (e.kind == "note" && e.note == NoteRetransmitDiffers) {
				t.Fatalf("seed %d: unexpected %v", seed, e)
			}
		}
		if r.reason != ClosedFIN {
			t.Errorf("seed %d: closed with %d, want FIN", seed, r.reason)
		}
		if st := a.Stats(); st.Buffered != 0 || st.BytesDelivered != uint64(len(streams[0])+len(streams[1])) {
			t.Errorf("seed %d: stats %+v", seed, st)
		}
	}
}

// fuzzByte is the content of byte off of direction d in FuzzAssembler's
// streams.
func fuzzByte(d int, off int64) byte { return byte(off) ^ byte(off>>8)*31 + byte(d)*101 }

// FuzzAssembler builds segments from the fuzz input and checks that every
// connection's streams are contiguous (delivered bytes and gaps cover the
// stream without holes or overlaps), that every connection is closed exactly
// once, and, in handshake mode, that delivered bytes are right and that the
// stream covers everything sent.
//
// Input: 4+4 bytes of ISNs, a mode byte, then 6-byte operations: control,
// offset (2 bytes, minus 256), length, bytes cut, acknowledged offset / 64.
func FuzzAssembler(f *testing.F) {
	op := func(ctl byte, off uint16, n, cut, ack byte) []byte {
		return []byte{ctl, byte(off >> 8), byte(off), n, cut, ack}
	}
	seed := func(isnA, isnB uint32, mode byte, ops ...[]byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, isnA)
		b = binary.BigEndian.AppendUint32(b, isnB)
		b = append(b, mode)
		for _, o := range ops {
			b = append(b, o...)
		}
		return b
	}
	f.Add(seed(1000, 5000, 0x01, op(0x04, 256, 10, 0, 4), op(0x04, 276, 10, 0, 4), op(0x05, 256, 5, 0, 1), op(0x04, 266, 10, 0, 4)))
	f.Add(seed(0xFFFFFFF0, 0xFFFFFF00, 0x01, op(0x04, 266, 50, 0, 4), op(0x04, 256, 20, 3, 4), op(0x06, 316, 0, 0, 4), op(0x07, 256, 0, 0, 2)))
	f.Add(seed(7, 9, 0x03, op(0x04, 300, 200, 0, 0), op(0x04, 600, 200, 0, 0), op(0x04, 900, 200, 0, 9), op(0x0C, 300, 40, 0, 0)))
	f.Add(seed(7, 9, 0x00, op(0x00, 0, 5, 0, 0), op(0x10, 0, 0, 0, 0), op(0x14, 0, 0, 0, 0), op(0x61, 300, 4, 0, 0), op(0x80, 0, 3, 0, 0)))
	f.Add(seed(7, 9, 0x18, op(0x00, 256, 5, 0, 0), op(0x80, 256, 5, 0, 0), op(0x01, 400, 5, 2, 0), op(0x81, 300, 5, 0, 0)))
	f.Add(seed(1, 2, 0x05, op(0x04, 256, 255, 0, 0), op(0x04, 256+255, 255, 255, 0), op(0x06, 256+600, 0, 0, 0), op(0x05, 256, 1, 0, 20)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 9 || len(b) > 6*400+9 {
			return
		}
		isn := [2]uint32{binary.BigEndian.Uint32(b), binary.BigEndian.Uint32(b[4:])}
		mode := b[8]
		handshakeMode := mode&0x01 != 0
		cfg := Config{}
		if mode&0x02 != 0 {
			cfg.MaxBufferedPerConn = 4*pieceOverhead + 300
			cfg.MaxBufferedTotal = 6*pieceOverhead + 500
		}
		if mode&0x04 != 0 {
			cfg.RecentWindow = 16
		}
		idle := !handshakeMode && mode&0x08 != 0
		if idle {
			cfg.IdleTimeout = time.Second
		}
		if !handshakeMode && mode&0x10 != 0 {
			cfg.MaxConns = 1
		}
		rec := &recorder{t: t}
		a := New(rec, cfg)
		ts := t0
		pkt := uint64(0)
		process := func(s step) {
			pkt++
			a.Process(mkseg(s), pkt, ts)
			if idle {
				ts = ts.Add(700 * time.Millisecond)
			} else {
				ts = ts.Add(time.Millisecond)
			}
		}
		if handshakeMode {
			for _, s := range handshake(isn[0], isn[1]) {
				process(s)
			}
		}
		var maxEnd [2]int64
		var sawFIN [2]bool
		corrupt := false
		for ops := b[9:]; len(ops) >= 6; ops = ops[6:] {
			ctl := ops[0]
			off := int64(binary.BigEndian.Uint16(ops[1:])) - 256
			n, cut := int(ops[3]), int(ops[4])
			d := int(ctl & 1)
			flags := uint8(0)
			if ctl&0x02 != 0 {
				flags |= netpkt.FlagFIN
				sawFIN[d] = true
			}
			if ctl&0x04 != 0 {
				flags |= netpkt.FlagACK
			}
			if !handshakeMode {
				if ctl&0x10 != 0 {
					flags |= netpkt.FlagSYN
				}
				if ctl&0x60 == 0x60 {
					flags |= netpkt.FlagRST
				}
			}
			payload := make([]byte, n-min(n, cut))
			for i := range payload {
				payload[i] = fuzzByte(d, off+int64(i))
			}
			if ctl&0x08 != 0 && len(payload) > 0 {
				payload[0] ^= 0xFF
				corrupt = true
			}
			seq := isn[d] + 1 + uint32(off)
			if flags&netpkt.FlagSYN != 0 {
				seq = isn[d]
			}
			s := step{
				fromSrv: d == 1, flags: flags, seq: seq, payload: string(payload), cut: n - len(payload),
				ack: isn[1-d] + 1 + uint32(ops[5])*64,
			}
			if !handshakeMode && ctl&0x80 != 0 {
				s.cli = altCli
			}
			process(s)
			if n > 0 && off+int64(n) > maxEnd[d] {
				maxEnd[d] = off + int64(n)
			}
		}
		a.FlushAll(pkt+1, ts)

		st := a.Stats()
		if st.Active != 0 || st.Buffered != 0 || st.Conns != uint64(len(rec.conns)) {
			t.Errorf("stats after FlushAll: %+v", st)
		}
		var lost uint64
		for _, r := range rec.conns {
			if r.closes != 1 {
				t.Errorf("stream %d closed %d times", r.info.Stream, r.closes)
			}
			lost += r.gapped[0] + r.gapped[1]
		}
		if lost != st.BytesLost {
			t.Errorf("gaps total %d, stats say %d", lost, st.BytesLost)
		}
		if !handshakeMode {
			return
		}
		if len(rec.conns) != 1 {
			t.Fatalf("%d connections in handshake mode", len(rec.conns))
		}
		r := rec.conns[0]
		for d := range 2 {
			if !sawFIN[d] && r.next[d] < uint64(maxEnd[d]) {
				t.Errorf("side %d: stream covers %d bytes, %d were sent", d, r.next[d], maxEnd[d])
			}
		}
		if corrupt {
			return
		}
		for _, e := range r.events {
			if e.kind != "data" {
				continue
			}
			for i := range len(e.data) {
				if want := fuzzByte(int(e.side), int64(e.off)+int64(i)); e.data[i] != want {
					t.Fatalf("side %d offset %d: byte %#x, want %#x", e.side, int(e.off)+i, e.data[i], want)
				}
			}
		}
	})
}

// TestRecentWindow writes random runs into a side's recent window (growing
// it) and checks it remembers exactly the last window bytes.
func TestRecentWindow(t *testing.T) {
	for _, window := range []int{1, 7, 300, 4096} {
		rng := rand.New(rand.NewPCG(uint64(window), 1))
		var h half
		var all []byte
		var pool ringPool // rings come back stale: only ringLen bytes count
		for range 200 {
			run := make([]byte, 1+rng.IntN(700))
			for i := range run {
				run[i] = byte(rng.Uint32())
			}
			if rng.IntN(10) == 0 { // a gap resets the window
				h.advance(uint64(len(run)))
				h.ringLen = 0
				all = append(all, make([]byte, len(run))...)
				continue
			}
			h.remember(h.nextOff, run, window, &pool)
			if rng.IntN(20) == 0 { // outgrown and returned rings are reused
				pool.put(bytes.Repeat([]byte{0xee}, max(len(h.ring)*2, minRing)))
			}
			h.advance(uint64(len(run)))
			all = append(all, run...)
			if h.ringLen > window || h.ringLen > len(all) {
				t.Fatalf("window %d: remembers %d bytes of %d", window, h.ringLen, len(all))
			}
			// Compare all delivered bytes: equal copies never differ.
			var d diffRange
			h.compareRecent(0, all, &d)
			if d.ok {
				t.Fatalf("window %d: identical bytes reported differing at %d+%d", window, d.lo, d.hi-d.lo)
			}
			// A change inside the window is found; one before it is not.
			k := len(all) - 1 - rng.IntN(min(len(all), 2*window))
			changed := slices.Clone(all[k:])
			changed[0] ^= 1
			d = diffRange{}
			h.compareRecent(uint64(k), changed, &d)
			inside := k >= len(all)-h.ringLen
			if d.ok != inside || (inside && (d.lo != uint64(k) || d.hi != uint64(k+1))) {
				t.Fatalf("window %d: change at %d (remembered from %d): diff %+v", window, k, len(all)-h.ringLen, d)
			}
		}
	}
}

func TestRingSize(t *testing.T) {
	tests := []struct{ want, window, size int }{
		{1, 4096, minRing},
		{minRing, 4096, minRing},
		{minRing + 1, 4096, 2 * minRing},
		{1000, 4096, 1024},
		{1025, 4096, 4096}, // 2048 would be half the window: take all of it
		{1448, 4096, 4096},
		{4096, 4096, 4096},
		{100, 100, 100}, // a window below minRing
		{300, 1000, 1000},
		{200, 1000, minRing},
		{5000, 65536, 8192},
	}
	for _, tt := range tests {
		if got := ringSize(tt.want, tt.window); got != tt.size {
			t.Errorf("ringSize(%d, %d) = %d, want %d", tt.want, tt.window, got, tt.size)
		}
	}
}
