package dissect

import (
	"fmt"
	"slices"

	"github.com/wsdissect/wsdissect/h2"
)

// AnomalyInfo declares one anomaly id: its severity, the RFC section it
// refers to and what it means. Every layer declares the anomalies it raises
// (dissect's are listed by Anomalies; a layer in another package keeps its
// own list) and builds them with New, so an anomaly always carries its
// declared severity; `wsdissect fields --anomalies` and the README table
// list every layer's declarations.
type AnomalyInfo struct {
	ID       string
	Severity Severity
	RFC      string
	Summary  string
}

// New returns an anomaly of this kind at offset off (-1 when none applies)
// with the explanation msg.
func (a *AnomalyInfo) New(off int64, msg string) Anomaly {
	return Anomaly{ID: a.ID, Severity: a.Severity, Msg: msg, Offset: off}
}

// AnomalyRegistry lists the anomalies of every layer of a run, for listings
// and documentation checks. Build it once; it is read-only afterwards.
type AnomalyRegistry struct {
	list []AnomalyInfo
	ids  map[string]bool
}

// Add declares anomalies; an id declared twice is an error.
func (r *AnomalyRegistry) Add(as ...AnomalyInfo) error {
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	for _, a := range as {
		if a.ID == "" || r.ids[a.ID] {
			return fmt.Errorf("anomaly id %q is empty or declared twice", a.ID)
		}
		r.ids[a.ID] = true
		r.list = append(r.list, a)
	}
	return nil
}

// List returns the declared anomalies in the order they were added.
func (r *AnomalyRegistry) List() []AnomalyInfo { return slices.Clone(r.list) }

// Has reports whether id is declared.
func (r *AnomalyRegistry) Has(id string) bool { return r.ids[id] }

// Anomaly ids. They are stable: tools match on them.
const (
	AnClientUnmasked        = "client-frame-unmasked"
	AnServerMasked          = "server-frame-masked"
	AnRSVNoExtension        = "rsv-without-extension"
	AnRSV1Control           = "rsv1-on-control-frame"
	AnRSV1Continuation      = "rsv1-on-continuation"
	AnReservedOpcode        = "reserved-opcode"
	AnControlTooLong        = "control-frame-too-long"
	AnControlFragmented     = "control-frame-fragmented"
	AnContinuationNoMessage = "continuation-without-message"
	AnDataDuringFragmented  = "data-frame-during-fragmented-message"
	AnInvalidUTF8           = "invalid-utf8"
	AnCloseReasonUTF8       = "close-reason-invalid-utf8"
	AnCloseOneByte          = "close-payload-one-byte"
	AnCloseCodeInvalid      = "close-code-invalid"
	AnNonMinimalLength      = "non-minimal-length"
	AnLengthTopBit          = "length-top-bit-set"
	AnDataAfterClose        = "data-after-close"
	AnZeroMaskKey           = "zero-masking-key"
	AnDecompressFailed      = "decompression-failed"
	AnDecompressLimit       = "decompression-limit"
	AnDeflateContextLost    = "deflate-context-lost"
	AnMessageTruncated      = "message-truncated"

	AnAcceptMissing       = "accept-missing"
	AnAcceptMismatch      = "accept-mismatch"
	AnVersionNot13        = "version-not-13"
	AnKeyMissing          = "key-missing"
	AnKeyInvalid          = "key-invalid"
	AnUpgradeTokenMissing = "upgrade-token-missing"
	AnConnTokenMissing    = "connection-token-missing"
	AnMethodNotGet        = "method-not-get"
	AnSubprotoNotOffered  = "subprotocol-not-offered"
	AnExtensionNotOffered = "extension-not-offered"
	AnExtensionParams     = "extension-params-invalid"
	AnUpgradeRejected     = "upgrade-rejected"
	AnUpgradeUnanswered   = "upgrade-unanswered"

	AnTCPGap            = "tcp-gap"
	AnRetransmitDiffers = "retransmission-differs"
	AnFrameCutAtEnd     = "frame-incomplete-at-end"
	AnMidstreamResync   = "resync-skipped-bytes"

	AnH2PrefaceMissing       = h2.AnPrefaceMissing
	AnH2FrameInvalid         = h2.AnFrameInvalid
	AnH2FrameTooLarge        = h2.AnFrameTooLarge
	AnH2HPACKError           = h2.AnHPACKError
	AnH2HeadersLost          = h2.AnHeadersLost
	AnH2ConnectNotEnabled    = h2.AnConnectNotEnabled
	AnH2ConnectPseudoMissing = h2.AnConnectPseudoMissing
	AnH2WebSocketKeyPresent  = h2.AnWebSocketKeyPresent
	AnH2DataAfterEndStream   = h2.AnDataAfterEndStream
	AnH2StreamClosed         = h2.AnStreamClosed
	AnH2StreamsLimit         = h2.AnStreamsLimit
	AnConnEvicted            = "conn-evicted"

	AnUpgradeRequestMissing = "upgrade-request-missing"
	AnHTTPHeaderTooLarge    = "http-header-too-large"
	AnUpgradeRepeated       = "upgrade-response-repeated"
	AnOutOfWindow           = "tcp-segment-out-of-window"
	AnTLSNoKey              = "tls-no-key"
	AnTLSUnsupported        = "tls-unsupported"
	AnTLSDecryptFailed      = "tls-decrypt-failed"
	AnTLSMalformed          = "tls-malformed"
	AnTLSResync             = "tls-resync"
	AnTLSAlert              = "tls-alert"
	AnTLSEarlySkipped       = "tls-early-data-skipped"
	AnMemoryBudget          = "memory-budget"
	AnTunnelNotFollowed     = "tunnel-not-followed"
)

