package persist

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/backoff"
	"github.com/cuitty/persist/internal/load"
	"github.com/cuitty/persist/internal/location"
	"github.com/cuitty/persist/internal/record"
)

// Sentinels of dual-write, for errors.Is.
var (
	// ErrDegraded: the secondary is behind — writes it could not take wait
	// in the pending queue, or (past DualWriteOptions.MaxPending) only a
	// backfill can catch it up.
	ErrDegraded = errors.New("dual-write degraded")
	// ErrVerify: the two stores of a dual-write differ (see VerifyError).
	ErrVerify = errors.New("stores differ")
	// ErrDualWrite: dual-write is already enabled on the store.
	ErrDualWrite = errors.New("dual-write already enabled")
)

// Defaults of DualWriteOptions.
const (
	DefaultDualWriteRetries = 3
	DefaultRetryDelay       = 20 * time.Millisecond
	DefaultApplyTimeout     = 10 * time.Second
	DefaultMaxPending       = 100_000
	DefaultProbeInterval    = time.Second
)

// DualWriteOptions configure EnableDualWrite.
type DualWriteOptions struct {
	// Target is the secondary's location. Its store is the location's
	// #NAME, else the primary store's name; it is created when missing.
	Target string
	// Backfill copies what the primary already holds to the secondary,
	// while the application keeps writing.
	Backfill bool
	// Verify compares the sums of both stores (after the backfill, when
	// there is one) and fails with a *VerifyError when they differ.
	Verify bool

	// BatchSize is the number of items per backfill transaction
	// (0: the loader's default).
	BatchSize int
	// OnProgress follows the backfill (Total is the primary's item count).
	OnProgress func(Progress)

	// Retries is how often a failed secondary write is tried again before
	// it is queued (0: DefaultDualWriteRetries, < 0: never), the first
	// retry after RetryDelay (0: DefaultRetryDelay), doubling. Together with
	// Timeout (per attempt; 0: DefaultApplyTimeout) they bound how long a
	// write through the store can wait for a failing secondary.
	Retries    int
	RetryDelay time.Duration
	Timeout    time.Duration
	// MaxPending bounds the pending queue (0: DefaultMaxPending). Past it
	// the queue is dropped and the status says NeedsBackfill: the primary
	// holds every write, so a backfill still copies them all.
	MaxPending int
	// ProbeInterval is how often, while degraded, a write tries to drain
	// the queue (0: DefaultProbeInterval); between probes writes are only
	// queued, so a dead secondary does not slow every write down.
	ProbeInterval time.Duration
}

