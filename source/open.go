package source

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"unicode/utf8"

	"github.com/gopacket/gopacket/pcapgo"
)

// bufSize is the size of the buffers in front of the input and of the
// decompressed data.
const bufSize = 256 << 10

// stdinName names standard input in messages.
const stdinName = "standard input"

// File magic numbers, as the first four bytes of the file.
var (
	magicPcapMicroLE = [4]byte{0xd4, 0xc3, 0xb2, 0xa1}
	magicPcapMicroBE = [4]byte{0xa1, 0xb2, 0xc3, 0xd4}
	magicPcapNanoLE  = [4]byte{0x4d, 0x3c, 0xb2, 0xa1}
	magicPcapNanoBE  = [4]byte{0xa1, 0xb2, 0x3c, 0x4d}
	magicPcapModLE   = [4]byte{0x34, 0xcd, 0xb2, 0xa1}
	magicPcapModBE   = [4]byte{0xa1, 0xb2, 0xcd, 0x34}
	magicPcapng      = [4]byte{0x0a, 0x0d, 0x0d, 0x0a}
)

// pcapHeaderLen is the size of a pcap file header.
const pcapHeaderLen = 24

// File reads the packets of a pcap or pcapng capture, in file order. A File
// is not safe for concurrent use, except that Size and Pos may be called at
// any time, from any goroutine (for a progress display).
type File struct {
	name   string
	closer io.Closer // the file Open opened; nil for standard input and OpenReader
	size   int64

	raw    *countingReader // counts the bytes read from the input
	rawBuf *bufio.Reader   // buffers the input
	gz     *gzip.Reader    // nil unless the input is gzip-compressed
	dec    *countingReader // counts decompressed bytes; nil unless gz != nil
	decBuf *bufio.Reader   // buffers decompressed bytes; nil unless gz != nil

	pcap *pcapReader      // set for pcap input
	ng   *pcapgo.NgReader // set for pcapng input
	ngb  ngBlock          // the next pcapng block's header, for error messages

	tap       *secretsTap   // follows pcapng blocks for their secrets; nil for pcap
	onSecrets func(Secrets) // set by OnSecrets

	stream  *streamReader // reads a stream input; nil for regular files
	stopped atomic.Bool   // set by Stop

	count  uint64       // packets returned so far
	offset int64        // offset in the (decompressed) capture after the last packet
	pos    atomic.Int64 // input bytes consumed, for Pos
	err    error        // sticky error returned by Next
}

// countingReader counts the bytes read through it, and remembers the last
// error of the underlying reader other than io.EOF so that I/O failures can
// be told apart from damaged data.
type countingReader struct {
	r   io.Reader
	n   int64
	err error
	tap *secretsTap // sees the bytes read, when set
}

