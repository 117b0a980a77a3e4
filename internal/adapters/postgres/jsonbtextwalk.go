package postgres

import (
	"bytes"
	"errors"

	"github.com/cuitty/persist/internal/record"
)

// walkSpeller is jsonbWriter on record.Walk.
type walkSpeller struct {
	dst     []byte
	members []member
	frames  []frame
	scratch []byte
	fn      func(record.Token) error
}

// frame is a container open on the way down.
type frame struct {
	obj  bool
	n    int    // elements or members so far
	body int    // where its elements start in dst
	base int    // its first member in members
	m    member // the member whose value is being written
}

var errNotJSONB = errors.New("cannot spell")

func (w *walkSpeller) spell(dst, v []byte) ([]byte, bool) {
	if w.fn == nil {
		w.fn = w.token
	}
	w.dst, w.members, w.frames = dst, w.members[:0], w.frames[:0]
	err := record.Walk(v, w.fn)
	out := w.dst
	w.dst = nil
	if err != nil {
		return dst, false
	}
	return out, true
}

func (w *walkSpeller) token(t record.Token) error {
	switch t.Kind {
	case record.TokenBeginObject, record.TokenBeginArray:
		w.before()
		w.dst = append(w.dst, t.Text[0])
		w.frames = append(w.frames, frame{obj: t.Kind == record.TokenBeginObject, body: len(w.dst), base: len(w.members)})
		return nil
	case record.TokenEndObject:
		f := &w.frames[len(w.frames)-1]
		w.arrangeFrom(f.body, f.base)
		w.members = w.members[:f.base]
		w.frames = w.frames[:len(w.frames)-1]
		w.dst = append(w.dst, '}')
	case record.TokenEndArray:
		w.frames = w.frames[:len(w.frames)-1]
		w.dst = append(w.dst, ']')
	case record.TokenName:
		f := &w.frames[len(w.frames)-1]
		if f.n > 0 {
			w.dst = append(w.dst, ", "...)
		}
		f.n++
		f.m = member{from: len(w.dst), n: t.Len}
		w.dst = append(append(w.dst, t.Text...), ": "...)
		return nil
	case record.TokenNumber:
		w.before()
		var ok bool
		if w.dst, ok = appendNumeric(w.dst, t.Text); !ok {
			return errNotJSONB
		}
	default:
		w.before()
		w.dst = append(w.dst, t.Text...)
	}
	w.after()
	return nil
}

// before writes the ", " before an array's element.
func (w *walkSpeller) before() {
	if len(w.frames) == 0 {
		return
	}
	if f := &w.frames[len(w.frames)-1]; !f.obj {
		if f.n > 0 {
			w.dst = append(w.dst, ", "...)
		}
		f.n++
	}
}

// after ends an object's member with its value.
func (w *walkSpeller) after() {
	if len(w.frames) == 0 {
		return
	}
	if f := &w.frames[len(w.frames)-1]; f.obj {
		f.m.to = len(w.dst)
		w.members = append(w.members, f.m)
	}
}

func (w *walkSpeller) arrangeFrom(body, base int) {
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
	for j := 1; j < len(ms); j++ {
		for k := j; k > 0 && ms[k].n < ms[k-1].n; k-- {
			ms[k-1], ms[k] = ms[k], ms[k-1]
		}
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

// appendNumeric is jsonbWriter.number on a number's text.
func appendNumeric(dst, num []byte) ([]byte, bool) {
	e := -1
	for i, c := range num {
		if c == 'e' || c == 'E' {
			e = i
			break
		}
	}
	if e < 0 {
		return append(dst, num...), len(num) > 0
	}
	mant, exp := num[:e], num[e+1:]
	if len(mant) > 0 && mant[0] == '-' {
		dst = append(dst, '-')
		mant = mant[1:]
	}
	var digits []byte
	point := len(mant)
	if p := bytes.IndexByte(mant, '.'); p >= 0 {
		point = p
		digits = append(append(digits, mant[:p]...), mant[p+1:]...)
	} else {
		digits = mant
	}
	x, ok := exponent(exp)
	if !ok || len(digits) == 0 {
		return dst, false
	}
	n := point + x
	switch {
	case n >= len(digits):
		dst = append(dst, digits...)
		for range n - len(digits) {
			dst = append(dst, '0')
		}
	case n > 0:
		dst = append(append(append(dst, digits[:n]...), '.'), digits[n:]...)
	default:
		dst = append(dst, "0."...)
		for range -n {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	}
	return dst, true
}
