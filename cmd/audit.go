package cmd

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wsdissect/wsdissect/audit"
	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/source"
)

// ExitFindings: audit found a weakness at or above --fail-on.
const ExitFindings = 3

// auditFlags are the thresholds of the security audit, shared by `audit`
// and `read --audit`.
type auditFlags struct {
	enabled       bool // read --audit
	failOn        string
	maxSize       string
	maxRatio      float64
	maxPings      int
	maxHandshakes int
}

// register adds the threshold flags to fs.
func (f *auditFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.maxSize, "audit-max-size", "16MiB", "audit: report frames or messages larger than this")
	fs.Float64Var(&f.maxRatio, "audit-max-ratio", audit.DefaultMaxRatio, "audit: report compressed messages (of 64KiB or more inflated) that inflate more than this many times")
	fs.IntVar(&f.maxPings, "audit-max-pings", audit.DefaultMaxPings, "audit: report more pings than this per second in one direction of a connection")
	fs.IntVar(&f.maxHandshakes, "audit-max-handshakes", audit.DefaultMaxHandshakes, "audit: report more upgrade requests than this per second from one client address")
}

// config turns the flags into an audit configuration.
func (f *auditFlags) config() (audit.Config, error) {
	n, err := parseSize(f.maxSize)
	if err != nil || n == 0 {
		return audit.Config{}, usageErr(fmt.Errorf("--audit-max-size: invalid size %q", f.maxSize))
	}
	if f.maxRatio <= 1 {
		return audit.Config{}, usageErr(fmt.Errorf("--audit-max-ratio must be more than 1"))
	}
	if f.maxPings <= 0 || f.maxHandshakes <= 0 {
		return audit.Config{}, usageErr(fmt.Errorf("--audit-max-pings and --audit-max-handshakes must be more than 0"))
	}
	return audit.Config{
		MaxSize: uint64(n), MaxRatio: f.maxRatio, MaxPings: f.maxPings, MaxHandshakes: f.maxHandshakes,
		IsTLS: func(c *dissect.Conn) bool { return c.TLS != nil },
	}, nil
}

func (a *app) auditCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "audit FILE...",
		Short: "Check the WebSocket traffic in captures for security weaknesses (CSWSH, credentials in clear, ...)",
		Long: `audit decodes the captures like read and checks every WebSocket handshake and
message for security weaknesses: cross-site WebSocket hijacking (a foreign
Origin accepted with cookies), credentials over unencrypted ws://, tokens in
URLs, secrets in messages, handshake flaws, decompression bombs, floods and
tunnelled protocols. Findings are grouped by host, with evidence (secrets
redacted to their first and last characters), why they matter and the fix;
--json writes one finding per line. The exit code is 3 when a finding at or
above --fail-on is present (default high; none disables it).`,
		Example: `  wsdissect audit capture.pcap
  wsdissect audit --json capture.pcapng | jq -r 'select(.severity=="high") | .id'
  wsdissect audit --fail-on medium *.pcap || echo "weaknesses found"`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErr(fmt.Errorf("audit needs at least one capture file (or - for stdin)\nRun 'wsdissect audit --help' for usage"))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.runAudit(args) },
	}
	c.Flags().StringVar(&a.audit.failOn, "fail-on", "high", "exit with code 3 when a finding of this severity or above is present: info, low, medium, high or none")
	a.audit.register(c.Flags())
	a.out.register(c.Flags(), "json", "color")
	c.Flags().Lookup("json").Usage = "write the findings as NDJSON, one object per finding and line"
	a.out.register(c.Flags(), decodeFlags...)
	a.keys.register(c.Flags())
	return c
}

// failLevel parses --fail-on; ok is false for "none".
func (f *auditFlags) failLevel() (audit.Severity, bool, error) {
	if f.failOn == "none" {
		return 0, false, nil
	}
	s, ok := audit.ParseSeverity(f.failOn)
	if !ok {
		return 0, false, usageErr(fmt.Errorf("--fail-on must be info, low, medium, high or none, not %q", f.failOn))
	}
	return s, true, nil
}

