package cmd

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/field"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/render"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/attach"
)

// outputFlags are the flags shared by read and live, some of which other
// commands take too (see selectionFlags and decodeFlags).
type outputFlags struct {
	filter   string
	tree     bool
	hex      bool
	json     bool
	messages bool
	quiet    bool
	color    string
	wsPorts  []uint
	timeFmt  string

	outFormat string   // -T
	fields    []string // -e
	fieldOpts []string // -E

	maxMessage  string
	maxInflate  string
	maxSearch   string
	maxHTTP     string
	maxConnBuf  string
	maxTotalBuf string
	maxConns    int
	memory      string
	idleTimeout time.Duration
	noMidstream bool
	decodeAs    string
	numeric     bool // -n: accepted; no names are resolved anyway
}

// Which commands take which of the shared flags. A command registers only
// the flags it uses, so that one given to a command that would ignore it
// (fields --json, completion bash -V) is a usage error; each is registered
// on the command itself, and the top level, which reads when given files,
// has read's, so the documented "wsdissect -Y EXPR read FILE" still parses
// (cobra hands the flags before the subcommand's name to the subcommand).
var (
	// selectionFlags select and format the records shown: read and live.
	selectionFlags = []string{"filter", "tree", "hex", "json", "messages", "quiet", "color",
		"output-format", "field", "field-option", "time-format", "numeric", "decode-as"}
	// decodeFlags bound and steer decoding: every command that decodes a
	// capture.
	decodeFlags = []string{"ws-port", "max-message", "max-decompressed", "max-search",
		"max-http-header", "max-conn-buffer", "max-total-buffer", "memory", "max-conns",
		"idle-timeout", "no-midstream"}
)

// register adds the named shared flags, bound to o, to fs.
func (o *outputFlags) register(fs *pflag.FlagSet, names ...string) {
	all := o.flagSet()
	for _, n := range names {
		f := all.Lookup(n)
		if f == nil {
			panic("cmd: no shared flag --" + n) // a typo in a list above
		}
		fs.AddFlag(f)
	}
}

// flagSet returns every shared flag, bound to o.
func (o *outputFlags) flagSet() *pflag.FlagSet {
	pf := pflag.NewFlagSet("shared", pflag.ContinueOnError)
	pf.StringVarP(&o.filter, "filter", "Y", "", "show only records matching this filter expression (see 'wsdissect fields')")
	pf.BoolVarP(&o.tree, "tree", "V", false, "show a Wireshark-like protocol tree for each record")
	pf.BoolVarP(&o.hex, "hex", "x", false, "add a hex and ASCII dump of each payload (unmasked, inflated)")
	pf.BoolVar(&o.json, "json", false, "write NDJSON: one JSON object per record and line")
	pf.BoolVar(&o.messages, "messages", false, "one record per message instead of per frame (control frames count as messages)")
	pf.BoolVarP(&o.quiet, "quiet", "q", false, "decode everything but print only the end-of-run summary")
	pf.StringVar(&o.color, "color", "auto", "colour output: auto, always or never (NO_COLOR is honoured)")
	pf.StringVarP(&o.outFormat, "output-format", "T", "", "\"fields\": print the values of the -e fields, one line per record (as tshark -T fields)")
	pf.StringArrayVarP(&o.fields, "field", "e", nil, "a field to print with -T fields (repeatable; names as in -Y)")
	pf.StringArrayVarP(&o.fieldOpts, "field-option", "E", nil, "-T fields option: separator=/t|/s|C, aggregator=C, header=y|n, quote=d|s|n")
	pf.StringVarP(&o.timeFmt, "time-format", "t", "r", "time column of summary lines, as tshark -t: r (relative), a, ad (local), u, ud (UTC), e (epoch), d (delta)")
	pf.BoolVarP(&o.numeric, "numeric", "n", false, "no name resolution (accepted for tshark/tcpdump habits: addresses are never resolved)")
	pf.UintSliceVar(&o.wsPorts, "ws-port", nil, "treat connections on this TCP port as WebSocket even without a handshake (repeatable)")
	pf.StringVar(&o.maxMessage, "max-message", "64MiB", "retain at most this many payload bytes per message (longer messages are still decoded to their end)")
	pf.StringVar(&o.maxInflate, "max-decompressed", "1GiB", "stop inflating a compressed message beyond this many bytes (decompression-bomb guard)")
	pf.StringVar(&o.maxSearch, "max-search", "256KiB", "bytes buffered per direction while looking for a frame boundary")
	pf.StringVar(&o.maxHTTP, "max-http-header", "64KiB", "largest HTTP header block accepted")
	pf.StringVar(&o.maxConnBuf, "max-conn-buffer", "4MiB", "out-of-order bytes buffered per TCP connection")
	pf.StringVar(&o.maxTotalBuf, "max-total-buffer", "256MiB", "out-of-order bytes buffered in total")
	pf.StringVar(&o.memory, "memory", "1GiB", "memory budget for everything decoding holds (buffers, connections, queued output); the per-item limits apply inside it")
	pf.IntVar(&o.maxConns, "max-conns", 1<<20, "TCP connections tracked at once (the least recently active is dropped)")
	pf.DurationVar(&o.idleTimeout, "idle-timeout", 2*time.Minute, "keep data-less connections and closed connections' tombstones this long (capture time); connections with data never expire")
	pf.BoolVar(&o.noMidstream, "no-midstream", false, "do not look for WebSocket frames in connections whose handshake is missing")
	pf.StringVar(&o.decodeAs, "decode-as", "", "decode the messages of every connection as this application protocol ("+strings.Join(subproto.Protocols(), ", ")+"), or none; default: by subprotocol, URL or content")
	return pf
}

