// Package conformance holds the test that compares wsdissect's dissection of
// the public capture corpus (../shared/corpus beside the repository) with
// tshark's reference dissections, listing every known difference with its
// reason.
package conformance
