// Package conformance holds the test that compares wsdissect's dissection of
// the public capture corpus (../shared/corpus beside the repository) with
// tshark's reference dissections, listing every known difference with its
// reason; and the test that compares the HTTP/2 frame layer (package h2)
// with tshark on the committed h2c captures (skipped without tshark).
package conformance
