package audit

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/dissect"
)

// FuzzChecks feeds arbitrary headers and payloads through the handshake and
// message checks: nothing panics, and evidence stays short and valid UTF-8.
func FuzzChecks(f *testing.F) {
	f.Add("https://evil.example", "chat.example.com", "/ws?token=abcdefgh", "session=0123456789", "Basic dXNlcjpwYXNz", []byte(`{"password":"hunter2hunter2"}`))
	f.Add("null", "[::1]:80", "/?a=%zz&sig=%41", "", "", []byte("SSH-2.0-x\r\n"))
	f.Add("http://\xff", "\xff:99999", "?", ";=;", "Negotiate", []byte("eyJhbGciOi.eyJzdWIiOiJ.\xff"))
	f.Fuzz(func(t *testing.T, origin, host, path, cookie, authz string, payload []byte) {
		a := New(Config{ScanLimit: 256})
		c := &dissect.Conn{
			Host: host, Path: path, Status: 101, Version: "13", Key: "k",
			RequestHeaders: []dissect.Header{
				{Name: "origin", Value: origin}, {Name: "cookie", Value: cookie}, {Name: "authorization", Value: authz},
			},
			ResponseHeaders:     []dissect.Header{{Name: "access-control-allow-origin", Value: origin}},
			SubprotocolsOffered: []string{cookie}, Subprotocol: authz,
			Extensions: []string{path}, Deflate: &dissect.DeflateParams{},
		}
		_ = a.Emit(&dissect.Record{Kind: dissect.KindConn, Conn: c, Packet: 1})
		fr := &dissect.Frame{Dir: dissect.ClientToServer, Fin: true, Opcode: dissect.OpText, MessageOpcode: dissect.OpText,
			Len: uint64(len(payload)) / 3, Payload: payload, Compressed: true}
		_ = a.Emit(&dissect.Record{Kind: dissect.KindFrame, Conn: c, Frame: fr, Packet: 2})
		m := &dissect.Message{Dir: dissect.ServerToClient, Opcode: dissect.OpBinary, Len: uint64(len(payload)), Payload: payload}
		_ = a.Emit(&dissect.Record{Kind: dissect.KindMessage, Conn: c, Message: m, Packet: 3})
		for _, fd := range a.Findings() {
			if len(fd.Evidence) > 2*maxEvidence+8 {
				t.Errorf("%s: evidence of %d bytes", fd.ID, len(fd.Evidence))
			}
			if !utf8.ValidString(fd.Evidence) && utf8.ValidString(origin+host+path+cookie+authz+string(payload)) {
				t.Errorf("%s: evidence not UTF-8: %q", fd.ID, fd.Evidence)
			}
			if len(cookie) > 12 && fd.ID != IDSubprotocolNotOffered && fd.ID != IDExtensionNotOffered &&
				!strings.ContainsAny(cookie, ";=, ") && strings.Contains(fd.Evidence, cookie) {
				t.Errorf("%s: cookie value %q not redacted: %q", fd.ID, cookie, fd.Evidence)
			}
		}
	})
}
