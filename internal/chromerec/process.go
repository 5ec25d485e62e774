package chromerec

import (
	"os/exec"
	"sync"
	"syscall"
)

// process is a child process (tcpdump, Chromium) in a process group of
// its own.
type process struct {
	cmd      *exec.Cmd
	exited   chan struct{} // closed once waitErr is set
	waitErr  error
	stopOnce sync.Once
}

// start starts cmd in a process group of its own; atExit, if set, runs
// once it has exited, before Exited is closed.
func (p *process) start(cmd *exec.Cmd, atExit func()) error {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func() {
		p.waitErr = cmd.Wait()
		if atExit != nil {
			atExit()
		}
		close(p.exited)
	}()
	return nil
}

// Exited is closed once the process has exited.
func (p *process) Exited() <-chan struct{} { return p.exited }

// Err returns how the process ended once Exited is closed, nil before.
func (p *process) Err() error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
		return nil
	}
}