// parseSize parses sizes such as 65536, 64KiB, 64k, 16MiB, 1G.
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q (examples: 65536, 64KiB, 16MiB)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// engineOptions turns the flags into engine options.
func (o *outputFlags) engineOptions() (engine.Options, error) {
	var opts engine.Options
	if err := subproto.CheckForce(o.decodeAs); err != nil {
		return opts, usageErr(err)
	}
	sizes := []struct {
		flag string
		val  string
		dst  *int64
	}{
		{"--max-message", o.maxMessage, &opts.Dissect.MaxMessage},
		{"--max-decompressed", o.maxInflate, &opts.Dissect.MaxDecompressed},
		{"--max-conn-buffer", o.maxConnBuf, &opts.Reassembly.MaxBufferedPerConn},
		{"--max-total-buffer", o.maxTotalBuf, &opts.Reassembly.MaxBufferedTotal},
		{"--memory", o.memory, &opts.Memory},
	}
	for _, s := range sizes {
		n, err := parseSize(s.val)
		if err != nil {
			return opts, usageErr(fmt.Errorf("%s: %w", s.flag, err))
		}
		if n == 0 {
			return opts, usageErr(fmt.Errorf("%s must be more than 0", s.flag))
		}
		*s.dst = n
	}
	for _, s := range []struct {
		flag string
		val  string
		dst  *int
	}{{"--max-search", o.maxSearch, &opts.Dissect.MaxSearch}, {"--max-http-header", o.maxHTTP, &opts.Dissect.MaxHTTPHeader}} {
		n, err := parseSize(s.val)
		if err != nil || n == 0 || n > 1<<30 {
			return opts, usageErr(fmt.Errorf("%s: invalid size %q (1 byte to 1GiB)", s.flag, s.val))
		}
		*s.dst = int(n)
	}
	if opts.Memory < minMemory {
		return opts, usageErr(fmt.Errorf("--memory must be at least 1MiB"))
	}
	if o.maxConns <= 0 {
		return opts, usageErr(fmt.Errorf("--max-conns must be more than 0"))
	}
	if o.idleTimeout <= 0 {
		return opts, usageErr(fmt.Errorf("--idle-timeout must be more than 0"))
	}
	opts.Reassembly.MaxConns = o.maxConns
	opts.Reassembly.IdleTimeout = o.idleTimeout
	opts.Dissect.Messages = o.messages
	// A record is formatted in memory whole: a hex dump or tree holds its
	// payload about five times over (and a growing buffer briefly more),
	// JSON up to a few times; the budget counts retained payload so.
	switch {
	case o.quiet:
	case o.hex || o.tree:
		opts.Dissect.PayloadCost = 8
	case o.json:
		opts.Dissect.PayloadCost = 4
	}
	// -q without a filter shows no record: payloads need not be kept.
	opts.Dissect.DiscardPayload = o.quiet && o.filter == ""
	// With -q the records are counted, never written (the statistics are
	// printed after the run).
	opts.NoOutput = o.quiet
	// Summary lines without a filter show a payload's first characters
	// and its length: the rest need not be kept (application protocols
	// still get whole messages: attach.Sink is the PreviewPolicy).
	if o.summaryOnly() {
		opts.Dissect.PreviewBytes = render.SummaryPayloadBytes
	}
	opts.Dissect.NoMidstream = o.noMidstream
	for _, p := range o.wsPorts {
		if p == 0 || p > 65535 {
			return opts, usageErr(fmt.Errorf("--ws-port %d is not a TCP port", p))
		}
		opts.Dissect.WSPorts = append(opts.Dissect.WSPorts, uint16(p))
	}
	return opts, nil
}

