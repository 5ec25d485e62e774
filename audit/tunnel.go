package audit

import (
	"bytes"
	"strconv"
)

// httpMethods start an HTTP/1.x request line.
var httpMethods = [][]byte{
	[]byte("GET "), []byte("POST "), []byte("PUT "), []byte("HEAD "), []byte("DELETE "),
	[]byte("OPTIONS "), []byte("PATCH "), []byte("CONNECT "),
}

// SniffTunnel is the default Detector: it recognises an SSH banner
// ("SSH-2.0-"), a TLS ClientHello or ServerHello record, an HTTP/1.x request
// or response head, and a SOCKS5 greeting at the start of a message.
func SniffTunnel(p []byte) (proto, excerpt string, ok bool) {
	switch {
	case bytes.HasPrefix(p, []byte("SSH-2.0-")) || bytes.HasPrefix(p, []byte("SSH-1.99-")):
		line := p
		if i := bytes.IndexAny(line, "\r\n"); i >= 0 {
			line = line[:i]
		}
		return "SSH", strconv.Quote(clip(string(line), 60)), true
	case len(p) >= 6 && p[0] == 0x16 && p[1] == 0x03 && p[2] <= 0x04 && (p[5] == 0x01 || p[5] == 0x02):
		kind := "ClientHello"
		if p[5] == 0x02 {
			kind = "ServerHello"
		}
		return "TLS", "handshake record 16 03 " + hex2(p[2]) + ", " + kind, true
	case bytes.HasPrefix(p, []byte("HTTP/1.")):
		return "HTTP", strconv.Quote(firstLine(p)), true
	case len(p) >= 3 && p[0] == 0x05 && int(p[1]) == len(p)-2 && p[1] >= 1 && p[1] <= 8:
		return "SOCKS5", "greeting offering " + strconv.Itoa(int(p[1])) + " auth method(s)", true
	}
	for _, m := range httpMethods {
		if bytes.HasPrefix(p, m) {
			line := firstLine(p)
			if bytes.Contains([]byte(line), []byte(" HTTP/1.")) {
				return "HTTP", strconv.Quote(line), true
			}
		}
	}
	return "", "", false
}

func firstLine(p []byte) string {
	if i := bytes.IndexAny(p, "\r\n"); i >= 0 {
		p = p[:i]
	}
	return clip(string(p), 80)
}

func hex2(b byte) string {
	const h = "0123456789abcdef"
	return string([]byte{h[b>>4], h[b&15]})
}
