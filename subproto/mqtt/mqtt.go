// Package mqtt decodes MQTT 3.1, 3.1.1 and 5.0 control packets carried over
// WebSocket (binary messages, OASIS MQTT 3.1.1 section 6 and 5.0 section 6).
//
// MQTT over WebSocket is a byte stream: a packet may span several messages
// and one message may hold several packets (mqtt.js writes the fixed header
// and the rest separately in some versions), so each direction keeps the
// bytes of an unfinished packet until the rest arrives. The protocol level
// (4 for 3.1.1, 5 for 5.0) is taken from the client's CONNECT and applies to
// both directions of the connection.
package mqtt

import (
	"strconv"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/carry"
)

// Control packet types.
const (
	CONNECT     = 1
	CONNACK     = 2
	PUBLISH     = 3
	PUBACK      = 4
	PUBREC      = 5
	PUBREL      = 6
	PUBCOMP     = 7
	SUBSCRIBE   = 8
	SUBACK      = 9
	UNSUBSCRIBE = 10
	UNSUBACK    = 11
	PINGREQ     = 12
	PINGRESP    = 13
	DISCONNECT  = 14
	AUTH        = 15
)

var typeNames = [16]string{"Reserved", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
	"SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "AUTH"}

// TypeName returns the name of control packet type t ("PUBLISH").
func TypeName(t uint8) string { return typeNames[t&15] }

// DefaultMaxPacket is the default bound on a packet's size that the
// decoder reassembles; a larger packet is reported malformed and skipped.
const DefaultMaxPacket = 16 << 20

// Subscription is one topic filter of SUBSCRIBE (with its options byte) or
// UNSUBSCRIBE (Options 0).
type Subscription struct {
	Topic   []byte
	Options uint8
}

// QoS returns the maximum QoS requested in the options.
func (s Subscription) QoS() uint8 { return s.Options & 3 }

// Packet is one decoded MQTT control packet. Byte slices point into the
// message payload or the decoder's reassembly buffer.
type Packet struct {
	Type  uint8
	Flags uint8 // low nibble of the fixed header
	// Level is the protocol level in effect: 3 (3.1), 4 (3.1.1) or 5.
	Level uint8
	// Length is the remaining length from the fixed header.
	Length int
	// Messages is how many WebSocket messages carried the packet.
	Messages int

	// CONNECT
	ProtoName    []byte
	ProtoLevel   uint8
	ConnectFlags uint8
	KeepAlive    uint16
	ClientID     []byte
	WillProps    []byte
	WillTopic    []byte
	WillPayload  []byte
	Username     []byte
	Password     []byte

	// CONNACK
	SessionPresent bool

	// PUBLISH (Topic, Payload) and packets with identifiers.
	Topic    []byte
	PacketID uint16
	HasID    bool
	Payload  []byte

	// ReasonCode is the CONNACK return code or the 5.0 reason code of the
	// acknowledgements, DISCONNECT and AUTH; HasReason tells whether present.
	ReasonCode uint8
	HasReason  bool
	// Codes are SUBACK return codes and 5.0 UNSUBACK reason codes.
	Codes []byte
	// Subs are the topic filters of SUBSCRIBE and UNSUBSCRIBE.
	Subs []Subscription

	// Props is the raw 5.0 property list (without its length); HasProps
	// tells whether the packet carried one.
	Props    []byte
	HasProps bool

	err string
}

// Protocol implements app.Record.
func (p *Packet) Protocol() string { return "mqtt" }

// Malformed implements app.Record.
func (p *Packet) Malformed() string { return p.err }

// QoS returns the QoS of a PUBLISH (flags bits 1-2).
func (p *Packet) QoS() uint8 { return p.Flags >> 1 & 3 }

// Retain returns the RETAIN flag of a PUBLISH.
func (p *Packet) Retain() bool { return p.Type == PUBLISH && p.Flags&1 != 0 }

// Dup returns the DUP flag of a PUBLISH.
func (p *Packet) Dup() bool { return p.Type == PUBLISH && p.Flags&8 != 0 }

func (p *Packet) reset() {
	codes, subs := p.Codes[:0], p.Subs[:0]
	*p = Packet{Codes: codes, Subs: subs}
}

// Decoder decodes one connection's MQTT packets; see app.Decoder.
type Decoder struct {
	// MaxPacket bounds the packet size reassembled (DefaultMaxPacket if 0).
	MaxPacket int
	hold      int // HoldAtMost's bound (0: none)
	level     uint8
	dirs      [2]dirState
	pool      []*Packet
	out       []app.Record
}

type dirState struct {
	carry.Buffer     // bytes of an unfinished packet, and the messages that carried them
	skip         int // bytes of an oversized packet still to discard
}

// NewDecoder returns a decoder that assumes protocol level 4 (3.1.1) until
// it sees a CONNECT.
func NewDecoder() *Decoder { return &Decoder{level: 4} }

// SetLevel sets the protocol level to assume before a CONNECT (3, 4 or 5).
func (d *Decoder) SetLevel(l uint8) { d.level = l }

// Level returns the protocol level in effect.
func (d *Decoder) Level() uint8 { return d.level }

func (d *Decoder) next() *Packet {
	n := len(d.out)
	if n == len(d.pool) {
		d.pool = append(d.pool, new(Packet))
	}
	p := d.pool[n]
	p.reset()
	p.Level = d.level
	d.out = append(d.out, p)
	return p
}

// Decode implements app.Decoder.
func (d *Decoder) Decode(m app.Message) []app.Record {
	d.out = d.out[:0]
	st := &d.dirs[m.Dir&1]
	data := m.Payload
	if st.skip > 0 {
		if len(data) <= st.skip {
			st.skip -= len(data)
			return d.out
		}
		data = data[st.skip:]
		st.skip = 0
	}
	data = st.Join(data)
	maxp := d.MaxPacket
	if maxp <= 0 {
		maxp = DefaultMaxPacket
	}
	if d.hold > 0 {
		maxp = min(maxp, d.hold)
	}
	i := 0
	for i < len(data) {
		rem, hl, state := fixedHeader(data[i:])
		if state == headerShort {
			break
		}
		if state == headerBad {
			p := d.next()
			p.Type = data[i] >> 4
			p.Flags = data[i] & 15
			p.Messages = st.Msgs
			p.err = "remaining length longer than 4 bytes"
			i = len(data)
			break
		}
		if hl+rem > maxp {
			p := d.next()
			p.Type = data[i] >> 4
			p.Flags = data[i] & 15
			p.Length = rem
			p.Messages = st.Msgs
			p.err = "packet of " + strconv.Itoa(hl+rem) + " bytes exceeds the limit of " + strconv.Itoa(maxp)
			if maxp == d.hold {
				p.err += " (lowered while the memory budget is exhausted)"
			}
			if avail := len(data) - i; avail < hl+rem {
				st.skip = hl + rem - avail
				i = len(data)
			} else {
				i += hl + rem
			}
			st.Msgs = 1
			continue
		}
		if len(data)-i < hl+rem {
			break
		}
		p := d.next()
		p.Messages = st.Msgs
		d.parse(p, data[i], data[i+hl:i+hl+rem])
		p.Length = rem
		i += hl + rem
		st.Msgs = 1
	}
	st.Keep(data, i)
	return d.out
}

type headerState uint8

const (
	headerOK headerState = iota
	headerShort
	headerBad
)

// fixedHeader reads the fixed header at the start of b: the remaining
// length and the header's size.
func fixedHeader(b []byte) (rem, hl int, st headerState) {
	if len(b) < 2 {
		return 0, 0, headerShort
	}
	mult := 1
	for i := 1; i <= 4; i++ {
		if i >= len(b) {
			return 0, 0, headerShort
		}
		c := b[i]
		rem += int(c&127) * mult
		if c&128 == 0 {
			return rem, i + 1, headerOK
		}
		mult *= 128
	}
	return 0, 0, headerBad
}

// reader reads the fields of a packet body.
type reader struct {
	b   []byte
	err string
}

func (r *reader) fail(what string) {
	if r.err == "" {
		r.err = "truncated " + what
	}
	r.b = nil
}

func (r *reader) byte1(what string) uint8 {
	if len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) u16(what string) uint16 {
	if len(r.b) < 2 {
		r.fail(what)
		return 0
	}
	v := uint16(r.b[0])<<8 | uint16(r.b[1])
	r.b = r.b[2:]
	return v
}

// bin reads a two-byte length and that many bytes.
func (r *reader) bin(what string) []byte {
	n := int(r.u16(what))
	if r.err != "" {
		return nil
	}
	if len(r.b) < n {
		r.fail(what)
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) varint(what string) int {
	v, mult := 0, 1
	for i := 0; i < 4; i++ {
		if len(r.b) == 0 {
			r.fail(what)
			return 0
		}
		c := r.b[0]
		r.b = r.b[1:]
		v += int(c&127) * mult
		if c&128 == 0 {
			return v
		}
		mult *= 128
	}
	if r.err == "" {
		r.err = "variable byte integer longer than 4 bytes in " + what
	}
	r.b = nil
	return 0
}

// props reads a 5.0 property list and validates it.
func (r *reader) props() []byte {
	n := r.varint("property length")
	if r.err != "" {
		return nil
	}
	if len(r.b) < n {
		r.fail("properties")
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	if err := validProps(p); err != "" {
		r.err = err
	}
	return p
}

func (d *Decoder) parse(p *Packet, h byte, body []byte) {
	p.Type, p.Flags = h>>4, h&15
	r := reader{b: body}
	v5 := d.level >= 5
	switch p.Type {
	case CONNECT:
		p.ProtoName = r.bin("protocol name")
		p.ProtoLevel = r.byte1("protocol level")
		if r.err == "" {
			switch p.ProtoLevel {
			case 3, 4, 5:
				d.level = p.ProtoLevel
				p.Level = p.ProtoLevel
				v5 = p.ProtoLevel == 5
			default:
				r.err = "unknown protocol level " + strconv.Itoa(int(p.ProtoLevel))
			}
		}
		p.ConnectFlags = r.byte1("connect flags")
		p.KeepAlive = r.u16("keep alive")
		if v5 && r.err == "" {
			p.Props, p.HasProps = r.props(), true
		}
		p.ClientID = r.bin("client identifier")
		if p.ConnectFlags&0x04 != 0 {
			if v5 && r.err == "" {
				p.WillProps = r.props()
			}
			p.WillTopic = r.bin("will topic")
			p.WillPayload = r.bin("will payload")
		}
		if p.ConnectFlags&0x80 != 0 {
			p.Username = r.bin("user name")
		}
		if p.ConnectFlags&0x40 != 0 {
			p.Password = r.bin("password")
		}
		if r.err == "" && p.ConnectFlags&1 != 0 {
			r.err = "reserved connect flag set"
		}
	case CONNACK:
		f := r.byte1("acknowledge flags")
		p.SessionPresent = f&1 != 0
		p.ReasonCode, p.HasReason = r.byte1("return code"), true
		if v5 && r.err == "" {
			p.Props, p.HasProps = r.props(), true
		}
	case PUBLISH:
		if p.QoS() == 3 {
			r.err = "PUBLISH with QoS 3"
		}
		p.Topic = r.bin("topic name")
		if p.QoS() > 0 {
			p.PacketID, p.HasID = r.u16("packet identifier"), true
		}
		if v5 && r.err == "" {
			p.Props, p.HasProps = r.props(), true
		}
		if r.err == "" {
			p.Payload = r.b
			r.b = nil
		}
	case PUBACK, PUBREC, PUBREL, PUBCOMP:
		p.PacketID, p.HasID = r.u16("packet identifier"), true
		if v5 && r.err == "" && len(r.b) > 0 {
			p.ReasonCode, p.HasReason = r.b[0], true
			r.b = r.b[1:]
			if len(r.b) > 0 {
				p.Props, p.HasProps = r.props(), true
			}
		}
	case SUBSCRIBE, UNSUBSCRIBE:
		p.PacketID, p.HasID = r.u16("packet identifier"), true
		if v5 && r.err == "" {
			p.Props, p.HasProps = r.props(), true
		}
		for r.err == "" && len(r.b) > 0 {
			s := Subscription{Topic: r.bin("topic filter")}
			if p.Type == SUBSCRIBE {
				s.Options = r.byte1("subscription options")
			}
			if r.err == "" {
				p.Subs = append(p.Subs, s)
			}
		}
		if r.err == "" && len(p.Subs) == 0 {
			r.err = TypeName(p.Type) + " without topic filters"
		}
	case SUBACK, UNSUBACK:
		p.PacketID, p.HasID = r.u16("packet identifier"), true
		if v5 && r.err == "" {
			p.Props, p.HasProps = r.props(), true
		}
		if r.err == "" {
			p.Codes = append(p.Codes, r.b...)
			r.b = nil
		}
	case PINGREQ, PINGRESP:
	case DISCONNECT, AUTH:
		if (v5 || p.Type == AUTH) && len(r.b) > 0 {
			p.ReasonCode, p.HasReason = r.b[0], true
			r.b = r.b[1:]
			if len(r.b) > 0 {
				p.Props, p.HasProps = r.props(), true
			}
		}
		if p.Type == AUTH && !v5 && r.err == "" {
			r.err = "AUTH before MQTT 5.0"
		}
	default:
		r.err = "reserved packet type 0"
	}
	if r.err == "" && len(r.b) > 0 {
		r.err = strconv.Itoa(len(r.b)) + " bytes left over after the " + TypeName(p.Type) + " packet"
	}
	if p.Type != PUBLISH {
		d.checkFlags(p, &r)
	}
	p.err = r.err
}

// checkFlags checks the fixed header flags that are fixed for the type.
func (d *Decoder) checkFlags(p *Packet, r *reader) {
	if r.err != "" {
		return
	}
	want := uint8(0)
	if p.Type == PUBREL || p.Type == SUBSCRIBE || p.Type == UNSUBSCRIBE {
		want = 2
	}
	if p.Flags != want {
		r.err = "fixed header flags " + strconv.Itoa(int(p.Flags)) + " invalid for " + TypeName(p.Type)
	}
}

// Gap implements app.Gapper: an unfinished packet is returned malformed
// and the direction starts over at the next message.
func (d *Decoder) Gap(dir app.Dir) []app.Record {
	d.out = d.out[:0]
	st := &d.dirs[dir&1]
	if held := st.Held(); len(held) > 0 {
		p := d.next()
		p.Type, p.Flags = held[0]>>4, held[0]&15
		p.Messages = st.Msgs
		rem, hl, state := fixedHeader(held)
		if state == headerOK {
			p.Length = rem
			p.err = "packet cut by missing data: " + strconv.Itoa(len(held)) + " of " + strconv.Itoa(hl+rem) + " bytes"
		} else {
			p.err = "packet cut by missing data inside its fixed header"
		}
	}
	st.Release() // the record keeps the bytes: Release leaves them intact
	st.skip = 0
	return d.out
}

// Pending implements app.Pender: the bytes of an unfinished packet held
// for the next message of direction dir, or of an oversized one still
// being skipped.
func (d *Decoder) Pending(dir app.Dir) (app.Pending, bool) {
	st := &d.dirs[dir&1]
	if st.skip > 0 {
		return app.Pending{What: "oversized MQTT packet", Have: st.skip, Unit: "bytes still to skip", Messages: st.Msgs}, true
	}
	held := st.Held()
	if len(held) == 0 {
		return app.Pending{}, false
	}
	p := app.Pending{What: "MQTT " + TypeName(held[0]>>4) + " packet", Have: len(held), Unit: "bytes", Messages: st.Msgs}
	if rem, hl, state := fixedHeader(held); state == headerOK {
		p.Want = hl + rem
	}
	return p, true
}
