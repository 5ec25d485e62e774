package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/source"
)

// Live tests capture on the loopback interface; they need root (or
// CAP_NET_RAW) and skip without it.

// backends lists the backends to test: libpcap when it loads, and always the
// AF_PACKET fallback.
func backends(t *testing.T) []bool {
	t.Helper()
	hides := []bool{true}
	if _, err := loadLibpcap(); err == nil && !envHidesLibpcap() {
		hides = append([]bool{false}, hides...)
	} else {
		t.Logf("libpcap not loadable (%v): testing the AF_PACKET fallback only", err)
	}
	return hides
}

func backendName(hide bool) string {
	if hide {
		return BackendAFPacket
	}
	return BackendLibpcap
}

// needLibpcap skips the test when libpcap cannot be loaded.
func needLibpcap(t *testing.T) {
	t.Helper()
	if envHidesLibpcap() {
		t.Skipf("libpcap hidden by %s; skipping libpcap test", EnvNoLibpcap)
	}
	if _, err := loadLibpcap(); err != nil {
		t.Skipf("libpcap not loadable (%v); skipping libpcap test (apt install libpcap0.8)", err)
	}
}

// openLive opens a capture, skipping the test when capturing is not allowed
// or the loopback interface is missing.
func openLive(t *testing.T, cfg Config) *Handle {
	t.Helper()
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skip(`no loopback interface "lo"; skipping live capture test`)
	}
	h, err := Open(cfg)
	if errors.Is(err, ErrPermission) {
		t.Skipf("live capture needs root or CAP_NET_RAW; skipping (%v)", err)
	}
	if err != nil {
		t.Fatalf("Open(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func loConfig(hide bool, filter string) Config {
	cfg := DefaultConfig("lo")
	cfg.Promisc = false
	cfg.Filter = filter
	cfg.noLibpcap = hide
	return cfg
}

// tcpServer accepts connections on 127.0.0.1 and discards what they send.
func tcpServer(t *testing.T) (net.Listener, uint16) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for range 1000 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
	return ln, uint16(ln.Addr().(*net.TCPAddr).Port)
}

// sendTCP connects to port, writes msg and closes.
func sendTCP(t *testing.T, port uint16, msg string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// l4 is what the tests need of a captured packet.
type l4 struct {
	proto            uint8 // 6 TCP, 17 UDP
	srcPort, dstPort uint16
	payload          []byte
}

// parseL4 decodes the link, IP and TCP/UDP headers of a loopback packet.
func parseL4(link source.LinkType, data []byte) (l4, bool) {
	var etype uint16
	switch link {
	case source.LinkEthernet:
		if len(data) < 14 {
			return l4{}, false
		}
		etype, data = binary.BigEndian.Uint16(data[12:]), data[14:]
	case source.LinkSLL:
		if len(data) < 16 {
			return l4{}, false
		}
		etype, data = binary.BigEndian.Uint16(data[14:]), data[16:]
	case source.LinkSLL2:
		if len(data) < 20 {
			return l4{}, false
		}
		etype, data = binary.BigEndian.Uint16(data[0:]), data[20:]
	default:
		return l4{}, false
	}
	var proto uint8
	switch etype {
	case 0x0800:
		if len(data) < 20 {
			return l4{}, false
		}
		ihl := int(data[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(data[2:]))
		if ihl < 20 || total < ihl || len(data) < total {
			return l4{}, false
		}
		proto, data = data[9], data[ihl:total]
	case 0x86dd:
		if len(data) < 40 {
			return l4{}, false
		}
		proto, data = data[6], data[40:]
	default:
		return l4{}, false
	}
	switch proto {
	case 6:
		if len(data) < 20 {
			return l4{}, false
		}
		off := int(data[12]>>4) * 4
		if off < 20 || off > len(data) {
			return l4{}, false
		}
		return l4{proto, binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:]), data[off:]}, true
	case 17:
		if len(data) < 8 {
			return l4{}, false
		}
		return l4{proto, binary.BigEndian.Uint16(data), binary.BigEndian.Uint16(data[2:]), data[8:]}, true
	}
	return l4{}, false
}

