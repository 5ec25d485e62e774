package dissect

import (
	"os"
	"strings"
	"testing"
)

// TestREADMEListsEveryAnomaly keeps the README's anomaly table in step with
// the ids the dissector can report.
func TestREADMEListsEveryAnomaly(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatalf("reading README: %v", err)
	}
	readme := string(b)
	for _, a := range Anomalies() {
		row := "| `" + a.ID + "` | " + a.Severity.String() + " | " + a.RFC + " |"
		if !strings.Contains(readme, row) {
			t.Errorf("README lacks the row for %s: %q", a.ID, row)
		}
	}
}
