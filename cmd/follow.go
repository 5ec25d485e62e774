package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/internal/conv"
	"github.com/wsdissect/wsdissect/subproto"
	"github.com/wsdissect/wsdissect/subproto/attach"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
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
conns': N, or N/M for the WebSocket on HTTP/2 stream M of TCP stream N; N
alone names an HTTP/2 connection's only session) or with -Y FILTER (the
first connection with a matching record).
Without either, the connections are listed: on a terminal you are asked for
a stream number; otherwise it is a usage error.

Formats: text (default), hex (every payload as a hex dump), json (one object
per message) and raw (the payload bytes only, for piping: choose the
direction with -d c2s or -d s2c).`,
		Example: `  wsdissect follow capture.pcap 3
  wsdissect follow h2.pcap 0/5
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
	id, err := a.chooseStream(file, args[1:])
	if err != nil {
		return err
	}
	col, err := a.followPass(file, id, topts)
	if err != nil {
		return err
	}
	s := col.Session(id)
	if s == nil && id.H2Stream == 0 {
		// A TCP stream number alone names the session of an HTTP/2
		// connection that has only one: read the capture again for it.
		var ss []*conv.Session
		for _, s := range col.Sessions() {
			if s.Stream == id.Stream {
				ss = append(ss, s)
			}
		}
		switch len(ss) {
		case 0:
		case 1:
			id = ss[0].ID()
			if col, err = a.followPass(file, id, topts); err != nil {
				return err
			}
			s = col.Session(id)
		default:
			return usageErr(fmt.Errorf("stream %d is an HTTP/2 connection with %d WebSocket sessions; name one as %d/M (M its HTTP/2 stream):\n%s",
				id.Stream, len(ss), id.Stream, connsTable(ss)))
		}
	}
	switch {
	case s == nil:
		return usageErr(fmt.Errorf("%s has no WebSocket connection with stream number %s (see 'wsdissect conns %s')", file, id, file))
	case s.Msgs() == 0:
		fmt.Fprintf(a.stderr, "wsdissect: stream %s has no WebSocket messages%s\n", id, noMessagesWhy(s))
	}
	return nil
}

// noMessagesWhy says why session s, which has no messages, has none, when
// the capture tells: a TLS connection not decrypted (or decrypted and not
// WebSocket), an upgrade refused.
func noMessagesWhy(s *conv.Session) string {
	switch {
	case s.NotDecrypted():
		why := ": it is a TLS connection that was not decrypted (" + tlsdecrypt.ReasonKind(s.TLS.Reason) + ")"
		if s.TLS.Reason == tlsdecrypt.NoKeyLog {
			why += "; give its key log with --keylog"
		}
		return why
	case s.TLSOnly():
		return ": it is a TLS connection without a WebSocket handshake inside"
	case s.Status != 0 && !s.Accepted():
		return fmt.Sprintf(": the upgrade was refused (%d)", s.Status)
	}
	return ""
}

// connsTable returns the conns table of ss, to list them in a message.
func connsTable(ss []*conv.Session) string {
	var b strings.Builder
	_ = conv.WriteConnsTable(&b, ss, false) // a strings.Builder does not fail
	return b.String()
}

// followPass reads the capture once, writing the transcript of session id.
func (a *app) followPass(file string, id conv.ID, topts conv.TranscriptOptions) (*conv.Collector, error) {
	tr := conv.NewTranscript(a.stdout, topts)
	col, err := a.collect([]string{file}, conv.Options{OnMessage: func(s *conv.Session, m *conv.Message) error {
		if s.ID() != id {
			return nil
		}
		return tr.Message(s, m)
	}, Payloads: func(s conv.ID) bool { return s == id }})
	if ferr := tr.Flush(); ferr != nil && err == nil {
		if isBrokenPipe(ferr) {
			return col, &exitError{code: ExitOK}
		}
		err = &exitError{code: ExitUsage, err: ferr}
	}
	return col, err
}

// chooseStream returns the session to follow: the argument (N, or N/M for
// HTTP/2 stream M of TCP stream N), the first session matching -Y, or one
// picked from the list of sessions.
func (a *app) chooseStream(file string, args []string) (conv.ID, error) {
	if len(args) == 1 {
		id, err := conv.ParseID(args[0])
		if err != nil {
			return id, usageErr(fmt.Errorf("stream %w (see 'wsdissect conns %s')", err, file))
		}
		return id, nil
	}
	fl, err := a.out.compileFilter(a.registry())
	if err != nil {
		return conv.ID{}, err
	}
	if fl != nil {
		return a.firstMatch(file, fl)
	}
	return a.pickStream(file)
}

// pickStream returns the only session of the capture, or on a terminal
// the one the user picks from the list.
func (a *app) pickStream(file string) (conv.ID, error) {
	col, err := a.collect([]string{file}, conv.Options{})
	if err != nil {
		return conv.ID{}, err
	}
	ss := col.Sessions()
	switch {
	case len(ss) == 0:
		return conv.ID{}, usageErr(fmt.Errorf("%s has no WebSocket connections", file))
	case len(ss) == 1:
		return ss[0].ID(), nil
	}
	table := connsTable(ss)
	if !isTerminal(a.stdout) || !readerIsTerminal(a.stdin) {
		return conv.ID{}, usageErr(fmt.Errorf("follow needs a stream number (or -Y FILTER); %s has %d connections:\n%s", file, len(ss), table))
	}
	fmt.Fprint(a.stdout, table)
	fmt.Fprint(a.stdout, "Stream to follow: ")
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return conv.ID{}, usageErr(err)
	}
	id, err := conv.ParseID(strings.TrimSpace(line))
	if err != nil {
		return id, usageErr(err)
	}
	return id, nil
}

// firstMatch returns the session of the first record matching the filter.
func (a *app) firstMatch(file string, fl *filter.Filter) (conv.ID, error) {
	found := &firstStream{}
	opts, err := a.out.engineOptions()
	if err != nil {
		return conv.ID{}, err
	}
	var sink dissect.Sink = filter.NewSink(fl, found)
	if a.out.decodeAs != subproto.None {
		// application fields (socketio.sid, mqtt.topic, ...) need the
		// decoders
		sink = attach.NewSink(sink, a.out.decodeAs)
	}
	if err := a.runSink(file, opts, sink); err != nil {
		return conv.ID{}, err
	}
	if !found.ok {
		return conv.ID{}, usageErr(fmt.Errorf("no record in %s matches the filter", file))
	}
	return found.id, nil
}

// firstStream remembers the session of the first record it is given.
type firstStream struct {
	ok bool
	id conv.ID
}

// Emit implements dissect.Sink.
func (f *firstStream) Emit(r *dissect.Record) error {
	if !f.ok && r.Conn != nil {
		f.ok, f.id = true, conv.IDOf(r.Conn)
	}
	return nil
}

// readerIsTerminal reports whether r is a terminal.
func readerIsTerminal(r io.Reader) bool {
	w, ok := r.(io.Writer)
	return ok && isTerminal(w)
}
