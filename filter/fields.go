package filter

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/wsdissect/wsdissect/dissect"
)

// FieldInfo describes one filter field, for `wsdissect fields`.
type FieldInfo struct {
	// Name is the field's canonical name, the one String prints.
	Name string
	// Aliases are other accepted names, including Wireshark's.
	Aliases []string
	// Type is the value type: "number", "bool", "bytes", "string",
	// "address", "direction", "json", or "protocol" for a name that can
	// only be tested for presence.
	Type string
	// Description is a one-line explanation.
	Description string
}

// fieldID identifies a field in the value extractor.
type fieldID uint8

const (
	fOpcode fieldID = iota + 1
	fFin
	fRSV
	fRSV1
	fRSV2
	fRSV3
	fPMC
	fMask
	fLen
	fLenCode
	fLenExt16
	fLenExt64
	fMaskingKey
	fPayload
	fData
	fText
	fCompressed
	fDir
	fStream
	fPacket
	fCloseCode
	fCloseReason
	fAnomaly
	fIPSrc
	fIPDst
	fIPAddr
	fIPv6Src
	fIPv6Dst
	fIPv6Addr
	fPort
	fSrcPort
	fDstPort
	fHost
	fPath
	fOrigin
	fSubprotocol
	fExtensions
	fUserAgent
	fJSON
	fWebSocket
	fTLS
	fTLSSNI
	fTLSVersion
	fTLSCipher
	fTLSALPN
	fTLSDecrypted
)

// ftype is the type of a field's values; it decides which literals and
// operators a comparison accepts.
type ftype uint8

const (
	tNumber ftype = iota + 1
	tBool
	tBytes
	tString
	tAddr
	tDir
	tJSON
	// tProto is a protocol name: it can only be tested for presence.
	tProto
)

// String returns the type name used in FieldInfo and error messages.
func (t ftype) String() string {
	switch t {
	case tNumber:
		return "number"
	case tBool:
		return "bool"
	case tBytes:
		return "bytes"
	case tString:
		return "string"
	case tAddr:
		return "address"
	case tDir:
		return "direction"
	case tJSON:
		return "json"
	case tProto:
		return "protocol"
	}
	return "unknown"
}

// fieldSpec is one row of the immutable field table.
type fieldSpec struct {
	id      fieldID
	name    string
	aliases []string
	typ     ftype
	// max is the largest value of a number field.
	max uint64
	// multi is true when a record can carry several values (any of them
	// may satisfy ==; != requires that none equals).
	multi bool
	desc  string
}

const maxU64 = ^uint64(0)

