package reassembly

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	ci = 1000 // client ISN: client data starts at seq 1001
	si = 5000 // server ISN: server data starts at seq 5001
)

func TestInOrder(t *testing.T) {
	steps := join(handshake(ci, si), []step{
		{flags: fPA, seq: 1001, ack: 5001, payload: "hello "},
		{flags: fPA, seq: 1007, ack: 5001, payload: "world"},
		{fromSrv: true, flags: fPA, seq: 5001, ack: 1012, payload: "HTTP"},
		{flags: fFA, seq: 1012, ack: 5005},
		{fromSrv: true, flags: fFA, seq: 5005, ack: 1013},
		{flags: fA, seq: 1013, ack: 5006},
	})
	a, f := run(t, Config{}, steps, true)
	if len(f.conns) != 1 {
		t.Fatalf("got %d connections, want 1", len(f.conns))
	}
	r := f.conns[0]
	want := `data 0 @0 "hello " p4
data 0 @6 "world" p5
data 1 @0 "HTTP" p6
note 0 kind2 @11+0 p7
note 1 kind2 @4+0 p8
close 1
`
	if got := eventsString(r.events); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	if !r.info.SawSYN || r.info.Addr != [2]netip.AddrPort{cliAddr, srvAddr} || r.info.FirstPacket != 1 || !r.info.FirstTime.Equal(t0) {
		t.Errorf("info = %+v", r.info)
	}
	st := a.Stats()
	if st.Conns != 1 || st.Active != 0 || st.Packets != 9 || st.BytesDelivered != 15 || st.Ignored != 1 || st.Gaps != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestOutOfOrderPermutations(t *testing.T) {
	parts := []string{"abc", "def", "ghi", "jkl"}
	perms := [][]int{
		{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 0, 3, 2}, {2, 0, 3, 1}, {1, 2, 3, 0}, {0, 3, 1, 2},
	}
	for _, perm := range perms {
		t.Run(fmt.Sprint(perm), func(t *testing.T) {
			steps := handshake(ci, si)
			pktOf := map[string]uint64{}
			wantOOO := uint64(0)
			have := make([]bool, len(parts))
			next := 0
			for _, k := range perm {
				steps = append(steps, step{flags: fPA, seq: uint32(1001 + 3*k), ack: 5001, payload: parts[k]})
				pktOf[parts[k]] = uint64(len(steps))
				if k > next {
					wantOOO++
				}
				have[k] = true
				for next < len(parts) && have[next] {
					next++
				}
			}
			a, f := run(t, Config{}, steps, true)
			r := f.conns[0]
			if got := string(r.stream[SideA]); got != "abcdefghijkl" {
				t.Fatalf("stream %q", got)
			}
			for _, e := range r.of("data") {
				if e.pkt != pktOf[e.data] {
					t.Errorf("chunk %q has packet %d, want %d", e.data, e.pkt, pktOf[e.data])
				}
			}
			st := a.Stats()
			if st.OutOfOrder != wantOOO || st.Gaps != 0 || st.Buffered != 0 || st.Retransmissions != 0 {
				t.Errorf("stats = %+v, want OutOfOrder %d", st, wantOOO)
			}
			if r.reason != ClosedEOF || r.closes != 1 {
				t.Errorf("close %d x%d", r.reason, r.closes)
			}
		})
	}
}

func TestRetransmissions(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		segs    []step // client data after the handshake
		stream  string
		chunks  []string
		notes   [][2]uint64 // offset, len of NoteRetransmitDiffers
		retrans uint64
	}{
		{
			name:    "identical",
			segs:    []step{{seq: 1001, payload: "hello"}, {seq: 1001, payload: "hello"}},
			stream:  "hello",
			chunks:  []string{"hello"},
			retrans: 1,
		},
		{
			name:    "differing delivered",
			segs:    []step{{seq: 1001, payload: "hello"}, {seq: 1001, payload: "hEllO"}},
			stream:  "hello",
			chunks:  []string{"hello"},
			notes:   [][2]uint64{{1, 4}},
			retrans: 1,
		},
		{
			name:    "differing buffered",
			segs:    []step{{seq: 1004, payload: "def"}, {seq: 1004, payload: "dXf"}, {seq: 1001, payload: "abc"}},
			stream:  "abcdef",
			chunks:  []string{"abc", "def"},
			notes:   [][2]uint64{{4, 1}},
			retrans: 1,
		},
		{
			name:    "overlap partially new",
			segs:    []step{{seq: 1001, payload: "abcde"}, {seq: 1003, payload: "cdefgh"}},
			stream:  "abcdefgh",
			chunks:  []string{"abcde", "fgh"},
			retrans: 1,
		},
		{
			name:    "overlap partially new differing",
			segs:    []step{{seq: 1001, payload: "abcde"}, {seq: 1003, payload: "cXefgh"}},
			stream:  "abcdefgh",
			chunks:  []string{"abcde", "fgh"},
			notes:   [][2]uint64{{3, 1}},
			retrans: 1,
		},
		{
			name:    "overlap with buffered",
			segs:    []step{{seq: 1007, payload: "ghi"}, {seq: 1004, payload: "defGhij"}, {seq: 1001, payload: "abc"}},
			stream:  "abcdefghij",
			chunks:  []string{"abc", "def", "ghi", "j"},
			notes:   [][2]uint64{{6, 1}},
			retrans: 1,
		},
		{
			name:    "covers several buffered pieces",
			segs:    []step{{seq: 1003, payload: "c"}, {seq: 1005, payload: "e"}, {seq: 1001, payload: "abcdefg"}},
			stream:  "abcdefg",
			chunks:  []string{"ab", "c", "d", "e", "fg"},
			retrans: 1,
		},
		{
			name:    "outside recent window",
			cfg:     Config{RecentWindow: 4},
			segs:    []step{{seq: 1001, payload: "abcdefgh"}, {seq: 1001, payload: "Xbcdefgh"}, {seq: 1001, payload: "abcdefgX"}},
			stream:  "abcdefgh",
			chunks:  []string{"abcdefgh"},
			notes:   [][2]uint64{{7, 1}},
			retrans: 2,
		},
		{
			name:    "window wraps",
			cfg:     Config{RecentWindow: 5},
			segs:    []step{{seq: 1001, payload: "abc"}, {seq: 1004, payload: "defg"}, {seq: 1003, payload: "cdeFg"}},
			stream:  "abcdefg",
			chunks:  []string{"abc", "defg"},
			notes:   [][2]uint64{{5, 1}},
			retrans: 1,
		},
		{
			name:   "keep-alive is not a retransmission",
			segs:   []step{{seq: 1001, payload: "abc"}, {seq: 1003, payload: "\x00"}},
			stream: "abc",
			chunks: []string{"abc"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := handshake(ci, si)
			for _, s := range tt.segs {
				s.flags, s.ack = fPA, 5001
				steps = append(steps, s)
			}
			a, f := run(t, tt.cfg, steps, true)
			r := f.conns[0]
			if got := string(r.stream[SideA]); got != tt.stream {
				t.Errorf("stream %q, want %q", got, tt.stream)
			}
			var chunks []string
			for _, e := range r.of("data") {
				chunks = append(chunks, e.data)
			}
			if !slices.Equal(chunks, tt.chunks) {
				t.Errorf("chunks %q, want %q", chunks, tt.chunks)
			}
			var notes [][2]uint64
			for _, e := range r.of("note") {
				if e.note == NoteRetransmitDiffers {
					notes = append(notes, [2]uint64{e.off, e.n})
				}
			}
			if !slices.Equal(notes, tt.notes) {
				t.Errorf("notes %v, want %v", notes, tt.notes)
			}
			if st := a.Stats(); st.Retransmissions != tt.retrans || st.Gaps != 0 {
				t.Errorf("stats %+v, want %d retransmissions", st, tt.retrans)
			}
		})
	}
}

