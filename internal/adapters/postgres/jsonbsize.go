package postgres

import (
	"fmt"
	"slices"
)

// jsonb stores a value as nested containers, each a header, a 4-byte entry
// per element (two per member) and the elements' data, numbers 4-aligned.
// It refuses a container whose data passes jsonbMaxLen bytes (JENTRY_OFFLENMASK),
// an array of more than jsonbMaxElems elements or an object of more than
// jsonbMaxPairs members (what its parser can allocate: 1 GiB of 32-byte
// values, of 72-byte pairs). Canonical text spells most values in fewer bytes
// than jsonb stores them, at most about six times fewer (an array of small
// numbers): only a value longer than jsonbCheckFrom can reach a limit.
const (
	jsonbMaxLen    = 1<<28 - 1
	jsonbMaxElems  = (1<<30 - 1) / 32
	jsonbMaxPairs  = (1<<30 - 1) / 72
	jsonbCheckFrom = 40 << 20
)

// jsonbSize is the size of canonical JSON v as a jsonb datum (what
// pg_column_size reports), or an error naming the jsonb limit it passes.
func jsonbSize(v []byte) (int, error) {
	w := sizer{src: v, members: make([]sizeMember, 0, 16)}
	end, ok := 0, false
	if len(v) > 0 && v[0] != '[' && v[0] != '{' {
		// A scalar is stored as a one-element array.
		end, ok = w.container(4, 1, func(o int) (int, bool) { return w.value(o) })
	} else {
		end, ok = w.value(4)
	}
	if w.err != nil {
		return 0, w.err
	}
	if !ok || w.i != len(v) {
		return 0, fmt.Errorf("not canonical JSON")
	}
	return end, nil
}

type sizer struct {
	src     []byte
	i       int
	err     error
	members []sizeMember // a stack: each object open on the way down keeps its members here
}

// value adds the value at w.i, whose data starts at offset o, and returns
// where its data ends.
func (w *sizer) value(o int) (int, bool) {
	if w.i >= len(w.src) || w.err != nil {
		return o, false
	}
	switch c := w.src[w.i]; {
	case c == '[':
		w.i++
		n := w.count(']')
		return w.container(o, n, w.value)
	case c == '{':
		return w.object(o)
	case c == '"':
		return o + w.str(), true
	case c == '-' || c >= '0' && c <= '9':
		size := numericSize(w.number())
		return align(o, 4) + size, true
	}
	for _, lit := range [...]string{"true", "false", "null"} {
		if hasLiteral(w.src, w.i, lit) {
			w.i += len(lit)
			return o, true
		}
	}
	return o, false
}

// container lays out n elements at offset o, each added by elem, w.i past
// the opening bracket (or at a lone scalar).
func (w *sizer) container(o, n int, elem func(int) (int, bool)) (int, bool) {
	if n > jsonbMaxElems {
		w.err = fmt.Errorf("an array of %d elements, more than jsonb's %d", n, jsonbMaxElems)
		return o, false
	}
	base := o
	o = align(o, 4) + 4 + 4*n
	for k := range n {
		if k > 0 {
			w.i++ // the comma
		}
		var ok bool
		if o, ok = elem(o); !ok {
			return o, false
		}
	}
	if w.i < len(w.src) && w.src[w.i] == ']' {
		w.i++
	}
	return o, w.fits(o - base)
}