// Read implements io.Reader.
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.tap != nil {
		c.tap.feed(p[:n])
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// Open opens a capture: path "-" means stdin (the given reader). The format is detected from the
// magic number: pcap (both byte orders, micro- and nanosecond), pcapng, and either of them
// gzip-compressed (magic 1f 8b, any file name). Anything else → error wrapping ErrNotCapture, with
// one clear sentence naming the file and what it looks like instead (e.g. "looks like text").
// An empty file → ErrNotCapture too ("is empty").
//
// A pcap or pcapng file whose file header is cut short gives an error
// wrapping ErrDamaged. The caller must Close the returned File.
func Open(path string, stdin io.Reader) (*File, error) {
	if path == "-" {
		if stdin == nil {
			return nil, errors.New("opening capture: no standard input to read from")
		}
		if fh, ok := stdin.(*os.File); ok {
			// Standard input redirected from a file reads like the file.
			if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() {
				return openReader(stdinName, fh, st.Size())
			}
		}
		return OpenReader(stdinName, stdin)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening capture: %w", err)
	}
	size := int64(-1)
	if st, err := fh.Stat(); err == nil {
		if st.IsDir() {
			_ = fh.Close()
			return nil, fmt.Errorf("%s is a directory: %w", path, ErrNotCapture)
		}
		if st.Mode().IsRegular() {
			size = st.Size()
		}
	}
	f, err := openReader(path, fh, size)
	if err != nil {
		_ = fh.Close()
		return nil, err
	}
	f.closer = fh
	return f, nil
}

// OpenReader reads a capture from r, like Open; name is used in messages.
// Size reports -1 for it. Closing the File does not close r. r is read as a
// stream that may stall (see OnStall), in a goroutine of its own.
func OpenReader(name string, r io.Reader) (*File, error) {
	return openReader(name, r, -1)
}

// openReader detects the format of r and sets up the packet reader.
func openReader(name string, r io.Reader, size int64) (*File, error) {
	f := &File{name: name, size: size}
	if size < 0 {
		f.stream = newStreamReader(r)
		r = f.stream
	}
	f.raw = &countingReader{r: r}
	f.rawBuf = bufio.NewReaderSize(f.raw, bufSize)
	in := f.rawBuf

	head, _ := in.Peek(4)
	if f.raw.err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, f.raw.err)
	}
	if len(head) == 0 {
		return nil, fmt.Errorf("%s is empty: %w", name, ErrNotCapture)
	}
	compressed := len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b
	if compressed {
		gz, err := gzip.NewReader(in)
		if err != nil {
			if f.raw.err != nil {
				return nil, fmt.Errorf("reading %s: %w", name, f.raw.err)
			}
			return nil, fmt.Errorf("%s is gzip-compressed but its gzip header is damaged: %w: %w", name, ErrDamaged, err)
		}
		f.gz = gz
		f.dec = &countingReader{r: gz}
		f.decBuf = bufio.NewReaderSize(f.dec, bufSize)
		in = f.decBuf
		head, err = in.Peek(4)
		if f.raw.err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, f.raw.err)
		}
		if len(head) == 0 {
			if err != nil && err != io.EOF {
				return nil, fmt.Errorf("%s is gzip-compressed but cannot be decompressed: %w: %w", name, ErrDamaged, err)
			}
			return nil, fmt.Errorf("%s is gzip-compressed but empty: %w", name, ErrNotCapture)
		}
	}
	inside := ""
	if compressed {
		inside = " after decompression"
	}
	if len(head) < 4 {
		return nil, fmt.Errorf("%s is too short to be a capture (%d bytes%s): %w", name, len(head), inside, ErrNotCapture)
	}

	var err error
	switch magic := [4]byte(head); magic {
	case magicPcapMicroLE, magicPcapMicroBE, magicPcapNanoLE, magicPcapNanoBE:
		err = f.openPcap(in, magic, inside)
	case magicPcapModLE, magicPcapModBE:
		err = fmt.Errorf("%s is a pcap file in the modified (Kuznetzov) format, which is not supported: %w", name, ErrNotCapture)
	case magicPcapng:
		err = f.openPcapng(in, inside)
	default:
		sample, _ := in.Peek(512)
		err = fmt.Errorf("%s looks like %s%s: %w", name, describe(sample), inside, ErrNotCapture)
	}
	if err != nil {
		if f.raw.err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, f.raw.err)
		}
		return nil, err
	}
	f.offset = f.streamOffset()
	f.pos.Store(f.consumed())
	return f, nil
}

