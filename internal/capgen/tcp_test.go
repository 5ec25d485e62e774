package capgen

import (
	"bytes"
	"slices"
	"testing"
)

func TestHandshakeAndClose(t *testing.T) {
	c := NewCapture(CaptureOptions{})
	cfg := ConnConfig{Link: Link{Type: LinkEthernet}, ClientISN: 100, ServerISN: 5000, MSS: 1000}
	conn, err := NewConn(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	conn.Open()
	conn.Send(Client, []byte("abc"))
	conn.Send(Server, []byte("defg"))
	if conn.Sent(Client) != 3 || conn.Sent(Server) != 4 {
		t.Errorf("Sent: %d, %d", conn.Sent(Client), conn.Sent(Server))
	}
	conn.Close(Client)
	if err := conn.Finish(); err != nil {
		t.Fatal(err)
	}
	got := decodePackets(t, c, conn.Config().Client)
	want := []pkt{
		{from: Client, seq: 100, ack: 0, flags: flagSYN, mss: 1000},
		{from: Server, seq: 5000, ack: 101, flags: flagSYN | flagACK, mss: 1000},
		{from: Client, seq: 101, ack: 5001, flags: flagACK},
		{from: Client, seq: 101, ack: 5001, flags: flagACK | flagPSH, payload: []byte("abc")},
		{from: Server, seq: 5001, ack: 104, flags: flagACK},
		{from: Server, seq: 5001, ack: 104, flags: flagACK | flagPSH, payload: []byte("defg")},
		{from: Client, seq: 104, ack: 5005, flags: flagACK},
		{from: Client, seq: 104, ack: 5005, flags: flagFIN | flagACK},
		{from: Server, seq: 5005, ack: 105, flags: flagFIN | flagACK},
		{from: Client, seq: 105, ack: 5006, flags: flagACK},
	}
	comparePkts(t, got, want)
	// Timestamps advance by the default step.
	ps := c.Packets()
	if !ps[0].Time.Equal(defaultBase()) || ps[1].Time.Sub(ps[0].Time) != DefaultStep {
		t.Errorf("times %v %v", ps[0].Time, ps[1].Time)
	}
}

func comparePkts(t *testing.T, got, want []pkt) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d packets, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.from != w.from || g.seq != w.seq || g.ack != w.ack || g.flags != w.flags || g.mss != w.mss || !bytes.Equal(g.payload, w.payload) {
			t.Errorf("packet %d: got %+v, want %+v", i+1, g, w)
		}
	}
}

func TestReset(t *testing.T) {
	c := NewCapture(CaptureOptions{})
	conn, err := NewConn(c, ConnConfig{Link: Link{Type: LinkRaw}, ClientISN: 1, ServerISN: 2})
	if err != nil {
		t.Fatal(err)
	}
	conn.Open()
	conn.Send(Client, []byte("x"))
	conn.Reset(Server)
	if err := conn.Finish(); err != nil {
		t.Fatal(err)
	}
	pkts := decodePackets(t, c, conn.Config().Client)
	last := pkts[len(pkts)-1]
	if last.from != Server || last.flags != flagRST|flagACK || last.seq != 3 || last.ack != 3 {
		t.Errorf("RST packet %+v", last)
	}
}

func TestSegmentation(t *testing.T) {
	data := RandomBytes(2500, 1)
	tests := []struct {
		name     string
		mss      int
		sizes    []int
		wantLens []int
	}{
		{"mss", 1000, nil, []int{1000, 1000, 500}},
		{"explicit", 1460, []int{1, 2, 3, 1000}, []int{1, 2, 3, 1000, 1000, 494}},
		{"sizes capped by mss", 600, []int{1000}, []int{600, 600, 600, 600, 100}},
		{"one byte", 1460, []int{1}, slices.Repeat([]int{1}, 2500)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCapture(CaptureOptions{})
			conn, err := NewConn(c, ConnConfig{Link: Link{Type: LinkEthernet}, MSS: tc.mss})
			if err != nil {
				t.Fatal(err)
			}
			conn.Open()
			conn.SendSegments(Server, data, tc.sizes...)
			if err := conn.Finish(); err != nil {
				t.Fatal(err)
			}
			pkts := decodePackets(t, c, conn.Config().Client)
			var lens []int
			acks := 0
			for _, p := range pkts[3:] {
				if p.from == Server {
					lens = append(lens, len(p.payload))
				} else {
					acks++
				}
			}
			if !slices.Equal(lens, tc.wantLens) {
				t.Errorf("segment lengths %v, want %v", lens, tc.wantLens)
			}
			if want := (len(tc.wantLens)-1)/2 + 1; acks != want {
				t.Errorf("%d ACKs, want %d", acks, want)
			}
			got, seen := reassemble(pkts, Server, conn.Config().ServerISN, len(data))
			if !bytes.Equal(got, data) || slices.Contains(seen, false) {
				t.Error("reassembled stream differs")
			}
			if last := pkts[len(pkts)-1]; last.from != Client || last.ack != conn.Config().ServerISN+1+uint32(len(data)) {
				t.Errorf("final ACK %+v", last)
			}
		})
	}
}