func (o *DualWriteOptions) defaults() {
	if o.Retries == 0 {
		o.Retries = DefaultDualWriteRetries
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = DefaultRetryDelay
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultApplyTimeout
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	if o.ProbeInterval <= 0 {
		o.ProbeInterval = DefaultProbeInterval
	}
	if o.BatchSize <= 0 {
		o.BatchSize = load.DefaultBatchSize
	}
}

// DualWrite sends every write through a Store to a second store as well.
//
// The primary decides: a write succeeds when the primary commits it. The
// same item, with the version and time the primary gave it, is then merged
// into the secondary by version (docs/persist-load.md), so copies arriving late or twice,
// from a retry, a drain or a backfill, never overwrite a newer write or bring
// back a deleted record. A copy that still fails after its retries waits in
// a pending queue, and the dual-write reports itself degraded until the
// queue is drained (by a later write's probe, Drain, Backfill or Verify).
//
// The queue is kept in memory only. Nothing is lost with it when the process
// ends: every queued write is in the primary, and a Backfill copies it. Close
// says when writes were still pending.
//
// Only writes made through this Store are dual-written; another process
// writing to the primary is caught up only by a Backfill.
//
// A write's copy to the secondary runs to its end (its retries included)
// whatever the write's context says once the primary has committed: the
// write has happened, and a copy stopped half-way would only be queued. A
// slow secondary therefore shows as the write's latency, not as an error;
// Status tells when it falls behind.
type DualWrite struct {
	s    *Store
	loc  location.Location
	name string
	a    adapters.Adapter
	opt  DualWriteOptions

	// drainMu makes one drain (or backfill) at a time; the order of the
	// queue is not needed for correctness (copies merge by version), but
	// one drainer can remove what it applied from the front.
	drainMu sync.Mutex

	qmu       sync.Mutex
	pending   []*record.Item
	overflow  bool
	lastErr   error
	lastErrAt time.Time
	lastProbe time.Time

	applied atomic.Int64
	failed  atomic.Int64
}

// DualWriteStatus is a dual-write's state.
type DualWriteStatus struct {
	Target        string    // the secondary's location, password masked
	Store         string    // the secondary's store
	Degraded      bool      // Pending > 0 or NeedsBackfill
	Pending       int       // writes waiting for the secondary
	NeedsBackfill bool      // the queue overflowed, or a backfill failed: only a backfill catches up
	Applied       int64     // writes copied to the secondary as they happened
	Failed        int64     // writes whose copy failed after its retries
	LastError     error     // the secondary's last failure (kept after recovery)
	LastErrorAt   time.Time // when it happened
}

// EnableDualWrite makes every later write through s go to opt.Target as
// well, then runs the backfill and the verify the options ask for.
//
// Writes through s may go on all the while: dual-write is on before the
// backfill reads its snapshot, so a write is either in the snapshot or
// copied as it happens, and the merge by version sorts out writes that are
// both. When the backfill or the verify fails, dual-write stays enabled and
// the returned DualWrite is usable (run Backfill or Verify again once the
// cause is fixed); the error says what failed.
func EnableDualWrite(ctx context.Context, s *Store, opt DualWriteOptions) (*DualWrite, error) {
	opt.defaults()
	if opt.Target == "" {
		return nil, errors.New("dual-write: no target location")
	}
	w, err := openWriter(ctx, opt.Target, false)
	if err != nil {
		return nil, fmt.Errorf("dual-write: %w", err)
	}
	l, a := w.loc, w.a
	name := l.Store
	if name == "" {
		name = s.name
	}
	if err := s.secondary(ctx, a, l, name); err != nil {
		return nil, fmt.Errorf("dual-write: %w", w.fail(err, 0))
	}
	d := &DualWrite{s: s, loc: l, name: name, a: a, opt: opt}
	s.mu.Lock()
	switch {
	case s.closed:
		err = ErrClosed
	case s.dw != nil:
		err = fmt.Errorf("%w: to %s", ErrDualWrite, s.dw.loc)
	default:
		s.dw = d
	}
	s.mu.Unlock()
	if err != nil {
		a.Close()
		return nil, err
	}
	if opt.Backfill {
		if _, err := d.Backfill(ctx); err != nil {
			return d, err
		}
	}
	if opt.Verify {
		if err := d.Verify(ctx); err != nil {
			return d, err
		}
	}
	return d, nil
}

// Status returns the dual-write's state.
func (d *DualWrite) Status() DualWriteStatus {
	d.qmu.Lock()
	defer d.qmu.Unlock()
	return DualWriteStatus{
		Target:        d.loc.String(),
		Store:         d.name,
		Degraded:      len(d.pending) > 0 || d.overflow,
		Pending:       len(d.pending),
		NeedsBackfill: d.overflow,
		Applied:       d.applied.Load(),
		Failed:        d.failed.Load(),
		LastError:     d.lastErr,
		LastErrorAt:   d.lastErrAt,
	}
}

// Disable stops dual-writing and closes the secondary. Like Store.Close, it
// tries the pending queue once more and returns an error wrapping
// ErrDegraded when writes were left uncopied.
func (d *DualWrite) Disable() error {
	s := d.s
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed // Close did this already, and said what it left
	}
	if s.dw != d {
		s.mu.Unlock()
		return nil
	}
	s.dw = nil
	s.mu.Unlock()
	return d.close(context.Background())
}

func (d *DualWrite) close(ctx context.Context) error {
	d.drainMu.Lock()
	drainErr := d.drain(ctx, 0)
	d.drainMu.Unlock()
	st := d.Status()
	var errs []error
	if st.Degraded {
		errs = append(errs, d.degraded(st, drainErr))
	}
	if err := d.a.Close(); err != nil {
		errs = append(errs, fmt.Errorf("dual-write target %s: close: %w", d.loc, err))
	}
	return errors.Join(errs...)
}

func (d *DualWrite) degraded(st DualWriteStatus, cause error) error {
	what := fmt.Sprintf("%d writes not yet copied to %s", st.Pending, st.Target)
	if st.NeedsBackfill {
		what = fmt.Sprintf("%s is not shown to hold what the primary does (the pending queue overflowed, or a backfill failed)", st.Target)
	}
	if cause == nil {
		cause = st.LastError
	}
	if cause != nil {
		return fmt.Errorf("%w: %s (last error: %v); run a backfill to catch up", ErrDegraded, what, cause)
	}
	return fmt.Errorf("%w: %s; run a backfill to catch up", ErrDegraded, what)
}

