package tlsdecrypt

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
		{func() error { // replaced by a longer file
			tmp := filepath.Join(dir, "new.log")
			if err := os.WriteFile(tmp, []byte(line(5)+line(6)+line(7)), 0o600); err != nil {
				return err
			}
			return os.Rename(tmp, path)
		}, []byte{5, 6, 7}, nil},
		// rewritten in place, longer (same inode, other first bytes)
		{func() error { return os.WriteFile(path, []byte(line(8)+line(9)+line(10)+line(11)), 0o600) }, []byte{8, 9, 10, 11}, nil},
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

// feedFollowed feeds pieces to a new session over kl, calling before(i)
// before piece i (and before(len) before Close), and returns what it got.
func feedFollowed(kl *KeyLog, pieces []piece, before func(i int)) (*collector, *Session) {
	col := &collector{}
	s := NewSession(kl, col)
	for i, p := range pieces {
		before(i)
		s.Feed(p.dir, p.data)
	}
	before(len(pieces))
	s.Close()
	return col, s
}

// followedLog returns a key log following a new empty file, and a function
// appending to the file.
func followedLog(t *testing.T) (*KeyLog, func(string)) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.log")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	kl := NewKeyLog()
	if err := kl.Follow(path); err != nil {
		t.Fatal(err)
	}
	kl.every = 0
	return kl, func(s string) {
		if err := appendFile(path, s); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFollowedResumption checks TLS 1.2 session resumption over a
// followed key log: the first connection's master secret arrives while it
// waits, after its NewSessionTicket, and the connection resuming that
// ticket (whose client, Go's, logs no line for it) is decrypted with it;
// a copy of the secrets (AppendNSS) then names its master secret too.
func TestFollowedResumption(t *testing.T) {
	cache := tls.NewLRUClientSessionCache(4)
	srv := &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}
	cli := &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, ClientSessionCache: cache}
	var kl1, kl2 bytes.Buffer
	first := runGoTLS(t, srv, cli, &kl1)
	second := runGoTLS(t, srv, cli, &kl2)
	if !second.state.DidResume {
		t.Fatal("the second connection did not resume the first")
	}
	for at := 0; at <= len(first.pieces); at++ {
		kl, appendLog := followedLog(t)
		col1, _ := feedFollowed(kl, first.pieces, func(i int) {
			if i == at {
				appendLog(kl1.String())
			}
		})
		col2, s2 := feedFollowed(kl, second.pieces, func(int) {})
		for i, col := range []*collector{col1, col2} {
			conv := []conversation{first, second}[i]
			if !bytes.Equal(col.plain[Client], conv.sent[Client]) || !bytes.Equal(col.plain[Server], conv.sent[Server]) {
				t.Fatalf("master secret appended before piece %d: connection %d decrypted %d+%d bytes, want %d+%d (%+v)",
					at, i+1, len(col.plain[Client]), len(col.plain[Server]), len(conv.sent[Client]), len(conv.sent[Server]), col.problems)
			}
		}
		if !bytes.HasPrefix(kl.AppendNSS(nil, s2.Info().ClientRandom), []byte("CLIENT_RANDOM ")) {
			t.Fatalf("no secret of the resumed connection to copy")
		}
	}
}

// TestFollowedForcedLook checks that the last looks before giving up (a
// hole in the capture, Close) read the followed file whatever the rate
// limit, and decrypt what was held.
func TestFollowedForcedLook(t *testing.T) {
	var klBuf bytes.Buffer
	cfg := func() *tls.Config { return &tls.Config{MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13} }
	conv := runGoTLS(t, cfg(), cfg(), &klBuf)
	for _, gap := range []bool{false, true} {
		kl, appendLog := followedLog(t)
		kl.Refresh()         // the reading the rate limit counts from
		kl.every = time.Hour // no other reading but forced ones
		col := &collector{}
		s := NewSession(kl, col)
		n := len(conv.pieces)
		for _, p := range conv.pieces[:n-1] {
			s.Feed(p.dir, p.data)
		}
		appendLog(klBuf.String())
		if gap {
			last := conv.pieces[n-1]
			s.Gap(last.dir, uint64(len(last.data)))
		} else {
			s.Feed(conv.pieces[n-1].dir, conv.pieces[n-1].data)
		}
		s.Close()
		if len(col.plain[Client]) == 0 || len(col.plain[Server]) == 0 || col.count(ProblemNoKey) != 0 {
			t.Errorf("gap %v: decrypted %d+%d bytes, problems %+v", gap, len(col.plain[Client]), len(col.plain[Server]), col.problems)
		}
	}
}

// TestFollowBigFile checks that a followed key log longer than one reading
// (a browser's SSLKEYLOGFILE after weeks) is read to its end, a reading at
// a time.
func TestFollowBigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.log")
	filler := []byte("# " + strings.Repeat("x", 1000) + "\n")
	big := bytes.Repeat(filler, maxRefresh/len(filler)+100)
	cr := strings.Repeat("cd", 32)
	big = append(big, "CLIENT_RANDOM "+cr+" "+strings.Repeat("ab", 48)+"\n"...)
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	kl := NewKeyLog()
	if err := kl.Follow(path); err != nil {
		t.Fatal(err)
	}
	var r [32]byte
	for i := range r {
		r[i] = 0xcd
	}
	for range 3 {
		if _, ok := kl.Lookup(r); ok {
			return
		}
		kl.refresh(true)
	}
	t.Fatalf("the line after the first %d bytes of a followed file was never read", maxRefresh)
}
