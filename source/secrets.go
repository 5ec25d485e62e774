package source

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// pcapng block types beside those of ngblock.go, and the TLS key log
// secrets type (pcapng spec, Decryption Secrets Block).
const (
	ngDecryptSecrets  = 0x0000000A
	ngObsoletePacket  = 0x00000002
	secretsTLSKeyLog  = 0x544c534b
	maxSecretsScanned = 64 << 20
)

// DecryptionSecrets returns the TLS key logs (NSS key log text) stored in
// the pcapng Decryption Secrets Blocks of the capture file at path, as
// written by `editcap --inject-secrets tls,KEYLOG`. Only the blocks before
// the first packet block are read (where the pcapng specification places
// them and editcap puts them). A pcap file, or "-", gives none. The file may
// be gzip-compressed.
func DecryptionSecrets(path string) ([][]byte, error) {
	if path == "-" {
		return nil, nil
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading decryption secrets: %w", err)
	}
	defer fh.Close()
	var r io.Reader = fh
	br := bufio.NewReader(r)
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil // the capture reader reports the damage
		}
		defer gz.Close()
		br = bufio.NewReader(gz)
	}
	return scanSecrets(io.LimitReader(br, maxSecretsScanned))
}

// scanSecrets walks pcapng blocks until the first packet block and
// collects the TLS key log secrets.
func scanSecrets(r io.Reader) ([][]byte, error) {
	var out [][]byte
	var bo binary.ByteOrder = binary.LittleEndian
	var hdr [12]byte
	for first := true; ; first = false {
		if _, err := io.ReadFull(r, hdr[:8]); err != nil {
			return out, nil // end of file (or damage the capture reader reports)
		}
		le := binary.LittleEndian.Uint32(hdr[:4])
		if le == ngSectionHeader {
			if _, err := io.ReadFull(r, hdr[8:12]); err != nil {
				return out, nil
			}
			switch binary.LittleEndian.Uint32(hdr[8:12]) {
			case 0x1A2B3C4D:
				bo = binary.LittleEndian
			case 0x4D3C2B1A:
				bo = binary.BigEndian
			default:
				return out, nil
			}
		} else if first {
			return nil, nil // not pcapng
		}
		typ, n := bo.Uint32(hdr[:4]), bo.Uint32(hdr[4:8])
		consumed := uint32(8)
		if typ == ngSectionHeader {
			consumed = 12
		}
		if n < consumed+4 || n%4 != 0 {
			return out, nil
		}
		switch typ {
		case ngEnhancedPacket, ngSimplePacket, ngObsoletePacket:
			return out, nil
		case ngDecryptSecrets:
			body := make([]byte, n-consumed)
			if _, err := io.ReadFull(r, body); err != nil {
				return out, nil
			}
			if len(body) < 12 {
				return out, errors.New("decryption secrets block too short")
			}
			st, sl := bo.Uint32(body[:4]), bo.Uint32(body[4:8])
			if uint64(sl) > uint64(len(body)-12) {
				return out, errors.New("decryption secrets block: secrets length exceeds the block")
			}
			if st == secretsTLSKeyLog {
				out = append(out, body[8:8+sl])
			}
		default:
			if _, err := io.CopyN(io.Discard, r, int64(n-consumed)); err != nil {
				return out, nil
			}
		}
	}
}
