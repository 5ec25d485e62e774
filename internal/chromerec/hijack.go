package chromerec

import (
	"bufio"
	"net"
	"net/http"
	"time"
)

// Hijack takes over the HTTP/1.1 connection of a request, for a server that
// answers an Upgrade or a CONNECT itself, with a deadline of d on it. It
// answers 500 when the connection cannot be taken over, and reports false
// then or when hijacking failed; the caller closes the connection.
func Hijack(w http.ResponseWriter, d time.Duration) (net.Conn, *bufio.ReadWriter, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "no hijack", http.StatusInternalServerError)
		return nil, nil, false
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, false
	}
	_ = conn.SetDeadline(time.Now().Add(d))
	return conn, brw, true
}
