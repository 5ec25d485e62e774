package inflate

import "encoding/binary"

// huffman decodes the data of a fixed- or dynamic-Huffman block until the
// block ends, the input runs out, the output budget is spent or the data is
// bad.
//
// A "unit" is one literal, or one length/distance pair with extra bits: at
// most 15+5+15+13 = 48 bits. While at least eight input bytes and room for
// a longest match remain, fast decodes units without any checks after a
// 64-bit refill of the bit buffer. Near the end of the input or of the room,
// units are decoded one at a time with checks, and a unit that is not
// complete in the input stays in the bit buffer (at most 63 bits, so the
// held-back input never exceeds eight bytes).
func (z *Inflater) huffman() stop {
	in := z.in
	p := z.p
	b, nb := z.bits, z.nbits
	win := z.win
	ring := len(win)
	full := win[:ring+copySlack] // the ring and the slack after it
	wpos := z.wpos
	lim := wpos + z.budget // write position at which the budget is spent
	lit, dist := z.lit, z.dist
	window := z.window
	st := goOn
	blockEnd := false

loop:
	for {
		if wpos == ring {
			z.wpos = wpos
			z.wrap()
			lim -= ring
			wpos = 0
		}
		end := min(ring, lim)

		if z.copyLen > 0 { // finish an interrupted match first
			if wpos >= end {
				st = limitHit
				break
			}
			k := min(z.copyLen, end-wpos)
			copyMatch(win, wpos, z.copyDist, k)
			wpos += k
			z.copyLen -= k
			continue
		}

		if p+8 <= len(in) && end-wpos >= maxMatch {
			var fs fastStop
			p, b, nb, wpos, fs = z.fast(in, p, b, nb, full, wpos, end-maxMatch)
			switch fs {
			case fastEOB:
				blockEnd = true
				break loop
			case fastBadLit:
				st = z.failBits(ErrCorrupt, p, nb, "invalid literal/length code")
				break loop
			case fastBadDist:
				st = z.failBits(ErrCorrupt, p, nb, "invalid distance code")
				break loop
			case fastFar:
				st = z.failBits(ErrDistance, p, nb, "distance too far back")
				break loop
			}
		}

		// Careful path: one unit, checking everything.
		for nb < 56 && p < len(in) {
			b |= uint64(in[p]) << nb
			p++
			nb += 8
		}
		e := lit[b&litRootMask]
		if e&fLink != 0 {
			e = lit[e>>entValShift+uint32(b>>litRootBits)&(1<<(e&entLenMask)-1)]
		}
		n := uint(e & entLenMask)
		if n > nb {
			st = needInput
			break
		}
		if e&fLiteral != 0 {
			if wpos >= end {
				st = limitHit
				break
			}
			b >>= n
			nb -= n
			win[wpos] = byte(e >> entValShift)
			wpos++
			continue
		}
		if e&fBase == 0 {
			if e&fEOB != 0 {
				b >>= n
				nb -= n
				blockEnd = true
				break
			}
			st = z.failBits(ErrCorrupt, p, nb, "invalid literal/length code")
			break
		}
		ext := uint(e>>entExtShift) & entExtMask
		if n+ext > nb {
			st = needInput
			break
		}
		t := b >> n
		length := int(e>>entValShift) + int(t&(1<<ext-1))
		t >>= ext
		d := dist[t&distRootMask]
		if d&fLink != 0 {
			d = dist[d>>entValShift+uint32(t>>distRootBits)&(1<<(d&entLenMask)-1)]
		}
		dn := uint(d & entLenMask)
		if n+ext+dn > nb {
			st = needInput
			break
		}
		if d&fBase == 0 {
			st = z.failBits(ErrCorrupt, p, nb, "invalid distance code")
			break
		}
		dext := uint(d>>entExtShift) & entExtMask
		used := n + ext + dn + dext
		if used > nb {
			st = needInput
			break
		}
		t >>= dn
		dv := int(d>>entValShift) + int(t&(1<<dext-1))
		if dv > wpos+z.hist || dv > window {
			st = z.failBits(ErrDistance, p, nb, "distance too far back")
			break
		}
		if wpos >= end {
			st = limitHit
			break
		}
		b >>= used
		nb -= used
		k := min(length, end-wpos)
		copyMatch(win, wpos, dv, k)
		wpos += k
		if k < length {
			z.copyLen, z.copyDist = length-k, dv
		}
	}

	z.p = p
	z.bits = b & (1<<nb - 1)
	z.nbits = nb
	z.wpos = wpos
	z.budget = lim - wpos
	if blockEnd {
		z.blockDone()
		return goOn
	}
	return st
}

// fastStop tells why fast returned.
type fastStop uint8

const (
	fastMore    fastStop = iota // out of input or room: continue carefully
	fastEOB                     // end of block consumed
	fastBadLit                  // invalid literal/length code at p, nb
	fastBadDist                 // invalid distance code at the unit at p, nb
	fastFar                     // distance too far back at the unit at p, nb
)

