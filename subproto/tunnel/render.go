package tunnel

import (
	"strconv"

	"github.com/wsdissect/wsdissect/subproto/app"
	"github.com/wsdissect/wsdissect/subproto/internal/jsonx"
)

// Name returns the display name of a tunnel protocol.
func Name(p string) string {
	switch p {
	case SSH:
		return "SSH"
	case TLS:
		return "TLS"
	case HTTP:
		return "HTTP"
	case SOCKS4:
		return "SOCKS4"
	case SOCKS5:
		return "SOCKS5"
	case RFB:
		return "VNC (RFB)"
	}
	return "unknown"
}

// AppendSummary implements app.Record: `Tunnel SSH 1234 bytes:
// SSH-2.0-OpenSSH_9.6`.
func (r *Record) AppendSummary(b []byte) []byte {
	b = append(b, "Tunnel "...)
	b = append(b, Name(r.Tunnel)...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(r.Len), 10)
	b = append(b, " bytes"...)
	if r.Info != "" {
		b = append(b, ": "...)
		for _, c := range []byte(r.Info) {
			if c < 0x20 || c == 0x7f {
				c = ' '
			}
			b = append(b, c)
		}
	}
	if r.err != "" {
		b = append(b, " [malformed: "...)
		b = append(b, r.err...)
		b = append(b, ']')
	}
	return b
}

// AppendJSON implements app.Record.
func (r *Record) AppendJSON(b []byte) []byte {
	b = append(b, `{"tunnel":`...)
	b = jsonx.AppendStr(b, r.Tunnel)
	b = append(b, `,"offset":`...)
	b = strconv.AppendUint(b, r.Offset, 10)
	b = append(b, `,"len":`...)
	b = strconv.AppendInt(b, int64(r.Len), 10)
	if r.Info != "" {
		b = append(b, `,"info":`...)
		b = jsonx.AppendStr(b, r.Info)
	}
	if r.err != "" {
		b = append(b, `,"malformed":`...)
		b = jsonx.AppendStr(b, r.err)
	}
	return append(b, '}')
}

// Tree implements app.Record.
func (r *Record) Tree(emit func(depth int, name, value string)) {
	emit = app.OneLine(emit)
	emit(0, "Tunnel", Name(r.Tunnel))
	emit(1, "Stream offset", strconv.FormatUint(r.Offset, 10))
	emit(1, "Length", strconv.Itoa(r.Len))
	if r.Info != "" {
		emit(1, "Opening", r.Info)
	}
	if r.err != "" {
		emit(1, "Malformed", r.err)
	}
}

// Fields returns the tunnel filter fields.
func Fields() []app.Field {
	return []app.Field{
		{Name: "tunnel", Kind: app.String, Desc: "protocol tunnelled in binary messages (ssh, tls, http, socks4, socks5, rfb; empty when unknown)", Get: func(r app.Record, d []app.Value) []app.Value {
			if x, ok := r.(*Record); ok {
				d = append(d, app.Value{B: []byte(x.Tunnel)})
			}
			return d
		}},
		{Name: "tunnel.info", Kind: app.String, Desc: "what the stream's opening said (banner, request line, TLS server name, SOCKS target)", Get: func(r app.Record, d []app.Value) []app.Value {
			if x, ok := r.(*Record); ok && x.Info != "" {
				d = append(d, app.Value{B: []byte(x.Info)})
			}
			return d
		}},
	}
}
