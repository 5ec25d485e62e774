// Command shape describes a benchmark capture by the traffic it carries:
// connections, frames and the mean and median frame payload length, the
// numbers bench/compare.sh prints beside each capture.
//
//	go run ./bench/shape FILE
package main

import (
	"fmt"
	"os"
	"slices"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
)

// lengths collects the payload length of every frame.
type lengths struct {
	conns uint64
	lens  []uint64
}

func (l *lengths) Emit(r *dissect.Record) error {
	switch r.Kind {
	case dissect.KindConn:
		l.conns++
	case dissect.KindFrame:
		l.lens = append(l.lens, r.Frame.Len)
	}
	return nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: shape FILE")
		os.Exit(2)
	}
	var l lengths
	if _, err := engine.ReadFile(os.Args[1], engine.Options{}, &l); err != nil {
		fmt.Fprintln(os.Stderr, "shape:", err)
		os.Exit(1)
	}
	if len(l.lens) == 0 {
		fmt.Printf("%d connections, no frames\n", l.conns)
		return
	}
	var sum uint64
	for _, n := range l.lens {
		sum += n
	}
	slices.Sort(l.lens)
	fmt.Printf("%d connections, %d frames, mean frame %d B, median %d B\n",
		l.conns, len(l.lens), sum/uint64(len(l.lens)), l.lens[len(l.lens)/2])
}
