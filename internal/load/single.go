package load

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

// loadSingle runs an atomic, replace or patch load: one transaction for the
// whole stream. A stream cannot be read twice, so a transient failure is
// retried only while the first batch (still in memory) is all that was read;
// later, the load fails with nothing committed and can simply be rerun.
func (l *loader) loadSingle(ctx context.Context, in Input, first *batch, eof bool, stop, inErr error) error {
	if errors.Is(inErr, record.ErrSkipped) {
		// Whole but for lines already rejected (see load).
		eof, inErr, l.unchecked = true, nil, true
	}
	if inErr != nil {
		return inErr
	}
	if stop != nil {
		return stop
	}
	if l.opt.Mode == Replace && !l.patch && eof && len(first.ents) == 0 && l.header == nil {
		return fmt.Errorf("%w: refusing to replace store %s with a stream without a single line or header "+
			"(a failed upstream must not empty a store; a stream with just a header empties it on purpose)", ErrEmptyInput, l.store)
	}
	lo, hi := span(first)
	r := l.retrier(lo, hi)
	for {
		consumed, err := l.single(ctx, in, first, eof)
		if errors.Is(err, errApplied) {
			return l.drainApplied(in, eof)
		}
		if err == nil {
			return nil
		}
		if consumed {
			if l.a.Retryable(err) {
				return fmt.Errorf("%w (a single-transaction load cannot reread its input: nothing was committed, run it again)", l.a.Explain(err))
			}
			return err
		}
		if err := r.again(ctx, err); err != nil {
			if errors.Is(err, ErrGaveUp) && lo > 0 {
				err = fmt.Errorf("batch of lines %d-%d: %w", lo, hi, err)
			}
			return err
		}
		l.stats.Retries++
	}
}

// span is the lines b holds, 0 and 0 for none.
func span(b *batch) (first, last int64) {
	if len(b.ents) == 0 && len(b.bad) == 0 {
		return 0, 0
	}
	return b.first(), b.last()
}

// prepare readies a single-transaction load's transaction: a patch checks
// its target, a replace clears the store; either forgets the cursors
// noted for the store, which becomes the stream's (a replace's own is
// noted once it commits): no delta of the dumps loaded before follows.
func (l *loader) prepare(ctx context.Context, tx adapters.Tx) error {
	switch {
	case l.patch:
		if err := l.checkTarget(ctx, tx); err != nil {
			return err
		}
	case l.opt.Mode == Replace:
		if err := tx.Clear(ctx); err != nil {
			return fmt.Errorf("clearing the store: %w", err)
		}
	default:
		return nil
	}
	return tx.ForgetLoaded(ctx)
}

// single is one attempt at a single-transaction load. consumed reports
// whether input past the first batch was read (no retry possible then).
// Counts of what was written join l.stats only once committed.
func (l *loader) single(ctx context.Context, in Input, first *batch, eof bool) (consumed bool, err error) {
	tx, err := l.a.Begin(ctx, l.store)
	if err != nil {
		return false, fmt.Errorf("beginning a transaction: %w", err)
	}
	defer tx.Rollback()
	if err := l.prepare(ctx, tx); err != nil {
		return false, err
	}
	var pending Stats
	b := first
	var next *batch
	for {
		if len(b.ents) > 0 {
			if err := l.applyInTx(ctx, tx, b, &pending); err != nil {
				return consumed, fmt.Errorf("batch of lines %d-%d: %w", b.first(), b.last(), err)
			}
			pending.Batches++
			account(&pending, b)
		}
		// The first batch's rejects wait until it can no longer be retried,
		// so that a retry does not report its conflicts twice.
		if b != first {
			if err := l.writeRejects(b); err != nil {
				return consumed, err
			}
		}
		l.progress(sumStats(l.stats, pending))
		if eof {
			break
		}
		if !consumed {
			consumed = true
			if err := l.writeRejects(first); err != nil {
				return consumed, err
			}
			next = &batch{}
		}
		if err := ctx.Err(); err != nil {
			return consumed, err
		}
		b = next
		b.reset()
		var stop, inErr error
		eof, stop, inErr = l.readBatch(in, b)
		l.counted(b)
		if errors.Is(inErr, record.ErrSkipped) {
			eof, inErr, l.unchecked = true, nil, true
		}
		if inErr != nil {
			return consumed, inErr
		}
		if stop != nil {
			return consumed, stop
		}
	}
	if err := l.replaced(ctx, tx, pending); err != nil {
		return consumed, err
	}
	if err := tx.Commit(); err != nil {
		return consumed, fmt.Errorf("committing: %w", err)
	}
	if !consumed {
		if err := l.writeRejects(first); err != nil {
			return consumed, err
		}
	}
	l.stats = sumStats(l.stats, pending)
	return consumed, nil
}

