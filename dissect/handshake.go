package dissect

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/wsdissect/wsdissect/http1"
)

// websocketGUID is the fixed GUID of RFC 6455 section 1.3.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptFor computes the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
func AcceptFor(key string) string {
	var buf [acceptLen]byte
	return string(appendAccept(buf[:0], key))
}

// acceptLen is the length of a Sec-WebSocket-Accept value: a SHA-1 sum in
// base64.
const acceptLen = 28

// appendAccept appends the Sec-WebSocket-Accept value for key to b. It does
// not allocate for keys of ordinary length (24 characters).
func appendAccept(b []byte, key string) []byte {
	var in [64]byte
	sum := sha1.Sum(append(append(in[:0], key...), websocketGUID...))
	return base64.StdEncoding.AppendEncode(b, sum[:])
}

// acceptMatches reports whether accept is the Sec-WebSocket-Accept value
// for key, without allocating.
func acceptMatches(key, accept string) bool {
	if len(accept) != acceptLen {
		return false
	}
	var buf [acceptLen]byte
	return string(appendAccept(buf[:0], key)) == accept
}

// validKey reports whether a Sec-WebSocket-Key is 16 bytes in base64, as
// RFC 6455 section 4.1 requires.
func validKey(key string) bool {
	var raw [24]byte
	if len(key) != 24 {
		return false
	}
	n, err := base64.StdEncoding.Decode(raw[:], []byte(key))
	return err == nil && n == 16
}

// isUpgradeRequest reports whether h asks for a WebSocket upgrade.
func isUpgradeRequest(h *http1.Head) bool {
	return h.HasToken("upgrade", "websocket")
}

// fillRequest records the request's handshake fields in c.
func fillRequest(c *Conn, h *http1.Head) {
	c.Method, c.Path = h.Method, h.Target
	c.Host, _ = h.Get("host")
	c.Origin, _ = h.Get("origin")
	if c.Origin == "" {
		c.Origin, _ = h.Get("sec-websocket-origin")
	}
	c.UserAgent, _ = h.Get("user-agent")
	_, c.HasCookie = h.Get("cookie")
	c.Version, _ = h.Get("sec-websocket-version")
	c.Key, _ = h.Get("sec-websocket-key")
	if v, ok := h.Get("sec-websocket-protocol"); ok {
		c.SubprotocolsOffered = http1.SplitList(v)
	}
	if v, ok := h.Get("sec-websocket-extensions"); ok {
		c.ExtensionsOffered = http1.SplitList(v)
	}
	c.RequestHeaders = h.Headers
	c.Request = h.Raw
}

// fillResponse records the response fields in c and returns the handshake
// anomalies (RFC 6455 section 4).
func fillResponse(c *Conn, req, resp *http1.Head) []Anomaly {
	var an []Anomaly
	add := func(id, msg string) { an = append(an, newAnomaly(id, -1, msg)) }
	copyResponse(c, resp)
	if req.Method != "GET" {
		add(AnMethodNotGet, fmt.Sprintf("upgrade request method is %s, not GET", req.Method))
	}
	if !req.HasToken("connection", "upgrade") {
		add(AnConnTokenMissing, "request Connection header lacks the \"Upgrade\" token")
	}
	switch {
	case c.Key == "":
		add(AnKeyMissing, "request has no Sec-WebSocket-Key")
	default:
		if !validKey(c.Key) {
			add(AnKeyInvalid, fmt.Sprintf("Sec-WebSocket-Key %q is not 16 bytes in base64", c.Key))
		}
	}
	if c.Version != "13" {
		v := c.Version
		if v == "" {
			v = "(missing)"
		}
		add(AnVersionNot13, "Sec-WebSocket-Version is "+v+", not 13")
	}
	if resp.Status != 101 {
		add(AnUpgradeRejected, fmt.Sprintf("server answered the upgrade with %d %s", resp.Status, resp.Reason))
		return an
	}
	if !resp.HasToken("upgrade", "websocket") {
		add(AnUpgradeTokenMissing, "101 response lacks \"Upgrade: websocket\"")
	}
	if !resp.HasToken("connection", "upgrade") {
		add(AnConnTokenMissing, "101 response Connection header lacks the \"Upgrade\" token")
	}
	switch {
	case c.Accept == "":
		add(AnAcceptMissing, "101 response has no Sec-WebSocket-Accept")
	case c.Key != "" && acceptMatches(c.Key, c.Accept):
		c.AcceptValid = true
	default:
		want := "(no key)"
		if c.Key != "" {
			want = AcceptFor(c.Key)
		}
		add(AnAcceptMismatch, fmt.Sprintf("Sec-WebSocket-Accept is %q, expected %s", c.Accept, want))
	}
	return append(an, negotiationAnomalies(c)...)
}

