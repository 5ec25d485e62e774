package source

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// testPkt is a packet written into a test capture.
type testPkt struct {
	ts      time.Time
	data    []byte
	origLen int
	iface   int
}

// testPkts returns n packets with distinct contents and timestamps.
func testPkts(n int) []testPkt {
	base := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	pkts := make([]testPkt, n)
	for i := range pkts {
		data := bytes.Repeat([]byte{byte(i + 1)}, 20+i*7)
		pkts[i] = testPkt{
			ts:      base.Add(time.Duration(i)*time.Second + time.Duration(i*1001)*time.Microsecond),
			data:    data,
			origLen: len(data) + i%2*100, // every other packet is snaplen-cut
		}
	}
	return pkts
}

// pcapBytes writes pkts to a little-endian pcap file with pcapgo.
func pcapBytes(t testing.TB, nanos bool, link layers.LinkType, pkts []testPkt) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if nanos {
		w = pcapgo.NewWriterNanos(&buf)
	}
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: p.origLen}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// pcapBigEndian builds a big-endian pcap file by hand.
func pcapBigEndian(nanos bool, link uint32, pkts []testPkt) []byte {
	be := binary.BigEndian
	magic := uint32(0xa1b2c3d4)
	if nanos {
		magic = 0xa1b23c4d
	}
	b := be.AppendUint32(nil, magic)
	b = be.AppendUint16(b, 2)
	b = be.AppendUint16(b, 4)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 0)
	b = be.AppendUint32(b, 262144)
	b = be.AppendUint32(b, link)
	for _, p := range pkts {
		frac := p.ts.Nanosecond() / 1000
		if nanos {
			frac = p.ts.Nanosecond()
		}
		b = be.AppendUint32(b, uint32(p.ts.Unix()))
		b = be.AppendUint32(b, uint32(frac))
		b = be.AppendUint32(b, uint32(len(p.data)))
		b = be.AppendUint32(b, uint32(p.origLen))
		b = append(b, p.data...)
	}
	return b
}

// pcapngBytes writes pkts to a pcapng file whose interfaces have the given
// link types; p.iface selects the interface.
func pcapngBytes(t testing.TB, links []layers.LinkType, pkts []testPkt) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriterInterface(&buf, pcapgo.NgInterface{
		Name: "if0", LinkType: links[0], SnapLength: 65535, TimestampResolution: 9,
	}, pcapgo.NgWriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range links[1:] {
		id, err := w.AddInterface(pcapgo.NgInterface{
			Name: fmt.Sprintf("if%d", i+1), LinkType: l, SnapLength: 65535, TimestampResolution: 9,
		})
		if err != nil || id != i+1 {
			t.Fatalf("AddInterface = %d, %v", id, err)
		}
	}
	for _, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: p.ts, CaptureLength: len(p.data), Length: p.origLen, InterfaceIndex: p.iface}
		if err := w.WritePacket(ci, p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipBytes compresses b.
func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeTemp writes b to a temporary file and returns its path.
func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll reads every packet of f (bounded) and returns copies, with the
// error that ended the loop (nil for a clean io.EOF).
func readAll(t testing.TB, f *File) ([]Packet, error) {
	t.Helper()
	var out []Packet
	for range 100000 {
		var p Packet
		err := f.Next(&p)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		p.Data = append([]byte(nil), p.Data...)
		out = append(out, p)
	}
	t.Fatal("too many packets")
	return nil, nil
}

// checkPackets compares read packets with the written ones.
func checkPackets(t *testing.T, got []Packet, want []testPkt, links []LinkType, resolution time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d packets, want %d", len(got), len(want))
	}
	for i, p := range got {
		w := want[i]
		if p.Number != uint64(i+1) {
			t.Errorf("packet %d: Number = %d", i, p.Number)
		}
		if wt := w.ts.Truncate(resolution); !p.Time.Equal(wt) {
			t.Errorf("packet %d: Time = %v, want %v", i, p.Time, wt)
		}
		if !bytes.Equal(p.Data, w.data) {
			t.Errorf("packet %d: Data = % x, want % x", i, p.Data, w.data)
		}
		if p.OrigLen != w.origLen {
			t.Errorf("packet %d: OrigLen = %d, want %d", i, p.OrigLen, w.origLen)
		}
		if p.LinkType != links[w.iface] {
			t.Errorf("packet %d: LinkType = %d, want %d", i, p.LinkType, links[w.iface])
		}
	}
}

