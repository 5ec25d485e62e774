package capgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// TruthMessage is one message as it was given to the sending library (or
// hand-built). Control frames are messages too: pings, pongs and close
// frames are listed with their payloads.
type TruthMessage struct {
	// Conn numbers the WebSocket connections of a capture from 0, in order
	// of their first packet (like Wireshark's tcp.stream when every TCP
	// connection of the capture carries WebSocket).
	Conn int `json:"conn"`
	// Dir is "c2s" or "s2c".
	Dir string `json:"dir"`
	// Opcode is the message's opcode (the first frame's).
	Opcode uint8 `json:"opcode"`
	// Payload is the complete unmasked, uncompressed payload; JSON base64.
	Payload []byte `json:"b64"`
	// Partial is true when some of the message's bytes are missing from the
	// capture (a dropped segment, or the capture starts inside it).
	Partial bool `json:"partial,omitempty"`
	// Absent is true when none of the message is in the capture (sent
	// before a mid-stream capture starts).
	Absent bool `json:"absent,omitempty"`
}

// Truth is the ground truth of one capture: the messages in the order their
// last frame was sent, and free-form notes on impairments and quirks.
type Truth struct {
	// Messages are the capture's messages, connection by connection.
	Messages []TruthMessage `json:"messages"`
	// Notes describe how the capture was made and what is special in it.
	Notes []string `json:"notes"`
}

// JSON returns the truth as indented JSON with a trailing newline.
func (t *Truth) JSON() ([]byte, error) {
	out := Truth{Messages: make([]TruthMessage, len(t.Messages)), Notes: t.Notes}
	copy(out.Messages, t.Messages)
	for i := range out.Messages {
		if out.Messages[i].Payload == nil {
			out.Messages[i].Payload = []byte{}
		}
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode truth: %w", err)
	}
	return append(b, '\n'), nil
}

// ReadTruth decodes a truth file.
func ReadTruth(r io.Reader) (*Truth, error) {
	var t Truth
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("decode truth: %w", err)
	}
	return &t, nil
}

// TruthPath returns the truth file of a capture: the capture's path with
// ".gz", then ".pcap" or ".pcapng" removed, plus ".truth.json"
// (testdata/coder-basic.pcap.gz -> testdata/coder-basic.truth.json).
func TruthPath(capturePath string) string {
	p := strings.TrimSuffix(capturePath, ".gz")
	for _, ext := range []string{".pcapng", ".pcap"} {
		if s, ok := strings.CutSuffix(p, ext); ok {
			p = s
			break
		}
	}
	return p + ".truth.json"
}

// LoadTruth reads the truth file of the capture at capturePath.
func LoadTruth(capturePath string) (*Truth, error) {
	b, err := os.ReadFile(TruthPath(capturePath))
	if err != nil {
		return nil, fmt.Errorf("load truth: %w", err)
	}
	return ReadTruth(bytes.NewReader(b))
}
