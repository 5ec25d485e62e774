package dissect

// CloseCodeName returns the IANA registry name of a WebSocket close status
// code (RFC 6455 section 7.4 and the IANA "WebSocket Close Code Number"
// registry), or a description of its range for unnamed codes.
func CloseCodeName(code uint16) string {
	switch code {
	case 1000:
		return "Normal Closure"
	case 1001:
		return "Going Away"
	case 1002:
		return "Protocol error"
	case 1003:
		return "Unsupported Data"
	case 1004:
		return "Reserved"
	case 1005:
		return "No Status Rcvd"
	case 1006:
		return "Abnormal Closure"
	case 1007:
		return "Invalid frame payload data"
	case 1008:
		return "Policy Violation"
	case 1009:
		return "Message Too Big"
	case 1010:
		return "Mandatory Ext."
	case 1011:
		return "Internal Error"
	case 1012:
		return "Service Restart"
	case 1013:
		return "Try Again Later"
	case 1014:
		return "Bad Gateway"
	case 1015:
		return "TLS handshake"
	}
	switch {
	case code < 1000:
		return "Not used"
	case code < 3000:
		return "Unassigned (reserved for this protocol)"
	case code < 4000:
		return "Registered (libraries, frameworks, applications)"
	case code < 5000:
		return "Private use"
	}
	return "Out of range"
}

// CloseCodeAllowedOnWire reports whether code may appear in a Close frame
// (RFC 6455 section 7.4.1 and 7.4.2): 1000-1003, 1007-1014 and 3000-4999.
func CloseCodeAllowedOnWire(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
