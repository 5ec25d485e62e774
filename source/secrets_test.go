package source

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// ngBlockBytes builds a pcapng block of type typ around body (padded to 4
// bytes) in byte order bo.
func ngBlockBytes(bo binary.AppendByteOrder, typ uint32, body []byte) []byte {
	padded := (len(body) + 3) &^ 3
	n := uint32(12 + padded)
	b := bo.AppendUint32(nil, typ)
	b = bo.AppendUint32(b, n)
	b = append(b, body...)
	b = append(b, make([]byte, padded-len(body))...)
	return bo.AppendUint32(b, n)
}

// dsbBytes builds a Decryption Secrets Block of the given secrets type.
func dsbBytes(bo binary.AppendByteOrder, secretsType uint32, secrets []byte) []byte {
	body := bo.AppendUint32(nil, secretsType)
	body = bo.AppendUint32(body, uint32(len(secrets)))
	body = append(body, secrets...)
	body = append(body, make([]byte, (len(secrets)+3)&^3-len(secrets))...)
	return ngBlockBytes(bo, ngDecryptSecrets, body)
}

// insertBlocks returns a copy of the little-endian pcapng file ng with extra
// blocks inserted before the block of index i (0 is the section header).
func insertBlocks(ng []byte, at map[int][]byte) []byte {
	offs := ngBlockOffsets(ng)
	var out []byte
	for i, off := range offs {
		out = append(out, at[i]...)
		end := len(ng)
		if i+1 < len(offs) {
			end = offs[i+1]
		}
		out = append(out, ng[off:end]...)
	}
	return append(out, at[len(offs)]...)
}

// secretsSeen reads every packet of f and returns, for each Secrets handed
// over, "before packet N: text or error".
func secretsSeen(t *testing.T, f *File) []string {
	t.Helper()
	var seen []string
	count := uint64(0)
	f.OnSecrets(func(s Secrets) {
		if s.Name != f.Name() {
			t.Errorf("secrets of %q from %q", s.Name, f.Name())
		}
		what := string(s.KeyLog)
		if s.Err != nil {
			what = "error: " + s.Err.Error()
		}
		if len(what) > 40 {
			what = what[:40]
		}
		seen = append(seen, fmt.Sprintf("before packet %d: %s", count+1, what))
	})
	for range 1000 {
		var p Packet
		err := f.Next(&p)
		if err == io.EOF {
			return seen
		}
		if err != nil {
			t.Fatal(err)
		}
		count = p.Number
	}
	t.Fatal("too many packets")
	return nil
}

