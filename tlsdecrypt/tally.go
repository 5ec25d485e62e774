package tlsdecrypt

import (
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Tally counts the TLS connections that were not decrypted, by the reason a
// Session gave (Info.Reason) without what is particular to one connection
// (its client random), so that the connections missing from a key log count
// together. It tells at most MaxTallyReasons reasons apart; the rest count
// as "other".
type Tally map[string]int

// MaxTallyReasons bounds the reasons a Tally tells apart.
const MaxTallyReasons = 16

// ReasonKind returns a Session's reason for not decrypting (Info.Reason)
// without what is particular to one connection (its client random), as a
// Tally counts it.
func ReasonKind(reason string) string {
	if i := strings.Index(reason, " for client random "); i >= 0 {
		reason = reason[:i]
		if reason == "no key" {
			reason = "no key in the key log"
		}
	}
	if reason == "" {
		reason = "not decrypted"
	}
	return reason
}

// Add counts one connection not decrypted for reason.
func (t Tally) Add(reason string) {
	reason = ReasonKind(reason)
	if _, ok := t[reason]; !ok && len(t) >= MaxTallyReasons {
		reason = "other"
	}
	t[reason]++
}

// Total returns the number of connections counted.
func (t Tally) Total() int {
	n := 0
	for _, k := range t {
		n += k
	}
	return n
}

// String gives the reasons in order, each with its count unless only one
// connection was counted: "no key log given: 2; unsupported cipher suite
// 0x1301: 1".
func (t Tally) String() string {
	one := t.Total() == 1
	var b strings.Builder
	for i, r := range slices.Sorted(maps.Keys(t)) {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(r)
		if !one {
			b.WriteString(": ")
			b.WriteString(strconv.Itoa(t[r]))
		}
	}
	return b.String()
}

// Summary describes the connections counted for a reader, "" when there
// are none: "2 TLS connections not decrypted (no key log given: 2)". What
// they miss and how to get it is the caller's to add (see NoKeyLog).
func (t Tally) Summary() string {
	n := t.Total()
	if n == 0 {
		return ""
	}
	noun := " TLS connections"
	if n == 1 {
		noun = " TLS connection"
	}
	return strconv.Itoa(n) + noun + " not decrypted (" + t.String() + ")"
}

// NoKeyLog reports whether connections were counted because no key log was
// given at all (giving one may decrypt them).
func (t Tally) NoKeyLog() bool { return t[NoKeyLog] > 0 }
