package dissect

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/wsdissect/wsdissect/internal/membudget"
	"github.com/wsdissect/wsdissect/reassembly"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// clientHelloRecord is a minimal TLS 1.3 ClientHello record with SNI
// "fuzz.example" and client random 0xab....
func clientHelloRecord() []byte {
	body := []byte{3, 3}
	body = append(body, bytes.Repeat([]byte{0xab}, 32)...)
	body = append(body, 0, 0, 2, 0x13, 0x01, 1, 0)
	name := "fuzz.example"
	sni := append([]byte{0, byte(len(name) + 3), 0, 0, byte(len(name))}, name...)
	ext := append([]byte{0, 0, 0, byte(len(sni))}, sni...)
	ext = append(ext, 0, 43, 0, 3, 2, 3, 4)
	body = append(body, byte(len(ext)>>8), byte(len(ext)))
	body = append(body, ext...)
	msg := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{22, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// FuzzTLS fuzzes the TLS layer behind a ClientHello: records, handshake
// messages and gaps on both sides, with a key log that has secrets for the
// ClientHello's random.
func FuzzTLS(f *testing.F) {
	kl := tlsdecrypt.NewKeyLog()
	cr := strings.Repeat("ab", 32)
	if err := kl.AddBytes([]byte("CLIENT_HANDSHAKE_TRAFFIC_SECRET "+cr+" "+strings.Repeat("11", 32)+
		"\nSERVER_HANDSHAKE_TRAFFIC_SECRET "+cr+" "+strings.Repeat("22", 32)+
		"\nCLIENT_RANDOM "+cr+" "+strings.Repeat("33", 48)), "fuzz"); err != nil {
		f.Fatal(err)
	}
	sh := []byte{22, 3, 3, 0, 46, 2, 0, 0, 42, 3, 3}
	sh = append(sh, bytes.Repeat([]byte{0xcd}, 32)...)
	sh = append(sh, 0, 0x13, 0x01, 0, 0, 0)
	f.Add([]byte{23, 3, 3, 0, 20, 1, 2, 3}, append(sh, 23, 3, 3, 0, 17, 9, 9), uint16(3), uint16(0))
	f.Add([]byte{20, 3, 3, 0, 1, 1, 23, 3, 3, 0, 40}, []byte{21, 3, 3, 0, 2, 2, 40}, uint16(1), uint16(2))
	f.Fuzz(func(t *testing.T, c2s, s2c []byte, split, gapAt uint16) {
		c := append(clientHelloRecord(), c2s...)
		fuzzConn(t, Options{KeyLog: kl}, true, c, s2c, split, gapAt)
		fuzzConn(t, Options{KeyLog: kl, Messages: true}, false, c, s2c, split, gapAt)
	})
}

// TestTLSListed: a TLS connection that cannot be decrypted gives one conn
// record with the TLS description, the bytes each way and the anomalies
// found on the way (separate records after it would come out of packet
// order), then its end record.
func TestTLSListed(t *testing.T) {
	var recs []Record
	var descs []TLS
	sink := sinkFunc(func(r *Record) error {
		recs = append(recs, *r)
		if r.Conn.TLS != nil {
			descs = append(descs, *r.Conn.TLS)
		}
		return nil
	})
	fuzzConnSink(t, sink, Options{}, clientHelloRecord(), []byte{22, 3, 3, 0, 0})
	if len(recs) != 2 || recs[0].Kind != KindConn || len(recs[0].Anomalies) != 1 || recs[1].Kind != KindEnd {
		t.Fatalf("records %+v", recs)
	}
	d := descs[0]
	if d.SNI != "fuzz.example" || d.Decrypted || d.ClientBytes != uint64(len(clientHelloRecord())) || d.ServerBytes != 5 || d.Reason == "" {
		t.Fatalf("TLS %+v", d)
	}
	if recs[0].Conn.Client.Port() != 1000 {
		t.Fatalf("client %v", recs[0].Conn.Client)
	}
}

type sinkFunc func(*Record) error

func (f sinkFunc) Emit(r *Record) error { return f(r) }

// fuzzConnSink feeds each stream whole to one connection (client side A).
func fuzzConnSink(t *testing.T, sink Sink, opts Options, c2s, s2c []byte) {
	t.Helper()
	d := New(sink, opts)
	info := &reassembly.ConnInfo{SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:443")}}
	h := d.NewConn(info)
	h.Data(reassembly.SideA, &reassembly.Chunk{Data: c2s, Packet: 1})
	h.Data(reassembly.SideB, &reassembly.Chunk{Data: s2c, Packet: 2})
	h.Close(reassembly.ClosedEOF)
}

// TestTLSHeldCharged checks that the records a TLS session holds (client
// application data waiting for the server's handshake) are charged to the
// memory budget while held and given back when the connection closes.
func TestTLSHeldCharged(t *testing.T) {
	b := membudget.New(0)
	d := New(sinkFunc(func(*Record) error { return nil }), Options{Memory: b})
	info := &reassembly.ConnInfo{SawSYN: true, Addr: [2]netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:1000"), netip.MustParseAddrPort("10.0.0.2:443")}}
	h := d.NewConn(info)
	c := clientHelloRecord()
	h.Data(reassembly.SideA, &reassembly.Chunk{Data: c, Packet: 1})
	rec := append([]byte{23, 3, 3, 0x3f, 0xf0}, bytes.Repeat([]byte{7}, 0x3ff0)...)
	off := uint64(len(c))
	for i := range 3 { // held: no ServerHello yet
		h.Data(reassembly.SideA, &reassembly.Chunk{Data: rec, Offset: off, Packet: uint64(i + 2)})
		off += uint64(len(rec))
	}
	tc := h.(*lazyConn).t
	if tc == nil || tc.charged < 3*int64(len(rec)) || b.Peak() < tc.charged {
		t.Fatalf("TLS layer %p: %d bytes charged for %d held, peak %d", tc, tc.charged, 3*len(rec), b.Peak())
	}
	h.Close(reassembly.ClosedEOF)
	if b.Used() > 2<<16 { // what accounts keep in reserve (two slabs)
		t.Errorf("%d bytes still charged after the connection closed", b.Used())
	}
}
