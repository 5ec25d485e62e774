package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFloorMatchesDissector inflates the compressed messages of the test
// captures (context takeover and not, small windows, coder and gorilla) on
// one and several goroutines: run fails unless every direction inflates to
// the bytes the dissector reported.
func TestFloorMatchesDissector(t *testing.T) {
	for _, name := range []string{
		"coder-deflate-takeover", "coder-deflate-nocontext", "edge-deflate-windowbits",
		"edge-quiet-deflate", "gorilla-deflate", "audit-deflate-secrets",
	} {
		for _, workers := range []string{"1", "3"} {
			var out bytes.Buffer
			if err := run([]string{"-rounds", "2", "-workers", workers, "../../testdata/" + name + ".pcap"}, &out); err != nil {
				t.Fatalf("%s, %s workers: %v", name, workers, err)
			}
			if n := strings.Count(out.String(), "same as the dissector"); n != 2 {
				t.Errorf("%s, %s workers: %d rounds reported, want 2:\n%s", name, workers, n, out.String())
			}
		}
	}
}

// TestFloorRefusesLostBytes: a capture missing bytes of a compressed
// direction has no floor of the same messages.
func TestFloorRefusesLostBytes(t *testing.T) {
	err := run([]string{"../../testdata/coder-deflate-lost.pcap"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("run on coder-deflate-lost = %v, want an error about missing bytes", err)
	}
}
