package mqtt

import (
	"testing"

	"github.com/wsdissect/wsdissect/subproto/internal/fuzzcheck"
)

func FuzzDecode(f *testing.F) {
	for _, s := range [][]byte{frame(connect311), frame(publish1), frame(subscribe), append(frame(connect5), frame(publish5)...)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := fuzzcheck.Check(NewDecoder(), Fields(), data); err != nil {
			t.Fatal(err)
		}
	})
}

// frame wraps p as one binary client message for fuzzcheck.Messages.
func frame(p []byte) []byte { return append([]byte{2, 0}, p...) }
