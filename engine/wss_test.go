package engine_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/source"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// connCollector keeps the TLS descriptions of conn records, messages and
// anomaly ids.
type connCollector struct {
	tls       []dissect.TLS
	conns     int
	messages  int
	anomalies []string
}

func (c *connCollector) Emit(r *dissect.Record) error {
	switch r.Kind {
	case dissect.KindConn:
		c.conns++
		if r.Conn.TLS != nil {
			c.tls = append(c.tls, *r.Conn.TLS)
		}
	case dissect.KindMessage:
		c.messages++
	}
	for _, a := range r.Anomalies {
		c.anomalies = append(c.anomalies, a.ID)
	}
	return nil
}

func decodeWSS(t *testing.T, name string, kl *tlsdecrypt.KeyLog, workers int) *connCollector {
	t.Helper()
	c := &connCollector{}
	opts := engine.Options{Workers: workers, Dissect: dissect.Options{Messages: true, KeyLog: kl}}
	if _, err := engine.ReadFile("../testdata/"+name+".pcap", opts, c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWSSDecrypted(t *testing.T) {
	for _, name := range []string{"wss-tls13", "wss-tls12-gcm", "wss-tls12-chacha", "wss-tls12-cbc"} {
		kl := tlsdecrypt.NewKeyLog()
		if err := kl.AddFile("../testdata/" + name + ".keylog"); err != nil {
			t.Fatal(err)
		}
		for _, workers := range []int{1, 2} {
			c := decodeWSS(t, name, kl, workers)
			if c.conns != 1 || len(c.tls) != 1 || c.messages == 0 || len(c.anomalies) != 0 {
				t.Fatalf("%s: %d conns %+v, %d messages, anomalies %v", name, c.conns, c.tls, c.messages, c.anomalies)
			}
			d := c.tls[0]
			wantVer := "TLS 1.2"
			if name == "wss-tls13" {
				wantVer = "TLS 1.3"
			}
			if !d.Decrypted || d.SNI != "wss.example" || d.ALPN != "http/1.1" || d.Version != wantVer || !strings.HasPrefix(d.Cipher, "TLS_") || d.Reason != "" {
				t.Errorf("%s: TLS %+v", name, d)
			}
		}
	}
}

func TestWSSWithoutKey(t *testing.T) {
	for _, kl := range []*tlsdecrypt.KeyLog{nil, tlsdecrypt.NewKeyLog()} {
		c := decodeWSS(t, "wss-tls13", kl, 1)
		if c.conns != 1 || len(c.tls) != 1 || c.messages != 0 {
			t.Fatalf("%d conns %+v, %d messages", c.conns, c.tls, c.messages)
		}
		d := c.tls[0]
		if d.Decrypted || d.SNI != "wss.example" || d.ALPN != "" || d.Version != "TLS 1.3" || d.Reason == "" || d.ClientBytes == 0 || d.ServerBytes < 40000 {
			t.Errorf("TLS %+v", d)
		}
		if len(c.anomalies) != 1 || c.anomalies[0] != dissect.AnTLSNoKey {
			t.Errorf("anomalies %v", c.anomalies)
		}
	}
}

func TestWSSWrongKey(t *testing.T) {
	b, err := os.ReadFile("../testdata/wss-tls12-gcm.keylog")
	if err != nil {
		t.Fatal(err)
	}
	// Change the master secret's last hex digit.
	s := strings.TrimSpace(string(b))
	last := s[len(s)-1]
	if last == '0' {
		last = '1'
	} else {
		last = '0'
	}
	kl := tlsdecrypt.NewKeyLog()
	if err := kl.AddBytes([]byte(s[:len(s)-1]+string(last)), "wrong"); err != nil {
		t.Fatal(err)
	}
	c := decodeWSS(t, "wss-tls12-gcm", kl, 1)
	if c.messages != 0 || len(c.tls) != 1 || c.tls[0].Decrypted {
		t.Fatalf("%d messages, TLS %+v", c.messages, c.tls)
	}
	found := false
	for _, a := range c.anomalies {
		found = found || a == dissect.AnTLSDecryptFailed
	}
	if !found {
		t.Errorf("anomalies %v", c.anomalies)
	}
}

// TestWSSOtherALPN: a decrypted connection whose ALPN is h2 goes to the
// connection state that decodes HTTP/1.1 and HTTP/2 by content; the peers
// here speak HTTP/1.1 inside anyway, and that is what is decoded.
func TestWSSOtherALPN(t *testing.T) {
	if testing.Short() {
		t.Skip("records a TLS conversation")
	}
	rec, err := capgen.RecordScenario(context.Background(), capgen.Scenario{
		Name: "wss-h2", Library: capgen.Coder,
		TLS:   &capgen.TLSOptions{MinVersion: tls.VersionTLS13, ALPN: []string{"h2"}},
		Steps: []capgen.Step{{From: capgen.Client, Opcode: capgen.OpText, Payload: []byte("hi")}},
		Close: capgen.CloseSpec{From: capgen.Client, Code: 1000},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := capgen.NewCapture(capgen.CaptureOptions{})
	if _, err := rec.Replay(c, capgen.ReplayOptions{}); err != nil {
		t.Fatal(err)
	}
	var pcap bytes.Buffer
	if err := c.WritePcap(&pcap, capgen.PcapOptions{}); err != nil {
		t.Fatal(err)
	}
	kl := tlsdecrypt.NewKeyLog()
	if err := kl.AddBytes(rec.KeyLog, "wss-h2"); err != nil {
		t.Fatal(err)
	}
	src, err := source.OpenReader("wss-h2", bytes.NewReader(pcap.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	col := &connCollector{}
	if _, err := engine.Run(src, col, engine.Options{Dissect: dissect.Options{Messages: true, KeyLog: kl}}); err != nil {
		t.Fatal(err)
	}
	// ALPN h2 hands the plaintext to the connection state that also
	// decodes HTTP/2; the content decides, and here it is an HTTP/1.1
	// upgrade (the peers ignored what they negotiated), so it is decoded.
	if col.conns != 1 || col.messages != 3 || len(col.tls) != 1 {
		t.Fatalf("%d conns, %d messages, TLS %+v", col.conns, col.messages, col.tls)
	}
	if d := col.tls[0]; d.ALPN != "h2" || !d.Decrypted || d.Reason != "" {
		t.Errorf("TLS %+v", d)
	}
}
