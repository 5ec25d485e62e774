package capture

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wsdissect/wsdissect/source"
)

func TestConfigNormalize(t *testing.T) {
	tests := []struct {
		name    string
		in      Config
		want    Config
		wantErr string
	}{
		{
			name: "defaults",
			in:   Config{Interface: "lo", Filter: "  tcp port 80 "},
			want: Config{Interface: "lo", Filter: "tcp port 80", Snaplen: DefaultSnaplen, Timeout: DefaultTimeout},
		},
		{
			name: "kept",
			in:   Config{Interface: "eth0", Snaplen: 96, Promisc: true, BufferSize: 8192, Timeout: 50 * time.Millisecond},
			want: Config{Interface: "eth0", Snaplen: 96, Promisc: true, BufferSize: 8192, Timeout: 50 * time.Millisecond},
		},
		{
			name: "timeout capped",
			in:   Config{Interface: "lo", Timeout: time.Hour},
			want: Config{Interface: "lo", Snaplen: DefaultSnaplen, Timeout: MaxTimeout},
		},
		{
			name: "timeout raised",
			in:   Config{Interface: "lo", Timeout: time.Microsecond},
			want: Config{Interface: "lo", Snaplen: DefaultSnaplen, Timeout: time.Millisecond},
		},
		{name: "no interface", in: Config{}, wantErr: "no capture interface given"},
		{name: "negative snaplen", in: Config{Interface: "lo", Snaplen: -1}, wantErr: "invalid snapshot length"},
		{name: "negative buffer", in: Config{Interface: "lo", BufferSize: -1}, wantErr: "invalid buffer size"},
		{name: "huge buffer", in: Config{Interface: "lo", BufferSize: 1 << 30}, wantErr: "invalid buffer size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.in.normalize()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("normalize() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("normalize() error = %v", err)
			}
			if got != tt.want {
				t.Errorf("normalize() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig("eth0")
	if c.Interface != "eth0" || !c.Promisc || c.Snaplen != DefaultSnaplen || c.Timeout != DefaultTimeout || c.BufferSize != 0 {
		t.Errorf("DefaultConfig() = %+v", c)
	}
}

func TestUserErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind error
		want string
	}{
		{
			name: "permission",
			err:  permissionError("eth0"),
			kind: ErrPermission,
			want: "capturing on eth0 needs root or CAP_NET_RAW (try: sudo setcap cap_net_raw,cap_net_admin=eip $(which wsdissect))",
		},
		{
			name: "no interface",
			err:  noInterfaceError("eth9", []string{"lo", "eth0"}),
			kind: ErrNoInterface,
			want: `no interface "eth9"; available: lo, eth0`,
		},
		{
			name: "no interface at all",
			err:  noInterfaceError("eth9", nil),
			kind: ErrNoInterface,
			want: `no interface "eth9"; available: none`,
		},
		{
			name: "need libpcap",
			err:  needLibpcapError("a capture filter"),
			kind: ErrNeedLibpcap,
			want: "a capture filter needs libpcap at run time (apt install libpcap0.8)",
		},
		{
			name: "bad filter",
			err:  badFilterError("tcp prot 80", "can't parse filter expression: syntax error"),
			kind: ErrBadFilter,
			want: `invalid capture filter "tcp prot 80": can't parse filter expression: syntax error`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
			if !errors.Is(tt.err, tt.kind) {
				t.Errorf("errors.Is(%v, %v) = false", tt.err, tt.kind)
			}
		})
	}
}

