package capgen

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// GenerateOptions configure Build and Generate.
type GenerateOptions struct {
	// Reseed, when set, is called before each real-library recording with a
	// seed fixed per scenario. It must make the process's randomness
	// deterministic: crypto/rand.Reader (coder's and gorilla's handshake
	// keys, coder's masking keys) and the math/rand top-level generator
	// (gorilla's masking keys, which needs GODEBUG randseednop=0 and
	// math/rand.Seed). Without it the real-library captures differ from run
	// to run in keys and masks (the messages are the same).
	Reseed func(seed uint64)
}

// Output is one generated capture.
type Output struct {
	// Name is the file name, e.g. "coder-basic.pcap".
	Name string
	// Data is the file content.
	Data []byte
	// Truth is the ground truth; nil when the capture shares the truth file
	// of another output (coder-basic.pcap.gz).
	Truth *Truth
	// Deterministic is true when Data is the same on every run (with the
	// same Go toolchain and library versions).
	Deterministic bool
}

// generator holds recordings shared by several outputs.
type generator struct {
	ctx  context.Context
	opts GenerateOptions
	recs map[string]*Recording
	out  []Output
}

// Build generates every capture in memory. It records real-library traffic
// over 127.0.0.1 and takes well under a few seconds.
func Build(ctx context.Context, opts GenerateOptions) ([]Output, error) {
	g := &generator{ctx: ctx, opts: opts, recs: map[string]*Recording{}}
	steps := []func() error{
		g.coderBasic, g.coderFragmented, g.coderDeflate, g.gorilla, g.gorillaDeflate,
		g.lost, g.midstream, g.ipv6, g.linkTypes, g.handBuilt, g.audit, g.wss,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("build captures: %w", err)
		}
	}
	return g.out, nil
}

// Generate builds every capture and writes it, with its truth file, into
// dir (created if needed).
func Generate(ctx context.Context, dir string, opts GenerateOptions) ([]Output, error) {
	outs, err := Build(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	for _, o := range outs {
		p := filepath.Join(dir, o.Name)
		if err := os.WriteFile(p, o.Data, 0o644); err != nil {
			return nil, fmt.Errorf("generate: %w", err)
		}
		if o.Truth == nil {
			continue
		}
		j, err := o.Truth.JSON()
		if err != nil {
			return nil, fmt.Errorf("generate %s: %w", o.Name, err)
		}
		if err := os.WriteFile(TruthPath(p), j, 0o644); err != nil {
			return nil, fmt.Errorf("generate: %w", err)
		}
	}
	return outs, nil
}

// record returns the recording of sc, recording it on first use.
func (g *generator) record(sc Scenario) (*Recording, error) {
	if r, ok := g.recs[sc.Name]; ok {
		return r, nil
	}
	if g.opts.Reseed != nil {
		h := fnv.New64a()
		h.Write([]byte(sc.Name))
		g.opts.Reseed(h.Sum64())
	}
	r, err := RecordScenario(g.ctx, sc)
	if err != nil {
		return nil, err
	}
	g.recs[sc.Name] = r
	return r, nil
}

// withNotes returns base followed by more, never sharing base's array.
func withNotes(base []string, more ...string) []string {
	return append(slices.Clip(base), more...)
}

// realNotes describes how real-library captures were made.
func realNotes(r *Recording, lib string) []string {
	return []string{
		fmt.Sprintf("recorded from real %s peers (scenario %s) over 127.0.0.1; TCP segmentation, addresses and timestamps are synthetic", lib, r.Name),
		"each library Write became one TCP flight (MSS-sized segments, then an ACK from the peer)",
	}
}

// addPcap replays recs (interleaved) into a new pcap output.
func (g *generator) addPcap(name string, recs []*Recording, opts []ReplayOptions, copts CaptureOptions, popts PcapOptions, notes []string) error {
	c := NewCapture(copts)
	truth, err := ReplayInterleaved(c, recs, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := c.WritePcap(&buf, popts); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	g.out = append(g.out, Output{
		Name: name, Data: buf.Bytes(), Truth: &Truth{Messages: truth, Notes: notes},
		Deterministic: g.opts.Reseed != nil,
	})
	return nil
}

func ethernet() Link { return Link{Type: LinkEthernet} }

func (g *generator) coderBasic() error {
	r, err := g.record(scenarioCoderBasic())
	if err != nil {
		return err
	}
	notes := realNotes(r, "github.com/coder/websocket")
	opts := []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}}}
	if err := g.addPcap("coder-basic.pcap", []*Recording{r}, opts, CaptureOptions{}, PcapOptions{}, notes); err != nil {
		return err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(g.out[len(g.out)-1].Data); err != nil {
		return fmt.Errorf("coder-basic.pcap.gz: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("coder-basic.pcap.gz: %w", err)
	}
	g.out = append(g.out, Output{Name: "coder-basic.pcap.gz", Data: gz.Bytes(), Deterministic: g.opts.Reseed != nil})

	nsNotes := withNotes(notes, "pcap with nanosecond timestamps in big-endian byte order; packets are 1.000123 ms apart")
	return g.addPcap("coder-nanosecond-bigendian.pcap", []*Recording{r}, opts,
		CaptureOptions{Step: 1000123 * time.Nanosecond}, PcapOptions{Nanosecond: true, BigEndian: true}, nsNotes)
}

func (g *generator) coderFragmented() error {
	r, err := g.record(scenarioCoderFragmented())
	if err != nil {
		return err
	}
	notes := withNotes(realNotes(r, "github.com/coder/websocket"),
		"messages written with several Writer.Write calls: coder sends one non-final frame per Write and an empty final frame on Close; it buffers non-final frames, so several frames share a segment",
		"c2s pings are sent while a fragmented message is open, so a ping frame sits between that message's fragments")
	return g.addPcap("coder-fragmented.pcap", []*Recording{r}, []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}}},
		CaptureOptions{}, PcapOptions{}, notes)
}

