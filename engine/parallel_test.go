package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/source"
)

// corpusDir is the shared corpus of public captures, when present.
const corpusDir = "../../shared/corpus"

// parallelInput is a capture run through both runners.
type parallelInput struct {
	name string
	pkts []source.Packet
	err  error // returned by the source after the packets, if set
	opts Options
}

// filePackets reads every packet of a capture file into memory, and the
// error that ended the reading (nil at a clean end).
func filePackets(t *testing.T, path string) ([]source.Packet, error) {
	t.Helper()
	f, err := source.Open(path, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer f.Close()
	var out []source.Packet
	for {
		var p source.Packet
		if err := f.Next(&p); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		p.Data = bytes.Clone(p.Data)
		out = append(out, p)
	}
}

// captureInputs returns the testdata captures and, when present, the shared
// corpus.
func captureInputs(t *testing.T) []parallelInput {
	t.Helper()
	var paths []string
	for _, dir := range []string{"../testdata", corpusDir} {
		for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz"} {
			m, err := filepath.Glob(filepath.Join(dir, pat))
			if err != nil {
				t.Fatal(err)
			}
			paths = append(paths, m...)
		}
	}
	if len(paths) == 0 {
		t.Fatal("no captures in ../testdata")
	}
	var in []parallelInput
	for _, p := range paths {
		pkts, err := filePackets(t, p)
		in = append(in, parallelInput{name: filepath.Base(p), pkts: pkts, err: err})
	}
	return in
}

// renderRun renders pkts with the given number of workers and returns the
// output and statistics.
func renderRun(t *testing.T, in *parallelInput, ro render.Options, workers int) ([]byte, Stats, error) {
	t.Helper()
	var out bytes.Buffer
	var rs []*render.Renderer
	newSink := func(w io.Writer) (dissect.Sink, func() error) {
		r := render.New(w, ro)
		rs = append(rs, r)
		return r, r.Flush
	}
	opts := in.opts
	opts.Workers = workers
	opts.Epoch = func(ts time.Time) {
		for _, r := range rs {
			r.SetEpoch(ts)
		}
	}
	st, err := RunParallel(&sliceSource{pkts: in.pkts, err: in.err}, newSink, opts, &out)
	return out.Bytes(), st, err
}

// renderOptions are the output formats compared.
var renderOptions = []struct {
	name string
	ro   render.Options
}{
	{"summary", render.Options{}},
	{"summary-hex-color", render.Options{Hex: true, Color: true}},
	{"tree", render.Options{Format: render.FormatTree}},
	{"json", render.Options{Format: render.FormatJSON}},
	{"json-file", render.Options{Format: render.FormatJSON, File: "x.pcap"}},
}

// TestParallelIdentical renders the testdata captures, the shared corpus
// (when present) and synthetic captures that exercise the connection table
// (idle expiry, eviction, address reuse, end of input, timestamps going
// backwards) in every format, as frames and as messages, with one worker
// and with two to four, and requires byte-identical output and equal
// statistics.
func TestParallelIdentical(t *testing.T) {
	inputs := append(captureInputs(t), synthInputs(t)...)
	for i := range inputs {
		in := &inputs[i]
		t.Run(in.name, func(t *testing.T) {
			for _, messages := range []bool{false, true} {
				in := *in
				in.opts.Dissect.Messages = messages
				for _, f := range renderOptions {
					ro := f.ro
					ro.Messages = messages
					want, wantSt, wantErr := renderRun(t, &in, ro, 1)
					for workers := 2; workers <= 4; workers++ {
						got, st, err := renderRun(t, &in, ro, workers)
						if fmt.Sprint(err) != fmt.Sprint(wantErr) {
							t.Errorf("%s messages=%v workers=%d: error %v, want %v", f.name, messages, workers, err, wantErr)
						}
						if !bytes.Equal(got, want) {
							t.Errorf("%s messages=%v workers=%d: output differs from one worker:\n%s",
								f.name, messages, workers, firstDiff(want, got))
							continue
						}
						st.Reassembly.PeakBuffered, wantSt.Reassembly.PeakBuffered = 0, 0
						st.Memory.Peak, wantSt.Memory.Peak = 0, 0
						if st != wantSt {
							t.Errorf("%s messages=%v workers=%d: stats\n%+v\nwant\n%+v", f.name, messages, workers, st, wantSt)
						}
					}
				}
			}
		})
	}
}

// firstDiff describes the first line where got differs from want.
func firstDiff(want, got []byte) string {
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n want %q\n got  %q", i+1, w, g)
		}
	}
	return "(same lines)"
}

