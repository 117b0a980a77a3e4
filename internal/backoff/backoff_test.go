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

// TestWindow walks a window with a clock that moves by each wait plus the
// time each attempt takes, and checks when it gives up.
func TestWindow(t *testing.T) {
	const base, limit = 50 * time.Millisecond, 5 * time.Second
	for _, tc := range []struct {
		name    string
		w       Window
		attempt time.Duration // what each failing attempt takes
		minN    int           // retries allowed, at least and at most
		maxN    int
	}{
		{"zero never retries", Window{}, 0, 0, 0},
		{"no time", Window{Base: base, Limit: limit, Max: -1}, 0, 0, 0},
		{"no retries", Window{Base: base, Limit: limit, For: time.Minute, Max: 0}, 0, 0, 0},
		{"count caps", Window{Base: base, Limit: limit, For: time.Hour, Max: 3}, 0, 3, 3},
		// 50ms doubling to 5s is about 6.4s in 7 waits, then 5s each (±50%):
		// a minute holds 14 to 25 waits, the last cut to end on time.
		{"a minute", Window{Base: base, Limit: limit, For: time.Minute, Max: -1}, 0, 14, 25},
		{"slow attempts count", Window{Base: base, Limit: limit, For: time.Minute, Max: -1}, 10 * time.Second, 5, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				w := tc.w
				now := time.Unix(1000, 0)
				start := now
				for {
					now = now.Add(tc.attempt)
					wait, left, ok := w.Next(now)
					if !ok {
						break
					}
					if wait < 0 || left < 0 {
						t.Fatalf("wait %v, left %v", wait, left)
					}
					now = now.Add(wait)
					if got := now.Sub(start) - tc.attempt; tc.w.For > 0 && got > tc.w.For {
						t.Fatalf("an attempt at %v after the first failure, window %v", got, tc.w.For)
					}
					if w.Retries() > 1000 {
						t.Fatal("endless")
					}
				}
				if n := w.Retries(); n < tc.minN || n > tc.maxN {
					t.Fatalf("%d retries, want %d to %d", n, tc.minN, tc.maxN)
				}
				if tc.w.For > 0 && tc.w.Max < 0 && w.Spent(now) < tc.w.For {
					t.Fatalf("gave up %v after the first failure, before the window of %v ended", w.Spent(now), tc.w.For)
				}
			}
		})
	}
}
