//go:debug randseednop=0

// Command gen builds the benchmark captures from real WebSocket library
// traffic:
//
//	go run ./bench/gen -out bench/out -kind plain -size 200MB
//	go run ./bench/gen -out bench/out -kind deflate -size 200MB
//	go run ./bench/gen -out bench/out -kind conns -count 20000
//	go run ./bench/gen -out bench/out -kind wss -size 200MB
//	go run ./bench/gen -out bench/out -kind real-wss -size 200MB
//
// It records one realistic session per library with internal/capgen (real
// github.com/coder/websocket and github.com/gorilla/websocket peers over
// 127.0.0.1), then replays it as many TCP connections as needed, each with
// its own addresses, ports, initial sequence numbers and timestamps, several
// connections interleaved at a time, until the capture reaches the target
// size (plain, deflate) or connection count (conns). Replication is
// deterministic; the recorded bytes are made deterministic too by seeding
// crypto/rand and math/rand before each recording, as tools/gencap does.
//
// Kinds:
//
//	plain    coder and gorilla sessions (about 50 kB each) of mixed text and
//	         binary messages, both directions, a fragmented message, pings
//	deflate  a coder session with permessage-deflate and context takeover
//	conns    short connections: handshake, four messages, close
//	real     traffic shaped like real-time applications: 200 concurrent
//	         long-lived coder and gorilla connections of mostly small JSON
//	         messages with a long tail (median ~250 bytes, mean ~1 kB),
//	         binary records, pings (see realisticSession)
//	real-deflate  the same with permessage-deflate: coder with context
//	         takeover, gorilla without (the only mode it offers)
//	wss      the plain sessions over Go crypto/tls (coder over TLS 1.3,
//	         gorilla over TLS 1.2 AES-128-GCM); the client's key log is
//	         written next to the capture as FILE.keylog. Every copy of a
//	         session is the same TLS connection (same client random), so
//	         the small key log decrypts them all. TLS handshakes are not
//	         deterministic.
//	real-wss the real sessions over TLS the same way: the coder half over
//	         TLS 1.3, the gorilla half over TLS 1.2 ECDHE AES-128-GCM, the
//	         key log in FILE.keylog
//
// The file is written as DIR/KIND-SIZE.pcap (conns: DIR/conns-COUNT.pcap)
// unless -o names it.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// config is the parsed command line.
type config struct {
	dir        string
	out        string
	kind       string
	sizeLabel  string
	size       int64
	count      int
	concurrent int
	step       time.Duration
}

func run(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.dir, "out", "bench/out", "output directory")
	fs.StringVar(&c.out, "o", "", "output file (default DIR/KIND-SIZE.pcap)")
	fs.StringVar(&c.kind, "kind", "plain", "capture kind: plain, deflate, conns, real, real-deflate, wss or real-wss")
	fs.StringVar(&c.sizeLabel, "size", "200MB", "target file size for plain and deflate (e.g. 50MB, 200MB, 1GB)")
	fs.IntVar(&c.count, "count", 20000, "connections for -kind conns")
	fs.IntVar(&c.concurrent, "concurrent", 0, "connections interleaved at a time (default 16, conns 64)")
	fs.DurationVar(&c.step, "step", 20*time.Microsecond, "capture time between packets")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	size, err := parseSize(c.sizeLabel)
	if err != nil {
		return err
	}
	c.size = size
	if c.step <= 0 {
		return errors.New("-step must be positive")
	}
	switch c.kind {
	case "plain", "deflate", "real", "real-deflate", "wss", "real-wss":
		if c.concurrent == 0 {
			c.concurrent = 16
			if c.kind == "real" || c.kind == "real-deflate" || c.kind == "real-wss" {
				c.concurrent = 200
			}
		}
		if c.out == "" {
			c.out = filepath.Join(c.dir, c.kind+"-"+c.sizeLabel+".pcap")
		}
	case "conns":
		if c.count <= 0 {
			return errors.New("-count must be positive")
		}
		if c.concurrent == 0 {
			c.concurrent = 64
		}
		if c.out == "" {
			c.out = filepath.Join(c.dir, "conns-"+strconv.Itoa(c.count)+".pcap")
		}
	default:
		return fmt.Errorf("unknown -kind %q (plain, deflate, conns, real, real-deflate, wss or real-wss)", c.kind)
	}
	if c.concurrent < 1 {
		return errors.New("-concurrent must be at least 1")
	}
	start := time.Now()
	recs, err := record(c.kind)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.out), 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	st, err := writeCapture(&c, recs)
	if err != nil {
		return err
	}
	if c.kind == "wss" || c.kind == "real-wss" {
		var kl []byte
		for _, r := range recs {
			kl = append(kl, r.KeyLog...)
		}
		if err := os.WriteFile(c.out+".keylog", kl, 0o644); err != nil {
			return fmt.Errorf("write key log: %w", err)
		}
	}
	fmt.Printf("%s: %d bytes, %d packets, %d connections (%s)\n",
		c.out, st.bytes, st.packets, st.conns, time.Since(start).Round(time.Millisecond))
	return nil
}