func (g *generator) coderDeflate() error {
	r, err := g.record(scenarioCoderDeflateTakeover())
	if err != nil {
		return err
	}
	notes := withNotes(realNotes(r, "github.com/coder/websocket"),
		"permessage-deflate with context takeover in both directions, compression threshold -1 so every message is compressed, even empty ones (payload 0x00)",
		"streamed messages are compressed and fragmented: a compressed frame with RSV1 and FIN clear, then an empty final continuation frame")
	if err := g.addPcap("coder-deflate-takeover.pcap", []*Recording{r}, []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}}},
		CaptureOptions{}, PcapOptions{}, notes); err != nil {
		return err
	}
	r, err = g.record(scenarioCoderDeflateNoContext())
	if err != nil {
		return err
	}
	notes = withNotes(realNotes(r, "github.com/coder/websocket"),
		"permessage-deflate with client_no_context_takeover and server_no_context_takeover; compression threshold 64, so shorter messages are sent uncompressed (RSV1 clear)")
	return g.addPcap("coder-deflate-nocontext.pcap", []*Recording{r}, []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}}},
		CaptureOptions{}, PcapOptions{}, notes)
}

// spanOf returns the span of the index-th truth message of side with the
// given opcode.
func spanOf(r *Recording, side Side, opcode uint8, index int) (Range, error) {
	n := 0
	for i, m := range r.Truth {
		if m.Dir == side.Dir() && m.Opcode == opcode {
			if n == index {
				return r.Spans[i], nil
			}
			n++
		}
	}
	return Range{}, fmt.Errorf("%s: no %v message %d with opcode %d", r.Name, side, index, opcode)
}

func (g *generator) gorilla() error {
	r, err := g.record(scenarioGorillaBasic())
	if err != nil {
		return err
	}
	notes := realNotes(r, "github.com/gorilla/websocket")
	if err := g.addPcap("gorilla-basic.pcap", []*Recording{r}, []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}}},
		CaptureOptions{}, PcapOptions{}, notes); err != nil {
		return err
	}

	// The same recording with transport impairments.
	cBin, err := spanOf(r, Client, OpBinary, 0)
	if err != nil {
		return err
	}
	sText, err := spanOf(r, Server, OpText, 1)
	if err != nil {
		return err
	}
	cfg := ConnConfig{
		Link:      ethernet(),
		MSS:       536,
		ClientISN: 0xffffffff - 1000, // wraps inside the client's binary message
		ServerISN: 0xffffffff - 300,  // wraps inside the server's long text message
	}
	imps := []Impairment{
		{Kind: Reorder, Side: Client, Offset: cBin.Start + 600},
		{Kind: Duplicate, Side: Client, Offset: cBin.Start + 1700},
		{Kind: RetransmitDiffer, Side: Server, Offset: sText.Start + 100},
		{Kind: Overlap, Side: Server, Offset: sText.Start + 1200},
		{Kind: Duplicate, Side: Server, Offset: sText.End - 1},
	}
	notes = withNotes(realNotes(r, "github.com/gorilla/websocket"),
		"same recording as gorilla-basic, MSS 536",
		fmt.Sprintf("client ISN 0x%08x and server ISN 0x%08x: sequence numbers wrap past 2^32 at client stream offset %d and server stream offset %d",
			cfg.ClientISN, cfg.ServerISN, -(cfg.ClientISN+1), -(cfg.ServerISN+1)))
	for _, im := range imps {
		notes = append(notes, fmt.Sprintf("%v on the %v segment holding stream offset %d", im.Kind, im.Side, im.Offset))
	}
	notes = append(notes,
		"reorder: the segment arrives after the next one; duplicate: an identical copy follows",
		"retransmit-differ: a copy with every byte XOR 0x55 follows the original; the original is the true data",
		"overlap: the next segment starts in the middle of this one (first half repeated identically, rest new)")
	return g.addPcap("gorilla-impaired.pcap", []*Recording{r}, []ReplayOptions{{Conn: cfg, Impairments: imps}},
		CaptureOptions{}, PcapOptions{}, notes)
}

