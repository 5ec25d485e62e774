package cmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the built binary, to check what only a real process
// shows: exit codes under signals, SIGPIPE and unwritable output.

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

// wsdissectBin builds wsdissect once per test run (the build cache makes it
// cheap after the first time).
func wsdissectBin(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("process tests run on Linux only")
	}
	binOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go") //lint:ignore SA1019 only a fallback when go is not on PATH: the test runs under this toolchain
		}
		binDir, binErr = os.MkdirTemp("", "wsdissect-cmd-test")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "wsdissect")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, goTool, "build", "-o", binPath, "github.com/wsdissect/wsdissect").CombinedOutput()
		if err != nil {
			binErr = errors.New("building wsdissect: " + err.Error() + "\n" + string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// waitExit waits for c at most d and returns its exit code (-1 when a
// signal killed it).
func waitExit(t *testing.T, c *exec.Cmd, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		_ = c.Process.Kill()
		<-done
		t.Fatalf("%v did not end within %v", c.Args, d)
	}
	return c.ProcessState.ExitCode()
}

// TestProcessHeadClosesPipe checks that `wsdissect read big | head -1`
// exits 0, not 141 (killed by SIGPIPE), which set -o pipefail counts as a
// failure.
func TestProcessHeadClosesPipe(t *testing.T) {
	bin := wsdissectBin(t)
	args := []string{"read", "-V"}
	for range 100 { // far more output than a pipe holds
		args = append(args, filepath.Join("..", "testdata", "coder-basic.pcap"))
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	c := exec.Command(bin, args...)
	c.Stdout = pw
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || line == "" {
		t.Fatalf("first line %q: %v", line, err)
	}
	pr.Close() // what head does after its line
	if code := waitExit(t, c, 60*time.Second); code != ExitOK {
		t.Fatalf("exit %d (state %v), want 0; stderr %q", code, c.ProcessState, stderr.String())
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q, want nothing", stderr.String())
	}
}

// TestProcessOutputUnwritable checks that output that cannot be written
// (a full disk) fails with a message and exit code 4 (ExitOutput).
func TestProcessOutputUnwritable(t *testing.T) {
	bin := wsdissectBin(t)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full: %v", err)
	}
	defer full.Close()
	good := filepath.Join("..", "testdata", "coder-basic.pcap")
	for _, args := range [][]string{
		{"fields"},
		{"fields", "--anomalies"},
		{"read", good},
		{"read", good, "--json"},
		{"read", good, "-q"},
		{"read", good, "-q", "--json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			c := exec.Command(bin, args...)
			c.Stdout = full
			var stderr bytes.Buffer
			c.Stderr = &stderr
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			if code := waitExit(t, c, 60*time.Second); code != ExitOutput {
				t.Errorf("exit %d, want %d; stderr %q", code, ExitOutput, stderr.String())
			}
			if !strings.Contains(stderr.String(), "writing output") || !strings.Contains(stderr.String(), "no space left") {
				t.Errorf("stderr %q, want a sentence about writing the output", stderr.String())
			}
		})
	}
}

// TestProcessSignalStopsCleanly sends SIGINT or SIGTERM to `read -` while
// it waits for more input, and checks that the output ends on a whole
// record, the statistics line is on stderr and the exit code is 128 + the
// signal's number.
func TestProcessSignalStopsCleanly(t *testing.T) {
	bin := wsdissectBin(t)
	data, err := os.ReadFile(filepath.Join("..", "testdata", "coder-basic.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
		name string
	}{
		{syscall.SIGINT, ExitInterrupted, "SIGINT"},
		{syscall.SIGTERM, ExitTerminated, "SIGTERM"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := exec.Command(bin, "read", "-", "--json")
			stdin, err := c.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			c.Stdout = pw
			var stderr bytes.Buffer
			c.Stderr = &stderr
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			pw.Close()
			defer stdin.Close()
			if _, err := stdin.Write(data[:len(data)/2]); err != nil {
				t.Fatal(err)
			}
			out := bufio.NewReader(pr)
			first, err := out.ReadString('\n')
			if err != nil {
				t.Fatalf("no first record: %v (stderr %q)", err, stderr.String())
			}
			if err := c.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(out)
			code := waitExit(t, c, 30*time.Second)
			all := first + string(rest)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tc.code, stderr.String())
			}
			if !strings.HasSuffix(all, "\n") {
				t.Errorf("output does not end with a whole line: %q", all[max(0, len(all)-80):])
			}
			for i, l := range strings.Split(strings.TrimSuffix(all, "\n"), "\n") {
				if !json.Valid([]byte(l)) {
					t.Errorf("line %d is not a whole JSON record: %q", i+1, l)
				}
			}
			if !strings.Contains(stderr.String(), "stopped by "+tc.name) || !strings.Contains(stderr.String(), "packets;") {
				t.Errorf("stderr %q lacks the statistics line", stderr.String())
			}
		})
	}
}
