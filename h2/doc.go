// Package h2 turns the two byte streams of an HTTP/2 connection into frames,
// decoded header blocks and per-stream events, including the WebSocket
// sessions of RFC 8441 (extended CONNECT) and proxy tunnels (CONNECT).
//
// A Conn is fed the in-order bytes of each direction in pieces of any size
// (Feed) and the holes of the capture (Gap); it never blocks and never reads
// ahead. Frames are assembled across pieces; DATA payloads are streamed to
// the Handler as they arrive, other frames are buffered whole up to
// Limits.MaxFrame. Header blocks (HEADERS or PUSH_PROMISE plus CONTINUATION)
// are decoded with golang.org/x/net/http2/hpack, one decoder, and so one
// dynamic table, per direction.
//
// The client direction must start with the connection preface (prior
// knowledge h2c, the client's first bytes after a 101 to "Upgrade: h2c", or
// the plaintext after a TLS handshake that chose ALPN "h2"). After an
// "Upgrade: h2c" the HTTP/1.1 request becomes stream 1 (Conn.UpgradeStream1).
//
// An extended CONNECT (":method" CONNECT with ":protocol" websocket) answered
// by a 2xx status opens a WebSocket session on its stream: Handler.Data gets
// the stream's DATA payloads, in order, per direction. The session ends with
// END_STREAM in both directions, RST_STREAM, GOAWAY or the end of the
// connection (EndReason). A CONNECT without ":protocol" (RFC 9113 8.5), as
// clients send to a proxy that speaks HTTP/2, is a tunnel (Stream.Tunnel):
// answered with 2xx it is opened, fed and ended the same way, its DATA
// being the tunnel's byte stream. Other requests are only counted.
//
// Memory is bounded: frame payloads other than DATA are kept up to
// Limits.MaxFrame bytes, decoded header fields up to Limits.MaxHeaderBlock
// bytes per block, streams up to Limits.MaxStreams, and the bytes searched
// for a frame boundary after a gap up to Limits.MaxSearch.
package h2
