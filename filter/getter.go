package filter

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/wsdissect/wsdissect/dissect"
)

// Getter returns the values of one field on a record as text, appended to
// dst (none when the field does not apply to the record).
type Getter func(dst []string, r *dissect.Record) []string

// FieldGetter resolves a field name or alias (as -Y takes them) to a Getter,
// for printing field values (-T fields -e NAME). Numbers are decimal, bools
// 1 or 0, byte fields lower-case hex, text fields as they are, addresses in
// their usual form and directions c2s or s2c. json.PATH fields and bare
// protocol names are not supported.
func FieldGetter(name string) (Getter, error) {
	spec := lookupField(name)
	if spec == nil {
		return nil, fmt.Errorf("unknown field %q (wsdissect fields lists them)", name)
	}
	if spec.typ == tJSON || spec.typ == tProto {
		return nil, fmt.Errorf("field %q has no value to print", name)
	}
	var f Filter
	return func(dst []string, r *dissect.Record) []string {
		for i := 0; ; i++ {
			v, ok := f.value(spec.id, r, i)
			if !ok {
				return dst
			}
			dst = append(dst, formatValue(spec.typ, v))
			if !spec.multi {
				return dst
			}
		}
	}, nil
}

// formatValue writes one value as text.
func formatValue(t ftype, v fval) string {
	switch t {
	case tNumber:
		return strconv.FormatUint(v.u, 10)
	case tBool:
		if v.flag {
			return "1"
		}
		return "0"
	case tBytes:
		if v.isB {
			return hex.EncodeToString(v.b)
		}
		return hex.EncodeToString([]byte(v.s))
	case tString:
		if v.isB {
			return string(v.b)
		}
		return v.s
	case tAddr:
		return v.addr.String()
	case tDir:
		return v.dir.String()
	}
	return ""
}