func TestSequenceWrap(t *testing.T) {
	c := NewCapture(CaptureOptions{})
	isn := uint32(0xffffffff - 100)
	conn, err := NewConn(c, ConnConfig{Link: Link{Type: LinkEthernet}, ClientISN: isn, MSS: 64})
	if err != nil {
		t.Fatal(err)
	}
	conn.Open()
	data := RandomBytes(300, 2)
	conn.Send(Client, data)
	if err := conn.Finish(); err != nil {
		t.Fatal(err)
	}
	pkts := decodePackets(t, c, conn.Config().Client)
	wrapped := false
	for _, p := range pkts {
		if p.from == Client && len(p.payload) > 0 && p.seq < isn {
			wrapped = true
		}
	}
	if !wrapped {
		t.Error("sequence numbers did not wrap")
	}
	got, _ := reassemble(pkts, Client, isn, len(data))
	if !bytes.Equal(got, data) {
		t.Error("reassembled stream differs")
	}
}

func TestImpairments(t *testing.T) {
	data := RandomBytes(1000, 3) // 10 segments of 100 bytes
	tests := []struct {
		name string
		imp  Impairment
		// wantSeqs are the client data segments' stream offsets, in order.
		wantOffs    []int
		wantLens    []int
		wantMissing []Range
		differAt    int // index of a segment whose bytes differ from the stream, or -1
	}{
		{"drop", Impairment{Drop, Client, 250}, []int{0, 100, 300, 400, 500, 600, 700, 800, 900}, nil,
			[]Range{{200, 300}}, -1},
		{"duplicate", Impairment{Duplicate, Client, 0}, []int{0, 0, 100, 200, 300, 400, 500, 600, 700, 800, 900}, nil, nil, -1},
		{"differ", Impairment{RetransmitDiffer, Client, 999}, []int{0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 900}, nil, nil, 10},
		{"reorder", Impairment{Reorder, Client, 310}, []int{0, 100, 200, 400, 300, 500, 600, 700, 800, 900}, nil, nil, -1},
		{"overlap", Impairment{Overlap, Client, 500}, []int{0, 100, 200, 300, 400, 500, 550, 700, 800, 900},
			[]int{100, 100, 100, 100, 100, 100, 150, 100, 100, 100}, nil, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCapture(CaptureOptions{})
			cfg := ConnConfig{Link: Link{Type: LinkEthernet}, MSS: 100, ClientISN: 1000}
			conn, err := NewConn(c, cfg)
			if err != nil {
				t.Fatal(err)
			}
			conn.Impair(tc.imp)
			conn.Open()
			conn.Send(Client, data)
			if err := conn.Finish(); err != nil {
				t.Fatal(err)
			}
			pkts := decodePackets(t, c, conn.Config().Client)
			var offs, lens []int
			var segs []pkt
			for _, p := range pkts[3:] {
				if p.from == Client && len(p.payload) > 0 {
					offs = append(offs, int(p.seq-1001))
					lens = append(lens, len(p.payload))
					segs = append(segs, p)
				}
			}
			if !slices.Equal(offs, tc.wantOffs) {
				t.Errorf("segment offsets %v, want %v", offs, tc.wantOffs)
			}
			if tc.wantLens != nil && !slices.Equal(lens, tc.wantLens) {
				t.Errorf("segment lengths %v, want %v", lens, tc.wantLens)
			}
			for i, s := range segs {
				same := bytes.Equal(s.payload, data[offs[i]:offs[i]+len(s.payload)])
				if same == (i == tc.differAt) {
					t.Errorf("segment %d: matches stream = %v", i, same)
				}
			}
			if got := conn.Missing(Client); !slices.Equal(got, tc.wantMissing) {
				t.Errorf("missing %v, want %v", got, tc.wantMissing)
			}
			// The peer's last ACK covers everything, including dropped bytes.
			if last := pkts[len(pkts)-1]; last.from != Server || last.ack != 1001+uint32(len(data)) {
				t.Errorf("final ACK %+v", last)
			}
			got, seen := reassemble(pkts, Client, 1000, len(data))
			for i := range data {
				inMissing := false
				for _, m := range tc.wantMissing {
					inMissing = inMissing || (uint64(i) >= m.Start && uint64(i) < m.End)
				}
				if seen[i] == inMissing || (seen[i] && got[i] != data[i]) {
					t.Fatalf("byte %d: seen %v, value ok %v", i, seen[i], got[i] == data[i])
				}
			}
		})
	}
}

