package engine

import (
	"reflect"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/reassembly"
)

// TestStatsAddEveryField checks that the stages' Stats.Add methods, which
// RunParallel uses to sum its workers, add every counter: a field added to
// a Stats type later must be added there too.
func TestStatsAddEveryField(t *testing.T) {
	ones := func(v reflect.Value) {
		for i := range v.NumField() {
			switch f := v.Field(i); f.Kind() {
			case reflect.Int, reflect.Int64:
				f.SetInt(1)
			case reflect.Uint64:
				f.SetUint(1)
			default:
				t.Fatalf("%s.%s: unexpected kind %s", v.Type(), v.Type().Field(i).Name, f.Kind())
			}
		}
	}
	check := func(v reflect.Value) {
		for i := range v.NumField() {
			f := v.Field(i)
			if (f.CanInt() && f.Int() != 2) || (f.CanUint() && f.Uint() != 2) {
				t.Errorf("%s.Add does not add %s", v.Type(), v.Type().Field(i).Name)
			}
		}
	}
	var r, ro reassembly.Stats
	ones(reflect.ValueOf(&r).Elem())
	ones(reflect.ValueOf(&ro).Elem())
	r.Add(ro)
	check(reflect.ValueOf(r))

	var d, do dissect.Stats
	ones(reflect.ValueOf(&d).Elem())
	ones(reflect.ValueOf(&do).Elem())
	d.Add(do)
	check(reflect.ValueOf(d))
}
