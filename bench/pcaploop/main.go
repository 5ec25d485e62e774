// Command pcaploop is the lower bound for "wsdissect read FILE -q": it reads
// every packet of a pcap or pcapng file with gopacket's pcapgo readers
// (ZeroCopyReadPacketData, behind a buffer of the size wsdissect's pcap
// reader uses) and does nothing else but count packets and bytes.
//
//	go run ./bench/pcaploop FILE
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

// bufSize matches the input buffer of wsdissect's pcap reader (this loop
// measured the same with 128 and 256 KiB).
const bufSize = 128 << 10

// packetReader is what pcapgo's pcap and pcapng readers have in common.
type packetReader interface {
	ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: pcaploop FILE")
		os.Exit(2)
	}
	packets, bytes, err := loop(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcaploop:", err)
		os.Exit(1)
	}
	fmt.Printf("%d packets, %d bytes\n", packets, bytes)
}

// loop reads every packet of the capture at path.
func loop(path string) (packets, bytes uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	in := bufio.NewReaderSize(f, bufSize)
	magic, err := in.Peek(4)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: reading magic: %w", path, err)
	}
	var r packetReader
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		r, err = pcapgo.NewNgReader(in, pcapgo.DefaultNgReaderOptions)
	} else {
		r, err = pcapgo.NewReader(in)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", path, err)
	}
	for {
		data, _, err := r.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return packets, bytes, nil
			}
			return packets, bytes, fmt.Errorf("%s: packet %d: %w", path, packets+1, err)
		}
		packets++
		bytes += uint64(len(data))
	}
}
