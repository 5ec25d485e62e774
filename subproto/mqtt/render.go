package mqtt

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

// AppendSummary implements app.Record:
// `MQTT PUBLISH sensors/t1 QoS1 id=7 (12 bytes)`.
func (p *Packet) AppendSummary(b []byte) []byte {
	b = append(b, "MQTT "...)
	b = append(b, TypeName(p.Type)...)
	switch p.Type {
	case CONNECT:
		b = append(b, " client="...)
		b = appendPrintable(b, p.ClientID)
		b = append(b, " v"...)
		b = append(b, levelName(p.ProtoLevel)...)
		b = append(b, " keepalive="...)
		b = strconv.AppendUint(b, uint64(p.KeepAlive), 10)
		if p.ConnectFlags&2 != 0 {
			b = append(b, " clean"...)
		}
		if len(p.Username) > 0 {
			b = append(b, " user="...)
			b = appendPrintable(b, p.Username)
		}
	case PUBLISH:
		b = append(b, ' ')
		b = appendPrintable(b, p.Topic)
		b = append(b, " QoS"...)
		b = strconv.AppendUint(b, uint64(p.QoS()), 10)
		if p.HasID {
			b = append(b, " id="...)
			b = strconv.AppendUint(b, uint64(p.PacketID), 10)
		}
		if p.Retain() {
			b = append(b, " retain"...)
		}
		if p.Dup() {
			b = append(b, " dup"...)
		}
		b = append(b, " ("...)
		b = strconv.AppendInt(b, int64(len(p.Payload)), 10)
		b = append(b, " bytes)"...)
	case SUBSCRIBE, UNSUBSCRIBE:
		b = append(b, " id="...)
		b = strconv.AppendUint(b, uint64(p.PacketID), 10)
		for i, s := range p.Subs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, ' ')
			b = appendPrintable(b, s.Topic)
			if p.Type == SUBSCRIBE {
				b = append(b, " QoS"...)
				b = strconv.AppendUint(b, uint64(s.QoS()), 10)
			}
		}
	case SUBACK, UNSUBACK:
		b = append(b, " id="...)
		b = strconv.AppendUint(b, uint64(p.PacketID), 10)
		if len(p.Codes) > 0 {
			b = append(b, " ["...)
			for i, c := range p.Codes {
				if i > 0 {
					b = append(b, ' ')
				}
				b = append(b, "0x"...)
				b = appendHex2(b, c)
			}
			b = append(b, ']')
		}
	default:
		if p.HasID {
			b = append(b, " id="...)
			b = strconv.AppendUint(b, uint64(p.PacketID), 10)
		}
	}
	if p.HasReason {
		b = append(b, " rc=0x"...)
		b = appendHex2(b, p.ReasonCode)
		if n := p.reasonName(); n != "" {
			b = append(b, " ("...)
			b = append(b, n...)
			b = append(b, ')')
		}
	}
	if p.Messages > 1 {
		b = append(b, " [in "...)
		b = strconv.AppendInt(b, int64(p.Messages), 10)
		b = append(b, " messages]"...)
	}
	if p.err != "" {
		b = append(b, " [malformed: "...)
		b = append(b, p.err...)
		b = append(b, ']')
	}
	return b
}

// appendPrintable appends s with control characters as spaces, so that a
// summary stays on one line.
func appendPrintable(b, s []byte) []byte {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		b = append(b, c)
	}
	return b
}

func (p *Packet) reasonName() string {
	if p.Type == CONNACK && p.Level < 5 {
		return connackName(p.ReasonCode)
	}
	return ReasonName(p.ReasonCode)
}

func levelName(l uint8) string {
	switch l {
	case 3:
		return "3.1"
	case 4:
		return "3.1.1"
	case 5:
		return "5.0"
	}
	return strconv.Itoa(int(l))
}

func appendHex2(b []byte, c uint8) []byte {
	const hx = "0123456789abcdef"
	return append(b, hx[c>>4], hx[c&15])
}

// appendData appends key and value: a JSON string when v is valid UTF-8,
// else key+"_b64" with base64.
func appendData(b []byte, key string, v []byte) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	if utf8.Valid(v) {
		b = append(b, `":`...)
		return jsonx.AppendString(b, v)
	}
	b = append(b, `_b64":"`...)
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

func appendUint(b []byte, key string, v uint64) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendUint(b, v, 10)
}