func TestReadFormats(t *testing.T) {
	pkts := testPkts(5)
	mixed := testPkts(6)
	for i := range mixed {
		mixed[i].iface = i % 2
	}
	eth := []LinkType{LinkEthernet}
	tests := []struct {
		name       string
		data       []byte
		pkts       []testPkt
		links      []LinkType
		resolution time.Duration
	}{
		{"pcap little-endian micro", pcapBytes(t, false, layers.LinkTypeEthernet, pkts), pkts, eth, time.Microsecond},
		{"pcap little-endian nano", pcapBytes(t, true, layers.LinkTypeEthernet, pkts), pkts, eth, time.Nanosecond},
		{"pcap big-endian micro", pcapBigEndian(false, uint32(LinkSLL), pkts), pkts, []LinkType{LinkSLL}, time.Microsecond},
		{"pcap big-endian nano", pcapBigEndian(true, uint32(LinkRaw), pkts), pkts, []LinkType{LinkRaw}, time.Nanosecond},
		{"pcap FCS bits in link type", pcapBigEndian(false, 0x1<<26|0x2<<28|uint32(LinkEthernet), pkts), pkts, eth, time.Microsecond},
		{"pcap no packets", pcapBytes(t, false, layers.LinkTypeEthernet, nil), nil, eth, time.Microsecond},
		{"pcap gzip", gzipBytes(t, pcapBytes(t, true, layers.LinkTypeEthernet, pkts)), pkts, eth, time.Nanosecond},
		{"pcap big-endian gzip", gzipBytes(t, pcapBigEndian(true, uint32(LinkNull), pkts)), pkts, []LinkType{LinkNull}, time.Nanosecond},
		{"pcapng", pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, pkts), pkts, eth, time.Nanosecond},
		{"pcapng ethernet and sll2", pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkType(LinkSLL2)}, mixed), mixed, []LinkType{LinkEthernet, LinkSLL2}, time.Nanosecond},
		{"pcapng raw and ethernet", pcapngBytes(t, []layers.LinkType{layers.LinkTypeRaw, layers.LinkTypeEthernet}, mixed), mixed, []LinkType{LinkRaw, LinkEthernet}, time.Nanosecond},
		{"pcapng gzip mixed", gzipBytes(t, pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL}, mixed)), mixed, []LinkType{LinkEthernet, LinkSLL}, time.Nanosecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Any file name works: the format comes from the contents.
			path := writeTemp(t, "capture.bin", tc.data)
			f, err := Open(path, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer f.Close()
			if f.Size() != int64(len(tc.data)) {
				t.Errorf("Size = %d, want %d", f.Size(), len(tc.data))
			}
			got, err := readAll(t, f)
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			checkPackets(t, got, tc.pkts, tc.links, tc.resolution)
			if f.Pos() != int64(len(tc.data)) {
				t.Errorf("Pos at the end = %d, want %d", f.Pos(), len(tc.data))
			}
			// io.EOF again, not a different error.
			var p Packet
			if err := f.Next(&p); err != io.EOF {
				t.Errorf("Next after the end = %v, want io.EOF", err)
			}
			if err := f.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			if err := f.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := f.Next(&p); err == nil || err == io.EOF {
				t.Errorf("Next after Close = %v, want an error", err)
			}
		})
	}
}

func TestStdin(t *testing.T) {
	pkts := testPkts(3)
	for _, data := range [][]byte{
		pcapBytes(t, false, layers.LinkTypeEthernet, pkts),
		gzipBytes(t, pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, pkts)),
	} {
		// A reader without Stat or Seek, like a pipe.
		f, err := Open("-", io.MultiReader(bytes.NewReader(data)))
		if err != nil {
			t.Fatalf("Open(-): %v", err)
		}
		if f.Size() != -1 {
			t.Errorf("Size = %d, want -1", f.Size())
		}
		if f.Name() != stdinName {
			t.Errorf("Name = %q", f.Name())
		}
		got, err := readAll(t, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(pkts) {
			t.Errorf("read %d packets, want %d", len(got), len(pkts))
		}
		if f.Pos() != int64(len(data)) {
			t.Errorf("Pos = %d, want %d", f.Pos(), len(data))
		}
		f.Close()
	}
	if _, err := Open("-", nil); err == nil {
		t.Error("Open(-, nil) succeeded")
	}
}

