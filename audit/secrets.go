package audit

import (
	"bytes"
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxEvidence caps a finding's evidence, in bytes.
const maxEvidence = 400

// redact keeps the first and last character of a secret and says how long it
// was: "a…9 (16 chars)". Secrets of up to 4 characters are fully hidden.
func redact(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 4 {
		return "… (" + strconv.Itoa(n) + " chars)"
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	return printable(first) + "…" + printable(last) + " (" + strconv.Itoa(n) + " chars)"
}

// printable returns r, or '?' for control and invalid characters.
func printable(r rune) string {
	if r < 0x20 || r == 0x7f || r == utf8.RuneError {
		return "?"
	}
	return string(r)
}

// clip shortens s to at most n bytes (on a rune boundary), marking the cut,
// and replaces control characters.
func clip(s string, n int) string {
	cut := false
	if len(s) > n {
		i := n
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s, cut = s[:i], true
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '.'
		}
		return r
	}, s)
	if cut {
		s += "…"
	}
	return s
}

func fmtUint(n uint64) string { return strconv.FormatUint(n, 10) }

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

var (
	reJWT        = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*`)
	reAWSKey     = regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)
	rePrivateKey = regexp.MustCompile(`-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----`)
)

// secretKind numbers the kinds of secret scanSecrets finds (at most 4).
type secretKind uint8

const (
	secretJWT secretKind = iota
	secretAWS
	secretPrivateKey
	secretJSONField
)

// secret is one secret found in a message, described with the secret
// redacted.
type secret struct {
	kind secretKind
	desc string
}

// scanSecrets looks for secrets in a message and returns a short, redacted
// description of the first of each kind found.
func scanSecrets(p []byte) []secret {
	if len(p) < 8 {
		return nil
	}
	var out []secret
	if bytes.Contains(p, []byte("eyJ")) {
		if m := reJWT.Find(p); m != nil {
			out = append(out, secret{secretJWT, "JWT " + describeJWT(string(m))})
		}
	}
	if bytes.Contains(p, []byte("KIA")) || bytes.Contains(p, []byte("SIA")) {
		if m := reAWSKey.Find(p); m != nil {
			out = append(out, secret{secretAWS, "AWS access key id " + redact(string(m))})
		}
	}
	if bytes.Contains(p, []byte("PRIVATE KEY")) {
		if m := rePrivateKey.Find(p); m != nil {
			out = append(out, secret{secretPrivateKey, "private key block " + clip(string(m), 60)})
		}
	}
	if name, val, ok := jsonSecretField(p); ok {
		out = append(out, secret{secretJSONField, `JSON field "` + clip(string(name), 40) + `": "` + redact(string(val)) + `"`})
	}
	return out
}

// placeholder reports whether a secret field's value is a mask or empty
// placeholder rather than a secret ("***", "xxxx", "<redacted>").
func placeholder(v []byte) bool {
	t := bytes.Trim(v, "*xX•.<>-_ ")
	return len(t) == 0 || bytes.EqualFold(t, []byte("redacted")) || bytes.EqualFold(t, []byte("null"))
}

// describeJWT decodes a JWT's header and claims (shortened) and redacts the
// signature.
func describeJWT(tok string) string {
	parts := strings.SplitN(tok, ".", 3)
	dec := func(s string) string {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return "(undecodable)"
		}
		return clip(string(b), 120)
	}
	sig := ""
	if len(parts) == 3 {
		sig = parts[2]
	}
	sigDesc := "(none)"
	if sig != "" {
		sigDesc = redact(sig)
	}
	return "header " + dec(parts[0]) + " claims " + dec(parts[1]) + " signature " + sigDesc
}

// secretKeys are JSON member names that hold secrets, lower-case without
// "_" and "-".
var secretKeys = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "passphrase": true, "secret": true,
	"clientsecret": true, "apikey": true, "token": true, "accesstoken": true, "refreshtoken": true,
	"authtoken": true, "idtoken": true, "sessionid": true, "sessiontoken": true, "sessionkey": true,
	"privatekey": true, "awssecretaccesskey": true, "secretkey": true,
}

// secretKey reports whether a JSON member name is in secretKeys.
func secretKey(name []byte) bool {
	if len(name) < 3 || len(name) > 32 {
		return false
	}
	var buf [32]byte
	n := 0
	for _, c := range name {
		switch {
		case c == '_' || c == '-':
			continue
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return secretKeys[string(buf[:n])]
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonSecretField finds the first JSON member named in secretKeys whose
// value is a string of 1 to 512 bytes that is not a placeholder or a JWT
// (reported as a JWT). It looks at every ':' once, so it is linear in the
// payload.
func jsonSecretField(p []byte) (name, val []byte, ok bool) {
	for i := 0; i < len(p); {
		j := bytes.IndexByte(p[i:], ':')
		if j < 0 {
			return nil, nil, false
		}
		colon := i + j
		i = colon + 1
		k := colon - 1
		for k >= 0 && isJSONSpace(p[k]) {
			k--
		}
		if k < 1 || p[k] != '"' {
			continue
		}
		from := max(0, k-33)
		start := bytes.LastIndexByte(p[from:k], '"')
		if start < 0 {
			continue
		}
		if key := p[from+start+1 : k]; secretKey(key) {
			v := colon + 1
			for v < len(p) && isJSONSpace(p[v]) {
				v++
			}
			if v >= len(p) || p[v] != '"' {
				continue
			}
			end := v + 1
			for end < len(p) && end-v <= 513 && p[end] != '"' {
				if p[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(p) || p[end] != '"' || end == v+1 {
				continue
			}
			value := p[v+1 : end]
			if placeholder(value) || reJWT.Match(value) {
				continue
			}
			return key, value, true
		}
	}
	return nil, nil, false
}