// runAudit audits each file in turn and prints its findings.
func (a *app) runAudit(files []string) error {
	opts, err := a.out.engineOptions()
	if err != nil {
		return err
	}
	// Frame records carry the compressed sizes the ratio check needs.
	opts.Dissect.Messages = false
	opts.Workers = 1
	if opts.Dissect.KeyLog, err = a.keys.load(a.stderr); err != nil {
		return err
	}
	cfg, err := a.audit.config()
	if err != nil {
		return err
	}
	level, failOn, err := a.audit.failLevel()
	if err != nil {
		return err
	}
	colorOn, err := a.out.colorOn(a.stdout)
	if err != nil {
		return err
	}
	code := ExitOK
	found := false
	for _, name := range files {
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
		watchSecrets(src, opts.Dissect.KeyLog, a.stderr, nil)
		aud := audit.New(cfg)
		_, runErr := engine.Run(src, aud, opts)
		src.Close()
		if runErr != nil && !errors.Is(runErr, source.ErrDamaged) {
			return &exitError{code: ExitUsage, err: fmt.Errorf("%s: %w", name, runErr)}
		}
		if runErr != nil {
			fmt.Fprintf(a.stderr, "wsdissect: %v (everything before the damage was audited)\n", runErr)
			code = max(code, ExitDamaged)
		}
		fs, cover := aud.Findings(), aud.Coverage()
		file := ""
		if len(files) > 1 {
			file = name
		}
		if err := a.writeFindings(fs, cover, a.out.json, colorOn, file); err != nil {
			if isBrokenPipe(err) {
				return &exitError{code: ExitOK}
			}
			return &exitError{code: ExitUsage, err: err}
		}
		if w, ok := audit.Worst(fs); ok && failOn && w >= level {
			found = true
		}
	}
	// A usage error outranks findings, findings outrank a damaged capture
	// (its findings cover everything before the damage).
	if code != ExitUsage && found {
		code = ExitFindings
	}
	if code != ExitOK {
		return &exitError{code: code}
	}
	return nil
}

// writeFindings prints findings as NDJSON or as the readable report, which
// ends with what the audit could check. With NDJSON, TLS connections that
// were not decrypted are told on stderr (stdout stays one finding per line).
func (a *app) writeFindings(fs []audit.Finding, cover audit.Coverage, json, colorOn bool, file string) error {
	if json {
		if lines, notChecked := audit.CoverageLines(cover); notChecked {
			where := ""
			if file != "" {
				where = file + ": "
			}
			fmt.Fprintf(a.stderr, "wsdissect: audit: %s%s\n", where, lines[len(lines)-1])
		}
		return audit.WriteJSON(a.stdout, fs, file)
	}
	return audit.WriteText(a.stdout, fs, audit.TextOptions{Color: colorOn, File: file, Coverage: &cover})
}

// registerReadAudit adds --audit and the thresholds to the read command.
func (a *app) registerReadAudit(fs *pflag.FlagSet) {
	fs.BoolVar(&a.audit.enabled, "audit", false, "also run the security audit (see 'wsdissect audit') and print its findings after each file's records (runs on one core)")
	a.audit.register(fs)
}

// readAuditor returns the auditor of one file for `read --audit`, or nil.
func (a *app) readAuditor(cfg audit.Config) *audit.Auditor {
	if !a.audit.enabled {
		return nil
	}
	return audit.New(cfg)
}

// auditTee adds the auditor in front of a read pipeline's sink.
func auditTee(s dissect.Sink, aud *audit.Auditor) dissect.Sink {
	if aud == nil {
		return s
	}
	return render.NewTee(aud, s)
}

// writeReadFindings prints the findings of one file after read's records: as
// "finding" records with --json, as the readable report otherwise.
func (a *app) writeReadFindings(aud *audit.Auditor, ro render.Options) error {
	if aud == nil {
		return nil
	}
	json := ro.Format == render.FormatJSON
	if !json {
		if _, err := io.WriteString(a.stdout, "\n"); err != nil {
			return err
		}
	}
	return a.writeFindings(aud.Findings(), aud.Coverage(), json, ro.Color, ro.File)
}
