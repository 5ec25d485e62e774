package tlsdecrypt

import (
	"strconv"
	"testing"
)

func TestTally(t *testing.T) {
	tests := []struct {
		name     string
		reasons  []string
		summary  string
		noKeyLog bool
	}{
		{"none", nil, "", false},
		{"one", []string{NoKeyLog}, "1 TLS connection not decrypted (no key log given)", true},
		{"client randoms count together", []string{
			"no key for client random 0a1b2c3d4e5f6a7b…", "no key for client random 1111111111111111…",
			"key log has no CLIENT_TRAFFIC_SECRET_0 for client random 0a1b2c3d4e5f6a7b…", "unsupported cipher suite 0x1301", ""},
			"5 TLS connections not decrypted (key log has no CLIENT_TRAFFIC_SECRET_0: 1; no key in the key log: 2; not decrypted: 1; unsupported cipher suite 0x1301: 1)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ty := Tally{}
			for _, r := range tt.reasons {
				ty.Add(r)
			}
			if got := ty.Summary(); got != tt.summary || ty.NoKeyLog() != tt.noKeyLog || ty.Total() != len(tt.reasons) {
				t.Errorf("summary %q, no key log %v, total %d\nwant %q, %v, %d", got, ty.NoKeyLog(), ty.Total(), tt.summary, tt.noKeyLog, len(tt.reasons))
			}
		})
	}
}

// TestTallyBounded checks that reasons past MaxTallyReasons count as
// "other".
func TestTallyBounded(t *testing.T) {
	ty := Tally{}
	for i := range 3 * MaxTallyReasons {
		ty.Add("alert " + strconv.Itoa(i))
	}
	if len(ty) != MaxTallyReasons+1 || ty["other"] != 2*MaxTallyReasons || ty.Total() != 3*MaxTallyReasons {
		t.Errorf("%d reasons, %d other, %d in all", len(ty), ty["other"], ty.Total())
	}
}
