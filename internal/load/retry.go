package load

import (
	"context"
	"github.com/cuitty/persist/internal/backoff"
	"time"
)

// Backoff bounds: the first retry waits about minBackoff, each next one
// twice as long, up to maxBackoff — long enough for a PostgreSQL failover or
// a SQLite checkpoint, short enough not to look hung.
const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = 5 * time.Second
)

// wait waits before retry n (0-based).
func wait(ctx context.Context, n int) error {
	return backoff.Sleep(ctx, backoff.Delay(minBackoff, maxBackoff, n))
}
