package cmd

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
	"github.com/wsdissect/wsdissect/render"
)

// fieldsOutput is -T fields: one line of field values per frame (or, with
// --messages, message) record, as tshark -T fields -e ... prints.
type fieldsOutput struct {
	reg        *field.Registry
	names      []string
	separator  string
	aggregator string
	quote      string // "", `"` or "'"
	header     bool
}

// parseFieldsOutput checks -T, -e and -E; nil when -T is not fields.
func (o *outputFlags) parseFieldsOutput(reg *field.Registry) (*fieldsOutput, error) {
	switch o.outFormat {
	case "":
		if len(o.fields) > 0 {
			return nil, usageErr(errors.New("-e needs -T fields"))
		}
		return nil, nil
	case "fields":
	default:
		return nil, usageErr(fmt.Errorf("-T %q: only -T fields is supported (--json gives NDJSON, -V the tree)", o.outFormat))
	}
	if len(o.fields) == 0 {
		return nil, usageErr(errors.New("-T fields needs at least one -e FIELD"))
	}
	if o.json || o.tree {
		return nil, usageErr(errors.New("-T fields cannot be combined with --json or -V"))
	}
	fo := &fieldsOutput{reg: reg, names: o.fields, separator: "\t", aggregator: ","}
	for _, name := range o.fields {
		if _, err := fieldGetter(reg, name, new(uint64)); err != nil {
			return nil, usageErr(fmt.Errorf("-e: %w", err))
		}
	}
	for _, opt := range o.fieldOpts {
		k, v, ok := strings.Cut(opt, "=")
		if !ok {
			return nil, usageErr(fmt.Errorf("-E %q: want NAME=VALUE (separator, aggregator, header, quote)", opt))
		}
		switch k {
		case "separator":
			fo.separator = fieldSeparator(v)
		case "aggregator":
			fo.aggregator = fieldSeparator(v)
		case "header":
			switch v {
			case "y":
				fo.header = true
			case "n":
				fo.header = false
			default:
				return nil, usageErr(fmt.Errorf("-E header=%s: y or n", v))
			}
		case "quote":
			switch v {
			case "d":
				fo.quote = `"`
			case "s":
				fo.quote = "'"
			case "n":
				fo.quote = ""
			default:
				return nil, usageErr(fmt.Errorf("-E quote=%s: d, s or n", v))
			}
		default:
			return nil, usageErr(fmt.Errorf("-E %s: unknown option (separator, aggregator, header, quote)", k))
		}
	}
	return fo, nil
}

// getter returns the values of one field on a record as text, appended to
// dst (none when the field does not apply to the record).
type getter func(dst []string, r *dissect.Record) []string

// fieldGetter resolves a field name or alias of the registry (as -Y takes
// them) to a getter of its values as a filter would write them: numbers in
// decimal, bools 1 or 0, bytes as aa:bb:cc, text as it is, addresses in
// their usual form, directions c2s or s2c, times in seconds (relative ones
// from *epoch, which the first record sets when it is 0). json.PATH fields
// and bare protocol names have no value to print.
func fieldGetter(reg *field.Registry, name string, epoch *uint64) (getter, error) {
	f := reg.Lookup(name)
	if f == nil {
		return nil, fmt.Errorf("unknown field %q (wsdissect fields lists them)", name)
	}
	if f.Type == field.JSON || f.Type == field.Protocol {
		return nil, fmt.Errorf("field %q has no value to print", name)
	}
	var scratch []byte
	if f.Relative {
		return func(dst []string, r *dissect.Record) []string {
			v, ok := f.Get(r, 0, &scratch)
			if !ok {
				return dst
			}
			if *epoch == 0 {
				*epoch = v.U
			}
			v.U -= min(v.U, *epoch)
			return append(dst, string(f.AppendValue(nil, v)))
		}, nil
	}
	return func(dst []string, r *dissect.Record) []string { return f.Values(dst, r, &scratch) }, nil
}

// fieldSeparator reads tshark's separator values: /t, /s or a character.
func fieldSeparator(v string) string {
	switch v {
	case "/t":
		return "\t"
	case "/s":
		return " "
	}
	return v
}

// fieldsSink writes the lines of -T fields.
type fieldsSink struct {
	o       *fieldsOutput
	getters []getter
	w       *bufio.Writer // nil when the writer is unbuffered
	out     io.Writer
	vals    []string
	line    []byte
	// epoch is the first packet's time in nanoseconds, for relative times
	// (frame.time_relative); 0 until the engine gives it or a record does.
	epoch uint64
}

// setEpoch sets the time relative times are measured from.
func (s *fieldsSink) setEpoch(t time.Time) {
	if ns := t.UnixNano(); !t.IsZero() && ns > 0 {
		s.epoch = uint64(ns)
	}
}

// newFieldsSink returns the sink and its flush function; header says whether
// this sink prints the header line (only the first file's first worker).
func newFieldsSink(w io.Writer, o *fieldsOutput) (*fieldsSink, error) {
	s := &fieldsSink{o: o, out: w}
	if _, ok := w.(render.Unbuffered); !ok {
		s.w = bufio.NewWriterSize(w, 64<<10)
		s.out = s.w
	}
	for _, name := range o.names {
		g, err := fieldGetter(s.o.reg, name, &s.epoch)
		if err != nil {
			return nil, err
		}
		s.getters = append(s.getters, g)
	}
	return s, nil
}

// writeHeader writes the field names.
func (s *fieldsSink) writeHeader() error {
	_, err := io.WriteString(s.out, strings.Join(s.o.names, s.o.separator)+"\n")
	return err
}

// Emit implements dissect.Sink.
func (s *fieldsSink) Emit(r *dissect.Record) error {
	if r.Kind != dissect.KindFrame && r.Kind != dissect.KindMessage && r.Kind != dissect.KindHTTP {
		return nil
	}
	b := s.line[:0]
	for i, g := range s.getters {
		if i > 0 {
			b = append(b, s.o.separator...)
		}
		s.vals = g(s.vals[:0], r)
		if len(s.vals) == 0 {
			continue
		}
		b = append(b, s.o.quote...)
		for j, v := range s.vals {
			if j > 0 {
				b = append(b, s.o.aggregator...)
			}
			b = append(b, v...)
		}
		b = append(b, s.o.quote...)
	}
	b = append(b, '\n')
	s.line = b
	_, err := s.out.Write(b)
	return err
}

// flush writes out what is buffered.
func (s *fieldsSink) flush() error {
	if s.w != nil {
		return s.w.Flush()
	}
	return nil
}
