package tlsdecrypt

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func TestKeyLogParse(t *testing.T) {
	cr := strings.Repeat("ab", 32)
	s32 := strings.Repeat("11", 32)
	s48 := strings.Repeat("22", 48)
	tests := []struct {
		name    string
		text    string
		errLine string // "" = no error
		entries int
	}{
		{"empty", "", "", 0},
		{"comments and blanks", "# a comment\n\n   \n# CLIENT_RANDOM x y\n", "", 0},
		{"all labels", strings.Join([]string{
			"CLIENT_RANDOM " + cr + " " + s48,
			"CLIENT_EARLY_TRAFFIC_SECRET " + cr + " " + s32,
			"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + s32,
			"SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + s48,
			"CLIENT_TRAFFIC_SECRET_0 " + cr + " " + s32,
			"SERVER_TRAFFIC_SECRET_0 " + cr + " " + s32,
			"EXPORTER_SECRET " + cr + " " + s32,
			"EARLY_EXPORTER_SECRET " + cr + " " + s32,
		}, "\r\n"), "", 1},
		{"unknown labels ignored", "RSA 0011223344556677 " + s48 + "\nFUTURE_LABEL whatever\nCLIENT_RANDOM " + strings.Repeat("cd", 32) + " " + s48, "", 1},
		{"bad hex", "# ok\nCLIENT_RANDOM " + strings.Repeat("zz", 32) + " " + s48, "line 2", 0},
		{"short random", "CLIENT_RANDOM abcd " + s48, "line 1", 0},
		{"missing field", "\n\nCLIENT_TRAFFIC_SECRET_0 " + cr, "line 3", 0},
		{"master wrong size", "CLIENT_RANDOM " + cr + " " + s32, "line 1", 0},
		{"odd secret", "SERVER_TRAFFIC_SECRET_0 " + cr + " " + s32 + "1", "line 1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kl := NewKeyLog()
			err := kl.AddBytes([]byte(tt.text), "f.keylog")
			if tt.errLine == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if kl.Len() != tt.entries {
					t.Fatalf("%d entries, want %d", kl.Len(), tt.entries)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errLine+":") || !strings.Contains(err.Error(), "f.keylog") {
				t.Fatalf("error %v, want one naming f.keylog %s", err, tt.errLine)
			}
		})
	}
	// Merging: secrets of one connection from two sources.
	kl := NewKeyLog()
	if err := kl.AddBytes([]byte("CLIENT_HANDSHAKE_TRAFFIC_SECRET "+cr+" "+s32), "a"); err != nil {
		t.Fatal(err)
	}
	if err := kl.AddBytes([]byte("SERVER_TRAFFIC_SECRET_0 "+cr+" "+s48), "b"); err != nil {
		t.Fatal(err)
	}
	var r [32]byte
	for i := range r {
		r[i] = 0xab
	}
	sec, ok := kl.Lookup(r)
	if !ok || len(sec.ClientHandshake) != 32 || len(sec.ServerTraffic0) != 48 {
		t.Fatalf("merged secrets %+v %v", sec, ok)
	}
}

// tls13Conv records a TLS 1.3 conversation and its key log.
func tls13Conv(t *testing.T) (conversation, []byte) {
	var kl bytes.Buffer
	conv := runGoTLS(t, &tls.Config{MinVersion: tls.VersionTLS13}, &tls.Config{NextProtos: []string{"http/1.1"}}, &kl)
	return conv, kl.Bytes()
}

func TestHelloRetryRequest(t *testing.T) {
	var kl bytes.Buffer
	srv := &tls.Config{CurvePreferences: []tls.CurveID{tls.CurveP256}}
	cli := &tls.Config{CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP256}}
	conv := runGoTLS(t, srv, cli, &kl)
	col, s := decode(keyLogOf(t, kl.Bytes()), conv.pieces, 0)
	checkConv(t, col, s, conv)
	if !s.Info().HelloRetry {
		t.Error("HelloRetryRequest not noticed")
	}
}

func TestResumption(t *testing.T) {
	for _, ver := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(VersionName(ver), func(t *testing.T) {
			var buf bytes.Buffer
			cache := tls.NewLRUClientSessionCache(4)
			srv := &tls.Config{MaxVersion: ver}
			first := runGoTLS(t, srv, &tls.Config{MaxVersion: ver, ClientSessionCache: cache}, &buf)
			second := runGoTLS(t, srv, &tls.Config{MaxVersion: ver, ClientSessionCache: cache}, &buf)
			if !second.state.DidResume {
				t.Fatal("second connection did not resume")
			}
			kl := keyLogOf(t, buf.Bytes())
			col, s := decode(kl, first.pieces, 0)
			checkConv(t, col, s, first)
			col, s = decode(kl, second.pieces, 0)
			checkConv(t, col, s, second)
			if !s.Info().Resumed {
				t.Error("resumption not noticed")
			}
		})
	}
}

