package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/render"
)

// jsonRecords runs pkts with opts and the given number of workers and
// returns the NDJSON records.
func jsonRecords(t *testing.T, data []byte, opts Options, workers int) []map[string]any {
	t.Helper()
	in := parallelInput{name: "mem", pkts: memPackets(t, data), opts: opts}
	return jsonLines(t, &in, workers, nil)
}

// jsonLines runs in with the given number of workers and returns the NDJSON
// records; the raw output is also written to raw when it is not nil.
func jsonLines(t *testing.T, in *parallelInput, workers int, raw *bytes.Buffer) []map[string]any {
	t.Helper()
	out, _, err := renderRun(t, in, render.Options{Format: render.FormatJSON, Messages: in.opts.Dissect.Messages}, workers)
	if err != nil {
		t.Fatal(err)
	}
	if raw != nil {
		raw.Write(out)
	}
	var recs []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(line) == 0 {
			continue // no records at all
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		recs = append(recs, m)
	}
	return recs
}

// TestQuietConnectionKeepsState checks that a connection quiet for three
// hours (far beyond the idle timeout) keeps its stream number, handshake
// and compression context: every message after the pause is decoded, with
// one and with several workers, and the outputs are identical.
func TestQuietConnectionKeepsState(t *testing.T) {
	for _, deflate := range []bool{false, true} {
		t.Run(fmt.Sprintf("deflate=%v", deflate), func(t *testing.T) {
			cp := capgen.NewCapture(capgen.CaptureOptions{})
			s := openSynth(t, cp, 0, deflate)
			other := openSynth(t, cp, 1, false) // busy while the first is quiet
			for i := range 4 {
				s.message(capgen.Side(i & 1))
			}
			for i := range 3 {
				cp.Pause(time.Hour)
				other.message(capgen.Side(i & 1))
			}
			for i := range 4 {
				s.message(capgen.Side(i & 1))
			}
			s.close()
			other.close()
			data := writePcap(t, cp)
			opts := Options{Dissect: dissect.Options{Messages: true}}
			var first []map[string]any
			for _, workers := range []int{1, 3} {
				recs := jsonRecords(t, data, opts, workers)
				var conns, msgs int
				for _, r := range recs {
					if r["stream"].(float64) > 1 {
						t.Errorf("workers=%d: record of stream %v: the connection was split", workers, r["stream"])
					}
					if r["anomalies"] != nil {
						t.Errorf("workers=%d: anomalies %v", workers, r["anomalies"])
					}
					switch r["type"] {
					case "conn":
						conns++
						if r["midstream"] != false {
							t.Errorf("workers=%d: connection %v picked up mid-stream", workers, r["stream"])
						}
					case "message":
						if r["stream"].(float64) == 0 && r["opcode"].(float64) != 8 {
							msgs++
							if deflate && r["len"].(float64) > 100 && r["compressed"] != true {
								t.Errorf("workers=%d: message %v not compressed", workers, r)
							}
						}
					}
				}
				if conns != 2 || msgs != 8 {
					t.Errorf("workers=%d: %d conn records and %d data messages on stream 0, want 2 and 8", workers, conns, msgs)
				}
				if first == nil {
					first = recs
				} else if fmt.Sprint(first) != fmt.Sprint(recs) {
					t.Errorf("workers=%d: output differs from one worker", workers)
				}
			}
		})
	}
}

// TestEvictionIsReported checks that a connection evicted from the full
// table is not lost silently: its next packet starts a new stream whose
// records carry conn-evicted, with one and with several workers.
func TestEvictionIsReported(t *testing.T) {
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	a := openSynth(t, cp, 0, false)
	a.message(capgen.Server)
	b := openSynth(t, cp, 1, false) // evicts a
	b.message(capgen.Server)
	for i := range 4 { // a's packets evict b
		a.message(capgen.Side(i & 1))
	}
	a.close()
	data := writePcap(t, cp)
	opts := Options{Reassembly: reassembly.Config{MaxConns: 1}}
	for _, workers := range []int{1, 2} {
		recs := jsonRecords(t, data, opts, workers)
		var where []string
		for _, r := range recs {
			an, _ := r["anomalies"].([]any)
			for _, x := range an {
				if x.(map[string]any)["id"] == dissect.AnConnEvicted {
					where = append(where, fmt.Sprintf("%v@%v", r["stream"], r["packet"]))
				}
			}
		}
		// Stream 0 is dropped when stream 1 opens, stream 1 when stream 0's
		// next packet (stream 2) needs the room; stream 2 says it
		// continues an evicted connection.
		if want := []string{"0@10", "1@19", "2@19"}; fmt.Sprint(where) != fmt.Sprint(want) {
			t.Errorf("workers=%d: conn-evicted at %v, want %v (stream@packet)", workers, where, want)
		}
	}
}
