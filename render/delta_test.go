package render

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestDeltaWriter writes lines with delta marks, split into two writes at
// every position, and checks the time columns: 0 first, then the time since
// the line written before (negative when the clock went back), padded like
// the other formats; bytes around the marks pass unchanged.
func TestDeltaWriter(t *testing.T) {
	base := time.Unix(1_700_000_000, 500)
	times := []time.Time{base, base.Add(1500 * time.Millisecond), base.Add(time.Second), base.Add(10001 * time.Second)}
	var in []byte
	for i, tm := range times {
		in = append(in, "  7  "...)
		in = appendDeltaMark(in, tm)
		in = append(in, "  line"...)
		in = append(in, byte('a'+i), '\n')
	}
	want := "  7    0.000000  linea\n" +
		"  7    1.500000  lineb\n" +
		"  7   -0.500000  linec\n" +
		"  7  10000.000000  lined\n"
	for cut := 0; cut <= len(in); cut++ {
		var out bytes.Buffer
		d := NewDeltaWriter(&out)
		for _, p := range [][]byte{in[:cut], in[cut:]} {
			if n, err := d.Write(p); n != len(p) || err != nil {
				t.Fatalf("cut %d: Write = %d, %v", cut, n, err)
			}
		}
		if err := d.Flush(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("cut %d:\n%s\nwant\n%s", cut, out.String(), want)
		}
	}
	// A mark cut short by the end is written as it is by Flush.
	var out bytes.Buffer
	d := NewDeltaWriter(&out)
	d.Write(append([]byte("x"), appendDeltaMark(nil, base)[:5]...))
	if err := d.Flush(); err != nil || out.Len() != 6 {
		t.Errorf("after Flush: %q, %v", out.String(), err)
	}
}

// TestDeltaMarksSummary renders records with DeltaMarks through a
// DeltaWriter and checks the lines equal those rendered in order without.
func TestDeltaMarksSummary(t *testing.T) {
	fx := fixtures()
	plain, err := renderAll(Options{Time: TimeDelta}, fx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	d := NewDeltaWriter(&out)
	r := New(d, Options{Time: TimeDelta, DeltaMarks: true})
	r.SetEpoch(epoch)
	for i := range fx {
		if err := r.Emit(&fx[i].rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := d.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), plain) {
		t.Errorf("with marks:\n%s\nwithout:\n%s", out.String(), plain)
	}
	if strings.Count(string(plain), "\n") < 5 {
		t.Fatalf("only %d lines", strings.Count(string(plain), "\n"))
	}
}
