package socketio

import (
	"bytes"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/subproto/app"
)

// RequestInfo is what an Engine.IO request URL says.
type RequestInfo struct {
	// EIO is the protocol version (3 or 4).
	EIO int
	// Transport is "polling" or "websocket".
	Transport string
	// SID is the session id; empty on the first request (the handshake).
	SID string
}

// ParseURL reads an Engine.IO request target such as
// /socket.io/?EIO=4&transport=polling&t=N8hyd6w&sid=abc; ok is false when
// it has no transport parameter. Long-polling requests and the WebSocket
// connection of one session share the SID, which links them.
func ParseURL(target string) (RequestInfo, bool) {
	_, query, _ := strings.Cut(target, "?")
	q, err := url.ParseQuery(query)
	if err != nil && len(q) == 0 {
		return RequestInfo{}, false
	}
	info := RequestInfo{Transport: q.Get("transport"), SID: q.Get("sid")}
	if info.Transport == "" {
		return RequestInfo{}, false
	}
	info.EIO, _ = strconv.Atoi(q.Get("EIO"))
	if info.EIO != 3 {
		info.EIO = 4
	}
	return info, true
}

// DecodePolling decodes the body of a long-polling exchange (a POST
// request's body from the client, a GET response's body from the server):
// the Engine.IO packets it holds, with the Socket.IO packets inside, as
// Decode would from WebSocket messages, attachments included. Engine.IO 4
// separates packets with 0x1e and sends binary ones as "b" + base64;
// Engine.IO 3 prefixes each with its length in UTF-16 code units and a
// colon ("b4" + base64 for binary). The records are valid until the next
// call on the decoder.
func (d *Decoder) DecodePolling(dir app.Dir, body []byte) []app.Record {
	d.out = d.out[:0]
	d.npool = 0
	d.polling = d.polling[:0]
	// decode the binary packets first so that d.polling does not move
	// while records point into it
	type pkt struct {
		text      []byte
		bin       bool
		off, size int
		err       string
	}
	var pkts []pkt
	bad := func(why string, rest []byte) {
		pkts = append(pkts, pkt{text: rest, err: why})
	}
	add := func(p []byte) bool {
		if len(p) > 0 && p[0] == 'b' {
			raw := p[1:]
			off := len(d.polling)
			if d.version == 3 {
				// "b" + packet type digit + base64 of the data; over
				// WebSocket the type travels as the first byte
				if len(raw) == 0 || raw[0] < '0' || raw[0] > '6' {
					return false
				}
				d.polling = append(d.polling, raw[0]-'0')
				raw = raw[1:]
			}
			var err error
			d.polling, err = base64.StdEncoding.AppendDecode(d.polling, raw)
			if err != nil {
				return false
			}
			pkts = append(pkts, pkt{bin: true, off: off, size: len(d.polling) - off})
			return true
		}
		pkts = append(pkts, pkt{text: p})
		return true
	}
	if d.version == 3 {
		for rest := body; len(rest) > 0; {
			c := bytes.IndexByte(rest, ':')
			n, err := strconv.Atoi(string(rest[:max(c, 0)]))
			if c <= 0 || err != nil || n < 0 {
				bad("Engine.IO 3 payload without a packet length", rest)
				break
			}
			rest = rest[c+1:]
			end := utf16Prefix(rest, n)
			if end < 0 {
				bad("Engine.IO 3 packet shorter than its length", rest)
				break
			}
			if !add(rest[:end]) {
				bad("binary packet is not base64", rest[:end])
			}
			rest = rest[end:]
		}
	} else {
		for _, p := range bytes.Split(body, []byte{0x1e}) {
			if !add(p) {
				bad("binary packet is not base64", p)
			}
		}
	}
	for _, p := range pkts {
		if p.err != "" {
			r := d.rec()
			r.EIO = 255
			r.Data = p.text
			r.err = p.err
			d.out = append(d.out, r)
			continue
		}
		if p.bin {
			payload := d.polling[p.off : p.off+p.size : p.off+p.size]
			d.decode(app.Message{Dir: dir, Opcode: app.Binary, Payload: payload})
			continue
		}
		d.decode(app.Message{Dir: dir, Opcode: app.Text, Payload: p.text})
	}
	return d.out
}

// utf16Prefix returns the byte length of the first n UTF-16 code units of
// s, or -1 when s is shorter.
func utf16Prefix(s []byte, n int) int {
	i := 0
	for n > 0 {
		if i >= len(s) {
			return -1
		}
		r, size := utf8.DecodeRune(s[i:])
		if r >= 0x10000 {
			n -= 2
		} else {
			n--
		}
		i += size
	}
	if n < 0 {
		return -1
	}
	return i
}
