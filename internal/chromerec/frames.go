package chromerec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// maxFrames bounds the frames parsed from one direction.
const maxFrames = 100000

// Message is one WebSocket message parsed from a logged connection;
// control frames are messages too.
type Message struct {
	// C2S is true for Chromium's messages.
	C2S bool
	// Opcode is the first frame's opcode.
	Opcode uint8
	// Payload is the whole unmasked payload.
	Payload []byte
	// Seq numbers the chunk holding the message's last byte.
	Seq int64
}

// Dir returns "c2s" or "s2c", as in capgen.TruthMessage.
func (m Message) Dir() string {
	if m.C2S {
		return capgen.Client.Dir()
	}
	return capgen.Server.Dir()
}

// ParseFrames parses one direction's WebSocket frames into messages:
// Chromium's (c2s) masked, the server's not, no RSV bit (no extension was
// negotiated). marks give the chunk of each byte of data.
func ParseFrames(data []byte, marks []Mark, c2s bool) ([]Message, error) {
	return parseFrom(data, 0, marks, c2s)
}

// parseFrom parses the frames of data[off:]; marks index data.
func parseFrom(data []byte, off int, marks []Mark, c2s bool) ([]Message, error) {
	var msgs []Message
	var cur *Message
	for n := 0; off < len(data); n++ {
		if n >= maxFrames {
			return nil, fmt.Errorf("more than %d frames", maxFrames)
		}
		f, err := nextFrame(data, off, c2s)
		if err != nil {
			return nil, fmt.Errorf("frame at %d: %w", off, err)
		}
		seq := SeqAt(marks, f.end-1)
		switch {
		case f.op >= capgen.OpClose:
			msgs = append(msgs, Message{c2s, f.op, f.payload, seq})
		case f.op == capgen.OpContinuation:
			if cur == nil {
				return nil, fmt.Errorf("frame at %d: continuation without a message", off)
			}
			cur.Payload = append(cur.Payload, f.payload...)
		default:
			if cur != nil {
				return nil, fmt.Errorf("frame at %d: new message inside a fragmented one", off)
			}
			cur = &Message{C2S: c2s, Opcode: f.op, Payload: f.payload}
		}
		if f.fin && f.op < capgen.OpClose {
			cur.Seq = seq
			msgs = append(msgs, *cur)
			cur = nil
		}
		off = f.end
	}
	if cur != nil {
		return nil, errors.New("unfinished message")
	}
	return msgs, nil
}

// frame is one decoded WebSocket frame.
type frame struct {
	fin     bool
	op      uint8
	payload []byte // unmasked
	end     int    // offset just past the frame
}

// nextFrame decodes the frame at data[off:], masked if and only if c2s.
func nextFrame(data []byte, off int, c2s bool) (frame, error) {
	if len(data)-off < 2 {
		return frame{}, errors.New("truncated frame header")
	}
	b0, b1 := data[off], data[off+1]
	if rsv := b0 & 0x70; rsv != 0 {
		return frame{}, fmt.Errorf("RSV bits %#x set", rsv)
	}
	masked := b1&0x80 != 0
	if masked != c2s {
		return frame{}, fmt.Errorf("masked=%v in direction c2s=%v", masked, c2s)
	}
	n, p, err := payloadLen(data, off+2, b1&0x7f)
	if err != nil {
		return frame{}, err
	}
	var key []byte
	if masked {
		if len(data) < p+4 {
			return frame{}, errors.New("truncated mask")
		}
		key, p = data[p:p+4], p+4
	}
	if n > uint64(len(data)-p) {
		return frame{}, fmt.Errorf("cut at end (%d of %d bytes)", len(data)-p, n)
	}
	pl := bytes.Clone(data[p : p+int(n)])
	if masked {
		for i := range pl {
			pl[i] ^= key[i%4]
		}
	}
	return frame{fin: b0&0x80 != 0, op: b0 & 0x0f, payload: pl, end: p + int(n)}, nil
}

// payloadLen decodes the payload length whose 7-bit code is code and whose
// extended length, if any, starts at data[p:]; it returns the length and
// the offset past it.
func payloadLen(data []byte, p int, code byte) (uint64, int, error) {
	switch code {
	case 126:
		if len(data) < p+2 {
			return 0, 0, errors.New("truncated length")
		}
		return uint64(binary.BigEndian.Uint16(data[p:])), p + 2, nil
	case 127:
		if len(data) < p+8 {
			return 0, 0, errors.New("truncated length")
		}
		return binary.BigEndian.Uint64(data[p:]), p + 8, nil
	}
	return uint64(code), p, nil
}

// HTTP1 is the plaintext of an HTTP/1.1 connection split after the first
// head of each direction: the request and the response.
type HTTP1 struct {
	// Req and Resp are the heads, blank line included.
	Req, Resp string

	data  [2][]byte // [0] c2s, [1] s2c
	marks [2][]Mark
	start [2]int // offsets past the heads
}

// SplitHTTP1 splits a logged HTTP/1.1 connection after its first request
// and response heads.
func SplitHTTP1(p *Plaintext) (*HTTP1, error) {
	h := &HTTP1{}
	for d, c2s := range []bool{true, false} {
		h.data[d], h.marks[d] = p.Direction(c2s)
		i := bytes.Index(h.data[d], []byte("\r\n\r\n"))
		if i < 0 {
			return nil, fmt.Errorf("no end of the HTTP head (c2s=%v)", c2s)
		}
		h.start[d] = i + 4
	}
	h.Req, h.Resp = string(h.data[0][:h.start[0]]), string(h.data[1][:h.start[1]])
	return h, nil
}

// Messages parses the WebSocket frames after the heads (see ParseFrames),
// Chromium's first.
func (h *HTTP1) Messages() ([]Message, error) {
	var msgs []Message
	for d, c2s := range []bool{true, false} {
		m, err := parseFrom(h.data[d], h.start[d], h.marks[d], c2s)
		if err != nil {
			return nil, fmt.Errorf("c2s=%v: %w", c2s, err)
		}
		msgs = append(msgs, m...)
	}
	return msgs, nil
}

// Header returns the value of the first header field named key (any case)
// in an HTTP/1.1 head, or "".
func Header(head, key string) string {
	for line := range strings.SplitSeq(head, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, key) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
