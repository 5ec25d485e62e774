package cmd

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadStdinStreams feeds a capture through a pipe in two halves and
// checks that the records of the first half are printed before the second
// is written: tcpdump -U -w - | wsdissect read - must show records as their
// packets arrive, not when a buffer fills or the input ends.
func TestReadStdinStreams(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "testdata", "coder-basic.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"summary", []string{"read", "-"}, "WebSocket handshake"},
		{"json", []string{"read", "-", "--json"}, `"type":"conn"`},
		{"one worker", []string{"read", "-"}, "WebSocket handshake"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "one worker" {
				t.Setenv("GOMAXPROCS", "1")
			}
			inR, inW := io.Pipe()
			outR, outW := io.Pipe()
			done := make(chan int, 1)
			var errOut bytes.Buffer
			go func() {
				code := Execute(tc.args, inR, outW, &errOut)
				outW.Close()
				done <- code
			}()
			lines := make(chan string, 1000)
			go func() {
				sc := bufio.NewScanner(outR)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
			}()
			// The first half holds the handshake and the first frames.
			half := len(data) / 2
			if _, err := inW.Write(data[:half]); err != nil {
				t.Fatal(err)
			}
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("output ended before the input did (stderr %q)", errOut.String())
				}
				if !strings.Contains(l, tc.want) {
					t.Errorf("first line %q lacks %q", l, tc.want)
				}
			case <-time.After(10 * time.Second):
				inW.Close()
				t.Fatal("no record within 10s of writing half the capture: output waits for the input to end")
			}
			if _, err := inW.Write(data[half:]); err != nil {
				t.Fatal(err)
			}
			inW.Close()
			n := 1
			for range lines {
				n++
			}
			if code := <-done; code != ExitOK {
				t.Fatalf("exit %d, stderr %q", code, errOut.String())
			}
			if n < 10 {
				t.Errorf("only %d lines in all", n)
			}
		})
	}
}
