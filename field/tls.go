package field

import "github.com/wsdissect/wsdissect/dissect"

// tlsGetter adapts a getter of the TLS description; every TLS field is
// absent on connections without TLS.
func tlsGetter(g func(t *dissect.TLS) (Value, bool)) Getter {
	return func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
		if r.Conn == nil || r.Conn.TLS == nil {
			return Value{}, false
		}
		return g(r.Conn.TLS)
	}
}

// TLS returns the fields of the TLS layer (wss://).
func TLS() []Field {
	const layer = "tls"
	return []Field{
		{Name: "tls", Type: Protocol, Layer: layer,
			Description: "present on the records of a connection that runs over TLS (wss://)",
			Get:         tlsGetter(func(*dissect.TLS) (Value, bool) { return Value{}, true })},
		{Name: "tls.sni", Aliases: []string{"tls.handshake.extensions_server_name"}, Type: String, Layer: layer,
			Description: "server name (SNI) of the TLS ClientHello",
			Get:         tlsGetter(func(t *dissect.TLS) (Value, bool) { return StrValue(t.SNI) })},
		{Name: "tls.version", Type: String, Layer: layer,
			Description: `negotiated TLS version: "TLS 1.2", "TLS 1.3"`,
			Get:         tlsGetter(func(t *dissect.TLS) (Value, bool) { return StrValue(t.Version) })},
		{Name: "tls.cipher", Type: String, Layer: layer,
			Description: "negotiated cipher suite, IANA name (TLS_AES_128_GCM_SHA256)",
			Get:         tlsGetter(func(t *dissect.TLS) (Value, bool) { return StrValue(t.Cipher) })},
		{Name: "tls.alpn", Aliases: []string{"tls.handshake.extensions_alpn_str"}, Type: String, Layer: layer,
			Description: "negotiated ALPN protocol (http/1.1, h2); absent when none or not decrypted (TLS 1.3)",
			Get:         tlsGetter(func(t *dissect.TLS) (Value, bool) { return StrValue(t.ALPN) })},
		{Name: "tls.decrypted", Type: Bool, Layer: layer,
			Description: "the TLS connection was decrypted (a key log had its secrets)",
			Get:         tlsGetter(func(t *dissect.TLS) (Value, bool) { return BoolValue(t.Decrypted) })},
	}
}
