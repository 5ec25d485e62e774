package field

import "github.com/wsdissect/wsdissect/dissect"

// opcodeSymbols are the names an opcode comparison accepts, in the order
// messages list them.
var opcodeSymbols = []Symbol{
	{Name: "text", Value: uint64(dissect.OpText)},
	{Name: "binary", Value: uint64(dissect.OpBinary)},
	{Name: "close", Value: uint64(dissect.OpClose)},
	{Name: "ping", Value: uint64(dissect.OpPing)},
	{Name: "pong", Value: uint64(dissect.OpPong)},
	{Name: "continuation", Value: uint64(dissect.OpContinuation)},
	{Name: "control", Group: func(u uint64) bool { return dissect.IsControl(uint8(u)) }},
	{Name: "data", Group: func(u uint64) bool { return u == uint64(dissect.OpText) || u == uint64(dissect.OpBinary) }},
}

// frameGetter adapts a getter of frame values.
func frameGetter(g func(f *dissect.Frame) (Value, bool)) Getter {
	return func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
		if f := frameOf(r); f != nil {
			return g(f)
		}
		return Value{}, false
	}
}

// wsGetter adapts getters of frame and message values; a nil one means the
// field is absent on that kind of record.
func wsGetter(fg func(f *dissect.Frame) (Value, bool), mg func(m *dissect.Message) (Value, bool)) Getter {
	return func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
		switch r.Kind {
		case dissect.KindFrame:
			if fg != nil && r.Frame != nil {
				return fg(r.Frame)
			}
		case dissect.KindMessage:
			if mg != nil && r.Message != nil {
				return mg(r.Message)
			}
		}
		return Value{}, false
	}
}

// controlPayload returns the payload of a ping or pong frame or message.
func controlPayload(op uint8) Getter {
	return wsGetter(func(f *dissect.Frame) (Value, bool) {
		if f.Opcode != op {
			return Value{}, false
		}
		return BytesValue(f.Payload)
	}, func(m *dissect.Message) (Value, bool) {
		if m.Opcode != op {
			return Value{}, false
		}
		return BytesValue(m.Payload)
	})
}

