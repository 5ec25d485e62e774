package engine

import (
	"fmt"
	"os"
	"slices"
	"testing"
)

// TestTunnelOnRecords: each connection of coder-tunnels.pcap names the
// encapsulation it was captured in, with one worker (the reader's segment
// opens the connection) and with two (the flow carries it to the worker).
func TestTunnelOnRecords(t *testing.T) {
	data, err := os.ReadFile("../testdata/coder-tunnels.pcap")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0 vxlan", "1 geneve", "2 gre", "3 erspan", "4 gtp-u", "5 ip-in-ip", "6 mpls", "7 pppoe"}
	for _, workers := range []int{1, 2} {
		var got []string
		for _, r := range jsonRecords(t, data, Options{}, workers) {
			if r["type"] == "conn" {
				got = append(got, fmt.Sprintf("%v %v", r["stream"], r["tunnel"]))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%d workers: %v, want %v", workers, got, want)
		}
	}
}
