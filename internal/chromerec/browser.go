package chromerec

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// Time limits of Chromium's stop.
const (
	termWait = 5 * time.Second // for its exit after SIGTERM
	killWait = 5 * time.Second // for its exit after SIGKILL
)

// Page log markers: the page's log(s) writes console lines "WSLOG " + s,
// which Chromium prints on stderr (--enable-logging=stderr), and logs DONE
// last.
const (
	pageLogPrefix = "WSLOG "
	pageDone      = pageLogPrefix + "DONE"
)

// Args returns Chromium's command line: headless, then own (the
// generator's flags: proxy, host resolver rules, certificate errors), a
// profile in profileDir, the flags that keep Chromium's own background
// fetches (sync, updates, metrics, field trials, prediction...) off, and
// logging to stderr, where the page's console lines go; then tail (the
// page's URL last).
func Args(profileDir string, own []string, tail ...string) []string {
	args := []string{"--headless=new", "--no-sandbox", "--disable-gpu"}
	args = append(args, own...)
	args = append(args,
		"--user-data-dir="+profileDir,
		"--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--disable-default-apps",
		"--disable-domain-reliability", "--disable-client-side-phishing-detection",
		"--disable-breakpad", "--metrics-recording-only", "--no-pings",
		"--disable-field-trial-config", "--disable-search-engine-choice-screen",
		"--password-store=basic", "--use-mock-keychain", "--enable-automation",
		"--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,"+
			"AutofillServerCommunication,CertificateTransparencyComponentUpdater,NetworkTimeServiceQuerying,"+
			"PreconnectToSearch,NetworkPrediction",
		"--enable-logging=stderr", "--v=0",
	)
	return append(args, tail...)
}

// StopMode says how Record stops Chromium once the page is done: where
// SIGTERM goes (SIGKILL follows for the whole group when it still runs 5 s
// later).
type StopMode uint8

const (
	// TermGroup sends SIGTERM to Chromium's whole process group.
	TermGroup StopMode = iota
	// TermBrowser sends SIGTERM to the browser process alone, which then
	// shuts down its children itself (and finishes a --log-net-log file),
	// and SIGKILL to what is left of the group once it exited.
	TermBrowser
)

// browser is a Chromium process in its own process group, with its
// output.
type browser struct {
	process
	out capgen.SyncBuffer
	log io.Writer
}

// startBrowser starts Chromium bin with args in a process group of its
// own, with SSLKEYLOGFILE=keyLogPath, collecting its stdout and stderr.
// Stop reports on log.
func startBrowser(bin string, args []string, keyLogPath string, log io.Writer) (*browser, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SSLKEYLOGFILE="+keyLogPath)
	b := &browser{log: log}
	cmd.Stdout, cmd.Stderr = &b.out, &b.out
	if err := b.start(cmd, nil); err != nil {
		return nil, fmt.Errorf("start chromium: %w", err)
	}
	return b, nil
}

// Output returns what Chromium wrote on stdout and stderr so far.
func (b *browser) Output() string { return string(b.out.Bytes()) }

// PageDone reports whether the page has logged DONE.
func (b *browser) PageDone() bool { return strings.Contains(b.Output(), pageDone) }

// PageLog returns what the page logged so far, one entry a log() call,
// without Chromium's console prefix and source suffix.
func (b *browser) PageLog() []string {
	var log []string
	for line := range strings.SplitSeq(b.Output(), "\n") {
		_, l, ok := strings.Cut(line, pageLogPrefix)
		if !ok {
			continue
		}
		if j := strings.Index(l, "\", source:"); j >= 0 {
			l = l[:j]
		}
		log = append(log, l)
	}
	return log
}

// Stop ends Chromium: SIGTERM as mode says, SIGKILL to its process group
// when it still runs 5 s later. Only the first call acts.
func (b *browser) Stop(mode StopMode) {
	b.stopOnce.Do(func() { b.stop(mode) })
}

func (b *browser) stop(mode StopMode) {
	pgid := b.cmd.Process.Pid // Setpgid: the group is the browser's
	term := -pgid
	if mode == TermBrowser {
		term = pgid
	}
	t0 := time.Now()
	syscall.Kill(term, syscall.SIGTERM)
	select {
	case <-b.exited:
		fmt.Fprintf(b.log, "chromium stopped after %v (%v)\n", time.Since(t0).Round(time.Millisecond), b.waitErr)
	case <-time.After(termWait):
		fmt.Fprintf(b.log, "chromium still running %v after SIGTERM: SIGKILL\n", termWait)
		syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-b.exited:
		case <-time.After(killWait):
			fmt.Fprintf(b.log, "chromium still running %v after SIGKILL\n", killWait)
		}
	}
	if mode == TermBrowser {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
}
