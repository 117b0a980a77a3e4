package load

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// A merge load writes up to Options.Writers batches at once, each in a
// transaction of its own, so that the database works on one batch's COPY
// while it reads back and commits the one before. What the user sees stays
// that of batches written one after the other:
//
//   - a batch starts only once every batch before it that shares a key with
//     it has ended, so each key is merged in stream order;
//   - a batch commits only after the batch before it has ended, and rolls
//     back if that one failed: a load that stops leaves exactly the batches
//     before the failing one committed;
//   - a batch writes its rejects after it commits and before the next batch
//     may commit, so a rejects file that cannot be written stops the load
//     there too;
//   - outcomes and progress are reported batch by batch, in order, and a
//     batch rolled back because an earlier one failed counts for nothing.

// job is one batch being written.
type job struct {
	b    *batch
	prev *job          // the batch before, which must end before this one commits
	done chan struct{} // closed when the job has ended
	// alone: no other batch is written beside this one. The first batch of
	// a load creates the store's row, which a second would wait for while
	// the first waits for nothing; a batch holding a huge line should not
	// add another batch's memory to its own.
	alone bool

	// The keys the batch touches, for telling whether two batches overlap:
	// the span from lo to hi of a batch in order, else the sets, made when
	// first needed.
	lo, hi  *record.Item
	keys    map[key]struct{}
	streams map[string]bool // streams with events, true where events are appended

	// Results, read after done is closed.
	committed *batch // what was committed: b, a prefix of it, or nil
	delta     Stats  // retries, redos, conflicts and rejects of its attempts
	err       error
}

// errPrevFailed: the batch before failed, so this one must not commit.
var errPrevFailed = errors.New("an earlier batch failed")

// turnWait bounds how long a written batch waits, holding its locks, for the
// batch before to end: turnWait, or twice what writing it took if that is
// longer, so that on a slow server batches do not give up on each other. A
// transaction of another application can wait on this batch's locks while
// holding one the batch before waits for, a cycle PostgreSQL cannot see:
// when the wait runs out the batch rolls back, waits, and is written again.
var turnWait = 5 * time.Second // a variable for tests

// hugeLine is the size of a value from which its batch is written alone.
const hugeLine = 4 << 20

// errNotYourTurn: turnWait passed before the batch before ended.
var errNotYourTurn = errors.New("the batch before is still being written")

// turn waits until the batch before j has ended. It returns errPrevFailed
// when that one failed, errNotYourTurn once wait has passed.
func (j *job) turn(ctx context.Context, wait time.Duration) error {
	if j.prev == nil {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-j.prev.done:
	case <-t.C:
		return errNotYourTurn
	case <-ctx.Done():
		return ctx.Err()
	}
	if j.prev.err != nil {
		return errPrevFailed
	}
	return nil
}

// newJob prepares b for writing after prev. When other batches may be
// written beside it (shared, more than one writer), a batch in order gets
// the span of its keys; the sets of the others are made when first needed
// (index).
func newJob(b *batch, prev *job, shared bool) *job {
	j := &job{b: b, prev: prev, done: make(chan struct{}), alone: prev == nil}
	for _, e := range b.ents {
		if len(e.it.Value) >= hugeLine || len(e.it.Data) >= hugeLine {
			j.alone = true
		}
	}
	if shared && !j.alone && !b.unordered && len(b.ents) > 0 {
		j.lo, j.hi = b.ents[0].it, b.ents[len(b.ents)-1].it
	}
	return j
}

// index makes the sets of the keys and streams j touches.
func (j *job) index() {
	if j.keys != nil {
		return
	}
	j.keys, j.streams = make(map[key]struct{}, len(j.b.ents)), map[string]bool{}
	for _, e := range j.b.ents {
		if e.it.Kind == record.KindEvent {
			if e.it.Seq == 0 {
				j.streams[e.it.Stream] = true
				continue
			}
			if _, ok := j.streams[e.it.Stream]; !ok {
				j.streams[e.it.Stream] = false
			}
		}
		j.keys[keyOf(e.it)] = struct{}{}
	}
}

// overlaps reports whether j and o share a key, or one appends to a stream
// the other has events in: their order would then matter.
func (j *job) overlaps(o *job) bool {
	if j.lo != nil && o.lo != nil {
		// Batches in order overlap when their spans do: a shared span
		// without a shared key (streams interleaved) only costs waiting.
		return record.Compare(j.lo, o.hi) <= 0 && record.Compare(o.lo, j.hi) <= 0
	}
	j.index()
	o.index()
	a, b := j, o
	if len(a.keys) > len(b.keys) {
		a, b = b, a
	}
	for k := range a.keys {
		if _, ok := b.keys[k]; ok {
			return true
		}
	}
	for s, appends := range j.streams {
		if other, ok := o.streams[s]; ok && (appends || other) {
			return true
		}
	}
	return false
}

// pipeline is the batches being written, oldest first.
type pipeline struct {
	l       *loader
	ctx     context.Context
	jobs    []*job
	last    *job
	recycle func(*batch)
}

// start writes b after every batch before it; it first reports batches
// that must end before b may start.
func (p *pipeline) start(b *batch) error {
	j := newJob(b, p.last, p.l.writers > 1)
	for len(p.jobs) > 0 {
		if len(p.jobs) < p.l.writers && !j.alone && !p.jobs[len(p.jobs)-1].alone && !p.overlaps(j) {
			break
		}
		if err := p.finish(); err != nil {
			return err
		}
	}
	p.jobs = append(p.jobs, j)
	p.last = j
	go func() {
		defer close(j.done)
		j.committed, j.err = p.l.writeBatch(p.ctx, j.b, &j.delta, j)
		if j.committed != nil {
			if err := p.l.writeRejects(j.committed); err != nil && j.err == nil {
				j.err = err
			}
		}
	}()
	return nil
}