// summaryOnly reports whether the records are shown as summary lines and
// nothing else reads their payloads (no filter, no -T fields).
func (o *outputFlags) summaryOnly() bool {
	return !o.quiet && !o.tree && !o.hex && !o.json && o.filter == "" && o.outFormat == ""
}

// colorOn decides whether to colour output written to w.
func (o *outputFlags) colorOn(w io.Writer) (bool, error) {
	switch o.color {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
			return false, nil
		}
		return isTerminal(w), nil
	}
	return false, usageErr(fmt.Errorf("--color must be auto, always or never, not %q", o.color))
}

// compileFilter compiles --filter against reg; a bad expression is a usage
// error.
func (o *outputFlags) compileFilter(reg *field.Registry) (*filter.Filter, error) {
	if o.filter == "" {
		return nil, nil
	}
	f, err := filter.CompileWith(o.filter, reg)
	if err != nil {
		return nil, usageErr(fmt.Errorf("invalid filter:\n%w", err))
	}
	return f, nil
}

// renderOptions turns the flags into renderer options.
func (o *outputFlags) renderOptions(w io.Writer) (render.Options, error) {
	on, err := o.colorOn(w)
	if err != nil {
		return render.Options{}, err
	}
	if o.json && o.tree {
		return render.Options{}, usageErr(fmt.Errorf("--json and -V/--tree cannot be combined"))
	}
	tf, err := render.ParseTimeFormat(o.timeFmt)
	if err != nil {
		return render.Options{}, usageErr(fmt.Errorf("-t: %w", err))
	}
	ro := render.Options{Color: on, Hex: o.hex, Messages: o.messages, Time: tf}
	switch {
	case o.json:
		ro.Format = render.FormatJSON
	case o.tree:
		ro.Format = render.FormatTree
	}
	return ro, nil
}

// pipeline is the sink chain of one run: filter → renderer, plus statistics.
type pipeline struct {
	filter   *filter.Filter // the shown records' filter (nil: none)
	sink     dissect.Sink
	renderer *render.Renderer
	fields   *fieldsSink  // -T fields, instead of the renderer
	marks    *packetMarks // read -w with a filter: the packets shown
	// randoms are the TLS sessions of the records shown (read -w
	// --inject-secrets).
	randoms tlsRandoms
	shown   *counter
	stats   *render.Stats
	attach  *attach.Sink // the application-protocol decoders (nil: none)
}

// memorySink is a pipeline's outer sink: it hands the engine's memory
// account on to the pipeline's application-protocol decoders (see
// engine.MemoryUser) and keeps answering for the sink it wraps as a
// dissect.PreviewPolicy.
type memorySink struct {
	dissect.Sink
	user   engine.MemoryUser
	policy dissect.PreviewPolicy // the wrapped sink's, nil when it has none
}

// UseMemory implements engine.MemoryUser.
func (m *memorySink) UseMemory(a *membudget.Account) { m.user.UseMemory(a) }

// WholePayload implements dissect.PreviewPolicy.
func (m *memorySink) WholePayload(cn *dissect.Conn) bool {
	return m.policy == nil || m.policy.WholePayload(cn)
}

// withMemory returns the pipeline's outer sink, sink, wrapped so that its
// decoders get the engine's memory account.
func (p *pipeline) withMemory(sink dissect.Sink) dissect.Sink {
	if p.attach == nil {
		return sink
	}
	m := &memorySink{Sink: sink, user: p.attach}
	m.policy, _ = sink.(dissect.PreviewPolicy)
	return m
}

// counter counts the frame and message records that reach the renderer
// (connection and anomaly records are not counted, as -c counts what tshark
// would count: the frames or messages).
type counter struct {
	next dissect.Sink
	n    uint64
}

