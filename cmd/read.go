package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/source"
)

func (a *app) readCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "read FILE...",
		Short: "Dissect the WebSocket traffic in capture files (pcap, pcapng, gzip; - for stdin)",
		Long: `read decodes every WebSocket connection in the given captures: pcap (either byte
order, micro- or nanosecond) or pcapng (any mix of link types), optionally
gzip-compressed. "-" reads standard input. Handshakes are found by content on
any port; connections whose handshake is missing are picked up mid-stream.`,
		Example: `  wsdissect read websocket.pcap
  wsdissect read capture.pcapng -Y 'opcode==text && payload contains "login"' -V
  wsdissect read x.pcap.gz --json --messages | jq -r 'select(.opcode_name=="text") | .text'
  tcpdump -w - port 80 | wsdissect read -`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("read needs at least one capture file (or - for stdin)\nRun 'wsdissect read --help' for usage"))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.runRead(args) },
	}
}

// runRead dissects each file in turn.
func (a *app) runRead(files []string) error {
	opts, err := a.out.engineOptions()
	if err != nil {
		return err
	}
	f, err := a.out.compileFilter()
	if err != nil {
		return err
	}
	ro, err := a.out.renderOptions(a.stdout)
	if err != nil {
		return err
	}
	code := ExitOK
	for _, name := range files {
		if len(files) > 1 {
			ro.File = name
		}
		if f != nil {
			f = f.Clone()
		}
		p := a.newPipeline(a.stdout, ro, f)
		opts.Epoch = p.epoch
		src, err := source.Open(name, a.stdin)
		if err != nil {
			fmt.Fprintf(a.stderr, "wsdissect: %v\n", err)
			if errors.Is(err, source.ErrDamaged) {
				code = max(code, ExitDamaged)
			} else {
				code = max(code, ExitUsage)
			}
			continue
		}
		_, runErr := engine.Run(src, p.sink, opts)
		src.Close()
		if err := p.flush(); err != nil && runErr == nil {
			runErr = fmt.Errorf("writing output: %w", err)
		}
		if a.out.quiet {
			if _, err := p.stats.WriteTo(a.stdout); err != nil && runErr == nil {
				runErr = err
			}
		}
		if runErr != nil {
			if errors.Is(runErr, source.ErrDamaged) {
				fmt.Fprintf(a.stderr, "wsdissect: %v (everything before the damage was decoded)\n", runErr)
				code = max(code, ExitDamaged)
				continue
			}
			if errors.Is(runErr, io.ErrClosedPipe) || isBrokenPipe(runErr) {
				return &exitError{code: ExitOK}
			}
			return &exitError{code: ExitUsage, err: fmt.Errorf("%s: %w", name, runErr)}
		}
	}
	if code != ExitOK {
		return &exitError{code: code}
	}
	return nil
}
