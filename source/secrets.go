package source

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// pcapng block types beside those of ngblock.go, and the TLS key log
// secrets type (pcapng spec, Decryption Secrets Block).
const (
	ngDecryptSecrets = 0x0000000A
	secretsTLSKeyLog = 0x544c534b
	// maxSecrets bounds the secrets bytes one capture may hand over, so
	// that a hostile file cannot make the reader hold more.
	maxSecrets = 64 << 20
)

// Secrets is the TLS key log of one pcapng Decryption Secrets Block (as
// `editcap --inject-secrets tls,KEYLOG` writes it), or what is wrong with
// the block.
type Secrets struct {
	// Name is the capture's name (File.Name).
	Name string
	// Offset is the block's offset in the (decompressed) capture.
	Offset int64
	// KeyLog is the NSS key log text (the SSLKEYLOGFILE format); nil when
	// Err is set.
	KeyLog []byte
	// Err says why the block's secrets could not be read.
	Err error
}

// OnSecrets sets fn to be called by Next, in Next's goroutine, with the TLS
// key log of every pcapng Decryption Secrets Block of the capture, wherever
// it is in the file (also on standard input and pipes): the blocks between
// two packets are handed over, in file order, before Next returns the
// second packet. Secrets of other types are ignored, and so are Decryption
// Secrets Blocks after the last packet. It has no effect on pcap input; call
// it before the first Next.
func (f *File) OnSecrets(fn func(Secrets)) {
	f.onSecrets = fn
}

// deliverSecrets hands the secrets blocks that end before the stream
// offset end to the OnSecrets function.
func (f *File) deliverSecrets(end int64) {
	t := f.tap
	if t == nil || len(t.done) == 0 {
		return
	}
	n := 0
	for n < len(t.done) && t.done[n].Offset < end {
		if f.onSecrets != nil {
			s := t.done[n]
			s.Name = f.name
			f.onSecrets(s)
		}
		t.done[n] = Secrets{}
		n++
	}
	t.done = t.done[:copy(t.done, t.done[n:])]
}

// secretsTap follows the pcapng block structure of the bytes the capture
// reader reads from its input (below its buffer, so it sees every byte once,
// in order, whatever the reader's read-ahead) and keeps the TLS key logs of
// Decryption Secrets Blocks, with their offsets, until Next hands them over.
// The pcapng packet reader skips these blocks; the tap keeps its own count
// of the block structure, and stops following it where it makes no sense
// (the packet reader reports that damage).
type secretsTap struct {
	order binary.ByteOrder
	off   int64 // stream offset of the next byte fed

	hdr  [12]byte // the header of the block being started
	nhdr int      // bytes of hdr filled

	start int64  // offset of the current block
	left  int64  // bytes of the current block still to come after its header
	body  []byte // the Decryption Secrets Block being collected
	keep  bool   // the current block is collected into body

	kept int64     // secrets bytes collected from the capture so far
	done []Secrets // complete blocks not yet handed over
	lost bool      // the block structure no longer makes sense
}

// feed passes the next bytes of the capture through the tap.
func (t *secretsTap) feed(p []byte) {
	for len(p) > 0 && !t.lost {
		if t.left > 0 {
			n := int(min(t.left, int64(len(p))))
			if t.keep {
				t.body = append(t.body, p[:n]...)
			}
			t.left -= int64(n)
			t.off += int64(n)
			p = p[n:]
			if t.left == 0 && t.keep {
				t.finish()
			}
			continue
		}
		// A block header: 8 bytes, 12 for a section header (its byte-order
		// magic decides how the lengths read).
		need := 8
		if t.nhdr >= 4 && binary.LittleEndian.Uint32(t.hdr[:4]) == ngSectionHeader {
			need = 12
		}
		n := copy(t.hdr[t.nhdr:need], p)
		t.nhdr += n
		t.off += int64(n)
		p = p[n:]
		if t.nhdr < need {
			continue
		}
		if t.nhdr == 8 && binary.LittleEndian.Uint32(t.hdr[:4]) == ngSectionHeader {
			continue // 4 more bytes
		}
		t.header()
	}
}

// header starts the block whose header is in t.hdr[:t.nhdr].
func (t *secretsTap) header() {
	t.start = t.off - int64(t.nhdr)
	if t.nhdr == 12 {
		switch binary.LittleEndian.Uint32(t.hdr[8:]) {
		case ngByteOrderMagic:
			t.order = binary.LittleEndian
		case 0x4D3C2B1A: // the magic written big-endian
			t.order = binary.BigEndian
		default:
			t.lost = true
			return
		}
	}
	if t.order == nil {
		t.lost = true // no section header first
		return
	}
	typ, n := t.order.Uint32(t.hdr[:4]), t.order.Uint32(t.hdr[4:8])
	if n < uint32(t.nhdr)+4 || n%4 != 0 || n > ngMaxSaneBlockLen {
		t.lost = true
		return
	}
	t.left = int64(n) - int64(t.nhdr)
	t.nhdr = 0
	t.keep = typ == ngDecryptSecrets
	if !t.keep {
		return
	}
	t.body = t.body[:0]
	if t.kept+t.left > maxSecrets {
		t.keep = false
		t.done = append(t.done, Secrets{Offset: t.start, Err: fmt.Errorf(
			"the decryption secrets block at byte offset %d is ignored: the capture's secrets exceed %d MiB", t.start, maxSecrets>>20)})
		return
	}
	t.kept += t.left
}

// finish reads the secrets of the Decryption Secrets Block in t.body
// (type, length, data, padding, options and the trailing length).
func (t *secretsTap) finish() {
	b := t.body
	s := Secrets{Offset: t.start}
	switch {
	case len(b) < 12:
		s.Err = errors.New("too short")
	case uint64(t.order.Uint32(b[4:8])) > uint64(len(b)-12):
		s.Err = errors.New("the secrets length exceeds the block")
	case t.order.Uint32(b[:4]) != secretsTLSKeyLog:
		return // another kind of secrets (WireGuard, ZigBee, ...)
	default:
		s.KeyLog = append([]byte(nil), b[8:8+t.order.Uint32(b[4:8])]...)
	}
	if cap(t.body) > 64<<10 {
		t.body = nil // do not hold a large block's buffer for the whole run
	}
	if s.Err != nil {
		s.Err = fmt.Errorf("the decryption secrets block at byte offset %d is malformed: %w", t.start, s.Err)
	}
	t.done = append(t.done, s)
}
