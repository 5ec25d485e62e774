package jsonx

import "unicode/utf8"

// compactor validates a JSON value and compacts it in the same pass. It
// copies nothing while the value is already compact and clean (no
// whitespace between tokens, strings valid UTF-8 without U+2028/U+2029);
// from the first byte to drop or replace on, it appends the runs between
// such bytes to dst.
type compactor struct {
	b     []byte
	dst   []byte
	from  int  // start of the run of b not yet copied to dst
	dirty bool // something was dropped or replaced
	check bool // only validate (Skip): nothing is cut or replaced
}

// cut copies the run before b[i] and skips b[i:j], writing rep instead.
func (c *compactor) cut(i, j int, rep string) {
	c.dst = append(c.dst, c.b[c.from:i]...)
	c.dst = append(c.dst, rep...)
	c.from = j
	c.dirty = true
}

// space drops the whitespace at b[i:] and returns the index after it. The
// common case, no whitespace at all, is one comparison (space is inlined).
func (c *compactor) space(i int) int {
	if i >= len(c.b) || c.b[i] > ' ' {
		return i
	}
	return c.dropSpace(i)
}

// dropSpace is space where b[i] may be whitespace.
func (c *compactor) dropSpace(i int) int {
	j := SkipSpace(c.b, i)
	if j > i && !c.check {
		c.cut(i, j, "")
	}
	return j
}

// CompactValue validates the JSON value starting at b[i] (no space before
// it) and compacts it in one pass, as AppendCompact does after Skip: end
// is the index just after the value. When the value is already compact,
// out is dst unchanged and at is -1: the compact form is b[i:end] itself.
// Otherwise the compact form is appended to dst and is out[at:]. It
// allocates only to grow dst.
func CompactValue(dst, b []byte, i int) (out []byte, end, at int, err error) {
	c := compactor{b: b, dst: dst, from: i}
	at = len(dst)
	end, err = c.value(i, 0)
	if err != nil {
		return dst[:at], 0, -1, err
	}
	if !c.dirty {
		return c.dst, end, -1, nil
	}
	c.dst = append(c.dst, b[c.from:end]...)
	return c.dst, end, at, nil
}

// strPlain marks the bytes a string holds as they are, with nothing to
// check: printable ASCII other than '"' and '\\'. Built once, never changed.
var strPlain = func() (t [256]bool) {
	for ch := 0x20; ch < utf8.RuneSelf; ch++ {
		t[ch] = ch != '"' && ch != '\\'
	}
	return t
}()

func (c *compactor) value(i, depth int) (int, error) {
	b := c.b
	if depth > maxDepth {
		return 0, ErrDepth
	}
	if i >= len(b) {
		return 0, ErrSyntax
	}
	switch b[i] {
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return skipNumber(b, i)
	case '"':
		return c.str(i)
	case '{':
		i = c.space(i + 1)
		if i < len(b) && b[i] == '}' {
			return i + 1, nil
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return 0, ErrSyntax
			}
			var err error
			if i, err = c.str(i); err != nil {
				return 0, err
			}
			i = c.space(i)
			if i >= len(b) || b[i] != ':' {
				return 0, ErrSyntax
			}
			if i, err = c.member(c.space(i+1), depth+1); err != nil {
				return 0, err
			}
			i = c.space(i)
			if i >= len(b) {
				return 0, ErrSyntax
			}
			if b[i] == '}' {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, ErrSyntax
			}
			i = c.space(i + 1)
		}
	case '[':
		i = c.space(i + 1)
		if i < len(b) && b[i] == ']' {
			return i + 1, nil
		}
		for {
			var err error
			if i, err = c.member(i, depth+1); err != nil {
				return 0, err
			}
			i = c.space(i)
			if i >= len(b) {
				return 0, ErrSyntax
			}
			if b[i] == ']' {
				return i + 1, nil
			}
			if b[i] != ',' {
				return 0, ErrSyntax
			}
			i = c.space(i + 1)
		}
	case 't':
		return lit(b, i, "true")
	case 'f':
		return lit(b, i, "false")
	case 'n':
		return lit(b, i, "null")
	}
	return 0, ErrSyntax
}

// member validates the value at b[i] inside an object or array: numbers
// and strings, most of the members of real messages, without the call to
// value and its checks.
func (c *compactor) member(i, depth int) (int, error) {
	if i < len(c.b) {
		switch ch := c.b[i]; {
		case ch-'0' < 10 || ch == '-':
			return skipNumber(c.b, i)
		case ch == '"':
			return c.str(i)
		}
	}
	return c.value(i, depth)
}

// str validates the string at b[i] and replaces, as AppendCompact does,
// invalid UTF-8 with \ufffd and U+2028/U+2029 with their escapes.
func (c *compactor) str(i int) (int, error) {
	if c.check {
		return skipString(c.b, i)
	}
	b := c.b
	i++
	for i < len(b) {
		if strPlain[b[i]] {
			i++
			for i < len(b) && strPlain[b[i]] {
				i++
			}
			continue
		}
		ch := b[i]
		switch {
		case ch == '"':
			return i + 1, nil
		case ch == '\\':
			n, err := escapeLen(b, i)
			if err != nil {
				return 0, err
			}
			i += n
		case ch < 0x20:
			return 0, ErrSyntax
		case ch < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				c.cut(i, i+1, `\ufffd`)
			case r == '\u2028':
				c.cut(i, i+n, `\u2028`)
			case r == '\u2029':
				c.cut(i, i+n, `\u2029`)
			}
			i += n
		}
	}
	return 0, ErrSyntax
}
