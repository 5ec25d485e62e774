package engine

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestOrderer drives the orderer with records and steps and checks the
// order of what it writes.
func TestOrderer(t *testing.T) {
	type ev struct {
		rec  string // a record "<name>" of packet pkt, or empty for a step
		pkt  uint64
		ts   int // step: seconds
		wm   uint64
		wmOK bool
	}
	rec := func(name string, pkt uint64) ev { return ev{rec: name, pkt: pkt} }
	step := func(ts int, wm uint64, ok bool) ev { return ev{ts: ts, wm: wm, wmOK: ok} }
	tests := []struct {
		name   string
		memory int64
		events []ev
		want   string // records written, in order, before the final flush
		final  string // after it
	}{
		{
			name:   "no search: in turn",
			events: []ev{rec("a", 1), step(0, 0, false), rec("b", 2), step(0, 0, false)},
			want:   "a b",
		},
		{
			name: "a search holds later packets until it decides",
			events: []ev{
				step(0, 10, true),
				rec("b11", 11), step(0, 10, true),
				rec("b12", 12), step(0, 10, true),
				rec("a10", 10), rec("a13", 13), step(0, 0, false),
			},
			want: "a10 b11 b12 a13",
		},
		{
			name: "output up to the watermark goes out, the rest waits",
			events: []ev{
				step(0, 5, true),
				rec("x7", 7), rec("x5", 5), step(0, 6, true),
				rec("x6", 6), step(0, 7, true),
			},
			want:  "x5 x6 x7",
			final: "",
		},
		{
			name: "equal packets keep their order",
			events: []ev{
				step(0, 1, true),
				rec("p3a", 3), rec("p2", 2), rec("p3b", 3), step(0, 0, false),
			},
			want: "p2 p3a p3b",
		},
		{
			// Held output sorted by packet is not in the order it
			// arrived: what stays held after a release must be moved
			// without one record's bytes overwriting another's (a
			// capture picked up mid-stream had records of other
			// connections printed as pieces of earlier ones).
			name: "a partial release keeps what stays held intact",
			events: []ev{
				step(0, 1, true),
				rec("c9-third", 9), rec("b7-second", 7), rec("z8", 8), rec("a5", 5), step(0, 5, true),
				rec("y6", 6), step(0, 7, true),
				step(0, 0, false),
			},
			want: "a5 y6 b7-second z8 c9-third",
		},
		{
			name: "held too long in capture time: written out of order",
			events: []ev{
				step(0, 1, true),
				rec("b2", 2), step(0, 1, true),
				rec("b3", 3), step(2, 1, true),
				rec("a1", 1), step(2, 0, false),
			},
			want: "b2 b3 a1",
		},
		{
			name:   "too many bytes held: written out of order",
			memory: 1, // the smallest limit, 64 KiB
			events: []ev{
				step(0, 1, true),
				rec(strings.Repeat("b", 40<<10), 2), rec(strings.Repeat("c", 40<<10), 3), rec("a1", 1), step(0, 0, false),
			},
			want: strings.Repeat("b", 40<<10) + " " + strings.Repeat("c", 40<<10) + " a1",
		},
		{
			name:   "the end writes what is still held",
			events: []ev{step(0, 1, true), rec("b2", 2), step(0, 1, true)},
			want:   "",
			final:  "b2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			o := newOrderer(func(b []byte) error { got = append(got, string(b)); return nil }, tt.memory)
			base := time.Unix(1000, 0)
			for _, e := range tt.events {
				var err error
				if e.rec != "" {
					err = o.chunk(e.pkt, []byte(e.rec))
				} else {
					err = o.step(base.Add(time.Duration(e.ts)*time.Second), e.wm, e.wmOK)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("written %q, want %q", s, tt.want)
			}
			got = nil
			if err := o.flush(); err != nil {
				t.Fatal(err)
			}
			if s := strings.Join(got, " "); s != tt.final {
				t.Errorf("at the end %q, want %q", s, tt.final)
			}
		})
	}
}

// TestOrdererPortions checks that a record passed on in portions (a large
// payload formatted in pieces) stays in one piece in the output, held or
// not, and that once its start went out (too much held) the rest follows
// at once.
func TestOrdererPortions(t *testing.T) {
	var got []string
	o := newOrderer(func(b []byte) error { got = append(got, string(b)); return nil }, 0)
	ts := time.Unix(1000, 0)
	step := func(wm uint64, ok bool) {
		if err := o.step(ts, wm, ok); err != nil {
			t.Fatal(err)
		}
	}
	part := func(s string) {
		if err := o.part([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	step(5, true)
	o.begin(7)
	part("x7a")
	part("x7b")
	o.begin(6)
	part("y6")
	o.begin(5)
	part("z5")
	step(0, false)
	if s := strings.Join(got, " "); s != "z5 y6 x7a x7b" {
		t.Errorf("held portions: %q", s)
	}

	got = nil
	o = newOrderer(func(b []byte) error { got = append(got, string(b)); return nil }, 1) // 64 KiB
	step(5, true)
	o.begin(6)
	part("a6")
	o.begin(7)
	part(strings.Repeat("b", 40<<10))
	part(strings.Repeat("c", 40<<10)) // over the limit: all goes out
	part("d")                         // the rest of the record follows at once
	if len(got) != 4 || got[0] != "a6" || got[3] != "d" {
		t.Errorf("after the limit: %d writes, first %.8q, last %.8q", len(got), got[0], got[len(got)-1])
	}
}

// TestOrdererKeepsEveryRecord drives the orderer with random records,
// watermarks and limits: every record must come out exactly once and whole,
// whatever is held and released in between.
func TestOrdererKeepsEveryRecord(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		var got []string
		memory := int64(0)
		if round%2 == 1 {
			memory = 1 // the smallest limit: releases because of size too
		}
		o := newOrderer(func(b []byte) error { got = append(got, string(b)); return nil }, memory)
		base := time.Unix(1000, 0)
		want := map[string]bool{}
		pkt := uint64(1)
		for i := range 300 {
			if rng.IntN(3) == 0 {
				// A step: the watermark somewhere behind the current packet.
				wm := pkt - uint64(rng.IntN(int(min(pkt, 20))))
				if err := o.step(base.Add(time.Duration(i)*time.Millisecond), wm, rng.IntN(4) != 0); err != nil {
					t.Fatal(err)
				}
				pkt += uint64(rng.IntN(3))
				continue
			}
			p := pkt - uint64(rng.IntN(int(min(pkt, 10))))
			rec := fmt.Sprintf("<%d.%d:%s>", round, i, strings.Repeat("x", rng.IntN(3)*rng.IntN(20<<10)))
			want[rec] = true
			if err := o.chunk(p, []byte(rec)); err != nil {
				t.Fatal(err)
			}
		}
		if err := o.flush(); err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			if !want[g] {
				t.Fatalf("round %d: written %.40q…, not a record (or written twice)", round, g)
			}
			delete(want, g)
		}
		if len(want) > 0 {
			t.Fatalf("round %d: %d records never written", round, len(want))
		}
	}
}
