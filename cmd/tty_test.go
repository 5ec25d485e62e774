package cmd

import (
	"os"
	"testing"
)

// TestColorAutoDevNull checks that --color auto looks at the stream written
// to: /dev/null is a character device, not a terminal, and gets no colour.
func TestColorAutoDevNull(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "xterm-256color")
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer null.Close()
	o := outputFlags{color: "auto"}
	on, err := o.colorOn(null)
	if err != nil || on {
		t.Errorf("colorOn(/dev/null) = %v, %v; want false", on, err)
	}
	if isTerminal(null) {
		t.Error("isTerminal(/dev/null) = true")
	}
}

// TestShowProgress checks that the progress line is drawn only where it
// cannot end up in front of a record on the same terminal.
func TestShowProgress(t *testing.T) {
	for _, tc := range []struct {
		stderrTTY, stdoutTTY, quiet, want bool
	}{
		{true, false, false, true},   // read big.pcap > out.txt
		{true, true, true, true},     // read -q big.pcap
		{true, true, false, false},   // records on the terminal: no progress line among them
		{false, false, false, false}, // stderr redirected
		{false, true, true, false},
	} {
		if got := showProgress(tc.stderrTTY, tc.stdoutTTY, tc.quiet); got != tc.want {
			t.Errorf("showProgress(stderr tty %v, stdout tty %v, quiet %v) = %v, want %v",
				tc.stderrTTY, tc.stdoutTTY, tc.quiet, got, tc.want)
		}
	}
}
