package filter

import (
	"net/netip"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
)

// Hand-made records for evaluation tests, benchmarks and the fuzz target.

func testConn() *dissect.Conn {
	return &dissect.Conn{
		Stream:      3,
		Client:      netip.MustParseAddrPort("10.0.0.1:52000"),
		Server:      netip.MustParseAddrPort("192.168.1.10:8080"),
		Method:      "GET",
		Path:        "/chat?room=1",
		Host:        "chat.example.com",
		Origin:      "https://chat.example.com",
		UserAgent:   "Mozilla/5.0 (X11; Linux x86_64)",
		Subprotocol: "chat.v1",
		Extensions:  []string{"permessage-deflate; client_max_window_bits=15", "x-custom"},
		Status:      101,
		Deflate:     &dissect.DeflateParams{Name: "permessage-deflate", ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		Tunnel:      "gre", // without a key
	}
}

func testConn6() *dissect.Conn {
	return &dissect.Conn{
		Stream:    7,
		Client:    netip.MustParseAddrPort("[2001:db8::1]:40000"),
		Server:    netip.MustParseAddrPort("[2001:db8::2]:443"),
		Midstream: true,
		Tunnel:    "vxlan", TunnelIDName: "VNI", HasTunnelID: true, // VNI 0
	}
}

var testTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// textFrame is a masked client text frame carrying a JSON chat message.
func textFrame() *dissect.Record {
	payload := []byte(`{"type":"chat","user":{"id":42,"name":"ann\u00e9","tags":["a","b"]},"items":["x",{"k":null}],"ok":true,"price":9.99,"big":123456789012345678901234567890,"a b":"sp\"ace"}`)
	return &dissect.Record{
		Kind: dissect.KindFrame, Conn: testConn(), Packet: 17, Time: testTime,
		Dir: dissect.ClientToServer, HasDir: true,
		Frame: &dissect.Frame{
			Dir: dissect.ClientToServer, Fin: true, Masked: true, Opcode: dissect.OpText,
			LenCode: 126, Len: uint64(len(payload)), HeaderLen: 8,
			MaskKey: [4]byte{0xaa, 0xbb, 0xcc, 0xdd}, Payload: payload, IsText: true,
			Packets: []uint64{16, 17},
		},
	}
}

// binaryFrame is an unmasked, compressed server binary frame (RSV1 set).
func binaryFrame() *dissect.Record {
	return &dissect.Record{
		Kind: dissect.KindFrame, Conn: testConn(), Packet: 20, Time: testTime,
		Dir: dissect.ServerToClient, HasDir: true,
		Frame: &dissect.Frame{
			Dir: dissect.ServerToClient, Fin: false, RSV1: true, Opcode: dissect.OpBinary,
			LenCode: 5, Len: 5, HeaderLen: 2, Payload: []byte{0x00, 0x01, 0x02, 0xfe, 0xff}, Compressed: true,
		},
		Anomalies: []dissect.Anomaly{{ID: "invalid-utf8-text", Severity: dissect.SevError, Offset: 3}},
	}
}

// closeFrame is a server close frame with code 1001 and a reason.
func closeFrame() *dissect.Record {
	return &dissect.Record{
		Kind: dissect.KindFrame, Conn: testConn(), Packet: 30, Time: testTime,
		Dir: dissect.ServerToClient, HasDir: true,
		Frame: &dissect.Frame{
			Dir: dissect.ServerToClient, Fin: true, Opcode: dissect.OpClose, LenCode: 9, Len: 9, HeaderLen: 2,
			Payload: []byte("\x03\xe9going by"), IsText: true,
			HasCloseCode: true, CloseCode: 1001, CloseReason: "going by",
		},
	}
}

// textMessage is a client text message on an IPv6 connection.
func textMessage() *dissect.Record {
	return &dissect.Record{
		Kind: dissect.KindMessage, Conn: testConn6(), Packet: 40, Time: testTime,
		Dir: dissect.ClientToServer, HasDir: true,
		Message: &dissect.Message{
			Dir: dissect.ClientToServer, Opcode: dissect.OpText, Len: 70000, Frames: 3,
			Payload: []byte(`[1, "two", {"three": 3}]`), Compressed: true,
		},
	}
}

// connRecord is the connection record of testConn.
func connRecord() *dissect.Record {
	return &dissect.Record{Kind: dissect.KindConn, Conn: testConn(), Packet: 4, Time: testTime}
}

// anomalyRecord is a connection-wide anomaly without a direction.
func anomalyRecord() *dissect.Record {
	return &dissect.Record{
		Kind: dissect.KindAnomaly, Conn: testConn(), Packet: 50, Time: testTime,
		Anomalies: []dissect.Anomaly{{ID: "tcp-gap", Severity: dissect.SevError, Offset: -1}},
	}
}

// continuationFrame is an unfinished text continuation frame with a JSON
// fragment that is not a document on its own.
func continuationFrame() *dissect.Record {
	return &dissect.Record{
		Kind: dissect.KindFrame, Conn: testConn6(), Packet: 41, Time: testTime,
		Dir: dissect.ServerToClient, HasDir: true,
		Frame: &dissect.Frame{
			Dir: dissect.ServerToClient, Opcode: dissect.OpContinuation, LenCode: 4, Len: 4, HeaderLen: 2,
			Payload: []byte(`"ab"`[:3]), IsText: true,
		},
	}
}

// sampleRecords returns one of each kind, plus odd ones (nil parts).
func sampleRecords() []*dissect.Record {
	return []*dissect.Record{
		textFrame(), binaryFrame(), closeFrame(), textMessage(), connRecord(), anomalyRecord(), continuationFrame(),
		{Kind: dissect.KindFrame, Conn: &dissect.Conn{}},
		{Kind: dissect.KindMessage},
		{},
	}
}