func TestPosProgresses(t *testing.T) {
	pkts := testPkts(50)
	data := pcapBytes(t, false, layers.LinkTypeEthernet, pkts)
	f, err := OpenReader("mem", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := int64(24)
	if f.Pos() != want {
		t.Errorf("Pos after Open = %d, want %d", f.Pos(), want)
	}
	for i := range pkts {
		var p Packet
		if err := f.Next(&p); err != nil {
			t.Fatal(err)
		}
		want += 16 + int64(len(pkts[i].data))
		if f.Pos() != want {
			t.Fatalf("Pos after packet %d = %d, want %d", i+1, f.Pos(), want)
		}
	}
}

func TestDamaged(t *testing.T) {
	pkts := testPkts(5)
	pcap := pcapBytes(t, false, layers.LinkTypeEthernet, pkts)
	// Offsets of each record in pcap.
	recs := []int{24}
	for _, p := range pkts {
		recs = append(recs, recs[len(recs)-1]+16+len(p.data))
	}
	ng := pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkType(LinkSLL2)}, pkts)
	gz := gzipBytes(t, pcap)

	badCapLen := bytes.Clone(pcap)
	binary.LittleEndian.PutUint32(badCapLen[recs[2]+8:], 0x7fffffff)
	capOverOrig := bytes.Clone(pcap)
	binary.LittleEndian.PutUint32(capOverOrig[recs[3]+12:], 1)
	ngBadIface := bytes.Clone(ng)
	badChecksum := bytes.Clone(gz)
	badChecksum[len(badChecksum)-8] ^= 0xff

	tests := []struct {
		name   string
		data   []byte
		good   int    // packets read before the error
		offset string // expected "byte offset N" in the message, "" to skip
	}{
		{"pcap cut in record header", pcap[:recs[2]+7], 2, fmt.Sprint("byte offset ", recs[2])},
		{"pcap cut after record header", pcap[:recs[2]+16], 2, fmt.Sprint("byte offset ", recs[2])},
		{"pcap cut in packet data", pcap[:recs[3]+20], 3, fmt.Sprint("byte offset ", recs[3])},
		{"pcap cut in last packet", pcap[:len(pcap)-1], 4, fmt.Sprint("byte offset ", recs[4])},
		{"pcap huge capture length", badCapLen, 2, fmt.Sprint("byte offset ", recs[2])},
		{"pcap capture length over original length", capOverOrig, 3, ""},
		{"pcapng cut in a block", ng[:len(ng)-10], 4, ""},
		{"pcapng cut in block header", ng[:len(ng)-len(pkts[4].data)-28], 4, ""},
		{"pcapng bad interface", ngBadIface, 0, ""},
		{"gzip cut", gz[:len(gz)-20], -1, "of the decompressed data"},
		{"gzip cut at trailer", gz[:len(gz)-8], 5, "of the decompressed data"},
		{"gzip bad checksum", badChecksum, 5, "of the decompressed data"},
		{"gzip of cut pcap", gzipBytes(t, pcap[:recs[1]+3]), 1, fmt.Sprint("byte offset ", recs[1], " of the decompressed data")},
		{"gzip with trailing garbage", append(bytes.Clone(gz), "garbage"...), 5, ""},
	}
	// Point the first packet of the pcapng at interface 7: find its EPB.
	if i := bytes.Index(ngBadIface, []byte{6, 0, 0, 0}); i >= 0 {
		// EPB type 6, then length, then the interface id at +8.
		binary.LittleEndian.PutUint32(ngBadIface[i+8:], 7)
	} else {
		t.Fatal("no EPB found")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := OpenReader("cut.pcap", bytes.NewReader(tc.data))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer f.Close()
			got, err := readAll(t, f)
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("after %d packets: error = %v, want ErrDamaged", len(got), err)
			}
			if tc.good >= 0 && len(got) != tc.good {
				t.Errorf("read %d good packets, want %d", len(got), tc.good)
			}
			for i, p := range got {
				if !bytes.Equal(p.Data, pkts[i].data) {
					t.Errorf("packet %d differs", i+1)
				}
			}
			msg := err.Error()
			if want := fmt.Sprintf("packet %d ", len(got)+1); !strings.Contains(msg, want) {
				t.Errorf("error %q does not name %q", msg, want)
			}
			if !strings.Contains(msg, "cut.pcap") || !strings.Contains(msg, tc.offset) {
				t.Errorf("error %q lacks the name or %q", msg, tc.offset)
			}
			// The error sticks.
			var p Packet
			if err2 := f.Next(&p); err2 != err {
				t.Errorf("second Next = %v, want the same error", err2)
			}
		})
	}
}

