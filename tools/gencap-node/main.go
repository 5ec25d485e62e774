//go:debug randseednop=0

// Command gencap-node records a github.com/gorilla/websocket client talking
// to the Node.js ws library (tools/nodews/server.js) over 127.0.0.1 and
// writes testdata/node-ws-origin.pcap with its truth file. It needs Node.js
// and the ws package:
//
//	(cd tools/nodews && npm install)
//	go run ./tools/gencap-node -out testdata
//
// It is separate from tools/gencap so that the main generator and its test
// need nothing but Go. The client's keys and masks are seeded as in gencap,
// so the capture is byte-identical on regeneration with the same versions.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/internal/capgen"
)

func main() {
	out := flag.String("out", "testdata", "output directory")
	dir := flag.String("node-dir", filepath.Join("tools", "nodews"), "directory of server.js and its node_modules")
	flag.Parse()
	if err := run(*out, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gencap-node:", err)
		os.Exit(1)
	}
}

func run(out, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws")); err != nil {
		return fmt.Errorf("the ws package is not installed in %s: run (cd %s && npm install)", dir, dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "server.js")
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start node: %w", err)
	}
	defer func() {
		stdin.Close() // the server exits when its stdin ends
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if err != nil || !ok {
		return errors.New("the node server did not report its port")
	}
	addr := "127.0.0.1:" + port

	var recs []*capgen.Recording
	for _, sc := range capgen.NodeAuditScenarios() {
		h := fnv.New64a()
		h.Write([]byte(sc.Name))
		capgen.SeedGlobalRandom(h.Sum64())
		r, err := capgen.RecordEcho(ctx, sc, addr)
		if err != nil {
			return err
		}
		recs = append(recs, r)
	}
	data, truth, err := capgen.WriteNodeCapture(recs)
	if err != nil {
		return err
	}
	name := filepath.Join(out, "node-ws-origin.pcap")
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return err
	}
	j, err := truth.JSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(capgen.TruthPath(name), j, 0o644); err != nil {
		return err
	}
	fmt.Printf("%s %d bytes\n", name, len(data))
	return nil
}