// anomalyTable is the immutable list behind Anomalies.
var anomalyTable = []AnomalyInfo{
	{AnClientUnmasked, SevError, "RFC 6455 5.1", "a client-to-server frame is not masked"},
	{AnServerMasked, SevError, "RFC 6455 5.1", "a server-to-client frame is masked"},
	{AnRSVNoExtension, SevError, "RFC 6455 5.2", "an RSV bit is set that no negotiated extension defines"},
	{AnRSV1Control, SevError, "RFC 7692 6", "RSV1 (compressed) is set on a control frame"},
	{AnRSV1Continuation, SevError, "RFC 7692 6.1", "RSV1 is set on a continuation frame (only the first frame of a message may carry it)"},
	{AnReservedOpcode, SevError, "RFC 6455 5.2", "the frame uses a reserved opcode (0x3-0x7, 0xB-0xF)"},
	{AnControlTooLong, SevError, "RFC 6455 5.5", "a control frame's payload is longer than 125 bytes"},
	{AnControlFragmented, SevError, "RFC 6455 5.5", "a control frame has FIN clear"},
	{AnContinuationNoMessage, SevError, "RFC 6455 5.4", "a continuation frame arrives with no fragmented message in progress"},
	{AnDataDuringFragmented, SevError, "RFC 6455 5.4", "a new text or binary frame arrives while a fragmented message is in progress"},
	{AnInvalidUTF8, SevError, "RFC 6455 5.6, 8.1", "a text message is not valid UTF-8 (offset of the first bad byte in the message)"},
	{AnCloseReasonUTF8, SevError, "RFC 6455 5.5.1", "a close reason is not valid UTF-8"},
	{AnCloseOneByte, SevError, "RFC 6455 5.5.1", "a close frame has a 1-byte payload (a status code needs 2)"},
	{AnCloseCodeInvalid, SevError, "RFC 6455 7.4", "a close code that must not be sent (below 1000, 1004-1006, 1015, 1016-2999, 5000+)"},
	{AnNonMinimalLength, SevWarning, "RFC 6455 5.2", "the payload length is not encoded in the minimal number of bytes"},
	{AnLengthTopBit, SevError, "RFC 6455 5.2", "a 64-bit payload length has its most significant bit set"},
	{AnDataAfterClose, SevError, "RFC 6455 5.5.1", "a frame follows a close frame in the same direction"},
	{AnZeroMaskKey, SevInfo, "RFC 6455 5.3", "the masking key is all zeros (legal, but the payload is sent in clear)"},
	{AnDecompressFailed, SevError, "RFC 7692 6.2", "a compressed message could not be inflated; the direction's context is lost"},
	{AnDecompressLimit, SevWarning, "RFC 7692 8.1", "inflating a message exceeded --max-decompressed and was cut off (decompression bomb guard); the direction's context is lost"},
	{AnDeflateContextLost, SevWarning, "RFC 7692 7.2.3", "a compressed message cannot be inflated because earlier data it refers to is missing"},
	{AnMessageTruncated, SevInfo, "-", "a message is longer than --max-message; the rest was not retained"},
	{AnAcceptMissing, SevError, "RFC 6455 4.1", "the 101 response has no Sec-WebSocket-Accept"},
	{AnAcceptMismatch, SevError, "RFC 6455 4.1, 4.2.2", "Sec-WebSocket-Accept does not match the key"},
	{AnVersionNot13, SevWarning, "RFC 6455 4.1", "the request's Sec-WebSocket-Version is not 13"},
	{AnKeyMissing, SevError, "RFC 6455 4.1", "the request has no Sec-WebSocket-Key"},
	{AnKeyInvalid, SevWarning, "RFC 6455 4.1", "Sec-WebSocket-Key is not 16 bytes in base64"},
	{AnUpgradeTokenMissing, SevError, "RFC 6455 4.1, 4.2.2", "the request or 101 response lacks Upgrade: websocket"},
	{AnConnTokenMissing, SevError, "RFC 6455 4.1, 4.2.2", "the request or 101 response lacks the Connection: Upgrade token"},
	{AnMethodNotGet, SevError, "RFC 6455 4.1", "the upgrade request's method is not GET"},
	{AnSubprotoNotOffered, SevError, "RFC 6455 4.1", "the server selected a subprotocol the client did not offer"},
	{AnExtensionNotOffered, SevError, "RFC 6455 4.1, 9.1", "the server selected an extension the client did not offer"},
	{AnExtensionParams, SevError, "RFC 7692 7.1", "permessage-deflate parameters in the response are invalid"},
	{AnUpgradeRejected, SevWarning, "RFC 6455 4.1", "the server answered the upgrade with a status other than 101"},
	{AnUpgradeUnanswered, SevWarning, "RFC 6455 4.1", "an upgrade request got no response in the capture"},
	{AnTCPGap, SevError, "-", "bytes of the TCP stream are missing from the capture; says what they broke"},
	{AnRetransmitDiffers, SevWarning, "-", "a TCP retransmission carried different bytes than the first copy (the first copy is used)"},
	{AnFrameCutAtEnd, SevWarning, "-", "the capture or connection ended inside a frame"},
	{AnMidstreamResync, SevInfo, "-", "bytes were skipped to find a verified frame boundary (mid-stream start or after a gap)"},
	{AnH2PrefaceMissing, SevError, "RFC 9113 3.4", "an HTTP/2 client did not start with the connection preface"},
	{AnH2FrameInvalid, SevError, "RFC 9113 6", "an HTTP/2 frame is malformed (wrong length, stream 0 where a stream is needed, padding too long, CONTINUATION out of place)"},
	{AnH2FrameTooLarge, SevError, "RFC 9113 4.2", "an HTTP/2 frame exceeds the receiver's SETTINGS_MAX_FRAME_SIZE"},
	{AnH2HPACKError, SevError, "RFC 7541", "a header block cannot be decoded; the rest of the direction's header blocks are lost"},
	{AnH2HeadersLost, SevWarning, "RFC 7541 2.3.2", "header blocks of a direction are not decoded from here on (lost bytes, an oversized or interrupted block), or a block decodes past --max-http-header"},
	{AnH2ConnectNotEnabled, SevError, "RFC 8441 4", "an extended CONNECT was sent before the server's SETTINGS_ENABLE_CONNECT_PROTOCOL=1"},
	{AnH2ConnectPseudoMissing, SevError, "RFC 8441 4", "an extended CONNECT lacks :path, :scheme or :authority, or a CONNECT for a tunnel (RFC 9113 8.5) lacks :authority"},
	{AnH2WebSocketKeyPresent, SevWarning, "RFC 8441 5", "sec-websocket-key or sec-websocket-accept is present on an HTTP/2 WebSocket handshake"},
	{AnH2DataAfterEndStream, SevError, "RFC 9113 5.1", "a DATA frame arrives on a stream after END_STREAM in the same direction"},
	{AnH2StreamClosed, SevInfo, "RFC 8441 4", "a WebSocket session on an HTTP/2 stream ended: END_STREAM both ways, RST_STREAM, GOAWAY or the connection's end (says which); or a proxy tunnel on one was reset or ended by GOAWAY (with the error code)"},
	{AnH2StreamsLimit, SevWarning, "RFC 9113 5.1.2", "more than 1024 streams of an HTTP/2 connection were open at once: the oldest that is not a session is no longer tracked, and when it was an unanswered extended CONNECT, its answer will not open a session"},
	{AnUpgradeRequestMissing, SevWarning, "RFC 6455 4.1", "a 101 response whose upgrade request is not in the capture; the connection is decoded with what the response negotiated"},
	{AnHTTPHeaderTooLarge, SevWarning, "-", "an HTTP header block of an upgrade is larger than --max-http-header; frames are looked for after it as in a mid-stream pickup"},
	{AnUpgradeRepeated, SevError, "RFC 6455 4.1", "a second HTTP response (such as another 101) arrives after the connection switched to WebSocket; it is skipped"},
	{AnOutOfWindow, SevWarning, "RFC 9293 3.10.7.4", "TCP segments far beyond the receiver's advertised window were ignored (they cannot be valid data)"},
	{AnConnEvicted, SevWarning, "-", "the connection table was full (--max-conns): reported on the dropped WebSocket connection, and on the conn record of its continuation, whose later packets are decoded as a new mid-stream connection"},
	{AnTLSNoKey, SevWarning, "-", "a TLS connection cannot be decrypted: the key log has no (or not every needed) secret for its client random"},
	{AnTLSUnsupported, SevWarning, "RFC 8446, RFC 5246", "a TLS version or cipher suite wsdissect cannot decrypt"},
	{AnTLSDecryptFailed, SevError, "RFC 8446 5.2, RFC 5246 6.2.3", "a TLS record failed authentication (wrong key or corrupt record); its bytes were dropped (offset in the TLS stream)"},
	{AnTLSMalformed, SevError, "RFC 8446 5.1", "bytes that are not TLS records or handshake messages, or a record cut by the end of the capture"},
	{AnTLSResync, SevInfo, "-", "after lost bytes, TLS decryption resumed at a later record (offset in the TLS stream)"},
	{AnTLSAlert, SevWarning, "RFC 8446 6", "a TLS alert other than close_notify"},
	{AnTLSEarlySkipped, SevInfo, "RFC 8446 4.2.10", "TLS 1.3 0-RTT data was skipped (rejected by the server, or its secret is not logged)"},
	{AnMemoryBudget, SevWarning, "-", "the memory budget (--memory) was exhausted: payload, search bytes, a whole connection, HTTP/2 client data waiting for an answer, an unanswered extended CONNECT, a tunnel on an HTTP/2 stream or an application decoder's state were dropped (says which)"},
	{AnTunnelNotFollowed, SevWarning, "-", "a proxy tunnel was not decoded: more than 4 tunnels nested, or a tunnel on an HTTP/2 stream inside another one (says which)"},
}

// anomalySeverity maps ids to severities; built once, never modified.
var anomalySeverity = func() map[string]Severity {
	m := make(map[string]Severity, len(anomalyTable))
	for _, a := range anomalyTable {
		m[a.ID] = a.Severity
	}
	return m
}()

// Anomalies lists every anomaly id wsdissect reports, for documentation and
// for `wsdissect fields`.
func Anomalies() []AnomalyInfo {
	return append([]AnomalyInfo(nil), anomalyTable...)
}

// severityOf returns the declared severity of id. Every id dissect raises
// is one of the constants above, all declared in anomalyTable
// (TestEveryAnomalyConstantDeclared); an undeclared one would be a
// programming error, graded as an error so that it is not overlooked.
func severityOf(id string) Severity {
	if s, ok := anomalySeverity[id]; ok {
		return s
	}
	return SevError
}

// newAnomaly builds an anomaly with the documented severity of id.
func newAnomaly(id string, off int64, msg string) Anomaly {
	return Anomaly{ID: id, Severity: severityOf(id), Msg: msg, Offset: off}
}
