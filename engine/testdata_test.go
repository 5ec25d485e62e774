package engine_test

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// decodedMsg is a copied message record.
type decodedMsg struct {
	stream     uint64
	h2stream   uint32
	dir        string
	opcode     uint8
	payload    []byte
	incomplete bool
	truncated  bool
	anomalies  []string
}

// msgCollector keeps copies of message records and every anomaly id with its
// severity.
type msgCollector struct {
	msgs      []decodedMsg
	anomalies map[string]dissect.Severity
	midstream bool
	// conns and ends count the connection and end records per session
	// (TCP stream, HTTP/2 stream); badEnds lists end records whose start
	// is missing or after their end.
	conns, ends map[sessionKey]int
	badEnds     []string
	// tlsListed counts conn records listing a TLS connection without a
	// dissected handshake.
	tlsListed int
}

// sessionKey identifies a WebSocket session: an HTTP/1.1 connection, or
// one HTTP/2 stream of a connection.
type sessionKey struct {
	stream uint64
	h2     uint32
}

func (c *msgCollector) Emit(r *dissect.Record) error {
	for _, a := range r.Anomalies {
		c.anomalies[a.ID] = a.Severity
	}
	switch r.Kind {
	case dissect.KindConn:
		c.midstream = c.midstream || r.Conn.Midstream
		c.conns[sessionKey{r.Conn.Stream, r.Conn.H2Stream}]++
		if r.Conn.TLSListing() {
			c.tlsListed++
		}
	case dissect.KindEnd:
		k := sessionKey{r.Conn.Stream, r.Conn.H2Stream}
		c.ends[k]++
		if r.End.Start.IsZero() || r.End.Start.After(r.Time) {
			c.badEnds = append(c.badEnds, fmt.Sprintf("%v: start %v, end %v", k, r.End.Start, r.Time))
		}
	case dissect.KindMessage:
		m := r.Message
		d := decodedMsg{stream: r.Conn.Stream, h2stream: r.Conn.H2Stream, dir: m.Dir.String(), opcode: m.Opcode,
			payload: bytes.Clone(m.Payload), incomplete: m.Incomplete, truncated: m.Truncated}
		for _, a := range r.Anomalies {
			d.anomalies = append(d.anomalies, a.ID)
		}
		c.msgs = append(c.msgs, d)
	}
	return nil
}

// expectedAnomalies lists, per testdata capture, the warning and error ids it
// must produce; captures not listed must produce none (clean library traffic).
var expectedAnomalies = map[string][]string{
	"coder-deflate-lost":    {dissect.AnDeflateContextLost, dissect.AnTCPGap},
	"coder-lost":            {dissect.AnTCPGap},
	"gorilla-impaired":      {dissect.AnRetransmitDiffers},
	"edge-bad-accept":       {dissect.AnAcceptMismatch},
	"edge-rejected-upgrade": {dissect.AnUpgradeRejected},
	// The security-audit captures (see the audit package) break the
	// handshake rules on purpose.
	"audit-origin-checked":     {dissect.AnUpgradeRejected},
	"audit-subprotocol":        {dissect.AnSubprotoNotOffered},
	"audit-h2":                 {dissect.AnSubprotoNotOffered, dissect.AnUpgradeRejected},
	"edge-version-8":           {dissect.AnVersionNot13},
	"edge-extension-forced":    {dissect.AnExtensionNotOffered},
	"node-ws-origin":           {dissect.AnUpgradeRejected},
	"h2c-handbuilt":            {dissect.AnUpgradeRejected},
	"edge-big-upgrade-header":  {dissect.AnHTTPHeaderTooLarge},
	"edge-101-without-request": {dissect.AnUpgradeRequestMissing},
	"edge-repeated-101":        {dissect.AnUpgradeRepeated},
	"edge-violations": {dissect.AnClientUnmasked, dissect.AnCloseCodeInvalid, dissect.AnControlTooLong,
		dissect.AnFrameCutAtEnd, dissect.AnInvalidUTF8, dissect.AnLengthTopBit, dissect.AnNonMinimalLength,
		dissect.AnReservedOpcode, dissect.AnRSVNoExtension, dissect.AnServerMasked},
}

