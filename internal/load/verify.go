package load

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// verify reads back the keys just written (puts) and removed (removes) and
// compares canonical lines: a put must be there exactly as meant, a removed
// item must be gone. ents only serve to name a line in the error.
func (l *loader) verify(ctx context.Context, tx adapters.Tx, ents []*entry, puts []*record.Item, removes []key) error {
	want := make(map[key]*record.Item, len(puts)+len(removes))
	keys := make([]*record.Item, 0, len(puts)+len(removes))
	for _, p := range puts {
		k := keyOf(p)
		want[k] = p
		keys = append(keys, p) // a put names its own key
	}
	for _, k := range removes {
		want[k] = nil
		keys = append(keys, k.item())
	}
	bad := map[key]bool{}
	err := tx.Lookup(ctx, keys, false, func(it *record.Item) error {
		k := keyOf(it)
		w, ok := want[k]
		if !ok {
			return nil
		}
		delete(want, k) // what remains was not found
		c := *it
		normalize(&c)
		if w == nil || !sameItem(&c, w) {
			bad[k] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading back: %w", err)
	}
	for k, w := range want {
		if w != nil {
			bad[k] = true
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
