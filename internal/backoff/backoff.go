// Package backoff is the one retry delay every writer uses: exponential,
// capped, with jitter so that several writers failing together do not retry
// in lockstep; and the window that bounds how long one piece of work is
// retried, in time rather than in attempts, since what a retry waits out (a
// server restarting, a failover) is measured in seconds, not in tries.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Delay is the wait before retry n (0-based): base doubled n times, capped
// at limit, then jittered to between half and one and a half of that.
func Delay(base, limit time.Duration, n int) time.Duration {
	d := base
	for i := 0; i < n && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d/2 + rand.N(d+1)
}

// Sleep waits d, or until ctx ends (returning its error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Window decides whether a failed attempt is tried again: for up to For
// after the first failure, and at most Max times when Max >= 0. The waits
// grow as Delay says; the last one is cut short so that the last attempt
// falls within the window, not after it. The zero Window never retries.
type Window struct {
	Base, Limit time.Duration // Delay's
	For         time.Duration // how long after the first failure retries go on
	Max         int           // retries at most; < 0: as many as For allows

	first time.Time // of the first failure
	n     int       // retries so far
}

// Next is called after each failure, at now. It returns the wait before the
// next attempt, or ok=false when the window is spent. left is what remains
// of the window once the wait is over.
func (w *Window) Next(now time.Time) (wait, left time.Duration, ok bool) {
	if w.n == 0 {
		w.first = now
	}
	spent := now.Sub(w.first)
	if w.For <= 0 || spent >= w.For || (w.Max >= 0 && w.n >= w.Max) {
		return 0, 0, false
	}
	wait = min(Delay(w.Base, w.Limit, w.n), w.For-spent)
	w.n++
	return wait, w.For - spent - wait, true
}

// Retries is how many retries Next has allowed.
func (w *Window) Retries() int { return w.n }

// Spent is the time from the first failure to now (0 before any failure).
func (w *Window) Spent(now time.Time) time.Duration {
	if w.first.IsZero() {
		return 0
	}
	return now.Sub(w.first)
}
