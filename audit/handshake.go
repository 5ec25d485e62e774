package audit

import (
	"crypto/sha1"
	"encoding/base64"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/wsdissect/wsdissect/dissect"
)

// headerValue returns the first header called name (lower-case).
func headerValue(hs []dissect.Header, name string) (string, bool) {
	for _, h := range hs {
		if h.Name == name {
			return h.Value, true
		}
	}
	return "", false
}

// urlCredentialNames are query parameters that carry credentials.
var urlCredentialNames = map[string]bool{
	"token": true, "access_token": true, "accesstoken": true, "id_token": true, "auth": true,
	"auth_token": true, "authtoken": true, "authorization": true, "jwt": true, "key": true,
	"apikey": true, "api_key": true, "api-key": true, "session": true, "sessionid": true,
	"session_id": true, "sid": true, "sig": true, "signature": true, "secret": true,
	"password": true, "passwd": true, "pwd": true, "ticket": true, "bearer": true,
	"x-amz-signature": true, "x-amz-security-token": true,
}

// urlCredentials returns the credential parameters of a request target's
// query, redacted, as "name=v…e".
func urlCredentials(target string) []string {
	_, q, ok := strings.Cut(target, "?")
	if !ok {
		return nil
	}
	if i := strings.IndexByte(q, '#'); i >= 0 {
		q = q[:i]
	}
	var out []string
	for part := range strings.SplitSeq(q, "&") {
		name, val, _ := strings.Cut(part, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		ln := strings.ToLower(name)
		if val == "" || !(urlCredentialNames[ln] || strings.HasSuffix(ln, "_token") || strings.HasSuffix(ln, "-token")) {
			continue
		}
		if v, err := url.QueryUnescape(val); err == nil {
			val = v
		}
		out = append(out, clip(name, 40)+"="+redact(val))
	}
	return out
}

// protocolCredentials returns offered subprotocols that look like
// credentials (a bearer token smuggled in Sec-WebSocket-Protocol, as
// Kubernetes and several frameworks do), redacted.
func protocolCredentials(offered []string) []string {
	var out []string
	for _, p := range offered {
		if looksLikeToken(p) {
			out = append(out, redact(p))
		}
	}
	return out
}

// looksLikeToken reports whether a subprotocol value is a credential: it
// names one (bearer, token, auth, jwt) and is at least 20 characters long,
// or one of its dot-separated parts is an opaque string of at least 20
// token characters mixing letters and digits. Dotted names such as
// v1.kernel.websocket.jupyter.org are not tokens.
func looksLikeToken(p string) bool {
	l := strings.ToLower(p)
	for _, w := range []string{"bearer", "token", "auth", "jwt"} {
		if strings.Contains(l, w) && len(p) >= 20 {
			return true
		}
	}
	for part := range strings.SplitSeq(p, ".") {
		if len(part) >= 20 && opaque(part) {
			return true
		}
	}
	return false
}

// opaque reports whether s is made of base64, base64url or hex characters
// and mixes letters and digits.
func opaque(s string) bool {
	var letters, digits bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			letters = true
		case c >= '0' && c <= '9':
			digits = true
		case strings.IndexByte("-_~+/=", c) >= 0:
		default:
			return false
		}
	}
	return letters && digits
}

// authScheme returns the scheme of an Authorization value, lower-case.
func authScheme(v string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(v), " ")
	return strings.ToLower(s)
}

// ambientScheme reports whether a browser sends this Authorization scheme
// on its own (cached HTTP authentication) rather than a script setting it.
func ambientScheme(s string) bool {
	switch s {
	case "basic", "digest", "negotiate", "ntlm":
		return true
	}
	return false
}

// redactAuth redacts an Authorization value, keeping the scheme.
func redactAuth(v string) string {
	s, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return redact(s)
	}
	return clip(s, 20) + " " + redact(strings.TrimSpace(cred))
}

// redactCookies redacts every cookie value of a Cookie header.
func redactCookies(v string) string {
	var b strings.Builder
	for i, part := range strings.Split(v, ";") {
		if i > 0 {
			b.WriteString("; ")
		}
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			// A cookie without a name: the whole part is the value.
			b.WriteString(redact(name))
		} else {
			b.WriteString(clip(name, 40))
			b.WriteByte('=')
			b.WriteString(redact(val))
		}
		if b.Len() > 200 {
			b.WriteString("; …")
			break
		}
	}
	return b.String()
}

// originRelation is how an Origin relates to the request's Host.
type originRelation uint8

const (
	sameOrigin originRelation = iota
	sameSite
	crossSite
)

// hostPort splits a host[:port] (IPv6 in brackets), lower-casing the host
// and dropping a trailing dot; port is 0 when absent.
func hostPort(s string) (string, int) {
	h, p, err := net.SplitHostPort(s)
	if err != nil {
		h, p = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"), ""
	}
	port, _ := strconv.Atoi(p)
	return strings.TrimSuffix(strings.ToLower(h), "."), port
}

