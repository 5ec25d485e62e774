package filter

import (
	"github.com/wsdissect/wsdissect/field"
)

// The filter's value types are the field registry's.
const (
	tNumber = field.Number
	tBool   = field.Bool
	tBytes  = field.Bytes
	tString = field.String
	tAddr   = field.Addr
	tDir    = field.Direction
	tJSON   = field.JSON
	tProto  = field.Protocol
	tSecs   = field.Seconds
)

// fval is one value of a field.
type fval = field.Value
