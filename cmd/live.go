package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/capture"
	"github.com/wsdissect/wsdissect/source"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/attach"
)

// liveFlags are the flags of the live command.
type liveFlags struct {
	iface     string
	list      bool
	snaplen   int
	noPromisc bool
	bufferKiB int
	immediate bool
	count     int
	autostop  []string
	duration  time.Duration
	write     string
}

func (a *app) liveCmd() *cobra.Command {
	var lf liveFlags
	c := &cobra.Command{
		Use:   "live [-i IFACE] [BPF EXPRESSION...]",
		Short: "Capture on an interface and dissect WebSocket traffic as it happens",
		Long: `live captures on an interface and prints WebSocket frames (or messages) as
they cross the wire: the moment they do when standard output is a terminal
(libpcap's immediate mode), otherwise within a tenth of a second, which lets
the kernel hand packets over in blocks and keeps up with much higher rates
(--immediate-mode forces the former). Trailing words are a capture filter in
tcpdump's syntax, compiled by libpcap exactly as tcpdump would. libpcap (Debian package
libpcap0.8) is loaded at run time; without it wsdissect captures through
AF_PACKET and cannot apply a filter expression. Ctrl-C stops cleanly: pending
messages are flushed and a summary line is printed on stderr.`,
		Example: `  wsdissect live -i eth0 port 80
  wsdissect live -i any 'tcp port 8080 and host 10.0.0.5' --messages
  wsdissect live -i lo port 9000 --json | jq .
  wsdissect live -i eth0 -w saved.pcap -a duration:60 port 443
  wsdissect live -D`,
		RunE: func(c *cobra.Command, args []string) error { return a.runLive(&lf, args) },
	}
	f := c.Flags()
	f.StringVarP(&lf.iface, "interface", "i", "", "interface to capture on (\"any\" for all; -D lists them; default: the first up, non-loopback one, as tcpdump)")
	f.BoolVarP(&lf.list, "list-interfaces", "D", false, "list the interfaces that can be captured on, and exit")
	f.IntVarP(&lf.snaplen, "snaplen", "s", capture.DefaultSnaplen, "bytes kept of each packet")
	f.BoolVarP(&lf.noPromisc, "no-promiscuous-mode", "p", false, "do not put the interface in promiscuous mode")
	f.IntVarP(&lf.bufferKiB, "buffer-size", "B", 0, "kernel capture buffer in KiB (default: 32768, or sized for the MTU in immediate mode)")
	f.BoolVar(&lf.immediate, "immediate-mode", false, "deliver each packet at once even when standard output is not a terminal")
	f.IntVarP(&lf.count, "count", "c", 0, "stop after this many frame (or, with --messages, message) records have been shown")
	f.StringArrayVarP(&lf.autostop, "autostop", "a", nil, "stop condition, as tshark: duration:SECONDS")
	f.DurationVar(&lf.duration, "duration", 0, "stop after this long (e.g. 30s, 5m)")
	f.StringVarP(&lf.write, "write", "w", "", "also save the raw packets to this pcap file while decoding")
	a.registerOutputFlags(c)
	return c
}

