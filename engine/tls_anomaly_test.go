package engine_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/internal/capgen"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// tlsRecord frames a TLS record.
func tlsRecord(typ byte, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

// handshakeMsg frames a handshake message.
func handshakeMsg(typ byte, body []byte) []byte {
	return append([]byte{typ, 0, byte(len(body) >> 8), byte(len(body))}, body...)
}

// helloBody builds a ClientHello (client) or ServerHello body for TLS 1.3
// with TLS_AES_128_GCM_SHA256; the ClientHello offers early data.
func helloBody(client bool, random byte) []byte {
	b := []byte{3, 3}
	b = append(b, bytes.Repeat([]byte{random}, 32)...)
	b = append(b, 0) // session id
	var ext []byte
	if client {
		b = append(b, 0, 2, 0x13, 0x01, 1, 0)
		ext = append(ext, 0, 43, 0, 3, 2, 3, 4) // supported_versions
		ext = append(ext, 0, 42, 0, 0)          // early_data
	} else {
		b = append(b, 0x13, 0x01, 0)
		ext = append(ext, 0, 43, 0, 2, 3, 4)
	}
	return append(append(b, byte(len(ext)>>8), byte(len(ext))), ext...)
}

// seal13 encrypts one TLS 1.3 record (seq 0) under a traffic secret.
func seal13(t *testing.T, secret []byte, inner byte, plain []byte) []byte {
	label := func(l string, n int) []byte {
		info := append([]byte{0, byte(n), byte(6 + len(l))}, "tls13 "+l...)
		out, err := hkdf.Expand(sha256.New, secret, string(append(info, 0)), n)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	blk, err := aes.NewCipher(label("key", 16))
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(blk)
	if err != nil {
		t.Fatal(err)
	}
	pt := append(append([]byte(nil), plain...), inner)
	hdr := []byte{23, 3, 3, byte((len(pt) + 16) >> 8), byte(len(pt) + 16)}
	return append(hdr, gcm.Seal(nil, label("iv", 12), pt, hdr)...)
}

// tlsAnomalyCases are the captures of the TLS anomaly ids, built from a
// real wss conversation (crypto/tls) and hand-built records.
func tlsAnomalyCases(t *testing.T) []anomalyCase {
	C, S := capgen.Client, capgen.Server
	rec, err := capgen.RecordScenario(context.Background(), capgen.Scenario{
		Name: "tls-anomalies", Library: capgen.Coder,
		TLS: &capgen.TLSOptions{MinVersion: tls.VersionTLS13},
		Steps: []capgen.Step{
			{From: C, Opcode: capgen.OpText, Payload: []byte("first")},
			{From: C, Opcode: capgen.OpText, Payload: []byte("second")},
			{From: C, Opcode: capgen.OpText, Payload: []byte("third")},
		},
		Close: capgen.CloseSpec{From: C, Code: 1000},
	})
	if err != nil {
		t.Fatal(err)
	}
	kl := tlsdecrypt.NewKeyLog()
	if err := kl.AddBytes(rec.KeyLog, "tls-anomalies"); err != nil {
		t.Fatal(err)
	}
	real := make([]send, len(rec.Writes))
	firstServer, lastClient := -1, -1
	for i, w := range rec.Writes {
		real[i] = send{w.From, w.Data}
		if w.From == S && firstServer < 0 {
			firstServer = i
		}
		if w.From == C {
			lastClient = i
		}
	}
	// The client's write two before its last (a WebSocket message, after
	// the upgrade) is damaged or preceded by junk.
	target := -1
	for i, n := lastClient-1, 0; i > 0; i-- {
		if rec.Writes[i].From == C {
			if n++; n == 2 {
				target = i
				break
			}
		}
	}
	corrupt := append([]send(nil), real...)
	d := bytes.Clone(corrupt[target].data)
	d[len(d)-3] ^= 0x40
	corrupt[target].data = d
	junk := append(append(append([]send(nil), real[:target]...), send{C, []byte{0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9}}), real[target:]...)

	clientHello := tlsRecord(22, handshakeMsg(1, helloBody(true, 0xab)))
	serverHello := tlsRecord(22, handshakeMsg(2, helloBody(false, 0xcd)))
	shts := bytes.Repeat([]byte{0x5e}, 32)
	early := tlsKeyLog(t, "CLIENT_HANDSHAKE_TRAFFIC_SECRET "+strings.Repeat("ab", 32)+" "+hex.EncodeToString(bytes.Repeat([]byte{0xc1}, 32))+
		"\nSERVER_HANDSHAKE_TRAFFIC_SECRET "+strings.Repeat("ab", 32)+" "+hex.EncodeToString(shts))
	ee := seal13(t, shts, 22, handshakeMsg(8, []byte{0, 0}))
	unsupported := []byte{3, 3}
	unsupported = append(unsupported, bytes.Repeat([]byte{1}, 32)...)
	unsupported = append(unsupported, 0, 0x00, 0x0A, 0) // TLS_RSA_WITH_3DES_EDE_CBC_SHA

	return []anomalyCase{
		{id: dissect.AnTLSNoKey, sends: real, at: firstServer, onConn: true},
		{id: dissect.AnTLSDecryptFailed, sends: corrupt, at: target, opts: dissect.Options{KeyLog: kl}},
		{id: dissect.AnTLSMalformed, sends: []send{{C, clientHello}, {S, []byte("HTTP/1.1 400 Bad Request\r\n\r\n")}}, at: 1},
		{id: dissect.AnTLSResync, sends: junk, at: target + 1, opts: dissect.Options{KeyLog: kl}},
		{id: dissect.AnTLSAlert, sends: []send{{C, clientHello}, {S, tlsRecord(21, []byte{2, 40})}}, at: 1},
		{id: dissect.AnTLSUnsupported, sends: []send{{C, clientHello}, {S, tlsRecord(22, handshakeMsg(2, unsupported))}}, at: 1, opts: dissect.Options{KeyLog: kl}},
		{id: dissect.AnTLSEarlySkipped, sends: []send{{C, clientHello}, {C, tlsRecord(23, bytes.Repeat([]byte{7}, 40))}, {S, serverHello}, {S, ee}},
			at: 3, opts: dissect.Options{KeyLog: early}},
	}
}

func tlsKeyLog(t *testing.T, text string) *tlsdecrypt.KeyLog {
	kl := tlsdecrypt.NewKeyLog()
	if err := kl.AddBytes([]byte(text), "test"); err != nil {
		t.Fatal(err)
	}
	return kl
}
