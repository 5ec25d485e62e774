package tlsdecrypt

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFollowedKeyLog checks sessions over a followed key log (a live
// capture's SSLKEYLOGFILE, written while the connection runs): whenever
// the secrets are appended, before the ServerHello, while the records that
// need them arrive or only before Close, and for TLS 1.3 the handshake and
// the traffic secrets at different times, every record is decrypted; when
// they never come, Close reports the missing key as without following.
func TestFollowedKeyLog(t *testing.T) {
	for _, ver := range []uint16{tls.VersionTLS13, tls.VersionTLS12} {
		var klBuf bytes.Buffer
		cfg := func() *tls.Config {
			return &tls.Config{MinVersion: ver, MaxVersion: ver, NextProtos: []string{"http/1.1"}}
		}
		conv := runGoTLS(t, cfg(), cfg(), &klBuf)
		var hs, traffic string
		for line := range strings.Lines(klBuf.String()) {
			if strings.Contains(line, "HANDSHAKE") {
				hs += line
			} else {
				traffic += line
			}
		}
		n := len(conv.pieces)
		run := func(t *testing.T, hsAt, trafficAt int) (*collector, *Session) {
			path := filepath.Join(t.TempDir(), "keys.log")
			if err := os.WriteFile(path, []byte("# empty so far\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			kl := NewKeyLog()
			if err := kl.Follow(path); err != nil {
				t.Fatal(err)
			}
			kl.every = 0
			appendLog := func(s string) {
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				// Half a line first: it must wait for the rest.
				half := len(s) / 2
				if _, err := f.WriteString(s[:half]); err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteString(s[half:]); err != nil {
					t.Fatal(err)
				}
			}
			col := &collector{}
			s := NewSession(kl, col)
			for i := 0; i <= n; i++ {
				if i == hsAt {
					appendLog(hs)
				}
				if i == trafficAt {
					appendLog(traffic)
				}
				if i < n {
					s.Feed(conv.pieces[i].dir, conv.pieces[i].data)
				}
			}
			s.Close()
			return col, s
		}
		name := map[uint16]string{tls.VersionTLS13: "tls13", tls.VersionTLS12: "tls12"}[ver]
		t.Run(name, func(t *testing.T) {
			for hsAt := 0; hsAt <= n; hsAt++ {
				for _, trafficAt := range []int{hsAt, n} {
					col, s := run(t, hsAt, trafficAt)
					for d := Client; d <= Server; d++ {
						if !bytes.Equal(col.plain[d], conv.sent[d]) {
							t.Fatalf("secrets appended before pieces %d and %d of %d: dir %d plaintext %d bytes, want %d (problems %+v)",
								hsAt, trafficAt, n, d, len(col.plain[d]), len(conv.sent[d]), col.problems)
						}
					}
					if k := col.count(ProblemNoKey); k != 0 || s.Info().Reason != "" {
						t.Fatalf("secrets appended before pieces %d and %d: %d no-key problems, reason %q", hsAt, trafficAt, k, s.Info().Reason)
					}
				}
			}
			col, s := run(t, n+1, n+1) // never
			if len(col.plain[Client])+len(col.plain[Server]) != 0 || col.count(ProblemNoKey) == 0 ||
				!strings.HasPrefix(s.Info().Reason, "no key for client random") {
				t.Errorf("secrets never logged: plaintext %d+%d bytes, problems %+v, reason %q",
					len(col.plain[Client]), len(col.plain[Server]), col.problems, s.Info().Reason)
			}
		})
	}
}

// TestFollowFile checks how a followed file is read: complete lines only,
// again after it was truncated or replaced, and a file that appears later.
func TestFollowFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys.log")
	cr := func(b byte) (string, [32]byte) {
		var r [32]byte
		for i := range r {
			r[i] = b
		}
		return strings.Repeat(string("0123456789abcdef"[b>>4])+string("0123456789abcdef"[b&15]), 32), r
	}
	line := func(b byte) string {
		h, _ := cr(b)
		return "CLIENT_RANDOM " + h + " " + strings.Repeat("ab", 48) + "\n"
	}
	kl := NewKeyLog()
	if err := kl.Follow(path); err != nil { // not there yet
		t.Fatal(err)
	}
	kl.every = 0
	has := func(b byte) bool { _, r := cr(b); _, ok := kl.Lookup(r); return ok }
	steps := []struct {
		write  func() error
		want   []byte // client randoms known after
		absent []byte
	}{
		{func() error { return nil }, nil, []byte{1}},
		{func() error { return os.WriteFile(path, []byte(line(1)+line(2)[:50]), 0o600) }, []byte{1}, []byte{2}},
		{func() error { return appendFile(path, line(2)[50:]+"garbage line\n"+line(3)) }, []byte{1, 2, 3}, nil},
		{func() error { return os.WriteFile(path, []byte(line(4)), 0o600) }, []byte{4}, nil}, // truncated and rewritten
	}
	for i, st := range steps {
		if err := st.write(); err != nil {
			t.Fatal(err)
		}
		kl.Refresh()
		for _, b := range st.want {
			if !has(b) {
				t.Errorf("step %d: client random %d not read", i, b)
			}
		}
		for _, b := range st.absent {
			if has(b) {
				t.Errorf("step %d: client random %d read from an incomplete line", i, b)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "unreadable"), nil, 0o000); err == nil && os.Getuid() != 0 {
		if err := NewKeyLog().Follow(filepath.Join(dir, "unreadable")); err == nil {
			t.Error("Follow of an unreadable file: no error")
		}
	}
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(s)
	return err
}
