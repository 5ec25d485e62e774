package capgen

import "bytes"

// The real-library scenarios behind the committed captures. Payloads are
// fixed or come from seeded generators, so they never change.

func scenarioCoderBasic() Scenario {
	return Scenario{
		Name:    "coder-basic",
		Library: Coder,
		Steps: []Step{
			{From: Client, Opcode: OpText, Payload: []byte("Hello from the coder client")},
			{From: Server, Opcode: OpText, Payload: []byte("Hello from the coder server")},
			{From: Client, Opcode: OpBinary, Payload: RandomBytes(256, 1)},
			{From: Server, Opcode: OpBinary, Payload: RandomBytes(300, 2)},
			{From: Client, Kind: SendPing},
			{From: Server, Kind: SendPing},
			{From: Client, Opcode: OpText, Payload: []byte("ünïcödé text ✓ — 日本語")},
			{From: Server, Opcode: OpText, Payload: JSONText(2000, 0)},
			{From: Client, Opcode: OpBinary, Payload: []byte{}},
		},
		Close: CloseSpec{From: Client, Code: 1000, Reason: "bye"},
	}
}

func scenarioCoderIPv6() Scenario {
	sc := scenarioCoderBasic()
	sc.Name = "coder-ipv6"
	sc.Host = "[::1]:8080"
	sc.Path = "/v6?x=1"
	sc.Subprotocols = []string{"chat.v1"}
	return sc
}

func scenarioCoderFragmented() Scenario {
	return Scenario{
		Name:    "coder-fragmented",
		Library: Coder,
		Steps: []Step{
			{From: Client, Opcode: OpText, Payload: JSONText(300, 100), Chunks: []int{100}, PingAfter: 1},
			{From: Server, Opcode: OpBinary, Payload: RandomBytes(1000, 3), Chunks: []int{250}},
			{From: Server, Opcode: OpText, Payload: []byte("streamed in odd-sized pieces: a, bb, ccc ..."), Chunks: []int{1, 5, 20}},
			{From: Client, Opcode: OpBinary, Payload: RandomBytes(5000, 4), Chunks: []int{1200, 3000}, PingAfter: 2},
			{From: Client, Opcode: OpText, Payload: []byte("whole message after fragments")},
		},
		Close: CloseSpec{From: Server, Code: 1000, Reason: "done"},
	}
}

func scenarioCoderDeflateTakeover() Scenario {
	return Scenario{
		Name:                 "coder-deflate-takeover",
		Library:              Coder,
		Compression:          ContextTakeover,
		CompressionThreshold: -1, // compress every message, even empty ones
		Steps: []Step{
			{From: Client, Opcode: OpText, Payload: JSONText(200, 0)},
			{From: Server, Opcode: OpText, Payload: JSONText(200, 0)},
			{From: Client, Opcode: OpText, Payload: JSONText(200, 0)},
			{From: Server, Opcode: OpText, Payload: JSONText(600, 10)},
			{From: Client, Opcode: OpText, Payload: []byte{}},
			{From: Server, Opcode: OpBinary, Payload: []byte{}},
			{From: Client, Opcode: OpText, Payload: JSONText(900, 50), Chunks: []int{150}},
			{From: Server, Opcode: OpBinary, Payload: bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef}, 200)},
			{From: Server, Opcode: OpText, Payload: JSONText(400, 70), Chunks: []int{64}},
			{From: Client, Opcode: OpText, Payload: []byte("x")},
			{From: Client, Kind: SendPing},
		},
		Close: CloseSpec{From: Client, Code: 1000},
	}
}

func scenarioCoderDeflateNoContext() Scenario {
	return Scenario{
		Name:                 "coder-deflate-nocontext",
		Library:              Coder,
		Compression:          NoContextTakeover,
		CompressionThreshold: 64, // shorter messages go uncompressed
		Steps: []Step{
			{From: Client, Opcode: OpText, Payload: JSONText(300, 0)},
			{From: Server, Opcode: OpText, Payload: JSONText(300, 0)},
			{From: Client, Opcode: OpText, Payload: []byte("short, sent uncompressed")},
			{From: Server, Opcode: OpBinary, Payload: bytes.Repeat([]byte("abc"), 100)},
			{From: Client, Opcode: OpText, Payload: JSONText(300, 0)},
			{From: Server, Opcode: OpText, Payload: JSONText(700, 20), Chunks: []int{200}},
			{From: Server, Kind: SendPing},
		},
		Close: CloseSpec{From: Server, Code: 1001, Reason: "going away"},
	}
}

