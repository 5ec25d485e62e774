package cmd

import (
	"bytes"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
	"github.com/wsdissect/wsdissect/filter"
	"github.com/wsdissect/wsdissect/render"
)

// toyLayer is a layer that exists only in this test: a decoder of a made-up
// application protocol whose messages carry a "colour" and a count.
type toyLayer struct {
	colour string
	count  uint64
}

func (t *toyLayer) LayerName() string { return "toy" }

func (t *toyLayer) AppendJSON(b []byte) []byte {
	b = append(b, `{"colour":`...)
	b = strconv.AppendQuote(b, t.colour)
	b = append(b, `,"count":`...)
	b = strconv.AppendUint(b, t.count, 10)
	return append(b, '}')
}

func (t *toyLayer) AppendSummary(b []byte) []byte {
	return append(b, "TOY "+t.colour...)
}

func (t *toyLayer) TreeLines(line func(depth int, text string)) {
	line(0, "Colour: "+t.colour)
	line(1, "Count: "+strconv.FormatUint(t.count, 10))
}

// toyMalformed is the toy layer's anomaly.
var toyMalformed = dissect.AnomalyInfo{ID: "toy-malformed", Severity: dissect.SevWarning, RFC: "-", Summary: "a toy message is malformed"}

// toyFields are the toy layer's filter fields.
var toyFields = []field.Field{
	{Name: "toy.colour", Type: field.String, Layer: "toy", Description: "colour of a toy message",
		Get: func(r *dissect.Record, _ int, _ *[]byte) (field.Value, bool) {
			if l, ok := r.FindLayer("toy").(*toyLayer); ok {
				return field.StrValue(l.colour)
			}
			return field.Value{}, false
		}},
	{Name: "toy.count", Type: field.Number, Layer: "toy", Description: "count of a toy message",
		Get: func(r *dissect.Record, _ int, _ *[]byte) (field.Value, bool) {
			if l, ok := r.FindLayer("toy").(*toyLayer); ok {
				return field.NumValue(l.count)
			}
			return field.Value{}, false
		}},
}

// TestToyLayer adds a layer and its fields in this file only and shows them
// in `wsdissect fields`, in the filter, in NDJSON, in the tree and in the
// summary line.
func TestToyLayer(t *testing.T) {
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, extraFields: toyFields}
	root := a.rootCmd()
	root.SetArgs([]string{"fields"})
	if err := root.Execute(); err != nil {
		t.Fatalf("fields: %v (%s)", err, errb.String())
	}
	for _, want := range []string{"toy.colour", "toy.count", "count of a toy message"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("fields output lacks %q", want)
		}
	}
	out.Reset()
	a.extraAnomalies = []dissect.AnomalyInfo{toyMalformed}
	root = a.rootCmd()
	root.SetArgs([]string{"fields", "--anomalies"})
	if err := root.Execute(); err != nil {
		t.Fatalf("fields --anomalies: %v (%s)", err, errb.String())
	}
	if !strings.Contains(out.String(), "toy-malformed") || !strings.Contains(out.String(), "tcp-gap") {
		t.Errorf("fields --anomalies lacks the toy or a built-in anomaly:\n%s", out.String())
	}
	if an := toyMalformed.New(3, "bad toy"); an.Severity != dissect.SevWarning || an.ID != "toy-malformed" || an.Offset != 3 {
		t.Errorf("New built %+v", an)
	}

	conn := &dissect.Conn{Stream: 3, Client: netip.MustParseAddrPort("10.0.0.1:5000"),
		Server: netip.MustParseAddrPort("10.0.0.2:80")}
	msg := &dissect.Message{Dir: dissect.ClientToServer, Opcode: dissect.OpText, Len: 2, Frames: 1, Payload: []byte("hi")}
	rec := &dissect.Record{Kind: dissect.KindMessage, Conn: conn, Packet: 7, Time: time.Unix(1700000000, 0),
		Dir: dissect.ClientToServer, HasDir: true, Message: msg,
		Layers: []dissect.Layer{&toyLayer{colour: "teal", count: 42}}}
	plain := &dissect.Record{Kind: dissect.KindMessage, Conn: conn, Packet: 8, Time: rec.Time,
		Dir: dissect.ClientToServer, HasDir: true, Message: msg}

	for _, tc := range []struct {
		expr       string
		rec, plain bool
	}{
		{`toy.colour == "teal"`, true, false},
		{`toy.count > 40 && toy.colour matches "^te"`, true, false},
		{`toy.count < 40`, false, false},
		{`!toy.colour`, false, true},
		{`toy.colour != "red"`, true, false},
	} {
		f, err := filter.CompileWith(tc.expr, a.registry())
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := f.Match(rec); got != tc.rec {
			t.Errorf("%s on the toy record = %v, want %v", tc.expr, got, tc.rec)
		}
		if got := f.Match(plain); got != tc.plain {
			t.Errorf("%s on a record without the layer = %v, want %v", tc.expr, got, tc.plain)
		}
	}
	if _, err := filter.Compile(`toy.colour == "teal"`); err == nil {
		t.Error("the built-in registry knows the toy field")
	}

	for _, tc := range []struct {
		format render.Format
		want   []string
	}{
		{render.FormatJSON, []string{`"toy":{"colour":"teal","count":42}`}},
		{render.FormatTree, []string{"    toy\n", "        Colour: teal\n", "            Count: 42\n"}},
		{render.FormatSummary, []string{"TOY teal"}},
	} {
		var b bytes.Buffer
		r := render.New(&b, render.Options{Format: tc.format})
		if err := r.Emit(rec); err != nil {
			t.Fatal(err)
		}
		if err := r.Flush(); err != nil {
			t.Fatal(err)
		}
		for _, w := range tc.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("format %v lacks %q:\n%s", tc.format, w, b.String())
			}
		}
	}
}

// TestREADMEListsEveryAnomaly keeps the README's anomaly table in step with
// the anomaly ids of every layer (`wsdissect fields --anomalies`).
func TestREADMEListsEveryAnomaly(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatalf("reading README: %v", err)
	}
	a := &app{}
	for _, an := range a.anomalies().List() {
		row := "| `" + an.ID + "` | " + an.Severity.String() + " | " + an.RFC + " |"
		if !bytes.Contains(b, []byte(row)) {
			t.Errorf("README lacks the row for %s: %q", an.ID, row)
		}
	}
}

// TestRelativeTimeField checks frame.time_relative in -Y and -T fields: the
// same seconds as the summary's time column.
func TestRelativeTimeField(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"read", "../testdata/coder-basic.pcap", "-Y", "frame.time_relative > 0.0085 && frame.time_relative < 0.0095",
		"-T", "fields", "-e", "frame.time_relative", "-e", "frame.number"}
	if code := Execute(args, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if got, want := out.String(), "0.009000000\t10\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestQuietFilterOnApplicationField checks that -q -Y on a subprotocol's
// field counts the records it selects (the application layer is decoded
// for the filter even though -q shows nothing).
func TestQuietFilterOnApplicationField(t *testing.T) {
	var out, errOut bytes.Buffer
	args := []string{"read", "../testdata/subproto/mqtt.pcap", "-q", "--json", "-Y", `mqtt.topic == "sensors/t1"`}
	if code := Execute(args, nil, &out, &errOut); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `"frames":2,`) {
		t.Errorf("want the 2 frames carrying PUBLISH sensors/t1: %s", out.String())
	}
}
