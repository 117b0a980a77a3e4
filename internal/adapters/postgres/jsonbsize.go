package postgres

import (
	"fmt"
	"slices"
	"sync"

	"github.com/cuitty/persist/internal/record"
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

// sizer is jsonbSize's walk over a value's tokens (record.Walk), in one
// pass. A container's elements are laid out after its header, whose size
// is a multiple of 4, so an array's layout does not depend on how many it
// has. An object's values follow all its keys, in the order jsonb keeps
// its keys (shortest first), so each member is noted and the object laid
// out at its end. frames[0] holds the value itself, as a one-element array
// (which is how jsonb stores a scalar).
type sizer struct {
	frames  []sizeFrame
	stack   [8]sizeFrame
	members []sizeMember // a stack: each object open on the way down keeps its members here
	scalar  bool         // the value is a scalar
	err     error        // a jsonb limit passed
	fn      func(record.Token) error
}

type sizeFrame struct {
	obj  bool
	n    int // elements or members
	keys int // an object's keys' bytes
	key  int // the length of the key whose value comes next
	base int // an object's first member in members
	end  int // an array's layout so far
	over int // the size of an array's element past jsonbMaxLen
}

// sizeMember is an object's member: its key's length, and its value's
// size, which a number or a container aligns to 4.
type sizeMember struct {
	key, size          int
	aligned, container bool
}

// sizers keeps sizers for reuse: the walk's callback takes its sizer to the
// heap.
var sizers = sync.Pool{New: func() any {
	w := &sizer{}
	w.fn = w.token
	return w
}}

// jsonbSize is the size of canonical JSON v as a jsonb datum (what
// pg_column_size reports), or an error naming the jsonb limit it passes.
func jsonbSize(v []byte) (int, error) {
	w := sizers.Get().(*sizer)
	defer sizers.Put(w)
	w.frames, w.members, w.scalar, w.err = append(w.stack[:0], sizeFrame{}), w.members[:0], false, nil
	if err := record.Walk(v, w.fn); err != nil {
		if w.err != nil {
			return 0, w.err
		}
		return 0, fmt.Errorf("not canonical JSON")
	}
	root := w.frames[0]
	switch {
	case !w.scalar && root.over > 0:
		return 0, tooBig(root.over)
	case !w.scalar:
		return 4 + root.end, nil
	case 8+root.end > jsonbMaxLen:
		return 0, tooBig(8 + root.end)
	}
	return 12 + root.end, nil
}

func (w *sizer) token(t record.Token) error {
	switch t.Kind {
	case record.TokenBeginObject, record.TokenBeginArray:
		w.frames = append(w.frames, sizeFrame{obj: t.Kind == record.TokenBeginObject, base: len(w.members)})
	case record.TokenEndArray, record.TokenEndObject:
		size, err := w.close()
		if err != nil {
			w.err = err
			return err
		}
		w.add(sizeMember{size: size, aligned: true, container: true})
	case record.TokenName:
		f := &w.frames[len(w.frames)-1]
		f.n++
		f.keys += t.Len
		f.key = t.Len
	case record.TokenString:
		w.add(sizeMember{size: t.Len})
	case record.TokenNumber:
		w.add(sizeMember{size: numericSize(t.Text), aligned: true})
	default: // a literal
		w.add(sizeMember{})
	}
	return nil
}

// add adds a value to the container on top: an object's member is noted,
// an array's element laid out after the ones before it.
func (w *sizer) add(m sizeMember) {
	if len(w.frames) == 1 {
		w.scalar = !m.container
	}
	f := &w.frames[len(w.frames)-1]
	if f.obj {
		m.key = f.key
		w.members = append(w.members, m)
		return
	}
	f.n++
	var over int
	if f.end, over = layOut(f.end, m); over > 0 && f.over == 0 {
		f.over = over
	}
}

// layOut lays m out at offset o and returns where it ends, and its size
// with the padding before it when that passes jsonbMaxLen for a container.
func layOut(o int, m sizeMember) (end, over int) {
	start := o
	if m.aligned {
		start = align(o, 4)
	}
	if n := start - o + m.size; m.container && n > jsonbMaxLen {
		over = n
	}
	return start + m.size, over
}

// close ends the container on top and returns its size.
func (w *sizer) close() (int, error) {
	f := w.frames[len(w.frames)-1]
	w.frames = w.frames[:len(w.frames)-1]
	if !f.obj {
		switch {
		case f.n > jsonbMaxElems:
			return 0, fmt.Errorf("an array of %d elements, more than jsonb's %d", f.n, jsonbMaxElems)
		case f.over > 0:
			return 0, tooBig(f.over)
		}
		return 4 + 4*f.n + f.end, nil
	}
	if f.n > jsonbMaxPairs {
		return 0, fmt.Errorf("an object of %d members, more than jsonb's %d", f.n, jsonbMaxPairs)
	}
	ms := w.members[f.base:]
	w.members = w.members[:f.base]
	if !slices.IsSortedFunc(ms, byKey) {
		slices.SortStableFunc(ms, byKey)
	}
	o := 4 + 8*f.n + f.keys
	for _, m := range ms {
		var over int
		if o, over = layOut(o, m); over > 0 {
			return 0, tooBig(over)
		}
	}
	return o, nil
}

func byKey(a, b sizeMember) int { return a.key - b.key }

func tooBig(n int) error {
	return fmt.Errorf("an array or object of %d bytes in jsonb, more than its %d", n, jsonbMaxLen)
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