// openPcap checks a pcap file header and creates the pcap reader.
func (f *File) openPcap(in *bufio.Reader, magic [4]byte, inside string) error {
	hdr, _ := in.Peek(pcapHeaderLen)
	if len(hdr) < pcapHeaderLen {
		return fmt.Errorf("%s: %w: the pcap file header is cut short (%d of %d bytes%s)",
			f.name, ErrDamaged, len(hdr), pcapHeaderLen, inside)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if magic == magicPcapMicroBE || magic == magicPcapNanoBE {
		order = binary.BigEndian
	}
	if major, minor := order.Uint16(hdr[4:6]), order.Uint16(hdr[6:8]); major != 2 || minor != 4 {
		return fmt.Errorf("%s is a pcap file of version %d.%d, which is not supported (only 2.4 is): %w",
			f.name, major, minor, ErrNotCapture)
	}
	var src io.Reader = f.raw
	if f.dec != nil {
		src = f.dec
	}
	r, err := newPcapReader(in, src, magic)
	if err != nil {
		return fmt.Errorf("%s: reading the pcap file header: %w: %w", f.name, ErrDamaged, err)
	}
	f.pcap = r
	return nil
}

// openPcapng reads the first section header of a pcapng file.
func (f *File) openPcapng(in *bufio.Reader, inside string) error {
	// WantMixedLinkType keeps packets of every interface, whatever its link
	// type; without it pcapgo silently drops packets of interfaces whose link
	// type differs from the first one's.
	// The pcapng reader skips Decryption Secrets Blocks: a tap below the
	// buffer follows the blocks for them, from the start of the capture
	// (the bytes buffered so far, then every read).
	f.tap = &secretsTap{}
	src := f.raw
	if f.dec != nil {
		src = f.dec
	}
	if b, err := in.Peek(in.Buffered()); err == nil {
		f.tap.feed(b)
	}
	src.tap = f.tap
	r, err := pcapgo.NewNgReader(in, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err == nil {
		f.ng = r
		f.ngb.in = in
		return nil
	}
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return fmt.Errorf("%s: %w: the pcapng section header is cut short%s", f.name, ErrDamaged, inside)
	case errors.Is(err, pcapgo.ErrNgVersionMismatch):
		return fmt.Errorf("%s is a pcapng file of an unsupported version: %w", f.name, ErrNotCapture)
	}
	// The block type matched but the byte-order magic did not, so this is
	// most likely not pcapng at all.
	return fmt.Errorf("%s starts like pcapng but is not (%v)%s: %w", f.name, err, inside, ErrNotCapture)
}

// signature is a well-known file signature and what it means.
type signature struct {
	offset int
	magic  string
	what   string
}

// signatures lists formats people may mistake for captures.
var signatures = [...]signature{
	{0, "\x1f\x8b", "gzip-compressed data"},
	{0, "BZh", "bzip2-compressed data (decompress it first)"},
	{0, "\xfd7zXZ\x00", "xz-compressed data (decompress it first)"},
	{0, "\x28\xb5\x2f\xfd", "zstd-compressed data (decompress it first)"},
	{0, "PK\x03\x04", "a ZIP archive"},
	{0, "7z\xbc\xaf\x27\x1c", "a 7-Zip archive"},
	{257, "ustar", "a tar archive"},
	{0, "\x7fELF", "an ELF executable"},
	{0, "%PDF-", "a PDF document"},
	{0, "\x89PNG\r\n\x1a\n", "a PNG image"},
	{0, "\xff\xd8\xff", "a JPEG image"},
	{0, "snoop\x00\x00\x00", "a Solaris snoop capture (convert it to pcap with editcap)"},
	{0, "GMBU", "a Microsoft Network Monitor capture (convert it to pcap with editcap)"},
	{0, "XCP\x00", "a NetXRay/Sniffer capture (convert it to pcap with editcap)"},
}

// describe says in a few words what b, the start of a file, looks like.
func describe(b []byte) string {
	for _, s := range signatures {
		if len(b) >= s.offset+len(s.magic) && string(b[s.offset:s.offset+len(s.magic)]) == s.magic {
			return s.what
		}
	}
	if isText(b) {
		switch t := bytes.TrimLeft(b, " \t\r\n\ufeff"); {
		case len(t) > 0 && (t[0] == '{' || t[0] == '['):
			return "JSON or other text"
		case len(t) > 0 && t[0] == '<':
			return "HTML or XML text"
		}
		return "text"
	}
	n := min(len(b), 8)
	return fmt.Sprintf("binary data of an unknown format (it starts with % x)", b[:n])
}

// isText reports whether b looks like UTF-8 text.
func isText(b []byte) bool {
	// A sample may end inside a multi-byte character.
	for i := 0; i < utf8.UTFMax-1 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	if len(b) == 0 || !utf8.Valid(b) {
		return false
	}
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b {
			return false
		}
	}
	return true
}
