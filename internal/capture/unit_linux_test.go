package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/wsdissect/wsdissect/source"
)

func TestLinkTypeFromDLT(t *testing.T) {
	tests := []struct {
		dlt  int
		want source.LinkType
	}{
		{0, source.LinkNull},
		{1, source.LinkEthernet},
		{12, source.LinkRaw},
		{14, source.LinkRaw},
		{101, source.LinkRaw},
		{108, source.LinkLoop},
		{113, source.LinkSLL},
		{276, source.LinkSLL2},
		{228, source.LinkIPv4},
		{229, source.LinkIPv6},
		{147, source.LinkType(147)},
		{-1, source.LinkType(0xffff)},
		{1 << 20, source.LinkType(0xffff)},
	}
	for _, tt := range tests {
		if got := linkTypeFromDLT(tt.dlt); got != tt.want {
			t.Errorf("linkTypeFromDLT(%d) = %d, want %d", tt.dlt, got, tt.want)
		}
	}
}

func TestHtons(t *testing.T) {
	v := htons(0x0003)
	b := (*[2]byte)(unsafe.Pointer(&v))
	if b[0] != 0x00 || b[1] != 0x03 {
		t.Errorf("htons(3) is stored as % x, want 00 03", b[:])
	}
}

func TestCookedHeader(t *testing.T) {
	tests := []struct {
		name string
		from unix.RawSockaddrLinklayer
		want []byte
	}{
		{
			name: "ethernet sender",
			from: unix.RawSockaddrLinklayer{
				Protocol: htons(0x0800), Hatype: 1, Pkttype: 0, Halen: 6,
				Addr: [8]uint8{2, 0xfc, 0, 0, 0, 1, 0xee, 0xee},
			},
			want: []byte{0, 0, 0, 1, 0, 6, 2, 0xfc, 0, 0, 0, 1, 0, 0, 0x08, 0x00},
		},
		{
			name: "tun, outgoing, no address",
			from: unix.RawSockaddrLinklayer{Protocol: htons(0x86dd), Hatype: 0xfffe, Pkttype: 4},
			want: []byte{0, 4, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd},
		},
		{
			name: "bogus address length",
			from: unix.RawSockaddrLinklayer{Protocol: htons(0x0806), Hatype: 1, Halen: 200, Addr: [8]uint8{1, 2, 3, 4, 5, 6, 7, 8}},
			want: []byte{0, 0, 0, 1, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 0x06},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &afPacket{buf: bytes.Repeat([]byte{0x55}, 32), from: tt.from}
			a.putCookedHeader()
			if got := a.buf[:sllHeaderLen]; !bytes.Equal(got, tt.want) {
				t.Errorf("cooked header = % x, want % x", got, tt.want)
			}
		})
	}
}

// putCmsg appends a control message to b the way the kernel lays it out.
func putCmsg(b []byte, level, typ int32, data []byte) []byte {
	h := unix.Cmsghdr{Level: level, Type: typ}
	h.SetLen(unix.CmsgLen(len(data)))
	hb := unsafe.Slice((*byte)(unsafe.Pointer(&h)), unix.SizeofCmsghdr)
	out := append(b, hb...)
	out = append(out, make([]byte, unix.CmsgLen(0)-unix.SizeofCmsghdr)...)
	out = append(out, data...)
	return append(out, make([]byte, unix.CmsgSpace(len(data))-unix.CmsgLen(len(data)))...)
}

func TestTimestampFromCmsg(t *testing.T) {
	want := time.Unix(1700000000, 987654321)
	ts := unix.NsecToTimespec(want.UnixNano())
	tsb := unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))
	other := make([]byte, 4)
	binary.NativeEndian.PutUint32(other, 7)

	tests := []struct {
		name  string
		oob   []byte
		found bool
	}{
		{"timestamp only", putCmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, tsb), true},
		{"after another message", putCmsg(putCmsg(nil, unix.SOL_PACKET, 8, other), unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, tsb), true},
		{"none", nil, false},
		{"other only", putCmsg(nil, unix.SOL_PACKET, 8, other), false},
		{"truncated", putCmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, tsb)[:unix.CmsgLen(0)+4], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &afPacket{}
			oob := unsafe.Slice((*byte)(unsafe.Pointer(&a.oob[0])), unsafe.Sizeof(a.oob))
			n := copy(oob, tt.oob)
			a.msg.SetControllen(n)
			before := time.Now()
			got := a.timestamp()
			if tt.found {
				if !got.Equal(want) {
					t.Errorf("timestamp() = %v, want %v", got, want)
				}
			} else if got.Before(before) {
				t.Errorf("timestamp() = %v, want the current time", got)
			}
		})
	}
}

func TestDefaultBufferKiB(t *testing.T) {
	if got := defaultBufferKiB(Config{Interface: "lo"}); got != BlockBufferKiB {
		t.Errorf("block mode: %d KiB, want %d", got, BlockBufferKiB)
	}
	if got, want := defaultBufferKiB(Config{Interface: "lo", Immediate: true}), immediateBufferKiB("lo"); got != want {
		t.Errorf("immediate mode: %d KiB, want %d (sized for the MTU)", got, want)
	}
}

func TestImmediateBufferKiB(t *testing.T) {
	if got := immediateBufferKiB("wsdnope0"); got != 0 {
		t.Errorf("immediateBufferKiB(unknown) = %d, want 0 (libpcap's default)", got)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip(`no loopback interface "lo"; skipping`)
	}
	got := immediateBufferKiB("lo")
	if lo.MTU >= 65536 && got != 32*1024 {
		t.Errorf("immediateBufferKiB(lo with MTU %d) = %d KiB, want 32768", lo.MTU, got)
	}
	if anyKiB := immediateBufferKiB("any"); anyKiB < got {
		t.Errorf("immediateBufferKiB(any) = %d, less than for lo (%d)", anyKiB, got)
	}
}

// FuzzCmsgTimestamp feeds arbitrary control-message bytes to the timestamp
// parser, which must never read out of bounds.
func FuzzCmsgTimestamp(f *testing.F) {
	ts := unix.NsecToTimespec(1700000000123456789)
	tsb := unsafe.Slice((*byte)(unsafe.Pointer(&ts)), unsafe.Sizeof(ts))
	f.Add(putCmsg(nil, unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, tsb), 64)
	f.Add(putCmsg(putCmsg(nil, unix.SOL_PACKET, 8, []byte{1, 2, 3, 4}), unix.SOL_SOCKET, unix.SCM_TIMESTAMPNS, tsb), 1000)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, 8)
	f.Add([]byte{}, 0)
	f.Fuzz(func(t *testing.T, oob []byte, controllen int) {
		a := &afPacket{}
		dst := unsafe.Slice((*byte)(unsafe.Pointer(&a.oob[0])), unsafe.Sizeof(a.oob))
		copy(dst, oob)
		a.msg.SetControllen(max(controllen, 0))
		_ = a.timestamp()
	})
}