// synthInputs returns synthetic captures of many interleaved connections in
// which connections go idle inside a frame, are reset, reuse a previous
// connection's addresses with a new initial sequence number, and stay open
// at the end of the input, with options that make the connection table
// expire (idle timeout), evict (small table) and both.
func synthInputs(t *testing.T) []parallelInput {
	t.Helper()
	pkts := churnPackets(t, 60, 1)
	back := backwardsTimes(pkts)
	var out []parallelInput
	for _, v := range []struct {
		name string
		pkts []source.Packet
		opts Options
	}{
		{"churn-default", pkts, Options{}},
		{"churn-idle", pkts, Options{Reassembly: reassembly.Config{IdleTimeout: 3 * time.Second}}},
		{"churn-evict", pkts, Options{Reassembly: reassembly.Config{MaxConns: 7}}},
		{"churn-idle-evict", pkts, Options{Reassembly: reassembly.Config{IdleTimeout: 2 * time.Second, MaxConns: 5}}},
		{"churn-backwards-idle", back, Options{Reassembly: reassembly.Config{IdleTimeout: 3 * time.Second}}},
		{"churn-damaged", pkts[:len(pkts)*2/3], Options{Reassembly: reassembly.Config{IdleTimeout: 4 * time.Second}}},
		{"churn-budget", pkts, Options{Memory: DefaultMemory}},
		// A small budget shrinks the parts of output to a few KiB, so a
		// packet of hundreds of tiny frames is handed to the merger in
		// several parts.
		{"dense-small-parts", densePackets(t), Options{Memory: 16 << 20}},
	} {
		in := parallelInput{name: v.name, pkts: v.pkts, opts: v.opts}
		if v.name == "churn-damaged" {
			in.err = fmt.Errorf("packet 1234: %w", source.ErrDamaged)
		}
		out = append(out, in)
	}
	return out
}

// churnPackets writes n connections into a capture, interleaved at random
// (seeded): each upgrades, exchanges messages, and then closes, is reset,
// stops inside a frame (to go idle or stay open at the end), or has its
// addresses taken over by a new connection (a SYN with a new initial
// sequence number) while a frame is in flight. Packets are spaced step
// hundred milliseconds apart, so idle timeouts of seconds expire
// connections while others are busy.
func churnPackets(t *testing.T, n int, seed uint64) []source.Packet {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 42))
	cp := capgen.NewCapture(capgen.CaptureOptions{Step: 100 * time.Millisecond})
	type live struct {
		s      *synthConn
		i      int
		left   int // messages still to send
		ending int // 0 close, 1 reset, 2 cut frame, 3 reuse
	}
	var open []*live
	next := 0
	for next < n || len(open) > 0 {
		if next < n && (len(open) < 6 || rng.IntN(4) == 0) {
			s := openSynth(t, cp, next, next%4 == 1)
			open = append(open, &live{s: s, i: next, left: rng.IntN(5), ending: rng.IntN(4)})
			next++
			continue
		}
		k := rng.IntN(len(open))
		l := open[k]
		if l.left > 0 {
			l.s.message(capgen.Side(rng.IntN(2)))
			l.left--
			continue
		}
		open = append(open[:k], open[k+1:]...)
		switch l.ending {
		case 0:
			l.s.close()
		case 1:
			l.s.c.Reset(capgen.Server)
		case 2:
			l.s.cutFrame(capgen.Side(l.i & 1))
		case 3:
			l.s.cutFrame(capgen.Client)
			client, server := synthAddrs(l.i)
			r := openSynthAt(t, cp, client, server, uint32(0x7000_0000+l.i), false)
			open = append(open, &live{s: r, i: l.i, left: 1 + rng.IntN(2), ending: rng.IntN(3)})
		}
	}
	return memPackets(t, writePcap(t, cp))
}

// cutFrame sends the first part of a frame and nothing after it.
func (s *synthConn) cutFrame(from capgen.Side) {
	f := capgen.Frame{Fin: true, Opcode: capgen.OpText, Payload: capgen.JSONText(3000, 7)}
	if from == capgen.Client {
		f.Masked, f.Key = true, [4]byte{9, 8, 7, 6}
	}
	b := f.Bytes()
	s.c.Send(from, b[:len(b)/2])
}

// backwardsTimes returns a copy of pkts in which every 37th packet's time
// jumps five seconds back and every 91st's ten seconds ahead.
func backwardsTimes(pkts []source.Packet) []source.Packet {
	out := make([]source.Packet, len(pkts))
	copy(out, pkts)
	for i := range out {
		switch {
		case i%37 == 36:
			out[i].Time = out[i].Time.Add(-5 * time.Second)
		case i%91 == 90:
			out[i].Time = out[i].Time.Add(10 * time.Second)
		}
	}
	return out
}

// TestParallelSinkError stops the run when the output fails, without
// hanging, in both runners.
func TestParallelSinkError(t *testing.T) {
	in := parallelInput{pkts: churnPackets(t, 30, 2)}
	for workers := 1; workers <= 3; workers++ {
		w := &failWriter{after: 3000}
		newSink := func(out io.Writer) (dissect.Sink, func() error) {
			r := render.New(out, render.Options{Format: render.FormatJSON})
			return r, r.Flush
		}
		_, err := RunParallel(&sliceSource{pkts: in.pkts}, newSink, Options{Workers: workers}, w)
		if !errors.Is(err, errWriteFailed) {
			t.Errorf("workers=%d: error %v, want %v", workers, err, errWriteFailed)
		}
	}
}