// runLive captures until a stop condition or a signal.
func (a *app) runLive(lf *liveFlags, args []string) error {
	if lf.list {
		return a.listInterfaces()
	}
	if lf.iface == "" {
		ifs, err := capture.Interfaces()
		if err != nil {
			return usageErr(err)
		}
		if lf.iface, err = defaultInterface(ifs); err != nil {
			return usageErr(err)
		}
	}
	dur := lf.duration
	for _, cond := range lf.autostop {
		k, v, ok := strings.Cut(cond, ":")
		secs, err := strconv.ParseFloat(v, 64)
		if !ok || k != "duration" || err != nil || secs <= 0 {
			return usageErr(fmt.Errorf("-a %q: only duration:SECONDS is supported", cond))
		}
		dur = time.Duration(secs * float64(time.Second))
	}
	if lf.count < 0 || lf.snaplen < 0 || lf.bufferKiB < 0 {
		return usageErr(errors.New("-c, -s and -B take positive numbers"))
	}
	opts, err := a.out.engineOptions()
	if err != nil {
		return err
	}
	if opts.Dissect.KeyLog, err = a.keys.follow(a.stderr); err != nil {
		return err
	}
	defer applyMemoryLimit(opts.Memory)()
	flt, err := a.out.compileFilter(a.registry())
	if err != nil {
		return err
	}
	if a.out.decodeAs != subproto.None && (!a.out.quiet || flt != nil) {
		// Socket.IO's long-polling exchanges become http records that
		// the application decoders read.
		opts.Dissect.KeepHTTP = attach.KeepHTTP
	}
	ro, err := a.out.renderOptions(a.stdout)
	if err != nil {
		return err
	}
	ro.FlushEach = true
	if a.fieldsOut, err = a.out.parseFieldsOutput(a.registry()); err != nil {
		return err
	}

	cfg := capture.DefaultConfig(lf.iface)
	cfg.Filter = strings.Join(args, " ")
	cfg.Snaplen = lf.snaplen
	cfg.Promisc = !lf.noPromisc
	cfg.BufferSize = lf.bufferKiB
	// A person watching sees each packet at once; a pipe, a file or -q
	// gets packets in blocks, which costs the kernel far less per packet.
	cfg.Immediate = lf.immediate || isTerminal(a.stdout) && !a.out.quiet
	h, err := capture.Open(cfg)
	if err != nil {
		return usageErr(err)
	}
	defer h.Close()
	if w := h.Warning(); w != "" {
		fmt.Fprintf(a.stderr, "wsdissect: %s\n", w)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dur)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var saver packetWriter
	var saveFile *os.File
	var saveBuf *bufio.Writer
	if lf.write != "" {
		saveFile, err = os.Create(lf.write)
		if err != nil {
			return usageErr(fmt.Errorf("-w: %w", err))
		}
		defer saveFile.Close()
		saveBuf = bufio.NewWriter(saveFile)
		saver, err = newPacketWriter(lf.write, saveBuf, h.LinkType(), cfg.Snaplen)
		if err != nil {
			return usageErr(fmt.Errorf("-w: %w", err))
		}
	}

	out := &outWriter{w: a.stdout}
	if a.fieldsOut != nil && a.fieldsOut.header && !a.out.quiet {
		if _, err := io.WriteString(out, strings.Join(a.fieldsOut.names, a.fieldsOut.separator)+"\n"); err != nil {
			return outputError(err)
		}
	}
	// The same packet loop as read's, fed by the capture: one worker, so
	// that records come out as their packets arrive, written after every
	// packet and whenever the interface is quiet.
	var engOut io.Writer = out
	dw := a.deltaOutput(&ro, out)
	if dw != nil {
		engOut = dw
	}
	var p *pipeline
	newSink := func(w io.Writer) (dissect.Sink, func() error) {
		p = a.newPipeline(w, ro, flt)
		sink := p.sink
		if lf.count > 0 {
			sink = &countSink{next: sink, left: lf.count, done: cancel, shown: p.shownCounter()}
		}
		return p.withMemory(sink), p.flush
	}
	opts.Epoch = func(t time.Time) { p.epoch(t) }
	opts.Workers, opts.FlushEach = 1, true
	what := "capturing on " + lf.iface
	if cfg.Filter != "" {
		what += " (" + cfg.Filter + ")"
	}
	fmt.Fprintf(a.stderr, "wsdissect: %s with %s, link type %d; Ctrl-C to stop\n", what, h.Backend(), h.LinkType())

	es, runErr := engine.RunParallel(&liveSource{ctx: ctx, h: h, saver: saver, path: lf.write}, newSink, opts, engOut)
	if dw != nil {
		if err := dw.Flush(); err != nil && runErr == nil {
			runErr = err
		}
	}
	st, stErr := h.Stats()
	if saver != nil {
		if err := closeSaved(saver, saveBuf, saveFile); err != nil && runErr == nil {
			runErr = &saveError{fmt.Errorf("-w %s: %w", lf.write, err)}
		}
	}
	p.stats.AddInput(a.inputOf(es, 0))
	if flt != nil && a.out.quiet {
		p.stats.SetFilter(a.out.filter)
	}
	if a.out.quiet && runErr == nil {
		if err := a.writeStats(a.stdout, p.stats); err != nil {
			runErr = err
		}
	}
	// The same statistics as -q prints, in one line, after the capture's own.
	line := fmt.Sprintf("%d packets captured", es.Packets)
	if stErr == nil {
		line += fmt.Sprintf(", %d received by filter, %d dropped by kernel", st.Received, st.Dropped)
		if st.IfDropped > 0 {
			line += fmt.Sprintf(", %d dropped by interface", st.IfDropped)
		}
	}
	line += "; " + p.stats.Summary()
	fmt.Fprintln(a.stderr, line)
	if es.UnsupportedLink > 0 {
		fmt.Fprintf(a.stderr, "wsdissect: skipped %d packets of link type %d, which wsdissect cannot decode\n",
			es.UnsupportedLink, es.UnsupportedLinkType)
	}
	if runErr != nil {
		if out.err != nil {
			return outputError(out.err)
		}
		var se *saveError
		if errors.As(runErr, &se) {
			return &exitError{code: ExitOutput, err: runErr}
		}
		return &exitError{code: ExitDamaged, err: runErr}
	}
	return nil
}

