package load

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff bounds: the first retry waits about minBackoff, each next one
// twice as long, up to maxBackoff — long enough for a PostgreSQL failover or
// a SQLite checkpoint, short enough not to look hung.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// backoff waits before retry n (0-based): exponential with ±50% jitter, so
// that several loaders failing together do not retry in lockstep.
func backoff(ctx context.Context, n int) error {
	d := minBackoff
	for i := 0; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	d = d/2 + rand.N(d+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