func TestPrefixOf(t *testing.T) {
	tests := []struct {
		name string
		ip   net.IP
		mask net.IPMask
		want string
		ok   bool
	}{
		{"v4", net.ParseIP("192.0.2.2"), net.CIDRMask(24, 32), "192.0.2.2/24", true},
		{"v4 16-byte mask", net.ParseIP("10.1.2.3"), net.CIDRMask(104, 128), "10.1.2.3/8", true},
		{"v4 no mask", net.IPv4(127, 0, 0, 1), nil, "127.0.0.1/32", true},
		{"v6", net.ParseIP("fd00::2"), net.CIDRMask(64, 128), "fd00::2/64", true},
		{"v6 no mask", net.ParseIP("::1"), nil, "::1/128", true},
		{"non-contiguous mask", net.ParseIP("10.0.0.1"), net.IPMask{255, 0, 255, 0}, "10.0.0.1/32", true},
		{"bad address", net.IP{1, 2, 3}, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := prefixOf(tt.ip, tt.mask)
			if ok != tt.ok {
				t.Fatalf("prefixOf() ok = %v, want %v", ok, tt.ok)
			}
			if ok && got != netip.MustParsePrefix(tt.want) {
				t.Errorf("prefixOf() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPcapWriterRoundTrip(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	in := []source.Packet{
		{Number: 1, Time: t0, Data: []byte{1, 2, 3, 4}, OrigLen: 60},
		{Number: 2, Time: t0.Add(time.Nanosecond), Data: bytes.Repeat([]byte{0xab}, 100), OrigLen: 100},
		{Number: 3, Time: t0.Add(time.Second), Data: []byte{9, 9}, OrigLen: 0}, // OrigLen too small
	}
	const snaplen = 64
	var buf bytes.Buffer
	w, err := NewPcapWriter(&buf, source.LinkSLL2, snaplen)
	if err != nil {
		t.Fatalf("NewPcapWriter: %v", err)
	}
	for i := range in {
		if err := w.Write(&in[i]); err != nil {
			t.Fatalf("Write(%d): %v", i, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}

	r, err := pcapgo.NewReader(&buf)
	if err != nil {
		t.Fatalf("pcapgo.NewReader: %v", err)
	}
	if r.LinkType() != layers.LinkType(source.LinkSLL2) {
		t.Errorf("link type = %v, want %v", r.LinkType(), source.LinkSLL2)
	}
	if r.Snaplen() != snaplen {
		t.Errorf("snaplen = %d, want %d", r.Snaplen(), snaplen)
	}
	if r.Resolution().String() != "10^-9" {
		t.Errorf("resolution = %v, want nanoseconds", r.Resolution())
	}
	wantLen := []int{60, 100, 2}
	for i, p := range in {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("ReadPacketData(%d): %v", i, err)
		}
		want := p.Data[:min(len(p.Data), snaplen)]
		if !bytes.Equal(data, want) {
			t.Errorf("packet %d data = %x, want %x", i, data, want)
		}
		if !ci.Timestamp.Equal(p.Time) {
			t.Errorf("packet %d time = %v, want %v", i, ci.Timestamp, p.Time)
		}
		if ci.Length != wantLen[i] {
			t.Errorf("packet %d length = %d, want %d", i, ci.Length, wantLen[i])
		}
	}
	if _, _, err := r.ReadPacketData(); !errors.Is(err, io.EOF) {
		t.Errorf("after last packet: err = %v, want EOF", err)
	}
}

// TestPcapngWriterRoundTrip writes packets of two link types, interleaved,
// and reads them back with our pcapng reader: each on an interface of its
// link type, nanosecond times, cut to the snapshot length.
func TestPcapngWriterRoundTrip(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	in := []source.Packet{
		{Number: 1, Time: t0, LinkType: source.LinkNFLOG, Data: []byte{2, 0, 0, 5}, OrigLen: 60},
		{Number: 2, Time: t0.Add(time.Nanosecond), LinkType: source.LinkPPP, Data: bytes.Repeat([]byte{0xab}, 100), OrigLen: 100},
		{Number: 3, Time: t0.Add(time.Second), LinkType: source.LinkNFLOG, Data: []byte{9, 9}},
	}
	const snaplen = 64
	var buf bytes.Buffer
	w, err := NewPcapngWriter(&buf, source.LinkNFLOG, snaplen)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if err := w.Write(&in[i]); err != nil {
			t.Fatalf("Write(%d): %v", i, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f, err := source.OpenReader("mem.pcapng", &buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range in {
		var p source.Packet
		if err := f.Next(&p); err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		if p.LinkType != want.LinkType || !p.Time.Equal(want.Time) || !bytes.Equal(p.Data, want.Data[:min(len(want.Data), snaplen)]) {
			t.Errorf("packet %d: %v %v %x, want %v %v %x", i+1, p.LinkType, p.Time, p.Data, want.LinkType, want.Time, want.Data)
		}
	}
	var p source.Packet
	if err := f.Next(&p); !errors.Is(err, io.EOF) {
		t.Errorf("after last packet: %v", err)
	}
	if _, err := NewPcapngWriter(io.Discard, source.LinkEthernet, -1); err == nil {
		t.Error("NewPcapngWriter(snaplen -1): no error")
	}
}

// TestPcapngWriterSecrets writes Decryption Secrets Blocks (of lengths
// that need padding and not) between packets and reads them back with our
// pcapng reader, each before the packet it precedes.
func TestPcapngWriterSecrets(t *testing.T) {
	t0 := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name    string
		secrets []string // before packet i
	}{
		{"none", []string{"", ""}},
		{"padded", []string{"CLIENT_RANDOM 01 02\n", ""}},
		{"aligned and after", []string{"abcd", "SERVER_TRAFFIC_SECRET_0 0a 0b\nx\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewPcapngWriter(&buf, source.LinkEthernet, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i, sec := range tc.secrets {
				if err := w.WriteSecrets([]byte(sec)); err != nil {
					t.Fatal(err)
				}
				p := source.Packet{Number: uint64(i + 1), Time: t0, LinkType: source.LinkEthernet, Data: []byte{byte(i)}}
				if err := w.Write(&p); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			f, err := source.OpenReader("mem.pcapng", &buf)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var pending string
			f.OnSecrets(func(s source.Secrets) {
				if s.Err != nil {
					t.Errorf("secrets block: %v", s.Err)
				}
				pending += string(s.KeyLog)
			})
			for i := range tc.secrets {
				var p source.Packet
				if err := f.Next(&p); err != nil {
					t.Fatalf("packet %d: %v", i+1, err)
				}
				got = append(got, pending)
				pending = ""
			}
			if !slices.Equal(got, tc.secrets) {
				t.Errorf("secrets before each packet %q, want %q", got, tc.secrets)
			}
		})
	}
}

func TestPcapWriterErrors(t *testing.T) {
	if _, err := NewPcapWriter(io.Discard, source.LinkEthernet, -1); err == nil {
		t.Error("NewPcapWriter(snaplen -1): no error")
	}
	if _, err := NewPcapWriter(failWriter{}, source.LinkEthernet, 0); err != nil {
		t.Errorf("NewPcapWriter buffers its header, got error %v", err)
	}
	w, err := NewPcapWriter(failWriter{}, source.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := source.Packet{Number: 7, Time: time.Unix(1, 0), Data: make([]byte, 100*1024), OrigLen: 100 * 1024}
	if err := w.Write(&p); err == nil || !strings.Contains(err.Error(), "packet 7") {
		t.Errorf("Write to a failing writer: err = %v, want one naming packet 7", err)
	}
	if err := w.Flush(); err == nil {
		t.Error("Flush to a failing writer: no error")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestPcapWriterAllocs(t *testing.T) {
	w, err := NewPcapWriter(io.Discard, source.LinkEthernet, 0)
	if err != nil {
		t.Fatal(err)
	}
	p := source.Packet{Number: 1, Time: time.Now(), Data: make([]byte, 1500), OrigLen: 1500}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := w.Write(&p); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("PcapWriter.Write allocates %v times per packet, want 0", allocs)
	}
}

func BenchmarkPcapWriter(b *testing.B) {
	w, err := NewPcapWriter(io.Discard, source.LinkEthernet, 0)
	if err != nil {
		b.Fatal(err)
	}
	p := source.Packet{Number: 1, Time: time.Now(), Data: make([]byte, 1500), OrigLen: 1500}
	b.ReportAllocs()
	b.SetBytes(int64(len(p.Data)))
	for b.Loop() {
		if err := w.Write(&p); err != nil {
			b.Fatal(err)
		}
	}
}
