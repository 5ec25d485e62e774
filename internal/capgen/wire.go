package capgen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// wireMsg is a message found by parsing a recorded byte stream.
type wireMsg struct {
	opcode  uint8
	payload []byte
	span    Range
}

// wireDeflate is the permessage-deflate configuration found in a response.
type wireDeflate struct {
	enabled                  bool
	clientNoCtx, serverNoCtx bool
}

// parseWire splits the two directions' streams into the HTTP handshake and
// WebSocket messages. It is an independent check of recordings and
// hand-built streams: it expects exactly one request and one response and
// well-formed frames.
func parseWire(streams [2][]byte) ([2][]wireMsg, error) {
	var out [2][]wireMsg
	var hdrEnd [2]int
	for s := range streams {
		i := bytes.Index(streams[s], []byte("\r\n\r\n"))
		if i < 0 {
			return out, fmt.Errorf("parse %v stream: no end of HTTP header", Side(s))
		}
		hdrEnd[s] = i + 4
	}
	dfl := parseDeflate(streams[Server][:hdrEnd[Server]])
	for s := range streams {
		inf := &inflater{takeover: !dfl.clientNoCtx}
		if Side(s) == Server {
			inf.takeover = !dfl.serverNoCtx
		}
		msgs, err := parseFrames(streams[s], hdrEnd[s], dfl.enabled, inf)
		if err != nil {
			return out, fmt.Errorf("parse %v stream: %w", Side(s), err)
		}
		out[s] = msgs
	}
	return out, nil
}

// parseDeflate reads the Sec-WebSocket-Extensions header of a response.
func parseDeflate(resp []byte) wireDeflate {
	var d wireDeflate
	for line := range strings.SplitSeq(string(resp), "\r\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "Sec-WebSocket-Extensions") {
			continue
		}
		for p := range strings.SplitSeq(val, ";") {
			switch strings.ToLower(strings.TrimSpace(p)) {
			case "permessage-deflate":
				d.enabled = true
			case "client_no_context_takeover":
				d.clientNoCtx = true
			case "server_no_context_takeover":
				d.serverNoCtx = true
			}
		}
	}
	return d
}

var errTruncatedFrame = errors.New("truncated frame")

// parseFrames parses frames from stream[off:] into messages.
func parseFrames(stream []byte, off int, deflate bool, inf *inflater) ([]wireMsg, error) {
	var msgs []wireMsg
	var cur *wireMsg
	compressed := false
	for off < len(stream) {
		start := off
		b := stream[off:]
		if len(b) < 2 {
			return nil, fmt.Errorf("offset %d: %w", start, errTruncatedFrame)
		}
		fin, rsv1, op := b[0]&0x80 != 0, b[0]&0x40 != 0, b[0]&0x0f
		masked := b[1]&0x80 != 0
		n := uint64(b[1] & 0x7f)
		h := 2
		switch n {
		case 126:
			if len(b) < 4 {
				return nil, fmt.Errorf("offset %d: %w", start, errTruncatedFrame)
			}
			n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return nil, fmt.Errorf("offset %d: %w", start, errTruncatedFrame)
			}
			n, h = binary.BigEndian.Uint64(b[2:]), 10
		}
		var key [4]byte
		if masked {
			if len(b) < h+4 {
				return nil, fmt.Errorf("offset %d: %w", start, errTruncatedFrame)
			}
			copy(key[:], b[h:h+4])
			h += 4
		}
		if uint64(len(b)-h) < n {
			return nil, fmt.Errorf("offset %d: %w", start, errTruncatedFrame)
		}
		p := bytes.Clone(b[h : h+int(n)])
		if masked {
			for i := range p {
				p[i] ^= key[i&3]
			}
		}
		off += h + int(n)
		end := uint64(off)
		switch {
		case op >= 0x8:
			if !fin {
				return nil, fmt.Errorf("offset %d: fragmented control frame", start)
			}
			msgs = append(msgs, wireMsg{opcode: op, payload: p, span: Range{uint64(start), end}})
			continue
		case op == OpContinuation:
			if cur == nil {
				return nil, fmt.Errorf("offset %d: continuation without a message", start)
			}
			cur.payload = append(cur.payload, p...)
			cur.span.End = end
		default:
			if cur != nil {
				return nil, fmt.Errorf("offset %d: new message inside a fragmented one", start)
			}
			if rsv1 && !deflate {
				return nil, fmt.Errorf("offset %d: RSV1 without permessage-deflate", start)
			}
			cur = &wireMsg{opcode: op, payload: p, span: Range{uint64(start), end}}
			compressed = rsv1
		}
		if !fin {
			continue
		}
		if compressed {
			plain, err := inf.inflate(cur.payload)
			if err != nil {
				return nil, fmt.Errorf("message at offset %d: %w", cur.span.Start, err)
			}
			cur.payload = plain
		}
		msgs = append(msgs, *cur)
		cur = nil
	}
	if cur != nil {
		return nil, fmt.Errorf("offset %d: unfinished message", cur.span.Start)
	}
	return msgs, nil
}

// matchTruth checks that the parsed messages of both directions equal the
// truth (same count, order, opcode and payload per direction) and returns
// each truth message's span.
func matchTruth(truth []TruthMessage, wire [2][]wireMsg) ([]Range, error) {
	spans := make([]Range, len(truth))
	var next [2]int
	for i, m := range truth {
		s := Client
		if m.Dir == Server.Dir() {
			s = Server
		}
		if next[s] >= len(wire[s]) {
			return nil, fmt.Errorf("truth message %d (%s opcode %d): not on the wire", i, m.Dir, m.Opcode)
		}
		w := wire[s][next[s]]
		next[s]++
		if w.opcode != m.Opcode || !bytes.Equal(w.payload, m.Payload) {
			return nil, fmt.Errorf("truth message %d (%s opcode %d, %d bytes): wire has opcode %d, %d bytes",
				i, m.Dir, m.Opcode, len(m.Payload), w.opcode, len(w.payload))
		}
		spans[i] = w.span
	}
	for s := range next {
		if next[s] != len(wire[s]) {
			return nil, fmt.Errorf("%s: %d messages on the wire, %d in the truth", Side(s).Dir(), len(wire[s]), next[s])
		}
	}
	return spans, nil
}
