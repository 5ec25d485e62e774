package source

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Chain reads several capture files one after the other as one capture, as
// if they had been concatenated (mergecap -a): packet numbers continue from
// file to file, so a TCP connection that spans the files of a rotated
// capture (tcpdump -C/-G, dumpcap ring buffers) stays one connection.
// Files are opened one at a time, when reading reaches them. A damaged file
// does not stop the chain: what it held before the damage is read, then the
// next file, and Next returns the first such error at the end instead of
// io.EOF. It is not safe for concurrent use, except Size and Pos.
type Chain struct {
	names []string
	stdin io.Reader
	cur   *File
	next  int // index of the next file to open
	base  uint64
	count uint64
	last  time.Time

	damaged error
	err     error

	size    int64        // total size, -1 when unknown
	donePos atomic.Int64 // bytes of files already read
	curFile atomic.Pointer[File]
	stopped atomic.Bool

	onSecrets func(Secrets)

	// Overlap, when set, is called when a file's first packet is older than
	// the previous file's last packet: the files do not follow each other.
	Overlap func(prev, name string)
}

// NewChain returns a Chain over the files in the order given.
func NewChain(names []string, stdin io.Reader) *Chain {
	c := &Chain{names: names, stdin: stdin}
	c.size = 0
	for _, n := range names {
		st, err := os.Stat(n)
		if n == "-" || err != nil || !st.Mode().IsRegular() {
			c.size = -1
			break
		}
		c.size += st.Size()
	}
	return c
}

// Stop makes Next return an error wrapping ErrStopped from its next call
// on (see File.Stop). It may be called from any goroutine.
func (c *Chain) Stop() {
	c.stopped.Store(true)
	if f := c.curFile.Load(); f != nil {
		f.Stop()
	}
}

// Next returns the next packet of the chain (see File.Next).
func (c *Chain) Next(p *Packet) error {
	if c.err != nil {
		return c.err
	}
	if c.stopped.Load() {
		c.err = ErrStopped
		return c.err
	}
	for {
		if c.cur == nil {
			if c.next == len(c.names) {
				c.err = cmp.Or(c.damaged, io.EOF)
				return c.err
			}
			f, err := Open(c.names[c.next], c.stdin)
			c.next++
			if err != nil {
				c.err = err
				return err
			}
			c.cur = f
			f.OnSecrets(c.onSecrets)
			c.curFile.Store(f)
			c.base = c.count
		}
		err := c.cur.Next(p)
		if err == nil {
			if c.cur.count == 1 && !c.last.IsZero() && p.Time.Before(c.last) && c.Overlap != nil {
				c.Overlap(c.names[c.next-2], c.cur.Name())
			}
			p.Number += c.base
			c.count = p.Number
			c.last = p.Time
			return nil
		}
		if !errors.Is(err, io.EOF) {
			if !errors.Is(err, ErrDamaged) {
				c.err = err
				return err
			}
			c.damaged = cmp.Or(c.damaged, err)
		}
		c.donePos.Add(max(c.cur.Size(), c.cur.Pos()))
		c.curFile.Store(nil)
		c.cur.Close()
		c.cur = nil
	}
}

// OnSecrets sets fn to be called with the TLS key logs of the files'
// Decryption Secrets Blocks (see File.OnSecrets); call it before the first
// Next.
func (c *Chain) OnSecrets(fn func(Secrets)) { c.onSecrets = fn }

// Close closes the file being read.
func (c *Chain) Close() error {
	c.err = errClosed
	if c.cur != nil {
		err := c.cur.Close()
		c.cur = nil
		return err
	}
	return nil
}

// Size is the total size of the files (-1 when one is not a regular file).
func (c *Chain) Size() int64 { return c.size }

// Pos is how many bytes of the files were consumed so far.
func (c *Chain) Pos() int64 {
	p := c.donePos.Load()
	if f := c.curFile.Load(); f != nil {
		p += f.Pos()
	}
	return p
}

// FirstPacketTime returns the time of a capture's first packet, or an error
// when it cannot be opened or holds no packet.
func FirstPacketTime(name string) (time.Time, error) {
	f, err := Open(name, nil)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	var p Packet
	if err := f.Next(&p); err != nil {
		if errors.Is(err, io.EOF) {
			return time.Time{}, fmt.Errorf("%s holds no packets", name)
		}
		return time.Time{}, err
	}
	return p.Time, nil
}

// ExpandInputs turns command-line inputs into capture files: a directory
// stands for the regular files in it (sorted by name, not descending
// further, skipping hidden files), and an input that does not exist but holds
// glob characters is expanded as a glob. Other inputs, "-" included, are kept
// as they are.
func ExpandInputs(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a == "-" {
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		switch {
		case err == nil && st.IsDir():
			ents, err := os.ReadDir(a)
			if err != nil {
				return nil, fmt.Errorf("reading directory %s: %w", a, err)
			}
			n := 0
			for _, e := range ents {
				if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
					out = append(out, filepath.Join(a, e.Name()))
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("directory %s holds no files", a)
			}
		case err != nil && strings.ContainsAny(a, "*?["):
			m, gerr := filepath.Glob(a)
			if gerr != nil {
				return nil, fmt.Errorf("pattern %q: %w", a, gerr)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("no file matches %q", a)
			}
			out = append(out, m...)
		default:
			out = append(out, a)
		}
	}
	return out, nil
}

// Rotated orders files by their first packet's time and reports whether
// they look like the files of one rotated capture: at least two, all
// readable, none standard input, and no two starting at the same time. The
// order is returned either way (unreadable files last, ties by name), but
// callers should keep the given order when ok is false.
func Rotated(files []string) (ordered []string, ok bool) {
	if len(files) < 2 || slices.Contains(files, "-") {
		return files, false
	}
	type entry struct {
		name string
		t    time.Time
		ok   bool
	}
	es := make([]entry, len(files))
	ok = true
	for i, n := range files {
		t, err := FirstPacketTime(n)
		es[i] = entry{name: n, t: t, ok: err == nil}
		ok = ok && err == nil
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		if a.ok != b.ok {
			if a.ok {
				return -1
			}
			return 1
		}
		return cmp.Or(a.t.Compare(b.t), cmp.Compare(a.name, b.name))
	})
	ordered = make([]string, len(es))
	for i := range es {
		ordered[i] = es[i].name
		if i > 0 && !es[i].t.After(es[i-1].t) {
			ok = false
		}
	}
	return ordered, ok
}
