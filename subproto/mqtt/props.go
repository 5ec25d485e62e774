package mqtt

import (
	"strconv"
)

// property value encodings (MQTT 5.0 section 2.2.2.2)
const (
	pByte = iota + 1
	pU16
	pU32
	pVarint
	pString
	pBinary
	pPair
)

type propInfo struct {
	name string
	enc  uint8
}

var propTable = [43]propInfo{
	1:  {"payload_format_indicator", pByte},
	2:  {"message_expiry_interval", pU32},
	3:  {"content_type", pString},
	8:  {"response_topic", pString},
	9:  {"correlation_data", pBinary},
	11: {"subscription_identifier", pVarint},
	17: {"session_expiry_interval", pU32},
	18: {"assigned_client_identifier", pString},
	19: {"server_keep_alive", pU16},
	21: {"authentication_method", pString},
	22: {"authentication_data", pBinary},
	23: {"request_problem_information", pByte},
	24: {"will_delay_interval", pU32},
	25: {"request_response_information", pByte},
	26: {"response_information", pString},
	28: {"server_reference", pString},
	31: {"reason_string", pString},
	33: {"receive_maximum", pU16},
	34: {"topic_alias_maximum", pU16},
	35: {"topic_alias", pU16},
	36: {"maximum_qos", pByte},
	37: {"retain_available", pByte},
	38: {"user_property", pPair},
	39: {"maximum_packet_size", pU32},
	40: {"wildcard_subscription_available", pByte},
	41: {"subscription_identifier_available", pByte},
	42: {"shared_subscription_available", pByte},
}

// Property is one decoded 5.0 property. For numeric encodings N holds the
// value; for strings and binary data V holds it; a user property has its
// name in K and value in V.
type Property struct {
	ID   uint8
	Name string
	N    uint64
	K, V []byte
	// Numeric reports whether the value is N (else V, and K for pairs).
	Numeric bool
	Binary  bool
	Pair    bool
}

// PropIter walks a validated property list.
type PropIter struct{ b []byte }

// Properties returns an iterator over raw, which must be a list that the
// decoder validated (Packet.Props, Packet.WillProps).
func Properties(raw []byte) PropIter { return PropIter{raw} }

// Next returns the next property.
func (it *PropIter) Next() (Property, bool) {
	p, rest, err := readProp(it.b)
	if err != "" || len(it.b) == 0 {
		return Property{}, false
	}
	it.b = rest
	return p, true
}

func readProp(b []byte) (Property, []byte, string) {
	r := reader{b: b}
	id := r.varint("property identifier")
	if r.err != "" {
		return Property{}, nil, r.err
	}
	if id <= 0 || id >= len(propTable) || propTable[id].enc == 0 {
		return Property{}, nil, "unknown property identifier " + strconv.Itoa(id)
	}
	info := propTable[id]
	p := Property{ID: uint8(id), Name: info.name}
	switch info.enc {
	case pByte:
		p.N, p.Numeric = uint64(r.byte1(info.name)), true
	case pU16:
		p.N, p.Numeric = uint64(r.u16(info.name)), true
	case pU32:
		hi := r.u16(info.name)
		lo := r.u16(info.name)
		p.N, p.Numeric = uint64(hi)<<16|uint64(lo), true
	case pVarint:
		p.N, p.Numeric = uint64(r.varint(info.name)), true
	case pString:
		p.V = r.bin(info.name)
	case pBinary:
		p.V, p.Binary = r.bin(info.name), true
	case pPair:
		p.K = r.bin(info.name)
		p.V = r.bin(info.name)
		p.Pair = true
	}
	if r.err != "" {
		return Property{}, nil, r.err
	}
	return p, r.b, ""
}

func validProps(b []byte) string {
	for len(b) > 0 {
		_, rest, err := readProp(b)
		if err != "" {
			return err
		}
		b = rest
	}
	return ""
}

// ReasonName returns the MQTT 5.0 name of reason code c ("Success",
// "Not authorized"), or "" for an unknown code.
func ReasonName(c uint8) string {
	switch c {
	case 0x00:
		return "Success"
	case 0x01:
		return "Granted QoS 1"
	case 0x02:
		return "Granted QoS 2"
	case 0x04:
		return "Disconnect with Will Message"
	case 0x10:
		return "No matching subscribers"
	case 0x11:
		return "No subscription existed"
	case 0x18:
		return "Continue authentication"
	case 0x19:
		return "Re-authenticate"
	case 0x80:
		return "Unspecified error"
	case 0x81:
		return "Malformed Packet"
	case 0x82:
		return "Protocol Error"
	case 0x83:
		return "Implementation specific error"
	case 0x84:
		return "Unsupported Protocol Version"
	case 0x85:
		return "Client Identifier not valid"
	case 0x86:
		return "Bad User Name or Password"
	case 0x87:
		return "Not authorized"
	case 0x88:
		return "Server unavailable"
	case 0x89:
		return "Server busy"
	case 0x8A:
		return "Banned"
	case 0x8B:
		return "Server shutting down"
	case 0x8C:
		return "Bad authentication method"
	case 0x8D:
		return "Keep Alive timeout"
	case 0x8E:
		return "Session taken over"
	case 0x8F:
		return "Topic Filter invalid"
	case 0x90:
		return "Topic Name invalid"
	case 0x91:
		return "Packet Identifier in use"
	case 0x92:
		return "Packet Identifier not found"
	case 0x93:
		return "Receive Maximum exceeded"
	case 0x94:
		return "Topic Alias invalid"
	case 0x95:
		return "Packet too large"
	case 0x96:
		return "Message rate too high"
	case 0x97:
		return "Quota exceeded"
	case 0x98:
		return "Administrative action"
	case 0x99:
		return "Payload format invalid"
	case 0x9A:
		return "Retain not supported"
	case 0x9B:
		return "QoS not supported"
	case 0x9C:
		return "Use another server"
	case 0x9D:
		return "Server moved"
	case 0x9E:
		return "Shared Subscriptions not supported"
	case 0x9F:
		return "Connection rate exceeded"
	case 0xA0:
		return "Maximum connect time"
	case 0xA1:
		return "Subscription Identifiers not supported"
	case 0xA2:
		return "Wildcard Subscriptions not supported"
	}
	return ""
}

// connackName returns the 3.1.1 CONNACK return code's meaning.
func connackName(c uint8) string {
	switch c {
	case 0:
		return "Connection Accepted"
	case 1:
		return "unacceptable protocol version"
	case 2:
		return "identifier rejected"
	case 3:
		return "Server unavailable"
	case 4:
		return "bad user name or password"
	case 5:
		return "not authorized"
	}
	return ""
}
