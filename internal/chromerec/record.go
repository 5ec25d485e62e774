// Package chromerec records headless Chromium's traffic on the loopback
// interface with tcpdump, with its TLS key log, for the test-capture
// generators (tools/genchromeproxy, tools/genchromeh2).
//
// A generator makes a Recorder (it checks that chromium and tcpdump are
// there and makes a scratch directory), starts its Go servers on 127.0.0.1
// with Recorder.KeyLog as their KeyLogWriter, builds its page with Page and
// Chromium's command line with Args, then calls Record: tcpdump -i lo on
// the servers' port, Chromium with SSLKEYLOGFILE, a wait for the page's
// WebSocket sessions, then both stopped, and Chromium's key log merged with
// the servers'. The servers log the plaintext they read and wrote
// (Plaintext); SplitHTTP1 and ParseFrames turn it into messages, AddSession
// checks them against the page's script and adds them to a capgen.Truth,
// and Result.Write writes NAME.pcap, NAME.keylog and NAME.truth.json.
//
// It needs chromium and tcpdump, and root (or capture rights on lo). It is
// run by hand, never by the tests: Chromium masks its frames with random
// keys and picks its own TLS secrets, so every run gives a different
// capture.
package chromerec

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// Time limits of a recording's phases.
const (
	pageDoneWait = 5 * time.Second        // for the page to log DONE once its sessions ended
	pageSettle   = 500 * time.Millisecond // after that, before Chromium is stopped
	closeWait    = 5 * time.Second        // for the servers' connections to close after Chromium stopped
	dumpSettle   = 300 * time.Millisecond // after that, before tcpdump is stopped
	pollStep     = 100 * time.Millisecond
)

// Recorder holds what one recording needs: Chromium's binary and version,
// a scratch directory and the Go servers' key log.
type Recorder struct {
	// Chromium is the browser binary; Version is its --version line.
	Chromium, Version string
	// Dir is a scratch directory, removed by Close.
	Dir string
	// KeyLog collects the Go servers' TLS secrets: it is meant to be their
	// tls.Config.KeyLogWriter.
	KeyLog *capgen.SyncBuffer
	// Log receives progress lines (Chromium's stop, the page's log).
	Log io.Writer
}

// NewRecorder checks that chromium and tcpdump can be found, reads
// Chromium's version and makes a scratch directory named after prefix.
func NewRecorder(ctx context.Context, chromium, prefix string, log io.Writer) (*Recorder, error) {
	for _, bin := range []string{chromium, "tcpdump"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s not found: %w", bin, err)
		}
	}
	version, err := exec.CommandContext(ctx, chromium, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", chromium, err)
	}
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		return nil, fmt.Errorf("scratch directory: %w", err)
	}
	return &Recorder{Chromium: chromium, Version: strings.TrimSpace(string(version)), Dir: dir,
		KeyLog: &capgen.SyncBuffer{}, Log: log}, nil
}

// Close removes the scratch directory.
func (r *Recorder) Close() error {
	if err := os.RemoveAll(r.Dir); err != nil {
		return fmt.Errorf("remove scratch directory: %w", err)
	}
	return nil
}

// Path returns the path of name in the scratch directory.
func (r *Recorder) Path(name string) string { return filepath.Join(r.Dir, name) }

// ProfileDir returns Chromium's --user-data-dir, in the scratch directory
// (a generator may write Default/Preferences there before Record).
func (r *Recorder) ProfileDir() string { return r.Path("profile") }

// Plan is what Record does around starting and stopping tcpdump and
// Chromium.
type Plan struct {
	// Port is the servers' TCP port: tcpdump records it alone.
	Port int
	// Args is Chromium's command line (see Args).
	Args []string
	// Stop says how Chromium is stopped once the page is done.
	Stop StopMode
	// Sessions is how many WebSocket sessions the page opens: Record waits
	// for as many values on its finished channel.
	Sessions int
	// Settle, if set, runs once the sessions ended (or the wait for them
	// failed), before Record waits for the page to log DONE.
	Settle func()
	// OpenConns counts the servers' connections still open: after
	// Chromium stopped, Record waits up to 5 s for none to be left, so that
	// the capture ends with their FINs.
	OpenConns func() int
	// CloseConns, if set, closes the connections still open after that.
	CloseConns func()
}

// Result is a finished recording.
type Result struct {
	// Pcap is tcpdump's capture file.
	Pcap []byte
	// KeyLog is Chromium's key log merged with the Go servers'.
	KeyLog KeyLog
	// PageLog is what the page logged, one entry a log() call, without
	// Chromium's console prefix and source suffix.
	PageLog []string
}