// fast decodes units without input, bit-count or room checks while at least
// eight input bytes remain at p and wpos is at most wlim (so that a longest
// match fits before the end of the ring and of the budget). It returns the
// advanced state and why it stopped; on an error p and nb locate the bad
// unit (and b is meaningless). full is the ring with the copySlack bytes
// after it.
//
// After a refill all 64 bits of b are input (at least 56 of them counted in
// nb), and an iteration consumes at most 48 of them (one length/distance
// unit, or up to four literals), so at least 16 real bits remain: enough
// to look up the next literal/length entry (primary and sub-table) before
// the next refill, which keeps that lookup off the refill's dependency
// chain. The uncounted bits above nb are input bytes at p and later, so
// OR-ing a refill over them changes nothing.
//
// It is a separate function so that its few hot variables stay in
// registers.
func (z *Inflater) fast(in []byte, p int, b uint64, nb uint, full []byte, wpos, wlim int) (int, uint64, uint, int, fastStop) {
	lit, dist := z.lit, z.dist
	b |= binary.LittleEndian.Uint64(in[p:]) << (nb & 63)
	p += int((63 - nb) >> 3)
	nb |= 56
	e := lit[b&litRootMask]
	for {
		if e&fLink != 0 {
			e = lit[e>>entValShift+uint32(b>>litRootBits)&(1<<(e&entLenMask)-1)]
		}
		n := uint(e & entLenMask)
		if e&fLiteral != 0 {
			// One bounds check for up to four literals (wpos is at most
			// wlim, where a longest match fits).
			w := full[wpos : wpos+4 : wpos+4]
			b >>= e & entShiftMask
			nb -= uint(e & entShiftMask)
			w[0] = byte(e >> entValShift)
			wpos++
			// Up to three more literals whose codes fit the primary
			// table (at most litRootBits bits each).
			e = lit[b&litRootMask]
			if e&(fLiteral|fLink) != fLiteral {
				goto next
			}
			b >>= e & entShiftMask
			nb -= uint(e & entShiftMask)
			w[1] = byte(e >> entValShift)
			wpos++
			e = lit[b&litRootMask]
			if e&(fLiteral|fLink) != fLiteral {
				goto next
			}
			b >>= e & entShiftMask
			nb -= uint(e & entShiftMask)
			w[2] = byte(e >> entValShift)
			wpos++
			e = lit[b&litRootMask]
			if e&(fLiteral|fLink) != fLiteral {
				goto next
			}
			b >>= e & entShiftMask
			nb -= uint(e & entShiftMask)
			w[3] = byte(e >> entValShift)
			wpos++
			e = lit[b&litRootMask]
		} else if e&fBase != 0 {
			t := b >> n
			ext := uint(e>>entExtShift) & entExtMask
			length := int(e>>entValShift) + int(t&(1<<ext-1))
			t >>= ext
			d := dist[t&distRootMask]
			if d&fLink != 0 {
				d = dist[d>>entValShift+uint32(t>>distRootBits)&(1<<(d&entLenMask)-1)]
			}
			if d&fBase == 0 {
				return p, 0, nb, wpos, fastBadDist
			}
			dn := uint(d & entLenMask)
			t >>= dn
			dext := uint(d>>entExtShift) & entExtMask
			dv := int(d>>entValShift) + int(t&(1<<dext-1))
			if dv > wpos+z.hist || dv > z.window {
				return p, 0, nb, wpos, fastFar
			}
			b = t >> dext
			nb -= n + ext + dn + dext
			e = lit[b&litRootMask]

			src := wpos - dv
			switch {
			case src >= 0 && dv >= length && length > 32:
				copy(full[wpos:wpos+length], full[src:src+length])
			case src >= 0 && dv >= 8:
				// Eight bytes at a time, each read complete before it
				// is overwritten. Up to seven bytes beyond the match
				// land in the slack after the ring or in ring bytes
				// older than the window (see newRing), and are
				// rewritten before they are used.
				for k := 0; k < length; k += 8 {
					binary.LittleEndian.PutUint64(full[wpos+k:], binary.LittleEndian.Uint64(full[src+k:]))
				}
			case src >= 0 && dv == 1:
				v := uint64(full[src]) * 0x0101010101010101
				for k := 0; k < length; k += 8 {
					binary.LittleEndian.PutUint64(full[wpos+k:], v)
				}
			case src >= 0:
				// Overlapping, dv from 2 to 7: the eight bytes read at
				// src+k overlap the write at wpos+k, of which only the
				// first dv are right, so the next write starts dv bytes
				// on.
				for k := 0; k < length; k += dv {
					binary.LittleEndian.PutUint64(full[wpos+k:], binary.LittleEndian.Uint64(full[src+k:]))
				}
			default:
				copyMatch(full[:len(full)-copySlack], wpos, dv, length)
			}
			wpos += length
		} else if e&fEOB != 0 {
			return p, b >> n, nb - n, wpos, fastEOB
		} else {
			return p, b, nb, wpos, fastBadLit
		}
	next:
		if p+8 > len(in) || wpos > wlim {
			return p, b, nb, wpos, fastMore
		}
		b |= binary.LittleEndian.Uint64(in[p:]) << (nb & 63)
		p += int((63 - nb) >> 3)
		nb |= 56
	}
}

// failBits records an error for the unit that starts nb bits before input
// byte p of the current call.
func (z *Inflater) failBits(sentinel error, p int, nb uint, reason string) stop {
	return z.fail(sentinel, (z.inOff+int64(p))*8-int64(nb), reason)
}

// copyMatch writes n bytes at win[wpos:] copied from dist bytes back in the
// ring, with LZ77 semantics (overlapping copies repeat the pattern). The
// destination must not wrap; the source may.
func copyMatch(win []byte, wpos, dist, n int) {
	src := wpos - dist
	if src < 0 {
		// The source starts near the end of the ring; it lies at or after
		// the destination, so a plain copy reads only old bytes.
		src += len(win)
		k := copy(win[wpos:wpos+n], win[src:])
		if k == n {
			return
		}
		wpos += k
		n -= k
		src = 0
	}
	// Each pass copies everything written since src, doubling the amount
	// for overlapping (dist < n) copies.
	for n > 0 {
		k := copy(win[wpos:wpos+n], win[src:wpos])
		wpos += k
		n -= k
	}
}
