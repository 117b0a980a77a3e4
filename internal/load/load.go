// Package load writes a persist.v1 stream into a store (docs/persist-load.md): records
// merge by version, events by (stream, seq), in batches that are each one
// transaction, read back and compared before they commit, retried on
// transient failures; lines the target cannot take go to a rejects file.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// Sentinels a caller can tell apart with errors.Is.
var (
	// ErrRejected: at least one line went to the rejects (or, without a
	// rejects writer, the load stopped at one).
	ErrRejected = errors.New("lines rejected")
	// ErrFrame: the stream's header or trailer could not be read; it is
	// never set aside, so the load stops there.
	ErrFrame = errors.New("the stream's header or trailer")
	// ErrConflict: a record with the target's version but other content, or
	// an event with the target's (stream, seq) but other content.
	ErrConflict = errors.New("conflict")
	// ErrPatchTarget: a patch stream made for another state of the store.
	ErrPatchTarget = errors.New("patch target mismatch")
	// ErrEmptyInput: replace mode refuses an input without a single line.
	ErrEmptyInput = errors.New("empty input")
	// ErrVerify: what a batch wrote kept differing from what it meant to write.
	ErrVerify = errors.New("verification failed")
	// ErrRepeated: a stream that replaces a store names one item on more
	// than one line, so the store cannot hold exactly the stream.
	ErrRepeated = errors.New("an item appears on more than one line")
)

// Input yields stream items in order; *record.Reader implements it. Next
// returns io.EOF at the end and *record.LineError for a bad line (after which
// Next may be called again).
type Input interface {
	Next() (*record.Item, error)
	Line() int64 // line number of the last item or error
	Raw() []byte // raw bytes of that line
}

// canonicalInput is an Input that can tell whether its last raw line is
// the item's canonical line (*record.Reader can, without building it): a
// batch need not keep a copy of a raw line that is canonical already.
type canonicalInput interface {
	RawIsCanonical() bool
}

// detachedInput is an Input that can tell whether the value of its last
// item lies in memory it has let go of (*record.Reader can, for a huge
// value): the batch then keeps that value rather than a copy of it, and a
// huge line is held once, not twice.
type detachedInput interface {
	Detached() bool
}

// headerInput is an Input that can tell its stream header before its first
// item (*record.Reader can): it says whether the stream is a patch, and
// whether it had any line at all.
type headerInput interface {
	Head() *record.Header
}

// Mode says what a load does with what the store already holds.
type Mode int

const (
	// Merge merges by version (docs/persist-load.md); the default.
	Merge Mode = iota
	// Replace makes the store's content exactly the stream's, atomically.
	Replace
)

