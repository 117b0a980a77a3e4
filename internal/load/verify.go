package load

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// verify reads back the keys just written (puts) and removed (removes) and
// compares canonical lines: a put must be there exactly as meant, a removed
// item must be gone. ents only serve to name a line in the error.
func (l *loader) verify(ctx context.Context, tx adapters.Tx, ents []*entry, puts []*record.Item, removes []key) error {
	keys := make([]*record.Item, 0, len(puts)+len(removes))
	keys = append(keys, puts...) // a put names its own key
	for _, k := range removes {
		keys = append(keys, k.item())
	}
	w := newWanted(keys, len(puts))
	bad := map[key]bool{}
	err := tx.Lookup(ctx, keys, false, func(it *record.Item) error {
		i := w.find(it)
		if i < 0 {
			return nil
		}
		w.seen[i] = true
		c := *it
		normalize(&c)
		if w.removed[i] || !sameItem(&c, w.items[i]) {
			bad[keyOf(it)] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading back: %w", err)
	}
	for i, it := range w.items {
		if !w.seen[i] && !w.removed[i] {
			bad[keyOf(it)] = true // not found
		}
	}
	if len(bad) == 0 {
		return nil
	}
	e := &mismatchError{keys: bad}
	for _, en := range ents {
		if bad[en.target] {
			e.line = en.line
			break
		}
	}
	return e
}

// wanted holds the items a verification expects, in dump order, so that
// each item read back is found by its key without a map: a batch's keys
// come in order already, and so do the rows read back, mostly.
type wanted struct {
	items   []*record.Item
	removed []bool // the item was removed: it must not be found
	seen    []bool
	next    int // where the item after the last one found is
}

// newWanted takes keys, whose first puts are items written and the rest
// items removed. Of a key named twice, the last counts.
func newWanted(keys []*record.Item, puts int) *wanted {
	type want struct {
		it      *record.Item
		removed bool
	}
	ws := make([]want, len(keys))
	for i, k := range keys {
		ws[i] = want{k, i >= puts}
	}
	ws = record.SortLast(ws, func(a, b want) int { return record.Compare(a.it, b.it) })
	w := &wanted{items: make([]*record.Item, 0, len(ws)), removed: make([]bool, 0, len(ws))}
	for _, x := range ws {
		w.items, w.removed = append(w.items, x.it), append(w.removed, x.removed)
	}
	w.seen = make([]bool, len(w.items))
	return w
}

// find returns the index of the item with its key, or -1.
func (w *wanted) find(it *record.Item) int {
	i := w.next
	if i >= len(w.items) || record.Compare(w.items[i], it) != 0 {
		var ok bool
		if i, ok = slices.BinarySearchFunc(w.items, it, record.Compare); !ok {
			return -1
		}
	}
	w.next = i + 1
	return i
}

// sameItem reports whether two items have the same canonical line, field by
// field: building both lines would cost two more copies of every value, which
// for a 100 MB value is most of a load's memory.
func sameItem(a, b *record.Item) bool {
	return a.Kind == b.Kind && a.Collection == b.Collection && a.Key == b.Key && a.Version == b.Version &&
		a.UpdatedAt == b.UpdatedAt && a.Deleted == b.Deleted && a.Stream == b.Stream && a.Seq == b.Seq &&
		a.Type == b.Type && a.At == b.At &&
		bytes.Equal(valueOf(a.Value, a.Deleted), valueOf(b.Value, b.Deleted)) &&
		bytes.Equal(valueOf(a.Data, false), valueOf(b.Data, false))
}

// valueOf is a value as its line shows it: none for a tombstone, null when
// absent.
func valueOf(v []byte, deleted bool) []byte {
	switch {
	case deleted:
		return nil
	case v == nil:
		return jsonNull
	}
	return v
}
