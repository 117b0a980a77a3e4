package diff

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"github.com/cuitty/persist/internal/record"
)

// maxDepth bounds the walk, so a pathologically nested value costs a report
// at that depth instead of a deep recursion.
const maxDepth = 512

// walkValues calls f for each JSON path at which a and b differ, in order
// of the paths (object members by key bytes, array elements by index). A
// nil side is absent. Paths are jq-style: "." for the whole value,
// `.name`, `."odd key"`, `[2]`. A subtree present on one side only, or of a
// different type on each side, is reported once at its root.
func walkValues(a, b []byte, f func(path string, a, b []byte)) {
	w := walker{f: f}
	w.walk(a, b, 0)
}

type walker struct {
	path []byte
	f    func(path string, a, b []byte)
}

func (w *walker) emit(a, b []byte) {
	switch {
	case len(w.path) == 0:
		w.f(".", a, b)
	case w.path[0] == '[':
		w.f("."+string(w.path), a, b)
	default:
		w.f(string(w.path), a, b)
	}
}

func (w *walker) walk(a, b []byte, depth int) {
	if a != nil {
		a = trim(a)
	}
	if b != nil {
		b = trim(b)
	}
	if (a == nil && b == nil) || (a != nil && b != nil && bytes.Equal(a, b)) {
		return
	}
	if a == nil || b == nil || depth >= maxDepth {
		w.emit(a, b)
		return
	}
	ta, tb := jsonType(a), jsonType(b)
	if ta != tb || (ta != '{' && ta != '[') {
		w.emit(a, b)
		return
	}
	if ta == '{' {
		if !w.object(a, b, depth) {
			w.emit(a, b)
		}
		return
	}
	if !w.array(a, b, depth) {
		w.emit(a, b)
	}
}

func (w *walker) object(a, b []byte, depth int) bool {
	ma, err := members(a)
	if err != nil {
		return false
	}
	mb, err := members(b)
	if err != nil {
		return false
	}
	byKey := func(x, y member) int { return strings.Compare(x.key, y.key) }
	// Canonical text is sorted already; anything else is sorted here so the
	// merge below stays right.
	if !slices.IsSortedFunc(ma, byKey) {
		slices.SortStableFunc(ma, byKey)
	}
	if !slices.IsSortedFunc(mb, byKey) {
		slices.SortStableFunc(mb, byKey)
	}
	n := len(w.path)
	i, j := 0, 0
	for i < len(ma) || j < len(mb) {
		var c int
		switch {
		case i == len(ma):
			c = 1
		case j == len(mb):
			c = -1
		default:
			c = strings.Compare(ma[i].key, mb[j].key)
		}
		var k string
		var va, vb []byte
		switch {
		case c < 0:
			k, va = ma[i].key, ma[i].val
			i++
		case c > 0:
			k, vb = mb[j].key, mb[j].val
			j++
		default:
			k, va, vb = ma[i].key, ma[i].val, mb[j].val
			i++
			j++
		}
		w.path = appendKey(w.path, k)
		w.walk(va, vb, depth+1)
		w.path = w.path[:n]
	}
	return true
}

func (w *walker) array(a, b []byte, depth int) bool {
	var ea, eb [][]byte
	if elements(a, func(_ int, e []byte) { ea = append(ea, e) }) != nil {
		return false
	}
	if elements(b, func(_ int, e []byte) { eb = append(eb, e) }) != nil {
		return false
	}
	n := len(w.path)
	for i := 0; i < max(len(ea), len(eb)); i++ {
		var va, vb []byte
		if i < len(ea) {
			va = ea[i]
		}
		if i < len(eb) {
			vb = eb[i]
		}
		w.path = append(w.path, '[')
		w.path = strconv.AppendInt(w.path, int64(i), 10)
		w.path = append(w.path, ']')
		w.walk(va, vb, depth+1)
		w.path = w.path[:n]
	}
	return true
}

// appendKey writes .key for an identifier and ."key" (a JSON string, safe
// for a terminal) otherwise, as jq reads them.
func appendKey(dst []byte, k string) []byte {
	dst = append(dst, '.')
	if isIdent(k) {
		return append(dst, k...)
	}
	return appendQuoted(dst, k)
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// member is one object member: its key unescaped and its value's text.
type member struct {
	key string
	val []byte
}

// members lists an object's members in the order written (for canonical
// text, sorted by key bytes), read by record's tokenizer.
func members(v []byte) ([]member, error) {
	var ms []member
	err := record.EachMember(v, func(name, val []byte) error {
		ms = append(ms, member{key: string(name), val: val})
		return nil
	})
	return ms, err
}

// elements calls f for each array element's text.
func elements(v []byte, f func(i int, e []byte)) error {
	return record.EachElement(v, func(i int, e []byte) error {
		f(i, e)
		return nil
	})
}

// trim drops surrounding whitespace from a value.
func trim(v []byte) []byte { return bytes.Trim(v, " \t\n\r") }

// jsonType is the first byte's class: '{', '[', '"', 'b' (bool), 'n', '0'.
func jsonType(v []byte) byte {
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; c {
	case '{', '[', '"', 'n':
		return c
	case 't', 'f':
		return 'b'
	}
	return '0'
}
