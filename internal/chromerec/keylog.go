package chromerec

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeyLog is Chromium's key log merged with the Go servers'.
type KeyLog struct {
	// Text is the union of both logs' lines, Chromium's first, without
	// comments, blank lines or repeats.
	Text string
	// Chromium, Go and Both count the TLS sessions (client randoms) in
	// Chromium's log, in the Go servers' log, and in both.
	Chromium, Go, Both int
}

// mergeKeyLogs merges Chromium's key log file at chromePath (a missing
// file is an empty log) with the Go servers' goKeys, which must hold some
// secrets.
func mergeKeyLogs(chromePath string, goKeys []byte) (KeyLog, error) {
	cb, err := os.ReadFile(chromePath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return KeyLog{}, fmt.Errorf("read Chromium's key log: %w", err)
	}
	chrome, gos := string(cb), string(goKeys)
	cr, gr := clientRandoms(chrome), clientRandoms(gos)
	if len(gr) == 0 {
		return KeyLog{}, errors.New("the Go servers logged no TLS secrets")
	}
	kl := KeyLog{Text: unionLines(chrome, gos), Chromium: len(cr), Go: len(gr)}
	for r := range gr {
		if cr[r] {
			kl.Both++
		}
	}
	return kl, nil
}

// clientRandoms returns the client randoms of a key log's lines.
func clientRandoms(log string) map[string]bool {
	m := map[string]bool{}
	for l := range strings.SplitSeq(log, "\n") {
		if f := strings.Fields(l); len(f) == 3 && !strings.HasPrefix(l, "#") {
			m[f[1]] = true
		}
	}
	return m
}

// unionLines returns the lines of logs, in order, without comments, blank
// lines or repeats, each ended by a newline.
func unionLines(logs ...string) string {
	var b strings.Builder
	seen := map[string]bool{}
	for _, log := range logs {
		for l := range strings.SplitSeq(log, "\n") {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") || seen[l] {
				continue
			}
			seen[l] = true
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
