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
// byte (bit 0 direction, bit 1 binary, bit 2 a gap before the message; for
// Check, bit 3 makes an app.Holder give its state up after the message and
// bit 4 toggles a small HoldAtMost bound) and a length byte; the rest of
// the input is the last message when a length runs past it.
func Messages(data []byte) []app.Message {
	msgs, _ := messages(data)
	return msgs
}

func messages(data []byte) ([]app.Message, []byte) {
	var out []app.Message
	var ctls []byte
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
		ctls = append(ctls, ctl)
		data = data[n:]
	}
	return out, ctls
}

// Check feeds the messages of data to dec (and gaps to a decoder that
// takes them) and checks every record.
func Check(dec app.Decoder, fields []app.Field, data []byte) error {
	var vals []app.Value
	check := func(recs []app.Record, payload []byte) error {
		if len(recs) > len(payload)+2 {
			return fmt.Errorf("%d records from a message of %d bytes", len(recs), len(payload))
		}
		for _, r := range recs {
			js := r.AppendJSON(nil)
			if !json.Valid(js) {
				return fmt.Errorf("invalid JSON %q from %q", js, payload)
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
		return nil
	}
	msgs, ctls := messages(data)
	h, holder := dec.(app.Holder)
	bounded := false
	for i, m := range msgs {
		if holder && ctls[i]&16 != 0 {
			bounded = !bounded
			limit := 0
			if bounded {
				limit = 64
			}
			h.HoldAtMost(limit)
		}
		if err := check(dec.Decode(m), m.Payload); err != nil {
			return err
		}
		g, gapper := dec.(app.Gapper)
		if gapper && ctls[i]&4 != 0 {
			if err := check(g.Gap(m.Dir), nil); err != nil {
				return err
			}
		}
		if holder && h.Held() < 0 {
			return fmt.Errorf("Held() = %d", h.Held())
		}
		if holder && ctls[i]&8 != 0 {
			// Give the state up, as the integrator does when the memory
			// budget runs out.
			for d := app.ClientToServer; d <= app.ServerToClient; d++ {
				if gapper {
					if err := check(g.Gap(d), nil); err != nil {
						return err
					}
				}
			}
			h.Shrink()
			if n := h.Held(); n > 4096 {
				return fmt.Errorf("Held() = %d after Gap and Shrink", n)
			}
		}
	}
	return nil
}
