package source

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"time"
)

// Limits of a pcap record, as pcapgo and libpcap apply them.
const (
	// pcapRecordHeaderLen is the size of a record header.
	pcapRecordHeaderLen = 16
	// pcapMaxCapLen is the longest record taken when the file's snap
	// length is smaller: writers that do not truncate to the snap length
	// they declare exist, and libpcap reads such records up to its own
	// maximum snap length.
	pcapMaxCapLen = 262144
	// pcapBufSize is the size of the pcap reader's input buffer. Half of
	// bufSize measured 5-10% faster for "read -q" and the summary on plain
	// captures (2 cores): a smaller buffer leaves more of the cache to the
	// batches handed to the workers. Longer records take the slow path.
	pcapBufSize = 128 << 10
)

// pcapReader reads the records of a classic pcap file (the file header
// already checked) straight out of its input buffer: a record's bytes are
// not copied unless it is longer than the buffer. gopacket's pcapgo
// reader copies each record out of the buffer into one of its own, through
// two io.ReadFull calls; reading is a large share of "read -q", which this
// reader made about a sixth faster on plain captures. It applies pcapgo's
// rules for record lengths and is the only part of reading captures not
// done by pcapgo (pcapng stays with it); tests check that the two agree.
type pcapReader struct {
	in         *inBuf
	bigEndian  bool
	nanoFactor int64 // 1000 for microsecond files, 1 for nanosecond ones
	maxCapLen  int
	link       LinkType
	large      []byte // holds records longer than in's buffer
}

// newPcapReader reads the 24-byte file header from in (whose magic number
// was checked) and returns the reader of the records after it, which takes
// over the bytes in has buffered and then reads from src, the reader behind
// in.
func newPcapReader(in *bufio.Reader, src io.Reader, magic [4]byte) (*pcapReader, error) {
	hdr := make([]byte, pcapHeaderLen)
	if _, err := io.ReadFull(in, hdr); err != nil {
		return nil, err
	}
	pending, _ := in.Peek(in.Buffered())
	r := &pcapReader{in: newInBuf(src, pending, pcapBufSize), nanoFactor: 1000}
	_, _ = in.Discard(len(pending))
	r.bigEndian = magic == magicPcapMicroBE || magic == magicPcapNanoBE
	if magic == magicPcapNanoLE || magic == magicPcapNanoBE {
		r.nanoFactor = 1
	}
	// The link type is the low 16 bits; the bits above hold FCS details.
	r.link = LinkType(r.u32(hdr[20:24]))
	r.maxCapLen = max(int(r.u32(hdr[16:20])), pcapMaxCapLen)
	return r, nil
}

// u32 decodes a 32-bit field in the file's byte order.
func (r *pcapReader) u32(b []byte) uint32 {
	if r.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// next returns the next record's packet bytes, valid until the next call,
// its capture time and its original length. At the end of the input it
// returns io.EOF, and io.ErrUnexpectedEOF when the input ends inside a
// record.
func (r *pcapReader) next() (data []byte, ts time.Time, origLen int, err error) {
	if cap(r.large) > pcapMaxCapLen {
		r.large = nil // do not keep a huge record's buffer
	}
	in := r.in
	var hdr []byte
	if in.w-in.r >= pcapRecordHeaderLen {
		hdr = in.buf[in.r : in.r+pcapRecordHeaderLen]
	} else if hdr, err = in.peekMore(pcapRecordHeaderLen); len(hdr) < pcapRecordHeaderLen {
		if len(hdr) > 0 && err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, time.Time{}, 0, err
	}
	var sec, frac uint32
	var capLen int
	if r.bigEndian {
		sec, frac = binary.BigEndian.Uint32(hdr[0:4]), binary.BigEndian.Uint32(hdr[4:8])
		capLen, origLen = int(binary.BigEndian.Uint32(hdr[8:12])), int(binary.BigEndian.Uint32(hdr[12:16]))
	} else {
		sec, frac = binary.LittleEndian.Uint32(hdr[0:4]), binary.LittleEndian.Uint32(hdr[4:8])
		capLen, origLen = int(binary.LittleEndian.Uint32(hdr[8:12])), int(binary.LittleEndian.Uint32(hdr[12:16]))
	}
	if capLen > r.maxCapLen {
		return nil, time.Time{}, 0, fmt.Errorf("capture length exceeds snap length: %d > %d", capLen, r.maxCapLen)
	}
	if capLen > origLen {
		return nil, time.Time{}, 0, fmt.Errorf("capture length exceeds original packet length: %d > %d", capLen, origLen)
	}
	ts = time.Unix(int64(sec), int64(frac)*r.nanoFactor).UTC()
	n := pcapRecordHeaderLen + capLen
	if n <= in.w-in.r {
		// The usual case, without a call: the record is in the buffer.
		rec := in.buf[in.r+pcapRecordHeaderLen : in.r+n : in.r+n]
		in.r += n
		return rec, ts, origLen, nil
	}
	if n <= in.size() {
		rec, err := in.peekMore(n)
		if len(rec) < n {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, time.Time{}, 0, err
		}
		// discard only moves the buffer's read position: rec stays valid
		// until the next read from in.
		in.discard(n)
		return rec[pcapRecordHeaderLen:], ts, origLen, nil
	}
	in.discard(pcapRecordHeaderLen)
	// The length comes from the file: grow the buffer with the bytes that
	// actually arrive, so a short file cannot make it allocate gigabytes.
	data = r.large[:0]
	for len(data) < capLen {
		k := min(capLen-len(data), pcapMaxCapLen)
		data = slices.Grow(data, k)
		m, err := io.ReadFull(r.in, data[len(data):len(data)+k])
		data = data[:len(data)+m]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, time.Time{}, 0, err
		}
	}
	r.large = data
	return data, ts, origLen, nil
}