// relateOrigin classifies origin against the request's host. Same origin:
// the host names are equal and so are the ports, where a port left out on
// either side matches any (the scheme is not compared: the page of
// https://example.com opening ws://example.com is the site's own page, and
// whether the socket runs over TLS is often not visible in a capture). Same
// site: equal host names with two different explicit ports, or equal
// registrable domains (public suffix plus one label, e.g. app.example.com
// and chat.example.com). Cross site: everything else, including "null" and
// unparseable origins; IP addresses are only same-site with themselves.
func relateOrigin(origin, host string) originRelation {
	u, err := url.Parse(strings.TrimSpace(origin))
	if err != nil || u.Host == "" || strings.EqualFold(origin, "null") {
		return crossSite
	}
	oh, op := hostPort(u.Host)
	hh, hp := hostPort(host)
	if oh == hh {
		if op == 0 || hp == 0 || op == hp {
			return sameOrigin
		}
		return sameSite
	}
	if _, err := netip.ParseAddr(oh); err == nil {
		return crossSite
	}
	if _, err := netip.ParseAddr(hh); err == nil {
		return crossSite
	}
	od, err1 := publicsuffix.EffectiveTLDPlusOne(oh)
	hd, err2 := publicsuffix.EffectiveTLDPlusOne(hh)
	if err1 == nil && err2 == nil && od == hd {
		return sameSite
	}
	return crossSite
}