func TestReorderAcksHole(t *testing.T) {
	c := NewCapture(CaptureOptions{})
	conn, err := NewConn(c, ConnConfig{Link: Link{Type: LinkEthernet}, MSS: 100, ClientISN: 1000, AckEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	conn.Impair(Impairment{Reorder, Client, 100})
	conn.Open()
	conn.Send(Client, RandomBytes(300, 4))
	if err := conn.Finish(); err != nil {
		t.Fatal(err)
	}
	var acks []uint32
	for _, p := range decodePackets(t, c, conn.Config().Client)[3:] {
		if p.from == Server {
			acks = append(acks, p.ack-1001)
		}
	}
	// After segment 0: 100; after segment 1 (held): still 100; after 2+1
	// arrive: 300 is only acknowledged at the end.
	if want := []uint32{100, 100, 300}; !slices.Equal(acks, want) {
		t.Errorf("ACK offsets %v, want %v", acks, want)
	}
}

func TestStartAt(t *testing.T) {
	c := NewCapture(CaptureOptions{})
	conn, err := NewConn(c, ConnConfig{Link: Link{Type: LinkEthernet}, MSS: 100, ServerISN: 7})
	if err != nil {
		t.Fatal(err)
	}
	conn.StartAt(Server, 250)
	conn.Open()
	conn.Send(Client, []byte("request"))
	conn.Send(Server, RandomBytes(400, 5))
	conn.Send(Client, []byte("more"))
	conn.Close(Server)
	if err := conn.Finish(); err != nil {
		t.Fatal(err)
	}
	pkts := decodePackets(t, c, conn.Config().Client)
	first := pkts[0]
	if first.from != Server || first.seq != 7+1+250 || len(first.payload) != 50 {
		t.Errorf("first packet %+v", first)
	}
	if got := conn.Missing(Server); !slices.Equal(got, []Range{{0, 250}}) {
		t.Errorf("server missing %v", got)
	}
	if got := conn.Missing(Client); !slices.Equal(got, []Range{{0, 7}}) {
		t.Errorf("client missing %v", got)
	}
	for _, p := range pkts {
		if p.flags&flagSYN != 0 {
			t.Error("SYN in mid-stream capture")
		}
	}
}

func TestFinishErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func(c *Conn)
	}{
		{"unmatched impairment", func(c *Conn) {
			c.Impair(Impairment{Drop, Client, 5000})
			c.Send(Client, []byte("short"))
		}},
		{"reorder last segment", func(c *Conn) {
			c.Impair(Impairment{Reorder, Client, 0})
			c.Send(Client, []byte("one segment"))
		}},
		{"overlap last segment", func(c *Conn) {
			c.Impair(Impairment{Overlap, Client, 0})
			c.Send(Client, []byte("one segment"))
		}},
		{"start never reached", func(c *Conn) {
			c.StartAt(Server, 10)
			c.Send(Server, []byte("short"))
		}},
		{"zero segment size", func(c *Conn) { c.SendSegments(Client, []byte("x"), 0) }},
		{"send after fin", func(c *Conn) {
			c.Close(Client)
			c.Send(Client, []byte("x"))
		}},
		{"double close", func(c *Conn) {
			c.Close(Client)
			c.Close(Server)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := NewConn(NewCapture(CaptureOptions{}), ConnConfig{Link: Link{Type: LinkEthernet}})
			if err != nil {
				t.Fatal(err)
			}
			tc.run(conn)
			if err := conn.Finish(); err == nil {
				t.Error("Finish succeeded")
			}
		})
	}
}

func FuzzConnSend(f *testing.F) {
	f.Add([]byte("hello world, this is a test"), uint8(3), uint8(5), uint16(4), uint8(1))
	f.Add(RandomBytes(600, 1), uint8(0), uint8(50), uint16(100), uint8(4))
	f.Add([]byte{1}, uint8(1), uint8(1), uint16(0), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, size1, size2 uint8, impOff uint16, kind uint8) {
		if len(data) == 0 || len(data) > 2000 {
			return
		}
		c := NewCapture(CaptureOptions{})
		conn, err := NewConn(c, ConnConfig{Link: Link{Type: LinkRaw}, MSS: 200, ClientISN: 0xffffff00})
		if err != nil {
			t.Fatal(err)
		}
		k := ImpairKind(kind % 6) // 0 means no impairment
		if k != 0 {
			conn.Impair(Impairment{Kind: k, Side: Client, Offset: uint64(impOff)})
		}
		conn.Open()
		sizes := []int{int(size1) + 1, int(size2) + 1}
		conn.SendSegments(Client, data, sizes...)
		conn.Close(Client)
		if conn.Finish() != nil {
			return // impossible impairment (no later segment, offset past the end)
		}
		pkts := decodePackets(t, c, conn.Config().Client)
		got, seen := reassemble(pkts, Client, 0xffffff00, len(data))
		for i := range data {
			if seen[i] && got[i] != data[i] {
				t.Fatalf("byte %d differs", i)
			}
			if !seen[i] && k != Drop {
				t.Fatalf("byte %d missing without a drop", i)
			}
		}
	})
}
