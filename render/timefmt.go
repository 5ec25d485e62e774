package render

import (
	"fmt"
	"strconv"
	"time"
)

// TimeFormat is how summary lines show a record's time, as tshark's -t.
type TimeFormat uint8

// Time formats.
const (
	// TimeRelative is seconds since the first packet (tshark -t r), the
	// default.
	TimeRelative TimeFormat = iota
	// TimeAbsolute is the local time of day (-t a).
	TimeAbsolute
	// TimeAbsoluteDate is the local date and time (-t ad).
	TimeAbsoluteDate
	// TimeDelta is seconds since the previous record shown (-t d).
	TimeDelta
	// TimeEpoch is seconds since 1970-01-01 UTC (-t e).
	TimeEpoch
	// TimeUTC is the UTC time of day (-t u).
	TimeUTC
	// TimeUTCDate is the UTC date and time (-t ud).
	TimeUTCDate
)

// ParseTimeFormat parses tshark's -t letters: a, ad, d, e, r, u, ud.
func ParseTimeFormat(s string) (TimeFormat, error) {
	switch s {
	case "r", "":
		return TimeRelative, nil
	case "a":
		return TimeAbsolute, nil
	case "ad":
		return TimeAbsoluteDate, nil
	case "d":
		return TimeDelta, nil
	case "e":
		return TimeEpoch, nil
	case "u":
		return TimeUTC, nil
	case "ud":
		return TimeUTCDate, nil
	}
	return 0, fmt.Errorf("unknown time format %q (a, ad, d, e, r, u or ud)", s)
}

// appendTime appends the time column of a summary line for t.
func (r *Renderer) appendTime(b []byte, t time.Time) []byte {
	switch r.opts.Time {
	case TimeAbsolute:
		return t.Local().AppendFormat(b, "15:04:05.000000")
	case TimeAbsoluteDate:
		return t.Local().AppendFormat(b, "2006-01-02 15:04:05.000000")
	case TimeUTC:
		return t.UTC().AppendFormat(b, "15:04:05.000000")
	case TimeUTCDate:
		return t.UTC().AppendFormat(b, "2006-01-02 15:04:05.000000")
	case TimeEpoch:
		t = t.Round(time.Microsecond)
		b = strconv.AppendInt(b, t.Unix(), 10)
		us := t.Nanosecond() / 1000
		var f [7]byte
		f[0] = '.'
		for i := 6; i > 0; i-- {
			f[i] = byte('0' + us%10)
			us /= 10
		}
		return append(b, f[:]...)
	case TimeDelta:
		return appendRelTime(b, r.delta.next(t))
	}
	return appendRelTime(b, r.since(t))
}