// TestSecretsAnywhere checks that Decryption Secrets Blocks are handed over
// wherever they are in a pcapng file, before the packet that follows them,
// from files, compressed files and pipes that deliver a few bytes at a time.
func TestSecretsAnywhere(t *testing.T) {
	le := binary.LittleEndian
	ng := pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, testPkts(5))
	big := bytes.Repeat([]byte("# a long comment line of a key log file\n"), 10000) // more than a buffer
	// Blocks: 0 SHB, 1 IDB, 2..6 packets 1..5.
	file := insertBlocks(ng, map[int][]byte{
		1: dsbBytes(le, secretsTLSKeyLog, []byte("A before the interface")),
		2: dsbBytes(le, secretsTLSKeyLog, []byte("B before packet 1")),
		4: append(append(dsbBytes(le, secretsTLSKeyLog, []byte("C1")),
			ngBlockBytes(le, 0x0BAD, []byte("an unknown block"))...),
			append(dsbBytes(le, 0x57474b4c, []byte("WireGuard keys are not TLS")),
				dsbBytes(le, secretsTLSKeyLog, []byte("C2 (padded)"))...)...),
		5: ngBlockBytes(le, ngDecryptSecrets, le.AppendUint32(le.AppendUint32(nil, secretsTLSKeyLog), 99)),
		6: dsbBytes(le, secretsTLSKeyLog, big),
		7: dsbBytes(le, secretsTLSKeyLog, []byte("Z after the last packet")),
	})
	want := []string{
		"before packet 1: A before the interface",
		"before packet 1: B before packet 1",
		"before packet 3: C1",
		"before packet 3: C2 (padded)",
		"before packet 4: error: the decryption secrets block at b",
		"before packet 5: " + string(big[:40]),
	}
	open := map[string]func() (*File, error){
		"file":      func() (*File, error) { return Open(writeTemp(t, "dsb.pcapng", file), nil) },
		"gzip file": func() (*File, error) { return Open(writeTemp(t, "dsb.pcapng.gz", gzipBytes(t, file)), nil) },
		"stdin":     func() (*File, error) { return Open("-", &stutterReader{r: bytes.NewReader(file), max: 7}) },
		"gzip pipe": func() (*File, error) {
			return Open("-", &stutterReader{r: bytes.NewReader(gzipBytes(t, file)), max: 3000})
		},
	}
	for name, o := range open {
		t.Run(name, func(t *testing.T) {
			f, err := o()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got := secretsSeen(t, f)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestSecretsBigEndian checks a big-endian section, and that pcap input
// and files without secrets hand over none.
func TestSecretsBigEndian(t *testing.T) {
	be := binary.BigEndian
	shb := be.AppendUint32(nil, ngByteOrderMagic)
	shb = be.AppendUint16(shb, 1)
	shb = be.AppendUint16(shb, 0)
	shb = be.AppendUint64(shb, ^uint64(0))
	idb := be.AppendUint16(nil, uint16(LinkEthernet))
	idb = be.AppendUint16(idb, 0)
	idb = be.AppendUint32(idb, 65535)
	epb := be.AppendUint32(nil, 0)
	epb = be.AppendUint32(epb, 0)
	epb = be.AppendUint32(epb, 1000)
	epb = be.AppendUint32(epb, 14)
	epb = be.AppendUint32(epb, 14)
	epb = append(epb, make([]byte, 14)...)
	var file []byte
	file = append(file, ngBlockBytes(be, ngSectionHeader, shb)...)
	file = append(file, ngBlockBytes(be, ngInterface, idb)...)
	file = append(file, ngBlockBytes(be, ngEnhancedPacket, epb)...)
	file = append(file, dsbBytes(be, secretsTLSKeyLog, []byte("big-endian"))...)
	file = append(file, ngBlockBytes(be, ngEnhancedPacket, epb)...)
	for name, tt := range map[string]struct {
		data []byte
		want string
	}{
		"big-endian pcapng": {file, "before packet 2: big-endian"},
		"pcap":              {pcapBytes(t, false, layers.LinkTypeEthernet, testPkts(3)), ""},
		"no secrets":        {pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, testPkts(3)), ""},
	} {
		f, err := Open(writeTemp(t, "x", tt.data), nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := strings.Join(secretsSeen(t, f), "\n")
		f.Close()
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", name, got, tt.want)
		}
	}
}

// TestSecretsBounded checks that a capture cannot make the reader keep more
// secrets than maxSecrets, and that the tap survives a damaged block
// structure (the packet reader reports it).
func TestSecretsBounded(t *testing.T) {
	var tap secretsTap
	le := binary.LittleEndian
	shb := ngBlockBytes(le, ngSectionHeader, le.AppendUint64(le.AppendUint32(le.AppendUint32(nil, ngByteOrderMagic), 1), ^uint64(0)))
	tap.feed(shb)
	hdr := le.AppendUint32(nil, ngDecryptSecrets)
	hdr = le.AppendUint32(hdr, maxSecrets+16)
	tap.feed(hdr)
	if len(tap.done) != 1 || tap.done[0].Err == nil || tap.keep {
		t.Fatalf("an oversized block: %+v, keep %v", tap.done, tap.keep)
	}
	// A block length below the minimum: the tap stops following.
	tap = secretsTap{}
	tap.feed(shb)
	tap.feed(le.AppendUint32(le.AppendUint32(nil, ngDecryptSecrets), 8))
	tap.feed(dsbBytes(le, secretsTLSKeyLog, []byte("ignored")))
	if !tap.lost || len(tap.done) != 0 {
		t.Fatalf("after a bad length: lost %v, done %+v", tap.lost, tap.done)
	}
	// Input that is not pcapng at all.
	tap = secretsTap{}
	tap.feed(dsbBytes(le, secretsTLSKeyLog, []byte("no section header")))
	if !tap.lost || len(tap.done) != 0 {
		t.Fatalf("without a section header: lost %v, done %+v", tap.lost, tap.done)
	}
}

// TestSecretsChain checks that a Chain hands over the secrets of each file
// with the file's name.
func TestSecretsChain(t *testing.T) {
	le := binary.LittleEndian
	pk := testPkts(4)
	later := make([]testPkt, len(pk))
	for i, p := range pk {
		p.ts = p.ts.Add(time.Hour)
		later[i] = p
	}
	links := []layers.LinkType{layers.LinkTypeEthernet}
	a := writeTemp(t, "a.pcapng", insertBlocks(pcapngBytes(t, links, pk), map[int][]byte{3: dsbBytes(le, secretsTLSKeyLog, []byte("in a"))}))
	b := writeTemp(t, "b.pcapng", insertBlocks(pcapngBytes(t, links, later), map[int][]byte{2: dsbBytes(le, secretsTLSKeyLog, []byte("in b"))}))
	c := NewChain([]string{a, b}, nil)
	defer c.Close()
	var got []string
	n := uint64(0)
	c.OnSecrets(func(s Secrets) { got = append(got, fmt.Sprintf("%s before %d: %s", s.Name, n+1, s.KeyLog)) })
	for range 100 {
		var p Packet
		if err := c.Next(&p); err != nil {
			if err != io.EOF {
				t.Fatal(err)
			}
			break
		}
		n = p.Number
	}
	want := []string{a + " before 2: in a", b + " before 5: in b"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestSecretsCapture reads the key log of the committed capture whose
// Decryption Secrets Block sits after the section header.
func TestSecretsCapture(t *testing.T) {
	want, err := os.ReadFile("../testdata/wss-tls13.keylog")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open("../testdata/wss-tls13-dsb.pcapng", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got [][]byte
	f.OnSecrets(func(s Secrets) { got = append(got, s.KeyLog) })
	if _, err := readAll(t, f); err != nil {
		t.Fatal(err)
	}
	// gencap writes the DSB capture and wss-tls13.keylog from one recording.
	if len(got) != 1 || !bytes.Equal(got[0], want) {
		t.Fatalf("secrets %q", got)
	}
}
