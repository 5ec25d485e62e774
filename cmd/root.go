// Package cmd wires wsdissect's command line to its packages: flags, output
// selection and exit codes, nothing that parses protocol bytes.
package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
	"golang.org/x/term"
)

// Exit codes, documented in README.md.
const (
	// ExitOK: success.
	ExitOK = 0
	// ExitDamaged: the input was damaged or truncated; everything that could
	// be decoded was still printed.
	ExitDamaged = 1
	// ExitUsage: usage error or unreadable input.
	ExitUsage = 2
)

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErr wraps err as a usage error (exit 2).
func usageErr(err error) error { return &exitError{code: ExitUsage, err: err} }

// app holds one invocation's streams and flag values; there is no global
// state.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	out            outputFlags
	audit          auditFlags // audit, read --audit
	cpuProfile     string     // read --cpuprofile
	// extraFields are fields of layers added beside the built-in ones
	// (tests add a toy layer's here).
	extraFields    []field.Field
	extraAnomalies []dissect.AnomalyInfo
	separate       bool // read --separate
	keys           keyLogFlags

	readFiles  []string      // read -r FILE (also at the top level)
	readCount  int           // read -c N
	readWrite  string        // read -w FILE
	counter    *countSink    // counts the records read shows, with -c
	fieldsOut  *fieldsOutput // -T fields
	listIfaces bool          // top-level -D
	// injectSecrets is read --inject-secrets; inputSecrets is set once an
	// input's pcapng carried TLS secrets (Decryption Secrets Blocks).
	injectSecrets, inputSecrets bool
}

// Execute runs the command line and returns the process exit code.
func Execute(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintf(stderr, "wsdissect: %v\n", ee.err)
		}
		return ee.code
	}
	// cobra's own errors: unknown flags, bad arguments.
	fmt.Fprintf(stderr, "wsdissect: %v\nRun 'wsdissect --help' for usage.\n", err)
	return ExitUsage
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "wsdissect",
		Short: "Dissect WebSocket traffic (RFC 6455, RFC 7692) in packet captures and on live interfaces",
		Long: `wsdissect finds every WebSocket connection in a capture or on an interface,
on any port, and shows its handshake, frames and messages: unmasked, reassembled
and inflated (permessage-deflate), with protocol violations reported.`,
		Example: `  wsdissect read websocket.pcap
  wsdissect read capture.pcapng --filter 'opcode==text && payload contains "login"' -V
  tcpdump -w - port 80 | wsdissect read -
  wsdissect live -i eth0 port 80
  wsdissect read x.pcap --json --messages | jq -r 'select(.opcode_name=="text") | .text'`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Like tshark and tcpdump: "wsdissect -r FILE" and
		// "wsdissect FILE.pcap" read, "wsdissect -D" lists interfaces.
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			switch {
			case a.listIfaces:
				return a.listInterfaces()
			case len(args) > 0 || len(a.readFiles) > 0:
				for _, f := range args {
					if f != "-" {
						if _, err := os.Stat(f); err != nil {
							return usageErr(fmt.Errorf("unknown command or file %q\nRun 'wsdissect --help' for usage", f))
						}
					}
				}
				return a.runRead(append(a.readFiles, args...))
			}
			return c.Help()
		},
	}
	root.Flags().BoolVarP(&a.listIfaces, "list-interfaces", "D", false, "list the interfaces that can be captured on (as live -D)")
	a.registerReadFlags(root)
	a.registerOutputFlags(root)
	root.SetVersionTemplate("wsdissect {{.Version}}\n")
	root.AddCommand(a.readCmd())
	root.AddCommand(a.fieldsCmd())
	live := a.liveCmd()
	root.AddCommand(live)
	root.AddCommand(a.manCmd(root))
	root.AddCommand(a.auditCmd())
	root.AddCommand(a.connsCmd(), a.followCmd(), a.exportCmd())
	registerCompletions(root, live, func() []*field.Field { return a.registry().Fields() })
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		if e := notThisCommand(root, c, err); e != nil {
			return usageErr(e)
		}
		return usageErr(fmt.Errorf("%w\nRun '%s --help' for usage", plainFlagError(err), c.CommandPath()))
	})
	return root
}

// version reports the module version and VCS revision from the build info.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown version)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev != "" && !strings.Contains(v, rev[:min(12, len(rev))]) {
		v += " " + rev[:min(12, len(rev))] + dirty
	}
	return v + " " + bi.GoVersion
}

// isTerminal reports whether w, the stream actually written to, is a
// terminal (/dev/null is a character device but not a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// registerOutputFlags registers the output, selection and decoding flags
// on c (read, live, and the root command, which reads when given files).
func (a *app) registerOutputFlags(c *cobra.Command) {
	a.out.register(c.Flags(), selectionFlags...)
	a.out.register(c.Flags(), decodeFlags...)
	a.keys.register(c.Flags())
}

// notThisCommand explains an unknown flag that another command takes: it
// was given to command c, which does not (wsdissect fields --json). It
// returns nil for other errors and flags no command has.
func notThisCommand(root, c *cobra.Command, err error) error {
	name, ok := unknownFlag(err.Error())
	if !ok {
		return nil
	}
	var owners []string
	for _, o := range append([]*cobra.Command{root}, root.Commands()...) {
		if o == c || o.Hidden {
			continue
		}
		var f *pflag.Flag
		if len(name) == 1 {
			f = o.Flags().ShorthandLookup(name)
		} else {
			f = o.Flags().Lookup(name)
		}
		if f == nil {
			continue
		}
		if o == root {
			owners = append(owners, "the top level (which reads)")
		} else {
			owners = append(owners, o.Name())
		}
	}
	if len(owners) == 0 {
		return nil
	}
	spell := "--" + name
	if len(name) == 1 {
		spell = "-" + name
	}
	return fmt.Errorf("%s is not a flag of '%s': it belongs to %s\nRun '%s --help' for usage",
		spell, c.CommandPath(), strings.Join(owners, ", "), c.CommandPath())
}

// unknownFlag returns the name of the flag in pflag's "unknown flag: --NAME"
// or "unknown shorthand flag: 'N' in -N..." error.
func unknownFlag(msg string) (string, bool) {
	if rest, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		return rest, rest != ""
	}
	if rest, ok := strings.CutPrefix(msg, "unknown shorthand flag: '"); ok {
		if i := strings.IndexByte(rest, '\''); i > 0 {
			return rest[:i], true
		}
	}
	return "", false
}

// registerReadFlags registers the flags of read on c (read, and the root
// command, which reads when given files).
func (a *app) registerReadFlags(c *cobra.Command) {
	c.Flags().StringArrayVarP(&a.readFiles, "read", "r", nil, "read this capture `FILE` (repeatable; as tshark -r)")
	c.Flags().IntVarP(&a.readCount, "count", "c", 0, "stop after this many frame (or, with --messages, message) records have been shown")
	c.Flags().StringVarP(&a.readWrite, "write", "w", "", "save the packets of the records shown (with -Y), or all packets, to this pcap `FILE` (pcapng when it is named .pcapng)")
	c.Flags().BoolVar(&a.injectSecrets, "inject-secrets", false, "with -w FILE.pcapng, embed the TLS secrets of the saved connections (from --keylog or the input) in the copy, so that it decrypts without a key log")
}

// showProgress decides whether read draws a progress line on stderr: only
// on a terminal, and only when the records do not go to that terminal too
// (they would be printed on the progress line) unless -q prints none.
func showProgress(stderrTTY, stdoutTTY, quiet bool) bool {
	return stderrTTY && (quiet || !stdoutTTY)
}
