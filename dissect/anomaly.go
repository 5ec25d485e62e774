package dissect

// AnomalyInfo documents one anomaly id: its severity and the RFC section it
// refers to.
type AnomalyInfo struct {
	ID       string
	Severity Severity
	RFC      string
	Summary  string
}

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
	AnMemoryBudget      = "memory-budget"
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
	{AnDecompressLimit, SevWarning, "RFC 7692 8.1", "inflating a message exceeded --max-message and was cut off (decompression bomb guard)"},
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
	{AnMemoryBudget, SevWarning, "-", "the memory budget (--memory) was exhausted: payload, search bytes or a whole connection were dropped (says which)"},
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

// severityOf returns the documented severity of id.
func severityOf(id string) Severity {
	if s, ok := anomalySeverity[id]; ok {
		return s
	}
	return SevWarning
}

// newAnomaly builds an anomaly with the documented severity of id.
func newAnomaly(id string, off int64, msg string) Anomaly {
	return Anomaly{ID: id, Severity: severityOf(id), Msg: msg, Offset: off}
}
