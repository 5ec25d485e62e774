package tlsdecrypt

import (
	"bytes"
	"crypto/tls"
	"testing"
)

func FuzzKeyLog(f *testing.F) {
	f.Add([]byte("# comment\nCLIENT_RANDOM " + string(bytes.Repeat([]byte("ab"), 32)) + " " + string(bytes.Repeat([]byte("cd"), 48)) + "\n"))
	f.Add([]byte("SERVER_TRAFFIC_SECRET_0 00 11\nUNKNOWN x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		kl := NewKeyLog()
		err := kl.AddBytes(b, "fuzz")
		if err == nil && kl.Len() > bytes.Count(b, []byte("\n"))+1 {
			t.Fatalf("%d entries from %d lines", kl.Len(), bytes.Count(b, []byte("\n"))+1)
		}
		// What AppendNSS writes of each session reads back the same.
		kl.smu.RLock()
		defer kl.smu.RUnlock()
		for cr, s := range kl.m {
			back := NewKeyLog()
			if err := back.AddBytes(appendNSS(nil, cr, s), "back"); err != nil {
				t.Fatalf("AppendNSS wrote what Add refuses: %v", err)
			}
			if got := back.m[cr]; got == nil || !sameSecrets(got, s) {
				t.Fatalf("read back %+v, want %+v", got, s)
			}
		}
	})
}

func FuzzHandshake(f *testing.F) {
	f.Add([]byte{3, 3}, []byte{3, 3})
	f.Fuzz(func(t *testing.T, ch, sh []byte) {
		if c, err := ParseClientHello(ch); err == nil && c == nil {
			t.Fatal("nil ClientHello without error")
		}
		if s, err := ParseServerHello(sh); err == nil && s == nil {
			t.Fatal("nil ServerHello without error")
		}
		_, _, _ = encryptedExtensions(sh)
		_ = ticket12(ch)
	})
}

// FuzzRecordLayer feeds arbitrary bytes, split at a fuzzed position, after a
// real handshake's first flight, so the fuzzer reaches the encrypted states.
func FuzzRecordLayer(f *testing.F) {
	var kl bytes.Buffer
	conv := runGoTLS(f, &tls.Config{}, &tls.Config{}, &kl)
	keys := keyLogOf(f, kl.Bytes())
	var cli, srv []byte
	for _, p := range conv.pieces {
		if p.dir == Client {
			cli = append(cli, p.data...)
		} else {
			srv = append(srv, p.data...)
		}
	}
	f.Add(cli[:min(len(cli), 3000)], srv[:min(len(srv), 3000)], uint16(100), false)
	f.Add([]byte{22, 3, 1, 0, 5, 1, 0, 0, 1, 0}, []byte{21, 3, 3, 0, 2, 2, 40}, uint16(3), true)
	f.Fuzz(func(t *testing.T, c, s []byte, split uint16, gap bool) {
		col := &collector{}
		ss := NewSession(keys, col)
		at := min(int(split), len(c))
		ss.Feed(Client, c[:at])
		if gap {
			ss.Gap(Client, uint64(split))
		}
		ss.Feed(Server, s)
		ss.Feed(Client, c[at:])
		ss.Close()
		for d := range 2 {
			if len(col.plain[d]) > len(c)+len(s) {
				t.Fatal("more plaintext than input")
			}
		}
	})
}

// sameSecrets reports whether a and b hold the same secrets.
func sameSecrets(a, b *Secrets) bool {
	eq := func(x, y []byte) bool { return bytes.Equal(x, y) && (x == nil) == (y == nil) }
	return eq(a.Master, b.Master) && eq(a.ClientEarly, b.ClientEarly) && eq(a.ClientHandshake, b.ClientHandshake) &&
		eq(a.ServerHandshake, b.ServerHandshake) && eq(a.ClientTraffic0, b.ClientTraffic0) &&
		eq(a.ServerTraffic0, b.ServerTraffic0) && eq(a.Exporter, b.Exporter) && eq(a.EarlyExporter, b.EarlyExporter)
}
