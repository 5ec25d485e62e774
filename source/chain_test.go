package source

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// TestChain checks that a chain numbers packets across files, reports a
// damaged file at the end after reading the files behind it, and reports
// files that overlap in time.
func TestChain(t *testing.T) {
	pkts := testPkts(9)
	dir := t.TempDir()
	a := filepath.Join(dir, "a.pcap")
	b := filepath.Join(dir, "b.pcap")
	c := filepath.Join(dir, "c.pcap")
	os.WriteFile(a, pcapBytes(t, false, layers.LinkTypeEthernet, pkts[:3]), 0o644)
	full := pcapBytes(t, false, layers.LinkTypeEthernet, pkts[3:6])
	os.WriteFile(b, full[:len(full)-5], 0o644) // the last packet is cut short
	os.WriteFile(c, pcapBytes(t, false, layers.LinkTypeEthernet, pkts[6:]), 0o644)

	ch := NewChain([]string{a, b, c}, nil)
	var overlaps int
	ch.Overlap = func(prev, name string) { overlaps++ }
	var nums []uint64
	var p Packet
	var err error
	for range 20 {
		if err = ch.Next(&p); err != nil {
			break
		}
		nums = append(nums, p.Number)
		if want := pkts[min(len(nums)-1+btoi(len(nums) > 5), 8)].ts; !p.Time.Equal(want) {
			t.Errorf("packet %d: time %v, want %v", p.Number, p.Time, want)
		}
	}
	if !errors.Is(err, ErrDamaged) {
		t.Errorf("end: %v, want the damage of b.pcap", err)
	}
	if want := []uint64{1, 2, 3, 4, 5, 6, 7, 8}; !slices.Equal(nums, want) {
		t.Errorf("packet numbers %v, want %v", nums, want)
	}
	if overlaps != 0 {
		t.Errorf("%d overlaps reported for files in order", overlaps)
	}
	if ch.Size() <= 0 || ch.Pos() != ch.Size() {
		t.Errorf("size %d, pos %d", ch.Size(), ch.Pos())
	}
	ch.Close()

	ch = NewChain([]string{c, a}, nil)
	ch.Overlap = func(prev, name string) { overlaps++ }
	for range 20 {
		if err := ch.Next(&p); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Error(err)
			}
			break
		}
	}
	if overlaps != 1 {
		t.Errorf("%d overlaps reported, want 1", overlaps)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestRotated checks the ordering by first packet time, ties and directory
// and glob expansion.
func TestRotated(t *testing.T) {
	pkts := testPkts(6)
	dir := t.TempDir()
	late := filepath.Join(dir, "a-late.pcap")
	early := filepath.Join(dir, "b-early.pcap")
	os.WriteFile(late, pcapBytes(t, false, layers.LinkTypeEthernet, pkts[3:]), 0o644)
	os.WriteFile(early, pcapBytes(t, false, layers.LinkTypeEthernet, pkts[:3]), 0o644)
	for _, in := range [][]string{{dir}, {filepath.Join(dir, "*.pcap")}, {late, early}} {
		files, err := ExpandInputs(in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := Rotated(files)
		if !ok || !slices.Equal(got, []string{early, late}) {
			t.Errorf("%v: %v %v, want [early late] true", in, got, ok)
		}
	}
	same := filepath.Join(dir, "c-same.pcap")
	os.WriteFile(same, pcapBytes(t, false, layers.LinkTypeEthernet, pkts[:2]), 0o644)
	if _, ok := Rotated([]string{early, same}); ok {
		t.Error("two files starting at the same time taken for a rotated capture")
	}
	if _, ok := Rotated([]string{early, "-"}); ok {
		t.Error("standard input taken for part of a rotated capture")
	}
	if _, err := ExpandInputs([]string{filepath.Join(dir, "*.nothing")}); err == nil {
		t.Error("a glob matching nothing gave no error")
	}
}
