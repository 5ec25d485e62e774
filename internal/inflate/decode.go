package inflate

import "encoding/binary"

// huffman decodes the data of a fixed- or dynamic-Huffman block until the
// block ends, the input runs out, the output budget is spent or the data is
// bad.
//
// A "unit" is one literal, or one length/distance pair with extra bits: at
// most 15+5+15+13 = 48 bits. While at least eight input bytes and room for
// a longest match remain, units are decoded without any checks after a
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
	wpos := z.wpos
	lim := wpos + z.budget // write position at which the budget is spent
	lit, dist := z.lit, z.dist
	window := z.window
	filled := z.filled
	st := goOn
	blockEnd := false

loop:
	for {
		if wpos == ring {
			z.wpos = wpos
			z.wrap()
			lim -= ring
			wpos = 0
			filled = true
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

		// Fast path: no input, bit-count or room checks per unit.
		for p+8 <= len(in) && end-wpos >= maxMatch {
			b |= binary.LittleEndian.Uint64(in[p:]) << nb
			p += int((63 - nb) >> 3)
			nb |= 56

			e := lit[b&litRootMask]
			if e&fLink != 0 {
				e = lit[e>>entValShift+uint32(b>>litRootBits)&(1<<(e&entLenMask)-1)]
			}
			n := uint(e & entLenMask)
			if e&fLiteral != 0 {
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
					break loop
				}
				st = z.failBits(ErrCorrupt, p, nb, "invalid literal/length code")
				break loop
			}
			b >>= n
			ext := uint(e>>entExtShift) & entExtMask
			length := int(e>>entValShift) + int(b&(1<<ext-1))
			b >>= ext

			d := dist[b&distRootMask]
			if d&fLink != 0 {
				d = dist[d>>entValShift+uint32(b>>distRootBits)&(1<<(d&entLenMask)-1)]
			}
			if d&fBase == 0 {
				st = z.failBits(ErrCorrupt, p, nb, "invalid distance code")
				break loop
			}
			dn := uint(d & entLenMask)
			b >>= dn
			dext := uint(d>>entExtShift) & entExtMask
			dv := int(d>>entValShift) + int(b&(1<<dext-1))
			b >>= dext
			if dv > wpos && !filled || dv > window {
				st = z.failBits(ErrDistance, p, nb, "distance too far back")
				break loop
			}
			nb -= n + ext + dn + dext

			if src := wpos - dv; src >= 0 && dv >= length {
				copy(win[wpos:wpos+length], win[src:src+length])
			} else {
				copyMatch(win, wpos, dv, length)
			}
			wpos += length
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
		if dv > wpos && !filled || dv > window {
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