// errWriteFailed is failWriter's error.
var errWriteFailed = errors.New("write failed")

// failWriter fails once more than after bytes were written.
type failWriter struct {
	after int
	n     int
}

func (w *failWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n > w.after {
		return 0, errWriteFailed
	}
	return len(p), nil
}

// TestParallelStreamNumbers checks that connections reusing addresses get
// new stream numbers in packet order, whichever worker they land on.
func TestParallelStreamNumbers(t *testing.T) {
	cp := capgen.NewCapture(capgen.CaptureOptions{})
	client := netip.MustParseAddrPort("10.9.0.1:40000")
	server := netip.MustParseAddrPort("10.9.0.2:80")
	for i := range 5 {
		s := openSynthAt(t, cp, client, server, uint32(1000*(i+1)), false)
		s.message(capgen.Client)
		other := openSynth(t, cp, 100+i, false)
		other.message(capgen.Server)
		s.close()
		other.close()
	}
	in := parallelInput{pkts: memPackets(t, writePcap(t, cp))}
	got, _, err := renderRun(t, &in, render.Options{Format: render.FormatJSON}, 3)
	if err != nil {
		t.Fatal(err)
	}
	var streams []string
	for _, ln := range strings.Split(strings.TrimSpace(string(got)), "\n") {
		if strings.Contains(ln, `"type":"conn"`) {
			_, rest, _ := strings.Cut(ln, `"stream":`)
			num, _, _ := strings.Cut(rest, ",")
			streams = append(streams, num)
		}
	}
	if want := "0 1 2 3 4 5 6 7 8 9"; strings.Join(streams, " ") != want {
		t.Errorf("conn records' streams %v, want %s", streams, want)
	}
}

// densePackets returns two connections of back-to-back 2-byte frames in
// full-sized segments: each packet renders to tens of KiB.
func densePackets(t *testing.T) []source.Packet {
	cp := capgen.NewCapture(capgen.CaptureOptions{Step: 50 * time.Microsecond})
	frame := capgen.Frame{Fin: true, Opcode: capgen.OpBinary, Payload: []byte{0xab, 0xcd}}.Bytes()
	chunk := bytes.Repeat(frame, 4096)
	var conns []*synthConn
	for i := range 2 {
		conns = append(conns, openSynth(t, cp, i, false))
	}
	for _, s := range conns {
		s.c.Send(capgen.Server, chunk)
	}
	for _, s := range conns {
		s.close()
	}
	return memPackets(t, writePcap(t, cp))
}

// TestRoundBuffersReused checks that the payload buffers of a round are
// reused whichever worker gets the work: with a small --memory a round
// carries a packet or a few, each round to another worker of eight, or
// whole rounds go to one worker (one busy connection). Once warm, filling
// and resetting rounds allocates nothing, and a round keeps no more than
// its keep.
func TestRoundBuffersReused(t *testing.T) {
	payload := make([]byte, 1460)
	tests := []struct {
		name    string
		q       queueSizes
		workers int
		worker  func(round, i int) uint8 // the worker of the i-th packet of a round
	}{
		{"eight workers, small rounds, moving", queueSizes{roundCmds: 128, roundData: 16 << 10, partSize: 8 << 10}, 8,
			func(round, i int) uint8 { return uint8((round + i/4) % 8) }},
		{"two workers, a scaled round size the allocator rounds up", queueSizes{roundCmds: 450, roundData: 57456, partSize: 28 << 10}, 2,
			func(round, i int) uint8 { return uint8(i % 2) }},
		{"one worker takes whole rounds", queueSizes{roundCmds: 4096, roundData: 512 << 10, partSize: 256 << 10}, 2,
			func(round, i int) uint8 { return uint8(round / 3 % 2) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &parallel{q: tt.q}
			r := newRound(tt.workers, tt.q)
			n := 0
			fill := func() {
				p.cur = r
				for i := 0; r.data < tt.q.roundData; i++ {
					b := p.batch(tt.worker(n, i), len(payload))
					b.cmds = append(b.cmds, command{kind: cmdSegment, off: uint32(len(b.data)), n: uint32(len(payload))})
					b.data = append(b.data, payload...)
				}
				n++
				r.reset()
				kept := 0
				for _, sp := range r.spare {
					kept += cap(sp)
				}
				if kept > r.keep {
					t.Fatalf("round %d keeps %d bytes, over its keep %d", n, kept, r.keep)
				}
			}
			for range 4 * tt.workers {
				fill()
			}
			if a := testing.AllocsPerRun(20, fill); a != 0 {
				t.Errorf("%.1f allocations per round once warm, want 0", a)
			}
		})
	}
}
