package filter

import (
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
)

// h2Records are a conn and a frame record of a WebSocket over HTTP/2
// stream 5, and a frame over HTTP/1.1.
func h2Records() (conn, frame, h1 *dissect.Record) {
	c := testConn()
	c.HTTP2, c.H2Stream, c.Method, c.Status = true, 5, "CONNECT", 200
	c.RequestHeaders = []dissect.Header{{Name: ":method", Value: "CONNECT"}, {Name: ":protocol", Value: "websocket"}, {Name: "origin", Value: "https://x"}}
	c.ResponseHeaders = []dissect.Header{{Name: ":status", Value: "200"}}
	conn = &dissect.Record{Kind: dissect.KindConn, Conn: c}
	frame = textFrame()
	frame.Conn = c
	return conn, frame, textFrame()
}

func TestHTTP2Fields(t *testing.T) {
	conn, frame, h1 := h2Records()
	for _, tc := range []struct {
		expr              string
		conn, frame, http bool
	}{
		{"http2.streamid == 5", true, true, false},
		{"http2.streamid", true, true, false},
		{"http2.type == 1", true, false, false},
		{"http2.type == 0", false, true, false},
		{`http2.header.name == ":protocol"`, true, true, false},
		{`http2.header.value == "200"`, true, true, false},
		{`http2.header.value == "websocket" && http2.header.name == "origin"`, true, true, false},
		{`http2.header.name == "cookie"`, false, false, false},
		{`http.version == "2"`, true, true, false},
		{`http.version == "1.1"`, false, false, true},
	} {
		f, err := Compile(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		for _, c := range []struct {
			r    *dissect.Record
			want bool
		}{{conn, tc.conn}, {frame, tc.frame}, {h1, tc.http}} {
			if got := f.Match(c.r); got != c.want {
				t.Errorf("%s on %s (h2 stream %d): %v, want %v", tc.expr, c.r.Kind, c.r.Conn.H2Stream, got, c.want)
			}
		}
	}
}

// TestSinkKeepsSessionsApart checks that the held conn records of two
// sessions on one TCP stream do not replace each other.
func TestSinkKeepsSessionsApart(t *testing.T) {
	f, err := Compile("opcode == text")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	next := sinkFunc(func(r *dissect.Record) error {
		got = append(got, r.Kind.String()+":"+string(rune('0'+r.Conn.H2Stream)))
		return nil
	})
	s := NewSink(f, next)
	c1, c3 := testConn(), testConn()
	c1.HTTP2, c1.H2Stream = true, 1
	c3.HTTP2, c3.H2Stream = true, 3
	fr1, fr3 := textFrame(), textFrame()
	fr1.Conn, fr3.Conn = c1, c3
	for _, r := range []*dissect.Record{{Kind: dissect.KindConn, Conn: c1}, {Kind: dissect.KindConn, Conn: c3}, fr1, fr3} {
		if err := s.Emit(r); err != nil {
			t.Fatal(err)
		}
	}
	if want := "[conn:1 frame:1 conn:3 frame:3]"; fmtList(got) != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

type sinkFunc func(*dissect.Record) error

func (f sinkFunc) Emit(r *dissect.Record) error { return f(r) }

func fmtList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}