func (g *generator) gorillaDeflate() error {
	r, err := g.record(scenarioGorillaDeflate())
	if err != nil {
		return err
	}
	notes := withNotes(realNotes(r, "github.com/gorilla/websocket"),
		"permessage-deflate (gorilla: no context takeover both ways), every data message compressed, including an empty one",
		"write buffer 256 bytes: longer messages are split into several frames",
		"a s2c ping is sent while a compressed message's writer is open; gorilla's compressor holds the data back, so the ping precedes all frames of that message")
	return g.addPcap("gorilla-deflate.pcap", []*Recording{r}, []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}}},
		CaptureOptions{}, PcapOptions{}, notes)
}

func (g *generator) lost() error {
	r, err := g.record(scenarioCoderLarge())
	if err != nil {
		return err
	}
	big, err := spanOf(r, Server, OpBinary, 0)
	if err != nil {
		return err
	}
	drop := Impairment{Kind: Drop, Side: Server, Offset: big.Start + 3000}
	notes := withNotes(realNotes(r, "github.com/coder/websocket"),
		fmt.Sprintf("the server segment holding stream offset %d (inside the 6000-byte binary message) is missing from the capture but acknowledged by the client", drop.Offset),
		"the message with the lost bytes is marked partial")
	if err := g.addPcap("coder-lost.pcap", []*Recording{r}, []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}, Impairments: []Impairment{drop}}},
		CaptureOptions{}, PcapOptions{}, notes); err != nil {
		return err
	}

	r, err = g.record(scenarioCoderDeflateLarge())
	if err != nil {
		return err
	}
	big, err = spanOf(r, Server, OpText, 0)
	if err != nil {
		return err
	}
	drop = Impairment{Kind: Drop, Side: Server, Offset: (big.Start + big.End) / 2}
	notes = withNotes(realNotes(r, "github.com/coder/websocket"),
		"permessage-deflate with context takeover, every non-empty message compressed (threshold 1)",
		fmt.Sprintf("the server segment holding stream offset %d (inside the large compressed text message) is missing from the capture but acknowledged by the client", drop.Offset),
		"later s2c messages are complete in the capture but depend on the lost message's compression context, so they cannot be inflated")
	return g.addPcap("coder-deflate-lost.pcap", []*Recording{r}, []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}, Impairments: []Impairment{drop}}},
		CaptureOptions{}, PcapOptions{}, notes)
}

func (g *generator) midstream() error {
	r, err := g.record(scenarioCoderLarge())
	if err != nil {
		return err
	}
	big, err := spanOf(r, Server, OpBinary, 0)
	if err != nil {
		return err
	}
	start := &StreamPos{Side: Server, Offset: big.Start + 2500}
	notes := withNotes(realNotes(r, "github.com/coder/websocket"),
		fmt.Sprintf("the capture starts at server stream offset %d, inside the payload of the 6000-byte binary frame: no TCP or WebSocket handshake, earlier messages are absent, that message is partial", start.Offset))
	return g.addPcap("coder-midstream.pcap", []*Recording{r}, []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}, StartAt: start}},
		CaptureOptions{}, PcapOptions{}, notes)
}

