// Package subprotogen turns the application-protocol recordings of
// testdata/subproto (made by the node generators in node/, see its
// package.json) into pcap captures for end-to-end tests: each recording's
// message payloads, in recorded order, framed as WebSocket frames (client
// frames masked, long messages fragmented) behind an opening handshake with
// the recorded URL and subprotocol, wrapped in synthesised TCP by
// internal/capgen.
//
//	go run ./tools/gensubproto
//
// regenerates testdata/subproto/NAME.pcap and NAME.truth.json (capgen's
// truth format: every WebSocket message, close frames included) from
// testdata/subproto/NAME.json. The output is deterministic.
package subprotogen

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// Vector is one recording of testdata/subproto.
type Vector struct {
	Protocol    string `json:"protocol"`
	Library     string `json:"library"`
	URL         string `json:"url"`
	Subprotocol string `json:"subprotocol"`
	Messages    []struct {
		Dir    string `json:"dir"`
		Opcode uint8  `json:"opcode"`
		B64    []byte `json:"b64"`
	} `json:"messages"`
	Truth []json.RawMessage `json:"truth"`
	// Polling are the HTTP long-polling exchanges of an Engine.IO session
	// that started with them, each placed before message Seq.
	Polling []Exchange `json:"polling,omitempty"`
}

// Exchange is one recorded plain HTTP request and its response.
type Exchange struct {
	Seq         int    `json:"seq"`
	Method      string `json:"method"`
	URL         string `json:"url"`
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Req         []byte `json:"req_b64"`
	Resp        []byte `json:"resp_b64"`
}

// sendExchange writes one polling exchange on a TCP connection of its own
// (client port 50200+i).
func sendExchange(capt *capgen.Capture, i int, x Exchange) error {
	conn, err := capgen.NewConn(capt, capgen.ConnConfig{
		Client: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(50200+i)),
		Server: netip.MustParseAddrPort("127.0.0.1:8080"),
		Link:   capgen.Link{Type: capgen.LinkEthernet},
	})
	if err != nil {
		return fmt.Errorf("polling exchange %d: %w", i, err)
	}
	conn.Open()
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n", x.Method, x.URL)
	if len(x.Req) > 0 {
		req += fmt.Sprintf("Content-Type: text/plain;charset=UTF-8\r\nContent-Length: %d\r\n", len(x.Req))
	}
	conn.Send(capgen.Client, append([]byte(req+"\r\n"), x.Req...))
	resp := fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", x.Status, http.StatusText(x.Status), x.ContentType, len(x.Resp))
	conn.Send(capgen.Server, append([]byte(resp), x.Resp...))
	conn.Close(capgen.Client)
	if err := conn.Finish(); err != nil {
		return fmt.Errorf("polling exchange %d: %w", i, err)
	}
	return nil
}

// LoadVector reads a recording.
func LoadVector(path string) (*Vector, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load vector: %w", err)
	}
	v := new(Vector)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("load vector %s: %w", path, err)
	}
	return v, nil
}

// FragmentSize is the largest frame payload; longer messages are sent as
// several frames.
const FragmentSize = 16 << 10