func TestLostSegmentAcked(t *testing.T) {
	// A pure ACK of the server's, to let packets pass.
	idle := func(n int) []step {
		out := make([]step, n)
		for i := range out {
			out[i] = step{fromSrv: true, flags: fA, seq: 5001, ack: 1004}
		}
		return out
	}
	tests := []struct {
		name  string
		grace int // Config.AckGrace; 0: declare at once (-1)
		segs  []step
		want  string
	}{
		{
			name: "ack after buffered data",
			segs: []step{
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
				{flags: fPA, seq: 1007, ack: 5001, payload: "ghi"},
				{fromSrv: true, flags: fA, seq: 5001, ack: 1010},
			},
			want: `data 0 @0 "abc" p4
gap 0 @3+3 acknowledged but not captured
data 0 @6 "ghi" p5
close 5
`,
		},
		{
			name: "ack before buffered data",
			segs: []step{
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
				{fromSrv: true, flags: fA, seq: 5001, ack: 1010},
				{flags: fPA, seq: 1007, ack: 5001, payload: "ghi"},
			},
			want: `data 0 @0 "abc" p4
gap 0 @3+3 acknowledged but not captured
data 0 @6 "ghi" p6
close 5
`,
		},
		{
			name: "ack without buffered data waits",
			segs: []step{
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
				{fromSrv: true, flags: fA, seq: 5001, ack: 1007},
				{flags: fPA, seq: 1004, ack: 5001, payload: "def"},
			},
			want: `data 0 @0 "abc" p4
data 0 @3 "def" p6
close 5
`,
		},
		{
			name: "acked data never seen is a gap at the end",
			segs: []step{
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
				{fromSrv: true, flags: fA, seq: 5001, ack: 1007},
			},
			want: `data 0 @0 "abc" p4
gap 0 @3+3 end of input
close 5
`,
		},
		{
			name: "ack short of the hole's end waits",
			segs: []step{
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
				{flags: fPA, seq: 1007, ack: 5001, payload: "ghi"},
				{fromSrv: true, flags: fA, seq: 5001, ack: 1005},
				{flags: fPA, seq: 1004, ack: 5001, payload: "def"},
			},
			want: `data 0 @0 "abc" p4
data 0 @3 "def" p7
data 0 @6 "ghi" p5
close 5
`,
		},
		{
			name: "FIN after a hole, acknowledged",
			segs: []step{
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
				{flags: fFA, seq: 1007, ack: 5001},
				{fromSrv: true, flags: fA, seq: 5001, ack: 1008},
				{fromSrv: true, flags: fFA, seq: 5001, ack: 1008},
			},
			want: `data 0 @0 "abc" p4
gap 0 @3+3 acknowledged but not captured
note 0 kind2 @6+0 p5
note 1 kind2 @0+0 p7
close 1
`,
		},
		{
			// Capture order is not wire order: the ACK and the data
			// after the hole were captured before the hole's data.
			name:  "the hole's data captured after its ACK",
			grace: 4,
			segs: []step{
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
				{flags: fPA, seq: 1007, ack: 5001, payload: "ghi"},
				{fromSrv: true, flags: fA, seq: 5001, ack: 1010},
				{flags: fPA, seq: 1004, ack: 5001, payload: "def"},
			},
			want: `data 0 @0 "abc" p4
data 0 @3 "def" p7
data 0 @6 "ghi" p5
close 5
`,
		},
		{
			name:  "an acknowledged hole waits AckGrace packets",
			grace: 4,
			segs: join([]step{
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
				{flags: fPA, seq: 1007, ack: 5001, payload: "ghi"},
				{fromSrv: true, flags: fA, seq: 5001, ack: 1010}, // p6: found acknowledged
			}, idle(2), []step{{flags: fPA, seq: 1010, ack: 5001, payload: "jkl"}}, // p9: waits
				idle(1), []step{{flags: fPA, seq: 1013, ack: 5001, payload: "mno"}}), // p11: 5 packets on
			want: `data 0 @0 "abc" p4
gap 0 @3+3 acknowledged but not captured
data 0 @6 "ghi" p5
data 0 @9 "jkl" p9
data 0 @12 "mno" p11
close 5
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grace := tt.grace
			if grace == 0 {
				grace = -1
			}
			_, f := run(t, Config{AckGrace: grace}, join(handshake(ci, si), tt.segs), true)
			got := eventsString(f.conns[0].events)
			if got != tt.want {
				t.Errorf("events:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestBufferLimits(t *testing.T) {
	per := 10 + pieceOverhead
	t.Run("per connection", func(t *testing.T) {
		steps := handshake(ci, si)
		// The first 10 bytes are lost; three later segments fill the buffer.
		for k := 1; k <= 3; k++ {
			steps = append(steps, step{flags: fPA, seq: uint32(1001 + 10*k), ack: 5001, payload: strings.Repeat(string(rune('a'+k)), 10)})
		}
		a, f := run(t, Config{MaxBufferedPerConn: 2*per + 5}, steps, false)
		r := f.conns[0]
		want := `gap 0 @0+10 buffer limit
data 0 @10 "bbbbbbbbbb" p4
data 0 @20 "cccccccccc" p5
data 0 @30 "dddddddddd" p6
`
		if got := eventsString(r.events); got != want {
			t.Errorf("events:\n%s\nwant:\n%s", got, want)
		}
		st := a.Stats()
		if st.Buffered != 0 || st.PeakBuffered != 3*per || st.Gaps != 1 || st.BytesLost != 10 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("total", func(t *testing.T) {
		c1 := netip.MustParseAddrPort("10.0.0.1:1001")
		c2 := netip.MustParseAddrPort("10.0.0.1:1002")
		steps := []step{
			{cli: c1, flags: fPA, seq: 100, payload: "aaaaaaaaaa"},
			{cli: c1, flags: fPA, seq: 120, payload: "cccccccccc"}, // buffered
			{cli: c2, flags: fPA, seq: 100, payload: "AAAAAAAAAA"},
			{cli: c2, flags: fPA, seq: 120, payload: "CCCCCCCCCC"}, // over the total
		}
		a, f := run(t, Config{MaxBufferedTotal: per + 5}, steps, false)
		if got := eventsString(f.conns[1].events); got != `data 0 @0 "AAAAAAAAAA" p3
gap 0 @10+10 buffer limit
data 0 @20 "CCCCCCCCCC" p4
` {
			t.Errorf("conn 2 events:\n%s", got)
		}
		if got := eventsString(f.conns[0].events); got != `data 0 @0 "aaaaaaaaaa" p1
` {
			t.Errorf("conn 1 events:\n%s", got)
		}
		if st := a.Stats(); st.Buffered != per {
			t.Errorf("buffered %d, want %d", st.Buffered, per)
		}
	})
}

func TestFINAndRST(t *testing.T) {
	tests := []struct {
		name   string
		segs   []step
		want   string
		active int
	}{
		{
			name: "FIN both sides",
			segs: []step{
				{flags: fFA, seq: 1001, ack: 5001, payload: "bye"},
				{fromSrv: true, flags: fFA, seq: 5001, ack: 1005},
				{flags: fA, seq: 1005, ack: 5002},
			},
			want: `data 0 @0 "bye" p4
note 0 kind2 @3+0 p4
note 1 kind2 @0+0 p5
close 1
`,
		},
		{
			name: "FIN before the data it follows",
			segs: []step{
				{flags: fFA, seq: 1004, ack: 5001, payload: "def"},
				{fromSrv: true, flags: fFA, seq: 5001, ack: 1001},
				{flags: fPA, seq: 1001, ack: 5002, payload: "abc"},
			},
			want: `note 1 kind2 @0+0 p5
data 0 @0 "abc" p6
data 0 @3 "def" p4
note 0 kind2 @6+0 p4
close 1
`,
		},
		{
			name: "one FIN stays open",
			segs: []step{
				{flags: fFA, seq: 1001, ack: 5001, payload: "bye"},
			},
			want: `data 0 @0 "bye" p4
note 0 kind2 @3+0 p4
`,
			active: 1,
		},
		{
			name: "RST",
			segs: []step{
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
				{flags: fPA, seq: 1007, ack: 5001, payload: "ghi"},
				{fromSrv: true, flags: fR | fA, seq: 5001, ack: 1004},
				{flags: fPA, seq: 1010, ack: 5001, payload: "late"},
			},
			want: `data 0 @0 "abc" p4
gap 0 @3+3 connection reset
data 0 @6 "ghi" p5
note 1 kind3 @0+0 p6
close 2
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, f := run(t, Config{}, join(handshake(ci, si), tt.segs), false)
			if len(f.conns) != 1 {
				t.Fatalf("%d connections", len(f.conns))
			}
			if got := eventsString(f.conns[0].events); got != tt.want {
				t.Errorf("events:\n%s\nwant:\n%s", got, tt.want)
			}
			if st := a.Stats(); st.Active != tt.active || st.Buffered != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestMidStreamStart(t *testing.T) {
	steps := []step{
		{fromSrv: true, flags: fPA, seq: 9000, ack: 7000, payload: "xy"},
		{flags: fPA, seq: 7000, ack: 9002, payload: "abc"},
		{flags: fPA, seq: 6990, ack: 9002, payload: "0123456789"}, // older than the start
		{flags: fPA, seq: 6998, ack: 9002, payload: "zzabcd"},     // partly older
	}
	a, f := run(t, Config{}, steps, true)
	r := f.conns[0]
	want := `data 0 @0 "xy" p1
data 1 @0 "abc" p2
data 1 @3 "d" p4
close 5
`
	if got := eventsString(r.events); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	if r.info.SawSYN || r.info.Addr != [2]netip.AddrPort{srvAddr, cliAddr} {
		t.Errorf("info %+v: side A should be the first packet's source", r.info)
	}
	if st := a.Stats(); st.OldSegments != 1 || st.Retransmissions != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestSYNACKFirst(t *testing.T) {
	steps := []step{
		{fromSrv: true, flags: fSA, seq: si, ack: ci + 1},
		{flags: fS, seq: ci}, // the SYN, captured late: same connection
		{flags: fPA, seq: 1004, ack: 5001, payload: "def"},
		{fromSrv: true, flags: fPA, seq: 5001, ack: 1001, payload: "srv"},
	}
	_, f := run(t, Config{}, steps, true)
	if len(f.conns) != 1 {
		t.Fatalf("%d connections, want 1", len(f.conns))
	}
	r := f.conns[0]
	if r.info.SawSYN || r.info.Addr != [2]netip.AddrPort{cliAddr, srvAddr} {
		t.Errorf("info %+v: side A should be the SYN-ACK's receiver", r.info)
	}
	// The client's stream starts at the SYN-ACK's acknowledgement number,
	// so the first three bytes are missing.
	want := `data 1 @0 "srv" p4
gap 0 @0+3 end of input
data 0 @3 "def" p3
close 5
`
	if got := eventsString(r.events); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
}

func TestTFO(t *testing.T) {
	steps := []step{
		{flags: fS, seq: ci, payload: "GET"},
		{fromSrv: true, flags: fSA, seq: si, ack: ci + 4},
		{flags: fPA, seq: ci + 4, ack: si + 1, payload: " /"},
	}
	_, f := run(t, Config{}, steps, false)
	if got := string(f.conns[0].stream[SideA]); got != "GET /" {
		t.Errorf("stream %q", got)
	}
}

func TestWrapAround(t *testing.T) {
	const isn = 0xFFFFFFF8
	// Data starts at 0xFFFFFFF9; the second segment starts at seq 3.
	steps := []step{
		{flags: fS, seq: isn},
		{fromSrv: true, flags: fSA, seq: 0xFFFFFFFF, ack: isn + 1},
		{flags: fPA, seq: 3, ack: 0, payload: "klmnop"},
		{flags: fPA, seq: isn + 1, ack: 0, payload: "abcdefghij"},
		{fromSrv: true, flags: fPA, seq: 0, ack: 9, payload: "ok"},
		{flags: fFA, seq: 9, ack: 2},
		{fromSrv: true, flags: fFA, seq: 2, ack: 10},
	}
	_, f := run(t, Config{}, steps, false)
	r := f.conns[0]
	if got := string(r.stream[SideA]); got != "abcdefghijklmnop" {
		t.Errorf("client stream %q", got)
	}
	if got := string(r.stream[SideB]); got != "ok" {
		t.Errorf("server stream %q", got)
	}
	if r.reason != ClosedFIN {
		t.Errorf("close reason %d, want FIN", r.reason)
	}
}

func TestConnectionIdentity(t *testing.T) {
	data := step{flags: fPA, seq: 1001, ack: 5001, payload: "x"}
	closing := []step{
		{flags: fFA, seq: 1002, ack: 5001},
		{fromSrv: true, flags: fFA, seq: 5001, ack: 1003},
	}
	tests := []struct {
		name    string
		steps   []step
		streams int
		reasons []CloseReason // of each connection after FlushAll
	}{
		{
			name:    "port reuse while open",
			steps:   join(handshake(ci, si), []step{data}, handshake(77777, 88888)),
			streams: 2,
			reasons: []CloseReason{ClosedReused, ClosedEOF},
		},
		{
			name:    "port reuse after close",
			steps:   join(handshake(ci, si), []step{data}, closing, handshake(77777, 88888)),
			streams: 2,
			reasons: []CloseReason{ClosedFIN, ClosedEOF},
		},
		{
			name:    "retransmitted SYN",
			steps:   join(handshake(ci, si), []step{{flags: fS, seq: ci}, data}),
			streams: 1,
			reasons: []CloseReason{ClosedEOF},
		},
		{
			name:    "retransmitted SYN after close",
			steps:   join(handshake(ci, si), []step{data}, closing, []step{{flags: fS, seq: ci}}),
			streams: 1,
			reasons: []CloseReason{ClosedFIN},
		},
		{
			name: "late packets after close",
			steps: join(handshake(ci, si), []step{data}, closing, []step{
				{flags: fA, seq: 1003, ack: 5002},
				{fromSrv: true, flags: fFA, seq: 5001, ack: 1003},
				{flags: fR, seq: 1003},
			}),
			streams: 1,
			reasons: []CloseReason{ClosedFIN},
		},
		{
			name:    "late packets after RST",
			steps:   join(handshake(ci, si), []step{{flags: fR, seq: 1001}, data, data}),
			streams: 1,
			reasons: []CloseReason{ClosedRST},
		},
		{
			name:    "SYN on a connection picked up mid-stream",
			steps:   join([]step{data}, handshake(ci, si)),
			streams: 2,
			reasons: []CloseReason{ClosedReused, ClosedEOF},
		},
		{
			name: "other ports are other connections",
			steps: []step{
				data,
				{cli: netip.MustParseAddrPort("10.0.0.1:40001"), flags: fPA, seq: 1, payload: "y"},
				{cli: netip.MustParseAddrPort("[2001:db8::1]:40000"), srv: netip.MustParseAddrPort("[2001:db8::2]:80"), flags: fPA, seq: 1, payload: "z"},
				{fromSrv: true, flags: fA, seq: 5001, ack: 1002},
			},
			streams: 3,
			reasons: []CloseReason{ClosedEOF, ClosedEOF, ClosedEOF},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, f := run(t, Config{}, tt.steps, true)
			if len(f.conns) != tt.streams {
				t.Fatalf("%d connections, want %d", len(f.conns), tt.streams)
			}
			for i, r := range f.conns {
				if r.closes != 1 || r.reason != tt.reasons[i] {
					t.Errorf("connection %d: closed %d times, reason %d, want %d", i, r.closes, r.reason, tt.reasons[i])
				}
			}
			if st := a.Stats(); st.Conns != uint64(tt.streams) || st.Active != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	c2 := netip.MustParseAddrPort("10.0.0.1:40001")
	c3 := netip.MustParseAddrPort("10.0.0.1:40003")
	steps := []step{
		{flags: fPA, seq: 1001, payload: "abc"},
		{flags: fPA, seq: 1007, payload: "ghi"}, // hole: kept however long the connection is quiet
		{cli: c3, flags: fFA, seq: 1, payload: "y", dt: 2200 * time.Millisecond},
		{cli: c3, fromSrv: true, flags: fFA, seq: 1, ack: 3, dt: 2200 * time.Millisecond}, // both FINs: a tombstone
		{cli: c2, flags: fA, seq: 1, dt: 5 * time.Second},                                 // no payload: may expire
		{cli: c2, flags: fA, seq: 1, dt: 16 * time.Second},                                // sweep: c3's tombstone and c2 expire
		{flags: fPA, seq: 1010, payload: "jkl", dt: 3 * time.Hour},                        // still stream 0
		{cli: c3, flags: fA, seq: 3, dt: 3*time.Hour + time.Second},                       // new stream
	}
	a, f := run(t, Config{IdleTimeout: 10 * time.Second}, steps, true)
	if len(f.conns) != 5 {
		t.Fatalf("%d connections, want 5", len(f.conns))
	}
	if got, want := eventsString(f.conns[0].events), `data 0 @0 "abc" p1
gap 0 @3+3 end of input
data 0 @6 "ghi" p2
data 0 @9 "jkl" p7
close 5
`; got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	want := []CloseReason{ClosedEOF, ClosedFIN, ClosedIdle, ClosedIdle, ClosedEOF}
	for i, r := range f.conns {
		if r.reason != want[i] {
			t.Errorf("connection %d closed with %d, want %d", i, r.reason, want[i])
		}
	}
	if st := a.Stats(); st.Conns != 5 || st.Evictions != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestMaxConnsEviction(t *testing.T) {
	port := func(p uint16) netip.AddrPort { return netip.AddrPortFrom(cliAddr.Addr(), p) }
	steps := []step{
		{cli: port(1), flags: fPA, seq: 1, payload: "a"},
		{cli: port(1), flags: fPA, seq: 3, payload: "c"}, // hole
		{cli: port(2), flags: fPA, seq: 1, payload: "b"},
		{cli: port(3), flags: fPA, seq: 1, payload: "c"}, // evicts port 1
		{cli: port(2), flags: fPA, seq: 2, payload: "b"}, // port 2 is now the most recent
		{cli: port(4), flags: fPA, seq: 1, payload: "d"}, // evicts port 3
	}
	a, f := run(t, Config{MaxConns: 2}, steps, false)
	if got, want := eventsString(f.conns[0].events), `data 0 @0 "a" p1
note 0 kind5 @0+0 p4
gap 0 @1+1 connection evicted
data 0 @2 "c" p2
close 4
`; got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	for i, want := range []int{1, 0, 1, 0} {
		if f.conns[i].closes != want {
			t.Errorf("connection %d closed %d times, want %d", i, f.conns[i].closes, want)
		}
	}
	if st := a.Stats(); st.Evictions != 2 || st.Active != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestSnapLen(t *testing.T) {
	tests := []struct {
		name string
		segs []step
		want string
	}{
		{
			name: "in order",
			segs: []step{
				{flags: fPA, seq: 1001, payload: "abc", cut: 3},
				{flags: fPA, seq: 1007, payload: "ghi"},
			},
			want: `data 0 @0 "abc" p4
gap 0 @3+3 snaplen
data 0 @6 "ghi" p5
`,
		},
		{
			name: "out of order, then retransmitted whole",
			segs: []step{
				{flags: fPA, seq: 1004, payload: "d", cut: 2},
				{flags: fPA, seq: 1001, payload: "abc"},
				{flags: fPA, seq: 1004, payload: "def"},
				{flags: fPA, seq: 1007, payload: "g"},
			},
			want: `data 0 @0 "abc" p5
data 0 @3 "d" p4
gap 0 @4+2 snaplen
data 0 @6 "g" p7
`,
		},
		{
			name: "nothing captured",
			segs: []step{
				{flags: fPA, seq: 1001, cut: 5},
				{flags: fPA, seq: 1006, payload: "f"},
			},
			want: `gap 0 @0+5 snaplen
data 0 @5 "f" p5
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, f := run(t, Config{}, join(handshake(ci, si), tt.segs), false)
			if got := eventsString(f.conns[0].events); got != tt.want {
				t.Errorf("events:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestDataReturnsFalse(t *testing.T) {
	steps := join(handshake(ci, si), []step{
		{flags: fPA, seq: 1007, ack: 5001, payload: "ghi"}, // buffered
		{flags: fPA, seq: 1001, ack: 5001, payload: "abc"}, // delivered; handler stops
		{flags: fPA, seq: 1004, ack: 5001, payload: "def"},
		{fromSrv: true, flags: fPA, seq: 5001, ack: 1010, payload: "srv"},
	})
	f := &recorder{t: t, stopAt: 1}
	a := New(f, Config{})
	feed(a, steps, 1)
	r := f.conns[0]
	if got, want := eventsString(r.events), `data 0 @0 "abc" p5
`; got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	st := a.Stats()
	if st.Buffered != 0 || st.Active != 1 || st.Ignored != 2 {
		t.Errorf("stats %+v", st)
	}
	// FINs from both sides still close it.
	feed(a, []step{
		{flags: fFA, seq: 1010, ack: 5004},
		{fromSrv: true, flags: fFA, seq: 5004, ack: 1011},
	}, uint64(len(steps)+1))
	if r.closes != 1 || r.reason != ClosedFIN {
		t.Errorf("closed %d times with %d, want FIN", r.closes, r.reason)
	}
	a.FlushAll(100, t0)
	if r.closes != 1 {
		t.Errorf("closed %d times", r.closes)
	}
}

func TestNilHandler(t *testing.T) {
	a := New(nilFactory{}, Config{})
	feed(a, join(handshake(ci, si), []step{{flags: fPA, seq: 1001, ack: 5001, payload: "abc"}}), 1)
	a.FlushAll(5, t0)
	if st := a.Stats(); st.Conns != 1 || st.Active != 0 || st.BytesDelivered != 0 {
		t.Errorf("stats %+v", st)
	}
	// A nil segment is ignored.
	a.Process(nil, 6, t0)
}

type nilFactory struct{}

func (nilFactory) NewConn(*ConnInfo) Handler { return nil }

func TestDefaultConfig(t *testing.T) {
	d := DefaultConfig()
	if d.MaxBufferedPerConn != 4<<20 || d.MaxBufferedTotal != 256<<20 || d.MaxConns != 1<<20 ||
		d.IdleTimeout != 2*time.Minute || d.RecentWindow != 4096 {
		t.Errorf("DefaultConfig() = %+v", d)
	}
	if got := (Config{}).withDefaults(); got != d {
		t.Errorf("zero config with defaults = %+v", got)
	}
	if got := (Config{RecentWindow: -1}).withDefaults(); got.RecentWindow != -1 {
		t.Errorf("negative RecentWindow not kept: %+v", got)
	}
}

func TestDataAfterFIN(t *testing.T) {
	tests := []struct {
		name string
		segs []step
		want string
	}{
		{
			name: "FIN drops buffered bytes after it",
			segs: []step{
				{flags: fPA, seq: 1004, ack: 5001, payload: "defghi"},
				{flags: fPA, seq: 1012, ack: 5001, payload: "xyz"},
				{flags: fFA, seq: 1007, ack: 5001},
				{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
			},
			want: `data 0 @0 "abc" p7
data 0 @3 "def" p4
note 0 kind2 @6+0 p6
`,
		},
		{
			name: "bytes after the FIN are ignored",
			segs: []step{
				{flags: fFA, seq: 1001, ack: 5001, payload: "abc"},
				{flags: fPA, seq: 1002, ack: 5001, payload: "bcdef"},
				{flags: fPA, seq: 1004, ack: 5001, payload: "def"},
			},
			want: `data 0 @0 "abc" p4
note 0 kind2 @3+0 p4
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, f := run(t, Config{}, join(handshake(ci, si), tt.segs), false)
			if got := eventsString(f.conns[0].events); got != tt.want {
				t.Errorf("events:\n%s\nwant:\n%s", got, tt.want)
			}
			if st := a.Stats(); st.Buffered != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestTotalLimitOldestConnection(t *testing.T) {
	c2 := netip.MustParseAddrPort("10.0.0.1:40001")
	f := &recorder{t: t}
	a := New(f, Config{})
	feed(a, []step{
		{flags: fPA, seq: 100, payload: "a"},
		{flags: fPA, seq: 102, payload: "c"}, // buffered
		{fromSrv: true, flags: fPA, seq: 500, payload: "A"},
		{fromSrv: true, flags: fPA, seq: 502, payload: "C"}, // buffered, later
	}, 1)
	// Lower the limit: the next packet, of another connection, makes the
	// assembler give up the holes of the connection buffering the longest.
	a.cfg.MaxBufferedTotal = pieceOverhead + 1
	feed(a, []step{{cli: c2, flags: fPA, seq: 1, payload: "x"}}, 5)
	want := `data 0 @0 "a" p1
data 1 @0 "A" p3
gap 0 @1+1 buffer limit
data 0 @2 "c" p2
`
	if got := eventsString(f.conns[0].events); got != want {
		t.Errorf("events:\n%s\nwant:\n%s", got, want)
	}
	if st := a.Stats(); st.Buffered != pieceOverhead+1 {
		t.Errorf("buffered %d, want %d", st.Buffered, pieceOverhead+1)
	}
}

func TestStoppedConnectionRST(t *testing.T) {
	f := &recorder{t: t, stopAt: 1}
	a := New(f, Config{})
	feed(a, join(handshake(ci, si), []step{
		{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
		{flags: fR, seq: 1004},
		{flags: fPA, seq: 1004, ack: 5001, payload: "def"},
	}), 1)
	r := f.conns[0]
	if r.closes != 1 || r.reason != ClosedRST || len(f.conns) != 1 {
		t.Errorf("closed %d times with %d; %d connections", r.closes, r.reason, len(f.conns))
	}
}

// TestClosedConnLeavesTombstone checks that a connection that closed keeps
// only its table entry: its state goes back for reuse at once, late packets
// are counted as ignored without starting a new stream, and the next
// connection reuses the state.
func TestClosedConnLeavesTombstone(t *testing.T) {
	a, f := run(t, Config{}, join(handshake(ci, si), []step{
		{flags: fPA, seq: 1001, ack: 5001, payload: "hello"},
		{flags: fFA, seq: 1006, ack: 5001},
		{fromSrv: true, flags: fFA, seq: 5001, ack: 1007},
	}), false)
	if r := f.conns[0]; r.closes != 1 || r.reason != ClosedFIN {
		t.Fatalf("connection closed %d times with %d, want once with %d", r.closes, r.reason, ClosedFIN)
	}
	if a.table.Len() != 1 || a.conns.Len() != 1 {
		t.Fatalf("%d tracked, %d states free; want the tombstone tracked and its state free",
			a.table.Len(), a.conns.Len())
	}
	ignored := a.Stats().Ignored
	feed(a, []step{{flags: fA, seq: 1007, ack: 5002}}, 7) // the last ACK, late
	if len(f.conns) != 1 || a.Stats().Ignored != ignored+1 {
		t.Errorf("late ACK: %d connections, %d ignored; want 1 and %d", len(f.conns), a.Stats().Ignored, ignored+1)
	}
	feed(a, []step{{cli: netip.AddrPortFrom(cliAddr.Addr(), 40000), flags: fS, seq: 77}}, 8)
	if len(f.conns) != 2 || a.conns.Len() != 0 {
		t.Errorf("new connection: %d connections, %d states free; want 2 and the freed state reused",
			len(f.conns), a.conns.Len())
	}
}

// TestHoleNotes: a side that starts buffering bytes after a hole is noted
// once per hole, with the hole and the packet after it, and again when
// nothing waits any more, before the last bytes that waited.
func TestHoleNotes(t *testing.T) {
	segs := []step{
		{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
		{flags: fPA, seq: 1007, ack: 5001, payload: "ghi"}, // p5: hole 3+3
		{flags: fPA, seq: 1010, ack: 5001, payload: "jkl"}, // p6: same hole
		{flags: fPA, seq: 1004, ack: 5001, payload: "def"}, // p7: filled
		{flags: fPA, seq: 1016, ack: 5001, payload: "pqr"}, // p8: hole 12+3
	}
	_, f := run(t, Config{}, join(handshake(ci, si), segs), true)
	var got []string
	for _, e := range f.conns[0].holes {
		if e.note == NoteHoleDone {
			got = append(got, fmt.Sprintf("done %d @%d p%d", e.side, e.off, e.pkt))
			continue
		}
		got = append(got, fmt.Sprintf("%d @%d+%d p%d", e.side, e.off, e.n, e.pkt))
	}
	// The hole at 12 is declared lost at the end of the input.
	if want := []string{"0 @3+3 p5", "done 0 @9 p7", "0 @12+3 p8", "done 0 @15 p9"}; !slices.Equal(got, want) {
		t.Errorf("hole notes %q, want %q", got, want)
	}
}

// TestStalledDeclaresAckedHoles: when the input stalls, an acknowledged hole
// still within its grace is declared lost at once and what waited behind it
// is delivered; a hole nobody acknowledged keeps waiting.
func TestStalledDeclaresAckedHoles(t *testing.T) {
	segs := []step{
		{flags: fPA, seq: 1001, ack: 5001, payload: "abc"},
		{flags: fPA, seq: 1007, ack: 5001, payload: "ghi"},
		{fromSrv: true, flags: fA, seq: 5001, ack: 1010},
		{fromSrv: true, flags: fPA, seq: 5001, ack: 1010, payload: "xyz"},
		{fromSrv: true, flags: fPA, seq: 5007, ack: 1010, payload: "uvw"}, // a hole the client did not acknowledge
	}
	a, f := run(t, Config{AckGrace: 100}, join(handshake(ci, si), segs), false)
	before := eventsString(f.conns[0].events)
	a.Stalled(9, t0)
	after := eventsString(f.conns[0].events)
	wantBefore := `data 0 @0 "abc" p4
data 1 @0 "xyz" p7
`
	wantAfter := wantBefore + `gap 0 @3+3 acknowledged but not captured
data 0 @6 "ghi" p5
`
	if before != wantBefore || after != wantAfter {
		t.Errorf("before the stall:\n%s\nafter it:\n%s\nwant:\n%s\nand:\n%s", before, after, wantBefore, wantAfter)
	}
}