// fieldTable lists every field; it is never modified.
var fieldTable = [...]fieldSpec{
	{id: fOpcode, name: "opcode", aliases: []string{"websocket.opcode"}, typ: tNumber, max: 15,
		desc: "opcode of a frame or message: 0-15 or continuation, text, binary, close, ping, pong; control (8-15) and data (text or binary) name groups"},
	{id: fFin, name: "fin", aliases: []string{"websocket.fin"}, typ: tBool,
		desc: "FIN bit of a frame; true on messages"},
	{id: fRSV, name: "rsv", aliases: []string{"websocket.rsv"}, typ: tNumber, max: 7,
		desc: "the RSV bits of a frame as a 3-bit number (RSV1 = 4, RSV2 = 2, RSV3 = 1)"},
	{id: fRSV1, name: "rsv1", typ: tBool,
		desc: "RSV1 bit of a frame (set on the first frame of a compressed message)"},
	{id: fRSV2, name: "rsv2", typ: tBool, desc: "RSV2 bit of a frame"},
	{id: fRSV3, name: "rsv3", typ: tBool, desc: "RSV3 bit of a frame"},
	{id: fPMC, name: "pmc", aliases: []string{"websocket.pmc"}, typ: tBool,
		desc: "RSV1 read as per-message-compressed; present only on connections that negotiated permessage-deflate"},
	{id: fMask, name: "mask", aliases: []string{"masked", "websocket.mask"}, typ: tBool,
		desc: "MASK bit of a frame"},
	{id: fLen, name: "len", typ: tNumber, max: maxU64,
		desc: "payload length: a frame's length from its header, a message's full length after inflating"},
	{id: fLenCode, name: "lencode", aliases: []string{"websocket.payload_length"}, typ: tNumber, max: 127,
		desc: "the 7-bit length field of a frame header (126 and 127 announce an extended length)"},
	{id: fLenExt16, name: "websocket.payload_length_ext_16", typ: tNumber, max: 0xffff,
		desc: "16-bit extended payload length of a frame; present when lencode is 126"},
	{id: fLenExt64, name: "websocket.payload_length_ext_64", typ: tNumber, max: maxU64,
		desc: "64-bit extended payload length of a frame; present when lencode is 127"},
	{id: fMaskingKey, name: "masking_key", aliases: []string{"websocket.masking_key"}, typ: tBytes,
		desc: "the 4-byte masking key of a masked frame (compare with aa:bb:cc:dd)"},
	{id: fPayload, name: "payload", aliases: []string{"websocket.payload"}, typ: tBytes,
		desc: "payload of a frame or message after unmasking and inflating (as retained)"},
	{id: fData, name: "data.data", typ: tBytes,
		desc: "payload of a binary frame or message; absent when empty"},
	{id: fText, name: "text", aliases: []string{"websocket.payload.text"}, typ: tString,
		desc: "payload of a text frame or message (absent on binary and control frames)"},
	{id: fCompressed, name: "compressed", typ: tBool,
		desc: "the frame or message was sent compressed (permessage-deflate)"},
	{id: fDir, name: "dir", typ: tDir,
		desc: "direction: c2s (sent by the client, also client) or s2c (sent by the server, also server)"},
	{id: fStream, name: "stream", aliases: []string{"tcp.stream"}, typ: tNumber, max: maxU64,
		desc: "TCP connection number, as Wireshark's tcp.stream"},
	{id: fPacket, name: "packet", aliases: []string{"frame.number"}, typ: tNumber, max: maxU64,
		desc: "number of the packet in which the record's last byte arrived"},
	{id: fCloseCode, name: "close.code", aliases: []string{"websocket.payload.close.status_code"}, typ: tNumber, max: 0xffff,
		desc: "status code of a close frame or message"},
	{id: fCloseReason, name: "close.reason", aliases: []string{"websocket.payload.close.reason"}, typ: tString,
		desc: "reason of a close frame or message; absent when empty"},
	{id: fAnomaly, name: "anomaly", typ: tString, multi: true,
		desc: "ids of the anomalies found on the record; a test matches if any id does"},
	{id: fIPSrc, name: "ip.src", typ: tAddr,
		desc: "IP address of the sender (the client on records without a direction)"},
	{id: fIPDst, name: "ip.dst", typ: tAddr,
		desc: "IP address of the receiver (the server on records without a direction)"},
	{id: fIPAddr, name: "ip.addr", typ: tAddr, multi: true,
		desc: "either IP address of the connection"},
	{id: fIPv6Src, name: "ipv6.src", typ: tAddr,
		desc: "as ip.src, on IPv6 connections only"},
	{id: fIPv6Dst, name: "ipv6.dst", typ: tAddr,
		desc: "as ip.dst, on IPv6 connections only"},
	{id: fIPv6Addr, name: "ipv6.addr", typ: tAddr, multi: true,
		desc: "as ip.addr, on IPv6 connections only"},
	{id: fPort, name: "port", aliases: []string{"tcp.port"}, typ: tNumber, max: 0xffff, multi: true,
		desc: "either TCP port of the connection"},
	{id: fSrcPort, name: "tcp.srcport", typ: tNumber, max: 0xffff,
		desc: "TCP port of the sender (the client on records without a direction)"},
	{id: fDstPort, name: "tcp.dstport", typ: tNumber, max: 0xffff,
		desc: "TCP port of the receiver (the server on records without a direction)"},
	{id: fHost, name: "host", typ: tString, desc: "Host header of the Upgrade request"},
	{id: fPath, name: "path", typ: tString, desc: "request target of the Upgrade request"},
	{id: fOrigin, name: "origin", typ: tString, desc: "Origin header of the Upgrade request"},
	{id: fSubprotocol, name: "subprotocol", typ: tString, desc: "subprotocol selected by the server"},
	{id: fExtensions, name: "extensions", typ: tString,
		desc: `extensions selected by the server, joined with ", "`},
	{id: fUserAgent, name: "user_agent", typ: tString, desc: "User-Agent header of the Upgrade request"},
	{id: fWebSocket, name: "websocket", typ: tProto,
		desc: "present on frame and message records, like Wireshark's websocket protocol"},
	{id: fTLS, name: "tls", typ: tProto,
		desc: "present on the records of a connection that runs over TLS (wss://)"},
	{id: fTLSSNI, name: "tls.sni", aliases: []string{"tls.handshake.extensions_server_name"}, typ: tString,
		desc: "server name (SNI) of the TLS ClientHello"},
	{id: fTLSVersion, name: "tls.version", typ: tString,
		desc: `negotiated TLS version: "TLS 1.2", "TLS 1.3"`},
	{id: fTLSCipher, name: "tls.cipher", typ: tString,
		desc: "negotiated cipher suite, IANA name (TLS_AES_128_GCM_SHA256)"},
	{id: fTLSALPN, name: "tls.alpn", aliases: []string{"tls.handshake.extensions_alpn_str"}, typ: tString,
		desc: "negotiated ALPN protocol (http/1.1, h2); absent when none or not decrypted (TLS 1.3)"},
	{id: fTLSDecrypted, name: "tls.decrypted", typ: tBool,
		desc: "the TLS connection was decrypted (a key log had its secrets)"},
	{id: fJSON, name: "json", typ: tJSON,
		desc: `value at a path in a text payload that is JSON (json.type, json.user.id, json.items[0], json["a b"]); bare json: the payload is JSON`},
}

