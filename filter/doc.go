// Package filter implements wsdissect's filter language, a small dialect of
// Wireshark display filters for selecting WebSocket frames, messages and
// connections.
//
// An expression is compiled once with Compile and evaluated per record with
// Filter.Match, which does not allocate.
//
// # Grammar
//
//	expr    = and { ("or" | "||") and }
//	and     = unary { ("and" | "&&") unary }
//	unary   = ("not" | "!") unary | "(" expr ")" | test
//	test    = field [ cmp value | "contains" value | ("matches" | "~") string
//	                | ["not"] "in" "{" element { [","] element } "}" ]
//	cmp     = "==" | "!=" | "<" | "<=" | ">" | ">=" | "eq" | "ne" | "lt" | "le" | "gt" | "ge"
//	element = value [ ".." value ]
//
// "not" binds tighter than "and", which binds tighter than "or". Keywords are
// case-insensitive; field names are not. "x not in {...}" means
// "!(x in {...})".
//
// # Fields
//
// Fields lists every field with its type and aliases. Fields that do not
// apply to a record are absent: opcode on a connection record, mask on a
// message, text on a binary frame, a json path that does not exist. A
// comparison with an absent field is false, including "!="; "!field" is true.
// A bare field tests presence, except that a bare bool field tests its value
// (fin, mask, compressed). Written with its Wireshark name, a bare bool field
// tests presence as in Wireshark: websocket.fin holds on every frame, so write
// fin or websocket.fin == 1 for the bit. Fields with several values (ip.addr, ipv6.addr,
// port, anomaly) match "==", "<", "contains", "matches" and "in" when any
// value does, and "!=" when none equals, as in Wireshark.
//
// Frame and message records share field names: on a message, opcode is the
// message's opcode, fin is true, len is the full length after inflating, and
// the header-only fields (rsv*, mask, masking_key, lencode) are absent.
// Wireshark names keep Wireshark's meaning where it differs: websocket.pmc is
// present only when permessage-deflate was negotiated, and
// websocket.payload_length (lencode) is the 7-bit length field, so it is 126
// or 127 for long frames; len is the real length.
//
// json.PATH selects a value in a text payload that is a JSON document:
// json.type, json.user.id, json.items[0], json["key with spaces"]. Bare json
// tests that the payload is JSON. JSON values compare by kind: strings with
// quoted strings (after unescaping), numbers with numbers (exactly for
// integers, else as float64), true/false/null with those words. contains and
// matches look at a string's unescaped text, or at the raw JSON text of other
// values. When an object repeats a key, the first one counts.
//
// # Values
//
//   - numbers: decimal, 0x hex, 0b binary, 0o octal (a leading 0 is refused as
//     ambiguous); JSON comparisons also take negative and decimal-fraction
//     numbers such as -1.5e3.
//   - opcode names: continuation, text, binary, close, ping, pong, and the
//     groups control (8-15) and data (text or binary), usable with ==, != and in.
//   - bools: true, false (any case), or a number (0 is false, as in Wireshark).
//   - directions: c2s or client, s2c or server.
//   - strings: "double quoted" with the escapes \" \\ \' \a \b \f \n \r \t \v,
//     \xNN, \NNN (octal), \uNNNN, \UNNNNNNNN; r"raw" keeps backslashes.
//   - bytes: quoted strings or hex byte strings aa:bb:cc, aa-bb-cc, aa.bb.cc,
//     aabbcc, or a one-byte 0xNN.
//   - addresses: IPv4 or IPv6 addresses and CIDR prefixes (10.0.0.0/8); IPv4-
//     mapped IPv6 addresses compare as IPv4.
//   - ranges, inside sets only: 1000..1015, 10.0.0.1..10.0.0.9, and for json
//     numbers -1..1.5.
//
// matches takes an RE2 regular expression (Go's regexp syntax) and, like
// Wireshark, is case-insensitive unless the pattern starts with (?-i).
//
// # Examples
//
//	opcode == text && dir == c2s
//	opcode == binary && len > 1024 && dir == server
//	close.code != 1000
//	websocket.mask == 1 && websocket.payload_length > 100
//	text contains "login" || json.type == "login"
//	json.user.id > 10 && json.items[0] == "x"
//	anomaly && !(anomaly == "tcp-gap")
//	ip.addr == 10.0.0.0/8 && port in {80 443 8000..8100}
package filter
