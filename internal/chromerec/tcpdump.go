package chromerec

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

// Time limits of tcpdump.
const (
	tcpdumpListenWait = 10 * time.Second // for "listening on"
	tcpdumpStopWait   = 5 * time.Second  // for its exit after SIGINT
	tcpdumpMaxLines   = 100              // lines of its stderr read for "listening on"
)

// tcpdump is a running tcpdump -i lo -U --immediate-mode writing one TCP
// port's packets to a file.
type tcpdump struct {
	// Path is the capture file.
	Path string

	process
	stderr  capgen.SyncBuffer
	stopErr error
}

// startTcpdump starts tcpdump on lo, filtered to TCP port port, writing
// path (every packet at once: -U --immediate-mode), and waits up to 10 s
// for it to listen.
func startTcpdump(path string, port int) (*tcpdump, error) {
	cmd := exec.Command("tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root", "-w", path,
		fmt.Sprintf("tcp port %d", port))
	t := &tcpdump{Path: path}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(&t.stderr, pw)
	if err := t.start(cmd, func() { pw.Close() }); err != nil {
		return nil, fmt.Errorf("start tcpdump: %w", err)
	}
	listening := make(chan struct{})
	go watchListening(pr, listening)
	select {
	case <-listening:
		return t, nil
	case <-t.exited:
		return nil, fmt.Errorf("tcpdump exited: %v: %s", t.Err(), t.stderr.Bytes())
	case <-time.After(tcpdumpListenWait):
		t.Stop()
		return nil, fmt.Errorf("tcpdump not listening after %v: %s", tcpdumpListenWait, t.stderr.Bytes())
	}
}

// watchListening closes listening when tcpdump's stderr r says "listening
// on" within its first lines, then drains r.
func watchListening(r io.Reader, listening chan<- struct{}) {
	sc := bufio.NewScanner(r)
	for i := 0; i < tcpdumpMaxLines && sc.Scan(); i++ {
		if strings.Contains(sc.Text(), "listening on") {
			close(listening)
			break
		}
	}
	io.Copy(io.Discard, r)
}

// Stop stops tcpdump with SIGINT, so that it flushes the capture file, or
// SIGKILL when it still runs 5 s later (an error). An exit status is not
// an error. Only the first call acts; later ones return its result.
func (t *tcpdump) Stop() error {
	t.stopOnce.Do(func() { t.stopErr = t.stop() })
	return t.stopErr
}

func (t *tcpdump) stop() error {
	t.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-t.exited:
	case <-time.After(tcpdumpStopWait):
		t.cmd.Process.Kill()
		return fmt.Errorf("tcpdump did not stop on SIGINT: %s", t.stderr.Bytes())
	}
	var ee *exec.ExitError
	if t.waitErr != nil && !errors.As(t.waitErr, &ee) {
		return fmt.Errorf("tcpdump: %w", t.waitErr)
	}
	return nil
}
