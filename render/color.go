package render

import (
	"strings"

	"github.com/fatih/color"
	"github.com/wsdissect/wsdissect/dissect"
)

// style is the pair of escape sequences that switch a colour on and off; both
// are empty when colour is off.
type style struct {
	on, off string
}

// wrap appends s between the style's escape sequences.
func (st style) wrap(b []byte, s string) []byte {
	b = append(b, st.on...)
	b = append(b, s...)
	return append(b, st.off...)
}

// palette holds the styles used by the text formats. The escape sequences are
// computed once from fatih/color objects, so formatting a record needs no
// allocation.
type palette struct {
	c2s, s2c, bold     style
	err, warning, info style
}

// newPalette builds the palette, with colours on or off. Each colour object
// is switched individually; the package-global color.NoColor is left alone.
func newPalette(on bool) palette {
	return palette{
		c2s:     makeStyle(on, color.FgGreen),
		s2c:     makeStyle(on, color.FgBlue),
		bold:    makeStyle(on, color.Bold),
		err:     makeStyle(on, color.FgRed),
		warning: makeStyle(on, color.FgYellow),
		info:    makeStyle(on, color.FgCyan),
	}
}

// makeStyle extracts the escape sequences of a colour by formatting a marker
// byte with it.
func makeStyle(on bool, attrs ...color.Attribute) style {
	c := color.New(attrs...)
	if on {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	s := c.Sprint("\x00")
	i := strings.IndexByte(s, 0)
	if i < 0 {
		return style{}
	}
	return style{on: s[:i], off: s[i+1:]}
}

// dir returns the style of a direction.
func (p *palette) dir(d dissect.Dir) style {
	if d == dissect.ServerToClient {
		return p.s2c
	}
	return p.c2s
}

// severity returns the style of an anomaly severity.
func (p *palette) severity(s dissect.Severity) style {
	switch s {
	case dissect.SevError:
		return p.err
	case dissect.SevWarning:
		return p.warning
	}
	return p.info
}
