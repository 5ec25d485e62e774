// Package zlibref inflates raw DEFLATE with zlib through cgo: the yardstick
// internal/inflate's message benchmarks are measured against
// (BenchmarkZlibMessages). It is built only with the zlib build tag and cgo,
// and needs zlib's headers and library (Debian: zlib1g-dev):
//
//	go test -tags zlib -run XXX -bench 'Messages|Zlib' ./internal/inflate
//
// Without the tag the package is empty, so the default build needs neither
// cgo nor zlib.
package zlibref