// collect reads packets until stop says so, no packet of interest arrived
// for quiet, or the overall deadline passed. Packets of interest are those to
// or from one of ports (every packet when ports is empty): other tests (the
// e2e package runs in parallel) send loopback traffic of their own, which
// must neither keep the capture from going quiet nor end up in the result.
func collect(t *testing.T, h *Handle, quiet time.Duration, stop func(l4) bool, ports ...uint16) []l4 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	quietUntil := time.Now().Add(quiet)
	ours := func(pk l4) bool {
		if len(ports) == 0 {
			return true
		}
		for _, p := range ports {
			if pk.srcPort == p || pk.dstPort == p {
				return true
			}
		}
		return false
	}
	var got []l4
	var p source.Packet
	for range 1000000 {
		if time.Now().After(deadline) {
			t.Fatalf("no end after 5s; %d packets of interest so far", len(got))
		}
		ctx, cancel := context.WithDeadline(context.Background(), quietUntil)
		err := h.Next(ctx, &p)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return got
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if p.LinkType != h.LinkType() {
			t.Fatalf("packet link type %d, handle says %d", p.LinkType, h.LinkType())
		}
		if p.OrigLen < len(p.Data) {
			t.Fatalf("OrigLen %d < captured %d", p.OrigLen, len(p.Data))
		}
		if d := time.Since(p.Time); d < -time.Second || d > time.Minute {
			t.Fatalf("packet time %v is not about now", p.Time)
		}
		if pk, ok := parseL4(p.LinkType, p.Data); ok && ours(pk) {
			quietUntil = time.Now().Add(quiet)
			pk.payload = bytes.Clone(pk.payload)
			got = append(got, pk)
			if stop != nil && stop(pk) {
				return got
			}
		}
	}
	t.Fatal("too many packets")
	return nil
}

// noise sends a small TCP message over loopback every interval until the
// test ends, standing in for other packages' tests that run at the same time.
func noise(t *testing.T, interval time.Duration) {
	t.Helper()
	_, port := tcpServer(t)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for range 10000 {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
			if err != nil {
				continue
			}
			_ = c.SetDeadline(time.Now().Add(time.Second))
			_, _ = c.Write([]byte("noise"))
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { close(done); <-stopped })
}

func countPayload(pkts []l4, marker string) int {
	n := 0
	for _, p := range pkts {
		if bytes.Contains(p.payload, []byte(marker)) {
			n++
		}
	}
	return n
}

// TestLiveLoopbackFilter captures filtered traffic on lo, in immediate mode
// and in block mode (packets handed over within the timeout).
func TestLiveLoopbackFilter(t *testing.T) {
	needLibpcap(t)
	for _, immediate := range []bool{true, false} {
		t.Run(fmt.Sprintf("immediate=%v", immediate), func(t *testing.T) {
			testLiveLoopbackFilter(t, immediate)
		})
	}
}

func testLiveLoopbackFilter(t *testing.T, immediate bool) {
	_, portN := tcpServer(t)
	_, portM := tcpServer(t)
	cfg := loConfig(false, fmt.Sprintf("tcp port %d", portN))
	cfg.Immediate = immediate
	h := openLive(t, cfg)
	if h.Backend() != BackendLibpcap {
		t.Fatalf("Backend() = %q, want libpcap", h.Backend())
	}
	if h.LinkType() != source.LinkEthernet {
		t.Fatalf("LinkType() = %d, want Ethernet", h.LinkType())
	}
	other := fmt.Sprintf("other-%d", time.Now().UnixNano())
	marker := fmt.Sprintf("marker-%d", time.Now().UnixNano())
	sendTCP(t, portM, other) // first: a broken filter would show it before the marker
	sendTCP(t, portN, marker)
	pkts := collect(t, h, 500*time.Millisecond, nil)
	for _, p := range pkts {
		if p.proto != 6 || (p.srcPort != portN && p.dstPort != portN) {
			t.Errorf("captured a packet outside the filter: %+v", p)
		}
	}
	if n := countPayload(pkts, marker); n != 1 {
		t.Errorf("marker payload captured %d times, want once", n)
	}
	if n := countPayload(pkts, other); n != 0 {
		t.Errorf("traffic of port %d captured %d times, want never", portM, n)
	}
	st, err := h.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Captured != uint64(len(pkts)) || st.Received == 0 {
		t.Errorf("Stats() = %+v, want Captured %d and Received > 0", st, len(pkts))
	}
}

