package engine

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/netpkt"
	"github.com/wsdissect/wsdissect/source"
)

// TestOutOfWindowFlood checks that a flood of junk segments far beyond the
// receiver's window (5 MiB, more than a connection may buffer) does not
// push real data out of the reassembly buffers: the junk is reported once,
// and every later message of the direction is decoded, with one and
// several workers.
func TestOutOfWindowFlood(t *testing.T) {
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	s := openSynth(t, cp, 0, false)
	s.message(capgen.Server)
	s.message(capgen.Client)
	floodAt := len(cp.Packets())
	for range 6 {
		s.message(capgen.Server)
	}
	s.close()
	pkts := memPackets(t, writePcap(t, cp))

	// Junk: copies of a server data segment, 100 MiB and more ahead.
	var tmpl source.Packet
	size := 0
	for _, p := range pkts {
		var seg netpkt.Segment
		if netpkt.Decode(p.LinkType, p.Data, &seg) == nil && seg.SrcPort == 8080 && len(seg.Payload) > size {
			tmpl, size = p, len(seg.Payload)
		}
	}
	if tmpl.Data == nil {
		t.Fatal("no server data segment")
	}
	const tcpOff = 14 + 20 // Ethernet, IPv4 without options
	seq := binary.BigEndian.Uint32(tmpl.Data[tcpOff+4:])
	var junk []source.Packet
	for i := range (5 << 20) / size {
		d := bytes.Clone(tmpl.Data)
		binary.BigEndian.PutUint32(d[tcpOff+4:], seq+100<<20+uint32(i*size))
		junk = append(junk, source.Packet{Time: tmpl.Time, LinkType: tmpl.LinkType, Data: d, OrigLen: len(d)})
	}
	all := slices.Concat(pkts[:floodAt], junk, pkts[floodAt:])
	for i := range all {
		all[i].Number = uint64(i + 1)
	}

	var first []string
	for _, workers := range []int{1, 3} {
		in := parallelInput{name: "flood", pkts: all, opts: Options{Dissect: dissect.Options{Messages: true}}}
		var out bytes.Buffer
		recs := jsonLines(t, &in, workers, &out)
		var ids []string
		msgs := 0
		for _, r := range recs {
			if an, ok := r["anomalies"].([]any); ok {
				for _, a := range an {
					ids = append(ids, a.(map[string]any)["id"].(string))
				}
			}
			if r["type"] == "message" && r["dir"] == "s2c" && r["opcode"].(float64) != 8 {
				msgs++
			}
		}
		if !slices.Equal(ids, []string{dissect.AnOutOfWindow}) {
			t.Errorf("workers=%d: anomalies %v, want one %s", workers, ids, dissect.AnOutOfWindow)
		}
		if msgs != 7 {
			t.Errorf("workers=%d: %d server messages decoded, want 7", workers, msgs)
		}
		if first == nil {
			first = []string{out.String()}
		} else if out.String() != first[0] {
			t.Errorf("workers=%d: output differs from one worker", workers)
		}
	}
}