// failingReader returns data, then an I/O error.
type failingReader struct {
	data []byte
	err  error
}

// Read implements io.Reader.
func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestIOError(t *testing.T) {
	pcap := pcapBytes(t, false, layers.LinkTypeEthernet, testPkts(3))
	ioErr := errors.New("disk on fire")
	f, err := OpenReader("x", &failingReader{data: pcap[:len(pcap)-5], err: ioErr})
	if err != nil {
		t.Fatal(err)
	}
	got, err := readAll(t, f)
	if !errors.Is(err, ioErr) || errors.Is(err, ErrDamaged) {
		t.Errorf("error = %v, want the I/O error without ErrDamaged", err)
	}
	if len(got) != 2 {
		t.Errorf("read %d packets, want 2", len(got))
	}
	if _, err := OpenReader("y", &failingReader{err: ioErr}); !errors.Is(err, ioErr) {
		t.Errorf("Open error = %v, want the I/O error", err)
	}
}

func TestNotCapture(t *testing.T) {
	pcap := pcapBytes(t, false, layers.LinkTypeEthernet, testPkts(1))
	v23 := bytes.Clone(pcap)
	binary.LittleEndian.PutUint16(v23[6:], 3)
	modified := append([]byte{0x34, 0xcd, 0xb2, 0xa1}, pcap[4:]...)
	modifiedBE := append([]byte{0xa1, 0xb2, 0xcd, 0x34}, pcap[4:]...)
	tests := []struct {
		name string
		data []byte
		want error  // ErrNotCapture or ErrDamaged
		text string // expected in the message
	}{
		{"empty", nil, ErrNotCapture, "is empty"},
		{"text", []byte("hello, this is not a capture\nsecond line\n"), ErrNotCapture, "looks like text"},
		{"utf-8 text", []byte("Grüße aus Köln — ünïcödé\n"), ErrNotCapture, "looks like text"},
		{"json", []byte(`  {"frame": 1}`), ErrNotCapture, "looks like JSON"},
		{"html", []byte("<!DOCTYPE html><html></html>"), ErrNotCapture, "looks like HTML"},
		{"binary", []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, ErrNotCapture, "starts with 00 01 02 03"},
		{"xz", []byte("\xfd7zXZ\x00\x00\x04"), ErrNotCapture, "xz-compressed"},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), ErrNotCapture, "ZIP archive"},
		{"snoop", []byte("snoop\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x04"), ErrNotCapture, "snoop"},
		{"too short", []byte{0xd4, 0xc3}, ErrNotCapture, "too short"},
		{"modified pcap", modified, ErrNotCapture, "modified (Kuznetzov)"},
		{"modified pcap big-endian", modifiedBE, ErrNotCapture, "modified (Kuznetzov)"},
		{"pcap version 2.3", v23, ErrNotCapture, "version 2.3"},
		{"pcapng bad byte order", []byte("\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x01\x02\x03\x04\x01\x00\x00\x00"), ErrNotCapture, "starts like pcapng"},
		{"gzip of text", gzipBytes(t, []byte("just some text\n")), ErrNotCapture, "looks like text after decompression"},
		{"gzip of nothing", gzipBytes(t, nil), ErrNotCapture, "gzip-compressed but empty"},
		{"gzip of gzip", gzipBytes(t, gzipBytes(t, pcap)), ErrNotCapture, "gzip-compressed data after decompression"},
		{"pcap header cut", pcap[:20], ErrDamaged, "cut short (20 of 24 bytes)"},
		{"pcapng header cut", pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, nil)[:20], ErrDamaged, "section header is cut short"},
		{"gzip header cut", gzipBytes(t, pcap)[:5], ErrDamaged, "gzip header is damaged"},
		{"gzip cut in pcap header", gzipBytes(t, pcap)[:20], ErrDamaged, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTemp(t, "input.pcap", tc.data)
			f, err := Open(path, nil)
			if err == nil {
				f.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not wrap %v", err, tc.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, tc.text) {
				t.Errorf("error %q lacks the path or %q", msg, tc.text)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "missing.pcap"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	dir := t.TempDir()
	if _, err := Open(dir, nil); !errors.Is(err, ErrNotCapture) || !strings.Contains(err.Error(), "directory") {
		t.Errorf("directory: %v", err)
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"plain text\n", "text"},
		{"text cut in a rune \xc3", "text"},
		{"\x1b[31mcoloured\x1b[0m", "text"},
		{"[1, 2]", "JSON or other text"},
		{"\ufeff<?xml version='1.0'?>", "HTML or XML text"},
		{"%PDF-1.7", "a PDF document"},
		{"BZh91AY", "bzip2-compressed data (decompress it first)"},
		{"\x00\x01", "binary data of an unknown format (it starts with 00 01)"},
		{"\xff\xfe\xfd", "binary data of an unknown format (it starts with ff fe fd)"},
	}
	for _, tc := range tests {
		if got := describe([]byte(tc.in)); got != tc.want {
			t.Errorf("describe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	tar := make([]byte, 512)
	copy(tar[257:], "ustar")
	if got := describe(tar); got != "a tar archive" {
		t.Errorf("describe(tar) = %q", got)
	}
}

func TestNextAllocs(t *testing.T) {
	pkts := testPkts(10)
	tests := []struct {
		name string
		data []byte
	}{
		{"pcap", pcapBytes(t, false, layers.LinkTypeEthernet, pkts)},
		{"pcap gzip", gzipBytes(t, pcapBytes(t, true, layers.LinkTypeLinuxSLL, pkts))},
		{"pcapng", pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw}, pkts)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Build a capture of the same packets repeated, so steady state
			// can be measured over many calls.
			var data []byte
			switch tc.name {
			case "pcapng":
				many := make([]testPkt, 0, 2000)
				for i := range 2000 {
					p := pkts[i%len(pkts)]
					p.iface = i % 2
					many = append(many, p)
				}
				data = pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw}, many)
			default:
				many := make([]testPkt, 0, 2000)
				for i := range 2000 {
					many = append(many, pkts[i%len(pkts)])
				}
				data = pcapBytes(t, false, layers.LinkTypeEthernet, many)
				if strings.Contains(tc.name, "gzip") {
					data = gzipBytes(t, data)
				}
			}
			f, err := OpenReader("mem", bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var p Packet
			for range 20 { // warm up buffers
				if err := f.Next(&p); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if err := f.Next(&p); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%v allocations per Next, want 0", allocs)
			}
		})
	}
}

