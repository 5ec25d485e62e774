package engine

import (
	"fmt"
	"os"
	"slices"
	"testing"
)

// TestTunnelOnRecords: each connection of coder-tunnels.pcap names the
// encapsulation it was captured in and its identifier (as tshark 4.0.17
// shows the client's packets' vxlan.vni, geneve.vni, gre.key,
// erspan.spanid, gtp.teid, mpls.label, pppoes.session_id), with one worker
// (the reader's segment opens the connection) and with two (the flow
// carries it to the worker).
func TestTunnelOnRecords(t *testing.T) {
	data, err := os.ReadFile("../testdata/coder-tunnels.pcap")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0 vxlan 4097", "1 geneve 8194", "2 gre 42", "3 erspan 7", "4 gtp-u 8194", "5 ip-in-ip <nil>", "6 mpls 1000", "7 pppoe 42"}
	for _, workers := range []int{1, 2} {
		var got []string
		for _, r := range jsonRecords(t, data, Options{}, workers) {
			if r["type"] == "conn" {
				got = append(got, fmt.Sprintf("%v %v %v", r["stream"], r["tunnel"], r["tunnel_id"]))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%d workers: %v, want %v", workers, got, want)
		}
	}
}
