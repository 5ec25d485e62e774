// Package membudget shares one memory budget among the parts of a run that
// hold bytes for a while (out-of-order TCP data, partial messages, search
// buffers, output awaiting the merger), so that they can give way before the
// process outgrows it.
//
// A Budget is shared; each worker takes from it through its own Account,
// which reserves bytes from the Budget in slabs, so that most calls touch
// only the worker's own counters. All methods of a nil *Account succeed and
// do nothing: a layer without a budget needs no special case.
package membudget

import "sync/atomic"

// slab is how many bytes an Account reserves from its Budget at a time.
const slab = 64 << 10

// Budget is a byte limit shared by several Accounts. It is safe for
// concurrent use.
type Budget struct {
	limit int64
	used  atomic.Int64 // reserved by the accounts, slabs included
	peak  atomic.Int64
	over  atomic.Uint64 // refusals
}

// New returns a budget of limit bytes; limit <= 0 means no limit (use is
// still tracked).
func New(limit int64) *Budget {
	return &Budget{limit: limit}
}

// Limit returns the budget's limit (0 or less: none).
func (b *Budget) Limit() int64 { return b.limit }

// Used returns the bytes currently reserved by all accounts.
func (b *Budget) Used() int64 { return b.used.Load() }

// Peak returns the most bytes ever reserved at once.
func (b *Budget) Peak() int64 { return b.peak.Load() }

// Refusals returns how many times a Take was refused.
func (b *Budget) Refusals() uint64 { return b.over.Load() }

// add reserves n bytes (n may be negative) unconditionally and returns the
// new total.
func (b *Budget) add(n int64) int64 {
	u := b.used.Add(n)
	if n > 0 {
		for {
			p := b.peak.Load()
			if u <= p || b.peak.CompareAndSwap(p, u) {
				break
			}
		}
	}
	return u
}

// tryAdd reserves n > 0 bytes if that keeps the total within the limit.
func (b *Budget) tryAdd(n int64) bool {
	if b.limit <= 0 {
		b.add(n)
		return true
	}
	if u := b.add(n); u > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

// Reserve takes n bytes from the budget for the whole run (buffers sized
// once, such as the output queues), even beyond the limit: what is
// reserved so leaves less for everything else.
func (b *Budget) Reserve(n int64) { b.add(n) }

// Account returns a new account drawing on b. A nil Budget gives a nil
// Account.
func (b *Budget) Account() *Account {
	if b == nil {
		return nil
	}
	return &Account{b: b}
}

// Account is one worker's share of a Budget. It is not safe for concurrent
// use.
type Account struct {
	b    *Budget
	have int64 // reserved from b and not used
	used int64
}

// Budget returns the budget the account draws on (nil for a nil account).
func (a *Account) Budget() *Budget {
	if a == nil {
		return nil
	}
	return a.b
}

// Used returns the bytes the account holds.
func (a *Account) Used() int64 {
	if a == nil {
		return 0
	}
	return a.used
}

// Take takes n bytes if the budget allows; otherwise it takes nothing and
// returns false.
func (a *Account) Take(n int64) bool {
	if a == nil || n <= 0 {
		return true
	}
	if n > a.have {
		need := n - a.have
		if !a.b.tryAdd(need + slab) {
			if !a.b.tryAdd(need) {
				a.b.over.Add(1)
				return false
			}
		} else {
			a.have += slab
		}
		a.have += need
	}
	a.have -= n
	a.used += n
	return true
}

// Force takes n bytes whether or not the budget allows (for memory already
// allocated); it reports whether the budget is still within its limit.
func (a *Account) Force(n int64) bool {
	if a == nil {
		return true
	}
	if n <= 0 {
		a.Give(-n)
		return true
	}
	if a.Take(n) {
		return true
	}
	a.b.add(n - a.have)
	a.have = 0
	a.used += n
	return false
}

// Give returns n bytes to the budget.
func (a *Account) Give(n int64) {
	if a == nil || n <= 0 {
		return
	}
	n = min(n, a.used)
	a.used -= n
	a.have += n
	switch {
	case a.b.limit > 0 && a.b.used.Load() > a.b.limit:
		// Over the limit: keep nothing in reserve.
		a.b.add(-a.have)
		a.have = 0
	case a.have > 2*slab:
		back := a.have - slab
		a.have = slab
		a.b.add(-back)
	}
}

// Avail returns about how many more bytes the account could take now
// (math.MaxInt64 without a limit).
func (a *Account) Avail() int64 {
	if a == nil || a.b.limit <= 0 {
		return 1<<63 - 1
	}
	return max(a.b.limit-a.b.used.Load(), 0) + a.have
}

// Over reports whether the budget is used beyond its limit.
func (a *Account) Over() bool {
	return a != nil && a.b.limit > 0 && a.b.used.Load() > a.b.limit
}
