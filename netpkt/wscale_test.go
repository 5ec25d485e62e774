package netpkt

import "testing"

func TestWindowScale(t *testing.T) {
	tests := []struct {
		name string
		opts []byte
		want uint8
	}{
		{"none", nil, 0},
		{"mss only", []byte{2, 4, 5, 0xb4}, 0},
		{"mss, nop, wscale 7", []byte{2, 4, 5, 0xb4, 1, 3, 3, 7}, 8},
		{"wscale 0", []byte{3, 3, 0, 0}, 1},
		{"wscale above 14 is 14", []byte{3, 3, 20, 0}, 15},
		{"end of options first", []byte{0, 3, 3, 7}, 0},
		{"truncated option", []byte{1, 3, 3}, 0},
		{"bad length", []byte{8, 1, 3, 3, 7}, 0},
		{"after sack-permitted and timestamps", []byte{4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 2}, 3},
	}
	for _, tt := range tests {
		if got := windowScale(tt.opts); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}
