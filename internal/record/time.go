package record

import (
	"fmt"
	"time"
)

// timeLayout is the canonical time: UTC, six fractional digits, Z.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// ParseTime converts an RFC 3339 time to canonical form (UTC, 6 digits, Z).
//
// Any offset is accepted and converted. Digits beyond the sixth fractional
// one must be zeros: PostgreSQL would round them, a silent change. A space
// may stand for the T, as PostgreSQL itself writes times.
func ParseTime(s string) (string, error) {
	if IsCanonicalTime(s) {
		return s, nil // the common case: what every dump writes
	}
	t, err := parseRFC3339(s)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %s", ErrTime, s, err)
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return "", fmt.Errorf("%w: %q: year %d in UTC is out of range", ErrTime, s, y)
	}
	return FormatTime(t), nil
}

// FormatTime formats t canonically; t must have at most microsecond
// precision (finer digits are truncated).
func FormatTime(t time.Time) string {
	var b [len(timeLayout) + 8]byte
	return string(t.UTC().AppendFormat(b[:0], timeLayout))
}

// IsCanonicalTime reports whether s is a valid time in the canonical form
// 2006-01-02T15:04:05.000000Z.
func IsCanonicalTime(s string) bool {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' || s[26] != 'Z' {
		return false
	}
	for _, i := range [...]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22, 23, 24, 25} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	mo, d := num2(s, 5), num2(s, 8)
	return mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(num4(s), mo) &&
		num2(s, 11) <= 23 && num2(s, 14) <= 59 && num2(s, 17) <= 59
}

func num2(s string, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }
func num4(s string) int        { return num2(s, 0)*100 + num2(s, 2) }

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseRFC3339 reads date-time from RFC 3339 §5.6 by hand: time.Parse
// accepts forms RFC 3339 does not and rounds nothing we could check.
func parseRFC3339(s string) (time.Time, error) {
	var zero time.Time
	if len(s) < 20 {
		return zero, fmt.Errorf("not an RFC 3339 date-time (like 2026-11-25T12:00:00Z)")
	}
	digits := func(from, to int) bool {
		for i := from; i < to; i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	if !digits(0, 4) || s[4] != '-' || !digits(5, 7) || s[7] != '-' || !digits(8, 10) ||
		(s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		!digits(11, 13) || s[13] != ':' || !digits(14, 16) || s[16] != ':' || !digits(17, 19) {
		return zero, fmt.Errorf("not an RFC 3339 date-time (like 2026-11-25T12:00:00Z)")
	}
	year, month, day := num4(s), num2(s, 5), num2(s, 8)
	hour, min, sec := num2(s, 11), num2(s, 14), num2(s, 17)
	switch {
	case month < 1 || month > 12:
		return zero, fmt.Errorf("month %d out of range", month)
	case day < 1 || day > daysIn(year, month):
		return zero, fmt.Errorf("day %d out of range", day)
	case hour > 23:
		return zero, fmt.Errorf("hour %d out of range", hour)
	case min > 59:
		return zero, fmt.Errorf("minute %d out of range", min)
	case sec > 59:
		return zero, fmt.Errorf("second %d out of range (leap seconds are not supported)", sec)
	}
	i := 19
	micro := 0
	if s[i] == '.' {
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if i-start < 6 {
				micro = micro*10 + int(s[i]-'0')
			} else if s[i] != '0' {
				return zero, fmt.Errorf("more than microsecond precision (PostgreSQL would round it)")
			}
			i++
		}
		if i == start {
			return zero, fmt.Errorf("no digits after '.'")
		}
		for n := i - start; n < 6; n++ {
			micro *= 10
		}
	}
	if i >= len(s) {
		return zero, fmt.Errorf("missing time zone offset (Z or ±hh:mm)")
	}
	offset := 0
	switch s[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(s)-i < 6 || !digits(i+1, i+3) || s[i+3] != ':' || !digits(i+4, i+6) {
			return zero, fmt.Errorf("invalid time zone offset (Z or ±hh:mm)")
		}
		oh, om := num2(s, i+1), num2(s, i+4)
		if oh > 23 || om > 59 {
			return zero, fmt.Errorf("time zone offset out of range")
		}
		offset = (oh*60 + om) * 60
		if s[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return zero, fmt.Errorf("invalid time zone offset (Z or ±hh:mm)")
	}
	if i != len(s) {
		return zero, fmt.Errorf("unexpected text after the time zone")
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, micro*1000, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}