func appendBool(b []byte, key string, v bool) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendBool(b, v)
}

func appendProps(b []byte, key string, raw []byte) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, `":[`...)
	it := Properties(raw)
	for i := 0; ; i++ {
		pr, ok := it.Next()
		if !ok {
			break
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendUint(b, uint64(pr.ID), 10)
		b = append(b, `,"name":"`...)
		b = append(b, pr.Name...)
		b = append(b, '"')
		switch {
		case pr.Numeric:
			b = appendUint(b, "value", pr.N)
		case pr.Pair:
			b = appendData(b, "key", pr.K)
			b = appendData(b, "value", pr.V)
		default:
			b = appendData(b, "value", pr.V)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// AppendJSON implements app.Record.
func (p *Packet) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":"`...)
	b = append(b, TypeName(p.Type)...)
	b = append(b, '"')
	b = appendUint(b, "msgtype", uint64(p.Type))
	b = appendUint(b, "flags", uint64(p.Flags))
	b = appendUint(b, "len", uint64(p.Length))
	b = appendUint(b, "level", uint64(p.Level))
	if p.Messages > 1 {
		b = appendUint(b, "messages", uint64(p.Messages))
	}
	switch p.Type {
	case CONNECT:
		b = appendData(b, "protocol_name", p.ProtoName)
		b = appendUint(b, "protocol_level", uint64(p.ProtoLevel))
		b = appendUint(b, "connect_flags", uint64(p.ConnectFlags))
		b = appendBool(b, "clean_start", p.ConnectFlags&2 != 0)
		b = appendUint(b, "keep_alive", uint64(p.KeepAlive))
		b = appendData(b, "client_id", p.ClientID)
		if p.ConnectFlags&4 != 0 {
			b = appendData(b, "will_topic", p.WillTopic)
			b = appendData(b, "will_payload", p.WillPayload)
			b = appendUint(b, "will_qos", uint64(p.ConnectFlags>>3&3))
			b = appendBool(b, "will_retain", p.ConnectFlags&0x20 != 0)
			if len(p.WillProps) > 0 {
				b = appendProps(b, "will_properties", p.WillProps)
			}
		}
		if p.ConnectFlags&0x80 != 0 {
			b = appendData(b, "username", p.Username)
		}
		if p.ConnectFlags&0x40 != 0 {
			b = appendUint(b, "password_len", uint64(len(p.Password)))
		}
	case CONNACK:
		b = appendBool(b, "session_present", p.SessionPresent)
	case PUBLISH:
		b = appendData(b, "topic", p.Topic)
		b = appendUint(b, "qos", uint64(p.QoS()))
		b = appendBool(b, "retain", p.Retain())
		b = appendBool(b, "dup", p.Dup())
	case SUBSCRIBE, UNSUBSCRIBE:
		b = append(b, `,"topics":[`...)
		for i, s := range p.Subs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"topic":`...)
			b = jsonx.AppendString(b, s.Topic)
			if p.Type == SUBSCRIBE {
				b = appendUint(b, "qos", uint64(s.QoS()))
				b = appendUint(b, "options", uint64(s.Options))
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	case SUBACK, UNSUBACK:
		if p.Type == SUBACK || p.Level >= 5 {
			b = append(b, `,"codes":[`...)
			for i, c := range p.Codes {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendUint(b, uint64(c), 10)
			}
			b = append(b, ']')
		}
	}
	if p.HasID {
		b = appendUint(b, "id", uint64(p.PacketID))
	}
	if p.HasReason {
		b = appendUint(b, "reason_code", uint64(p.ReasonCode))
		if n := p.reasonName(); n != "" {
			b = append(b, `,"reason":`...)
			b = jsonx.AppendStr(b, n)
		}
	}
	if p.HasProps && len(p.Props) > 0 {
		b = appendProps(b, "properties", p.Props)
	}
	if p.Type == PUBLISH && p.err == "" {
		b = appendUint(b, "payload_len", uint64(len(p.Payload)))
		b = appendData(b, "payload", p.Payload)
	}
	if p.err != "" {
		b = append(b, `,"malformed":`...)
		b = jsonx.AppendStr(b, p.err)
	}
	return append(b, '}')
}

func show(v []byte) string {
	if utf8.Valid(v) {
		return string(v)
	}
	return base64.StdEncoding.EncodeToString(v) + " (base64)"
}

func u(n uint64) string { return strconv.FormatUint(n, 10) }

func treeProps(emit func(int, string, string), depth int, name string, raw []byte) {
	emit(depth, name, "")
	it := Properties(raw)
	for {
		pr, ok := it.Next()
		if !ok {
			return
		}
		switch {
		case pr.Numeric:
			emit(depth+1, pr.Name, u(pr.N))
		case pr.Pair:
			emit(depth+1, pr.Name, show(pr.K)+" = "+show(pr.V))
		default:
			emit(depth+1, pr.Name, show(pr.V))
		}
	}
}

// Tree implements app.Record.
func (p *Packet) Tree(emit func(depth int, name, value string)) {
	emit = app.OneLine(emit)
	emit(0, "MQTT", TypeName(p.Type))
	emit(1, "Message type", TypeName(p.Type)+" ("+u(uint64(p.Type))+")")
	emit(1, "Flags", "0x"+string(appendHex2(nil, p.Flags)))
	emit(1, "Remaining length", u(uint64(p.Length)))
	emit(1, "Protocol level", levelName(p.Level))
	if p.Messages > 1 {
		emit(1, "Reassembled from messages", u(uint64(p.Messages)))
	}
	switch p.Type {
	case CONNECT:
		emit(1, "Protocol name", show(p.ProtoName))
		emit(1, "Version", levelName(p.ProtoLevel))
		emit(1, "Connect flags", "0x"+string(appendHex2(nil, p.ConnectFlags)))
		emit(2, "Clean start", strconv.FormatBool(p.ConnectFlags&2 != 0))
		emit(2, "Will", strconv.FormatBool(p.ConnectFlags&4 != 0))
		emit(2, "User name", strconv.FormatBool(p.ConnectFlags&0x80 != 0))
		emit(2, "Password", strconv.FormatBool(p.ConnectFlags&0x40 != 0))
		emit(1, "Keep alive", u(uint64(p.KeepAlive)))
		emit(1, "Client ID", show(p.ClientID))
		if p.ConnectFlags&4 != 0 {
			if len(p.WillProps) > 0 {
				treeProps(emit, 1, "Will properties", p.WillProps)
			}
			emit(1, "Will topic", show(p.WillTopic))
			emit(1, "Will payload", show(p.WillPayload))
			emit(1, "Will QoS", u(uint64(p.ConnectFlags>>3&3)))
			emit(1, "Will retain", strconv.FormatBool(p.ConnectFlags&0x20 != 0))
		}
		if p.ConnectFlags&0x80 != 0 {
			emit(1, "User name", show(p.Username))
		}
		if p.ConnectFlags&0x40 != 0 {
			emit(1, "Password length", u(uint64(len(p.Password))))
		}
	case CONNACK:
		emit(1, "Session present", strconv.FormatBool(p.SessionPresent))
	case PUBLISH:
		emit(1, "Topic", show(p.Topic))
		emit(1, "QoS", u(uint64(p.QoS())))
		emit(1, "Retain", strconv.FormatBool(p.Retain()))
		emit(1, "DUP", strconv.FormatBool(p.Dup()))
	case SUBSCRIBE, UNSUBSCRIBE:
		for _, s := range p.Subs {
			if p.Type == SUBSCRIBE {
				emit(1, "Topic filter", show(s.Topic)+" (QoS "+u(uint64(s.QoS()))+", options 0x"+string(appendHex2(nil, s.Options))+")")
			} else {
				emit(1, "Topic filter", show(s.Topic))
			}
		}
	case SUBACK, UNSUBACK:
		for _, c := range p.Codes {
			v := "0x" + string(appendHex2(nil, c))
			if n := ReasonName(c); n != "" {
				v += " (" + n + ")"
			}
			emit(1, "Reason code", v)
		}
	}
	if p.HasID {
		emit(1, "Packet identifier", u(uint64(p.PacketID)))
	}
	if p.HasReason {
		v := "0x" + string(appendHex2(nil, p.ReasonCode))
		if n := p.reasonName(); n != "" {
			v += " (" + n + ")"
		}
		emit(1, "Reason code", v)
	}
	if p.HasProps && len(p.Props) > 0 {
		treeProps(emit, 1, "Properties", p.Props)
	}
	if p.Type == PUBLISH && p.err == "" {
		emit(1, "Payload", show(p.Payload))
	}
	if p.err != "" {
		emit(1, "Malformed", p.err)
	}
}

func get(r app.Record) *Packet {
	p, _ := r.(*Packet)
	return p
}

// Fields returns the MQTT filter fields, under Wireshark's names.
func Fields() []app.Field {
	return []app.Field{
		{Name: "mqtt.msgtype", Kind: app.Uint, Desc: "control packet type (1 CONNECT ... 15 AUTH)", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil {
				d = append(d, app.Num(uint64(p.Type)))
			}
			return d
		}},
		{Name: "mqtt.len", Kind: app.Uint, Desc: "remaining length", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil {
				d = append(d, app.Num(uint64(p.Length)))
			}
			return d
		}},
		{Name: "mqtt.topic", Kind: app.String, Desc: "topic name of PUBLISH, topic filters of SUBSCRIBE/UNSUBSCRIBE", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil {
				if p.Type == PUBLISH && p.err == "" {
					d = append(d, app.Str(p.Topic))
				}
				for _, s := range p.Subs {
					d = append(d, app.Str(s.Topic))
				}
			}
			return d
		}},
		{Name: "mqtt.qos", Kind: app.Uint, Desc: "QoS of PUBLISH", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == PUBLISH {
				d = append(d, app.Num(uint64(p.QoS())))
			}
			return d
		}},
		{Name: "mqtt.retain", Kind: app.Bool, Desc: "RETAIN flag of PUBLISH", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == PUBLISH {
				d = append(d, app.Flag(p.Retain()))
			}
			return d
		}},
		{Name: "mqtt.dupflag", Kind: app.Bool, Desc: "DUP flag of PUBLISH", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == PUBLISH {
				d = append(d, app.Flag(p.Dup()))
			}
			return d
		}},
		{Name: "mqtt.msgid", Kind: app.Uint, Desc: "packet identifier", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.HasID {
				d = append(d, app.Num(uint64(p.PacketID)))
			}
			return d
		}},
		{Name: "mqtt.msg", Kind: app.Bytes, Desc: "PUBLISH payload", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == PUBLISH && p.err == "" {
				d = append(d, app.Str(p.Payload))
			}
			return d
		}},
		{Name: "mqtt.clientid", Kind: app.String, Desc: "client identifier of CONNECT", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == CONNECT {
				d = append(d, app.Str(p.ClientID))
			}
			return d
		}},
		{Name: "mqtt.username", Kind: app.String, Desc: "user name of CONNECT", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == CONNECT && p.ConnectFlags&0x80 != 0 {
				d = append(d, app.Str(p.Username))
			}
			return d
		}},
		{Name: "mqtt.protoname", Kind: app.String, Desc: "protocol name of CONNECT (MQTT, MQIsdp)", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == CONNECT {
				d = append(d, app.Str(p.ProtoName))
			}
			return d
		}},
		{Name: "mqtt.ver", Kind: app.Uint, Desc: "protocol level of CONNECT (3, 4, 5)", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == CONNECT {
				d = append(d, app.Num(uint64(p.ProtoLevel)))
			}
			return d
		}},
		{Name: "mqtt.kalive", Kind: app.Uint, Desc: "keep alive of CONNECT, seconds", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == CONNECT {
				d = append(d, app.Num(uint64(p.KeepAlive)))
			}
			return d
		}},
		{Name: "mqtt.willtopic", Kind: app.String, Desc: "will topic of CONNECT", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == CONNECT && p.ConnectFlags&4 != 0 {
				d = append(d, app.Str(p.WillTopic))
			}
			return d
		}},
		{Name: "mqtt.conack.val", Kind: app.Uint, Desc: "CONNACK return/reason code", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.Type == CONNACK && p.HasReason {
				d = append(d, app.Num(uint64(p.ReasonCode)))
			}
			return d
		}},
		{Name: "mqtt.reason_code", Kind: app.Uint, Desc: "reason codes (5.0 acknowledgements, DISCONNECT, AUTH, SUBACK/UNSUBACK codes)", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil {
				if p.HasReason {
					d = append(d, app.Num(uint64(p.ReasonCode)))
				}
				for _, c := range p.Codes {
					d = append(d, app.Num(uint64(c)))
				}
			}
			return d
		}},
		{Name: "mqtt.malformed", Kind: app.String, Desc: "why the packet did not parse", Get: func(r app.Record, d []app.Value) []app.Value {
			if p := get(r); p != nil && p.err != "" {
				d = append(d, app.Value{B: []byte(p.err)})
			}
			return d
		}},
	}
}
