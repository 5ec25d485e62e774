package render

import (
	"errors"

	"github.com/wsdissect/wsdissect/dissect"
)

// Tee is a dissect.Sink that sends each record to several sinks, in order.
type Tee []dissect.Sink

// NewTee returns a Tee of the given sinks, leaving out nil ones.
func NewTee(sinks ...dissect.Sink) Tee {
	t := make(Tee, 0, len(sinks))
	for _, s := range sinks {
		if s != nil {
			t = append(t, s)
		}
	}
	return t
}

// Emit passes rec to every sink, even when one fails, and returns their
// errors joined.
func (t Tee) Emit(rec *dissect.Record) error {
	var err error
	for _, s := range t {
		e := s.Emit(rec)
		switch {
		case e == nil:
		case err == nil:
			err = e
		default:
			err = errors.Join(err, e)
		}
	}
	return err
}
