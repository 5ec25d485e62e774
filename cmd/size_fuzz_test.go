package cmd

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzSizeFlags fuzzes the size and duration flags: every size flag with
// the same text, and --idle-timeout. Parsing never panics; an accepted size
// is positive and within 2^62, and what a plain number with a unit suffix
// parses to is the number times the unit; a rejected one is a usage error.
func FuzzSizeFlags(f *testing.F) {
	for _, s := range []string{"64KiB", "1GiB", "16m", "0", "-1", "9223372036854775807", "4611686018427387904b", " 2 MiB ", "1.5G", "kib", "1e3", "0x10"} {
		f.Add(s, int64(time.Minute))
	}
	f.Fuzz(func(t *testing.T, s string, idle int64) {
		n, err := parseSize(s)
		if err == nil {
			if n < 0 || n > 1<<62 {
				t.Fatalf("parseSize(%q) = %d", s, n)
			}
			if v, perr := strconv.ParseInt(strings.TrimSpace(s), 10, 64); perr == nil && v != n {
				t.Fatalf("parseSize(%q) = %d, want %d", s, n, v)
			}
			if u, ok := strings.CutSuffix(s, "MiB"); ok {
				if v, perr := strconv.ParseInt(strings.TrimSpace(u), 10, 64); perr == nil && v<<20 != n {
					t.Fatalf("parseSize(%q) = %d, want %d", s, n, v<<20)
				}
			}
		}
		o := outputFlags{maxMessage: s, maxSearch: s, maxHTTP: s, maxConnBuf: s, maxTotalBuf: s, memory: s,
			maxConns: 10, idleTimeout: time.Duration(idle), color: "never"}
		opts, err := o.engineOptions()
		if err != nil {
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != ExitUsage {
				t.Fatalf("engineOptions error is not a usage error: %v", err)
			}
			return
		}
		if opts.Memory < minMemory || opts.Dissect.MaxMessage <= 0 || opts.Reassembly.IdleTimeout <= 0 {
			t.Fatalf("accepted options out of range: %+v", opts)
		}
	})
}
