package netpkt

import (
	"encoding/binary"

	"github.com/wsdissect/wsdissect/source"
)

// IEEE 802.11 captures: a wireless interface in monitor mode records the
// frames as sent over the air, after a radiotap (or PPI) header that
// describes the radio. Data frames of an open network, or of one whose
// traffic was decrypted before the capture was written, carry IP behind an
// LLC/SNAP header; encrypted frames (the protected bit set) are not TCP to
// us, nor are management and control frames.
const (
	dot11HeaderLen = 24 // frame control to sequence control, three addresses
	snapLen        = 8  // LLC (AA AA 03) and SNAP (OUI 00 00 00, ethertype)
	radiotapMinLen = 8
	ppiMinLen      = 8

	dot11TypeData    = 2
	dot11FlagsDS     = 0x03 // To DS and From DS: a fourth address follows
	dot11FlagProtect = 0x40
	dot11FlagOrder   = 0x80 // in QoS data frames, an HT control field follows
)

// Radiotap flags (the Flags field, present bit 1).
const (
	radiotapDataPad = 0x20 // padding between the 802.11 header and the payload, to 32 bits
	radiotapBadFCS  = 0x40 // the frame failed its check sequence
)

// decodeRadiotap skips a radiotap header (its length is in it, little
// endian) and decodes the 802.11 frame after it, as its Flags field says:
// a frame that failed its check sequence is not decoded, a padded one is
// decoded past its padding. A frame check sequence at the end, when the
// radio kept it, is dropped with the IP lengths.
func decodeRadiotap(data []byte, d *decoder) error {
	n, ok := radioHeaderLen(data, radiotapMinLen)
	if !ok {
		return malRadiotapShort
	}
	flags := radiotapFlags(data[:n])
	if flags&radiotapBadFCS != 0 {
		return ErrNotTCP
	}
	return decode80211(data[n:], d, flags&radiotapDataPad != 0)
}

// radioHeaderLen returns the length of the radiotap or PPI header at the
// start of data: both have version 0 in their first byte and their
// little-endian length in bytes 2-3, at least least and within data.
func radioHeaderLen(data []byte, least int) (int, bool) {
	if len(data) < least || data[0] != 0 {
		return 0, false
	}
	n := int(binary.LittleEndian.Uint16(data[2:4]))
	return n, n >= least && n <= len(data)
}

// radiotapFlags returns the Flags field of radiotap header h, 0 when it
// has none. The fields follow the presence words (each with bit 31 set
// when another follows); only TSFT (bit 0, 8 bytes aligned to 8) comes
// before Flags (bit 1).
func radiotapFlags(h []byte) byte {
	off := 4
	first := uint32(0)
	for i := 0; ; i++ {
		if off+4 > len(h) {
			return 0
		}
		w := binary.LittleEndian.Uint32(h[off:])
		if i == 0 {
			first = w
		}
		off += 4
		if w&(1<<31) == 0 {
			break
		}
	}
	if first&0x02 == 0 {
		return 0
	}
	if first&0x01 != 0 {
		off = (off+7)&^7 + 8
	}
	if off >= len(h) {
		return 0
	}
	return h[off]
}

// decodePPI skips a Per-Packet Information header and decodes what its
// data link type says follows: 802.11 or Ethernet.
func decodePPI(data []byte, d *decoder) error {
	n, ok := radioHeaderLen(data, ppiMinLen)
	if !ok {
		return malPPIShort
	}
	switch source.LinkType(binary.LittleEndian.Uint32(data[4:8])) {
	case source.LinkIEEE80211:
		return decode80211(data[n:], d, false)
	case source.LinkEthernet:
		return decodeEthernet(data[n:], d, 0)
	}
	return ErrUnsupportedLink
}

// decode80211 decodes an IEEE 802.11 data frame carrying IP behind
// LLC/SNAP: plain or QoS data, three or four addresses, with or without
// an HT control field, its header padded to 32 bits when pad is set.
// Aggregated MSDUs (several packets in one frame) and protected frames
// are not decoded.
func decode80211(data []byte, d *decoder, pad bool) error {
	if len(data) < dot11HeaderLen {
		return mal80211Short
	}
	fc, flags := data[0], data[1]
	if fc&0x03 != 0 || fc>>2&0x03 != dot11TypeData {
		return ErrNotTCP // another protocol version, management or control
	}
	subtype := fc >> 4
	if subtype&0x04 != 0 {
		return ErrNotTCP // null data and QoS null: no payload
	}
	hl := dot11HeaderLen
	if flags&dot11FlagsDS == dot11FlagsDS {
		hl += 6
	}
	if subtype&0x08 != 0 { // QoS data
		hl += 2
		if len(data) < hl {
			return mal80211Short
		}
		if data[hl-2]&0x80 != 0 {
			return ErrNotTCP // an A-MSDU: several packets in one frame
		}
		if flags&dot11FlagOrder != 0 {
			hl += 4
		}
	}
	if flags&dot11FlagProtect != 0 {
		return ErrNotTCP // encrypted
	}
	if pad {
		hl = (hl + 3) &^ 3
	}
	if len(data) < hl+snapLen {
		return mal80211Short
	}
	llc := data[hl:]
	if llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03 || llc[3]|llc[4]|llc[5] != 0 {
		return ErrNotTCP // not LLC/SNAP with an ethertype
	}
	return decodeEtherType(binary.BigEndian.Uint16(llc[6:8]), llc[snapLen:], d, 0)
}