// Capture builds the pcap of a recording named name (the name seeds the
// masking keys and handshake key) and its ground truth.
func Capture(name string, v *Vector) (pcap []byte, truth *capgen.Truth, err error) {
	h := fnv.New64a()
	h.Write([]byte(name))
	rng := rand.New(rand.NewPCG(h.Sum64(), 0x5eb9))
	capt := capgen.NewCapture(capgen.CaptureOptions{})
	// polling exchanges made before any WebSocket message come before the
	// WebSocket connection; the others where they were recorded
	next := 0
	polls := func(upTo int) error {
		for ; next < len(v.Polling) && v.Polling[next].Seq <= upTo; next++ {
			if err := sendExchange(capt, next, v.Polling[next]); err != nil {
				return err
			}
		}
		return nil
	}
	if err := polls(0); err != nil {
		return nil, nil, fmt.Errorf("capture %s: %w", name, err)
	}
	conn, err := capgen.NewConn(capt, capgen.ConnConfig{
		Client: netip.MustParseAddrPort("127.0.0.1:50123"),
		Server: netip.MustParseAddrPort("127.0.0.1:8080"),
		Link:   capgen.Link{Type: capgen.LinkEthernet},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("capture %s: %w", name, err)
	}
	conn.Open()
	var keyRaw [16]byte
	for i := range keyRaw {
		keyRaw[i] = byte(rng.UintN(256))
	}
	key := base64.StdEncoding.EncodeToString(keyRaw[:])
	var reqExtra, respExtra []capgen.Header
	if v.Subprotocol != "" {
		reqExtra = append(reqExtra, capgen.Header{Name: "Sec-WebSocket-Protocol", Value: v.Subprotocol})
		respExtra = append(respExtra, capgen.Header{Name: "Sec-WebSocket-Protocol", Value: v.Subprotocol})
	}
	conn.Send(capgen.Client, capgen.UpgradeRequest(v.URL, "127.0.0.1:8080", key, reqExtra...))
	conn.Send(capgen.Server, capgen.SwitchingProtocols(capgen.AcceptKey(key), respExtra...))
	truth = &capgen.Truth{Notes: []string{
		"application protocol " + v.Protocol + " recorded from " + v.Library + " by internal/subprotogen/node",
		"messages in the recording proxy's order; client frames masked; messages over 16 KiB fragmented",
	}}
	send := func(dir string, opcode uint8, payload []byte) {
		side := capgen.Client
		if dir == "s2c" {
			side = capgen.Server
		}
		var frames []byte
		op := opcode
		for off := 0; ; {
			n := min(len(payload)-off, FragmentSize)
			f := capgen.Frame{Opcode: op, Fin: off+n == len(payload), Payload: payload[off : off+n]}
			if side == capgen.Client {
				f.Masked = true
				for i := range f.Key {
					f.Key[i] = byte(rng.UintN(256))
				}
			}
			frames = append(frames, f.Bytes()...)
			off += n
			op = 0
			if off >= len(payload) {
				break
			}
		}
		conn.Send(side, frames)
		truth.Messages = append(truth.Messages, capgen.TruthMessage{Dir: dir, Opcode: opcode, Payload: bytes.Clone(payload)})
	}
	for i, m := range v.Messages {
		if err := polls(i); err != nil {
			return nil, nil, fmt.Errorf("capture %s: %w", name, err)
		}
		send(m.Dir, m.Opcode, m.B64)
	}
	if err := polls(len(v.Messages)); err != nil {
		return nil, nil, fmt.Errorf("capture %s: %w", name, err)
	}
	closing := capgen.ClosePayload(1000, "")
	send("c2s", 8, closing)
	send("s2c", 8, closing)
	conn.Close(capgen.Client)
	if err := conn.Finish(); err != nil {
		return nil, nil, fmt.Errorf("capture %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := capt.WritePcap(&buf, capgen.PcapOptions{}); err != nil {
		return nil, nil, fmt.Errorf("capture %s: %w", name, err)
	}
	return buf.Bytes(), truth, nil
}

// Output is one generated file.
type Output struct {
	Name string
	Data []byte
}

// Build returns the captures and truth files of every recording in dir.
func Build(dir string) ([]Output, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	var outs []Output
	for _, f := range files {
		if strings.HasSuffix(f, ".truth.json") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		v, err := LoadVector(f)
		if err != nil {
			return nil, err
		}
		pcap, truth, err := Capture(name, v)
		if err != nil {
			return nil, err
		}
		tj, err := truth.JSON()
		if err != nil {
			return nil, err
		}
		outs = append(outs, Output{name + ".pcap", pcap}, Output{name + ".truth.json", tj})
	}
	if len(outs) == 0 {
		return nil, fmt.Errorf("build: no recordings in %s", dir)
	}
	return outs, nil
}
