package tlsdecrypt

import (
	"bytes"
	"strings"
	"testing"
)

// TestAppendNSS checks that the lines AppendNSS writes for a client random
// read back into the same secrets, that it writes nothing for an unknown
// one, and that a session's labels come in the order TLS stacks log them.
func TestAppendNSS(t *testing.T) {
	cr := func(b byte) string { return strings.Repeat(string("0123456789abcdef"[b%16]), 64) }
	sec := func(n int, b byte) string { return strings.Repeat(string("0123456789abcdef"[b%16]), 2*n) }
	tests := []struct {
		name string
		log  string
		want string // lines for client random 1
	}{
		{"TLS 1.2", "CLIENT_RANDOM " + cr(1) + " " + sec(48, 2) + "\n" + "CLIENT_RANDOM " + cr(3) + " " + sec(48, 4) + "\n",
			"CLIENT_RANDOM " + cr(1) + " " + sec(48, 2) + "\n"},
		{"TLS 1.3, logged out of order", "SERVER_TRAFFIC_SECRET_0 " + cr(1) + " " + sec(32, 5) + "\n" +
			"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr(1) + " " + sec(32, 6) + "\n# comment\n" +
			"CLIENT_TRAFFIC_SECRET_0 " + cr(1) + " " + sec(48, 7) + "\n" +
			"SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr(1) + " " + sec(32, 8) + "\n" +
			"EXPORTER_SECRET " + cr(1) + " " + sec(32, 9) + "\n",
			"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr(1) + " " + sec(32, 6) + "\n" +
				"SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr(1) + " " + sec(32, 8) + "\n" +
				"CLIENT_TRAFFIC_SECRET_0 " + cr(1) + " " + sec(48, 7) + "\n" +
				"SERVER_TRAFFIC_SECRET_0 " + cr(1) + " " + sec(32, 5) + "\n" +
				"EXPORTER_SECRET " + cr(1) + " " + sec(32, 9) + "\n"},
		{"another session's only", "CLIENT_RANDOM " + cr(3) + " " + sec(48, 4) + "\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kl := NewKeyLog()
			if err := kl.AddBytes([]byte(tc.log), "test"); err != nil {
				t.Fatal(err)
			}
			var one [32]byte
			for i := range one {
				one[i] = 0x11
			}
			got := kl.AppendNSS([]byte("x"), one)
			if string(got) != "x"+tc.want {
				t.Fatalf("AppendNSS:\n%s\nwant\n%s", got, tc.want)
			}
			back := NewKeyLog()
			if err := back.AddBytes(got[1:], "back"); err != nil {
				t.Fatal(err)
			}
			a, okA := kl.Lookup(one)
			b, okB := back.Lookup(one)
			if okA != okB || okA && (!bytes.Equal(a.Master, b.Master) || !bytes.Equal(a.ServerTraffic0, b.ServerTraffic0) ||
				!bytes.Equal(a.ClientHandshake, b.ClientHandshake) || !bytes.Equal(a.Exporter, b.Exporter)) {
				t.Errorf("read back %+v, want %+v", b, a)
			}
		})
	}
}
