package cmd

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/internal/capture"
)

// TestDefaultInterface checks the interface live picks without -i.
func TestDefaultInterface(t *testing.T) {
	addr := []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}
	lo := capture.Interface{Name: "lo", Up: true, Running: true, Loopback: true, Addresses: addr}
	anyDev := capture.Interface{Name: "any", Up: true, Running: true}
	eth := capture.Interface{Name: "eth0", Up: true, Running: true, Addresses: addr}
	down := capture.Interface{Name: "eth1", Addresses: addr}
	for _, tc := range []struct {
		name string
		ifs  []capture.Interface
		want string
	}{
		{"first real interface", []capture.Interface{lo, anyDev, down, eth}, "eth0"},
		{"loopback when nothing else is up", []capture.Interface{anyDev, down, lo}, "lo"},
		{"none", []capture.Interface{anyDev, down}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := defaultInterface(tc.ifs)
			if got != tc.want || (tc.want == "") != (err != nil) {
				t.Errorf("defaultInterface = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestNumberFlagErrors checks that a bad number gets a sentence, not
// strconv's message.
func TestNumberFlagErrors(t *testing.T) {
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"read", good, "--ws-port", "abc"}, `invalid argument "abc" for "--ws-port" flag: not a number`},
		{[]string{"read", good, "--max-conns", "99999999999999999999999"}, "out of range"},
	} {
		var out, errOut bytes.Buffer
		if code := Execute(tc.args, nil, &out, &errOut); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", tc.args, code, ExitUsage)
		}
		if !strings.Contains(errOut.String(), tc.want) || strings.Contains(errOut.String(), "strconv") {
			t.Errorf("%v: stderr %q, want %q and no strconv", tc.args, errOut.String(), tc.want)
		}
	}
}

// TestVersion checks that --version names the module version ((devel)
// outside a release; the VCS revision follows when the build recorded one)
// and the Go version.
func TestVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := Execute([]string{"--version"}, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	got := out.String()
	if !strings.HasPrefix(got, "wsdissect ") || !strings.Contains(got, runtime.Version()) {
		t.Errorf("--version = %q, want wsdissect VERSION [REVISION] %s", got, runtime.Version())
	}
}
