package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/wsdissect/wsdissect/field"
)

// Error is a user error in a filter expression; Compile returns it (as
// *Error) for every problem with the expression.
type Error struct {
	// Expr is the expression as given to Compile.
	Expr string
	// Pos is the byte offset in Expr of the offending spot; len(Expr) for
	// an expression that ends too early.
	Pos int
	// Msg says what is wrong and, where possible, what was expected.
	Msg string
}

// Error returns three lines: the expression, a caret under the offending
// position, and the message. Control characters in the expression are shown
// as spaces so that the caret stays aligned.
func (e *Error) Error() string {
	pos := min(max(e.Pos, 0), len(e.Expr))
	var b strings.Builder
	b.Grow(2*len(e.Expr) + len(e.Msg) + 4)
	for _, r := range e.Expr {
		if r < 0x20 && r != '\t' || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
	}
	b.WriteByte('\n')
	for i, r := range e.Expr {
		if i >= pos {
			break
		}
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString("^\n")
	b.WriteString(e.Msg)
	return b.String()
}

// column returns the 1-based column (in runes) of byte offset pos in s.
func column(s string, pos int) int {
	return utf8.RuneCountInString(s[:min(max(pos, 0), len(s))]) + 1
}

func errorf(expr string, pos int, format string, args ...any) *Error {
	return &Error{Expr: expr, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// suggest returns the known field name closest to name, or "" when none is
// close enough to be a plausible typo.
func suggest(reg *field.Registry, name string) string {
	lname := strings.ToLower(name)
	limit := 1
	switch n := utf8.RuneCountInString(name); {
	case n > 9:
		limit = 3
	case n > 4:
		limit = 2
	}
	best, bestD := "", limit+1
	try := func(cand string) {
		if d := editDistance(lname, cand); d < bestD {
			best, bestD = cand, d
		}
	}
	fs := reg.All()
	for _, f := range fs {
		try(f.Name)
	}
	for _, f := range fs {
		for _, a := range f.Aliases {
			try(a)
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions and adjacent transpositions), over
// bytes; field names are ASCII.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	// Three rolling rows are enough for adjacent transpositions.
	var rows [3][65]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = d
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
