package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// ngBlockOffsets returns the offsets of a little-endian pcapng file's blocks.
func ngBlockOffsets(b []byte) []int {
	var offs []int
	for off := 0; off+8 <= len(b); {
		offs = append(offs, off)
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if n < 12 {
			break
		}
		off += n
	}
	return offs
}

// readAllErr reads every packet and returns the error that ended it.
func readAllErr(t *testing.T, path string) error {
	t.Helper()
	f, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for {
		var p Packet
		if err := f.Next(&p); err != nil {
			return err
		}
	}
}

// TestPcapngBlockErrors checks that a damaged pcapng block is named in the
// error: which packet, which offset, which block and what is wrong with it.
func TestPcapngBlockErrors(t *testing.T) {
	ng := pcapngBytes(t, []layers.LinkType{layers.LinkTypeEthernet}, testPkts(4))
	offs := ngBlockOffsets(ng)
	// offs[0] SHB, offs[1] IDB, offs[2..] packets: damage the third packet.
	at := offs[4]
	tests := []struct {
		name   string
		damage func(b []byte) []byte
		want   string
	}{
		{"length too small", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[at+4:], 8); return b },
			"packet 3 at byte offset " + itoa(at) + ": the Enhanced Packet Block there (type 0x00000006) has a length of 8 bytes, less than the 12-byte minimum"},
		{"length not a multiple of 4", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[at+4:], 77); return b },
			"has a length of 77 bytes, not a multiple of 4"},
		{"length beyond the file", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[at+4:], 4096); return b },
			"claims 4096 bytes but the capture ends " + itoa(len(ng)-at) + " bytes after its start"},
		{"absurd length", func(b []byte) []byte { binary.LittleEndian.PutUint32(b[at+4:], 0xfffffff0); return b },
			"claims 4294967280 bytes, more than any capture block"},
		{"cut inside the header", func(b []byte) []byte { return b[:at+5] },
			"packet 3 at byte offset " + itoa(at) + ": the capture ends inside the next pcapng block's 8-byte header"},
	}
	dir := t.TempDir()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "d.pcapng")
			if err := os.WriteFile(path, tc.damage(bytes.Clone(ng)), 0o644); err != nil {
				t.Fatal(err)
			}
			err := readAllErr(t, path)
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("error %v does not wrap ErrDamaged", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// FuzzPcapngBlocks fuzzes pcapng block parsing on its own: a valid section
// header and interface block followed by the fuzzer's bytes as blocks. Every
// packet returned is within the input, and every failure wraps ErrDamaged
// and names a byte offset within the input.
func FuzzPcapngBlocks(f *testing.F) {
	ng := pcapngBytes(f, []layers.LinkType{layers.LinkTypeEthernet, layers.LinkType(LinkSLL2)}, testPkts(3))
	offs := ngBlockOffsets(ng)
	head := ng[:offs[2]]
	f.Add(ng[offs[2]:])
	f.Add(ng[offs[3]:])
	f.Add(ng[offs[2] : len(ng)-5])
	f.Add(append(bytes.Clone(ng[:offs[1]]), ng[offs[2]:]...)) // a second section header
	f.Add(append(dsbBytes(binary.LittleEndian, secretsTLSKeyLog, []byte("CLIENT_RANDOM x y\n")), ng[offs[2]:]...))
	f.Fuzz(func(t *testing.T, blocks []byte) {
		data := append(bytes.Clone(head), blocks...)
		r, err := OpenReader("fuzz.pcapng", bytes.NewReader(data))
		if err != nil {
			t.Fatalf("the header is valid, yet: %v", err)
		}
		defer r.Close()
		// Decryption Secrets Blocks come from within the input.
		r.OnSecrets(func(s Secrets) {
			if s.Offset < int64(len(head)) || s.Offset+int64(len(s.KeyLog)) > int64(len(data)) || s.Err != nil && s.KeyLog != nil {
				t.Fatalf("secrets at offset %d, %d bytes, error %v, from %d bytes of input", s.Offset, len(s.KeyLog), s.Err, len(data))
			}
		})
		for range 1 << 12 {
			var p Packet
			err := r.Next(&p)
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "byte offset") {
					t.Fatalf("bad error: %v", err)
				}
				return
			}
			if len(p.Data) > len(data) {
				t.Fatalf("packet of %d bytes from %d bytes of input", len(p.Data), len(data))
			}
		}
	})
}