// saveError is a failure writing the -w file.
type saveError struct{ error }

func (e *saveError) Unwrap() error { return e.error }

// closeSaved flushes and closes a -w file, returning the first error.
func closeSaved(saver packetWriter, buf *bufio.Writer, f *os.File) error {
	err := saver.Flush()
	if ferr := buf.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// listInterfaces prints the capture devices, like tcpdump -D.
func (a *app) listInterfaces() error {
	ifs, err := capture.Interfaces()
	if err != nil {
		return usageErr(err)
	}
	w := bufio.NewWriter(a.stdout)
	defer w.Flush()
	for i, it := range ifs {
		var flags []string
		if it.Up {
			flags = append(flags, "Up")
		}
		if it.Running {
			flags = append(flags, "Running")
		}
		if it.Loopback {
			flags = append(flags, "Loopback")
		}
		fmt.Fprintf(w, "%d.%s", i+1, it.Name)
		if it.Description != "" {
			fmt.Fprintf(w, " (%s)", it.Description)
		}
		if len(flags) > 0 {
			fmt.Fprintf(w, " [%s]", strings.Join(flags, ", "))
		}
		for _, ad := range it.Addresses {
			fmt.Fprintf(w, " %s", ad)
		}
		fmt.Fprintln(w)
	}
	return nil
}

// countSink stops the capture once -c records have been shown.
type countSink struct {
	next  dissect.Sink
	left  int
	done  context.CancelFunc
	shown func() uint64
}

// Emit implements dissect.Sink.
func (c *countSink) Emit(r *dissect.Record) error {
	if c.left <= 0 {
		return nil
	}
	before := c.shown()
	err := c.next.Emit(r)
	if c.shown() > before {
		c.left--
		if c.left == 0 {
			c.done()
		}
	}
	return err
}

// liveSource is a live capture as the engine's packet source: the end of
// the capture (Ctrl-C, -a duration, -c) is the end of input, and every
// packet is saved first with -w.
type liveSource struct {
	ctx   context.Context
	h     *capture.Handle
	saver packetWriter
	path  string
}

// OnStall implements engine.Staller: fn runs whenever the interface has
// been quiet for a poll period.
func (l *liveSource) OnStall(fn func()) { l.h.OnIdle(fn) }

// Next implements engine.PacketSource.
func (l *liveSource) Next(p *source.Packet) error {
	if err := l.h.Next(l.ctx, p); err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return io.EOF
		}
		return err
	}
	if l.saver != nil {
		if err := l.saver.Write(p); err != nil {
			return &saveError{fmt.Errorf("-w %s: %w", l.path, err)}
		}
	}
	return nil
}
