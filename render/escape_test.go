package render

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// refJSONChars is the byte-by-byte JSON escaper the fast one replaced; the
// fast one must produce exactly its output.
func refJSONChars(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = appendUEscape(b, r)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// refEscaped is the character-by-character terminal escaper the fast one
// replaced.
func refEscaped(b []byte, s string, quoted bool, maxRunes int) []byte {
	runes := 0
	for i := 0; i < len(s); {
		if maxRunes >= 0 && runes == maxRunes {
			return append(b, "…"...)
		}
		runes++
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case quoted && (c == '"' || c == '\\'):
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		case !strconv.IsPrint(r):
			b = appendUEscape(b, r)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// escapeInputs are strings that put every kind of byte the escapers treat
// specially at every position of an eight-byte word, and across words.
func escapeInputs() []string {
	specials := []string{
		`"`, `\`, "\n", "\r", "\t", "\x00", "\x1f", "\x7f", " ", "~",
		"é", "€", "日", "😀", "\u2028", "\u2029", "\u2027", "\u202a", "\u202e",
		"\xe2", "\xe2\x80", "\xe2\x80\xa8"[:2] + "x", "\xff", "\xc3(", "\xed\xa0\x80",
		"\xef\xbf\xbd", "\xf4\x90\x80\x80", "\u00ad", "\ufeff",
	}
	ins := []string{"", "a", "plain ascii text that needs nothing", `{"op":"subscribe","channels":["ticker"]}`,
		"status: ünïcödé ✓ — 日本語 — all systems nominal", strings.Repeat("\u2028", 9)}
	for _, sp := range specials {
		for pos := range 17 {
			ins = append(ins, strings.Repeat("x", pos)+sp+strings.Repeat("y", 17-pos))
			ins = append(ins, strings.Repeat("x", pos)+sp)
		}
		ins = append(ins, strings.Repeat(sp, 11))
	}
	// Characters cut by the end of the escapers' chunks.
	for _, sp := range []string{"\u2028", "\u2029", "€", "😀", "\xe2\x80", "\x01", `"`, "\xff"} {
		for k := range 5 {
			ins = append(ins, strings.Repeat("a", escChunk-k)+sp+strings.Repeat("é", 3))
		}
	}
	return ins
}

// TestJSONCharsMatchReference compares the fast JSON escaper, for strings,
// byte slices and validated UTF-8, with the byte-by-byte one.
func TestJSONCharsMatchReference(t *testing.T) {
	for _, s := range escapeInputs() {
		want := refJSONChars([]byte("pre"), s)
		if got := appendJSONChars([]byte("pre"), s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONChars(string %q) = %q, want %q", s, got, want)
		}
		if got := appendJSONChars([]byte("pre"), []byte(s)); !bytes.Equal(got, want) {
			t.Errorf("appendJSONChars([]byte %q) = %q, want %q", s, got, want)
		}
		if !utf8.ValidString(s) {
			continue
		}
		if got := appendValidJSONChars([]byte("pre"), []byte(s)); !bytes.Equal(got, want) {
			t.Errorf("appendValidJSONChars(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestEscapedMatchesReference compares the terminal escaper with the
// character-by-character one, quoted or not, cut or not.
func TestEscapedMatchesReference(t *testing.T) {
	for _, s := range escapeInputs() {
		for _, quoted := range []bool{false, true} {
			for _, max := range []int{-1, 0, 1, 5, 8, 9, 17, previewRunes} {
				want := refEscaped([]byte("pre"), s, quoted, max)
				if got := appendEscaped([]byte("pre"), s, quoted, max); !bytes.Equal(got, want) {
					t.Errorf("appendEscaped(%q, %v, %d) = %q, want %q", s, quoted, max, got, want)
				}
				if got := appendEscaped([]byte("pre"), []byte(s), quoted, max); !bytes.Equal(got, want) {
					t.Errorf("appendEscaped([]byte %q, %v, %d) = %q, want %q", s, quoted, max, got, want)
				}
			}
		}
	}
}

// FuzzEscapers checks the fast escapers against the reference ones and the
// base64 encoder against the standard library on arbitrary input.
func FuzzEscapers(f *testing.F) {
	for _, s := range escapeInputs()[:40] {
		f.Add([]byte(s), uint8(3))
	}
	f.Add([]byte("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80"), uint8(64))
	f.Add(bytes.Repeat([]byte{0xff, 0x00, '"'}, 9), uint8(200))
	f.Fuzz(func(t *testing.T, p []byte, cut uint8) {
		s := string(p)
		want := refJSONChars(nil, s)
		if got := appendJSONChars(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONChars(%q) = %q, want %q", s, got, want)
		}
		if got := appendJSONChars(nil, p); !bytes.Equal(got, want) {
			t.Fatalf("appendJSONChars([]byte %q) = %q, want %q", s, got, want)
		}
		if utf8.Valid(p) {
			if got := appendValidJSONChars(nil, p); !bytes.Equal(got, want) {
				t.Fatalf("appendValidJSONChars(%q) = %q, want %q", s, got, want)
			}
		}
		max := int(cut) - 128 // negative: no limit
		for _, quoted := range []bool{false, true} {
			want := refEscaped(nil, s, quoted, max)
			if got := appendEscaped(nil, p, quoted, max); !bytes.Equal(got, want) {
				t.Fatalf("appendEscaped(%q, %v, %d) = %q, want %q", s, quoted, max, got, want)
			}
		}
		if got, want := appendBase64([]byte("pre"), p), base64.StdEncoding.AppendEncode([]byte("pre"), p); !bytes.Equal(got, want) {
			t.Fatalf("appendBase64(%x) = %q, want %q", p, got, want)
		}
	})
}

// TestBase64MatchesStdlib compares the base64 encoder with the standard
// library's for every length up to a few words, appending to slices with
// and without spare capacity.
func TestBase64MatchesStdlib(t *testing.T) {
	p := make([]byte, 100)
	for i := range p {
		p[i] = byte(i*151 + 7) // every bit pattern turns up
	}
	for n := range len(p) + 1 {
		want := base64.StdEncoding.AppendEncode([]byte("x"), p[:n])
		if got := appendBase64([]byte("x"), p[:n]); !bytes.Equal(got, want) {
			t.Errorf("len %d: got %q, want %q", n, got, want)
		}
		roomy := make([]byte, 1, 200)
		roomy[0] = 'x'
		if got := appendBase64(roomy, p[:n]); !bytes.Equal(got, want) {
			t.Errorf("len %d, spare capacity: got %q, want %q", n, got, want)
		}
	}
	all := make([]byte, 3<<12) // every 12-bit group in both halves of a triple
	for v := range 1 << 12 {
		all[3*v], all[3*v+1], all[3*v+2] = byte(v>>4), byte(v<<4|v>>8), byte(v)
	}
	if got, want := appendBase64(nil, all), base64.StdEncoding.AppendEncode(nil, all); !bytes.Equal(got, want) {
		t.Error("every 12-bit group: output differs from encoding/base64")
	}
}

// TestSince compares Renderer.since with time.Time.Sub, including
// differences too large for the fast path and times with monotonic clock
// readings.
func TestSince(t *testing.T) {
	base := time.Date(2024, 3, 4, 5, 6, 7, 999_999_999, time.UTC)
	now := time.Now() // has a monotonic reading
	tests := []struct {
		name         string
		epoch, at    time.Time
		wantOverride time.Duration // checked instead of Sub when not zero
	}{
		{"same", base, base, 0},
		{"later", base, base.Add(1500 * time.Millisecond), 0},
		{"earlier", base, base.Add(-3*time.Second + 7), 0},
		{"nanosecond borrow", base, base.Add(time.Nanosecond), 0},
		{"other zone", base, base.Add(time.Hour).In(time.FixedZone("x", -7*3600)), 0},
		{"a century", base, base.AddDate(100, 0, 0), 0},
		{"saturates", time.Unix(0, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{"saturates negative", time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), time.Unix(0, 0), 0},
		{"zero time", time.Time{}, base, 0},
		{"edge of the fast path", time.Unix(0, 0), time.Unix(1<<32-1, 999_999_999), 0},
		{"just past it", time.Unix(0, 0), time.Unix(1<<32, 0), 0},
		{"monotonic epoch", now, now.Add(2 * time.Second), 2 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Renderer
			r.SetEpoch(tc.epoch)
			want := tc.at.Sub(tc.epoch)
			if tc.wantOverride != 0 {
				want = tc.wantOverride
			}
			if got := r.since(tc.at); got != want {
				t.Errorf("since = %v, want %v", got, want)
			}
		})
	}
	var zero Renderer // no epoch set: the zero time
	if got := zero.since(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); got != math.MaxInt64 {
		t.Errorf("since from the zero time = %v, want the largest Duration", got)
	}
}

// TestTimestamp compares the cached JSON timestamp with a full format of
// every time, across second boundaries, repeated seconds, time zones and
// years that need more or fewer than four digits.
func TestTimestamp(t *testing.T) {
	const layout = "2006-01-02T15:04:05.000000000Z07:00"
	base := time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC)
	times := []time.Time{
		base, base, base.Add(1), base.Add(999_999_999), base.Add(time.Second),
		base.Add(time.Second + 5).In(time.FixedZone("y", 5*3600+1800)),
		base.Add(-time.Nanosecond), base.Add(-time.Nanosecond),
		time.Unix(0, 0), time.Time{}, time.Unix(0, 0),
		time.Date(-42, 1, 2, 3, 4, 5, 6, time.UTC),
		time.Date(12345, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(12345, 12, 31, 23, 59, 59, 999_999_999, time.UTC).Add(1),
		time.Unix(math.MinInt64/4, 0), time.Unix(math.MaxInt64/4, 1),
		base,
	}
	r := New(&bytes.Buffer{}, Options{Format: FormatJSON})
	for i, tm := range times {
		want := `"` + tm.UTC().Format(layout) + `"`
		if got := string(r.appendTimestamp(nil, tm)); got != want {
			t.Errorf("time %d: got %s, want %s", i, got, want)
		}
	}
}

// BenchmarkJSONChars measures escaping a JSON text payload of the kind the
// benchmark captures carry, and base64-encoding a binary one.
func BenchmarkJSONChars(b *testing.B) {
	var sb strings.Builder
	for i := 0; sb.Len() < 1400; i++ {
		sb.WriteString(`{"id":`)
		sb.WriteString(strconv.Itoa(i))
		sb.WriteString(`,"event":"tick","status":"ok"},`)
	}
	jsonText := []byte(sb.String())
	book := []byte(`{"type":"book","symbol":"BTC-USD","seq":311,"levels":[`)
	for i := 0; len(book) < 1400; i++ {
		book = fmt.Appendf(book, `[%.2f,%.4f,%d],`, 40000+float64(i)*13.37, float64(i%7)*0.4321, i%40)
	}
	uni := []byte(strings.Repeat("status: ünïcödé ✓ — 日本語 — all systems nominal ", 20))
	// Messages shaped like bench/gen's realistic traffic: a chat line and
	// a quote with a long opaque field.
	chat := []byte(`{"type":"chat","user":"dave","content":"is price ok ünïcödé meeting filled thanks deploy later filled the later please ✓ thanks deploy the ✓ the price noon check green the ok order ünïcödé update ok at at ✓ the price at done","id":5,"meta":"utprkijw"}`)
	quote := []byte(`{"type":"quote","symbol":"BTC-USD","bid":33596.98,"ask":23809.08,"seq":5,"meta":"` + strings.Repeat("gqvfvjndxyredpenoumrnbrsljjyiqce", 24) + `"}`)
	bin := make([]byte, 3500)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	buf := make([]byte, 0, 16<<10)
	for _, tc := range []struct {
		name string
		f    func([]byte) []byte
		p    []byte
	}{
		{"json-text", func(b []byte) []byte { return appendValidJSONChars(b, jsonText) }, jsonText},
		{"json-numbers", func(b []byte) []byte { return appendValidJSONChars(b, book) }, book},
		{"unicode-text", func(b []byte) []byte { return appendValidJSONChars(b, uni) }, uni},
		{"realistic-chat", func(b []byte) []byte { return appendValidJSONChars(b, chat) }, chat},
		{"realistic-quote", func(b []byte) []byte { return appendValidJSONChars(b, quote) }, quote},
		{"unicode-unvalidated", func(b []byte) []byte { return appendJSONChars(b, uni) }, uni},
		{"base64", func(b []byte) []byte { return appendBase64(b, bin) }, bin},
		{"base64-stdlib", func(b []byte) []byte { return base64.StdEncoding.AppendEncode(b, bin) }, bin},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(tc.p)))
			b.ReportAllocs()
			for b.Loop() {
				buf = tc.f(buf[:0])
			}
		})
	}
}

// BenchmarkTextPreview measures a summary line's preview of a JSON text
// payload: the first previewRunes characters, escaped for a terminal.
func BenchmarkTextPreview(b *testing.B) {
	p := []byte(`{"type":"chat","room":"general","from":"user-17","text":"deploy done later meeting at noon status green","ts":1733500000123}`)
	buf := make([]byte, 0, 1024)
	b.SetBytes(previewRunes)
	for b.Loop() {
		buf = appendTextPreview(buf[:0], p, len(p))
	}
}

// TestPrintableASCII puts every byte value at every position of a word of
// printable filler and compares the word test with the byte test.
func TestPrintableASCII(t *testing.T) {
	for _, fill := range []byte{' ', 'a', '~'} {
		for pos := range 8 {
			for c := range 256 {
				w := bytes.Repeat([]byte{fill}, 8)
				w[pos] = byte(c)
				want := c >= 0x20 && c < 0x7f
				if got := printableASCII(binary.LittleEndian.Uint64(w)); got != want {
					t.Errorf("printableASCII(% x) = %v, want %v", w, got, want)
				}
			}
		}
	}
}
