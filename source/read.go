package source

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gopacket/gopacket"
)

// errClosed is returned by Next after Close.
var errClosed = errors.New("capture file already closed")

// Next fills p with the next packet; io.EOF at a clean end. A truncated or corrupt file after
// good packets returns an error wrapping ErrDamaged that says where (packet number, byte offset).
//
// The byte offset is that of the first byte after the last good packet, in
// the decompressed data for gzip input. Read errors of the underlying file
// are returned wrapped, without ErrDamaged. Once Next has returned an error
// it keeps returning it. p.Data aliases a buffer that the next call reuses.
// In steady state Next does not allocate for pcap input, nor for pcapng input
// whose packets carry no options and whose link types are below 256.
func (f *File) Next(p *Packet) error {
	if f.err != nil {
		return f.err
	}
	if f.stopped.Load() {
		f.err = fmt.Errorf("%s: %w after packet %d", f.name, ErrStopped, f.count)
		return f.err
	}
	var (
		data    []byte
		ts      time.Time
		origLen int
		err     error
		link    LinkType
	)
	if f.pcap != nil {
		data, ts, origLen, err = f.pcap.next()
		link = f.pcap.link
	} else {
		var ci gopacket.CaptureInfo
		f.ngb.peek(f.streamOffset())
		data, ci, err = f.ng.ZeroCopyReadPacketData()
		if err == nil {
			iface, ierr := f.ng.Interface(ci.InterfaceIndex)
			if ierr != nil {
				err = ierr
			}
			link = LinkType(iface.LinkType)
		}
		ts, origLen = ci.Timestamp, ci.Length
	}
	if err != nil {
		f.err = f.failure(err)
		f.pos.Store(f.consumed())
		return f.err
	}
	if f.tap != nil {
		f.deliverSecrets(f.streamOffset())
	}
	f.count++
	pos := f.consumed()
	f.offset = pos
	if f.decBuf != nil {
		f.offset = f.streamOffset()
	}
	f.pos.Store(pos)
	*p = Packet{
		Number:   f.count,
		Time:     ts,
		LinkType: link,
		Data:     data,
		OrigLen:  max(origLen, len(data)),
	}
	return nil
}

// failure turns an error of the packet reader into the error Next returns.
func (f *File) failure(err error) error {
	if f.raw.err != nil {
		return fmt.Errorf("%s: reading packet %d: %w", f.name, f.count+1, f.raw.err)
	}
	if err == io.EOF {
		// The pcap and pcapng readers report io.EOF when a record or block
		// could not even be started. That is a clean end, unless the
		// decompressor failed: pcapgo's pcapng reader turns a truncated
		// stream at a block boundary into io.EOF too.
		if f.dec == nil || f.dec.err == nil {
			return io.EOF
		}
		err = f.dec.err
	}
	where := ""
	if f.gz != nil {
		where = " of the decompressed data"
	}
	if f.ng != nil {
		remaining := int64(-1)
		if f.gz == nil && f.size >= 0 {
			remaining = f.size - f.ngb.off
		}
		return fmt.Errorf("%s: %w: packet %d at byte offset %d%s: %s: %w",
			f.name, ErrDamaged, f.count+1, f.ngb.off, where, f.ngb.describe(remaining, f.streamOffset(), err), err)
	}
	return fmt.Errorf("%s: %w: packet %d at byte offset %d%s: %w",
		f.name, ErrDamaged, f.count+1, f.offset, where, err)
}

// streamOffset is the number of capture bytes (decompressed for gzip input)
// the packet reader has consumed.
func (f *File) streamOffset() int64 {
	if f.decBuf != nil {
		return f.dec.n - int64(f.decBuf.Buffered()) - f.readAhead()
	}
	return f.consumed()
}

// consumed is the number of input bytes consumed, compressed for gzip input.
func (f *File) consumed() int64 {
	n := f.raw.n - int64(f.rawBuf.Buffered())
	if f.decBuf == nil {
		n -= f.readAhead()
	}
	return n
}

// readAhead is the number of bytes of the capture (decompressed for gzip
// input) the pcap reader has buffered but not consumed.
func (f *File) readAhead() int64 {
	if f.pcap == nil {
		return 0
	}
	return int64(f.pcap.in.buffered())
}

// Close releases the File. It closes the underlying file if Open opened it;
// calling Close again does nothing.
func (f *File) Close() error {
	f.err = errClosed
	if f.stream != nil {
		f.stream.Stop()
	}
	var err error
	if f.gz != nil {
		err = f.gz.Close()
		f.gz = nil
	}
	if f.closer != nil {
		if cerr := f.closer.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing %s: %w", f.name, cerr)
		}
		f.closer = nil
	}
	return err
}

// Size is the size in bytes of the underlying file (-1 for stdin/pipes); Pos how many bytes of
// it were consumed so far (the compressed bytes for gzip) — for a progress bar.
func (f *File) Size() int64 { return f.size }

// Pos reports how many bytes of the underlying file were consumed so far
// (the compressed bytes for gzip input). It is updated by Next and may be
// called concurrently with it.
func (f *File) Pos() int64 { return f.pos.Load() }

// Name is the file name used in messages ("standard input" for "-").
func (f *File) Name() string { return f.name }
