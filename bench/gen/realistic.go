package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// realisticSession is a long-lived conversation shaped like real-time
// application traffic rather than bulk transfer: mostly small JSON messages
// (trades, quotes, chat lines, acks) with a long tail of larger snapshots,
// three quarters of them from the server, some binary, and pings. Message
// sizes: about 60% 60-300 bytes, 30% 300-1,500, 9% 1.5-8 kB, 1% 8-32 kB
// (median ~250 bytes, mean ~1 kB). seed makes it deterministic.
func realisticSession(name string, lib capgen.Library, comp capgen.Compression, seed uint64) capgen.Scenario {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	c, s := capgen.Client, capgen.Server
	steps := make([]capgen.Step, 0, 420)
	var ping []byte
	if lib == capgen.Gorilla {
		ping = []byte("hb")
	}
	steps = append(steps, capgen.Step{From: c, Opcode: capgen.OpText,
		Payload: []byte(`{"op":"subscribe","channels":["trades","quotes","chat","book"],"token":"eyJhbGciOiJIUzI1NiJ9.e30.sig"}`)})
	for i := range 400 {
		from := s
		if r.IntN(4) == 0 {
			from = c
		}
		if i%37 == 36 {
			steps = append(steps, capgen.Step{From: from, Kind: capgen.SendPing, Payload: ping})
			continue
		}
		size := realisticSize(r)
		if r.IntN(10) == 0 {
			steps = append(steps, capgen.Step{From: from, Opcode: capgen.OpBinary, Payload: binaryRecord(r, size)})
			continue
		}
		steps = append(steps, capgen.Step{From: from, Opcode: capgen.OpText, Payload: jsonMessage(r, size, i)})
	}
	return capgen.Scenario{
		Name: name, Library: lib, Compression: comp, CompressionThreshold: 1,
		Steps: steps,
		Close: capgen.CloseSpec{From: c, Code: 1000, Reason: "bye"},
	}
}

// realisticSize draws a message size from the long-tailed mix above.
func realisticSize(r *rand.Rand) int {
	switch p := r.IntN(100); {
	case p < 60:
		return 60 + r.IntN(240)
	case p < 90:
		return 300 + r.IntN(1200)
	case p < 99:
		return 1500 + r.IntN(6500)
	default:
		return 8000 + r.IntN(24000)
	}
}

var (
	symbols = []string{"BTC-USD", "ETH-USD", "SOL-USD", "EUR-USD", "AAPL", "MSFT"}
	users   = []string{"alice", "bob", "carol", "dave", "Hal Pline", "eve", "mallory"}
	words   = []string{"the", "order", "is", "filled", "please", "check", "price", "update", "ok", "thanks",
		"deploy", "done", "ünïcödé", "✓", "later", "meeting", "at", "noon", "status", "green"}
)

// jsonMessage returns a JSON message of about size bytes: a trade, a quote,
// a chat line or, for larger sizes, an order-book snapshot.
func jsonMessage(r *rand.Rand, size, seq int) []byte {
	b := make([]byte, 0, size+64)
	switch kind := r.IntN(3); {
	case size > 1500:
		b = append(b, `{"type":"book","symbol":"`...)
		b = append(b, symbols[r.IntN(len(symbols))]...)
		b = append(b, `","seq":`...)
		b = strconv.AppendInt(b, int64(seq), 10)
		b = append(b, `,"levels":[`...)
		for i := 0; len(b) < size-40; i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `[%.2f,%.4f,%d]`, 40000+r.Float64()*5000, r.Float64()*3, r.IntN(40))
		}
		b = append(b, "]}"...)
	case kind == 0:
		b = fmt.Appendf(b, `{"type":"trade","symbol":"%s","price":%.2f,"qty":%.5f,"side":"%s","id":%d,"ts":%d}`,
			symbols[r.IntN(len(symbols))], 100+r.Float64()*50000, r.Float64()*4, [2]string{"buy", "sell"}[r.IntN(2)],
			r.Int64N(1<<40), 1700000000000+int64(seq)*37)
	case kind == 1:
		b = fmt.Appendf(b, `{"type":"quote","symbol":"%s","bid":%.2f,"ask":%.2f,"seq":%d}`,
			symbols[r.IntN(len(symbols))], 100+r.Float64()*50000, 100+r.Float64()*50000, seq)
	default:
		b = fmt.Appendf(b, `{"type":"chat","user":"%s","content":"`, users[r.IntN(len(users))])
		for len(b) < size-30 {
			b = append(b, words[r.IntN(len(words))]...)
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, `","id":%d}`, seq)
	}
	// Pad small messages with a field so the size mix holds.
	if len(b) < size && b[len(b)-1] == '}' {
		b = b[:len(b)-1]
		b = append(b, `,"meta":"`...)
		for len(b) < size-2 {
			b = append(b, byte('a'+r.IntN(26)))
		}
		b = append(b, `"}`...)
	}
	return b
}

// binaryRecord returns size bytes of a binary message: a small header and
// varint-like fields, as a protobuf or MessagePack message would look.
func binaryRecord(r *rand.Rand, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		if i%8 < 3 {
			b[i] = byte(r.IntN(16))
		} else {
			b[i] = byte(r.Uint32())
		}
	}
	return b
}
