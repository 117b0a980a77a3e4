package backoff

import (
	"context"
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	for _, tc := range []struct {
		n        int
		lo, hi   time.Duration
		base, lt time.Duration
	}{
		{0, 25 * time.Millisecond, 75 * time.Millisecond, 50 * time.Millisecond, 5 * time.Second},
		{3, 200 * time.Millisecond, 600 * time.Millisecond, 50 * time.Millisecond, 5 * time.Second},
		{30, 2500 * time.Millisecond, 7500 * time.Millisecond, 50 * time.Millisecond, 5 * time.Second},
	} {
		for range 200 {
			if d := Delay(tc.base, tc.lt, tc.n); d < tc.lo || d > tc.hi {
				t.Fatalf("Delay(%v, %v, %d) = %v, want within [%v, %v]", tc.base, tc.lt, tc.n, d, tc.lo, tc.hi)
			}
		}
	}
}

func TestSleepCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep on a cancelled context = %v", err)
	}
}