// replaced is exactly, for a replace; nothing for another load.
func (l *loader) replaced(ctx context.Context, tx adapters.Tx, s Stats) error {
	if l.opt.Mode != Replace || l.patch {
		return nil
	}
	return l.exactly(ctx, tx, s)
}

// exactly checks, before a replace commits, that the store holds one item
// for each line the replace kept: every line was read back as written, so
// the counts agreeing make the store the stream. A stream naming an item
// twice leaves fewer (the later line overwrote, or lost to, the earlier),
// and the trailer's count and sum would then vouch for a store that is not
// there. Finding which item needs every key in memory; the counts need
// none, and the hint finds it.
func (l *loader) exactly(ctx context.Context, tx adapters.Tx, s Stats) error {
	// Counted under the store's lock, held to the commit: a write that
	// lands after the count cannot come in between, and one before it is
	// counted (the store then holds more than the stream).
	if err := tx.LockStore(ctx); err != nil {
		return fmt.Errorf("before counting the replaced store: %w", err)
	}
	records, events, err := tx.Count(ctx, adapters.Filter{})
	if err != nil {
		return fmt.Errorf("counting the replaced store: %w", err)
	}
	wantR, wantE := s.Written+s.Unchanged+s.Stale, s.Events+s.EventsUnchanged
	if records == wantR && events == wantE {
		return nil
	}
	held := fmt.Sprintf("its %d record and %d event lines left %d records and %d events in store %s", wantR, wantE, records, events, l.store)
	if records > wantR || events > wantE {
		return hint.With(fmt.Errorf("%w: %s: another writer wrote into the store during the replace; nothing was written", ErrVerify, held),
			"stop that writer, or let it finish, and run the replace again")
	}
	return hint.With(fmt.Errorf("%w of the stream: %s, which cannot hold exactly the stream; nothing was written", ErrRepeated, held),
		"in a stream that replaces a store, each record (collection and key) and each event (stream and seq) is on one line; "+
			`list those on more than one: jq -r 'select(.kind == "record" or (.kind == "event" and .seq != null)) | [.kind, .collection // .stream, .key // .seq] | @json' FILE | sort | uniq -d `+
			"(a compressed FILE through zstd -dc or gzip -dc first); "+
			"to merge the lines in order instead, leave out --mode replace")
}

// applyInTx writes one batch into the open transaction. A failed
// verification cannot roll back just this batch, so the lines of the keys
// that did not land as meant are decided again against what the store now
// holds.
func (l *loader) applyInTx(ctx context.Context, tx adapters.Tx, b *batch, pending *Stats) error {
	if l.patch {
		return l.applyPatch(ctx, tx, b.ents)
	}
	ents := b.ents
	for redo := 0; ; redo++ {
		mode := adapters.Guarded
		if l.opt.Mode == Replace {
			mode = adapters.Overwrite
		}
		_, err := l.merge(ctx, tx, ents, !b.unordered, mode)
		var mm *mismatchError
		if !errors.As(err, &mm) {
			var st *stopError
			if errors.As(err, &st) {
				l.stats.Conflicts++
				l.stats.Rejects++
			}
			return err
		}
		if redo >= l.redos {
			return err
		}
		pending.Redos++
		var again []*entry
		for _, e := range ents {
			if mm.keys[e.target] {
				again = append(again, e)
			}
		}
		ents = again
	}
}

func sumStats(a, b Stats) Stats {
	a.Written += b.Written
	a.Unchanged += b.Unchanged
	if b.Stale > 0 && (a.Stale == 0 || b.FirstStale < a.FirstStale) {
		a.FirstStale = b.FirstStale
	}
	a.Stale += b.Stale
	a.Conflicts += b.Conflicts
	a.Events += b.Events
	a.EventsUnchanged += b.EventsUnchanged
	a.Removed += b.Removed
	a.Redos += b.Redos
	a.Batches += b.Batches
	if b.Appended > 0 {
		if a.Appended == 0 || b.AppendedFirst < a.AppendedFirst {
			a.AppendedFirst = b.AppendedFirst
		}
		a.AppendedLast = max(a.AppendedLast, b.AppendedLast)
		a.Appended += b.Appended
	}
	return a
}

// drainApplied reads the rest of a patch that is applied already, so that
// its trailer is checked all the same: a damaged patch is never called a
// no-op.
func (l *loader) drainApplied(in Input, eof bool) error {
	for !eof {
		_, err := in.Next()
		switch {
		case errors.Is(err, io.EOF):
			eof = true
		case err != nil:
			return err
		default:
			l.stats.Lines++
		}
	}
	l.stats.Applied = true
	return nil
}