func (g *generator) ipv6() error {
	r, err := g.record(scenarioCoderIPv6())
	if err != nil {
		return err
	}
	cfg := ConnConfig{
		Client:  netip.MustParseAddrPort("[::1]:51000"),
		Server:  netip.MustParseAddrPort("[::1]:8080"),
		Link:    ethernet(),
		IPv6Ext: ExtHopByHop,
	}
	notes := withNotes(realNotes(r, "github.com/coder/websocket"),
		"IPv6 over loopback (::1 port 51000 -> 8080), every packet with a hop-by-hop options extension header before TCP; subprotocol chat.v1 negotiated")
	if err := g.addPcap("coder-ipv6.pcap", []*Recording{r}, []ReplayOptions{{Conn: cfg}}, CaptureOptions{}, PcapOptions{}, notes); err != nil {
		return err
	}
	cfg.Link = Link{Type: LinkNull}
	cfg.IPv6Ext = ExtDestOpts
	notes = withNotes(realNotes(r, "github.com/coder/websocket"),
		"BSD loopback (LINKTYPE_NULL, address family 30 little-endian) carrying IPv6 ::1 with a destination options extension header")
	return g.addPcap("coder-null.pcap", []*Recording{r}, []ReplayOptions{{Conn: cfg}}, CaptureOptions{}, PcapOptions{}, notes)
}

func (g *generator) linkTypes() error {
	basic, err := g.record(scenarioCoderBasic())
	if err != nil {
		return err
	}
	gor, err := g.record(scenarioGorillaBasic())
	if err != nil {
		return err
	}
	notes := realNotes(basic, "github.com/coder/websocket")
	vlan := []ReplayOptions{
		{Conn: ConnConfig{Link: Link{Type: LinkEthernet, VLANs: []uint16{100}}}},
		{ConnIndex: 1, Conn: ConnConfig{
			Client: netip.MustParseAddrPort("10.1.0.3:51001"),
			Link:   Link{Type: LinkEthernet, VLANs: []uint16{200, 300}},
		}},
	}
	vnotes := withNotes(notes,
		"two interleaved connections replaying the coder-basic recording: conn 0 (10.1.0.1:51000) with one 802.1Q tag, VLAN 100; conn 1 (10.1.0.3:51001) QinQ: outer 802.1ad tag VLAN 200, inner 802.1Q VLAN 300")
	if err := g.addPcap("coder-vlan.pcap", []*Recording{basic, basic}, vlan, CaptureOptions{}, PcapOptions{}, vnotes); err != nil {
		return err
	}
	if err := g.tunnels(basic, notes); err != nil {
		return err
	}
	wnotes := withNotes(notes, "IEEE 802.11 after radiotap (LINKTYPE_IEEE802_11_RADIOTAP), as a monitor-mode capture of an open network: QoS data frames to the access point 02:aa:00:00:00:01 (client packets, To DS) and from it (server packets, From DS), LLC/SNAP")
	if err := g.addPcap("coder-wifi.pcap", []*Recording{basic}, []ReplayOptions{{Conn: ConnConfig{Link: Link{Type: LinkRadiotap}}}},
		CaptureOptions{}, PcapOptions{}, wnotes); err != nil {
		return err
	}
	snotes := withNotes(notes, "Linux cooked capture v2 (LINKTYPE_LINUX_SLL2); client packets are marked outgoing")
	if err := g.addPcap("coder-sll2.pcap", []*Recording{basic}, []ReplayOptions{{Conn: ConnConfig{Link: Link{Type: LinkSLL2, SLL2IfIndex: 2}}}},
		CaptureOptions{}, PcapOptions{}, snotes); err != nil {
		return err
	}
	snotes = withNotes(notes, "Linux cooked capture v1 (LINKTYPE_LINUX_SLL); client packets are marked outgoing")
	if err := g.addPcap("coder-sll.pcap", []*Recording{basic}, []ReplayOptions{{Conn: ConnConfig{Link: Link{Type: LinkSLL}}}},
		CaptureOptions{}, PcapOptions{}, snotes); err != nil {
		return err
	}

	if err := g.serialLinks(basic, gor); err != nil {
		return err
	}

	c := NewCapture(CaptureOptions{})
	truth, err := ReplayInterleaved(c, []*Recording{basic, gor}, []ReplayOptions{
		{Conn: ConnConfig{Link: Link{Type: LinkEthernet, Interface: 0}}},
		{ConnIndex: 1, Conn: ConnConfig{
			Client: netip.MustParseAddrPort("[2001:db8::1]:52000"),
			Server: netip.MustParseAddrPort("[2001:db8::2]:8080"),
			Link:   Link{Type: LinkRaw, Interface: 1},
		}},
	})
	if err != nil {
		return fmt.Errorf("mixed-linktypes.pcapng: %w", err)
	}
	var buf bytes.Buffer
	if err := c.WritePcapNG(&buf); err != nil {
		return fmt.Errorf("mixed-linktypes.pcapng: %w", err)
	}
	g.out = append(g.out, Output{
		Name: "mixed-linktypes.pcapng", Data: buf.Bytes(), Deterministic: g.opts.Reseed != nil,
		Truth: &Truth{Messages: truth, Notes: []string{
			"pcapng with two interfaces; packets of the two connections are interleaved",
			"conn 0: interface 0, Ethernet, IPv4 10.1.0.1:51000 -> 10.1.0.2:8080, coder-basic recording (github.com/coder/websocket)",
			"conn 1: interface 1, raw IP (LINKTYPE_RAW), IPv6 [2001:db8::1]:52000 -> [2001:db8::2]:8080, gorilla-basic recording (github.com/gorilla/websocket)",
		}},
	})
	return nil
}

