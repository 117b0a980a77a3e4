package persist

import (
	"context"
	"fmt"

	"github.com/cuitty/persist/internal/load"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// Backfill copies everything the primary holds to the secondary, from one
// consistent snapshot, while writes through the store go on.
//
// Each batch is merged by version: an item the secondary already has in a
// newer version (a write dual-written after the snapshot was taken) is
// skipped as stale, and tombstones carry their versions, so a record deleted
// meanwhile is never brought back. Writes waiting in the pending queue when
// the snapshot is taken are in it, and leave the queue when the backfill
// succeeds; writes queued later are drained at the end. A backfill also
// clears NeedsBackfill, and one that fails sets it.
func (d *DualWrite) Backfill(ctx context.Context) (_ Result, err error) {
	defer ofContext(ctx, &err)
	if err := d.active(); err != nil {
		return Result{}, err
	}
	d.drainMu.Lock()
	defer d.drainMu.Unlock()

	// Every queued write was committed on the primary before it was
	// queued, so the snapshot opened below holds it.
	d.qmu.Lock()
	covered := len(d.pending)
	d.overflow = false
	d.qmu.Unlock()

	res, err := d.copySnapshot(ctx)
	if err != nil {
		// The secondary is not shown to hold what the primary does (the
		// first backfill of EnableDualWrite may have copied nothing): only
		// a backfill that succeeds says it does.
		d.qmu.Lock()
		d.overflow = true
		d.setErr(err)
		d.qmu.Unlock()
		return res, fmt.Errorf("backfill %s to %s: %w", d.s.loc, d.loc, err)
	}
	d.qmu.Lock()
	if !d.overflow && len(d.pending) >= covered {
		d.pending = append(d.pending[:0:0], d.pending[covered:]...)
	}
	d.qmu.Unlock()
	if err := d.drain(ctx, d.opt.Retries); err != nil {
		return res, fmt.Errorf("backfill %s to %s: %w", d.s.loc, d.loc, d.degraded(d.Status(), err))
	}
	return res, nil
}

// copySnapshot streams a snapshot of the primary into the secondary in
// batches of BatchSize, each one transaction.
func (d *DualWrite) copySnapshot(ctx context.Context) (Result, error) {
	var res Result
	s := d.s
	src, err := OpenSource(ctx, s.loc.Raw, ReadOptions{Store: s.name})
	if err != nil {
		return res, err
	}
	defer src.Close()
	var (
		sum   tally
		batch = make([]*record.Item, 0, d.opt.BatchSize)
	)
	flush := func(p Progress) error {
		if len(batch) == 0 {
			return nil
		}
		st, err := load.Apply(ctx, d.a, d.name, batch, load.Options{})
		res.addLoad(loadResult("", d.name, st, ""))
		if err != nil {
			return fmt.Errorf("%s: %w", d.loc, location.ScrubError(err, d.loc.Raw))
		}
		batch = batch[:0]
		if d.opt.OnProgress != nil {
			d.opt.OnProgress(p)
		}
		return nil
	}
	var last Progress
	err = src.each(ctx, func(p Progress) { last = p }, func(it *record.Item, digest [32]byte) error {
		sum.add(it, digest)
		// The batch keeps the item: the source reuses its own.
		batch = append(batch, it.Clone())
		if len(batch) >= d.opt.BatchSize {
			return flush(last)
		}
		return nil
	})
	if err == nil {
		err = flush(last)
	}
	t := sum.result()
	res.Records, res.Events, res.Sum = t.Records, t.Events, t.Sum
	return res, err
}
