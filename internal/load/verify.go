package load

import (
	"context"
	"fmt"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// verify has the adapter compare what the store holds for the keys just
// written (puts) and removed (removes) with what was meant: a put must be
// there exactly as meant, and this transaction's own write; a removed item
// must be gone. ents only serve to name a line in the error.
func verify(ctx context.Context, tx adapters.Tx, ents []*entry, puts []*record.Item, removes []key) error {
	items := puts
	if len(removes) > 0 {
		items = make([]*record.Item, 0, len(puts)+len(removes))
		items = append(items, puts...)
		for _, k := range removes {
			items = append(items, k.item())
		}
	}
	bad := map[key]string{}
	err := tx.ReadBack(ctx, items, func(it *record.Item, problem string) error {
		bad[keyOf(it)] = problem
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading back: %w", err)
	}
	if len(bad) == 0 {
		return nil
	}
	e := &mismatchError{keys: make(map[key]bool, len(bad))}
	for k := range bad {
		e.keys[k] = true
	}
	for _, en := range ents {
		if p, ok := bad[en.target]; ok {
			e.line, e.problem = en.line, fmt.Sprintf("%s %s", describe(en.target), p)
			break
		}
	}
	return e
}

// describe names a key for a message: record users/u1, event orders/7.
func describe(k key) string {
	if k.event {
		return fmt.Sprintf("event %s/%d", quote(k.a), k.seq)
	}
	return fmt.Sprintf("record %s/%s", quote(k.a), quote(k.b))
}

// checkCode refuses a batch of a load where code Persist did not make runs
// on its tables: it could change rows of a batch verified before, which no
// read-back sees, and the load would say every line landed. One write of
// the Go API's (OwnRowsOnly) checks its own rows only, as every write of
// the API does.
func (l *loader) checkCode(ctx context.Context, tx adapters.Tx) error {
	if l.opt.OwnRowsOnly || l.opt.NoVerify {
		return nil
	}
	if err := tx.ForeignCode(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrVerify, err)
	}
	return nil
}