func TestNoKey(t *testing.T) {
	conv, _ := tls13Conv(t)
	for _, kl := range []*KeyLog{nil, keyLogOf(t, []byte("CLIENT_RANDOM "+strings.Repeat("00", 32)+" "+strings.Repeat("11", 48)))} {
		col, s := decode(kl, conv.pieces, 0)
		if len(col.plain[0])+len(col.plain[1]) != 0 {
			t.Fatal("plaintext without a key")
		}
		if col.count(ProblemNoKey) != 1 || s.Info().Decrypted || s.Info().Reason == "" {
			t.Fatalf("problems %+v info %+v", col.problems, s.Info())
		}
		if s.Info().SNI != "wss.test" || s.Info().Version != tls.VersionTLS13 {
			t.Fatalf("handshake not read: %+v", s.Info())
		}
		if s.Bytes(Client) == 0 || s.Bytes(Server) == 0 {
			t.Fatal("bytes not counted")
		}
	}
	_, s := decode(keyLogOf(t, []byte("CLIENT_RANDOM "+strings.Repeat("00", 32)+" "+strings.Repeat("11", 48))), conv.pieces, 0)
	if !strings.HasPrefix(s.Info().Reason, "no key for client random ") {
		t.Fatalf("reason %q", s.Info().Reason)
	}
}

func TestWrongKey(t *testing.T) {
	for _, ver := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		var buf bytes.Buffer
		conv := runGoTLS(t, &tls.Config{MaxVersion: ver}, &tls.Config{}, &buf)
		// Flip one hex digit of every secret.
		var out []string
		for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
			f := strings.Fields(l)
			c := f[2][0]
			if c == '0' {
				c = '1'
			} else {
				c = '0'
			}
			out = append(out, f[0]+" "+f[1]+" "+string(c)+f[2][1:])
		}
		col, s := decode(keyLogOf(t, []byte(strings.Join(out, "\n"))), conv.pieces, 0)
		if len(col.plain[0])+len(col.plain[1]) != 0 {
			t.Fatalf("%s: plaintext with a wrong key", VersionName(ver))
		}
		if col.count(ProblemDecrypt) == 0 || s.Info().Reason == "" {
			t.Fatalf("%s: problems %+v info %+v", VersionName(ver), col.problems, s.Info())
		}
		for _, p := range col.problems {
			if p.Kind == ProblemDecrypt && p.Offset < 0 {
				t.Fatalf("decrypt problem without offset: %+v", p)
			}
		}
	}
}

func TestCorruptRecord(t *testing.T) {
	conv, kl := tls13Conv(t)
	// Flip a byte in the middle of the big client message's records.
	var pieces []piece
	flipped := false
	for _, p := range conv.pieces {
		d := bytes.Clone(p.data)
		if !flipped && p.dir == Client && len(d) > 5000 {
			d[2500] ^= 0x55
			flipped = true
		}
		pieces = append(pieces, piece{p.dir, d})
	}
	if !flipped {
		t.Fatal("no big client write")
	}
	col, _ := decode(keyLogOf(t, kl), pieces, 0)
	if col.count(ProblemDecrypt) != 1 {
		t.Fatalf("problems %+v", col.problems)
	}
	// The bad record (at most 16 KiB) is missing, nothing else.
	got, want := col.plain[Client], conv.sent[Client]
	if lost := len(want) - len(got); lost <= 0 || lost > 1<<14 {
		t.Fatalf("lost %d bytes", lost)
	}
	if !bytes.HasPrefix(want, got[:100]) || !bytes.HasSuffix(want, got[len(got)-5000:]) {
		t.Fatal("plaintext around the corrupt record differs")
	}
	if !bytes.Equal(col.plain[Server], conv.sent[Server]) {
		t.Fatal("server direction damaged")
	}
}

