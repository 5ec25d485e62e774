package dissect

import (
	"fmt"
	"strings"
	"testing"
)

// httpCollect keeps the http records' exchanges as text.
type httpCollect struct{ got []string }

func (c *httpCollect) Emit(r *Record) error {
	if r.Kind == KindHTTP {
		x := r.HTTP
		c.got = append(c.got, fmt.Sprintf("%s %s %d req=%q/%v resp=%q/%v pkt=%d/%d", x.Method, x.Target, x.Status,
			x.RequestBody, x.RequestTruncated, x.ResponseBody, x.ResponseTruncated, x.RequestPacket, r.Packet))
	}
	return nil
}

// TestKeepHTTP checks the http records of the requests KeepHTTP selects:
// bodies by length, chunked and to the close, pipelined requests, the
// MaxHTTPBody cut, any split of the bytes; other requests stay silent.
func TestKeepHTTP(t *testing.T) {
	keep := func(method, target string) bool { return strings.Contains(target, "keep") }
	big := strings.Repeat("x", MaxHTTPBody+10)
	tests := []struct {
		name  string
		steps []step
		want  []string
	}{
		{"GET with a length body", []step{
			c2s([]byte("GET /keep HTTP/1.1\r\nHost: h\r\n\r\n")),
			s2c([]byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")),
		}, []string{`GET /keep 200 req=""/false resp="hello"/false pkt=1/2`}},
		{"POST, then a chunked response", []step{
			c2s([]byte("POST /keep?a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc")),
			s2c([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n3\r\n!!!\r\n0\r\n\r\n")),
		}, []string{`POST /keep?a 200 req="abc"/false resp="ok!!!"/false pkt=1/2`}},
		{"pipelined, one not kept", []step{
			c2s([]byte("GET /other HTTP/1.1\r\n\r\nGET /keep2 HTTP/1.1\r\n\r\n")),
			s2c([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nnoHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")),
		}, []string{`GET /keep2 404 req=""/false resp=""/false pkt=1/2`}},
		{"a body to the close", []step{
			c2s([]byte("GET /keep HTTP/1.1\r\n\r\n")),
			s2c([]byte("HTTP/1.1 200 OK\r\n\r\npartial")),
			s2c([]byte(" to the close")),
		}, []string{`GET /keep 200 req=""/false resp="partial to the close"/false pkt=1/3`}},
		{"a response cut by the capture's end", []step{
			c2s([]byte("GET /keep HTTP/1.1\r\n\r\n")),
			s2c([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")),
		}, []string{`GET /keep 200 req=""/false resp="abc"/true pkt=1/2`}},
		{"a gap in the response body", []step{
			c2s([]byte("GET /keep HTTP/1.1\r\n\r\n")),
			s2c([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")),
			{side: s2c(nil).side, gap: 3},
			s2c([]byte("ghij")),
		}, []string{`GET /keep 200 req=""/false resp="abc"/true pkt=1/3`}},
		{"not kept", []step{
			c2s([]byte("GET /x HTTP/1.1\r\n\r\n")),
			s2c([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz")),
		}, nil},
	}
	for _, tt := range tests {
		for _, split := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/split=%v", tt.name, split), func(t *testing.T) {
				var c httpCollect
				feedConn(New(&c, Options{KeepHTTP: keep}), true, split, tt.steps...)
				if strings.Join(c.got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("got\n%s\nwant\n%s", strings.Join(c.got, "\n"), strings.Join(tt.want, "\n"))
				}
			})
		}
	}
	t.Run("body cut at MaxHTTPBody", func(t *testing.T) {
		var c httpCollect
		var x *HTTPExchange
		d := New(sinkFunc(func(r *Record) error {
			if r.Kind == KindHTTP {
				x = r.HTTP
			}
			return c.Emit(r)
		}), Options{KeepHTTP: keep})
		feedConn(d, true, false,
			c2s([]byte(fmt.Sprintf("POST /keep HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s", len(big), big))),
			s2c([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")))
		if x == nil || len(x.RequestBody) != MaxHTTPBody || !x.RequestTruncated || string(x.ResponseBody) != "ok" {
			t.Fatalf("exchange %+v", x)
		}
	})
}
