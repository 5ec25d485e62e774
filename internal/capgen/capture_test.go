package capgen

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

func smallCapture(t *testing.T, opts CaptureOptions) *Capture {
	t.Helper()
	c := NewCapture(opts)
	conn, err := NewConn(c, ConnConfig{Link: Link{Type: LinkSLL2}})
	if err != nil {
		t.Fatal(err)
	}
	conn.Open()
	conn.Send(Client, []byte("hello"))
	conn.Close(Client)
	if err := conn.Finish(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWritePcapVariants(t *testing.T) {
	step := 1000123 * time.Nanosecond
	tests := []struct {
		name      string
		opts      PcapOptions
		wantMagic uint32
		bigEndian bool
		wantRes   time.Duration
	}{
		{"micro little", PcapOptions{}, 0xa1b2c3d4, false, time.Microsecond},
		{"micro big", PcapOptions{BigEndian: true}, 0xa1b2c3d4, true, time.Microsecond},
		{"nano little", PcapOptions{Nanosecond: true}, 0xa1b23c4d, false, time.Nanosecond},
		{"nano big", PcapOptions{Nanosecond: true, BigEndian: true}, 0xa1b23c4d, true, time.Nanosecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := smallCapture(t, CaptureOptions{Step: step})
			var buf bytes.Buffer
			if err := c.WritePcap(&buf, tc.opts); err != nil {
				t.Fatal(err)
			}
			var bo binary.ByteOrder = binary.LittleEndian
			if tc.bigEndian {
				bo = binary.BigEndian
			}
			if got := bo.Uint32(buf.Bytes()); got != tc.wantMagic {
				t.Errorf("magic %#x, want %#x", got, tc.wantMagic)
			}
			r, err := pcapgo.NewReader(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if r.LinkType() != layers.LinkTypeLinuxSLL2 {
				t.Errorf("link type %v", r.LinkType())
			}
			for i, want := range c.Packets() {
				data, ci, err := r.ReadPacketData()
				if err != nil {
					t.Fatalf("packet %d: %v", i+1, err)
				}
				if !bytes.Equal(data, want.Data) || ci.Length != len(want.Data) {
					t.Errorf("packet %d differs", i+1)
				}
				if wt := want.Time.Truncate(tc.wantRes); !ci.Timestamp.Equal(wt) {
					t.Errorf("packet %d: time %v, want %v", i+1, ci.Timestamp, wt)
				}
			}
			if _, _, err := r.ReadPacketData(); err != io.EOF {
				t.Errorf("after last packet: %v", err)
			}
		})
	}
}

func TestWritePcapSnapLen(t *testing.T) {
	c := smallCapture(t, CaptureOptions{})
	var buf bytes.Buffer
	if err := c.WritePcap(&buf, PcapOptions{SnapLen: 60}); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for range c.Packets() {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > 60 || ci.Length < len(data) {
			t.Errorf("captured %d of %d bytes with snap length 60", len(data), ci.Length)
		}
	}
}

func TestWritePcapRejectsSecondInterface(t *testing.T) {
	c := NewCapture(CaptureOptions{})
	if err := c.Add(1, LinkRaw, []byte{0x45}); err != nil {
		t.Fatal(err)
	}
	if err := c.WritePcap(io.Discard, PcapOptions{}); err == nil {
		t.Error("pcap with interface 1 accepted")
	}
	if err := c.WritePcapNG(io.Discard); err == nil {
		t.Error("pcapng with unused interface 0 accepted")
	}
	if err := c.Add(1, LinkEthernet, nil); err == nil {
		t.Error("second link type on interface 1 accepted")
	}
}

func TestWritePcapNG(t *testing.T) {
	c := NewCapture(CaptureOptions{})
	links := []Link{{Type: LinkEthernet}, {Type: LinkRaw, Interface: 1}, {Type: LinkNull, Interface: 2}}
	for _, l := range links {
		conn, err := NewConn(c, ConnConfig{Link: l})
		if err != nil {
			t.Fatal(err)
		}
		conn.Open()
		conn.Send(Server, []byte("data"))
		if err := conn.Finish(); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := c.WritePcapNG(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewNgReader(&buf, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range c.Packets() {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		if !bytes.Equal(data, want.Data) || ci.InterfaceIndex != want.Interface || !ci.Timestamp.Equal(want.Time) {
			t.Errorf("packet %d: iface %d time %v", i+1, ci.InterfaceIndex, ci.Timestamp)
		}
	}
	if n := r.NInterfaces(); n != 3 {
		t.Fatalf("%d interfaces, want 3", n)
	}
	for i, l := range links {
		ifc, err := r.Interface(i)
		if err != nil {
			t.Fatal(err)
		}
		if ifc.LinkType != layers.LinkType(l.Type) {
			t.Errorf("interface %d link type %v, want %v", i, ifc.LinkType, l.Type)
		}
	}
}