// negotiationAnomalies checks what the server selected against what the
// client offered, and parses the deflate parameters into c.Deflate.
func negotiationAnomalies(c *Conn) []Anomaly {
	var an []Anomaly
	add := func(id, msg string) { an = append(an, newAnomaly(id, -1, msg)) }
	if c.Subprotocol != "" {
		offered := false
		for _, p := range c.SubprotocolsOffered {
			if p == c.Subprotocol {
				offered = true
			}
		}
		if !offered {
			add(AnSubprotoNotOffered, fmt.Sprintf("server selected subprotocol %q, which the client did not offer", c.Subprotocol))
		}
	}
	for _, e := range c.Extensions {
		name := extName(e)
		offered := false
		for _, o := range c.ExtensionsOffered {
			if strings.EqualFold(extName(o), name) {
				offered = true
			}
		}
		if !offered {
			add(AnExtensionNotOffered, fmt.Sprintf("server selected extension %q, which the client did not offer", name))
		}
		if c.Deflate == nil {
			if p, problem, ok := parseDeflate(e); ok {
				c.Deflate = p
				if problem != "" {
					add(AnExtensionParams, problem)
				}
			}
		}
	}
	return an
}

// copyResponse records what the response head says in c.
func copyResponse(c *Conn, resp *http1.Head) {
	c.Status, c.Reason = resp.Status, resp.Reason
	c.ResponseHeaders = resp.Headers
	c.Response = resp.Raw
	c.Accept, _ = resp.Get("sec-websocket-accept")
	c.Subprotocol, _ = resp.Get("sec-websocket-protocol")
	if v, ok := resp.Get("sec-websocket-extensions"); ok {
		c.Extensions = http1.SplitList(v)
	}
}

// fillResponseAlone fills c from a 101 response whose request is not in the
// capture: what the response says, and permessage-deflate as it selects it.
func fillResponseAlone(c *Conn, resp *http1.Head) []Anomaly {
	copyResponse(c, resp)
	an := []Anomaly{newAnomaly(AnUpgradeRequestMissing, -1,
		"101 Switching Protocols without its upgrade request in the capture; decoding with what the response negotiated")}
	for _, e := range c.Extensions {
		if p, problem, ok := parseDeflate(e); ok && c.Deflate == nil {
			c.Deflate = p
			if problem != "" {
				an = append(an, newAnomaly(AnExtensionParams, -1, problem))
			}
		}
	}
	return an
}

// extName returns the extension token of an extension list item.
func extName(item string) string {
	name, _, _ := strings.Cut(item, ";")
	return strings.TrimSpace(name)
}

// parseDeflate parses a selected extension item. ok is false when it is not a
// deflate extension; problem describes invalid parameters (defaults are used).
func parseDeflate(item string) (p *DeflateParams, problem string, ok bool) {
	first, params, _ := strings.Cut(item, ";")
	name := strings.ToLower(strings.TrimSpace(first))
	switch name {
	case "permessage-deflate", "x-webkit-deflate-frame", "deflate-frame":
	default:
		return nil, "", false
	}
	p = &DeflateParams{Name: name, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	var problems []string
	for prm := range strings.SplitSeq(params, ";") {
		k, v, hasV := strings.Cut(strings.TrimSpace(prm), "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch k {
		case "server_no_context_takeover":
			p.ServerNoContextTakeover = true
		case "client_no_context_takeover", "no_context_takeover":
			p.ClientNoContextTakeover = true
		case "server_max_window_bits", "client_max_window_bits", "max_window_bits":
			bits := 15
			if hasV {
				n, err := strconv.Atoi(v)
				if err != nil || n < 8 || n > 15 {
					problems = append(problems, fmt.Sprintf("%s=%s is not 8-15", k, v))
				} else {
					bits = n
				}
			} else if k == "server_max_window_bits" {
				problems = append(problems, "server_max_window_bits needs a value in the response")
			}
			if k == "server_max_window_bits" {
				p.ServerMaxWindowBits = bits
			} else {
				p.ClientMaxWindowBits = bits
			}
		case "":
		default:
			problems = append(problems, fmt.Sprintf("unknown parameter %q", k))
		}
	}
	return p, strings.Join(problems, "; "), true
}
