package cmd

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Execute(append([]string{"--color", "never"}, args...), nil, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestKeyLogFlags(t *testing.T) {
	t.Setenv("SSLKEYLOGFILE", "")
	const wss = "../testdata/wss-tls13.pcap"
	const keys = "../testdata/wss-tls13.keylog"
	bad := filepath.Join(t.TempDir(), "bad.keylog")
	if err := os.WriteFile(bad, []byte("# ok\nCLIENT_RANDOM nothex 00\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		args      []string
		code      int
		out, errs string // substrings
	}{
		{"keylog", []string{"read", wss, "--keylog", keys}, ExitOK, "Hello over wss from the client", ""},
		{"keylog twice", []string{"read", wss, "--keylog", bad + ".missing", "--keylog", keys}, ExitUsage, "", "no such file"},
		{"tshark option", []string{"read", wss, "-o", "tls.keylog_file:" + keys}, ExitOK, "Hello over wss from the server", ""},
		{"other option", []string{"read", wss, "-o", "tcp.desegment:TRUE"}, ExitUsage, "", "only tls.keylog_file"},
		{"bad line", []string{"read", wss, "--keylog", bad}, ExitUsage, "", "line 2"},
		{"no key", []string{"read", wss}, ExitOK, "TLS connection TLS 1.3 TLS_AES_128_GCM_SHA256 sni=wss.example alpn_offered=http/1.1, not decrypted", ""},
		{"dsb", []string{"read", "../testdata/wss-tls13-dsb.pcapng", "--messages"}, ExitOK, "Hello over wss from the client", ""},
		{"filter", []string{"read", wss, "--keylog", keys, "-Y", `tls.sni == "wss.example" && tls.decrypted && text contains "bye"`}, ExitOK, `"bye"`, ""},
		{"json", []string{"read", wss, "--json"}, ExitOK, `"tls":{"version":"TLS 1.3","cipher":"TLS_AES_128_GCM_SHA256","sni":"wss.example","alpn_offered":["http/1.1"],"decrypted":false`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errs, tt.errs) {
				t.Fatalf("exit %d (want %d)\nstdout: %.600s\nstderr: %s", code, tt.code, out, errs)
			}
		})
	}
}

func TestSSLKEYLOGFILE(t *testing.T) {
	t.Setenv("SSLKEYLOGFILE", "../testdata/wss-tls12-gcm.keylog")
	code, out, errs := runCmd(t, "read", "../testdata/wss-tls12-gcm.pcap")
	if code != ExitOK || !strings.Contains(out, "Hello over wss from the client") || strings.Count(errs, "SSLKEYLOGFILE") != 1 {
		t.Fatalf("exit %d\nstdout: %.400s\nstderr: %s", code, out, errs)
	}
	t.Setenv("SSLKEYLOGFILE", filepath.Join(t.TempDir(), "absent"))
	code, out, errs = runCmd(t, "read", "../testdata/wss-tls12-gcm.pcap")
	if code != ExitOK || !strings.Contains(out, "not decrypted") || errs != "" {
		t.Fatalf("unreadable SSLKEYLOGFILE: exit %d\nstdout: %.400s\nstderr: %s", code, out, errs)
	}
}

// TestReadSecretsStdin reads captures with a Decryption Secrets Block from
// standard input: the committed one (the block after the section header)
// and the same with the block moved between the packets, before the
// ClientHello's last segment, with one worker and several.
func TestReadSecretsStdin(t *testing.T) {
	t.Setenv("SSLKEYLOGFILE", "")
	data, err := os.ReadFile("../testdata/wss-tls13-dsb.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	// Blocks: section header, secrets, interface, packets.
	shb := int(binary.LittleEndian.Uint32(data[4:]))
	dsbLen := int(binary.LittleEndian.Uint32(data[shb+4:]))
	dsb := data[shb : shb+dsbLen]
	rest := append(append([]byte(nil), data[:shb]...), data[shb+dsbLen:]...)
	at := shb
	for i := 0; i < 5; i++ { // the interface and packets 1-4
		at += int(binary.LittleEndian.Uint32(rest[at+4:]))
	}
	mid := append(append(append([]byte(nil), rest[:at]...), dsb...), rest[at:]...)
	for _, procs := range []int{1, 4} {
		for name, in := range map[string][]byte{"committed": data, "mid-file": mid} {
			t.Run(fmt.Sprintf("%s, %d workers", name, procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				var out, errOut bytes.Buffer
				pr, pw := io.Pipe()
				go func() {
					pw.Write(in)
					pw.Close()
				}()
				code := Execute([]string{"read", "-", "--messages"}, pr, &out, &errOut)
				pr.Close()
				if code != ExitOK || !strings.Contains(out.String(), "Hello over wss from the client") || errOut.Len() != 0 {
					t.Fatalf("exit %d\nstdout: %.600s\nstderr: %s", code, out.String(), errOut.String())
				}
			})
		}
	}
}

// TestConversationCommandsDecrypt: conns, follow and export read the key
// log flags like read, so a wss capture shows its messages there too; and
// a connection that cannot be decrypted is one row that does not end
// before it starts.
func TestConversationCommandsDecrypt(t *testing.T) {
	pcap := filepath.Join("..", "testdata", "wss-tls12-gcm.pcap")
	keys := filepath.Join("..", "testdata", "wss-tls12-gcm.keylog")
	t.Setenv("SSLKEYLOGFILE", "")
	run := func(args ...string) string {
		t.Helper()
		out, _ := runOK(t, args...)
		return out
	}
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"conns", pcap, "--keylog", keys, "--json"}, []string{`"path":"/ws"`, `"c2s":{"frames":5,"messages":5`}},
		{[]string{"follow", pcap, "0", "--keylog", keys}, []string{"Hello over wss from the client", "Hello over wss from the server"}},
		{[]string{"follow", pcap, "0", "-o", "tls.keylog_file:" + keys}, []string{"Hello over wss from the server"}},
	}
	for _, tc := range tests {
		got := run(tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, w, got)
			}
		}
	}
	dir := t.TempDir()
	run("export", pcap, "--keylog", keys, "--dir", dir)
	index, err := os.ReadFile(filepath.Join(dir, "index.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(index), "\n"); n != 9 {
		t.Errorf("export wrote %d messages, want 9:\n%s", n, index)
	}
	// Without the key: one row, listed as TLS, with no negative duration.
	got := run("conns", pcap, "--json")
	if strings.Count(got, "\n") != 1 || strings.Contains(got, `"duration":-`) || strings.Contains(got, `"duration":0,`) {
		t.Errorf("conns without the key:\n%s", got)
	}
}
