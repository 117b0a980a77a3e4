package load

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/backoff"
)

// Backoff bounds: the first retry waits about minBackoff, each next one
// twice as long, up to maxBackoff — so that once the database is back a
// batch is written again within a few seconds, and a long outage costs a
// retry every few seconds, not a flood of them.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// DefaultRetryFor is how long a batch is retried after a transient failure
// when Options.RetryFor is 0. A PostgreSQL restart takes seconds; a
// failover to a standby (Patroni, a managed service) takes from 30 seconds
// to about two minutes, and a load that gives up during one has to be
// rerun by hand.
const DefaultRetryFor = 2 * time.Minute

// DefaultRedos bounds the redos of a batch whose verification failed when
// Options.Retries is 0: each redo means another writer changed the batch's
// keys meanwhile, which a few redos outlast.
const DefaultRedos = 8

// ErrGaveUp wraps the last transient failure of a batch whose retries ran
// out (Options.RetryFor, Options.Retries).
var ErrGaveUp = errors.New("gave up retrying")

// Retry is one retry of a batch, as Options.OnRetry hears of it.
type Retry struct {
	First, Last int64         // the batch's lines
	Attempt     int           // the attempt the wait leads to: 2 for the first retry
	Wait        time.Duration // before it; 0: once the batch before has committed
	Left        time.Duration // of the batch's retry window after the wait
	Err         error         // why, in the adapter's plain words
}

// retrier retries one batch: it says why on each retry and gives up once
// its window is spent.
type retrier struct {
	l           *loader
	first, last int64
	w           backoff.Window
	turns       int // attempts repeated after waiting for the batch before
}

func (l *loader) retrier(first, last int64) *retrier {
	return &retrier{l: l, first: first, last: last, w: l.retries}
}

// again is called after a failed attempt. It waits and returns nil when the
// attempt may be made again; else the error to stop with: err itself when
// it is not transient, wrapped in ErrGaveUp when the window is spent.
func (r *retrier) again(ctx context.Context, err error) error {
	if !r.l.a.Retryable(err) {
		// Not transient: said as the adapter explains it (a full disk,
		// adapters.ErrFull; a server's timeout, with where to raise it),
		// or in the database's own words. A commit whose outcome is not
		// known says so in its own words, which Explain would take for a
		// lost connection's.
		if errors.Is(err, adapters.ErrCommitUnknown) {
			return err
		}
		return r.l.a.Explain(err)
	}
	now := time.Now()
	wait, left, ok := r.w.Next(now)
	if !ok {
		if r.w.Retries() == 0 && (r.w.For <= 0 || r.w.Max == 0) {
			return r.l.a.Explain(err) // retries are off: nothing was given up
		}
		return fmt.Errorf("%w after %d attempts over %s: %w", ErrGaveUp, r.w.Retries()+r.turns+1,
			r.w.Spent(now).Round(time.Second), r.l.a.Explain(err))
	}
	r.report(Retry{Wait: wait, Left: left, Err: r.l.a.Explain(err)})
	return backoff.Sleep(ctx, wait)
}

// report tells Options.OnRetry of a retry, numbered after those before.
func (r *retrier) report(rt Retry) {
	if r.l.opt.OnRetry == nil {
		return
	}
	rt.First, rt.Last = r.first, r.last
	rt.Attempt = r.w.Retries() + r.turns + 1
	r.l.opt.OnRetry(rt)
}

// turn reports an attempt repeated because the batch before took too long
// to commit (errNotYourTurn): not a failure of this batch, so outside its
// window.
func (r *retrier) turn(took time.Duration) {
	r.turns++
	r.report(Retry{Err: fmt.Errorf("the batch before had not committed %s after this one began; "+
		"rolled back so as not to hold its locks meanwhile", took.Round(time.Millisecond))})
}