// Record captures Chromium's traffic to plan.Port: it starts tcpdump and
// Chromium, waits (within ctx) for plan.Sessions values on finished, which
// the servers send as their WebSocket sessions end, lets the page log
// DONE, stops Chromium, waits for the servers' connections to close,
// stops tcpdump, and merges the key logs. It fails when Chromium exits
// early, ctx ends first, or the page does not log DONE.
func Record[T any](ctx context.Context, r *Recorder, plan Plan, finished <-chan T) (*Result, error) {
	dump, err := startTcpdump(r.Path("capture.pcap"), plan.Port)
	if err != nil {
		return nil, err
	}
	defer dump.Stop()
	chromeKeys := r.Path("chromium.keylog")
	b, err := startBrowser(r.Chromium, plan.Args, chromeKeys, r.Log)
	if err != nil {
		return nil, err
	}
	defer b.Stop(plan.Stop)
	runErr := waitSessions(ctx, b, finished, plan.Sessions)
	r.windDown(plan, b)
	if err := dump.Stop(); err != nil && runErr == nil {
		runErr = err
	}
	res := &Result{PageLog: b.PageLog()}
	for _, l := range res.PageLog {
		fmt.Fprintln(r.Log, "page:", l)
	}
	if runErr != nil {
		return nil, runErr
	}
	if !b.PageDone() {
		return nil, fmt.Errorf("the page did not finish:\n%s", b.Output())
	}
	if res.Pcap, err = os.ReadFile(dump.Path); err != nil {
		return nil, fmt.Errorf("read the capture: %w", err)
	}
	if res.KeyLog, err = mergeKeyLogs(chromeKeys, r.KeyLog.Bytes()); err != nil {
		return nil, err
	}
	return res, nil
}

// waitSessions waits for n values on finished; it fails when Chromium
// exits or ctx ends first.
func waitSessions[T any](ctx context.Context, b *browser, finished <-chan T, n int) error {
	for ended := 0; ended < n; ended++ {
		select {
		case <-finished:
		case <-b.Exited():
			return fmt.Errorf("chromium exited early (%v):\n%s", b.Err(), b.Output())
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for the WebSocket sessions (%d ended):\n%s", ended, b.Output())
		}
	}
	return nil
}

// windDown lets the page finish, stops Chromium and waits for the servers'
// connections to close.
func (r *Recorder) windDown(plan Plan, b *browser) {
	if plan.Settle != nil {
		plan.Settle()
	}
	poll(pageDoneWait, b.PageDone)
	time.Sleep(pageSettle)
	b.Stop(plan.Stop)
	// Chromium's network process may outlive the browser process a
	// little: wait for the servers to see its connections close, so that
	// the capture ends with their FINs.
	if plan.OpenConns != nil && !poll(closeWait, func() bool { return plan.OpenConns() == 0 }) {
		msg := fmt.Sprintf("%d connections still open %v after Chromium stopped", plan.OpenConns(), closeWait)
		if plan.CloseConns != nil {
			msg += ": closing them"
			plan.CloseConns()
		}
		fmt.Fprintln(r.Log, msg)
	}
	time.Sleep(dumpSettle)
}

// poll checks cond every 100 ms until it holds or timeout has passed, and
// reports whether it held.
func poll(timeout time.Duration, cond func() bool) bool {
	for range int(timeout / pollStep) {
		if cond() {
			return true
		}
		time.Sleep(pollStep)
	}
	return cond()
}

// Write writes the recording to dir as NAME.pcap and NAME.keylog, with
// truth as NAME.truth.json, then logs truth's notes and a summary to log.
func (res *Result) Write(dir, name string, truth *capgen.Truth, log io.Writer) error {
	tj, err := truth.JSON()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory: %w", err)
	}
	files := []struct {
		ext  string
		data []byte
	}{{".pcap", res.Pcap}, {".keylog", []byte(res.KeyLog.Text)}, {".truth.json", tj}}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, name+f.ext), f.data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name+f.ext, err)
		}
	}
	for _, n := range truth.Notes {
		fmt.Fprintln(log, "note:", n)
	}
	fmt.Fprintf(log, "wrote %s/%s.{pcap,keylog,truth.json}: %d bytes of capture, %d messages\n",
		dir, name, len(res.Pcap), len(truth.Messages))
	return nil
}
