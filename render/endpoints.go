package render

import (
	"net/netip"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/communityid"
)

// endpointSlots is the number of connections whose endpoint text a Renderer
// remembers (by stream number, so consecutive streams never collide);
// records of many interleaved connections then format their addresses once.
// With 16, a capture of 80 concurrent connections re-formatted the
// addresses and hashed the Community ID for nearly every record (15% of a
// summary's CPU).
const endpointSlots = 256

// maxEndpointText is the longest endpoint text that is remembered: an IPv6
// address with port is at most 47 bytes, which leaves room for a short zone.
const maxEndpointText = 64

// endpoints is the remembered text of one connection's endpoints.
type endpoints struct {
	ok             bool
	client, server netip.AddrPort
	clientLen      uint8
	serverLen      uint8
	clientText     [maxEndpointText]byte
	serverText     [maxEndpointText]byte
	cidDone        bool // cid was computed (only NDJSON shows it)
	cidLen         uint8
	cid            [communityIDLen]byte // Community ID v1 of the connection
}

// communityIDLen is the length of a Community ID v1 string ("1:" and 28
// base64 characters).
const communityIDLen = 30

// communityID returns the connection's Community ID, computed on first use.
func (e *endpoints) communityID() []byte {
	if !e.cidDone {
		e.cidLen = uint8(len(communityid.AppendV1(e.cid[:0], e.client, e.server, communityid.ProtoTCP, 0)))
		e.cidDone = true
	}
	return e.cid[:e.cidLen]
}

// clientBytes returns the client's text.
func (e *endpoints) clientBytes() []byte { return e.clientText[:e.clientLen] }

// serverBytes returns the server's text.
func (e *endpoints) serverBytes() []byte { return e.serverText[:e.serverLen] }

// endpointsOf returns the text of c's endpoints and their Community ID as netip.AddrPort.AppendTo
// writes it, formatted once and then reused while the same connection keeps
// its slot. It returns nil when the text would need escaping (in JSON or on
// a terminal) or is too long to keep; the caller then formats it itself.
func (r *Renderer) endpointsOf(c *dissect.Conn) *endpoints {
	e := &r.endpoints[c.Stream%endpointSlots]
	if e.ok && e.client == c.Client && e.server == c.Server {
		return e
	}
	e.ok = false
	cl, okc := plainEndpoint(e.clientText[:0], c.Client)
	sv, oks := plainEndpoint(e.serverText[:0], c.Server)
	if !okc || !oks {
		return nil
	}
	e.client, e.server = c.Client, c.Server
	e.clientLen, e.serverLen = uint8(len(cl)), uint8(len(sv))
	e.cidDone = false
	e.ok = true
	return e
}

// plainEndpoint formats ap into b, which has room for maxEndpointText
// bytes, and reports whether the text fits and needs no escape of any kind.
// Only a zone can make it long or give it odd bytes.
func plainEndpoint(b []byte, ap netip.AddrPort) ([]byte, bool) {
	if len(ap.Addr().Zone()) > maxEndpointText-48 {
		return nil, false
	}
	b = ap.AppendTo(b)
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return nil, false
		}
	}
	return b, true
}
