package engine_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/source"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// moveSecrets returns the committed capture wss-tls13-dsb.pcapng (section
// header, Decryption Secrets Block, interface, packets) with its Decryption
// Secrets Block moved to just before packet number before (1-based; past
// the last packet: the end of the file).
func moveSecrets(t *testing.T, before int) []byte {
	t.Helper()
	b, err := os.ReadFile("../testdata/wss-tls13-dsb.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	var blocks [][]byte
	for off := 0; off+8 <= len(b); {
		n := int(binary.LittleEndian.Uint32(b[off+4:]))
		if n < 12 || off+n > len(b) {
			t.Fatalf("bad block at %d", off)
		}
		blocks = append(blocks, b[off:off+n])
		off += n
	}
	if binary.LittleEndian.Uint32(blocks[1]) != 0x0A || binary.LittleEndian.Uint32(blocks[2]) != 0x01 {
		t.Fatal("the capture does not start with SHB, DSB, IDB")
	}
	dsb := blocks[1]
	rest := append([][]byte{blocks[0]}, blocks[2:]...)
	var out []byte
	pkt := 0
	for _, blk := range rest {
		if binary.LittleEndian.Uint32(blk) == 6 {
			pkt++
			if pkt == before {
				out = append(out, dsb...)
			}
		}
		out = append(out, blk...)
	}
	if before > pkt {
		out = append(out, dsb...)
	}
	return out
}

// runSecrets decodes a capture read from r with its secrets as the only key
// log, with the given number of workers, and returns what it found.
func runSecrets(t *testing.T, name string, r io.Reader, workers int) *connCollector {
	t.Helper()
	f, err := source.Open(name, r)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kl := tlsdecrypt.NewKeyLog()
	f.OnSecrets(engine.AddSecrets(kl, func(err error) { t.Errorf("secrets: %v", err) }))
	var sinks []*connCollector
	opts := engine.Options{Workers: workers, Dissect: dissect.Options{Messages: true, KeyLog: kl}}
	if _, err := engine.RunParallel(f, func(io.Writer) (dissect.Sink, func() error) {
		c := &connCollector{}
		sinks = append(sinks, c)
		return c, func() error { return nil }
	}, opts, io.Discard); err != nil {
		t.Fatal(err)
	}
	all := &connCollector{}
	for _, c := range sinks {
		all.conns += c.conns
		all.messages += c.messages
		all.tls = append(all.tls, c.tls...)
		all.anomalies = append(all.anomalies, c.anomalies...)
	}
	return all
}

// TestWSSSecretsMidFile reads a capture whose Decryption Secrets Block sits
// between packets, before the TLS connection it unlocks, from a file and
// from a pipe, with one worker and several: the secrets count from where
// they are in the file. The same block after the last packet unlocks
// nothing.
func TestWSSSecretsMidFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name      string
		before    int
		decrypted bool
	}{
		{"after the TCP handshake", 4, true},
		{"before the first packet", 1, true},
		{"after the last packet", 1 << 20, false},
	} {
		data := moveSecrets(t, tt.before)
		path := filepath.Join(dir, "mid.pcapng")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 2, 8} {
			for _, in := range []struct {
				name string
				r    io.Reader
			}{{path, nil}, {"-", io.MultiReader(bytes.NewReader(data))}} {
				c := runSecrets(t, in.name, in.r, workers)
				if len(c.tls) != 1 || c.tls[0].Decrypted != tt.decrypted || (c.messages > 0) != tt.decrypted {
					t.Errorf("%s, %s, %d workers: %d messages, TLS %+v", tt.name, in.name, workers, c.messages, c.tls)
				}
			}
		}
	}
}
