package tunnel

import (
	"crypto/tls"
	"encoding/base64"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/subproto/app"
)

// clientHello returns the first bytes crypto/tls writes as a client.
func clientHello(t *testing.T, sni string) []byte {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: sni})
		_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		_ = c.Handshake()
	}()
	_ = b.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 4096)
	n, err := b.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n]
}

func TestIdentify(t *testing.T) {
	type msg struct {
		dir app.Dir
		p   []byte
	}
	c2s, s2c := app.ClientToServer, app.ServerToClient
	tests := []struct {
		name string
		b64  bool
		msgs []msg
		want []string
	}{
		{"ssh", false, []msg{{s2c, []byte("SSH-2.0-OpenSSH_9.6\r\n")}, {c2s, []byte("SSH-2.0-Go\r\n\x00\x00")}, {c2s, []byte{1, 2, 3}}}, []string{
			"Tunnel SSH 21 bytes: SSH-2.0-OpenSSH_9.6", "Tunnel SSH 14 bytes: SSH-2.0-Go", "Tunnel SSH 3 bytes"}},
		{"tls", false, []msg{{c2s, clientHello(t, "example.org")}}, []string{"ClientHello, server name example.org"}},
		{"http", false, []msg{{c2s, []byte("GET /x HTTP/1.1\r\nHost: a\r\n\r\n")}, {s2c, []byte("HTTP/1.1 200 OK\r\n\r\n")}}, []string{
			"Tunnel HTTP 28 bytes: GET /x HTTP/1.1", "Tunnel HTTP 19 bytes: HTTP/1.1 200 OK"}},
		{"socks5", false, []msg{{c2s, []byte{5, 1, 0}}, {s2c, []byte{5, 0}}, {c2s, []byte{5, 1, 0, 3, 3, 'a', '.', 'b', 0, 80}}}, []string{
			"Tunnel SOCKS5 3 bytes: greeting, 1 methods", "Tunnel SOCKS5 2 bytes: method 0", "Tunnel SOCKS5 10 bytes"}},
		{"socks4a", false, []msg{{c2s, []byte("\x04\x01\x00\x50\x00\x00\x00\x01u\x00host.test\x00")}}, []string{"Tunnel SOCKS4 20 bytes: CONNECT host.test:80"}},
		{"rfb over websockify base64", true, []msg{{s2c, []byte(base64.StdEncoding.EncodeToString([]byte("RFB 003.008\n")))}, {c2s, []byte("!!")}}, []string{
			"Tunnel VNC (RFB) 12 bytes: RFB 003.008", "Tunnel VNC (RFB) 0 bytes [malformed: text message is not base64]"}},
		{"unknown", false, []msg{{c2s, []byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10")}}, []string{"Tunnel unknown 17 bytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDecoder(tt.b64)
			var got []string
			for _, m := range tt.msgs {
				op := app.Binary
				if tt.b64 {
					op = app.Text
				}
				for _, r := range d.Decode(app.Message{Dir: m.dir, Opcode: op, Payload: m.p}) {
					got = append(got, app.Summary(r))
				}
			}
			if tt.name == "tls" {
				if len(got) != 1 || !strings.HasSuffix(got[0], tt.want[0]) || !strings.HasPrefix(got[0], "Tunnel TLS") {
					t.Errorf("got %q", got)
				}
				return
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
