package postgres

import (
	"fmt"
	"sync"

	"github.com/cuitty/persist/internal/record"
)

// walkSizer is jsonbSize on record.Walk, in one pass: a container's
// elements are laid out after its header, whose size is a multiple of 4,
// so an array's layout does not depend on how many it has; an object's
// values follow all its keys, so its values are laid out from each of the
// four alignments the keys may leave, and the right one kept at its end.
type walkSizer struct {
	frames []sizeFrame
	stack  [8]sizeFrame
	top    int // the root's layout, for a scalar
	scalar bool
	size   int // the datum's size, once known
	err    error
	fn     func(record.Token) error
}

type sizeFrame struct {
	obj  bool
	n    int
	keys int    // the keys' bytes
	e    [4]int // the layout's end from each alignment (an array uses e[0])
	over [4]int // a child too big, from each alignment
}

var sizers = sync.Pool{New: func() any {
	w := &walkSizer{}
	w.fn = w.token
	return w
}}

func walkJSONBSize(v []byte) (int, error) {
	w := sizers.Get().(*walkSizer)
	defer sizers.Put(w)
	w.frames, w.top, w.scalar, w.size, w.err = w.stack[:0], 0, false, 0, nil
	if err := record.Walk(v, w.fn); err != nil {
		if w.err != nil {
			return 0, w.err
		}
		return 0, fmt.Errorf("not canonical JSON")
	}
	if w.scalar {
		if !w.fits(8 + w.top) {
			return 0, w.err
		}
		return 12 + w.top, nil
	}
	return w.size, nil
}

func (w *walkSizer) token(t record.Token) error {
	switch t.Kind {
	case record.TokenBeginObject, record.TokenBeginArray:
		f := sizeFrame{obj: t.Kind == record.TokenBeginObject}
		if f.obj {
			f.e = [4]int{0, 1, 2, 3}
		}
		w.frames = append(w.frames, f)
		return nil
	case record.TokenEndArray, record.TokenEndObject:
		return w.close()
	case record.TokenName:
		f := &w.frames[len(w.frames)-1]
		f.n++
		f.keys += t.Len
		return nil
	}
	var size int
	switch t.Kind {
	case record.TokenString:
		w.add(t.Len, false)
		return nil
	case record.TokenNumber:
		size = numericSize(t.Text)
	default: // a literal
		w.add(0, false)
		return nil
	}
	w.add(size, true)
	return nil
}

// add lays out a value of size bytes after the ones before it, aligned to
// 4 when it is a number or a container.
func (w *walkSizer) add(size int, aligned bool) {
	if len(w.frames) == 0 {
		w.scalar, w.top = true, size
		return
	}
	f := &w.frames[len(w.frames)-1]
	k := 1
	if f.obj {
		k = 4
	} else {
		f.n++
	}
	for j := range k {
		if aligned {
			f.e[j] = align(f.e[j], 4)
		}
		f.e[j] += size
	}
}

// close ends the container on top, adding it to the one it is in.
func (w *walkSizer) close() error {
	f := w.frames[len(w.frames)-1]
	w.frames = w.frames[:len(w.frames)-1]
	var size int
	if f.obj {
		if f.n > jsonbMaxPairs {
			return w.fail(fmt.Errorf("an object of %d members, more than jsonb's %d", f.n, jsonbMaxPairs))
		}
		k := f.keys % 4
		if f.over[k] > 0 {
			return w.fail(fmt.Errorf("an array or object of %d bytes in jsonb, more than its %d", f.over[k], jsonbMaxLen))
		}
		size = 4 + 8*f.n + f.keys - k + f.e[k]
	} else {
		if f.n > jsonbMaxElems {
			return w.fail(fmt.Errorf("an array of %d elements, more than jsonb's %d", f.n, jsonbMaxElems))
		}
		if f.over[0] > 0 {
			return w.fail(fmt.Errorf("an array or object of %d bytes in jsonb, more than its %d", f.over[0], jsonbMaxLen))
		}
		size = 4 + 4*f.n + f.e[0]
	}
	if len(w.frames) == 0 {
		w.size = 4 + size
		if !w.fits(size) {
			return w.err
		}
		return nil
	}
	p := &w.frames[len(w.frames)-1]
	k := 1
	if p.obj {
		k = 4
	} else {
		p.n++
	}
	for j := range k {
		if pad := align(p.e[j], 4) - p.e[j]; size+pad > jsonbMaxLen && p.over[j] == 0 {
			p.over[j] = size + pad
		}
		p.e[j] = align(p.e[j], 4) + size
	}
	return nil
}

func (w *walkSizer) fits(n int) bool {
	if n > jsonbMaxLen {
		w.err = fmt.Errorf("an array or object of %d bytes in jsonb, more than its %d", n, jsonbMaxLen)
		return false
	}
	return true
}

func (w *walkSizer) fail(err error) error {
	w.err = err
	return err
}