// replicate copies one committed write to the secondary. It never fails
// the write: what it cannot apply is queued.
func (d *DualWrite) replicate(ctx context.Context, it *record.Item) {
	d.qmu.Lock()
	behind := len(d.pending) > 0 || d.overflow
	d.qmu.Unlock()
	if behind {
		// The secondary is known to fail: queue at once instead of paying
		// the retry budget on every write, and probe now and then.
		d.enqueue(it, nil)
		d.probe(ctx)
		return
	}
	if err := d.apply(ctx, []*record.Item{it}, d.opt.Retries); err != nil {
		d.enqueue(it, err)
		return
	}
	d.applied.Add(1)
}

func (d *DualWrite) enqueue(it *record.Item, cause error) {
	d.failed.Add(1)
	d.qmu.Lock()
	defer d.qmu.Unlock()
	if cause != nil {
		d.setErr(cause)
	}
	if d.overflow {
		return
	}
	if len(d.pending) >= d.opt.MaxPending {
		d.pending, d.overflow = nil, true
		return
	}
	d.pending = append(d.pending, it)
}

// setErr keeps the secondary's last failure, password scrubbed. qmu is held.
func (d *DualWrite) setErr(err error) {
	d.lastErr = fmt.Errorf("dual-write target %s: %w", d.loc, location.ScrubError(err, d.loc.Raw))
	d.lastErrAt = time.Now()
}

// probe drains the queue with a single attempt when no probe ran for
// ProbeInterval and no drain is running.
func (d *DualWrite) probe(ctx context.Context) {
	d.qmu.Lock()
	due := time.Since(d.lastProbe) >= d.opt.ProbeInterval
	if due {
		d.lastProbe = time.Now()
	}
	d.qmu.Unlock()
	if !due || !d.drainMu.TryLock() {
		return
	}
	defer d.drainMu.Unlock()
	d.drain(ctx, 0)
}

// Drain applies the pending queue to the secondary, with the usual retries
// per batch. It returns an error wrapping ErrDegraded when the secondary is
// still behind.
func (d *DualWrite) Drain(ctx context.Context) (err error) {
	defer ofContext(ctx, &err)
	if err := d.active(); err != nil {
		return err
	}
	d.drainMu.Lock()
	err = d.drain(ctx, d.opt.Retries)
	d.drainMu.Unlock()
	if st := d.Status(); st.Degraded {
		return d.degraded(st, err)
	}
	return nil
}

// drain applies the queue from the front in batches. drainMu is held, so
// only new items (appended at the back) change the queue meanwhile.
func (d *DualWrite) drain(ctx context.Context, retries int) error {
	for {
		d.qmu.Lock()
		n := min(len(d.pending), d.opt.BatchSize)
		batch := append([]*record.Item(nil), d.pending[:n]...)
		d.qmu.Unlock()
		if n == 0 {
			return nil
		}
		if err := d.apply(ctx, batch, retries); err != nil {
			d.qmu.Lock()
			d.setErr(err)
			d.qmu.Unlock()
			return err
		}
		d.qmu.Lock()
		if d.overflow || len(d.pending) < n {
			// The queue overflowed and was dropped meanwhile.
			d.pending = d.pending[:0]
		} else {
			d.pending = append(d.pending[:0:0], d.pending[n:]...)
		}
		d.qmu.Unlock()
	}
}

// apply merges items into the secondary, retrying every failure: the
// secondary's errors are not the caller's to handle, and a retry is cheap
// compared with leaving the secondary behind.
func (d *DualWrite) apply(ctx context.Context, items []*record.Item, retries int) error {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, d.opt.Timeout)
		_, err := load.Apply(actx, d.a, d.name, items, load.Options{Retries: -1, OwnRowsOnly: true})
		cancel()
		if err == nil {
			return nil
		}
		if attempt >= retries || ctx.Err() != nil {
			return err
		}
		if err := backoff.Sleep(ctx, backoff.Delay(d.opt.RetryDelay, time.Second, attempt)); err != nil {
			return err
		}
	}
}

// active refuses a call on a dual-write that is no longer the store's: its
// store closed, or the dual-write disabled (its secondary closed with it).
func (d *DualWrite) active() error {
	s := d.s
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.dw != d:
		return fmt.Errorf("%w: dual-write to %s was disabled", ErrClosed, d.loc)
	}
	return nil
}
