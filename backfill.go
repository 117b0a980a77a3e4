package persist

import (
	"context"
	"fmt"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/load"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/source"
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
// clears NeedsBackfill.
func (d *DualWrite) Backfill(ctx context.Context) (Result, error) {
	d.drainMu.Lock()
	defer d.drainMu.Unlock()

	// Every queued write was committed on the primary before it was
	// queued, so the snapshot opened below holds it.
	d.qmu.Lock()
	covered := len(d.pending)
	wasOverflow := d.overflow
	d.overflow = false
	d.qmu.Unlock()

	res, err := d.copySnapshot(ctx)
	if err != nil {
		d.qmu.Lock()
		d.overflow = d.overflow || wasOverflow
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
	snap, err := s.a.Snapshot(ctx, s.name)
	if err != nil {
		return res, fmt.Errorf("%s: %w", s.loc, s.scrub(err))
	}
	defer snap.Close()
	records, events, err := snap.Count(ctx, adapters.Filter{})
	if err != nil {
		return res, fmt.Errorf("%s: %w", s.loc, s.scrub(err))
	}
	total := records + events
	var (
		sum   record.Sum
		line  []byte
		batch = make([]*record.Item, 0, min(d.opt.BatchSize, int(total)+1))
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		st, err := load.Apply(ctx, d.a, d.name, batch, load.Options{})
		res.add(st)
		if err != nil {
			return fmt.Errorf("%s: %w", d.loc, location.ScrubError(err, d.loc.Raw))
		}
		batch = batch[:0]
		if d.opt.OnProgress != nil {
			d.opt.OnProgress(Progress{Completed: res.Records + res.Events, Total: total})
		}
		return nil
	}
	err = snap.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
		// A snapshot hands values on as stored; the sum, the secondary's
		// checks and its read-back all take them canonical. A new buffer
		// each: the batch keeps the item.
		c := *it
		if _, err := c.Canonicalize(nil); err != nil {
			return fmt.Errorf("%s: %s: stored value is not valid JSON: %w", s.loc, source.Describe(it), err)
		}
		line = record.AppendItem(line[:0], &c)
		sum.AddLine(line)
		if it.IsRecord() {
			res.Records++
		} else {
			res.Events++
		}
		batch = append(batch, &c)
		if len(batch) >= d.opt.BatchSize {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	res.Sum = sum.String()
	return res, err
}
