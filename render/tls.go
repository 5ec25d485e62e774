package render

import (
	"strconv"
	"strings"

	"github.com/wsdissect/wsdissect/dissect"
)

// appendTLSJSON appends the "tls" object of a connection record.
func appendTLSJSON(b []byte, t *dissect.TLS) []byte {
	b = appendKey(b, "tls")
	b = append(b, '{')
	mark := len(b)
	b = appendOptString(b, "version", t.Version)
	b = appendOptString(b, "cipher", t.Cipher)
	b = appendOptString(b, "sni", t.SNI)
	b = appendOptString(b, "alpn", t.ALPN)
	b = appendOptStrings(b, "alpn_offered", t.ALPNOffered)
	b = appendBoolKey(b, "decrypted", t.Decrypted)
	b = appendOptString(b, "reason", t.Reason)
	if t.ClientBytes != 0 || t.ServerBytes != 0 {
		b = appendKey(b, "client_bytes")
		b = strconv.AppendUint(b, t.ClientBytes, 10)
		b = appendKey(b, "server_bytes")
		b = strconv.AppendUint(b, t.ServerBytes, 10)
	}
	return closeObject(b, mark)
}

// closeObject ends the JSON object whose keys (appended with appendKey, so
// each after a comma) start at b[mark]: the first key loses its comma.
func closeObject(b []byte, mark int) []byte {
	if len(b) > mark && b[mark] == ',' {
		b = append(b[:mark], b[mark+1:]...)
	}
	return append(b, '}')
}

// appendTLSSummary appends a TLS description for a summary line: the whole
// line's tail for a connection that was not dissected, a bracketed note
// otherwise.
func appendTLSSummary(b []byte, c *dissect.Conn) []byte {
	t := c.TLS
	if !c.TLSListing() {
		b = append(b, " ["...)
		mark := len(b)
		b = appendTLSShort(b, t)
		if len(b) > mark {
			b = append(b[:mark], b[mark+1:]...) // no space after the bracket
		}
		return append(b, ']')
	}
	b = append(b, "TLS connection"...)
	b = appendTLSShort(b, t)
	if t.ALPN == "" && len(t.ALPNOffered) > 0 {
		b = append(b, " alpn_offered="...)
		b = appendJoined(b, t.ALPNOffered)
	}
	if t.Decrypted {
		b = append(b, ", decrypted"...)
	} else {
		b = append(b, ", not decrypted"...)
	}
	if t.Reason != "" {
		b = append(b, ": "...)
		b = appendEscaped(b, t.Reason, false, -1)
	}
	b = append(b, " ("...)
	b = strconv.AppendUint(b, t.ClientBytes, 10)
	b = append(b, " bytes c2s, "...)
	b = strconv.AppendUint(b, t.ServerBytes, 10)
	return append(b, " bytes s2c)"...)
}

// appendTLSShort appends " version cipher sni=... alpn=...".
func appendTLSShort(b []byte, t *dissect.TLS) []byte {
	for _, kv := range [...]struct{ k, v string }{{"", t.Version}, {"", t.Cipher}, {"sni=", t.SNI}, {"alpn=", t.ALPN}} {
		if kv.v == "" {
			continue
		}
		b = append(b, ' ')
		b = append(b, kv.k...)
		b = appendEscaped(b, kv.v, false, -1)
	}
	return b
}

// appendTLSTree appends the TLS layer of a connection's tree.
func appendTLSTree(b []byte, t *dissect.TLS) []byte {
	b = append(b, "Transport Layer Security\n"...)
	for _, kv := range [...]struct{ k, v string }{
		{"Version", t.Version}, {"Cipher Suite", t.Cipher}, {"Server Name", t.SNI},
		{"ALPN Protocol", t.ALPN}, {"ALPN Offered", strings.Join(t.ALPNOffered, ", ")}, {"Not decrypted because", t.Reason},
	} {
		if kv.v == "" {
			continue
		}
		b = append(b, "    "...)
		b = append(b, kv.k...)
		b = append(b, ": "...)
		b = appendEscaped(b, kv.v, false, -1)
		b = append(b, '\n')
	}
	b = append(b, "    [Decrypted: "...)
	b = strconv.AppendBool(b, t.Decrypted)
	b = append(b, "]\n"...)
	if t.ClientBytes != 0 || t.ServerBytes != 0 {
		b = append(b, "    [Bytes: "...)
		b = strconv.AppendUint(b, t.ClientBytes, 10)
		b = append(b, " c2s, "...)
		b = strconv.AppendUint(b, t.ServerBytes, 10)
		b = append(b, " s2c]\n"...)
	}
	return b
}
