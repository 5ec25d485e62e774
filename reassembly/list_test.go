package reassembly

import (
	"slices"
	"testing"
)

// item is an element that can be on two lists at once.
type item struct {
	id   int
	a, b links[item]
}

// ids returns the ids of l's elements front to back, checking that walking
// back to front gives the reverse.
func ids(t *testing.T, l *list[item], at func(*item) *links[item]) []int {
	t.Helper()
	var fwd, bwd []int
	for x := l.front(); x != nil && len(fwd) <= 100; x = at(x).nextElem() {
		fwd = append(fwd, x.id)
	}
	for x := l.back(); x != nil && len(bwd) <= 100; x = at(x).prevElem() {
		bwd = append(bwd, x.id)
	}
	slices.Reverse(bwd)
	if !slices.Equal(fwd, bwd) {
		t.Fatalf("forward %v, backward reversed %v", fwd, bwd)
	}
	return fwd
}

func TestList(t *testing.T) {
	type op struct {
		kind string // front, back, remove, move
		id   int
	}
	tests := []struct {
		name string
		ops  []op
		want []int
	}{
		{"empty", nil, nil},
		{"push front", []op{{"front", 1}, {"front", 2}, {"front", 3}}, []int{3, 2, 1}},
		{"push back", []op{{"back", 1}, {"back", 2}, {"back", 3}}, []int{1, 2, 3}},
		{"remove head", []op{{"back", 1}, {"back", 2}, {"back", 3}, {"remove", 1}}, []int{2, 3}},
		{"remove middle", []op{{"back", 1}, {"back", 2}, {"back", 3}, {"remove", 2}}, []int{1, 3}},
		{"remove tail", []op{{"back", 1}, {"back", 2}, {"back", 3}, {"remove", 3}}, []int{1, 2}},
		{"remove only", []op{{"back", 1}, {"remove", 1}}, nil},
		{"remove twice", []op{{"back", 1}, {"back", 2}, {"remove", 1}, {"remove", 1}}, []int{2}},
		{"remove unlisted", []op{{"back", 1}, {"remove", 2}}, []int{1}},
		{"move tail", []op{{"back", 1}, {"back", 2}, {"back", 3}, {"move", 3}}, []int{3, 1, 2}},
		{"move middle", []op{{"back", 1}, {"back", 2}, {"back", 3}, {"move", 2}}, []int{2, 1, 3}},
		{"move head", []op{{"back", 1}, {"back", 2}, {"move", 1}}, []int{1, 2}},
		{"reinsert", []op{{"back", 1}, {"back", 2}, {"remove", 1}, {"back", 1}}, []int{2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var items [4]item
			var l, other list[item]
			for i := range items {
				items[i].id = i
				// Every item is also on a second list, which must not be
				// disturbed.
				other.pushBack(&items[i].b, &items[i])
			}
			for _, o := range tt.ops {
				x := &items[o.id]
				switch o.kind {
				case "front":
					l.pushFront(&x.a, x)
				case "back":
					l.pushBack(&x.a, x)
				case "remove":
					l.remove(&x.a)
				case "move":
					l.moveToFront(&x.a)
				}
			}
			at := func(x *item) *links[item] { return &x.a }
			if got := ids(t, &l, at); !slices.Equal(got, tt.want) {
				t.Errorf("list %v, want %v", got, tt.want)
			}
			bt := func(x *item) *links[item] { return &x.b }
			if got := ids(t, &other, bt); !slices.Equal(got, []int{0, 1, 2, 3}) {
				t.Errorf("second list %v, want [0 1 2 3]", got)
			}
		})
	}
}

func TestListDoesNotAllocate(t *testing.T) {
	var items [8]item
	var l list[item]
	n := testing.AllocsPerRun(100, func() {
		for i := range items {
			l.pushBack(&items[i].a, &items[i])
		}
		l.moveToFront(&items[5].a)
		for i := range items {
			l.remove(&items[i].a)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}
