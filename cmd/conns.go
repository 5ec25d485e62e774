package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/conv"
	"github.com/wsdissect/wsdissect/source"
)

// convFlags are the flags of conns, follow and export.
type convFlags struct {
	sort      string // conns --sort
	zeekDir   string // conns --zeek
	zeekJSON  bool   // conns --zeek-json
	format    string // follow --format
	dir       string // follow -d, export --dir
	pretty    bool   // follow --pretty
	har       string // export --har
	exportDir string // export --dir
	harMax    string // export --har-max
	wide      bool   // conns --wide
}

func (a *app) connsCmd() *cobra.Command {
	var f convFlags
	c := &cobra.Command{
		Use:   "conns FILE...",
		Short: "One row per WebSocket connection: endpoints, handshake, traffic, ping RTTs, how it closed",
		Long: `conns summarises every WebSocket connection of a capture in one row: stream
number, endpoints, host, path, subprotocol and extensions, start time and
duration, messages and bytes per direction (on the wire and inflated, with
the compression ratio), the largest message, ping-to-pong round trips
(min/median/max, a pong matched to the ping with the same payload), who sent
the first close frame with which code and reason, and the anomaly count.
Long hosts, paths, subprotocols, extensions and close reasons are cut short
with … (--wide shows them whole; --json always does).
Several files (or a directory or glob) are read as one rotated capture.
--json writes one JSON object per connection for jq. --zeek DIR also writes
Zeek-compatible websocket.log and websocket_messages.log files.`,
		Example: `  wsdissect conns capture.pcap
  wsdissect conns capture.pcap --sort bytes
  wsdissect conns capture.pcap --json | jq 'select(.rtt.max > 0.5)'
  wsdissect conns capture.pcap --zeek logs/`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("conns needs a capture file (or the files of one rotated capture)\nRun 'wsdissect conns --help' for usage"))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.runConns(args, &f) },
	}
	c.Flags().StringVar(&f.sort, "sort", "stream", "order rows by stream, start, duration, bytes or msgs (the last three largest first)")
	c.Flags().StringVar(&f.zeekDir, "zeek", "", "also write Zeek-compatible websocket.log and websocket_messages.log into `DIR`")
	c.Flags().BoolVar(&f.zeekJSON, "zeek-json", false, "write the --zeek logs as Zeek JSON (one object per line) instead of TSV")
	c.Flags().BoolVar(&f.wide, "wide", false, "show long hosts, paths, subprotocols, extensions and close reasons whole (the table cuts them short with …)")
	a.out.register(c.Flags(), "json")
	c.Flags().Lookup("json").Usage = "write one JSON object per connection and line (for jq)"
	a.out.register(c.Flags(), decodeFlags...)
	a.keys.register(c.Flags())
	return c
}

// runConns prints the connection table.
func (a *app) runConns(files []string, f *convFlags) error {
	if err := conv.SortSessions(nil, f.sort); err != nil {
		return usageErr(fmt.Errorf("--sort: %w", err))
	}
	if f.zeekJSON && f.zeekDir == "" {
		return usageErr(fmt.Errorf("--zeek-json needs --zeek DIR"))
	}
	var zw *conv.ZeekWriter
	opts := conv.Options{}
	if f.zeekDir != "" {
		var err error
		zw, err = conv.NewZeekWriter(f.zeekDir, f.zeekJSON)
		if err != nil {
			return usageErr(fmt.Errorf("--zeek: %w", err))
		}
		opts.OnMessage = zw.Message
	}
	col, err := a.collect(files, opts)
	if zw != nil {
		if cerr := zw.Close(col.Sessions()); cerr != nil && err == nil {
			err = &exitError{code: ExitUsage, err: fmt.Errorf("--zeek: %w", cerr)}
		}
	}
	ss := col.Sessions()
	_ = conv.SortSessions(ss, f.sort)
	var werr error
	if a.out.json {
		werr = conv.WriteConnsJSON(a.stdout, ss)
	} else {
		werr = conv.WriteConnsTable(a.stdout, ss, f.wide)
	}
	if werr != nil && err == nil {
		if isBrokenPipe(werr) {
			return &exitError{code: ExitOK}
		}
		return &exitError{code: ExitUsage, err: werr}
	}
	return err
}

// runSink runs one capture through sink with the given engine options,
// decrypting TLS with the key log flags and the capture's Decryption
// Secrets Blocks.
func (a *app) runSink(name string, opts engine.Options, sink dissect.Sink) error {
	kl, err := a.keys.load(a.stderr)
	if err != nil {
		return err
	}
	opts.Dissect.KeyLog = kl
	src, err := source.Open(name, a.stdin)
	if err != nil {
		return usageErr(err)
	}
	defer src.Close()
	watchSecrets(src, kl, a.stderr, nil)
	if _, err := engine.Run(src, sink, opts); err != nil && !errors.Is(err, source.ErrDamaged) {
		return &exitError{code: ExitUsage, err: fmt.Errorf("%s: %w", name, err)}
	}
	return nil
}

// collect runs a capture, or the files of one rotated capture (or a
// directory or glob of them) read as one, through a conv.Collector. A
// damaged capture still yields what was decoded before the damage (the error
// says exit 1); an unreadable one is a usage error.
func (a *app) collect(files []string, copts conv.Options) (*conv.Collector, error) {
	col := conv.New(copts)
	opts, err := a.out.engineOptions()
	if err != nil {
		return col, err
	}
	opts.Dissect.Messages = false // the collector assembles messages from frames
	if opts.Dissect.KeyLog, err = a.keys.load(a.stderr); err != nil {
		return col, err
	}
	files, err = source.ExpandInputs(files)
	if err != nil {
		return col, usageErr(err)
	}
	var src engine.PacketSource
	if len(files) == 1 {
		f, err := source.Open(files[0], a.stdin)
		if err != nil {
			return col, usageErr(err)
		}
		defer f.Close()
		watchSecrets(f, opts.Dissect.KeyLog, a.stderr, nil)
		src = f
	} else {
		ordered, ok := source.Rotated(files)
		if !ok {
			return col, usageErr(fmt.Errorf("several files are read as one rotated capture, but these do not follow each other in time (each must be readable and start later than the one before)"))
		}
		ch := source.NewChain(ordered, a.stdin)
		ch.Overlap = func(prev, name string) {
			fmt.Fprintf(a.stderr, "wsdissect: %s starts before %s ends: the files overlap in time\n", name, prev)
		}
		defer ch.Close()
		watchSecrets(ch, opts.Dissect.KeyLog, a.stderr, nil)
		src = ch
	}
	_, runErr := engine.Run(src, col, opts)
	code := ExitOK
	if runErr != nil {
		switch {
		case errors.Is(runErr, source.ErrDamaged):
			fmt.Fprintf(a.stderr, "wsdissect: %v (everything before the damage was decoded)\n", runErr)
			code = ExitDamaged
		case errors.Is(runErr, io.ErrClosedPipe) || isBrokenPipe(runErr):
			return col, &exitError{code: ExitOK}
		case errors.Is(runErr, source.ErrNotCapture):
			return col, usageErr(runErr)
		default:
			return col, &exitError{code: ExitUsage, err: runErr}
		}
	}
	if err := col.Finish(); err != nil {
		return col, &exitError{code: ExitUsage, err: err}
	}
	if code != ExitOK {
		return col, &exitError{code: code}
	}
	return col, nil
}