func scenarioCoderLarge() Scenario {
	return Scenario{
		Name:    "coder-large",
		Library: Coder,
		Steps: []Step{
			{From: Client, Opcode: OpText, Payload: []byte("send me the big one")},
			{From: Server, Opcode: OpBinary, Payload: RandomBytes(6000, 5)},
			{From: Client, Opcode: OpText, Payload: JSONText(3500, 0)},
			{From: Server, Opcode: OpText, Payload: []byte("after the big one")},
			{From: Client, Opcode: OpBinary, Payload: RandomBytes(40, 6)},
			{From: Server, Kind: SendPing},
		},
		Close: CloseSpec{From: Client, Code: 1000, Reason: "ok"},
	}
}

func scenarioCoderDeflateLarge() Scenario {
	return Scenario{
		Name:                 "coder-deflate-large",
		Library:              Coder,
		Compression:          ContextTakeover,
		CompressionThreshold: 1,
		Steps: []Step{
			{From: Client, Opcode: OpText, Payload: RandomText(200, 7)},
			{From: Server, Opcode: OpText, Payload: RandomText(6000, 8)},
			{From: Server, Opcode: OpText, Payload: RandomText(300, 8)},
			{From: Client, Opcode: OpText, Payload: RandomText(200, 7)},
			{From: Server, Opcode: OpText, Payload: JSONText(500, 0)},
		},
		Close: CloseSpec{From: Client, Code: 1000},
	}
}

func scenarioGorillaBasic() Scenario {
	return Scenario{
		Name:    "gorilla-basic",
		Library: Gorilla,
		Steps: []Step{
			{From: Client, Opcode: OpText, Payload: []byte("Hello from the gorilla client")},
			{From: Server, Opcode: OpText, Payload: []byte("Hello from the gorilla server")},
			{From: Client, Opcode: OpBinary, Payload: RandomBytes(3000, 9)},
			{From: Server, Opcode: OpText, Payload: JSONText(2500, 0)},
			{From: Client, Kind: SendPing, Payload: []byte("client ping")},
			{From: Server, Kind: SendPing, Payload: []byte{}},
			{From: Server, Opcode: OpBinary, Payload: RandomBytes(100, 10)},
			{From: Client, Opcode: OpText, Payload: []byte("last words")},
		},
		Close: CloseSpec{From: Server, Code: 1001, Reason: "server going away"},
	}
}

func scenarioGorillaDeflate() Scenario {
	return Scenario{
		Name:            "gorilla-deflate",
		Library:         Gorilla,
		Compression:     NoContextTakeover,
		WriteBufferSize: 256,
		Steps: []Step{
			{From: Client, Opcode: OpText, Payload: JSONText(500, 0)},
			{From: Server, Opcode: OpText, Payload: JSONText(500, 0)},
			{From: Client, Opcode: OpText, Payload: []byte{}},
			{From: Server, Opcode: OpBinary, Payload: RandomBytes(1200, 11), Chunks: []int{300}, PingAfter: 3, PingPayload: []byte("mid")},
			{From: Client, Opcode: OpText, Payload: RandomText(900, 12), Chunks: []int{200}},
			{From: Client, Kind: SendPing, Payload: []byte("ping")},
		},
		Close: CloseSpec{From: Client, Code: 1000, Reason: "done"},
	}
}

// scenarioWSS is a short conversation over TLS; big adds a message that
// spans several TLS records.
func scenarioWSS(name string, lib Library, opts *TLSOptions, big bool) Scenario {
	sc := Scenario{
		Name:    name,
		Library: lib,
		Steps: []Step{
			{From: Client, Opcode: OpText, Payload: []byte("Hello over wss from the client")},
			{From: Server, Opcode: OpText, Payload: []byte("Hello over wss from the server")},
			{From: Client, Opcode: OpBinary, Payload: RandomBytes(700, 21)},
			{From: Server, Opcode: OpText, Payload: JSONText(1500, 0)},
			{From: Client, Kind: SendPing},
			{From: Client, Opcode: OpText, Payload: []byte("bye")},
		},
		Close: CloseSpec{From: Client, Code: 1000, Reason: "done"},
		TLS:   opts,
	}
	if big {
		sc.Steps = append(sc.Steps, Step{From: Server, Opcode: OpBinary, Payload: RandomBytes(40000, 22)})
	}
	return sc
}
