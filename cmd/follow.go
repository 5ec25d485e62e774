package cmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/internal/conv"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/attach"
)

func (a *app) followCmd() *cobra.Command {
	var f convFlags
	c := &cobra.Command{
		Use:   "follow FILE [STREAM]",
		Short: "One connection's messages as a transcript, like Follow Stream",
		Long: `follow shows the messages of one WebSocket connection in time order: an
arrow and colour per direction, the time since the connection started, the
opcode and length, and the payload (text as text, binary as a hex dump).
Name the connection by its stream number (the first column of 'wsdissect
conns') or with -Y FILTER (the first connection with a matching record).
Without either, the connections are listed: on a terminal you are asked for
a stream number; otherwise it is a usage error.

Formats: text (default), hex (every payload as a hex dump), json (one object
per message) and raw (the payload bytes only, for piping: choose the
direction with -d c2s or -d s2c).`,
		Example: `  wsdissect follow capture.pcap 3
  wsdissect follow capture.pcap -Y 'payload contains "login"' --pretty
  wsdissect follow capture.pcap 0 --format raw -d c2s > sent.bin
  wsdissect follow capture.pcap 0 --format json | jq -r .text`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return usageErr(fmt.Errorf("follow needs a capture file and optionally a stream number\nRun 'wsdissect follow --help' for usage"))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error { return a.runFollow(args, &f) },
	}
	c.Flags().StringVar(&f.format, "format", "text", "transcript format: text, hex, raw or json")
	c.Flags().StringVarP(&f.dir, "dir", "d", "", "show one direction only: c2s or s2c (needed with --format raw)")
	c.Flags().BoolVar(&f.pretty, "pretty", false, "indent text messages that are JSON")
	a.out.register(c.Flags(), "filter", "color")
	c.Flags().Lookup("filter").Usage = "follow the first connection with a record matching this filter expression (see 'wsdissect fields')"
	a.out.register(c.Flags(), decodeFlags...)
	a.keys.register(c.Flags())
	return c
}

// runFollow prints one connection's transcript.
func (a *app) runFollow(args []string, f *convFlags) error {
	topts := conv.TranscriptOptions{Format: f.format, Pretty: f.pretty}
	if !slices.Contains(conv.TranscriptFormats, f.format) {
		return usageErr(fmt.Errorf("--format must be one of %s, not %q", strings.Join(conv.TranscriptFormats, ", "), f.format))
	}
	switch f.dir {
	case "":
		if f.format == conv.FormatRaw {
			return usageErr(fmt.Errorf("--format raw needs -d c2s or -d s2c (the bytes one side sent)"))
		}
	case "c2s":
		topts.HasDir, topts.Dir = true, dissect.ClientToServer
	case "s2c":
		topts.HasDir, topts.Dir = true, dissect.ServerToClient
	default:
		return usageErr(fmt.Errorf("-d must be c2s or s2c, not %q", f.dir))
	}
	on, err := a.out.colorOn(a.stdout)
	if err != nil {
		return err
	}
	topts.Color = on && (f.format == conv.FormatText || f.format == conv.FormatHex)
	file := args[0]
	if file == "-" {
		return usageErr(fmt.Errorf("follow reads its capture twice at most; give a file, not -"))
	}
	stream, err := a.chooseStream(file, args[1:])
	if err != nil {
		return err
	}
	tr := conv.NewTranscript(a.stdout, topts)
	col, err := a.collect([]string{file}, conv.Options{OnMessage: func(s *conv.Session, m *conv.Message) error {
		if s.Stream != stream {
			return nil
		}
		return tr.Message(s, m)
	}, Payloads: func(s uint64) bool { return s == stream }})
	if ferr := tr.Flush(); ferr != nil && err == nil {
		if isBrokenPipe(ferr) {
			return &exitError{code: ExitOK}
		}
		err = &exitError{code: ExitUsage, err: ferr}
	}
	if err != nil {
		return err
	}
	switch s := col.Session(stream); {
	case s == nil:
		return usageErr(fmt.Errorf("%s has no WebSocket connection with stream number %d (see 'wsdissect conns %s')", file, stream, file))
	case s.Msgs() == 0:
		fmt.Fprintf(a.stderr, "wsdissect: stream %d has no WebSocket messages\n", stream)
	}
	return nil
}

// chooseStream returns the stream to follow: the argument, the first
// connection matching -Y, or one picked from the list of connections.
func (a *app) chooseStream(file string, args []string) (uint64, error) {
	if len(args) == 1 {
		n, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil {
			return 0, usageErr(fmt.Errorf("stream %q is not a stream number (see 'wsdissect conns %s')", args[0], file))
		}
		return n, nil
	}
	fl, err := a.out.compileFilter(a.registry())
	if err != nil {
		return 0, err
	}
	if fl != nil {
		return a.firstMatch(file, fl)
	}
	col, err := a.collect([]string{file}, conv.Options{})
	if err != nil {
		return 0, err
	}
	ss := col.Sessions()
	switch {
	case len(ss) == 0:
		return 0, usageErr(fmt.Errorf("%s has no WebSocket connections", file))
	case len(ss) == 1:
		return ss[0].Stream, nil
	}
	var table bytes.Buffer
	if err := conv.WriteConnsTable(&table, ss); err != nil {
		return 0, err
	}
	if !isTerminal(a.stdout) || !readerIsTerminal(a.stdin) {
		return 0, usageErr(fmt.Errorf("follow needs a stream number (or -Y FILTER); %s has %d connections:\n%s", file, len(ss), table.String()))
	}
	fmt.Fprint(a.stdout, table.String())
	fmt.Fprint(a.stdout, "Stream to follow: ")
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, usageErr(err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(line), 10, 64)
	if err != nil {
		return 0, usageErr(fmt.Errorf("%q is not a stream number", strings.TrimSpace(line)))
	}
	return n, nil
}

// firstMatch returns the stream of the first record matching the filter.
func (a *app) firstMatch(file string, fl *filter.Filter) (uint64, error) {
	found := &firstStream{}
	opts, err := a.out.engineOptions()
	if err != nil {
		return 0, err
	}
	var sink dissect.Sink = filter.NewSink(fl, found)
	if a.out.decodeAs != subproto.None {
		// application fields (socketio.sid, mqtt.topic, ...) need the
		// decoders
		sink = attach.NewSink(sink, a.out.decodeAs)
	}
	if err := a.runSink(file, opts, sink); err != nil {
		return 0, err
	}
	if !found.ok {
		return 0, usageErr(fmt.Errorf("no record in %s matches the filter", file))
	}
	return found.stream, nil
}

// firstStream remembers the stream of the first record it is given.
type firstStream struct {
	ok     bool
	stream uint64
}

// Emit implements dissect.Sink.
func (f *firstStream) Emit(r *dissect.Record) error {
	if !f.ok && r.Conn != nil {
		f.ok, f.stream = true, r.Conn.Stream
	}
	return nil
}

// readerIsTerminal reports whether r is a terminal.
func readerIsTerminal(r io.Reader) bool {
	w, ok := r.(io.Writer)
	return ok && isTerminal(w)
}
