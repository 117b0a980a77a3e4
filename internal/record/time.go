package record

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"
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

// FormatUnixMicro formats the time us microseconds after the Unix epoch
// canonically, as FormatTime(time.UnixMicro(us)) does, without going
// through time.Time: a store that keeps times as integers spells one per
// row. It reports false for a time outside the years 0000 to 9999.
func FormatUnixMicro(us int64) (string, bool) {
	const day = 86400 * 1e6
	if us < minUnixMicro || us > maxUnixMicro {
		return "", false
	}
	days, in := floorDiv(us, day)
	y, m, d := civil(days)
	sec, micro := in/1e6, in%1e6
	var b [len(timeLayout)]byte
	copy(b[:], timeLayout)
	put := func(at int, v int64, width int) {
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, y, 4)
	put(5, m, 2)
	put(8, d, 2)
	put(11, sec/3600, 2)
	put(14, sec/60%60, 2)
	put(17, sec%60, 2)
	put(20, micro, 6)
	return string(b[:]), true
}

// The canonical range, 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z.
const (
	minUnixMicro = -62167219200 * 1e6
	maxUnixMicro = 253402300800*1e6 - 1
)

func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q, r = q-1, r+b
	}
	return q, r
}

// civil is the proleptic Gregorian date of a day counted from 1970-01-01,
// by eras of 400 years that start on 1 March (H. Hinnant's algorithm).
func civil(days int64) (y, m, d int64) {
	era, doe := floorDiv(days+719468, 146097)
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	y, d, m = yoe+era*400, doy-(153*mp+2)/5+1, mp+3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// IsCanonicalTime reports whether s is a valid time in the canonical form
// 2006-01-02T15:04:05.000000Z. Every row a store scans has a time to check,
// so its digits are checked eight bytes at a time, the separators among
// them (checked first) counted as zeros.
func IsCanonicalTime(s string) bool {
	return timeShape(s) && timeDigits(s) && timeInRange(s)
}

func timeShape(s string) bool {
	return len(s) == len(timeLayout) && s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
		s[13] == ':' && s[16] == ':' && s[19] == '.' && s[26] == 'Z'
}

// timeDigits: s has timeShape.
func timeDigits(s string) bool {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	return digits8(binary.LittleEndian.Uint64(b), 4, 7) && digits8(binary.LittleEndian.Uint64(b[8:]), 2, 5) &&
		digits8(binary.LittleEndian.Uint64(b[16:]), 0, 3) && isDigit(s[24]) && isDigit(s[25])
}

// timeInRange: s has timeShape and timeDigits.
func timeInRange(s string) bool {
	mo, d := num2(s, 5), num2(s, 8)
	return mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(num4(s), mo) &&
		num2(s, 11) <= 23 && num2(s, 14) <= 59 && num2(s, 17) <= 59
}

// digits8 reports whether the eight bytes of v are ASCII digits, but for
// those at i and j, taken as zeros. A digit is 0x30–0x39: its high nibble
// is 3, and stays 3 when 6 is added (no byte carries into the next, as
// none is above 0x3f).
func digits8(v uint64, i, j int) bool {
	const high, three, six = 0xf0f0f0f0f0f0f0f0, 0x3030303030303030, 0x0606060606060606
	sep := uint64(0xff)<<(8*i) | uint64(0xff)<<(8*j)
	v = v&^sep | three&sep
	return v&high == three && (v+six)&high == three
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

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
// accepts forms RFC 3339 does not and rounds nothing we could check. It
// reads the date and time, the fraction, then the offset.
func parseRFC3339(s string) (time.Time, error) {
	var zero time.Time
	f, err := dateTime(s)
	if err != nil {
		return zero, err
	}
	micro, i, err := fraction(s, 19)
	if err != nil {
		return zero, err
	}
	offset, err := zoneOffset(s, i)
	if err != nil {
		return zero, err
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], micro*1000, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

func digitsAt(s string, from, to int) bool {
	for i := from; i < to; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// dateTime reads 2006-01-02T15:04:05 at the start of s: year, month, day,
// hour, minute, second, each in range.
func dateTime(s string) ([6]int, error) {
	var f [6]int
	if len(s) < 20 || !digitsAt(s, 0, 4) || s[4] != '-' || !digitsAt(s, 5, 7) || s[7] != '-' || !digitsAt(s, 8, 10) ||
		(s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		!digitsAt(s, 11, 13) || s[13] != ':' || !digitsAt(s, 14, 16) || s[16] != ':' || !digitsAt(s, 17, 19) {
		return f, fmt.Errorf("not an RFC 3339 date-time (like 2026-11-25T12:00:00Z)")
	}
	f = [6]int{num4(s), num2(s, 5), num2(s, 8), num2(s, 11), num2(s, 14), num2(s, 17)}
	switch {
	case f[1] < 1 || f[1] > 12:
		return f, fmt.Errorf("month %d out of range", f[1])
	case f[2] < 1 || f[2] > daysIn(f[0], f[1]):
		return f, fmt.Errorf("day %d out of range", f[2])
	case f[3] > 23:
		return f, fmt.Errorf("hour %d out of range", f[3])
	case f[4] > 59:
		return f, fmt.Errorf("minute %d out of range", f[4])
	case f[5] > 59:
		return f, fmt.Errorf("second %d out of range (leap seconds are not supported)", f[5])
	}
	return f, nil
}

// fraction reads the seconds' fraction at s[i], if any, in microseconds,
// and returns where it ends. Digits past the sixth must be zeros.
func fraction(s string, i int) (micro, end int, err error) {
	if s[i] != '.' {
		return 0, i, nil
	}
	i++
	start := i
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if i-start < 6 {
			micro = micro*10 + int(s[i]-'0')
		} else if s[i] != '0' {
			return 0, i, fmt.Errorf("more than microsecond precision (PostgreSQL would round it)")
		}
	}
	if i == start {
		return 0, i, fmt.Errorf("no digits after '.'")
	}
	for n := i - start; n < 6; n++ {
		micro *= 10
	}
	return micro, i, nil
}

// zoneOffset reads the offset at s[i], which must end s, in seconds east.
func zoneOffset(s string, i int) (int, error) {
	if i >= len(s) {
		return 0, fmt.Errorf("missing time zone offset (Z or ±hh:mm)")
	}
	offset := 0
	switch s[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(s)-i < 6 || !digitsAt(s, i+1, i+3) || s[i+3] != ':' || !digitsAt(s, i+4, i+6) {
			return 0, fmt.Errorf("invalid time zone offset (Z or ±hh:mm)")
		}
		oh, om := num2(s, i+1), num2(s, i+4)
		if oh > 23 || om > 59 {
			return 0, fmt.Errorf("time zone offset out of range")
		}
		offset = (oh*60 + om) * 60
		if s[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return 0, fmt.Errorf("invalid time zone offset (Z or ±hh:mm)")
	}
	if i != len(s) {
		return 0, fmt.Errorf("unexpected text after the time zone")
	}
	return offset, nil
}
