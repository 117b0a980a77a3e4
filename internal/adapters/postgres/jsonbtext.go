package postgres

import (
	"bytes"
	"slices"
)

// jsonbText appends v, a canonical JSON value, spelled the way PostgreSQL
// prints it back from jsonb: ", " and ": " between members and elements, an
// object's keys shortest first (keys of one length stay bytewise, as
// canonical JSON has them), numbers written out in full (numeric has no
// exponent: 1e+21 prints as 1000000000000000000000), strings escaped alike.
//
// Reading back a batch compares the server's text with this spelling of the
// value written. When they match, the stored value is the written one and
// the server's text need not be parsed and made canonical, which was most
// of the client's cost of verifying a batch. jsonbText only has to be right
// in meaning: whatever it spells, record.Canonical turns back into v (a
// fuzz test holds it to that). Should PostgreSQL spell a value otherwise,
// the texts differ and the caller takes the slow way; ok is false only for
// input that is not canonical JSON.
func jsonbText(dst, v []byte) (out []byte, ok bool) {
	var w jsonbWriter
	return w.spell(dst, v)
}

// spell is jsonbText reusing w's buffers.
func (w *jsonbWriter) spell(dst, v []byte) ([]byte, bool) {
	w.src, w.dst, w.members = v, dst, w.members[:0]
	i, ok := w.value(0)
	out := w.dst
	w.src, w.dst = nil, nil
	if !ok || i != len(v) {
		return dst, false
	}
	return out, true
}

type jsonbWriter struct {
	src     []byte
	dst     []byte
	members []member // a stack: each object open on the way down keeps its members here
	scratch []byte
}

// member is one member of an object as written to dst (key, ": ", value),
// with the length of its key unescaped.
type member struct {
	from, to int
	n        int
}

// maxExponent bounds the zeros a number's exponent may ask for; PostgreSQL
// itself refuses a numeric longer than this, so such a value never loads.
const maxExponent = 1 << 17

func (w *jsonbWriter) value(i int) (int, bool) {
	if i >= len(w.src) {
		return i, false
	}
	switch c := w.src[i]; {
	case c == '{':
		return w.object(i)
	case c == '[':
		return w.array(i)
	case c == '"':
		end, _, ok := scanString(w.src, i)
		w.dst = append(w.dst, w.src[i:end]...)
		return end, ok
	case c == '-' || c >= '0' && c <= '9':
		return w.number(i)
	default:
		for _, lit := range [...]string{"true", "false", "null"} {
			if hasLiteral(w.src, i, lit) {
				w.dst = append(w.dst, lit...)
				return i + len(lit), true
			}
		}
		return i, false
	}
}

func (w *jsonbWriter) array(i int) (int, bool) {
	w.dst = append(w.dst, '[')
	i++
	for n := 0; ; n++ {
		if i >= len(w.src) {
			return i, false
		}
		if w.src[i] == ']' {
			w.dst = append(w.dst, ']')
			return i + 1, true
		}
		if n > 0 {
			if w.src[i] != ',' {
				return i, false
			}
			i++
			w.dst = append(w.dst, ", "...)
		}
		var ok bool
		if i, ok = w.value(i); !ok {
			return i, false
		}
	}
}

// object writes the members in the order they come, then, unless that is
// already shortest key first, rearranges them through scratch.
func (w *jsonbWriter) object(i int) (int, bool) {
	w.dst = append(w.dst, '{')
	body := len(w.dst)
	base := len(w.members)
	i++
	for n := 0; ; n++ {
		if i >= len(w.src) {
			return i, false
		}
		if w.src[i] == '}' {
			i++
			break
		}
		if n > 0 {
			if w.src[i] != ',' {
				return i, false
			}
			i++
			w.dst = append(w.dst, ", "...)
		}
		if i >= len(w.src) || w.src[i] != '"' {
			return i, false
		}
		kend, n, ok := scanString(w.src, i)
		if !ok || kend >= len(w.src) || w.src[kend] != ':' {
			return i, false
		}
		m := member{from: len(w.dst), n: n}
		w.dst = append(w.dst, w.src[i:kend]...)
		w.dst = append(w.dst, ": "...)
		if i, ok = w.value(kend + 1); !ok {
			return i, false
		}
		m.to = len(w.dst)
		w.members = append(w.members, m)
	}
	w.arrange(body, base)
	w.members = w.members[:base]
	w.dst = append(w.dst, '}')
	return i, true
}

