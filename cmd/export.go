package cmd

import (
	"cmp"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/internal/conv"
)

func (a *app) exportCmd() *cobra.Command {
	var f convFlags
	c := &cobra.Command{
		Use:   "export FILE... --dir OUT | --har OUT.har",
		Short: "Write every message as a file (with an index), or the connections as a HAR file",
		Long: `export writes the messages of every WebSocket connection out of the capture.

--dir OUT writes each message (unmasked, inflated, reassembled) as
OUT/<stream>/<n>-<dir>.<ext>, n counting the connection's messages from 1 in
time order, dir c2s or s2c, ext .json (text that is JSON), .txt (other text)
or .bin (binary; ping, pong and close payloads), plus OUT/index.ndjson with
one line per message (stream, n, dir, ts, opcode, lengths, flags, file).
Files are written as messages complete; nothing is kept in memory.

--har OUT.har writes HAR 1.2 as Chrome DevTools exports it: one entry per
connection with its upgrade request and response, and the text and binary
messages in "_webSocketMessages" ({type: send|receive, time: seconds since
the epoch, opcode, data: text, or base64 for binary}). The messages are
kept in memory until the end (at most --har-max bytes of payload).

Several files (or a directory or glob) are read as one rotated capture.`,
		Example: `  wsdissect export capture.pcap --dir out/
  wsdissect export capture.pcap --har capture.har
  jq -r 'select(.dir=="s2c") | .file' out/index.ndjson`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("export needs a capture file (or the files of one rotated capture)\nRun 'wsdissect export --help' for usage"))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.runExport(args, &f) },
	}
	c.Flags().StringVar(&f.exportDir, "dir", "", "write every message as a file under `OUT` with OUT/index.ndjson")
	c.Flags().StringVar(&f.har, "har", "", "write a HAR 1.2 file with the connections and their messages to `FILE`")
	c.Flags().StringVar(&f.harMax, "har-max", "1GiB", "payload bytes kept in memory for --har; later messages get empty data")
	a.out.register(c.Flags(), decodeFlags...)
	a.keys.register(c.Flags())
	return c
}

// runExport writes message files and/or a HAR file.
func (a *app) runExport(files []string, f *convFlags) error {
	if f.exportDir == "" && f.har == "" {
		return usageErr(fmt.Errorf("export needs --dir OUT or --har FILE (or both)"))
	}
	harMax, err := parseSize(f.harMax)
	if err != nil || harMax == 0 {
		return usageErr(fmt.Errorf("--har-max: invalid size %q", f.harMax))
	}
	var sinks []func(*conv.Session, *conv.Message) error
	var fe *conv.FileExporter
	if f.exportDir != "" {
		fe, err = conv.NewFileExporter(f.exportDir)
		if err != nil {
			return usageErr(fmt.Errorf("--dir: %w", err))
		}
		sinks = append(sinks, fe.Message)
	}
	var hc *conv.HARCollector
	if f.har != "" {
		hc = conv.NewHARCollector()
		hc.MaxBytes = harMax
		sinks = append(sinks, hc.Message)
	}
	col, runErr := a.collect(files, conv.Options{OnMessage: func(s *conv.Session, m *conv.Message) error {
		for _, sink := range sinks {
			if err := sink(s, m); err != nil {
				return err
			}
		}
		return nil
	}})
	if t := conv.NotDecrypted(col.Sessions()); t.Total() > 0 {
		hint := ""
		if t.NoKeyLog() {
			hint = " (give the key log with --keylog)"
		}
		fmt.Fprintf(a.stderr, "wsdissect: export: %s: WebSocket messages inside were not exported%s\n", t.Summary(), hint)
	}
	if fe != nil {
		if err := fe.Close(); err != nil {
			runErr = cmp.Or(runErr, error(&exitError{code: ExitUsage, err: fmt.Errorf("--dir: %w", err)}))
		}
	}
	if hc != nil {
		if err := writeHARFile(f.har, hc, col.Sessions()); err != nil {
			runErr = cmp.Or(runErr, error(&exitError{code: ExitUsage, err: fmt.Errorf("--har: %w", err)}))
		}
		if hc.Dropped > 0 {
			fmt.Fprintf(a.stderr, "wsdissect: --har: %d messages left without data (over --har-max %s)\n", hc.Dropped, f.harMax)
		}
	}
	return runErr
}

// writeHARFile writes the HAR to path.
func writeHARFile(path string, hc *conv.HARCollector, ss []*conv.Session) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	v, _, _ := strings.Cut(version(), " ")
	if err := hc.WriteHAR(out, ss, v); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