func (p *pipeline) overlaps(j *job) bool {
	for _, o := range p.jobs {
		if j.overlaps(o) {
			return true
		}
	}
	return false
}

// finish waits for the oldest batch and reports it.
func (p *pipeline) finish() error {
	j := p.jobs[0]
	p.jobs = p.jobs[1:]
	<-j.done
	// Only j's own goroutine, now ended, read j.prev; the next batch still
	// points to j. Letting go of what j no longer needs keeps the chain
	// of ended batches from holding every key of the load.
	j.prev, j.lo, j.hi, j.keys, j.streams = nil, nil, nil, nil, nil
	if errors.Is(j.err, errPrevFailed) {
		return j.err // rolled back: as if never read
	}
	l := p.l
	l.counted(j.b)
	addAttempts(&l.stats, j.delta)
	if j.committed != nil {
		account(&l.stats, j.committed)
		if len(j.committed.ents) > 0 {
			l.progress(l.stats)
		}
	}
	if j.err == nil && p.recycle != nil {
		p.recycle(j.b)
	}
	return j.err
}

// drain reports every batch still being written; after an error the later
// ones roll back, and the first error is returned.
func (p *pipeline) drain() error {
	var first error
	for len(p.jobs) > 0 {
		if err := p.finish(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// addAttempts adds what a batch's attempts counted to s.
func addAttempts(s *Stats, d Stats) {
	s.Retries += d.Retries
	s.Redos += d.Redos
	s.Conflicts += d.Conflicts
	s.Rejects += d.Rejects
	s.Batches += d.Batches
}

// commitBatch writes b on its own and reports it.
func (l *loader) commitBatch(ctx context.Context, b *batch) error {
	p := &pipeline{l: l, ctx: ctx}
	if err := p.start(b); err != nil {
		return err
	}
	return p.drain()
}

// writeBatch writes b in a transaction of its own, committed only in j's
// turn: retried on transient failures, redone when verification finds a
// concurrent newer write. It returns what it committed and counts its
// attempts into d; nothing else of the loader changes.
func (l *loader) writeBatch(ctx context.Context, b *batch, d *Stats, j *job) (*batch, error) {
	if len(b.ents) == 0 {
		// Only rejects: they are reported in turn.
		if err := j.turnPatiently(ctx); err != nil {
			return nil, err
		}
		return b, nil
	}
	r := l.retrier(b.first(), b.last())
	redos := 0
	for {
		start := time.Now()
		err := l.tryBatch(ctx, b, j)
		if err == nil {
			d.Batches++
			return b, nil
		}
		if errors.Is(err, errNotYourTurn) {
			d.Retries++
			r.turn(time.Since(start))
			if err := j.turnPatiently(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if errors.Is(err, errPrevFailed) {
			return nil, err
		}
		var st *stopError
		if errors.As(err, &st) {
			d.Conflicts++
			d.Rejects++
			if !l.allOrNothing && st.idx > 0 {
				// Stop at the conflict, as for any other rejected line:
				// what comes before it is written.
				p := b.prefix(st.idx)
				if q, err := l.writeBatch(ctx, p, d, j); err != nil {
					return q, err // a conflict earlier still, met on the way
				}
				return p, st.err
			}
			if err := j.turnPatiently(ctx); err != nil {
				return nil, err
			}
			return nil, st.err
		}
		var mm *mismatchError
		if errors.As(err, &mm) && redos < l.redos {
			redos++
			d.Redos++
			continue
		}
		if err := r.again(ctx, err); err != nil {
			return nil, fmt.Errorf("batch of lines %d-%d: %w", b.first(), b.last(), err)
		}
		d.Retries++
	}
}

// turnPatiently waits for the batch before j to end, however long it takes.
func (j *job) turnPatiently(ctx context.Context) error {
	if j.prev == nil {
		return nil
	}
	select {
	case <-j.prev.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if j.prev.err != nil {
		return errPrevFailed
	}
	return nil
}

// tryBatch writes ents in one transaction. While batches keep finding none
// of their keys in the store (a first load, or the part of a rerun past what
// an earlier run wrote), a batch is first tried as Fresh, which skips the
// lookup and the staging; one that finds a key is done again the full way.
func (l *loader) tryBatch(ctx context.Context, b *batch, j *job) error {
	if l.fresh.Load() {
		err := l.tryTx(ctx, b, adapters.Fresh, j)
		if !errors.Is(err, adapters.ErrExists) && !errors.Is(err, errNotFresh) {
			return err
		}
		l.fresh.Store(false)
	}
	return l.tryTx(ctx, b, adapters.Guarded, j)
}

func (l *loader) tryTx(ctx context.Context, b *batch, mode adapters.PutMode, j *job) error {
	start := time.Now()
	tx, err := l.a.Begin(ctx, l.store)
	if err != nil {
		return fmt.Errorf("beginning a transaction: %w", err)
	}
	defer tx.Rollback()
	found, err := l.merge(ctx, tx, b.ents, !b.unordered, mode)
	if err != nil {
		return err
	}
	if err := j.turn(ctx, max(turnWait, 2*time.Since(start))); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	l.fresh.Store(found == 0)
	return nil
}