// arrange puts the members written since body shortest key first. Keys of
// one length keep their order, which canonical JSON made bytewise, as
// jsonb has it.
func (w *jsonbWriter) arrange(body, base int) {
	ms := w.members[base:]
	sorted := true
	for j := 1; j < len(ms); j++ {
		if ms[j].n < ms[j-1].n {
			sorted = false
			break
		}
	}
	if sorted {
		return
	}
	if len(ms) <= 16 {
		for j := 1; j < len(ms); j++ {
			for k := j; k > 0 && ms[k].n < ms[k-1].n; k-- {
				ms[k-1], ms[k] = ms[k], ms[k-1]
			}
		}
	} else {
		slices.SortStableFunc(ms, func(a, b member) int { return a.n - b.n })
	}
	w.scratch = append(w.scratch[:0], w.dst[body:]...)
	w.dst = w.dst[:body]
	for j, m := range ms {
		if j > 0 {
			w.dst = append(w.dst, ", "...)
		}
		w.dst = append(w.dst, w.scratch[m.from-body:m.to-body]...)
	}
}

// number copies a number, writing one in exponent form out in full: the
// digits of c×10^q with exactly -q digits after the point (numeric keeps
// the scale the input implies, and canonical c has no trailing zeros).
func (w *jsonbWriter) number(i int) (int, bool) {
	start, e := i, -1
	for ; i < len(w.src) && numberByte(w.src[i]); i++ {
		if w.src[i] == 'e' || w.src[i] == 'E' {
			e = i - start
		}
	}
	num := w.src[start:i]
	if e < 0 {
		w.dst = append(w.dst, num...)
		return i, len(num) > 0
	}
	mant, exp := num[:e], num[e+1:]
	if len(mant) > 0 && mant[0] == '-' {
		w.dst = append(w.dst, '-')
		mant = mant[1:]
	}
	var digits []byte
	point := len(mant) // digits before the point
	if p := bytes.IndexByte(mant, '.'); p >= 0 {
		point = p
		digits = append(append(digits, mant[:p]...), mant[p+1:]...)
	} else {
		digits = mant
	}
	x, ok := exponent(exp)
	if !ok || len(digits) == 0 {
		return i, false
	}
	n := point + x // digits before the point, written out
	switch {
	case n >= len(digits):
		w.dst = append(w.dst, digits...)
		for range n - len(digits) {
			w.dst = append(w.dst, '0')
		}
	case n > 0:
		w.dst = append(w.dst, digits[:n]...)
		w.dst = append(w.dst, '.')
		w.dst = append(w.dst, digits[n:]...)
	default:
		w.dst = append(w.dst, "0."...)
		for range -n {
			w.dst = append(w.dst, '0')
		}
		w.dst = append(w.dst, digits...)
	}
	return i, true
}

func numberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

func exponent(b []byte) (int, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	x := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if x = x*10 + int(c-'0'); x > maxExponent {
			return 0, false
		}
	}
	if neg {
		x = -x
	}
	return x, true
}

// scanString returns the end of the string starting at src[i] (a quote)
// and the length of its content unescaped. A canonical string's escapes are
// \uXXXX (controls only) and two-byte ones, each one byte unescaped.
func scanString(src []byte, i int) (end, n int, ok bool) {
	for j := i + 1; j < len(src); j++ {
		switch src[j] {
		case '"':
			return j + 1, n, true
		case '\\':
			if j+1 < len(src) && src[j+1] == 'u' {
				j += 4
			}
			j++
		}
		n++
	}
	return len(src), n, false
}

// hasLiteral reports whether src holds lit at i.
func hasLiteral(src []byte, i int, lit string) bool {
	return len(src)-i >= len(lit) && string(src[i:i+len(lit)]) == lit
}
