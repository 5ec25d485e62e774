package freelist

import "testing"

type state struct {
	n   int
	buf []byte
}

func TestList(t *testing.T) {
	l := List[state]{Max: 3}
	a := l.Get()
	a.n, a.buf = 7, []byte("x")
	l.Put(a)
	if a.n != 7 {
		t.Fatalf("Put changed the value: %+v", *a)
	}
	if b := l.Get(); b != a {
		t.Fatalf("Get after Put returned a new value, want the kept one")
	} else if b.n != 0 || b.buf != nil {
		t.Fatalf("reused value not zeroed: %+v", *b)
	}
	for range 10 {
		l.Put(new(state))
	}
	if l.Len() != 3 {
		t.Fatalf("kept %d values, want at most 3", l.Len())
	}
	var none List[state]
	none.Put(new(state))
	if none.Len() != 0 {
		t.Fatalf("the zero List kept a value")
	}
}
