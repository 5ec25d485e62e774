package reassembly

// links are the pointers that keep an element of type T in one list. An
// element holds one links value per list it can be on, so putting it on a
// list allocates nothing.
type links[T any] struct {
	prev, next *links[T]
	// elem is the element holding these links, set when it is put on a list.
	elem *T
}

// nextElem returns the element after l's element in its list, or nil.
func (l *links[T]) nextElem() *T {
	if l.next == nil {
		return nil
	}
	return l.next.elem
}

// prevElem returns the element before l's element in its list, or nil.
func (l *links[T]) prevElem() *T {
	if l.prev == nil {
		return nil
	}
	return l.prev.elem
}

// list is an intrusive doubly-linked list of elements of type T, each linked
// through a links value it holds. The zero value is an empty list.
type list[T any] struct {
	head, tail *links[T]
}

// front returns the first element, or nil.
func (l *list[T]) front() *T {
	if l.head == nil {
		return nil
	}
	return l.head.elem
}

// back returns the last element, or nil.
func (l *list[T]) back() *T {
	if l.tail == nil {
		return nil
	}
	return l.tail.elem
}

// pushFront puts elem, linked through x (which must not be on a list), first.
func (l *list[T]) pushFront(x *links[T], elem *T) {
	x.elem, x.prev, x.next = elem, nil, l.head
	if l.head != nil {
		l.head.prev = x
	} else {
		l.tail = x
	}
	l.head = x
}

// pushBack puts elem, linked through x (which must not be on a list), last.
func (l *list[T]) pushBack(x *links[T], elem *T) {
	x.elem, x.prev, x.next = elem, l.tail, nil
	if l.tail != nil {
		l.tail.next = x
	} else {
		l.head = x
	}
	l.tail = x
}

// remove takes the element linked through x off l; it does nothing when x is
// on no list.
func (l *list[T]) remove(x *links[T]) {
	if x.prev != nil {
		x.prev.next = x.next
	} else if l.head == x {
		l.head = x.next
	} else {
		return // on no list
	}
	if x.next != nil {
		x.next.prev = x.prev
	} else {
		l.tail = x.prev
	}
	x.prev, x.next = nil, nil
}

// moveToFront makes the element linked through x, which is on l, the first.
func (l *list[T]) moveToFront(x *links[T]) {
	if l.head == x {
		return
	}
	elem := x.elem
	l.remove(x)
	l.pushFront(x, elem)
}