func TestTruncatedAndGap(t *testing.T) {
	conv, kl := tls13Conv(t)
	// Truncated: drop the last 10 bytes of the client's big write and
	// everything after it in that direction.
	var trunc []piece
	for _, p := range conv.pieces {
		trunc = append(trunc, p)
		if p.dir == Client && len(p.data) > 5000 {
			trunc[len(trunc)-1].data = p.data[:len(p.data)-10]
			break
		}
	}
	col, _ := decode(keyLogOf(t, kl), trunc, 0)
	if col.count(ProblemMalformed) != 1 {
		t.Fatalf("truncated: problems %+v", col.problems)
	}
	if !bytes.HasPrefix(conv.sent[Client], col.plain[Client]) {
		t.Fatal("truncated: invented plaintext")
	}

	// Gap inside a record: 3000 bytes starting at offset 5000 of the big
	// client write go missing.
	col = &collector{}
	s := NewSession(keyLogOf(t, kl), col)
	gapped := false
	for _, p := range conv.pieces {
		if p.dir == Client && len(p.data) > 5000 && !gapped {
			gapped = true
			s.Feed(p.dir, p.data[:1000])
			s.Gap(p.dir, 2000)
			s.Feed(p.dir, p.data[3000:])
			continue
		}
		s.Feed(p.dir, p.data)
	}
	s.Close()
	if col.count(ProblemResync) != 1 || col.count(ProblemDecrypt) != 0 {
		t.Fatalf("gap: problems %+v", col.problems)
	}
	got, want := col.plain[Client], conv.sent[Client]
	if lost := len(want) - len(got); lost < 2000 || lost > 3*(1<<14) {
		t.Fatalf("gap: lost %d bytes", lost)
	}
	if !bytes.HasSuffix(want, got[len(got)-5000:]) {
		t.Fatal("gap: plaintext after the resync differs")
	}
	if !bytes.Equal(col.plain[Server], conv.sent[Server]) {
		t.Fatal("gap: server direction damaged")
	}
}

func TestNotTLS(t *testing.T) {
	col := &collector{}
	s := NewSession(NewKeyLog(), col)
	s.Feed(Client, []byte("GET / HTTP/1.1\r\n\r\n"))
	s.Feed(Server, bytes.Repeat([]byte{0xff}, 100))
	s.Close()
	if len(col.plain[0])+len(col.plain[1]) != 0 || col.count(ProblemMalformed) == 0 {
		t.Fatalf("problems %+v", col.problems)
	}
}

func TestLooksLikeClientHello(t *testing.T) {
	tests := []struct {
		b            []byte
		yes, decided bool
	}{
		{nil, false, false},
		{[]byte{22}, false, false},
		{[]byte{22, 3, 1, 0, 100}, false, false},
		{[]byte{22, 3, 1, 0, 100, 1}, true, true},
		{[]byte{22, 3, 1, 0, 100, 2}, false, true},
		{[]byte("GET / HTTP/1.1"), false, true},
		{[]byte{22, 4}, false, true},
	}
	for _, tt := range tests {
		yes, dec := LooksLikeClientHello(tt.b)
		if yes != tt.yes || dec != tt.decided {
			t.Errorf("% x: %v %v, want %v %v", tt.b, yes, dec, tt.yes, tt.decided)
		}
	}
}

// TestNoServerHello: client records held for a ServerHello that never came
// are not reported as a cut record; the reason says what is missing.
func TestNoServerHello(t *testing.T) {
	conv, kl := tls13Conv(t)
	var client []piece
	for _, p := range conv.pieces {
		if p.dir == Client {
			client = append(client, p)
		}
	}
	col, s := decode(keyLogOf(t, kl), client, 0)
	if len(col.problems) != 0 || len(col.plain[Client]) != 0 {
		t.Fatalf("problems %+v", col.problems)
	}
	if s.Info().Reason != "no ServerHello in the capture" || s.Info().SNI != "wss.test" {
		t.Fatalf("info %+v", s.Info())
	}
}

// TestKeyLogConcurrentAdd adds secrets while other goroutines look them up
// (RunParallel's reader adds a capture's Decryption Secrets Blocks while its
// workers decrypt); run with -race. A looked-up Secrets never changes.
func TestKeyLogConcurrentAdd(t *testing.T) {
	kl := NewKeyLog()
	var cr [32]byte
	line := func(label string, b byte) []byte {
		return []byte(label + " " + strings.Repeat("00", 32) + " " + strings.Repeat(fmt.Sprintf("%02x", b), 32) + "\n")
	}
	if err := kl.AddBytes(line("CLIENT_TRAFFIC_SECRET_0", 1), "first"); err != nil {
		t.Fatal(err)
	}
	first, _ := kl.Lookup(cr)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if s, ok := kl.Lookup(cr); !ok || s.ClientTraffic0 == nil {
					t.Error("lookup lost the secret")
					return
				}
				_ = kl.Len()
			}
		}()
	}
	for i := range 200 {
		if err := kl.AddBytes(line("SERVER_TRAFFIC_SECRET_0", byte(i)), "more"); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if first.ServerTraffic0 != nil {
		t.Error("a looked-up Secrets changed")
	}
	if s, _ := kl.Lookup(cr); s.ServerTraffic0[0] != 199 || s.ClientTraffic0[0] != 1 {
		t.Errorf("final secrets %+v", s)
	}
}