// parseSize parses 200MB, 1GB, 64MiB or a plain byte count (MB and GB are
// powers of 1000, MiB and GiB of 1024).
func parseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"G", 1e9}, {"M", 1e6}, {"K", 1e3}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.m
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(t), 10, 64)
	if err != nil || n <= 0 || n > (1<<50)/mult {
		return 0, fmt.Errorf("invalid size %q (examples: 200MB, 1GB)", s)
	}
	return n * mult, nil
}

// record records the real-library sessions replicated for kind.
func record(kind string) ([]*capgen.Recording, error) {
	var scs []capgen.Scenario
	switch kind {
	case "plain":
		scs = []capgen.Scenario{plainSession(capgen.Coder), plainSession(capgen.Gorilla)}
	case "deflate":
		scs = []capgen.Scenario{deflateSession()}
	case "real":
		scs = []capgen.Scenario{
			realisticSession("bench-real-coder", capgen.Coder, capgen.NoCompression, 1),
			realisticSession("bench-real-gorilla", capgen.Gorilla, capgen.NoCompression, 2),
		}
	case "real-deflate":
		scs = []capgen.Scenario{
			realisticSession("bench-real-deflate-coder", capgen.Coder, capgen.ContextTakeover, 3),
			realisticSession("bench-real-deflate-gorilla", capgen.Gorilla, capgen.NoContextTakeover, 4),
		}
	case "wss":
		scs = []capgen.Scenario{plainSession(capgen.Coder), plainSession(capgen.Gorilla)}
		scs[0].Name, scs[0].TLS = "bench-wss-coder", tls13Options()
		scs[1].Name, scs[1].TLS = "bench-wss-gorilla", tls12Options()
	case "real-wss":
		// The real kind's sessions (same seeds, so the same messages).
		scs = []capgen.Scenario{
			realisticSession("bench-real-wss-coder", capgen.Coder, capgen.NoCompression, 1),
			realisticSession("bench-real-wss-gorilla", capgen.Gorilla, capgen.NoCompression, 2),
		}
		scs[0].TLS, scs[1].TLS = tls13Options(), tls12Options()
	default:
		scs = []capgen.Scenario{shortSession()}
	}
	recs := make([]*capgen.Recording, 0, len(scs))
	for _, sc := range scs {
		h := fnv.New64a()
		h.Write([]byte(sc.Name))
		capgen.SeedGlobalRandom(h.Sum64())
		r, err := capgen.RecordScenario(context.Background(), sc)
		if err != nil {
			return nil, fmt.Errorf("record %s: %w", sc.Name, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// tls13Options puts a wss kind's coder sessions over TLS 1.3.
func tls13Options() *capgen.TLSOptions {
	return &capgen.TLSOptions{MinVersion: tls.VersionTLS13}
}

// tls12Options puts a wss kind's gorilla sessions over TLS 1.2 with ECDHE
// and AES-128-GCM.
func tls12Options() *capgen.TLSOptions {
	return &capgen.TLSOptions{MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}}
}

// plainSession is a conversation of about 50 kB: text (JSON, UTF-8) and
// binary messages of sizes from a few bytes to 16 kB in both directions, one
// message streamed in fragments, pings.
func plainSession(lib capgen.Library) capgen.Scenario {
	c, s := capgen.Client, capgen.Server
	txt, bin := capgen.OpText, capgen.OpBinary
	var ping []byte
	if lib == capgen.Gorilla {
		ping = []byte("keepalive")
	}
	return capgen.Scenario{
		Name:    "bench-plain-" + lib.String(),
		Library: lib,
		Steps: []capgen.Step{
			{From: c, Opcode: txt, Payload: []byte(`{"op":"subscribe","channels":["ticker","trades","book"]}`)},
			{From: s, Opcode: txt, Payload: capgen.JSONText(1500, 0)},
			{From: s, Opcode: bin, Payload: capgen.RandomBytes(8000, 21)},
			{From: c, Opcode: bin, Payload: capgen.RandomBytes(64, 22)},
			{From: s, Opcode: txt, Payload: []byte("status: ünïcödé ✓ — 日本語 — all systems nominal")},
			{From: c, Kind: capgen.SendPing, Payload: ping},
			{From: s, Opcode: txt, Payload: capgen.JSONText(6000, 100)},
			{From: c, Opcode: txt, Payload: capgen.RandomText(300, 23)},
			{From: s, Opcode: bin, Payload: capgen.RandomBytes(12000, 24), Chunks: []int{4096}},
			{From: c, Opcode: txt, Payload: capgen.JSONText(2000, 300)},
			{From: s, Opcode: txt, Payload: capgen.RandomText(120, 25)},
			{From: s, Opcode: bin, Payload: capgen.RandomBytes(8000, 26)},
			{From: c, Opcode: bin, Payload: capgen.RandomBytes(1000, 27)},
			{From: s, Kind: capgen.SendPing, Payload: ping},
			{From: s, Opcode: txt, Payload: capgen.JSONText(3000, 500)},
			{From: c, Opcode: txt, Payload: []byte("ack")},
			{From: s, Opcode: bin, Payload: []byte{}},
			{From: s, Opcode: txt, Payload: capgen.RandomText(400, 28)},
		},
		Close: capgen.CloseSpec{From: c, Code: 1000, Reason: "bye"},
	}
}

// deflateSession is a coder conversation with permessage-deflate and context
// takeover: compressible JSON and text, random binary, a fragmented message.
func deflateSession() capgen.Scenario {
	c, s := capgen.Client, capgen.Server
	txt, bin := capgen.OpText, capgen.OpBinary
	return capgen.Scenario{
		Name:                 "bench-deflate-coder",
		Library:              capgen.Coder,
		Compression:          capgen.ContextTakeover,
		CompressionThreshold: 64,
		Steps: []capgen.Step{
			{From: c, Opcode: txt, Payload: []byte(`{"op":"subscribe","channels":["ticker","trades","book"]}`)},
			{From: s, Opcode: txt, Payload: capgen.JSONText(4000, 0)},
			{From: s, Opcode: bin, Payload: capgen.RandomBytes(6000, 31)},
			{From: c, Opcode: txt, Payload: capgen.RandomText(500, 32)},
			{From: s, Opcode: txt, Payload: capgen.JSONText(12000, 200)},
			{From: c, Kind: capgen.SendPing},
			{From: s, Opcode: txt, Payload: capgen.RandomText(3000, 33)},
			{From: c, Opcode: txt, Payload: capgen.JSONText(2000, 900)},
			{From: s, Opcode: txt, Payload: capgen.JSONText(8000, 1000), Chunks: []int{2048}},
			{From: s, Opcode: bin, Payload: capgen.RandomBytes(10000, 34)},
			{From: c, Opcode: txt, Payload: []byte("ok")},
			{From: s, Opcode: txt, Payload: capgen.JSONText(16000, 2000)},
			{From: s, Kind: capgen.SendPing},
			{From: c, Opcode: bin, Payload: capgen.RandomBytes(800, 35)},
			{From: s, Opcode: txt, Payload: capgen.RandomText(2500, 36)},
		},
		Close: capgen.CloseSpec{From: c, Code: 1000, Reason: "bye"},
	}
}

// shortSession is one short connection: handshake, four messages, close.
func shortSession() capgen.Scenario {
	c, s := capgen.Client, capgen.Server
	return capgen.Scenario{
		Name:    "bench-short-coder",
		Library: capgen.Coder,
		Steps: []capgen.Step{
			{From: c, Opcode: capgen.OpText, Payload: []byte(`{"op":"login","user":"alice","token":"0123456789abcdef"}`)},
			{From: s, Opcode: capgen.OpText, Payload: capgen.JSONText(400, 0)},
			{From: c, Opcode: capgen.OpBinary, Payload: capgen.RandomBytes(120, 41)},
			{From: s, Opcode: capgen.OpText, Payload: []byte(`{"status":"ok"}`)},
		},
		Close: capgen.CloseSpec{From: c, Code: 1000, Reason: "done"},
	}
}

// stats counts what was written.
type stats struct {
	bytes   int64
	packets int
	conns   int
}

// writeCapture replays recs (round-robin) as connections, c.concurrent at a
// time, into a pcap file until the target is reached.
func writeCapture(c *config, recs []*capgen.Recording) (st stats, err error) {
	f, err := os.Create(c.out)
	if err != nil {
		return st, fmt.Errorf("create capture: %w", err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close capture: %w", cerr)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], capgen.DefaultSnapLen)
	binary.LittleEndian.PutUint32(hdr[20:], uint32(capgen.LinkEthernet))
	if _, err := w.Write(hdr[:]); err != nil {
		return st, fmt.Errorf("write capture: %w", err)
	}
	st.bytes = int64(len(hdr))
	next := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	done := func() bool {
		if c.kind == "conns" {
			return st.conns >= c.count
		}
		return st.bytes >= c.size
	}
	var rec [16]byte
	for !done() {
		k := c.concurrent
		if c.kind == "conns" {
			k = min(k, c.count-st.conns)
		}
		group := make([]*capgen.Recording, k)
		opts := make([]capgen.ReplayOptions, k)
		for j := range k {
			i := st.conns + j
			group[j] = recs[i%len(recs)]
			opts[j] = capgen.ReplayOptions{Conn: connConfig(i), ConnIndex: i}
		}
		cp := capgen.NewCapture(capgen.CaptureOptions{Base: next, Step: c.step})
		if _, err := capgen.ReplayInterleaved(cp, group, opts); err != nil {
			return st, fmt.Errorf("replay connections %d-%d: %w", st.conns, st.conns+k-1, err)
		}
		pkts := cp.Packets()
		for _, p := range pkts {
			binary.LittleEndian.PutUint32(rec[0:], uint32(p.Time.Unix()))
			binary.LittleEndian.PutUint32(rec[4:], uint32(p.Time.Nanosecond()/1000))
			binary.LittleEndian.PutUint32(rec[8:], uint32(len(p.Data)))
			binary.LittleEndian.PutUint32(rec[12:], uint32(len(p.Data)))
			if _, err := w.Write(rec[:]); err != nil {
				return st, fmt.Errorf("write capture: %w", err)
			}
			if _, err := w.Write(p.Data); err != nil {
				return st, fmt.Errorf("write capture: %w", err)
			}
			st.bytes += int64(len(rec) + len(p.Data))
		}
		st.packets += len(pkts)
		st.conns += k
		if n := len(pkts); n > 0 {
			next = pkts[n-1].Time.Add(c.step)
		}
	}
	if err := w.Flush(); err != nil {
		return st, fmt.Errorf("write capture: %w", err)
	}
	return st, nil
}

// connConfig returns the addresses and initial sequence numbers of copy i:
// clients 10.64.0.0/10 with ports from 20000, servers 10.1.0.2-5:8080, ISNs
// from a fixed mixing function of i.
func connConfig(i int) capgen.ConnConfig {
	u := uint32(i)
	client := netip.AddrFrom4([4]byte{10, byte(64 + (u>>16)&63), byte(u >> 8), byte(u)})
	server := netip.AddrFrom4([4]byte{10, 1, 0, byte(2 + u%4)})
	return capgen.ConnConfig{
		Client:    netip.AddrPortFrom(client, uint16(20000+u%40000)),
		Server:    netip.AddrPortFrom(server, 8080),
		ClientISN: uint32(mix(uint64(i)*2 + 1)),
		ServerISN: uint32(mix(uint64(i)*2 + 2)),
		Link:      capgen.Link{Type: capgen.LinkEthernet},
	}
}

// mix is the splitmix64 finaliser; it never returns 0 for the inputs used
// here in practice, and a zero ISN only selects capgen's default.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
