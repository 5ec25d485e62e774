//go:build !(amd64 || arm64) && !pcap_cgo

package capture

import "errors"

// loadLibpcap reports that this build cannot load libpcap: the purego
// bindings assume the 64-bit Linux struct layouts. Build with -tags pcap_cgo
// to use libpcap here.
func loadLibpcap() (pcapLib, error) {
	return nil, errors.New("loading libpcap at run time is only supported on 64-bit Linux (build with -tags pcap_cgo)")
}