// acceptFor computes the Sec-WebSocket-Accept for a key (RFC 6455 4.2.2).
func acceptFor(key string) string {
	h := sha1.Sum([]byte(strings.TrimSpace(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// proxyCredentials reports the credentials a connection's client sent its
// proxy in clear: for every connection record, a TLS connection that was
// not decrypted or one picked up mid-stream included (the tunnel's opening
// is seen even when what runs in it is not).
func (a *Auditor) proxyCredentials(r *dissect.Record) {
	c := r.Conn
	if p := clearCredentials(c.Proxy); p != nil {
		target := p.Target
		if target == "" {
			target = "?"
		}
		// The connection's peer is the outermost proxy; one inside its
		// tunnel is where the tunnel around it leads.
		addr := c.Server.String()
		if p.Outer != nil {
			addr = p.Outer.Target
		}
		ev := "to the " + p.Protocol + " proxy " + addr + " (CONNECT " + target + "): "
		if p.Authorization != "" {
			ev += "Proxy-Authorization: " + redactAuth(p.Authorization)
		} else {
			ev += "user name " + strconv.Quote(p.User) + " and a password of " + strconv.Itoa(len(p.Password)) + " bytes"
		}
		a.report(IDProxyCredentials, High, c, r.Packet, r.Time, ev)
	}
}

// clearCredentials returns the outermost of the nested proxy tunnels p
// whose opening carried credentials in clear: not inside TLS, which a
// tunnel to an HTTPS proxy and every tunnel inside it are; nil when none
// did.
func clearCredentials(p *dissect.ProxyTunnel) *dissect.ProxyTunnel {
	chain := slices.Collect(p.Chain())
	for i := len(chain) - 1; i >= 0; i-- {
		p := chain[i]
		if p.Protocol == "HTTPS" {
			return nil // (to an HTTPS proxy, they crossed the network inside TLS)
		}
		if p.Authorization != "" || p.Password != "" {
			return p
		}
	}
	return nil
}

// handshake runs the handshake checks on a connection record.
func (a *Auditor) handshake(r *dissect.Record) {
	c := r.Conn
	st := a.state(c)
	if c.Midstream {
		return
	}
	if c.Deflate != nil {
		st.takeover[dissect.ClientToServer] = !c.Deflate.ClientNoContextTakeover
		st.takeover[dissect.ServerToClient] = !c.Deflate.ServerNoContextTakeover
	}
	reqPkt, reqTime := c.RequestPacket, c.RequestTime
	if reqPkt == 0 {
		reqPkt, reqTime = r.Packet, r.Time
	}
	// Accepted: 101 over HTTP/1.1, a 2xx answer to the extended CONNECT
	// over HTTP/2 (RFC 8441).
	accepted := c.Upgraded()

	// Handshake rate per client address.
	if ca := c.Client.Addr(); ca.IsValid() {
		rt := a.clients[ca]
		if rt == nil {
			if len(a.clients) >= maxClients {
				clear(a.clients)
			}
			rt = &rate{}
			a.clients[ca] = rt
		}
		if over, _ := rt.hit(reqTime, a.cfg.MaxHandshakes); over {
			a.report(IDHandshakeFlood, Low, c, reqPkt, reqTime,
				"more than "+fmtUint(uint64(a.cfg.MaxHandshakes))+" upgrade requests from "+ca.String()+" within one second")
		}
	}

	cookie, hasCookie := headerValue(c.RequestHeaders, "cookie")
	authz, hasAuth := headerValue(c.RequestHeaders, "authorization")
	scheme := authScheme(authz)
	ambient := hasCookie || hasAuth && ambientScheme(scheme)
	urlCreds := urlCredentials(c.Path)
	protoCreds := protocolCredentials(c.SubprotocolsOffered)

	var creds []string
	if hasCookie {
		creds = append(creds, "Cookie: "+redactCookies(cookie))
	}
	if hasAuth {
		creds = append(creds, "Authorization: "+redactAuth(authz))
	}

	// Credentials in the clear.
	if !st.tls {
		var ev []string
		ev = append(ev, creds...)
		if len(urlCreds) > 0 {
			ev = append(ev, "URL query "+strings.Join(urlCreds, "&"))
		}
		if len(protoCreds) > 0 {
			ev = append(ev, "Sec-WebSocket-Protocol: "+strings.Join(protoCreds, ", "))
		}
		if len(ev) > 0 {
			a.report(IDCleartextCredentials, High, c, reqPkt, reqTime, "ws:// (no TLS); "+strings.Join(ev, "; "))
		}
	}
	if len(urlCreds) > 0 {
		a.report(IDTokenInURL, Medium, c, reqPkt, reqTime, "GET "+clip(pathOnly(c.Path), 80)+"?"+strings.Join(urlCreds, "&"))
	}

	// Origin: cross-site WebSocket hijacking.
	origin, hasOrigin := headerValue(c.RequestHeaders, "origin")
	rel := sameOrigin
	if hasOrigin {
		rel = relateOrigin(origin, c.Host)
	}
	status := "answered " + strconv.Itoa(c.Status)
	if accepted && !c.HTTP2 {
		status = "answered 101 Switching Protocols"
	}
	originEv := "Origin: " + clip(origin, 100) + ", Host: " + clip(c.Host, 100)
	if ambient && len(urlCreds) == 0 && len(protoCreds) == 0 && accepted {
		credEv := strings.Join(creds, "; ")
		switch {
		case !hasOrigin:
			a.report(IDCSWSHNoOrigin, Medium, c, r.Packet, r.Time, "no Origin header, "+credEv+"; "+status)
		case rel == crossSite:
			a.report(IDCSWSH, High, c, r.Packet, r.Time, originEv+"; "+credEv+"; "+status)
		case rel == sameSite:
			a.report(IDCSWSHSameSite, Low, c, r.Packet, r.Time, originEv+"; "+credEv+"; "+status)
		}
	}
	if hasOrigin && rel != sameOrigin && c.Status >= 400 && c.Status < 500 {
		if c.Reason != "" {
			status += " " + clip(c.Reason, 40)
		}
		a.report(IDOriginChecked, Info, c, r.Packet, r.Time, originEv+"; "+status)
	}

	// CORS-style reflection of a foreign Origin.
	if acao, ok := headerValue(c.ResponseHeaders, "access-control-allow-origin"); ok && hasOrigin && rel != sameOrigin &&
		strings.EqualFold(strings.TrimSpace(acao), strings.TrimSpace(origin)) {
		acac, _ := headerValue(c.ResponseHeaders, "access-control-allow-credentials")
		sev := Low
		ev := originEv + "; Access-Control-Allow-Origin: " + clip(acao, 100)
		if strings.EqualFold(strings.TrimSpace(acac), "true") {
			sev = High
			ev += "; Access-Control-Allow-Credentials: true"
		}
		a.report(IDCORSOriginReflected, sev, c, r.Packet, r.Time, ev)
	}

	if !accepted {
		return
	}
	if c.Subprotocol != "" && !containsFold(c.SubprotocolsOffered, c.Subprotocol, false) {
		a.report(IDSubprotocolNotOffered, Medium, c, r.Packet, r.Time,
			"selected "+clip(c.Subprotocol, 60)+", offered ["+clip(strings.Join(c.SubprotocolsOffered, ", "), 120)+"]")
	}
	var offered []string
	for _, e := range c.ExtensionsOffered {
		offered = append(offered, extName(e))
	}
	for _, e := range c.Extensions {
		if n := extName(e); !containsFold(offered, n, true) {
			a.report(IDExtensionNotOffered, Medium, c, r.Packet, r.Time,
				"selected "+clip(e, 80)+", offered ["+clip(strings.Join(c.ExtensionsOffered, ", "), 120)+"]")
			break
		}
	}
	if v := strings.TrimSpace(c.Version); v != "13" {
		if v == "" {
			v = "(none)"
		}
		a.report(IDVersionNot13, Low, c, reqPkt, reqTime, "Sec-WebSocket-Version: "+clip(v, 20)+"; "+status)
	}
	// Over HTTP/2 there is no Sec-WebSocket-Key or -Accept (RFC 8441
	// section 5).
	if !c.AcceptValid && !c.HTTP2 {
		st.badAccept = true
		if c.Accept == "" {
			st.acceptEvid = "101 without Sec-WebSocket-Accept"
		} else {
			st.acceptEvid = "Sec-WebSocket-Accept: " + clip(c.Accept, 40) + ", expected " + acceptFor(c.Key)
		}
	}
}

// extName returns an extension item's token, lower-case.
func extName(e string) string {
	n, _, _ := strings.Cut(e, ";")
	return strings.ToLower(strings.TrimSpace(n))
}

// containsFold reports whether list holds s (case-insensitively when fold).
func containsFold(list []string, s string, fold bool) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s || fold && strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// pathOnly returns a request target without its query.
func pathOnly(t string) string {
	p, _, _ := strings.Cut(t, "?")
	return p
}