func (m Mode) String() string {
	switch m {
	case Merge:
		return "merge"
	case Replace:
		return "replace"
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// DefaultBatchSize is the batch size when Options.BatchSize is 0. Measured
// with BenchmarkLoad (100k records, verify on) at 1000, 5000 and 20000, the
// differences stayed within run-to-run noise on both SQLite and PostgreSQL
// (the time goes to the adapters' lookups and writes, not to per-batch
// overhead), so the middle one is kept: a batch's memory and the work a
// retry repeats grow with the size.
const DefaultBatchSize = 5000

// Options tune Load and Apply.
type Options struct {
	// Reading, when set, is given a channel closed once nothing reads the
	// input any more, when a goroutine of the load's own reads it. A load
	// that stopped early (an error, a cancelled context) may return while
	// a read is under way, waiting on a stalled pipe: the input must not
	// be closed or used before.
	Reading func(done <-chan struct{})

	BatchSize int  // items per transaction; 0 = DefaultBatchSize
	Writers   int  // batches written at once in a merge load, up to (and by default) the adapter's Writers
	Mode      Mode // Merge (default) or Replace
	Atomic    bool // the whole load is one transaction
	// RetryFor is how long a batch is retried after a transient failure (a
	// lost connection, a server restarting or failing over, a busy
	// database), from its first: 0 = DefaultRetryFor, < 0 = no retries.
	RetryFor time.Duration
	// Retries caps the retries of one batch after transient failures, and
	// the redos after a failed verification: 0 = no cap but RetryFor's
	// (redos: DefaultRedos), < 0 = none of either.
	Retries int
	// OnRetry, when set, hears of each retry before its wait. Batches
	// written at once call it concurrently.
	OnRetry func(Retry)
	// Rejects receives one JSON object per rejected line and the load goes
	// on; nil: the load stops at the first line the target cannot take.
	Rejects io.Writer
	// Now gives the time for hand-made lines without one (default
	// time.Now). Batches written at once call it concurrently.
	Now func() time.Time
	// NoVerify skips reading back each batch before it commits.
	NoVerify bool
	// OwnRowsOnly verifies the rows written and lets code of another's on
	// the tables be (Tx.ForeignCode is not asked): one write of the Go
	// API's, as a dual-write copies it, answers for its own rows only.
	OwnRowsOnly bool
	// OnProgress is called after each committed batch (in a single-transaction
	// load, after each batch written into the open transaction).
	OnProgress func(Stats)
	// Patch marks a patch stream; a *record.Reader input whose header says
	// patch:true is detected without it.
	Patch bool
}

// Stats say what a load did. Records and events are counted apart; Conflicts
// are also counted in Rejects (a conflict is a rejected line).
type Stats struct {
	Lines     int64 // item lines read, rejected ones included
	Written   int64 // records written
	Unchanged int64 // records already identical in the store
	Stale     int64 // records older than the store's
	// FirstStale is the line of the first of them (0: none).
	FirstStale int64
	Conflicts  int64 // records and events: same version/seq, other content
	Rejects    int64 // lines sent to the rejects (or the one the load stopped at)

	Events          int64 // events written
	EventsUnchanged int64 // events already identical in the store
	// Appended counts the events written without a seq of their own, after
	// their stream's last (also counted in Events): a rerun of the same
	// lines appends them again. AppendedFirst and AppendedLast are the
	// lines of the first and the last of them.
	Appended, AppendedFirst, AppendedLast int64

	Removed int64 // items removed by a patch
	Retries int64 // batch attempts repeated after a transient failure
	Redos   int64 // batch attempts repeated after a failed verification
	// Applied: a patch stream whose result the store holds already; it
	// was read to its end (its trailer checked) and nothing was written.
	Applied bool
	Batches int64 // batches written
	// Done: the stream was read to its end and every line not set aside
	// (Rejects) is committed; the error, if any, is ErrRejected.
	Done bool

	Elapsed time.Duration
}

// Load reads in and writes it into store (created when missing).
//
// A merge load commits batch by batch: when it stops on an error, the batches
// committed before stay, and rerunning the same stream finishes the job. An
// atomic, replace or patch load is one transaction: nothing is committed
// unless all of it is.
//
// A merge load reads the next batch while earlier ones are written (into
// PostgreSQL two at a time, committed in order). When it stops early, that read may still be under way (Options.Reading): the caller
// must not use in again until it ends, and may close what in reads from
// (a pipe, a file) rather than wait on it.
func Load(ctx context.Context, a adapters.Adapter, store string, in Input, opt Options) (Stats, error) {
	l := newLoader(a, store, opt)
	err := l.load(ctx, in)
	l.stats.Elapsed = time.Since(l.start)
	l.stats.Done = err == nil
	if err == nil && l.stats.Rejects > 0 {
		err = fmt.Errorf("%w: %d of %d lines", ErrRejected, l.stats.Rejects, l.stats.Lines)
		if l.unchecked {
			err = fmt.Errorf("%w; the stream's trailer counts the rejected lines, but its sum cannot be checked without them", err)
		}
	}
	return l.stats, err
}

// Apply merges items into store in one transaction with Load's semantics
// (used by dual-write to apply one write, and by backfill). Items are
// complete or hand-made as in a stream; they are numbered from 1 in rejects
// and errors. Without opt.Rejects, a line the store cannot take fails the
// whole call and nothing is written. Mode, Atomic, Patch and BatchSize are
// ignored: Apply always merges, in one transaction.
func Apply(ctx context.Context, a adapters.Adapter, store string, items []*record.Item, opt Options) (Stats, error) {
	l := newLoader(a, store, opt)
	l.allOrNothing = true
	// One write, mostly to a key the store has: the full way at once.
	l.fresh.Store(false)
	err := l.applyItems(ctx, items)
	l.stats.Elapsed = time.Since(l.start)
	if err == nil && l.stats.Rejects > 0 {
		err = fmt.Errorf("%w: %d of %d items", ErrRejected, l.stats.Rejects, l.stats.Lines)
	}
	return l.stats, err
}

func (l *loader) applyItems(ctx context.Context, items []*record.Item) error {
	b := &batch{}
	var line []byte
	for i, it := range items {
		l.stats.Lines++
		line = record.AppendItem(line[:0], it)
		if err := l.admit(b, int64(i+1), line, true, false, it); err != nil {
			l.stats.Rejects += b.stopped
			return err
		}
	}
	if len(b.ents) == 0 {
		return nil
	}
	return l.commitBatch(ctx, b)
}