func TestLiveFallbackNoFilter(t *testing.T) {
	_, portN := tcpServer(t)
	_, portM := tcpServer(t)
	h := openLive(t, loConfig(true, ""))
	if h.Backend() != BackendAFPacket {
		t.Fatalf("Backend() = %q, want afpacket", h.Backend())
	}
	if h.LinkType() != source.LinkEthernet {
		t.Fatalf("LinkType() = %d, want Ethernet", h.LinkType())
	}
	if !strings.Contains(h.Warning(), "AF_PACKET") {
		t.Errorf("Warning() = %q, want it to mention AF_PACKET", h.Warning())
	}
	// Traffic of other tests on lo, which must not keep the capture going.
	noise(t, 20*time.Millisecond)
	marker1 := fmt.Sprintf("fallback-a-%d", time.Now().UnixNano())
	marker2 := fmt.Sprintf("fallback-b-%d", time.Now().UnixNano())
	sendTCP(t, portM, marker1)
	sendTCP(t, portN, marker2)
	pkts := collect(t, h, 500*time.Millisecond, nil, portM, portN)
	// Loopback packets must not be seen twice (outgoing and incoming).
	if n := countPayload(pkts, marker1); n != 1 {
		t.Errorf("first marker captured %d times, want once", n)
	}
	if n := countPayload(pkts, marker2); n != 1 {
		t.Errorf("second marker captured %d times, want once", n)
	}
	st, err := h.Stats()
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Captured == 0 || st.Received == 0 {
		t.Errorf("Stats() = %+v, want packets captured and received", st)
	}
}

func TestLiveAny(t *testing.T) {
	for _, hide := range backends(t) {
		t.Run(backendName(hide), func(t *testing.T) {
			_, port := tcpServer(t)
			cfg := loConfig(hide, "")
			cfg.Interface = "any"
			if !hide {
				cfg.Filter = fmt.Sprintf("tcp port %d", port)
			}
			h := openLive(t, cfg)
			want := source.LinkSLL
			if !hide {
				want = source.LinkSLL2
			}
			if h.LinkType() != want {
				t.Fatalf("LinkType() = %d, want %d", h.LinkType(), want)
			}
			marker := fmt.Sprintf("any-%d", time.Now().UnixNano())
			sendTCP(t, port, marker)
			pkts := collect(t, h, 500*time.Millisecond, nil, port)
			if n := countPayload(pkts, marker); n != 1 {
				t.Errorf("marker captured %d times, want once", n)
			}
		})
	}
}

func TestLiveNextReturnsOnCancel(t *testing.T) {
	for _, hide := range backends(t) {
		t.Run(backendName(hide), func(t *testing.T) {
			filter := ""
			if !hide {
				filter = "udp port 9 and host 127.0.0.254" // no traffic at all
			}
			h := openLive(t, loConfig(hide, filter))
			ctx, cancel := context.WithCancel(context.Background())
			// Measured from the moment of the cancel, not from when it was
			// due: on a loaded machine the timer itself fires late.
			cancelled := make(chan time.Time, 1)
			timer := time.AfterFunc(150*time.Millisecond, func() { cancelled <- time.Now(); cancel() })
			defer timer.Stop()
			var p source.Packet
			var err error
			for range 100000 { // the fallback sees whatever else runs on lo
				if err = h.Next(ctx, &p); err != nil {
					break
				}
			}
			end := time.Now()
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Next after cancel: err = %v, want context.Canceled", err)
			}
			// Next polls in periods of 100ms; a loaded machine (the whole
			// suite runs at once) adds scheduling delays on top.
			if d := end.Sub(<-cancelled); d > time.Second {
				t.Errorf("Next returned %v after the cancel, want <= 1s", d)
			}
		})
	}
}