// Fields lists every field with its aliases, type and description, sorted
// by name. The result is a fresh copy the caller may modify.
func Fields() []FieldInfo {
	out := make([]FieldInfo, 0, len(fieldTable))
	for i := range fieldTable {
		s := &fieldTable[i]
		out = append(out, FieldInfo{
			Name:        s.name,
			Aliases:     slices.Clone(s.aliases),
			Type:        s.typ.String(),
			Description: s.desc,
		})
	}
	slices.SortFunc(out, func(a, b FieldInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// lookupField finds a field by name or alias.
func lookupField(name string) *fieldSpec {
	for i := range fieldTable {
		s := &fieldTable[i]
		if s.name == name || slices.Contains(s.aliases, name) {
			return s
		}
	}
	return nil
}

// fval is one value of a field. Which members are meaningful depends on the
// field's type; text values (string and bytes fields) are in s, or in b
// when isB is set, so that payloads never need converting.
type fval struct {
	u    uint64
	s    string
	b    []byte
	isB  bool
	flag bool
	addr netip.Addr
	dir  dissect.Dir
}

func frameOf(r *dissect.Record) *dissect.Frame {
	if r.Kind == dissect.KindFrame {
		return r.Frame
	}
	return nil
}

func messageOf(r *dissect.Record) *dissect.Message {
	if r.Kind == dissect.KindMessage {
		return r.Message
	}
	return nil
}

// textPayload returns the payload of a text frame or message; close frames
// (which dissect marks IsText for their reason) are excluded.
func textPayload(r *dissect.Record) ([]byte, bool) {
	if fr := frameOf(r); fr != nil {
		if fr.IsText && !dissect.IsControl(fr.Opcode) {
			return fr.Payload, true
		}
		return nil, false
	}
	if m := messageOf(r); m != nil && m.Opcode == dissect.OpText {
		return m.Payload, true
	}
	return nil, false
}

// endpoints returns the sender and receiver of the record: client to server
// unless the record travels from the server.
func endpoints(r *dissect.Record) (src, dst netip.AddrPort) {
	c := r.Conn
	if r.HasDir && r.Dir == dissect.ServerToClient {
		return c.Server, c.Client
	}
	return c.Client, c.Server
}

func boolVal(b bool) (fval, bool)  { return fval{flag: b}, true }
func numVal(u uint64) (fval, bool) { return fval{u: u}, true }

func strVal(s string) (fval, bool) {
	if s == "" {
		return fval{}, false
	}
	return fval{s: s}, true
}

func addrVal(ap netip.AddrPort, v6only bool) (fval, bool) {
	if !ap.IsValid() {
		return fval{}, false
	}
	a := ap.Addr().Unmap()
	if v6only && !a.Is6() {
		return fval{}, false
	}
	return fval{addr: a}, true
}

func portVal(ap netip.AddrPort) (fval, bool) {
	if !ap.IsValid() {
		return fval{}, false
	}
	return fval{u: uint64(ap.Port())}, true
}

// value returns the i-th value (from 0) of field id on r; ok is false when
// there is no such value. Only multi-valued fields have values beyond 0.
func (f *Filter) value(id fieldID, r *dissect.Record, i int) (v fval, ok bool) {
	fr, m := frameOf(r), messageOf(r)
	switch id {
	case fOpcode:
		if fr != nil {
			return numVal(uint64(fr.Opcode))
		}
		if m != nil {
			return numVal(uint64(m.Opcode))
		}
	case fFin:
		if fr != nil {
			return boolVal(fr.Fin)
		}
		if m != nil {
			return boolVal(true)
		}
	case fRSV:
		if fr != nil {
			var u uint64
			if fr.RSV1 {
				u |= 4
			}
			if fr.RSV2 {
				u |= 2
			}
			if fr.RSV3 {
				u |= 1
			}
			return numVal(u)
		}
	case fRSV1:
		if fr != nil {
			return boolVal(fr.RSV1)
		}
	case fRSV2:
		if fr != nil {
			return boolVal(fr.RSV2)
		}
	case fRSV3:
		if fr != nil {
			return boolVal(fr.RSV3)
		}
	case fPMC:
		if fr != nil && r.Conn != nil && r.Conn.Deflate != nil {
			return boolVal(fr.RSV1)
		}
	case fMask:
		if fr != nil {
			return boolVal(fr.Masked)
		}
	case fLen:
		if fr != nil {
			return numVal(fr.Len)
		}
		if m != nil {
			return numVal(m.Len)
		}
	case fLenCode:
		if fr != nil {
			return numVal(uint64(fr.LenCode))
		}
	case fLenExt16:
		if fr != nil && fr.LenCode == 126 {
			return numVal(fr.Len)
		}
	case fLenExt64:
		if fr != nil && fr.LenCode == 127 {
			return numVal(fr.Len)
		}
	case fMaskingKey:
		if fr != nil && fr.Masked {
			return fval{b: fr.MaskKey[:], isB: true}, true
		}
	case fPayload:
		if fr != nil {
			return fval{b: fr.Payload, isB: true}, true
		}
		if m != nil {
			return fval{b: m.Payload, isB: true}, true
		}
	case fData:
		if fr != nil && len(fr.Payload) > 0 &&
			(fr.Opcode == dissect.OpBinary || fr.Opcode == dissect.OpContinuation && !fr.IsText) {
			return fval{b: fr.Payload, isB: true}, true
		}
		if m != nil && len(m.Payload) > 0 && m.Opcode == dissect.OpBinary {
			return fval{b: m.Payload, isB: true}, true
		}
	case fText:
		if p, ok := textPayload(r); ok {
			return fval{b: p, isB: true}, true
		}
	case fCompressed:
		if fr != nil {
			return boolVal(fr.Compressed)
		}
		if m != nil {
			return boolVal(m.Compressed)
		}
	case fDir:
		if r.HasDir {
			return fval{dir: r.Dir}, true
		}
	case fPacket:
		return numVal(r.Packet)
	case fWebSocket:
		if fr != nil || m != nil {
			return fval{}, true
		}
	case fCloseCode:
		if fr != nil && fr.HasCloseCode {
			return numVal(uint64(fr.CloseCode))
		}
		if m != nil && m.HasCloseCode {
			return numVal(uint64(m.CloseCode))
		}
	case fCloseReason:
		if fr != nil && fr.HasCloseCode {
			return strVal(fr.CloseReason)
		}
		if m != nil && m.HasCloseCode {
			return strVal(m.CloseReason)
		}
	case fAnomaly:
		if i < len(r.Anomalies) {
			return fval{s: r.Anomalies[i].ID}, true
		}
	default:
		return f.connValue(id, r, i)
	}
	return fval{}, false
}

// connValue returns the values of the connection fields.
func (f *Filter) connValue(id fieldID, r *dissect.Record, i int) (fval, bool) {
	c := r.Conn
	if c == nil {
		return fval{}, false
	}
	switch id {
	case fStream:
		return numVal(c.Stream)
	case fIPSrc, fIPv6Src:
		src, _ := endpoints(r)
		return addrVal(src, id == fIPv6Src)
	case fIPDst, fIPv6Dst:
		_, dst := endpoints(r)
		return addrVal(dst, id == fIPv6Dst)
	case fIPAddr, fIPv6Addr:
		switch i {
		case 0:
			return addrVal(c.Client, id == fIPv6Addr)
		case 1:
			return addrVal(c.Server, id == fIPv6Addr)
		}
	case fPort:
		switch i {
		case 0:
			return portVal(c.Client)
		case 1:
			return portVal(c.Server)
		}
	case fSrcPort:
		src, _ := endpoints(r)
		return portVal(src)
	case fDstPort:
		_, dst := endpoints(r)
		return portVal(dst)
	case fHost:
		return strVal(c.Host)
	case fPath:
		return strVal(c.Path)
	case fOrigin:
		return strVal(c.Origin)
	case fSubprotocol:
		return strVal(c.Subprotocol)
	case fUserAgent:
		return strVal(c.UserAgent)
	case fTLS, fTLSSNI, fTLSVersion, fTLSCipher, fTLSALPN, fTLSDecrypted:
		return tlsValue(id, c.TLS)
	case fExtensions:
		switch len(c.Extensions) {
		case 0:
			return fval{}, false
		case 1:
			return strVal(c.Extensions[0])
		}
		// Join into the filter's own buffer: no allocation once it has grown.
		buf := f.joinBuf[:0]
		for k, e := range c.Extensions {
			if k > 0 {
				buf = append(buf, ", "...)
			}
			buf = append(buf, e...)
		}
		f.joinBuf = buf
		return fval{b: buf, isB: true}, true
	}
	return fval{}, false
}

// tlsValue returns the value of a TLS field; all are absent on connections
// without TLS.
func tlsValue(id fieldID, t *dissect.TLS) (fval, bool) {
	if t == nil {
		return fval{}, false
	}
	switch id {
	case fTLS:
		return fval{}, true
	case fTLSSNI:
		return strVal(t.SNI)
	case fTLSVersion:
		return strVal(t.Version)
	case fTLSCipher:
		return strVal(t.Cipher)
	case fTLSALPN:
		return strVal(t.ALPN)
	case fTLSDecrypted:
		return boolVal(t.Decrypted)
	}
	return fval{}, false
}
