package record

import (
	"strconv"
)

// MaxExponent bounds a number's exponent in canonical form (d.ddde±X):
// |X| ≤ MaxExponent, 18 digits, as in Python's decimal module. Far beyond
// any database's numeric range, it keeps every exponent computation exact
// in int64 however many digits a number has (a line holds at most MaxLine).
const MaxExponent = 999_999_999_999_999_999

// expCap is where the exponent as written stops being counted: past it, no
// number of fraction digits a line can hold brings the canonical exponent
// back within MaxExponent, and the sum stays far from int64's end.
const expCap = 1 << 61

// numberText is a JSON number as read: its sign, integer and fraction
// digits, and its exponent as written (held at ±expCap beyond that).
type numberText struct {
	start, end int // its span in the source
	neg        bool
	int, frac  []byte
	exp        int64
	hasExp     bool
	hasFrac    bool
}

// number reads the JSON number at pos into n.
func (t *tokenizer) number(n *numberText) error {
	src := t.src
	*n = numberText{start: t.pos}
	if src[t.pos] == '-' {
		n.neg = true
		t.pos++
	}
	intStart := t.pos
	if t.pos >= len(src) || src[t.pos] < '0' || src[t.pos] > '9' {
		return t.unexpected("a digit")
	}
	if src[t.pos] == '0' {
		t.pos++
		if t.pos < len(src) && src[t.pos] >= '0' && src[t.pos] <= '9' {
			return t.errorf("leading zero in number")
		}
	} else {
		t.pos = digitsEnd(src, t.pos)
	}
	n.int = src[intStart:t.pos]
	if t.pos < len(src) && src[t.pos] == '.' {
		t.pos++
		fs := t.pos
		t.pos = digitsEnd(src, t.pos)
		if t.pos == fs {
			return t.unexpected("a digit after '.'")
		}
		n.frac, n.hasFrac = src[fs:t.pos], true
	}
	if t.pos < len(src) && (src[t.pos] == 'e' || src[t.pos] == 'E') {
		if err := t.exponent(n); err != nil {
			return err
		}
	}
	n.end = t.pos
	return nil
}

func digitsEnd(src []byte, i int) int {
	for i < len(src) && src[i] >= '0' && src[i] <= '9' {
		i++
	}
	return i
}

// exponent reads the exponent at pos (its 'e') into n and checks the
// canonical exponent against MaxExponent.
func (t *tokenizer) exponent(n *numberText) error {
	src := t.src
	n.hasExp = true
	t.pos++
	expNeg := false
	if t.pos < len(src) && (src[t.pos] == '+' || src[t.pos] == '-') {
		expNeg = src[t.pos] == '-'
		t.pos++
	}
	es := t.pos
	for ; t.pos < len(src) && src[t.pos] >= '0' && src[t.pos] <= '9'; t.pos++ {
		if n.exp <= expCap/10 {
			n.exp = n.exp*10 + int64(src[t.pos]-'0')
		} else {
			n.exp = expCap
		}
	}
	if t.pos == es {
		return t.unexpected("a digit in the exponent")
	}
	if expNeg {
		n.exp = -n.exp
	}
	// Digits move the exponent by less than a line's length: only one
	// written near the limit needs the closer look.
	if n.exp > -MaxExponent+MaxLine && n.exp < MaxExponent-MaxLine {
		return nil
	}
	if d, ok := n.decimal(); ok && (d.n-1 > MaxExponent || d.n-1 < -MaxExponent) {
		return limitf("number %s: exponent beyond ±%d (the limit)", abbrev(src[n.start:t.pos]), MaxExponent)
	}
	return nil
}

// abbrev shortens a number's text for a message.
func abbrev(b []byte) string {
	if len(b) > 40 {
		return string(b[:20]) + "…" + string(b[len(b)-16:])
	}
	return string(b)
}

// plainNumber reads the number at pos if it is its own canonical form, as
// most are: an integer of at most 21 digits, a decimal such as 2.5 or
// 0.001, or a number such as 1e-7 or 1.5e+21 (docs/format.md). Otherwise it
// reads nothing and reports false, and the caller reads the number with
// number.
func (t *tokenizer) plainNumber() bool {
	end := plainNumberEnd(t.src, t.pos)
	if end < 0 {
		return false
	}
	t.pos = end
	return true
}

// plainNumberEnd is plainNumber over src from i: where the number ends, or
// -1 when it is not its own canonical form.
func plainNumberEnd(src []byte, i int) int {
	start := i
	if i < len(src) && src[i] == '-' {
		i++
	}
	d := i
	i = digitsEnd(src, i)
	if n := i - d; n == 0 || n > 21 || n > 1 && src[d] == '0' {
		return -1
	}
	mantissa := i == d+1 && src[d] != '0' // what an exponent may follow
	switch {
	case i < len(src) && src[i] == '.':
		if i = fractionEnd(src, i+1, src[d] == '0'); i < 0 {
			return -1
		}
	case src[d] == '0' && d > start:
		return -1 // -0
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		if !mantissa {
			return -1
		}
		return exponentEnd(src, i)
	}
	return i
}

// fractionEnd reads the digits after a decimal point at src[f:]: where they
// end, or -1 unless they are canonical. zero is an integer part of 0.
func fractionEnd(src []byte, f int, zero bool) int {
	i := digitsEnd(src, f)
	if i == f || src[i-1] == '0' {
		return -1 // no digits, or trailing zeros
	}
	if zero && digitsEnd0(src, f) >= f+6 {
		return -1 // 0.000000ddd takes an exponent
	}
	return i
}