// httpsProxy writes https-proxy.pcap: the wss recording and the
// coder-basic one each through an HTTPS proxy (TLS to the proxy, CONNECT
// inside it), with the key log of all four TLS sessions' clients.
func (g *generator) httpsProxy(wss *Recording) error {
	const name = "https-proxy.pcap"
	basic, err := g.record(scenarioCoderBasic())
	if err != nil {
		return err
	}
	proxied := func(r *Recording, target string) (*Recording, error) {
		return WrapHTTPSProxy(r, target, true, TLSOptions{MinVersion: tls.VersionTLS13})
	}
	a, err := proxied(wss, "wss.example:443")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	b, err := proxied(basic, "ws.example:80")
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	proxy := netip.MustParseAddrPort("10.1.0.9:443")
	opts := []ReplayOptions{
		{Conn: ConnConfig{Server: proxy, Link: ethernet()}},
		{ConnIndex: 1, Conn: ConnConfig{Client: netip.MustParseAddrPort("10.1.0.3:51001"), Server: proxy, Link: ethernet()}},
	}
	notes := []string{
		"two connections to an HTTPS proxy at 10.1.0.9:443: each opens TLS 1.3 to the proxy (SNI proxy.example, Go crypto/tls), sends CONNECT with Proxy-Authorization: Basic (user:proxy-secret) inside it, and is answered 200 Connection established",
		"conn 0 (10.1.0.1:51000): CONNECT wss.example:443, then the wss-tls13 recording (github.com/coder/websocket over TLS 1.3) inside the proxy's TLS session",
		"conn 1 (10.1.0.3:51001): CONNECT ws.example:80, then the coder-basic recording (github.com/coder/websocket, ws://) inside the proxy's TLS session",
		"decrypt with https-proxy.keylog (the secrets of both proxy sessions and of the wss session inside the first)",
	}
	if err := g.addPcap(name, []*Recording{a, b}, opts, CaptureOptions{}, PcapOptions{}, notes); err != nil {
		return err
	}
	g.out[len(g.out)-1].Deterministic = false
	g.out = append(g.out, Output{Name: "https-proxy.keylog", Data: append(append([]byte(nil), a.KeyLog...), b.KeyLog...)})
	return nil
}

// h2Proxy writes h2-proxy.pcap and h2c-proxy.pcap: tunnels through a
// proxy that speaks HTTP/2 (RFC 9113 8.5), over TLS with its key log and
// in clear.
func (g *generator) h2Proxy(wss *Recording) error {
	basic, err := g.record(scenarioCoderBasic())
	if err != nil {
		return err
	}
	a, err := WrapH2Proxy([]H2Tunnel{
		{Target: "ws.example:80", Auth: true, Rec: basic},
		{Target: "blocked.example:443", Auth: true, Status: 403},
		{Target: "wss.example:443", Auth: true, Rec: wss},
	}, &TLSOptions{MinVersion: tls.VersionTLS13})
	if err != nil {
		return fmt.Errorf("h2-proxy.pcap: %w", err)
	}
	proxy := netip.MustParseAddrPort("10.1.0.9:443")
	notes := []string{
		"one connection to an HTTPS proxy at 10.1.0.9:443 that speaks HTTP/2 (golang.org/x/net/http2 Server and Transport over Go crypto/tls 1.3, SNI proxy.example, ALPN h2), as Chromium uses such a proxy",
		"stream 1: CONNECT ws.example:80 (RFC 9113 8.5, Proxy-Authorization: Basic user:proxy-secret) answered 200; the coder-basic recording (github.com/coder/websocket, ws://) runs in it",
		"stream 3: CONNECT blocked.example:443 answered 403: nothing runs in it",
		"stream 5: CONNECT wss.example:443 answered 200; the wss-tls13 recording (github.com/coder/websocket over TLS 1.3) runs in it",
		"the two tunnels' writes are interleaved, one of each in turn; each tunnel ends with END_STREAM both ways",
		"conn 0 is the tunnel of stream 1, conn 1 that of stream 5; decrypt with h2-proxy.keylog (the proxy session's secrets and the wss session's)",
	}
	if err := g.addPcap("h2-proxy.pcap", []*Recording{a}, []ReplayOptions{{Conn: ConnConfig{Server: proxy, Link: ethernet()}}},
		CaptureOptions{}, PcapOptions{}, notes); err != nil {
		return err
	}
	g.out[len(g.out)-1].Deterministic = false
	g.out = append(g.out, Output{Name: "h2-proxy.keylog", Data: a.KeyLog})

	b, err := WrapH2Proxy([]H2Tunnel{{Target: "ws.example:80", Auth: true, Rec: basic}}, nil)
	if err != nil {
		return fmt.Errorf("h2c-proxy.pcap: %w", err)
	}
	notes = []string{
		"one connection to an HTTP proxy at 10.1.0.9:3128 that speaks HTTP/2 in clear (prior knowledge; golang.org/x/net/http2 Server and Transport)",
		"stream 1: CONNECT ws.example:80 with Proxy-Authorization: Basic user:proxy-secret (in clear) answered 200; the coder-basic recording (github.com/coder/websocket, ws://) runs in it",
	}
	if err := g.addPcap("h2c-proxy.pcap", []*Recording{b}, []ReplayOptions{{Conn: ConnConfig{Server: netip.MustParseAddrPort("10.1.0.9:3128"), Link: ethernet()}}},
		CaptureOptions{}, PcapOptions{}, notes); err != nil {
		return err
	}
	// (How x/net/http2 cuts and acknowledges what it sends depends on
	// timing.)
	g.out[len(g.out)-1].Deterministic = false
	return nil
}

