package h2cap

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/source"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// TestMain runs the tests again with GODEBUG=http2xconnect=1 when it is
// missing: x/net/http2 reads it once, at start-up.
func TestMain(m *testing.M) {
	if !Enabled() {
		cmd := exec.Command(os.Args[0], os.Args[1:]...)
		cmd.Env = append(os.Environ(), "GODEBUG=http2xconnect=1")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				os.Exit(ee.ExitCode())
			}
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type msgSink struct {
	got map[string][]string // "h2stream/dir" -> "opcode:payload"
	ids []uint32
	tls int // sessions whose conn record says they ran over decrypted TLS
}

func (s *msgSink) Emit(r *dissect.Record) error {
	if r.Kind == dissect.KindConn && r.Conn.Upgraded() {
		s.ids = append(s.ids, r.Conn.H2Stream)
		if r.Conn.TLS != nil && r.Conn.TLS.Decrypted && r.Conn.TLS.ALPN == "h2" {
			s.tls++
		}
	}
	if r.Kind != dissect.KindMessage {
		return nil
	}
	k := fmt.Sprintf("%d/%s", r.Conn.H2Stream, r.Message.Dir)
	s.got[k] = append(s.got[k], fmt.Sprintf("%d:%q", r.Message.Opcode, r.Message.Payload))
	return nil
}

// TestBuild records both captures afresh and checks that wsdissect decodes
// every message as the sender was given it.
func TestBuild(t *testing.T) {
	outs, err := Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if HypercornAvailable() {
		hc, err := BuildHypercorn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, hc)
	} else {
		t.Log("python3 with hypercorn not found: h2c-hypercorn not recorded")
	}
	for _, o := range outs {
		t.Run(o.Name, func(t *testing.T) {
			src, err := source.OpenReader(o.Name+".pcap", bytes.NewReader(o.Pcap))
			if err != nil {
				t.Fatal(err)
			}
			s := &msgSink{got: map[string][]string{}}
			opts := engine.Options{Dissect: dissect.Options{Messages: true}}
			if o.KeyLog != nil {
				kl := tlsdecrypt.NewKeyLog()
				if err := kl.AddBytes(o.KeyLog, o.Name+".keylog"); err != nil {
					t.Fatal(err)
				}
				opts.Dissect.KeyLog = kl
			}
			if _, err := engine.Run(src, s, opts); err != nil {
				t.Fatal(err)
			}
			if o.KeyLog != nil && s.tls == 0 {
				t.Error("no session carried the TLS description")
			}
			slices.Sort(s.ids)
			want := map[string][]string{}
			for _, m := range o.Truth.Messages {
				if m.Conn >= len(s.ids) {
					t.Fatalf("truth conn %d, but only sessions %v were opened", m.Conn, s.ids)
				}
				k := fmt.Sprintf("%d/%s", s.ids[m.Conn], m.Dir)
				want[k] = append(want[k], fmt.Sprintf("%d:%q", m.Opcode, m.Payload))
			}
			if len(want) == 0 {
				t.Fatal("empty truth")
			}
			for k, w := range want {
				if !slices.Equal(s.got[k], w) {
					t.Errorf("%s: decoded\n%v\ntruth\n%v", k, s.got[k], w)
				}
			}
			for k := range s.got {
				if _, ok := want[k]; !ok {
					t.Errorf("%s: messages decoded that the truth does not have", k)
				}
			}
		})
	}
}

// TestHandBuiltCommitted checks that the hand-built captures in testdata are
// what BuildHand makes now (they are deterministic): a change to the
// builder must be followed by go run ./tools/genh2cap -hand -out testdata.
func TestHandBuiltCommitted(t *testing.T) {
	outs, err := BuildHand()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outs {
		pcap, err := os.ReadFile("../../testdata/" + o.Name + ".pcap")
		if err != nil {
			t.Fatal(err)
		}
		truth, err := os.ReadFile("../../testdata/" + o.Name + ".truth.json")
		if err != nil {
			t.Fatal(err)
		}
		tj, err := o.Truth.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pcap, o.Pcap) || !bytes.Equal(truth, tj) {
			t.Errorf("testdata/%s differs from what BuildHand makes (run go run ./tools/genh2cap -hand -out testdata)", o.Name)
		}
	}
}
