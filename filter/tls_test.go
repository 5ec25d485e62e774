package filter

import (
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

func TestTLSFields(t *testing.T) {
	dec := &dissect.Conn{TLS: &dissect.TLS{Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", SNI: "wss.example", ALPN: "http/1.1", Decrypted: true}}
	undec := &dissect.Conn{TLS: &dissect.TLS{Version: "TLS 1.2", SNI: "other.example", Reason: "no key"}}
	plain := &dissect.Conn{}
	recs := map[string]*dissect.Record{
		"dec":   {Kind: dissect.KindConn, Conn: dec},
		"undec": {Kind: dissect.KindConn, Conn: undec},
		"plain": {Kind: dissect.KindConn, Conn: plain},
	}
	tests := []struct {
		expr string
		want []string // records that match, of dec, undec, plain
	}{
		{"tls", []string{"dec", "undec"}},
		{"!tls", []string{"plain"}},
		{`tls.sni == "wss.example"`, []string{"dec"}},
		{`tls.handshake.extensions_server_name contains "example"`, []string{"dec", "undec"}},
		{`tls.version == "TLS 1.2"`, []string{"undec"}},
		{`tls.cipher == "TLS_AES_128_GCM_SHA256"`, []string{"dec"}},
		{`tls.alpn == "http/1.1"`, []string{"dec"}},
		{`tls.handshake.extensions_alpn_str`, []string{"dec"}},
		{"tls.decrypted", []string{"dec"}},
		{"tls && !tls.decrypted", []string{"undec"}},
	}
	for _, tt := range tests {
		f, err := Compile(tt.expr)
		if err != nil {
			t.Fatalf("%s: %v", tt.expr, err)
		}
		for _, name := range []string{"dec", "undec", "plain"} {
			want := false
			for _, w := range tt.want {
				want = want || w == name
			}
			if got := f.Match(recs[name]); got != want {
				t.Errorf("%s on %s: %v, want %v", tt.expr, name, got, want)
			}
		}
	}
}
