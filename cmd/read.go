package cmd

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/audit"
	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/internal/progress"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/source"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/attach"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
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
			if len(args) == 0 && len(a.readFiles) == 0 {
				return usageErr(fmt.Errorf("read needs at least one capture file (or - for stdin)\nRun 'wsdissect read --help' for usage"))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.runRead(append(a.readFiles, args...)) },
	}
	a.registerReadFlags(c)
	a.registerOutputFlags(c)
	c.Flags().BoolVar(&a.separate, "separate", false, "read each file on its own (connections restart in every file) instead of as one capture continued across the files")
	a.registerReadAudit(c.Flags())
	c.Flags().StringVar(&a.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the run to `FILE` (for performance work)")
	_ = c.Flags().MarkHidden("cpuprofile")
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
	if a.out.decodeAs != subproto.None && (!a.out.quiet || f != nil) {
		// Socket.IO's long-polling exchanges become http records that
		// the application decoders read.
		opts.Dissect.KeepHTTP = attach.KeepHTTP
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
	files, err = source.ExpandInputs(files)
	if err != nil {
		return usageErr(err)
	}
	inputs := make([]readInput, 0, len(files))
	if ordered, ok := source.Rotated(files); ok && !a.separate {
		// Rotated captures (tcpdump -C/-G, ring buffers) read as one, so
		// that connections and their deflate contexts carry over.
		inputs = append(inputs, readInput{name: ordered[0], chain: ordered})
	} else {
		for _, n := range files {
			inputs = append(inputs, readInput{name: n})
		}
	}
	if a.cpuProfile != "" {
		stop, err := startCPUProfile(a.cpuProfile)
		if err != nil {
			return usageErr(err)
		}
		defer stop()
	}
	if a.fieldsOut, err = a.out.parseFieldsOutput(a.registry()); err != nil {
		return err
	}
	var save *saver
	if a.readWrite != "" {
		for _, name := range files {
			if name == "-" {
				return usageErr(errors.New("-w needs capture files, not standard input (they are read a second time to copy the packets)"))
			}
		}
		save = &saver{path: a.readWrite}
	}
	if a.injectSecrets && (save == nil || !isPcapng(a.readWrite)) {
		return usageErr(errors.New("--inject-secrets needs -w FILE.pcapng (a pcap file cannot hold TLS secrets)"))
	}
	several := len(inputs) > 1
	if a.readCount < 0 {
		return usageErr(errors.New("-c takes a positive number"))
	}
	if a.readCount > 0 {
		// Counting shown records across workers would need them to agree;
		// one worker shows them in order and stops at once.
		opts.Workers = 1
		a.counter = &countSink{left: a.readCount}
	}
	out := &outWriter{w: a.stdout}
	if a.fieldsOut != nil && a.fieldsOut.header && !a.out.quiet {
		hs, _ := newFieldsSink(out, a.fieldsOut)
		err := hs.writeHeader()
		if err == nil {
			err = hs.flush()
		}
		if err = cmp.Or(out.err, err); err != nil {
			return outputError(err)
		}
	}
	sigs := catchSignals()
	defer sigs.release()
	total := render.NewStats()
	if f != nil && a.out.quiet {
		total.SetFilter(a.out.filter)
	}
	warnedLink := false
	code := ExitOK
	for _, in := range inputs {
		name := in.name
		if sigs.signal() != nil || a.counter != nil && a.counter.left == 0 {
			break
		}
		if several {
			ro.File = name
		}
		src, err := in.open(a, opts.Dissect.KeyLog)
		if err != nil {
			fmt.Fprintf(a.stderr, "wsdissect: %v\n", err)
			if errors.Is(err, source.ErrDamaged) {
				code = max(code, ExitDamaged)
			} else {
				code = max(code, ExitUsage)
			}
			continue
		}
		sigs.watch(src)
		aud := a.readAuditor(acfg)
		st, es, marks, runErr := a.readOne(src, out, opts, ro, f, several, aud)
		src.Close()
		total.Merge(st)
		if runErr == nil || errors.Is(runErr, source.ErrDamaged) {
			if err := a.writeReadFindings(aud, ro); err != nil && runErr == nil {
				runErr = err
			}
		}
		if save != nil && (runErr == nil || errors.Is(runErr, source.ErrDamaged) || errors.Is(runErr, source.ErrStopped)) {
			keep := func(uint64) bool { return true }
			if f != nil {
				if err := marks.complete(name, func() (engine.PacketSource, func(), error) { return reopen(in) }); err != nil {
					return &exitError{code: ExitOutput, err: err}
				}
				keep = marks.has
			}
			if a.injectSecrets {
				save.secrets = marks.randoms.keyLog(opts.Dissect.KeyLog)
				if len(save.secrets) == 0 && len(marks.randoms) > 0 {
					fmt.Fprintf(a.stderr, "wsdissect: --inject-secrets: the key log has no secrets for the %s saved from %s\n", sessionsText(len(marks.randoms)), name)
				}
			}
			if errors.Is(runErr, source.ErrStopped) {
				last := es.Packets
				inner := keep
				keep = func(n uint64) bool { return n <= last && inner(n) }
			}
			if err := save.save(in, keep); err != nil {
				return &exitError{code: ExitOutput, err: err}
			}
		}
		if es.UnsupportedLink > 0 && !warnedLink {
			warnedLink = true
			fmt.Fprintf(a.stderr, "wsdissect: %s: skipped %d packets of link type %d, which wsdissect cannot decode\n",
				name, es.UnsupportedLink, es.UnsupportedLinkType)
		}
		if runErr != nil {
			if out.err != nil {
				return outputError(out.err)
			}
			if errors.Is(runErr, source.ErrStopped) {
				if sigs.signal() == nil {
					continue // -c was reached
				}
				break
			}
			if errors.Is(runErr, source.ErrDamaged) {
				if in.chain != nil {
					fmt.Fprintf(a.stderr, "wsdissect: %v (everything before the damage, and the files after it, were decoded)\n", runErr)
					code = max(code, ExitDamaged)
					continue
				}
				fmt.Fprintf(a.stderr, "wsdissect: %v (everything before the damage was decoded)\n", runErr)
				code = max(code, ExitDamaged)
				continue
			}
			return &exitError{code: ExitUsage, err: fmt.Errorf("%s: %w", name, runErr)}
		}
	}
	if save != nil {
		if err := save.close(); err != nil {
			return &exitError{code: ExitOutput, err: err}
		}
		if a.inputSecrets && !a.injectSecrets {
			fmt.Fprintf(a.stderr, "wsdissect: the TLS secrets embedded in the input are not in %s: read it with the same key log, or write it with --inject-secrets (to a .pcapng)\n", a.readWrite)
		}
	}
	if a.out.quiet {
		if err := a.writeStats(out, total); err != nil {
			return outputError(err)
		}
	}
	if sig := sigs.signal(); sig != nil {
		fmt.Fprintf(a.stderr, "wsdissect: stopped by %s: %s\n", signalName(sig), statsLine(total))
		return &exitError{code: exitCodeFor(sig)}
	}
	if code != ExitOK {
		return &exitError{code: code}
	}
	return nil
}

// readOne dissects one capture, spreading connections over the available
// cores (the output is the same as with one core), and returns its
// statistics.
func (a *app) readOne(src readSource, out io.Writer, opts engine.Options, ro render.Options, f *filter.Filter, several bool, aud *audit.Auditor) (*render.Stats, engine.Stats, *packetMarks, error) {
	dw := a.deltaOutput(&ro, out)
	if dw != nil {
		out = dw
	}
	var pipes []*pipeline
	newSink := func(w io.Writer) (dissect.Sink, func() error) {
		ff := f
		if ff != nil {
			ff = ff.Clone()
		}
		p := a.newPipeline(w, ro, ff)
		pipes = append(pipes, p)
		sink := auditTee(p.sink, aud)
		if a.counter != nil {
			c := a.counter
			c.next, c.done, c.shown = sink, src.Stop, p.shownCounter()
			sink = c
		}
		if p.randoms != nil && p.marks == nil {
			// -w without -Y saves every packet (up to the last record
			// shown, with -c): the secrets of every record's session.
			sink = &randomsSink{next: sink, set: p.randoms}
		}
		return p.withMemory(sink), p.flush
	}
	opts.Epoch = func(t time.Time) {
		for _, p := range pipes {
			p.epoch(t)
		}
	}
	var datagrams fragmentGroups
	if a.readWrite != "" && f != nil {
		// -w with a filter saves the packets of the records shown, which
		// name the packet that completed an IP datagram: its other
		// fragments go with it.
		opts.Datagram = datagrams.add
	}
	if several && ro.Format != render.FormatJSON {
		// Each renderer prints the per-file heading itself.
		opts.Workers = 1
	}
	var bar *progress.Bar
	if errFile, ok := a.stderr.(*os.File); ok && src.Size() > 0 && showProgress(progress.IsTerminal(errFile), isTerminal(a.stdout), a.out.quiet) {
		bar = progress.Start(a.stderr, func() (int64, int64) { return src.Pos(), src.Size() }, progress.Options{})
	}
	es, runErr := engine.RunParallel(src, newSink, opts, out)
	if bar != nil {
		bar.Stop()
	}
	if dw != nil {
		if err := dw.Flush(); err != nil && runErr == nil {
			runErr = err
		}
	}
	st := render.NewStats()
	marks := &packetMarks{}
	for _, p := range pipes {
		st.Merge(p.stats)
		if p.marks != nil {
			marks.merge(p.marks)
		}
		marks.randoms.merge(p.randoms)
	}
	marks.datagrams = &datagrams
	st.AddInput(a.inputOf(es, 1))
	st.AddHTTP2Requests(es.Dissect.H2Requests)
	st.SetMemory(es.Memory.Limit, es.Memory.Peak)
	return st, es, marks, runErr
}

// readSource is what read decodes: one capture file or a chain of rotated
// ones.
type readSource interface {
	engine.PacketSource
	Size() int64
	Pos() int64
	Stop()
	Close() error
}

// readInput is one input of read: a file, or rotated files read as one.
type readInput struct {
	name  string
	chain []string
}

// open opens the input; the TLS secrets its files carry are added to kl as
// the reading meets them.
func (in readInput) open(a *app, kl *tlsdecrypt.KeyLog) (readSource, error) {
	if in.chain != nil {
		ch := source.NewChain(in.chain, a.stdin)
		ch.Overlap = func(prev, name string) {
			fmt.Fprintf(a.stderr, "wsdissect: %s starts before %s ends: the files overlap in time (merge them with mergecap, or read them with --separate)\n", name, prev)
		}
		watchSecrets(ch, kl, a.stderr, a.sawInputSecrets)
		return ch, nil
	}
	f, err := source.Open(in.name, a.stdin)
	if err != nil {
		return nil, err
	}
	watchSecrets(f, kl, a.stderr, a.sawInputSecrets)
	return f, nil
}

// sawInputSecrets notes that an input carried TLS secrets (a pcapng
// Decryption Secrets Block).
func (a *app) sawInputSecrets() { a.inputSecrets = true }

// sessionsText says "TLS session" or "N TLS sessions".
func sessionsText(n int) string {
	if n == 1 {
		return "TLS session"
	}
	return strconv.Itoa(n) + " TLS sessions"
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

// deltaOutput returns, for summary lines with -t d, the writer that fills in
// their time column as they are written (render.DeltaWriter over out), and
// sets ro to leave it to that writer: the engine may put records in order
// after they are rendered, so only the written order says which line came
// before. Otherwise it returns nil.
func (a *app) deltaOutput(ro *render.Options, out io.Writer) *render.DeltaWriter {
	if ro.Time != render.TimeDelta || ro.Format != render.FormatSummary || a.fieldsOut != nil {
		return nil
	}
	ro.DeltaMarks = true
	return render.NewDeltaWriter(out)
}
