package record

import "strconv"

// maxExponent bounds the exponent a number may be written with. Far beyond
// any database's numeric range, it keeps the exponent arithmetic in int64.
const maxExponent = 1 << 53

// number reads the JSON number at p.pos and writes it as an exact decimal in
// ECMAScript's layout (docs/format.md): ±c×10^q, c without trailing zeros,
// k = digits of c, n = k+q.
func (p *parser) number() error {
	src := p.src
	start := p.pos
	neg := false
	if src[p.pos] == '-' {
		neg = true
		p.pos++
	}
	intStart := p.pos
	if p.pos >= len(src) || src[p.pos] < '0' || src[p.pos] > '9' {
		return p.unexpected("a digit")
	}
	if src[p.pos] == '0' {
		p.pos++
		if p.pos < len(src) && src[p.pos] >= '0' && src[p.pos] <= '9' {
			return p.errorf("leading zero in number")
		}
	} else {
		for p.pos < len(src) && src[p.pos] >= '0' && src[p.pos] <= '9' {
			p.pos++
		}
	}
	intDigits := src[intStart:p.pos]
	var fracDigits []byte
	if p.pos < len(src) && src[p.pos] == '.' {
		p.pos++
		fs := p.pos
		for p.pos < len(src) && src[p.pos] >= '0' && src[p.pos] <= '9' {
			p.pos++
		}
		if p.pos == fs {
			return p.unexpected("a digit after '.'")
		}
		fracDigits = src[fs:p.pos]
	}
	var exp int64
	hasExp := false
	if p.pos < len(src) && (src[p.pos] == 'e' || src[p.pos] == 'E') {
		hasExp = true
		p.pos++
		expNeg := false
		if p.pos < len(src) && (src[p.pos] == '+' || src[p.pos] == '-') {
			expNeg = src[p.pos] == '-'
			p.pos++
		}
		es := p.pos
		for p.pos < len(src) && src[p.pos] >= '0' && src[p.pos] <= '9' {
			if exp <= maxExponent {
				exp = exp*10 + int64(src[p.pos]-'0')
			}
			p.pos++
		}
		if p.pos == es {
			return p.unexpected("a digit in the exponent")
		}
		if exp > maxExponent {
			p.pos = start
			return p.errorf("number exponent out of range")
		}
		if expNeg {
			exp = -exp
		}
	}

	// The common case: an integer of at most 21 digits is its own canonical form.
	if fracDigits == nil && !hasExp && len(intDigits) <= 21 {
		if intDigits[0] == '0' {
			p.dst = append(p.dst, '0')
		} else {
			p.dst = append(p.dst, src[start:p.pos]...)
		}
		return nil
	}
	p.dst = appendDecimal(p.dst, neg, intDigits, fracDigits, exp)
	return nil
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