// Emit implements dissect.Sink.
func (c *counter) Emit(r *dissect.Record) error {
	if r.Kind == dissect.KindFrame || r.Kind == dissect.KindMessage {
		c.n++
	}
	return c.next.Emit(r)
}

// shownCounter returns a function reporting how many records were shown
// (with -q: how many were decoded).
func (p *pipeline) shownCounter() func() uint64 {
	if p.shown == nil {
		return func() uint64 { t := p.stats.Totals(); return t.Frames + t.Messages }
	}
	return func() uint64 { return p.shown.n }
}

// newPipeline builds the sink chain writing to w.
func (a *app) newPipeline(w io.Writer, ro render.Options, f *filter.Filter) *pipeline {
	// Statistics count every record, or with -q and a filter the records
	// it selects (what would be shown without -q).
	p := &pipeline{stats: render.NewStats(), filter: f}
	p.sink = p.stats
	decode := a.out.decodeAs != subproto.None && (!a.out.quiet || f != nil)
	// split gives each application message its own record, after the
	// statistics (they count WebSocket messages) and before the filter.
	split := func(next dissect.Sink) dissect.Sink {
		if !decode {
			return next
		}
		return attach.NewSplit(next)
	}
	if a.out.quiet && f != nil {
		var next dissect.Sink = p.stats
		if a.readWrite != "" {
			p.marks = &packetMarks{next: next, filter: f}
			next = p.marks
		}
		p.sink = split(filter.NewSink(f, next))
	}
	if !a.out.quiet {
		var out dissect.Sink
		if a.fieldsOut != nil {
			// Checked by parseFieldsOutput, so the names resolve.
			fs, _ := newFieldsSink(w, a.fieldsOut)
			p.fields = fs
			out = fs
		} else {
			p.renderer = render.New(w, ro)
			out = p.renderer
		}
		if a.readWrite != "" && f != nil {
			p.marks = &packetMarks{next: out, filter: f}
			out = p.marks
		}
		p.shown = &counter{next: out}
		var shown dissect.Sink = p.shown
		if f != nil {
			shown = filter.NewSink(f, shown)
		}
		p.sink = render.NewTee(p.stats, split(shown))
	}
	if a.injectSecrets {
		p.randoms = tlsRandoms{}
		if p.marks != nil {
			p.marks.randoms = p.randoms // the records shown
		}
		// (Else every record's, before -c counts them: read.)
	}
	if decode {
		// Application protocols are decoded for what is shown and for a
		// filter (-q -Y 'mqtt.topic == "x"' counts what it selects); plain
		// -q counts WebSocket records only and skips them.
		as := attach.NewSink(p.sink, a.out.decodeAs)
		as.PlainJSON = !a.out.quiet && (a.out.json || a.out.tree) || a.out.decodeAs == subproto.JSON
		p.sink = as
		p.attach = as
	}
	return p
}

// epoch is the engine's Epoch callback.
func (p *pipeline) epoch(t time.Time) {
	p.filter.SetEpoch(t)
	if p.fields != nil {
		p.fields.setEpoch(t)
	}
	if p.renderer != nil {
		p.renderer.SetEpoch(t)
	}
}

// flush flushes the renderer.
func (p *pipeline) flush() error {
	if p.fields != nil {
		return p.fields.flush()
	}
	if p.renderer != nil {
		return p.renderer.Flush()
	}
	return nil
}

// minMemory is the smallest --memory accepted.
const minMemory = 1 << 20

// maxGCHeadroom is the most garbage the collector lets accumulate beyond
// the live heap (see membudget.GCPacer): the lazy percentage main sets
// (400) would otherwise let a live heap of a 64 MiB payload grow to five
// times it.
const maxGCHeadroom = 64 << 20

// applyMemoryLimit makes the Go runtime's soft memory limit the memory
// budget, so that the collector works harder instead of letting garbage
// grow the heap past it, and paces the collector so that the garbage it
// lets accumulate stays within a quarter of the budget and maxGCHeadroom,
// however large the live heap; restore puts the previous limit and
// percentage back.
func applyMemoryLimit(n int64) (restore func()) {
	prev := debug.SetMemoryLimit(n)
	pacer := membudget.StartGCPacer(min(maxGCHeadroom, n/4))
	return func() {
		pacer.Stop()
		debug.SetMemoryLimit(prev)
	}
}
