package engine

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/attackgen"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/source"
)

// fuzzSeedPrefix is how much of each attack capture seeds FuzzPipeline.
const fuzzSeedPrefix = 8 << 10

// FuzzPipeline runs capture bytes through the whole pipeline, RunParallel
// and its merger included, and requires the output with three workers to be
// byte-identical to the output with one; it then runs them again under a
// memory budget small enough to be exhausted (where the output may differ,
// but nothing may fail). The seeds are small test captures and the start of
// every attack capture.
func FuzzPipeline(f *testing.F) {
	for _, name := range []string{"coder-basic.pcap", "edge-violations.pcap", "coder-midstream.pcap", "coder-proxy.pcap", "coder-fragments.pcap", "coder-tunnels.pcap"} {
		if b, err := os.ReadFile(filepath.Join("..", "testdata", name)); err == nil && len(b) < 64<<10 {
			f.Add(b)
		}
	}
	for _, a := range attackgen.All() {
		var buf bytes.Buffer
		if err := a.Write(&buf, 1); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes()[:min(buf.Len(), fuzzSeedPrefix)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkts, readErr := fuzzPackets(data)
		if len(pkts) == 0 {
			return
		}
		ro := render.Options{Format: render.FormatJSON}
		// Frames or messages, by the input's last byte: one pipeline per
		// exec keeps the target fast.
		for _, messages := range []bool{data[len(data)-1]&1 == 1} {
			in := parallelInput{pkts: pkts, err: readErr}
			in.opts.Dissect.Messages = messages
			in.opts.Dissect.WSPorts = []uint16{attackgen.ForcedPort}
			in.opts.Reassembly.MaxConns = 8
			in.opts.Reassembly.IdleTimeout = time.Second
			ro.Messages = messages
			want, _, wantErr := renderRun(t, &in, ro, 1)
			got, _, err := renderRun(t, &in, ro, 3)
			if !errors.Is(err, wantErr) && (err == nil) != (wantErr == nil) {
				t.Fatalf("messages=%v: error %v with 3 workers, %v with one", messages, err, wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("messages=%v: output with 3 workers differs from one:\n%s", messages, firstDiff(want, got))
			}
			in.opts.Memory = 1 << 20
			for _, workers := range []int{3} {
				var out bytes.Buffer
				st, _ := RunParallel(&sliceSource{pkts: pkts}, func(w io.Writer) (dissect.Sink, func() error) {
					r := render.New(w, ro)
					return r, r.Flush
				}, Options{Dissect: in.opts.Dissect, Reassembly: in.opts.Reassembly, Memory: in.opts.Memory, Workers: workers}, &out)
				if st.Memory.Limit != in.opts.Memory {
					t.Fatalf("memory limit reported %d, want %d", st.Memory.Limit, in.opts.Memory)
				}
			}
		}
	})
}

// fuzzPackets reads the packets of a capture in memory (at most 2,000) and
// the error that ended the reading, if not a clean end.
func fuzzPackets(data []byte) ([]source.Packet, error) {
	r, err := source.OpenReader("fuzz", bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var pkts []source.Packet
	for len(pkts) < 2000 {
		var p source.Packet
		if err := r.Next(&p); err != nil {
			if errors.Is(err, io.EOF) {
				return pkts, nil
			}
			return pkts, err
		}
		p.Data = bytes.Clone(p.Data)
		pkts = append(pkts, p)
	}
	return pkts, nil
}
