// Package freelist keeps released values of one type for reuse, so that
// per-connection state is not allocated (and its fresh memory first
// touched) anew for every connection.
package freelist

// List keeps up to Max released *T for reuse; the zero value keeps none.
// It is not safe for concurrent use.
type List[T any] struct {
	// Max bounds the values kept.
	Max   int
	items []*T
}

// Get returns a zeroed *T, a released one when there is one.
func (l *List[T]) Get() *T {
	n := len(l.items)
	if n == 0 {
		return new(T)
	}
	x := l.items[n-1]
	l.items[n-1] = nil
	l.items = l.items[:n-1]
	var zero T
	*x = zero
	return x
}

// Put keeps x for reuse unless Max values are kept already. x is zeroed
// only when Get hands it out again, so a caller may still read it (an
// owner unlinking it, say) until then; it must not be written.
func (l *List[T]) Put(x *T) {
	if len(l.items) < l.Max {
		l.items = append(l.items, x)
	}
}

// Len returns the number of values kept.
func (l *List[T]) Len() int { return len(l.items) }
