package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/audit"
	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/progress"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/source"
)

func (a *app) readCmd() *cobra.Command {
	c := &cobra.Command{
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
	c.Flags().BoolVar(&a.separate, "separate", false, "read each file on its own (connections restart in every file) instead of as one capture continued across the files")
	c.Flags().StringVar(&a.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to `FILE` (for performance work)")
	_ = c.Flags().MarkHidden("cpuprofile")
	a.registerReadAudit(c.Flags())
	return c
}

// runRead dissects each file in turn.
func (a *app) runRead(files []string) error {
	opts, err := a.out.engineOptions()
	if err != nil {
		return err
	}
	if opts.Dissect.KeyLog, err = a.keys.load(a.stderr); err != nil {
		return err
	}
	defer applyMemoryLimit(opts.Memory)()
	f, err := a.out.compileFilter(a.registry())
	if err != nil {
		return err
	}
	ro, err := a.out.renderOptions(a.stdout)
	if err != nil {
		return err
	}
	var acfg audit.Config
	if a.audit.enabled {
		if acfg, err = a.audit.config(); err != nil {
			return err
		}
		opts.Workers = 1
	}
	if a.cpuProfile != "" {
		stop, err := startCPUProfile(a.cpuProfile)
		if err != nil {
			return usageErr(err)
		}
		defer stop()
	}
	files, err = source.ExpandInputs(files)
	if err != nil {
		return usageErr(err)
	}
	if !a.separate {
		if ordered, ok := source.Rotated(files); ok {
			return a.readChain(ordered, opts, ro, f, acfg)
		}
	}
	code := ExitOK
	for _, name := range files {
		if len(files) > 1 {
			ro.File = name
		}
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
		if err := addCaptureSecrets(opts.Dissect.KeyLog, name); err != nil {
			fmt.Fprintf(a.stderr, "wsdissect: %v\n", err)
		}
		aud := a.readAuditor(acfg)
		runErr := a.readOne(src, opts, ro, f, len(files) > 1, aud)
		src.Close()
		if runErr == nil || errors.Is(runErr, source.ErrDamaged) {
			if err := a.writeReadFindings(aud, ro); err != nil && runErr == nil {
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

// readOne dissects one capture, spreading connections over the available
// cores; the output is the same as with one core.
func (a *app) readOne(src sizedSource, opts engine.Options, ro render.Options, f *filter.Filter, several bool, aud *audit.Auditor) error {
	var pipes []*pipeline
	newSink := func(w io.Writer) (dissect.Sink, func() error) {
		ff := f
		if ff != nil {
			ff = ff.Clone()
		}
		p := a.newPipeline(w, ro, ff)
		pipes = append(pipes, p)
		return auditTee(p.sink, aud), p.flush
	}
	opts.Epoch = func(t time.Time) {
		for _, p := range pipes {
			p.epoch(t)
		}
	}
	if several && ro.Format != render.FormatJSON {
		// Each renderer prints the per-file heading itself.
		opts.Workers = 1
	}
	var bar *progress.Bar
	if errFile, ok := a.stderr.(*os.File); ok && progress.IsTerminal(errFile) && src.Size() > 0 {
		bar = progress.Start(a.stderr, func() (int64, int64) { return src.Pos(), src.Size() }, progress.Options{})
	}
	st, runErr := engine.RunParallel(src, newSink, opts, a.stdout)
	if bar != nil {
		bar.Stop()
	}
	if a.out.quiet && len(pipes) > 0 {
		total := pipes[0].stats
		for _, p := range pipes[1:] {
			total.Merge(p.stats)
		}
		total.AddHTTP2Requests(st.Dissect.H2Requests)
		total.SetMemory(st.Memory.Limit, st.Memory.Peak)
		if _, err := total.WriteTo(a.stdout); err != nil && runErr == nil {
			runErr = err
		}
	}
	return runErr
}

// startCPUProfile starts writing a CPU profile to path; stop ends it.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