func (w *sizer) object(o int) (int, bool) {
	w.i++
	n := w.count('}')
	if n > jsonbMaxPairs {
		w.err = fmt.Errorf("an object of %d members, more than jsonb's %d", n, jsonbMaxPairs)
		return o, false
	}
	base := o
	o = align(o, 4) + 4 + 8*n
	// Keys are stored before all the values, and the values in the order
	// jsonb keeps the keys, shortest first: since numbers and containers
	// are aligned by offset, the keys go first, then the values in that
	// order.
	from := len(w.members)
	for k := range n {
		if k > 0 {
			w.i++
		}
		key := w.str()
		o += key
		w.i++ // the colon
		w.members = append(w.members, sizeMember{key: key, at: w.i})
		w.skip()
	}
	end := w.i
	ms := w.members[from:]
	if !slices.IsSortedFunc(ms, byKey) {
		slices.SortStableFunc(ms, byKey)
	}
	ok := true
	for _, m := range ms {
		w.i = m.at
		if o, ok = w.value(o); !ok {
			break
		}
	}
	w.members = w.members[:from]
	w.i = end + 1 // the closing brace
	return o, ok && w.fits(o-base)
}

// sizeMember is an object's member as sizer.object lays it out: its key's
// length unescaped, and where its value starts.
type sizeMember struct{ key, at int }

func byKey(a, b sizeMember) int { return a.key - b.key }

func (w *sizer) fits(n int) bool {
	if n > jsonbMaxLen {
		w.err = fmt.Errorf("an array or object of %d bytes in jsonb, more than its %d", n, jsonbMaxLen)
		return false
	}
	return true
}

// count counts the elements of the container w.i is in, up to its close.
func (w *sizer) count(close byte) int {
	if w.i < len(w.src) && w.src[w.i] == close {
		return 0
	}
	save, n := w.i, 1
	for w.i < len(w.src) {
		w.skip()
		if w.i >= len(w.src) || w.src[w.i] != ',' {
			break
		}
		w.i++
		n++
	}
	w.i = save
	return n
}

// skip moves w.i past one value (an object member's key and value).
func (w *sizer) skip() {
	depth := 0
	for w.i < len(w.src) {
		switch c := w.src[w.i]; c {
		case '"':
			w.str()
			continue
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return
			}
			depth--
		case ',':
			if depth == 0 {
				return
			}
		}
		w.i++
	}
}

// str moves w.i past a string and returns its length unescaped.
func (w *sizer) str() int {
	end, n, _ := scanString(w.src, w.i)
	w.i = end
	return n
}

func (w *sizer) number() []byte {
	j := w.i
	for j < len(w.src) && (w.src[j] == '-' || w.src[j] == '+' || w.src[j] == '.' || w.src[j] == 'e' || w.src[j] >= '0' && w.src[j] <= '9') {
		j++
	}
	num := w.src[w.i:j]
	w.i = j
	return num
}

// numericSize is the size of a canonical number as a numeric datum: a
// 4-byte length, a 2-byte header (4 bytes when the display scale passes
// 63 or the weight leaves -64..63), and 2 bytes per base-10000 digit.
func numericSize(num []byte) int {
	if len(num) > 0 && num[0] == '-' {
		num = num[1:]
	}
	mant, exp := num, 0
	for i, c := range num {
		if c == 'e' {
			mant = num[:i]
			fmt.Sscan(string(num[i+1:]), &exp)
			break
		}
	}
	frac, digits := 0, make([]byte, 0, len(mant))
	for i, c := range mant {
		if c == '.' {
			frac = len(mant) - i - 1
			continue
		}
		digits = append(digits, c)
	}
	dscale := max(frac-exp, 0)
	lead := 0
	for lead < len(digits) && digits[lead] == '0' {
		lead++
	}
	if lead == len(digits) {
		return 6 // zero: no digits
	}
	trail := 0
	for digits[len(digits)-1-trail] == '0' {
		trail++
	}
	q := exp - frac // digits × 10^q
	hi := q + len(digits) - 1 - lead
	lo := q + trail
	weight, low := floorDiv(hi, 4), floorDiv(lo, 4)
	header := 2
	if dscale > 63 || weight > 63 || weight < -64 {
		header = 4
	}
	return 4 + header + 2*(weight-low+1)
}

func floorDiv(a, b int) int {
	if a < 0 {
		return -((-a + b - 1) / b)
	}
	return a / b
}