// TestTestdataMatchesTruth decodes every generated capture and compares each
// message with what the sending library (or the hand-built frame) was given.
func TestTestdataMatchesTruth(t *testing.T) {
	caps, _ := filepath.Glob("../testdata/*.pcap*")
	if len(caps) == 0 {
		t.Fatal("no captures in testdata/ (run go run ./tools/gencap -out testdata)")
	}
	for _, path := range caps {
		name := strings.TrimSuffix(filepath.Base(path), ".gz")
		name = strings.TrimSuffix(strings.TrimSuffix(name, ".pcapng"), ".pcap")
		t.Run(filepath.Base(path), func(t *testing.T) {
			truth, err := capgen.LoadTruth(path)
			if err != nil {
				t.Fatal(err)
			}
			c := newMsgCollector()
			opts := dissect.Options{Messages: true}
			// wss captures come with their key log.
			if kp := filepath.Join(filepath.Dir(path), name+".keylog"); fileExists(kp) {
				opts.KeyLog = tlsdecrypt.NewKeyLog()
				if err := opts.KeyLog.AddFile(kp); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := engine.ReadFile(path, engine.Options{Dissect: opts}, c); err != nil {
				t.Fatalf("decode: %v", err)
			}
			compareTruth(t, name, truth, c)
			checkEnds(t, c)
			if opts.KeyLog != nil && c.tlsListed > 0 {
				// Decrypted with their key logs, the captures' TLS
				// connections (HTTP/1.1 or HTTP/2) are all dissected.
				t.Errorf("%d TLS connections listed as not dissected", c.tlsListed)
			}
			var loud []string
			for id, sev := range c.anomalies {
				if sev >= dissect.SevWarning {
					loud = append(loud, id)
				}
			}
			sort.Strings(loud)
			want := slices.Clone(expectedAnomalies[name])
			sort.Strings(want)
			if !slices.Equal(loud, want) {
				t.Errorf("warning/error anomalies %v, want %v", loud, want)
			}
		})
	}
}

func newMsgCollector() *msgCollector {
	return &msgCollector{anomalies: map[string]dissect.Severity{},
		conns: map[sessionKey]int{}, ends: map[sessionKey]int{}}
}

// checkEnds checks that every session with a connection record (an HTTP/1.1
// connection, or an HTTP/2 stream's extended CONNECT, accepted or not) has
// exactly one end record, with its start.
func checkEnds(t *testing.T, c *msgCollector) {
	t.Helper()
	for k := range c.conns {
		if c.ends[k] != 1 {
			t.Errorf("session %v: %d end records, want 1", k, c.ends[k])
		}
	}
	for k, n := range c.ends {
		if c.conns[k] == 0 {
			t.Errorf("session %v: %d end records without a connection record", k, n)
		}
	}
	for _, b := range c.badEnds {
		t.Errorf("end record without a valid start: %s", b)
	}
}

func compareTruth(t *testing.T, name string, truth *capgen.Truth, c *msgCollector) {
	t.Helper()
	// WebSocket connections (HTTP/2 sessions) in order of TCP stream number
	// (then HTTP/2 stream id) = truth's conn index.
	type session struct {
		stream uint64
		h2     uint32
	}
	var streams []session
	for _, m := range c.msgs {
		if s := (session{m.stream, m.h2stream}); !slices.Contains(streams, s) {
			streams = append(streams, s)
		}
	}
	slices.SortFunc(streams, func(a, b session) int {
		if a.stream != b.stream {
			return cmp.Compare(a.stream, b.stream)
		}
		return cmp.Compare(a.h2, b.h2)
	})
	type key struct {
		conn int
		dir  string
	}
	got := map[key][]decodedMsg{}
	for _, m := range c.msgs {
		k := key{slices.Index(streams, session{m.stream, m.h2stream}), m.dir}
		got[k] = append(got[k], m)
	}
	want := map[key][]capgen.TruthMessage{}
	for _, m := range truth.Messages {
		if m.Absent {
			continue
		}
		k := key{m.Conn, m.Dir}
		want[k] = append(want[k], m)
	}
	lossy := strings.Contains(name, "lost") || strings.Contains(name, "midstream")
	for k, ws := range want {
		gs := got[k]
		if len(gs) == len(ws)-1 && ws[0].Partial && c.midstream {
			// The capture starts inside this message's frame: its tail is
			// skipped to the first verified frame boundary (and reported).
			if _, ok := c.anomalies[dissect.AnMidstreamResync]; !ok {
				t.Errorf("conn %d %s: first message skipped without a %s anomaly", k.conn, k.dir, dissect.AnMidstreamResync)
			}
			ws = ws[1:]
		}
		if len(gs) != len(ws) {
			t.Errorf("conn %d %s: %d messages decoded, truth has %d", k.conn, k.dir, len(gs), len(ws))
			continue
		}
		for i, w := range ws {
			g := gs[i]
			where := fmt.Sprintf("conn %d %s message %d", k.conn, k.dir, i)
			if g.opcode != w.Opcode {
				t.Errorf("%s: opcode %d, truth %d", where, g.opcode, w.Opcode)
			}
			switch {
			case w.Partial:
				if !g.incomplete {
					t.Errorf("%s: partial in the capture but not marked incomplete", where)
				}
			case bytes.Equal(g.payload, w.Payload):
				// A frame claiming a 2^63-byte length ends incomplete.
				if (g.incomplete && !slices.Contains(g.anomalies, dissect.AnLengthTopBit)) || g.truncated {
					t.Errorf("%s: right bytes but marked incomplete=%v truncated=%v", where, g.incomplete, g.truncated)
				}
			case lossy && slices.Contains(g.anomalies, dissect.AnDeflateContextLost):
				// Its compression context was lost with earlier bytes: shown
				// compressed and marked, never as wrong plain text.
			default:
				t.Errorf("%s: payload differs: got %d bytes %.40q, truth %d bytes %.40q (anomalies %v)",
					where, len(g.payload), g.payload, len(w.Payload), w.Payload, g.anomalies)
			}
		}
	}
	for k, gs := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("conn %d %s: %d messages decoded that the truth does not have", k.conn, k.dir, len(gs))
		}
	}
}
