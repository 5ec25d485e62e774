package h2cap

import (
	"fmt"

	"golang.org/x/net/http2"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// auditConnect returns the fields of an extended CONNECT to path on
// h2c.example with the extra fields kv (origin, cookie, subprotocols).
func auditConnect(path string, kv ...string) []string {
	f := []string{":method", "CONNECT", ":protocol", "websocket", ":scheme", "http",
		":authority", "h2c.example", ":path", path, "sec-websocket-version", "13", "user-agent", "hand-built"}
	return append(f, kv...)
}

// buildAuditH2 builds audit-h2: the weaknesses of the security audit's
// handshake checks on WebSocket sessions over HTTP/2 (RFC 8441), where a
// session is accepted with a 200 response instead of 101. Stream 1: a
// foreign Origin accepted with a cookie (cross-site WebSocket hijacking);
// stream 3: no Origin, accepted with a cookie; stream 5: a foreign Origin
// refused with 403 (the Origin is checked); stream 7: same origin without
// credentials, but the server selects a subprotocol the client did not
// offer.
func buildAuditH2() (Output, error) {
	h := newHand()
	const cl, sv = capgen.Client, capgen.Server
	h.priorKnowledge()
	const cookie = "session=8f14e45fceea167a5a36dedd4bea2543"
	requests := []struct {
		id     uint32
		fields []string
		status string
		resp   []string
	}{
		{1, auditConnect("/ws/feed", "origin", "https://evil.example", "cookie", cookie), "200", nil},
		{3, auditConnect("/ws/noorigin", "cookie", cookie), "200", nil},
		{5, auditConnect("/ws/checked", "origin", "https://evil.example", "cookie", cookie), "403", nil},
		{7, auditConnect("/ws/proto", "origin", "http://h2c.example", "sec-websocket-protocol", "chat"), "200",
			[]string{"sec-websocket-protocol", "admin"}},
	}
	for _, r := range requests {
		h.fr[cl].WriteHeaders(http2.HeadersFrameParam{StreamID: r.id, EndHeaders: true, BlockFragment: h.block(cl, r.fields...)})
	}
	h.flush(cl)
	for _, r := range requests {
		h.fr[sv].WriteHeaders(http2.HeadersFrameParam{StreamID: r.id, EndHeaders: true, EndStream: r.status != "200",
			BlockFragment: h.block(sv, append([]string{":status", r.status}, r.resp...)...)})
	}
	h.flush(sv)
	// The three accepted sessions (truth conns 0, 1 and 2: streams 1, 3
	// and 7) each carry a message each way and close.
	accepted := []uint32{1, 3, 7}
	for conn, id := range accepted {
		h.fr[cl].WriteData(id, false, h.ws(conn, cl, capgen.OpText, fmt.Appendf(nil, `{"subscribe":"stream %d"}`, id), nil))
	}
	h.flush(cl)
	for conn, id := range accepted {
		h.fr[sv].WriteData(id, false, h.ws(conn, sv, capgen.OpText, fmt.Appendf(nil, `{"ok":true,"stream":%d}`, id), nil))
		h.fr[sv].WriteData(id, false, h.ws(conn, sv, capgen.OpClose, capgen.ClosePayload(1000, ""), nil))
	}
	h.flush(sv)
	for conn, id := range accepted {
		h.fr[cl].WriteData(id, true, h.ws(conn, cl, capgen.OpClose, capgen.ClosePayload(1000, ""), nil))
	}
	h.flush(cl)
	for _, id := range accepted {
		h.fr[sv].WriteData(id, true, nil)
	}
	h.flush(sv)
	return h.output("audit-h2", "10.8.0.6:80",
		"prior-knowledge h2c; extended CONNECTs on streams 1, 3, 5 and 7 sent together, answered together",
		"stream 1 (conn 0): Origin https://evil.example with a cookie, accepted (200): cswsh and cleartext-credentials",
		"stream 3 (conn 1): a cookie and no Origin, accepted: cswsh-no-origin",
		"stream 5: Origin https://evil.example with a cookie, refused with 403: origin-checked",
		"stream 7 (conn 2): same origin, offers subprotocol chat, the server selects admin: subprotocol-not-offered")
}
