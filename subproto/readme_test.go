package subproto

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEveryField keeps the README's Subprotocols section in step
// with the fields the decoders offer.
func TestREADMEListsEveryField(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "## Subprotocols")
	if i < 0 {
		t.Fatal("README has no Subprotocols section")
	}
	sec := readme[i:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	for _, f := range Fields() {
		if !strings.Contains(sec, "`"+f.Name+"`") {
			t.Errorf("README's Subprotocols section lacks %s", f.Name)
		}
	}
	for _, p := range Protocols() {
		if !strings.Contains(sec, "`"+Anomaly(p)+"`") {
			t.Errorf("README's Subprotocols section lacks the anomaly %s", Anomaly(p))
		}
	}
}
