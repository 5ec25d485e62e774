package source

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// pcapng block types named in error messages.
const (
	ngSectionHeader   = 0x0A0D0D0A
	ngInterface       = 0x00000001
	ngSimplePacket    = 0x00000003
	ngNameResolution  = 0x00000004
	ngInterfaceStats  = 0x00000005
	ngEnhancedPacket  = 0x00000006
	ngByteOrderMagic  = 0x1A2B3C4D
	ngMinBlockLen     = 12
	ngMaxSaneBlockLen = 1 << 28
)

// ngBlock is the header of the pcapng block the reader is about to read,
// peeked before each packet so that a failure can say which block was bad
// and how (pcapgo reports only "unexpected EOF").
type ngBlock struct {
	in    *bufio.Reader
	order binary.ByteOrder
	off   int64 // offset of the block in the (decompressed) capture
	typ   uint32
	len   uint32
	ok    bool // typ and len are known
}

// peek reads the header of the block at offset off without consuming it.
func (b *ngBlock) peek(off int64) {
	b.off, b.ok = off, false
	h, _ := b.in.Peek(12)
	if len(h) < 8 {
		return
	}
	if typ := binary.LittleEndian.Uint32(h); typ == ngSectionHeader && len(h) >= 12 {
		// A new section may change the byte order.
		switch uint32(ngByteOrderMagic) {
		case binary.LittleEndian.Uint32(h[8:]):
			b.order = binary.LittleEndian
		case binary.BigEndian.Uint32(h[8:]):
			b.order = binary.BigEndian
		}
	}
	if b.order == nil {
		b.order = binary.LittleEndian
	}
	b.typ, b.len, b.ok = b.order.Uint32(h), b.order.Uint32(h[4:]), true
}

// describe says what is wrong with the peeked block (which starts where the
// error message says the packet does), given how many bytes of the capture
// remain after its start (-1: unknown), where the reader stopped (consumed,
// as an offset in the capture) and the reader's error.
func (b *ngBlock) describe(remaining, consumed int64, err error) string {
	if !b.ok {
		return "the capture ends inside the next pcapng block's 8-byte header"
	}
	what := fmt.Sprintf("the %s there (type 0x%08x)", ngBlockName(b.typ), b.typ)
	switch {
	case b.len < ngMinBlockLen:
		return fmt.Sprintf("%s has a length of %d bytes, less than the %d-byte minimum", what, b.len, ngMinBlockLen)
	case b.len%4 != 0:
		return fmt.Sprintf("%s has a length of %d bytes, not a multiple of 4", what, b.len)
	case b.len > ngMaxSaneBlockLen:
		return fmt.Sprintf("%s claims %d bytes, more than any capture block", what, b.len)
	case remaining >= 0 && int64(b.len) > remaining:
		return fmt.Sprintf("%s claims %d bytes but the capture ends %d bytes after its start", what, b.len, remaining)
	case consumed > b.off+int64(b.len):
		return fmt.Sprintf("a pcapng block after the %s there (%d bytes) is damaged", ngBlockName(b.typ), b.len)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("the capture ends inside the %d-byte %s there (type 0x%08x)", b.len, ngBlockName(b.typ), b.typ)
	}
	return fmt.Sprintf("%s of %d bytes is damaged", what, b.len)
}

// ngBlockName names a pcapng block type.
func ngBlockName(typ uint32) string {
	switch typ {
	case ngSectionHeader:
		return "Section Header Block"
	case ngInterface:
		return "Interface Description Block"
	case ngSimplePacket:
		return "Simple Packet Block"
	case ngNameResolution:
		return "Name Resolution Block"
	case ngInterfaceStats:
		return "Interface Statistics Block"
	case ngEnhancedPacket:
		return "Enhanced Packet Block"
	}
	return "unknown block type"
}
