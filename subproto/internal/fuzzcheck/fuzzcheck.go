// Package fuzzcheck drives a subproto decoder with fuzzer input and checks
// the invariants every decoder keeps: no panic, records whose JSON is valid
// and whose summary is one line, trees and field getters that run, and
// bounded output.
package fuzzcheck

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/wsdissect/wsdissect/subproto/app"
)

// Messages splits fuzzer input into messages: each starts with a control
// byte (bit 0 direction, bit 1 binary) and a length byte; the rest of the
// input is the last message when a length runs past it.
func Messages(data []byte) []app.Message {
	var out []app.Message
	for len(data) >= 2 && len(out) < 64 {
		ctl, n := data[0], int(data[1])
		data = data[2:]
		if n > len(data) || n == 0 {
			n = len(data)
		}
		m := app.Message{Dir: app.Dir(ctl & 1), Opcode: app.Text, Payload: data[:n:n]}
		if ctl&2 != 0 {
			m.Opcode = app.Binary
		}
		out = append(out, m)
		data = data[n:]
	}
	return out
}

// Check feeds the messages of data to dec and checks every record.
func Check(dec app.Decoder, fields []app.Field, data []byte) error {
	var vals []app.Value
	for _, m := range Messages(data) {
		recs := dec.Decode(m)
		if len(recs) > len(m.Payload)+2 {
			return fmt.Errorf("%d records from a message of %d bytes", len(recs), len(m.Payload))
		}
		for _, r := range recs {
			js := r.AppendJSON(nil)
			if !json.Valid(js) {
				return fmt.Errorf("invalid JSON %q from %q", js, m.Payload)
			}
			if strings.ContainsAny(string(js), "\n\r") {
				return fmt.Errorf("JSON spans lines: %q", js)
			}
			if s := app.Summary(r); strings.ContainsAny(s, "\n\r") {
				return fmt.Errorf("summary spans lines: %q", s)
			}
			var treeErr error
			r.Tree(func(_ int, name, value string) {
				if strings.ContainsAny(name+value, "\n\r") && treeErr == nil {
					treeErr = fmt.Errorf("tree line spans lines: %q: %q", name, value)
				}
			})
			if treeErr != nil {
				return treeErr
			}
			for _, f := range fields {
				vals = f.Get(r, vals[:0])
			}
			_ = r.Malformed()
		}
	}
	return nil
}
