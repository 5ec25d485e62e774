package dissect

import (
	"testing"

	"github.com/wsdissect/wsdissect/internal/membudget"
)

// TestBufPool checks the pool's choices and bounds, and that what it holds
// is charged to its account.
func TestBufPool(t *testing.T) {
	acct := membudget.New(64 << 20).Account()
	p := &bufPool{mem: acct}
	p.put(make([]byte, 10, 8<<10))
	p.put(make([]byte, 0, 64<<10))
	if p.n != 2 || p.bytes != 72<<10 || acct.Used() != 72<<10 {
		t.Fatalf("after two puts: %d buffers, %d bytes, %d charged", p.n, p.bytes, acct.Used())
	}
	// Growing to 20 KB takes the 64 KB buffer and keeps the bytes.
	old := append(make([]byte, 0, 5<<10), "abc"...)
	b := p.grow(old, 20<<10)
	if cap(b) != 64<<10 || string(b) != "abc" {
		t.Fatalf("grow gave cap %d %q, want the 64 KB buffer with abc", cap(b), b)
	}
	// The 5 KB buffer it outgrew went to the pool (larger than a direction keeps).
	if p.n != 2 || p.bytes != 13<<10 || acct.Used() != 13<<10 {
		t.Fatalf("after grow: %d buffers, %d bytes, %d charged", p.n, p.bytes, acct.Used())
	}
	// Nothing pooled fits 1 MB: a new buffer, and the pool keeps its own.
	if b := p.grow(nil, 1<<20); cap(b) < 1<<20 || p.n != 2 {
		t.Fatalf("grow to 1 MB: cap %d, %d pooled", cap(b), p.n)
	}
	if b := p.take(); cap(b) != 8<<10 || len(b) != 0 {
		t.Fatalf("take gave cap %d len %d, want the 8 KB buffer, empty", cap(b), len(b))
	}
	p.take()
	if b := p.take(); b != nil || p.n != 0 || p.bytes != 0 || acct.Used() != 0 {
		t.Fatalf("empty pool: took %d bytes, %d buffers, %d bytes, %d charged", cap(b), p.n, p.bytes, acct.Used())
	}
	// Bounds: the count, the bytes, the size of one buffer.
	for range maxPoolBufs + 5 {
		p.put(make([]byte, 0, 8<<10))
	}
	if p.n != maxPoolBufs {
		t.Errorf("%d buffers pooled, bound %d", p.n, maxPoolBufs)
	}
	q := &bufPool{}
	for range maxPoolBufs {
		q.put(make([]byte, 0, 1<<20))
	}
	if q.bytes > maxPoolBytes {
		t.Errorf("%d bytes pooled, bound %d", q.bytes, maxPoolBytes)
	}
	if q.put(make([]byte, 0, freeIdleAlways+1)); q.n != int(maxPoolBytes/(1<<20)) {
		t.Errorf("a buffer over freeIdleAlways was pooled")
	}
}

// TestBufPoolTightBudget checks that a pool does not hold memory a tight
// budget needs.
func TestBufPoolTightBudget(t *testing.T) {
	budget := membudget.New(1 << 20)
	other := budget.Account()
	other.Force(600 << 10) // more than half used
	p := &bufPool{mem: budget.Account()}
	if p.put(make([]byte, 0, 8<<10)); p.n != 0 {
		t.Errorf("pooled with the budget more than half used")
	}
	other.Give(600 << 10)
	if p.put(make([]byte, 0, 512<<10)); p.n != 0 {
		t.Errorf("pooled a buffer of more than a quarter of what the budget has left")
	}
	if p.put(make([]byte, 0, 8<<10)); p.n != 1 {
		t.Errorf("did not pool a small buffer with the budget free")
	}
}

// TestLargeMessageBuffersShared checks that directions give their large
// message buffers back between messages: two connections taking turns with
// 40 KB messages (each in many deliveries) leave one large buffer in the
// pool, not one per direction, and show every message whole.
func TestLargeMessageBuffersShared(t *testing.T) {
	msg := make([]byte, 40<<10)
	for i := range msg {
		msg[i] = 'a' + byte(i%26)
	}
	frame := wsFrame{fin: true, op: OpBinary, payload: msg}.bytes()
	c := &collect{}
	d := New(c, Options{Messages: true})
	conns := []*struct{ steps []step }{{}, {}}
	for _, cn := range conns {
		cn.steps = []step{c2s(upgradeReq("")), s2c(upgradeResp(""))}
	}
	for range 3 {
		for _, cn := range conns {
			feedConn(d, true, true, append(cn.steps, s2c(frame))...)
		}
	}
	n := 0
	for _, r := range c.recs {
		if r.kind == "message" && r.op == OpBinary {
			n++
			if r.payload != string(msg) {
				t.Fatalf("message %d not shown whole (%d bytes)", n, len(r.payload))
			}
		}
	}
	if n != 6 {
		t.Fatalf("%d messages, want 6", n)
	}
	if d.bufs.n != 1 || d.bufs.bytes < 40<<10 {
		t.Errorf("pool holds %d buffers, %d bytes; want the one large buffer", d.bufs.n, d.bufs.bytes)
	}
}