func TestLiveCloseUnblocksNext(t *testing.T) {
	needLibpcap(t)
	h := openLive(t, loConfig(false, "udp port 9 and host 127.0.0.254"))
	errc := make(chan error, 1)
	go func() {
		var p source.Packet
		errc <- h.Next(context.Background(), &p)
	}()
	time.Sleep(100 * time.Millisecond)
	if err := h.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, io.EOF) {
			t.Errorf("Next on closed handle: err = %v, want io.EOF", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Next did not return within 1s of Close")
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := h.Stats(); err == nil {
		t.Error("Stats on closed handle: no error")
	}
}

func TestLiveBadFilter(t *testing.T) {
	needLibpcap(t)
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skip(`no loopback interface "lo"; skipping`)
	}
	_, err := Open(loConfig(false, "tcp prot 80"))
	if errors.Is(err, ErrPermission) {
		t.Skip("live capture needs root or CAP_NET_RAW; skipping")
	}
	if !errors.Is(err, ErrBadFilter) {
		t.Fatalf("Open with a bad filter: err = %v, want ErrBadFilter", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, `invalid capture filter "tcp prot 80": `) || !strings.Contains(msg, "syntax error") {
		t.Errorf("bad filter message = %q", msg)
	}
}

func TestUnknownInterface(t *testing.T) {
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skip(`no loopback interface "lo"; skipping`)
	}
	for _, hide := range backends(t) {
		t.Run(backendName(hide), func(t *testing.T) {
			cfg := loConfig(hide, "")
			cfg.Interface = "wsdnope0"
			_, err := Open(cfg)
			if errors.Is(err, ErrPermission) {
				t.Skip("live capture needs root or CAP_NET_RAW; skipping")
			}
			if !errors.Is(err, ErrNoInterface) {
				t.Fatalf("Open(wsdnope0): err = %v, want ErrNoInterface", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, `no interface "wsdnope0"; available: `) {
				t.Errorf("message = %q", msg)
			}
			avail := strings.Split(strings.TrimPrefix(msg, `no interface "wsdnope0"; available: `), ", ")
			found := false
			for _, a := range avail {
				found = found || a == "lo"
			}
			if !found {
				t.Errorf("message %q does not list lo", msg)
			}
		})
	}
}

func TestFilterNeedsLibpcap(t *testing.T) {
	const want = "a capture filter needs libpcap at run time (apt install libpcap0.8)"
	t.Run("config hook", func(t *testing.T) {
		_, err := Open(loConfig(true, "tcp port 80"))
		if !errors.Is(err, ErrNeedLibpcap) || err.Error() != want {
			t.Errorf("Open: err = %v, want %q", err, want)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv(EnvNoLibpcap, "1")
		_, err := Open(loConfig(false, "port 80"))
		if !errors.Is(err, ErrNeedLibpcap) || err.Error() != want {
			t.Errorf("Open: err = %v, want %q", err, want)
		}
	})
}

func TestLibpcapVersion(t *testing.T) {
	needLibpcap(t)
	v, err := LibpcapVersion()
	if err != nil || !strings.Contains(v, "libpcap") {
		t.Errorf("LibpcapVersion() = %q, %v; want a libpcap version", v, err)
	}
	t.Setenv(EnvNoLibpcap, "1")
	if _, err := LibpcapVersion(); err == nil {
		t.Errorf("LibpcapVersion() with %s=1: no error", EnvNoLibpcap)
	}
}

func TestInterfacesListsLoopback(t *testing.T) {
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skip(`no loopback interface "lo"; skipping`)
	}
	for _, hide := range backends(t) {
		t.Run(backendName(hide), func(t *testing.T) {
			list, err := listInterfaces(hide)
			if err != nil {
				t.Fatalf("listInterfaces: %v", err)
			}
			var lo, anyDev *Interface
			for i := range list {
				switch list[i].Name {
				case "lo":
					lo = &list[i]
				case "any":
					anyDev = &list[i]
				}
			}
			if lo == nil {
				t.Fatalf("no lo in %+v", list)
			}
			if !lo.Loopback || !lo.Up {
				t.Errorf("lo = %+v, want Up and Loopback", *lo)
			}
			has := false
			for _, a := range lo.Addresses {
				has = has || a == netip.MustParsePrefix("127.0.0.1/8")
			}
			if !has {
				t.Errorf("lo addresses %v lack 127.0.0.1/8", lo.Addresses)
			}
			if anyDev == nil {
				t.Errorf("no \"any\" device in %+v", list)
			}
		})
	}
	if _, err := Interfaces(); err != nil {
		t.Errorf("Interfaces: %v", err)
	}
}

// udpSink opens a UDP socket on 127.0.0.1 that nobody reads and returns
// its port.
func udpSink(t *testing.T) int {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen udp: %v", err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	return pc.LocalAddr().(*net.UDPAddr).Port
}

// udpFlood sends n small datagrams to port on 127.0.0.1.
func udpFlood(t *testing.T, port, n int) {
	t.Helper()
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("dial udp: %v", err)
	}
	defer c.Close()
	for i := range n {
		if _, err := fmt.Fprintf(c, "datagram %d", i); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

func TestLiveNextAllocs(t *testing.T) {
	for _, hide := range backends(t) {
		t.Run(backendName(hide), func(t *testing.T) {
			port := udpSink(t)
			filter := ""
			if !hide {
				filter = fmt.Sprintf("udp port %d", port)
			}
			h := openLive(t, loConfig(hide, filter))
			udpFlood(t, port, 300)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var p source.Packet
			allocs := testing.AllocsPerRun(200, func() {
				if err := h.Next(ctx, &p); err != nil {
					t.Fatalf("Next: %v", err)
				}
			})
			if allocs != 0 {
				t.Errorf("Next allocates %v times per packet, want 0", allocs)
			}
		})
	}
}

func BenchmarkLiveNext(b *testing.B) {
	if _, err := loadLibpcap(); err != nil {
		b.Skipf("libpcap not loadable: %v", err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	h, err := Open(loConfig(false, fmt.Sprintf("udp port %d", port)))
	if err != nil {
		b.Skipf("cannot capture: %v", err)
	}
	defer h.Close()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := []byte("datagram")
	var p source.Packet
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if err := h.Next(ctx, &p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPermissionDenied runs this test binary as user nobody, without
// capabilities, and checks the sentence Open returns there.
func TestPermissionDenied(t *testing.T) {
	if os.Getenv("WSDISSECT_CAPTURE_HELPER") != "" {
		t.Skip("helper process")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to start a process as user nobody; skipping")
	}
	if _, err := net.InterfaceByName("lo"); err != nil {
		t.Skip(`no loopback interface "lo"; skipping`)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "wsdissect-capture-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "capture.test")
	data, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	want := "capturing on lo needs root or CAP_NET_RAW (try: sudo setcap cap_net_raw,cap_net_admin=eip $(which wsdissect))"
	for _, hide := range backends(t) {
		t.Run(backendName(hide), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "-test.run=^TestPermissionHelper$", "-test.count=1")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "WSDISSECT_CAPTURE_HELPER=1", "HOME="+dir)
			if hide {
				cmd.Env = append(cmd.Env, EnvNoLibpcap+"=1")
			}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("helper: %v\n%s", err, out)
			}
			if !strings.Contains(string(out), "OPEN ERROR: "+want+"\n") {
				t.Errorf("helper output lacks the permission sentence:\n%s", out)
			}
		})
	}
}

// TestPermissionHelper is the body of TestPermissionDenied's child process.
func TestPermissionHelper(t *testing.T) {
	if os.Getenv("WSDISSECT_CAPTURE_HELPER") == "" {
		t.Skip("only runs as TestPermissionDenied's child process")
	}
	h, err := Open(DefaultConfig("lo"))
	if err == nil {
		_ = h.Close()
		fmt.Println("OPEN SUCCEEDED")
		return
	}
	fmt.Printf("OPEN ERROR: %v\n", err)
}