func BenchmarkReadPcap(b *testing.B) {
	pkts := make([]testPkt, 0, 1000)
	for i := range 1000 {
		data := bytes.Repeat([]byte{byte(i)}, 60+(i*37)%1400)
		pkts = append(pkts, testPkt{ts: time.Unix(int64(i), 0), data: data, origLen: len(data)})
	}
	for _, gz := range []bool{false, true} {
		data := pcapBytes(b, false, layers.LinkTypeEthernet, pkts)
		size := int64(len(data)) // throughput in capture bytes, decompressed
		name := "plain"
		if gz {
			data, name = gzipBytes(b, data), "gzip"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(size)
			for b.Loop() {
				f, err := OpenReader("bench", bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				var p Packet
				n := 0
				for {
					err := f.Next(&p)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != len(pkts) {
					b.Fatalf("read %d packets", n)
				}
				f.Close()
			}
		})
	}
}

func FuzzOpenAndRead(f *testing.F) {
	pkts := testPkts(3)
	pcap := pcapBytes(f, false, layers.LinkTypeEthernet, pkts)
	ng := pcapngBytes(f, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkType(LinkSLL2)}, pkts)
	for _, seed := range [][]byte{
		pcap,
		pcap[:len(pcap)-3],
		pcapBigEndian(true, uint32(LinkRaw), pkts),
		ng,
		ng[:len(ng)-9],
		gzipBytes(f, pcap),
		gzipBytes(f, ng),
		nil,
		[]byte("text"),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := OpenReader("fuzz", bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotCapture) && !errors.Is(err, ErrDamaged) {
				t.Fatalf("Open error wraps neither sentinel: %v", err)
			}
			return
		}
		defer r.Close()
		// Packets are bounded by the input size, and decompressed input
		// by a generous multiple of it.
		for i := range 1 << 16 {
			var p Packet
			err := r.Next(&p)
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("Next error does not wrap ErrDamaged: %v", err)
				}
				return
			}
			if p.Number != uint64(i+1) || p.OrigLen < len(p.Data) {
				t.Fatalf("bad packet %d: Number %d OrigLen %d len %d", i, p.Number, p.OrigLen, len(p.Data))
			}
			if r.Pos() > int64(len(data)) {
				t.Fatalf("Pos %d beyond input size %d", r.Pos(), len(data))
			}
		}
	})
}
