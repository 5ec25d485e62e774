package engine_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/source"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// TestWSSGapInsideRecord drops a TCP segment in the middle of a TLS record
// of a real wss conversation: the messages it touched are lost or marked
// incomplete, nothing is invented, and decoding resumes after it.
func TestWSSGapInsideRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("records a TLS conversation")
	}
	sc := capgen.Scenario{
		Name: "wss-gap", Library: capgen.Coder,
		TLS:   &capgen.TLSOptions{MinVersion: tls.VersionTLS13},
		Close: capgen.CloseSpec{From: capgen.Client, Code: 1000},
	}
	for i := range 8 {
		sc.Steps = append(sc.Steps, capgen.Step{From: capgen.Server, Opcode: capgen.OpBinary, Payload: capgen.RandomBytes(5000, uint64(100+i))})
	}
	rec, err := capgen.RecordScenario(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	srv := rec.Stream(capgen.Server)
	c := capgen.NewCapture(capgen.CaptureOptions{})
	if _, err := rec.Replay(c, capgen.ReplayOptions{Impairments: []capgen.Impairment{
		{Kind: capgen.Drop, Side: capgen.Server, Offset: uint64(len(srv) / 2)},
	}}); err != nil {
		t.Fatal(err)
	}
	var pcap bytes.Buffer
	if err := c.WritePcap(&pcap, capgen.PcapOptions{}); err != nil {
		t.Fatal(err)
	}
	kl := tlsdecrypt.NewKeyLog()
	if err := kl.AddBytes(rec.KeyLog, "wss-gap"); err != nil {
		t.Fatal(err)
	}
	src, err := source.OpenReader("wss-gap", bytes.NewReader(pcap.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	col := newMsgCollector()
	if _, err := engine.Run(src, col, engine.Options{Dissect: dissect.Options{Messages: true, KeyLog: kl}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := col.anomalies[dissect.AnTCPGap]; !ok {
		t.Errorf("no tcp-gap anomaly; anomalies %v", col.anomalies)
	}
	if _, ok := col.anomalies[dissect.AnTLSDecryptFailed]; ok {
		t.Errorf("a record failed to decrypt after the gap: %v", col.anomalies)
	}
	whole, lastOK := 0, false
	for _, m := range col.msgs {
		if m.dir != "s2c" || m.opcode != dissect.OpBinary {
			continue
		}
		found := false
		for _, tm := range rec.Truth {
			if bytes.Equal(tm.Payload, m.payload) {
				found = true
			}
		}
		if !m.incomplete && !found {
			t.Errorf("a complete message of %d bytes that was never sent", len(m.payload))
		}
		if found {
			whole++
		}
		lastOK = found
	}
	t.Logf("%d whole messages of %d decoded; anomalies %v", whole, len(col.msgs), col.anomalies)
	if whole < 5 || !lastOK {
		t.Errorf("%d whole messages decoded (last decoded %v), want most of 8 and the last", whole, lastOK)
	}
}