// serialLinks writes coder-links.pcapng: the coder-basic and gorilla-basic
// recordings captured on links without Ethernet, one interface each.
func (g *generator) serialLinks(basic, gor *Recording) error {
	const name = "coder-links.pcapng"
	c := NewCapture(CaptureOptions{})
	truth, err := ReplayInterleaved(c, []*Recording{basic, gor, basic}, []ReplayOptions{
		{Conn: ConnConfig{Link: Link{Type: LinkNFLOG, Interface: 0}}},
		{ConnIndex: 1, Conn: ConnConfig{
			Client: netip.MustParseAddrPort("10.9.0.1:52000"),
			Server: netip.MustParseAddrPort("10.9.0.2:8080"),
			Link:   Link{Type: LinkPPP, Interface: 1},
		}},
		{ConnIndex: 2, Conn: ConnConfig{
			Client: netip.MustParseAddrPort("[2001:db8:9::1]:52001"),
			Server: netip.MustParseAddrPort("[2001:db8:9::2]:8080"),
			Link:   Link{Type: LinkCHDLC, Interface: 2},
		}},
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := c.WritePcapNG(&buf); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	g.out = append(g.out, Output{
		Name: name, Data: buf.Bytes(), Deterministic: g.opts.Reseed != nil,
		Truth: &Truth{Messages: truth, Notes: []string{
			"pcapng with three interfaces of link types without Ethernet; the three connections are interleaved",
			"conn 0: interface 0, LINKTYPE_NFLOG (group 5, prefix \"wsdissect\", little-endian attributes), IPv4 10.1.0.1:51000 -> 10.1.0.2:8080, coder-basic recording (github.com/coder/websocket)",
			"conn 1: interface 1, LINKTYPE_PPP in HDLC-like framing, IPv4 10.9.0.1:52000 -> 10.9.0.2:8080, gorilla-basic recording (github.com/gorilla/websocket)",
			"conn 2: interface 2, LINKTYPE_C_HDLC (Cisco HDLC), IPv6 [2001:db8:9::1]:52001 -> [2001:db8:9::2]:8080, coder-basic recording",
		}},
	})
	return nil
}

// wss records WebSocket conversations over Go's crypto/tls, one per TLS
// version and cipher family, each with the client's key log as NAME.keylog.
// The TLS handshakes draw on randomness crypto/tls does not take from
// crypto/rand.Reader alone (key shares), so these captures are not
// deterministic.
func (g *generator) wss() error {
	for _, w := range []struct {
		name string
		lib  Library
		opts TLSOptions
		big  bool
		note string
	}{
		{"wss-tls13", Coder, TLSOptions{MinVersion: tls.VersionTLS13}, true,
			"TLS 1.3 chosen by crypto/tls (TLS_AES_128_GCM_SHA256 on machines with AES hardware); the 40000-byte message spans several TLS records"},
		{"wss-tls12-gcm", Gorilla, TLSOptions{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}, false,
			"TLS 1.2 with TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
		{"wss-tls12-chacha", Coder, TLSOptions{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256}}, false,
			"TLS 1.2 with TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
		{"wss-tls12-cbc", Gorilla, TLSOptions{MaxVersion: tls.VersionTLS12, RSA: true, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256}}, false,
			"TLS 1.2 with TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256 (MAC-then-encrypt; crypto/tls has no encrypt_then_mac)"},
	} {
		opts := w.opts
		r, err := g.record(scenarioWSS(w.name, w.lib, &opts, w.big))
		if err != nil {
			return err
		}
		notes := withNotes(realNotes(r, "github.com/"+w.lib.String()+"/websocket"),
			"wss://: the WebSocket connection runs over Go crypto/tls between the two peers; the recorded bytes are the TLS records",
			w.note, "decrypt with the client's key log "+w.name+".keylog (SNI wss.example, ALPN http/1.1)")
		if err := g.addPcap(w.name+".pcap", []*Recording{r}, []ReplayOptions{{Conn: ConnConfig{Link: ethernet()}}},
			CaptureOptions{}, PcapOptions{}, notes); err != nil {
			return err
		}
		g.out[len(g.out)-1].Deterministic = false
		g.out = append(g.out, Output{Name: w.name + ".keylog", Data: r.KeyLog})
		if w.name == "wss-tls12-gcm" {
			pnotes := withNotes(notes[:len(notes)-1], "through an HTTP proxy (10.1.0.9:3128): the client sends CONNECT wss.example:443, answered 200, and TLS runs inside the tunnel",
				"decrypt with the client's key log wss-proxy.keylog (SNI wss.example, ALPN http/1.1)")
			opts := []ReplayOptions{{Conn: ConnConfig{Server: netip.MustParseAddrPort("10.1.0.9:3128"), Link: ethernet()}, Proxy: "wss.example:443"}}
			if err := g.addPcap("wss-proxy.pcap", []*Recording{r}, opts, CaptureOptions{}, PcapOptions{}, pnotes); err != nil {
				return err
			}
			g.out[len(g.out)-1].Deterministic = false
			g.out = append(g.out, Output{Name: "wss-proxy.keylog", Data: r.KeyLog})
		}
		if w.name == "wss-tls13" {
			if err := g.addDSB(r, notes); err != nil {
				return err
			}
			if err := g.httpsProxy(r); err != nil {
				return err
			}
			if err := g.h2Proxy(r); err != nil {
				return err
			}
		}
	}
	return nil
}

// addDSB writes a wss recording as pcapng with its key log in a Decryption
// Secrets Block (and no .keylog file).
func (g *generator) addDSB(r *Recording, notes []string) error {
	const name = "wss-tls13-dsb.pcapng"
	c := NewCapture(CaptureOptions{})
	truth, err := r.Replay(c, ReplayOptions{Conn: ConnConfig{Link: ethernet()}})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := c.WritePcapNG(&buf); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	data, err := InjectSecrets(buf.Bytes(), r.KeyLog)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	notes = withNotes(notes[:len(notes)-1], "pcapng with the key log in a Decryption Secrets Block after the section header (as editcap --inject-secrets writes it); no .keylog file")
	g.out = append(g.out, Output{Name: name, Data: data, Truth: &Truth{Messages: truth, Notes: notes}})
	return nil
}

// tunnels writes coder-tunnels.pcap: the coder-basic recording replayed on
// one connection per tunnel, interleaved.
func (g *generator) tunnels(basic *Recording, notes []string) error {
	kinds := []struct {
		t  Tunnel
		v6 bool
	}{
		{TunnelVXLAN, false},
		{TunnelGeneve, false},
		{TunnelGRE, true},
		{TunnelERSPAN2, false},
		{TunnelGTPU, false},
		{TunnelIPIP, true},
		{TunnelMPLS, false},
		{TunnelPPPoE, false},
	}
	var recs []*Recording
	var opts []ReplayOptions
	desc := "one connection per encapsulation, each replaying the coder-basic recording, interleaved; tunnels run between 192.0.2.201 (client side) and 192.0.2.202:"
	for i, k := range kinds {
		cfg := ConnConfig{
			Client: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 7, byte(i), 1}), uint16(52000+i)),
			Server: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 7, byte(i), 2}), 8080),
			Link:   Link{Type: LinkEthernet, Tunnel: k.t},
		}
		if k.v6 {
			cfg.Client = netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("2001:db8:7:%d::1", i)), uint16(52000+i))
			cfg.Server = netip.AddrPortFrom(netip.MustParseAddr(fmt.Sprintf("2001:db8:7:%d::2", i)), 8080)
		}
		recs = append(recs, basic)
		opts = append(opts, ReplayOptions{ConnIndex: i, Conn: cfg})
		desc += fmt.Sprintf(" conn %d %v in %s;", i, cfg.Client, k.t)
	}
	if err := g.addPcap("coder-tunnels.pcap", recs, opts, CaptureOptions{}, PcapOptions{}, withNotes(notes, strings.TrimSuffix(desc, ";"))); err != nil {
		return err
	}
	frag := []ReplayOptions{
		{Conn: ConnConfig{Link: Link{Type: LinkEthernet, FragmentMTU: 200}}},
		{ConnIndex: 1, Conn: ConnConfig{
			Client: netip.MustParseAddrPort("10.1.0.3:51001"),
			Link:   Link{Type: LinkEthernet, Tunnel: TunnelVXLAN, FragmentMTU: 300, FragmentsReversed: true},
		}},
	}
	px := []ReplayOptions{
		{Conn: ConnConfig{Server: netip.MustParseAddrPort("10.1.0.9:3128"), Link: ethernet()}, Proxy: "10.1.0.2:8080"},
		{ConnIndex: 1, Conn: ConnConfig{
			Client: netip.MustParseAddrPort("10.1.0.3:51001"),
			Server: netip.MustParseAddrPort("10.1.0.9:3128"),
			Link:   ethernet(),
		}, Proxy: "10.1.0.2:8080", ProxyAuth: true},
	}
	pnotes := withNotes(notes, "two interleaved connections replaying the coder-basic recording through an HTTP proxy (10.1.0.9:3128) tunnel, as a browser with an explicit proxy sends ws://: conn 0 (10.1.0.1:51000) sends CONNECT 10.1.0.2:8080 (the server the recording talked to), answered 200; conn 1 (10.1.0.3:51001) sends the same CONNECT, is refused with 407 Proxy Authentication Required (a 14-byte body) and repeats it with Proxy-Authorization, answered 200; the WebSocket handshake and frames follow inside the tunnel")
	if err := g.addPcap("coder-proxy.pcap", []*Recording{basic, basic}, px, CaptureOptions{}, PcapOptions{}, pnotes); err != nil {
		return err
	}
	sx := []ReplayOptions{
		{Conn: ConnConfig{Server: netip.MustParseAddrPort("10.1.0.9:1080"), Link: ethernet()}, Proxy: "chat.example:8080", ProxySOCKS: 5, ProxyAuth: true},
		{ConnIndex: 1, Conn: ConnConfig{
			Client: netip.MustParseAddrPort("10.1.0.3:51001"),
			Server: netip.MustParseAddrPort("10.1.0.9:1080"),
			Link:   ethernet(),
		}, Proxy: "chat.example:8080", ProxySOCKS: 4},
	}
	snotes := withNotes(notes, "two interleaved connections replaying the coder-basic recording through a SOCKS proxy (10.1.0.9:1080), as ssh -D, Tor or a browser with a SOCKS proxy sends ws://: conn 0 (10.1.0.1:51000) SOCKS 5 with user name and password authentication (user/secret), CONNECT to the host name chat.example port 8080, succeeded; conn 1 (10.1.0.3:51001) SOCKS 4a CONNECT to chat.example:8080 (user id capgen), granted; the WebSocket handshake and frames follow inside the tunnel")
	if err := g.addPcap("coder-socks.pcap", []*Recording{basic, basic}, sx, CaptureOptions{}, PcapOptions{}, snotes); err != nil {
		return err
	}
	frag = append(frag, ReplayOptions{ConnIndex: 2, Conn: ConnConfig{
		Client: netip.MustParseAddrPort("[2001:db8::1]:51002"),
		Server: netip.MustParseAddrPort("[2001:db8::2]:8080"),
		Link:   Link{Type: LinkEthernet, FragmentMTU: 240},
	}})
	fnotes := withNotes(notes, "three interleaved connections replaying the coder-basic recording with IP fragmentation: conn 0 (10.1.0.1:51000) sends IPv4 packets over 200 bytes as fragments of at most 200, in order; conn 1 (10.1.0.3:51001) is inside VXLAN, and the outer packets over 300 bytes are fragments of at most 300, last fragment first; conn 2 ([2001:db8::1]:51002) sends IPv6 packets over 240 bytes as fragments (RFC 8200 fragment header) of at most 240, in order")
	return g.addPcap("coder-fragments.pcap", []*Recording{basic, basic, basic}, frag, CaptureOptions{}, PcapOptions{}, fnotes)
}