// exponentEnd reads the exponent at src[i:] after a canonical mantissa: where
// it ends, or -1 unless it is canonical: e+21 and above, e-7 and below, as
// JavaScript writes them (1e21 is 1e+21, 1e20 is 100000000000000000000, 1e-6
// is 0.000001), within MaxExponent.
func exponentEnd(src []byte, i int) int {
	if src[i] != 'e' || i+2 >= len(src) || src[i+1] != '+' && src[i+1] != '-' || src[i+2] == '0' {
		return -1
	}
	from := i + 2
	end := digitsEnd(src, from)
	if end == from || end-from > 19 { // more is beyond MaxExponent, and than a uint64 holds
		return -1
	}
	x := uint64(0)
	for _, c := range src[from:end] {
		x = x*10 + uint64(c-'0')
	}
	if src[i+1] == '+' && x < 21 || src[i+1] == '-' && x < 7 || x > MaxExponent {
		return -1
	}
	return end
}

// digitsEnd0 is where a run of zeros from src[i] ends.
func digitsEnd0(src []byte, i int) int {
	for i < len(src) && src[i] == '0' {
		i++
	}
	return i
}

// short reports whether n is an integer that is its own canonical form.
func (n *numberText) short() bool {
	return !n.hasFrac && !n.hasExp && len(n.int) <= 21 && (!n.neg || n.int[0] != '0')
}

// decimal is a nonzero number as ±c×10^q, c an integer without trailing
// zeros whose k digits are the number's digits first to last; n = k+q.
type decimal struct {
	first, last int // c's digits: digit(first) … digit(last) of int+frac
	k, q, n     int64
}

// digit is the ith digit of the concatenation of n.int and n.frac.
func (n *numberText) digit(i int) byte {
	if i < len(n.int) {
		return n.int[i]
	}
	return n.frac[i-len(n.int)]
}

// decimal returns n's decimal form; ok is false for zero.
func (n *numberText) decimal() (d decimal, ok bool) {
	total := len(n.int) + len(n.frac)
	for d.first < total && n.digit(d.first) == '0' {
		d.first++
	}
	if d.first == total {
		return d, false
	}
	d.last = total - 1
	for n.digit(d.last) == '0' {
		d.last--
	}
	d.k = int64(d.last - d.first + 1)
	d.q = n.exp - int64(len(n.frac)) + int64(total-1-d.last)
	d.n = d.k + d.q
	return d, true
}

// appendCanonical writes n as an exact decimal in ECMAScript's layout
// (docs/format.md): ±c×10^q, c without trailing zeros, k = digits of c,
// n = k+q.
func (n *numberText) appendCanonical(dst, src []byte) []byte {
	if n.short() {
		return append(dst, src[n.start:n.end]...)
	}
	return appendDecimal(dst, n.neg, n.int, n.frac, n.exp)
}

// appendDecimal writes (intDigits.fracDigits)×10^exp canonically. The digits
// are the concatenation of intDigits and fracDigits, read without copying.
func appendDecimal(dst []byte, neg bool, intDigits, fracDigits []byte, exp int64) []byte {
	total := len(intDigits) + len(fracDigits)
	at := func(i int) byte {
		if i < len(intDigits) {
			return intDigits[i]
		}
		return fracDigits[i-len(intDigits)]
	}
	first := 0
	for first < total && at(first) == '0' {
		first++
	}
	if first == total {
		return append(dst, '0')
	}
	last := total - 1
	for at(last) == '0' {
		last--
	}
	k := int64(last - first + 1)
	q := exp - int64(len(fracDigits)) + int64(total-1-last)
	n := k + q
	digits := func(dst []byte, from, to int) []byte { // c[from:to]
		for i := first + from; i < first+to; i++ {
			dst = append(dst, at(i))
		}
		return dst
	}
	if neg {
		dst = append(dst, '-')
	}
	switch {
	case q >= 0 && n <= 21:
		dst = digits(dst, 0, int(k))
		for range q {
			dst = append(dst, '0')
		}
	case n > 0 && n <= 21:
		dst = digits(dst, 0, int(n))
		dst = append(dst, '.')
		dst = digits(dst, int(n), int(k))
	case n > -6 && n <= 0:
		dst = append(dst, '0', '.')
		for range -n {
			dst = append(dst, '0')
		}
		dst = digits(dst, 0, int(k))
	default:
		dst = digits(dst, 0, 1)
		if k > 1 {
			dst = append(dst, '.')
			dst = digits(dst, 1, int(k))
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, n-1, 10)
	}
	return dst
}

// isCanonical reports whether n is written in its canonical form.
func (n *numberText) isCanonical(src, scratch []byte) (bool, []byte) {
	if n.short() {
		return true, scratch
	}
	scratch = n.appendCanonical(scratch[:0], src)
	return string(scratch) == string(src[n.start:n.end]), scratch
}

// Number is a JSON number seen by EachNumber: its text as written and its
// exact value, ±0.d₁d₂…d_Digits × 10^Point.
//
// Point is how many digits the number has before its decimal point (less
// than one: zeros after the point before the first significant digit), and
// Digits-Point how many after it. 12.5 has Digits 3 and Point 2; 0.003 has
// Digits 1 and Point -2; 1e+21 has Digits 1 and Point 22. Zero has Digits 0
// and Point 0.
type Number struct {
	Text   []byte
	Neg    bool
	Digits int64
	Point  int64
}

func (n *numberText) exported(src []byte) Number {
	num := Number{Text: src[n.start:n.end], Neg: n.neg}
	if d, ok := n.decimal(); ok {
		num.Digits, num.Point = d.k, d.n
	}
	return num
}
