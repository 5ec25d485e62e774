package conformance

import (
	"context"
	"encoding/hex"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// TestWSSMatchesTshark decrypts the wss test captures with wsdissect and
// with tshark (-o tls.keylog_file:, or the capture's decryption secrets
// block) and requires the same WebSocket frames in the same packets: FIN,
// opcode, mask, masking key, length, text or binary payload, close code.
// It skips when tshark is not installed.
func TestWSSMatchesTshark(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed")
	}
	caps := []string{"wss-tls13.pcap", "wss-tls12-gcm.pcap", "wss-tls12-chacha.pcap", "wss-tls12-cbc.pcap", "wss-tls13-dsb.pcapng"}
	for _, name := range caps {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "testdata", name)
			base := strings.TrimSuffix(strings.TrimSuffix(path, ".pcapng"), ".pcap")
			keylog := base + ".keylog"
			args := []string{"-r", path, "-d", "tcp.port==8080,tls", "-Y", "websocket", "-T", "fields",
				"-E", "aggregator=\x1f", "-E", "occurrence=a"}
			opts := engine.Options{}
			if !strings.HasSuffix(name, ".pcapng") {
				args = append(args, "-o", "tls.keylog_file:"+keylog)
				opts.Dissect.KeyLog = tlsdecrypt.NewKeyLog()
				if err := opts.Dissect.KeyLog.AddFile(keylog); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range []string{"frame.number", "websocket.fin", "websocket.opcode", "websocket.mask",
				"websocket.masking_key", "websocket.payload_length", "websocket.payload_length_ext_16",
				"websocket.payload_length_ext_64", "websocket.payload.text", "data.data", "websocket.payload.close.status_code"} {
				args = append(args, "-e", f)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, "tshark", args...).Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			want := parseTsharkFields(t, string(out))
			var c collector
			if _, err := engine.ReadFile(path, opts, &c); err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 || len(want) != len(c.frames) {
				t.Fatalf("tshark shows %d frames, wsdissect %d", len(want), len(c.frames))
			}
			for i, w := range want {
				g := c.frames[i]
				gotPayload := ""
				switch {
				case g.opcode == int(dissect.OpText):
					gotPayload = string(g.payload)
				case g.opcode == int(dissect.OpBinary):
					gotPayload = hex.EncodeToString(g.payload)
				case g.opcode == int(dissect.OpClose) && len(g.payload) >= 2:
					gotPayload = strconv.Itoa(int(g.payload[0])<<8 | int(g.payload[1]))
				}
				got := fmt.Sprintf("packet %d fin %v opcode %d mask %v key %s len %d payload %s",
					g.packet, g.fin, g.opcode, g.masked, g.key, g.length, gotPayload)
				if got != w {
					t.Errorf("frame %d:\n tshark    %.200s\n wsdissect %.200s", i, w, got)
				}
			}
		})
	}
}

// parseTsharkFields turns tshark's field lines into one description per
// WebSocket frame, in the format the test builds for wsdissect's frames.
func parseTsharkFields(t *testing.T, out string) []string {
	t.Helper()
	var frames []string
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 11 {
			t.Fatalf("tshark line with %d fields: %q", len(cols), line)
		}
		split := make([][]string, len(cols))
		n := 0
		for i, c := range cols {
			split[i] = strings.Split(c, "\x1f")
			if i == 1 {
				n = len(split[i])
			}
		}
		at := func(col, k int) string {
			if k < len(split[col]) {
				return split[col][k]
			}
			return ""
		}
		if n != 1 {
			// The optional columns (text, data) would not line up per frame.
			t.Fatalf("packet %s holds %d WebSocket frames; this comparison expects one per packet", cols[0], n)
		}
		for k := range n {
			length := at(5, k)
			for _, ext := range []int{6, 7} {
				if v := at(ext, k); v != "" {
					length = v
				}
			}
			key := strings.ReplaceAll(at(4, k), ":", "")
			op, _ := strconv.Atoi(at(2, k))
			payload := ""
			switch op {
			case int(dissect.OpText):
				payload = at(8, k)
			case int(dissect.OpBinary):
				payload = strings.ReplaceAll(at(9, k), ":", "")
			case int(dissect.OpClose):
				payload = at(10, k)
			}
			frames = append(frames, fmt.Sprintf("packet %s fin %v opcode %d mask %v key %s len %s payload %s",
				cols[0], at(1, k) == "1", op, at(3, k) == "1", key, length, payload))
		}
	}
	return frames
}