// WebSocket returns the fields of WebSocket frames and messages.
func WebSocket() []Field {
	const layer = "websocket"
	return []Field{
		{Name: "websocket", Type: Protocol, Layer: layer,
			Description: "present on frame and message records, like Wireshark's websocket protocol",
			Get: wsGetter(func(*dissect.Frame) (Value, bool) { return Value{}, true },
				func(*dissect.Message) (Value, bool) { return Value{}, true })},
		{Name: "opcode", Aliases: []string{"websocket.opcode"}, Type: Number, Max: 15, Symbols: opcodeSymbols, Layer: layer,
			Description: "opcode of a frame or message: 0-15 or continuation, text, binary, close, ping, pong; control (8-15) and data (text or binary) name groups",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) { return NumValue(uint64(f.Opcode)) },
				func(m *dissect.Message) (Value, bool) { return NumValue(uint64(m.Opcode)) })},
		{Name: "opcode_name", Type: String, Layer: layer,
			Description: "opcode as its name (continuation, text, binary, close, ping, pong or reserved), as in NDJSON",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) { return StrValue(dissect.OpcodeName(f.Opcode)) },
				func(m *dissect.Message) (Value, bool) { return StrValue(dissect.OpcodeName(m.Opcode)) })},
		{Name: "fin", Aliases: []string{"websocket.fin"}, Type: Bool, Layer: layer,
			Description: "FIN bit of a frame; true on messages",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) { return BoolValue(f.Fin) },
				func(*dissect.Message) (Value, bool) { return BoolValue(true) })},
		{Name: "rsv", Aliases: []string{"websocket.rsv"}, Type: Number, Max: 7, Layer: layer,
			Description: "the RSV bits of a frame as a 3-bit number (RSV1 = 4, RSV2 = 2, RSV3 = 1)",
			Get: frameGetter(func(f *dissect.Frame) (Value, bool) {
				var u uint64
				if f.RSV1 {
					u |= 4
				}
				if f.RSV2 {
					u |= 2
				}
				if f.RSV3 {
					u |= 1
				}
				return NumValue(u)
			})},
		{Name: "rsv1", Type: Bool, Layer: layer,
			Description: "RSV1 bit of a frame (set on the first frame of a compressed message)",
			Get:         frameGetter(func(f *dissect.Frame) (Value, bool) { return BoolValue(f.RSV1) })},
		{Name: "rsv2", Type: Bool, Layer: layer, Description: "RSV2 bit of a frame",
			Get: frameGetter(func(f *dissect.Frame) (Value, bool) { return BoolValue(f.RSV2) })},
		{Name: "rsv3", Type: Bool, Layer: layer, Description: "RSV3 bit of a frame",
			Get: frameGetter(func(f *dissect.Frame) (Value, bool) { return BoolValue(f.RSV3) })},
		{Name: "pmc", Aliases: []string{"websocket.pmc"}, Type: Bool, Layer: layer,
			Description: "RSV1 read as per-message-compressed; present only on connections that negotiated permessage-deflate",
			Get: func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
				if f := frameOf(r); f != nil && r.Conn != nil && r.Conn.Deflate != nil {
					return BoolValue(f.RSV1)
				}
				return Value{}, false
			}},
		{Name: "mask", Aliases: []string{"masked", "websocket.mask"}, Type: Bool, Layer: layer,
			Description: "MASK bit of a frame",
			Get:         frameGetter(func(f *dissect.Frame) (Value, bool) { return BoolValue(f.Masked) })},
		{Name: "len", Type: Number, Layer: layer,
			Description: "payload length: a frame's length from its header, a message's full length after inflating",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) { return NumValue(f.Len) },
				func(m *dissect.Message) (Value, bool) { return NumValue(m.Len) })},
		{Name: "lencode", Aliases: []string{"websocket.payload_length"}, Type: Number, Max: 127, Layer: layer,
			Description: "the 7-bit length field of a frame header (126 and 127 announce an extended length)",
			Get:         frameGetter(func(f *dissect.Frame) (Value, bool) { return NumValue(uint64(f.LenCode)) })},
		{Name: "websocket.payload_length_ext_16", Type: Number, Max: 0xffff, Layer: layer,
			Description: "16-bit extended payload length of a frame; present when lencode is 126",
			Get: frameGetter(func(f *dissect.Frame) (Value, bool) {
				if f.LenCode != 126 {
					return Value{}, false
				}
				return NumValue(f.Len)
			})},
		{Name: "websocket.payload_length_ext_64", Type: Number, Layer: layer,
			Description: "64-bit extended payload length of a frame; present when lencode is 127",
			Get: frameGetter(func(f *dissect.Frame) (Value, bool) {
				if f.LenCode != 127 {
					return Value{}, false
				}
				return NumValue(f.Len)
			})},
		{Name: "masking_key", Aliases: []string{"websocket.masking_key"}, Type: Bytes, Layer: layer,
			Description: "the 4-byte masking key of a masked frame (compare with aa:bb:cc:dd)",
			Get: frameGetter(func(f *dissect.Frame) (Value, bool) {
				if !f.Masked {
					return Value{}, false
				}
				return BytesValue(f.MaskKey[:])
			})},
		{Name: "payload", Aliases: []string{"websocket.payload"}, Type: Bytes, Layer: layer,
			Description: "payload of a frame or message after unmasking and inflating (as retained)",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) { return BytesValue(f.Payload) },
				func(m *dissect.Message) (Value, bool) { return BytesValue(m.Payload) })},
		{Name: "data.data", Type: Bytes, Layer: layer,
			Description: "payload of a binary frame or message; absent when empty",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) {
				if len(f.Payload) > 0 && (f.Opcode == dissect.OpBinary || f.Opcode == dissect.OpContinuation && !f.IsText) {
					return BytesValue(f.Payload)
				}
				return Value{}, false
			}, func(m *dissect.Message) (Value, bool) {
				if len(m.Payload) > 0 && m.Opcode == dissect.OpBinary {
					return BytesValue(m.Payload)
				}
				return Value{}, false
			})},
		{Name: "data.len", Type: Number, Layer: layer,
			Description: "length of the payload of a binary frame or message; absent when empty, as data.data",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) {
				if f.Len > 0 && (f.Opcode == dissect.OpBinary || f.Opcode == dissect.OpContinuation && !f.IsText) {
					return NumValue(f.Len)
				}
				return Value{}, false
			}, func(m *dissect.Message) (Value, bool) {
				if m.Len > 0 && m.Opcode == dissect.OpBinary {
					return NumValue(m.Len)
				}
				return Value{}, false
			})},
		{Name: "text", Aliases: []string{"websocket.payload.text"}, Type: String, Layer: layer,
			Description: "payload of a text frame or message (absent on binary and control frames)",
			Get: func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
				if p, ok := TextPayload(r); ok {
					return BytesValue(p)
				}
				return Value{}, false
			}},
		{Name: "websocket.payload.ping", Type: Bytes, Layer: layer,
			Description: "payload of a ping frame or message", Get: controlPayload(dissect.OpPing)},
		{Name: "websocket.payload.pong", Type: Bytes, Layer: layer,
			Description: "payload of a pong frame or message", Get: controlPayload(dissect.OpPong)},
		{Name: "compressed", Type: Bool, Layer: layer,
			Description: "the frame or message was sent compressed (permessage-deflate)",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) { return BoolValue(f.Compressed) },
				func(m *dissect.Message) (Value, bool) { return BoolValue(m.Compressed) })},
		{Name: "truncated", Type: Bool, Layer: layer,
			Description: "the payload was cut at --max-message (the rest was decoded but not retained)",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) { return BoolValue(f.Truncated) },
				func(m *dissect.Message) (Value, bool) { return BoolValue(m.Truncated) })},
		{Name: "incomplete", Type: Bool, Layer: layer,
			Description: "part of the frame or message is missing from the capture",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) { return BoolValue(f.Incomplete) },
				func(m *dissect.Message) (Value, bool) { return BoolValue(m.Incomplete) })},
		{Name: "frames", Aliases: []string{"websocket.fragment.count"}, Type: Number, Layer: layer,
			Description: "number of frames of a message (message records)",
			Get:         wsGetter(nil, func(m *dissect.Message) (Value, bool) { return NumValue(uint64(m.Frames)) })},
		{Name: "first_packet", Type: Number, Layer: layer,
			Description: "the packet that carried a message's first byte (message records)",
			Get:         wsGetter(nil, func(m *dissect.Message) (Value, bool) { return NumValue(m.FirstPacket) })},
		{Name: "packets", Type: Number, Multi: true, Layer: layer,
			Description: "the packets that carried a frame",
			Get: func(r *dissect.Record, i int, _ *[]byte) (Value, bool) {
				if f := frameOf(r); f != nil {
					if len(f.Packets) == 0 && i == 0 {
						return NumValue(r.Packet)
					}
					if i < len(f.Packets) {
						return NumValue(f.Packets[i])
					}
				}
				return Value{}, false
			}},
		{Name: "dir", Type: Direction, Layer: layer,
			Description: "direction: c2s (sent by the client, also client) or s2c (sent by the server, also server)",
			Get: func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
				if !r.HasDir {
					return Value{}, false
				}
				return Value{Dir: r.Dir}, true
			}},
		{Name: "close.code", Aliases: []string{"close_code", "websocket.payload.close.status_code"}, Type: Number, Max: 0xffff, Layer: layer,
			Description: "status code of a close frame or message",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) {
				if !f.HasCloseCode {
					return Value{}, false
				}
				return NumValue(uint64(f.CloseCode))
			}, func(m *dissect.Message) (Value, bool) {
				if !m.HasCloseCode {
					return Value{}, false
				}
				return NumValue(uint64(m.CloseCode))
			})},
		{Name: "close.reason", Aliases: []string{"close_reason", "websocket.payload.close.reason"}, Type: String, Layer: layer,
			Description: "reason of a close frame or message; absent when empty",
			Get: wsGetter(func(f *dissect.Frame) (Value, bool) {
				if !f.HasCloseCode {
					return Value{}, false
				}
				return StrValue(f.CloseReason)
			}, func(m *dissect.Message) (Value, bool) {
				if !m.HasCloseCode {
					return Value{}, false
				}
				return StrValue(m.CloseReason)
			})},
		{Name: "anomaly", Type: String, Multi: true, Layer: layer,
			Description: "ids of the anomalies found on the record; a test matches if any id does",
			Get: func(r *dissect.Record, i int, _ *[]byte) (Value, bool) {
				if i < len(r.Anomalies) {
					return Value{S: r.Anomalies[i].ID}, true
				}
				return Value{}, false
			}},
		{Name: "type", Type: String, Layer: layer,
			Description: "the record's type: conn, frame, message or anomaly, as in NDJSON",
			Get:         func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) { return StrValue(r.Kind.String()) }},
		{Name: "json", Type: JSON, Layer: layer,
			Description: `value at a path in a text payload that is JSON (json.type, json.user.id, json.items[0], json["a b"]); bare json: the payload is JSON`,
			Get: func(r *dissect.Record, _ int, _ *[]byte) (Value, bool) {
				_, ok := TextPayload(r)
				return Value{}, ok
			}},
	}
}
