package diff

import (
	"errors"
	"fmt"

	"github.com/cuitty/persist/internal/record"
)

// Sentinels for inputs the merge cannot use.
var (
	ErrOrder     = errors.New("input not in dump order")
	ErrDuplicate = errors.New("item appears twice")
	ErrItemKind  = errors.New("not a record or event")
)

// orderCheck fails on an item out of dump order or at the address of the
// one before.
type orderCheck struct{ order record.Order }

func (o *orderCheck) check(it *record.Item) error {
	if it.Kind != record.KindRecord && it.Kind != record.KindEvent {
		return fmt.Errorf("%w: %s line", ErrItemKind, it.Kind)
	}
	switch prev, c := o.order.Next(it); {
	case c == 0:
		return fmt.Errorf("%w: %s", ErrDuplicate, address(it))
	case c > 0:
		return fmt.Errorf("%w: %s comes after %s", ErrOrder, address(it), address(&prev))
	}
	return nil
}

// InOrder passes in's items through and fails with ErrOrder or ErrDuplicate
// as soon as one is out of dump order or repeats an address. Diff checks
// its inputs itself; this is for other consumers of a stream that must be
// ordered (a caller that wants to fall back to Sorted, for instance).
func InOrder(in Iterator) Iterator { return &inOrder{in: in} }

type inOrder struct {
	in    Iterator
	order orderCheck
}

func (o *inOrder) Next() (*record.Item, error) {
	it, err := o.in.Next()
	if err != nil {
		return nil, err
	}
	if err := o.order.check(it); err != nil {
		return nil, err
	}
	return it, nil
}
