// Package capgen generates wsdissect's test captures: WebSocket traffic of
// real libraries (github.com/coder/websocket and github.com/gorilla/websocket)
// and hand-built adversarial frames, wrapped in synthesised TCP segments and
// written as pcap or pcapng, each with its ground truth.
//
// # Recording real libraries
//
// RecordScenario runs a Scenario: a coder or gorilla server (behind net/http)
// and client talk over a TCP connection on 127.0.0.1. Both sides' net.Conn
// are wrapped so every Write is logged, in order, as (side, bytes); the
// library bytes are never altered. The Recording holds that log, the Truth
// (each message as given to the sending library, plus the pongs and close
// answers the libraries send, in the order their last frame was written) and
// the Spans of the messages in each direction's stream. Every recording is
// checked by parsing the logged bytes independently (unmasking, inflating)
// and comparing them with the truth.
//
//	rec, err := capgen.RecordScenario(ctx, capgen.Scenario{
//		Library: capgen.Coder,
//		Steps: []capgen.Step{
//			{From: capgen.Client, Opcode: capgen.OpText, Payload: []byte("hi")},
//			{From: capgen.Server, Kind: capgen.SendPing},
//		},
//		Close: capgen.CloseSpec{From: capgen.Client, Code: 1000},
//	})
//	var buf bytes.Buffer
//	err = rec.WritePcap(&buf, capgen.WriteOptions{
//		Replay: capgen.ReplayOptions{Conn: capgen.ConnConfig{Link: capgen.Link{Type: capgen.LinkEthernet}}},
//	})
//	// decode buf, compare with rec.Truth
//
// Scenario.RequestHeader (Origin, Cookie, Authorization, ...), AnyOrigin,
// ResponseHeader and Rejected shape the handshake for the security-audit
// captures (audit.go): a refused upgrade is recorded as its HTTP request and
// 403 response.
//
// Library limits: coder offers context takeover or not, with a compression
// threshold (0 means its default of 128/512 bytes; use 1 or -1 to compress
// small or even empty messages) and always 15 window bits; gorilla only
// negotiates no context takeover, compresses every message and fragments
// messages longer than its WriteBufferSize. Coder chooses its own ping
// payloads ("1", "2", ... per connection). Neither lets you pick window
// bits; Deflater builds such payloads by hand.
//
// # wss://
//
// Scenario.TLS runs the same conversation over Go's crypto/tls: the server
// wraps the recording listener's connections, the client its dialled one, so
// Recording.Writes are the TLS records while the WebSocket bytes inside them
// are still checked against the truth; Recording.KeyLog is the client's
// KeyLogWriter output (NSS key log). Such recordings have no Spans, and
// InjectSecrets puts a key log into a pcapng Decryption Secrets Block. TLS
// handshakes draw randomness crypto/rand.Reader does not control, so wss
// captures differ on every run.
//
// # Determinism
//
// Handshake keys and masking keys come from crypto/rand (coder, gorilla's
// key) and math/rand (gorilla's masks). GenerateOptions.Reseed lets the caller
// seed both before each recording; tools/gencap and this package's test do,
// so the committed captures are byte-identical on regeneration with the same
// Go toolchain and library versions. Without reseeding, real-library output
// differs in keys and masks only. All timestamps are synthetic
// (2024-01-02T03:04:05Z plus a fixed step per packet).
//
// # Packets and TCP
//
// Capture collects packets and writes pcap (micro- or nanosecond, either byte
// order) or pcapng (one interface per Link.Interface). Conn synthesises one
// TCP connection into a Capture: Open (three-way handshake), Send and
// SendSegments (MSS or explicit segment sizes, peer ACKs), Close (FIN
// exchange), Reset, and Impairment (Drop, Duplicate, RetransmitDiffer,
// Overlap, Reorder) of the segment holding a given stream offset; StartAt
// starts the capture mid-stream. Links: Ethernet (optionally 802.1Q or QinQ),
// Linux SLL and SLL2, raw IP, BSD NULL and 802.11 after radiotap; IPv4 or IPv6 (optionally with a
// hop-by-hop or destination options header), optionally inside a tunnel
// (Link.Tunnel: IP in IP, GRE, ERSPAN II, VXLAN, Geneve, GTP-U, MPLS, PPPoE)
// and cut into IPv4 fragments (Link.FragmentMTU); IP and TCP checksums are
// correct. Recording.Replay and ReplayInterleaved turn recordings into
// connections and return the truth with Partial and Absent set for messages
// whose bytes are missing from the capture.
//
// # Hand-built traffic
//
// Frame.Bytes encodes any frame, including protocol violations (RSV bits,
// reserved opcodes, non-minimal or top-bit-set lengths, unmasked client
// frames). UpgradeRequest, SwitchingProtocols, AcceptKey, HTTPMessage and
// Chunked build HTTP messages; Deflater compresses permessage-deflate
// payloads with or without context takeover for window bits 8-15.
//
// # Generated files
//
// Build and Generate produce the files of testdata/ (see tools/gencap); every
// capture NAME.pcap has a NAME.truth.json (TruthPath, LoadTruth):
//
//	{"messages": [{"conn": 0, "dir": "c2s", "opcode": 1, "b64": "..."}], "notes": ["..."]}
//
// "partial": true marks a message with bytes missing from the capture,
// "absent": true one sent entirely before a mid-stream capture starts.
package capgen
