package load

import (
	"context"
	"errors"
	"fmt"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// errApplied: the store holds what the patch makes already.
var errApplied = errors.New("the patch is applied already")

// checkTarget refuses a patch made for another state of the store. It runs
// inside the write transaction, so the state checked is the state patched.
func (l *loader) checkTarget(ctx context.Context, tx adapters.Tx) error {
	if l.header == nil || l.header.TargetSum == "" {
		return fmt.Errorf("%w: the patch stream's header carries no target_sum", ErrPatchTarget)
	}
	want, err := record.ParseSum(l.header.TargetSum)
	if err != nil {
		return fmt.Errorf("%w: the patch header's target_sum: %w", ErrPatchTarget, err)
	}
	// The state summed must be the one patched: no write may land between.
	if err := tx.LockStore(ctx); err != nil {
		return fmt.Errorf("before the patch: %w", err)
	}
	var got record.Sum
	var line []byte
	err = tx.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
		line = record.AppendItem(line[:0], it)
		got.AddLine(line)
		return nil
	})
	if err != nil {
		return fmt.Errorf("summing the store before the patch: %w", err)
	}
	if got != want && l.header.ResultSum == got.String() {
		return errApplied
	}
	if got != want {
		return fmt.Errorf("%w: the patch was made for another state of the store: target sum is %s, patch expects %s; make the patch again against the store as it is now",
			ErrPatchTarget, got, want)
	}
	return nil
}

// applyPatch writes a patch batch as it is: records and events replace what
// is there whatever its version, remove lines delete outright. A key named
// twice takes its last line.
func (l *loader) applyPatch(ctx context.Context, tx adapters.Tx, ents []*entry) error {
	type op struct {
		put *record.Item // nil: remove
	}
	ops := make(map[key]op, len(ents))
	order := make([]key, 0, len(ents))
	for _, e := range ents {
		it := e.it
		switch it.Kind {
		case record.KindRecord:
			if it.Version == 0 || it.UpdatedAt == "" {
				return fmt.Errorf("line %d: a patch record must carry version and updated_at", e.line)
			}
			e.out = outWritten
		case record.KindEvent:
			if it.Seq == 0 || it.At == "" {
				return fmt.Errorf("line %d: a patch event must carry seq and at", e.line)
			}
			e.out = outEventWritten
		case record.KindRemove:
			e.out = outRemoved
		}
		k := keyOf(it)
		e.target = k
		if _, ok := ops[k]; !ok {
			order = append(order, k)
		}
		if it.Kind == record.KindRemove {
			ops[k] = op{}
			continue
		}
		c := *it
		normalize(&c)
		ops[k] = op{put: &c}
	}
	var puts []*record.Item
	var removes []key
	var rmItems []*record.Item
	for _, k := range order {
		if p := ops[k].put; p != nil {
			puts = append(puts, p)
		} else {
			removes = append(removes, k)
			rmItems = append(rmItems, k.item())
		}
	}
	older, err := uncarried(ctx, tx, puts)
	if err != nil {
		return err
	}
	rmItems = append(rmItems, older...)
	if len(rmItems) > 0 {
		if err := tx.Remove(ctx, rmItems); err != nil {
			return fmt.Errorf("removing: %w", err)
		}
	}
	if len(puts) > 0 {
		if err := tx.Put(ctx, puts, adapters.Overwrite); err != nil {
			return fmt.Errorf("writing: %w", err)
		}
	}
	if l.opt.NoVerify {
		return nil
	}
	if err := l.checkCode(ctx, tx); err != nil {
		return err
	}
	return verify(ctx, tx, ents, puts, removes)
}

// uncarried names the puts no delta could carry to a copy of the store: a
// record at a version no newer than the store's, with other content (a
// copy would skip it as stale, or refuse it as a conflict), and an event
// with the store's seq and other content. The patch deletes them outright
// before writing them: like its remove lines, that ends every chain of
// deltas from the store (the next is refused, and a full dump starts a new
// one), where the copies would otherwise go on without the change and
// every tool exit 0.
func uncarried(ctx context.Context, tx adapters.Tx, puts []*record.Item) ([]*record.Item, error) {
	if len(puts) == 0 {
		return nil, nil
	}
	byKey := make(map[key]*record.Item, len(puts))
	for _, p := range puts {
		byKey[keyOf(p)] = p
	}
	var out []*record.Item
	err := tx.Lock(ctx, puts, func(held *record.Item) error {
		h := *held
		normalize(&h)
		k := keyOf(&h)
		if p := byKey[k]; p != nil && !carried(p, &h) {
			out = append(out, k.item())
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("looking up what the patch overwrites: %w", err)
	}
	return out, nil
}

// carried reports whether a delta carries p over held to a copy that holds
// held: a newer version, or the very same item.
func carried(p, held *record.Item) bool {
	if p.Kind == record.KindEvent {
		return p.At == held.At && sameEventContent(p, held)
	}
	if p.Version > held.Version {
		return true
	}
	return p.Version == held.Version && p.UpdatedAt == held.UpdatedAt && sameRecordContent(p, held)
}
