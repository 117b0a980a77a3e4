package load

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/adapters/postgres"
	"github.com/cuitty/persist/internal/pgtest"
)

// With the server down, a batch is retried for RetryFor (or Retries times)
// and no longer; each retry is told to OnRetry, numbered, with its wait and
// its cause in plain words; giving up says how long it tried and why.
func TestRetryWindow(t *testing.T) {
	cl := pgtest.NewCluster(t)
	a, err := postgres.Open(cl.URL(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	mustLoad(t, a, Options{}, rec("u", "first", 1, `{}`)) // the schema and the store exist
	cl.Stop(t)
	const window = 1500 * time.Millisecond
	for _, tc := range []struct {
		name    string
		opt     Options
		retries int // -1: as many as the window holds (at least 3)
		gaveUp  string
	}{
		{"window", Options{RetryFor: window}, -1, "batch of lines 1-1: gave up retrying after "},
		{"window, one transaction", Options{RetryFor: window, Atomic: true}, -1, "batch of lines 1-1: gave up retrying after "},
		{"count", Options{RetryFor: time.Hour, Retries: 2}, 2, "batch of lines 1-1: gave up retrying after 3 attempts over "},
		{"no retries", Options{Retries: -1}, 0, ""},
		{"no time", Options{RetryFor: -1}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var heard []Retry
			tc.opt.OnRetry = func(r Retry) {
				mu.Lock()
				defer mu.Unlock()
				heard = append(heard, r)
			}
			start := time.Now()
			st, err := Load(context.Background(), a, testStore, reader(t, rec("u", "k", 1, `1`)), tc.opt)
			took := time.Since(start)
			if err == nil {
				t.Fatal("a load into a stopped server succeeded")
			}
			msg := err.Error()
			if !a.Retryable(err) || !strings.Contains(msg, "connection refused by 127.0.0.1:") || strings.Contains(msg, "bad connection") {
				t.Errorf("error %q: want the lost connection in plain words", msg)
			}
			if gaveUp := errors.Is(err, ErrGaveUp); gaveUp != (tc.gaveUp != "") || !strings.HasPrefix(msg, tc.gaveUp) {
				t.Errorf("error %q, want it to begin %q", msg, tc.gaveUp)
			}
			n := len(heard)
			if tc.retries >= 0 && n != tc.retries || tc.retries < 0 && n < 3 || st.Retries != int64(n) {
				t.Fatalf("%d retries heard of, %d counted, want %d", n, st.Retries, tc.retries)
			}
			if tc.retries < 0 && (took < window || took > window+2*time.Second) {
				t.Errorf("gave up after %v, window %v", took, window)
			}
			var waited time.Duration
			for i, r := range heard {
				waited += r.Wait
				// The first use of a pooled connection finds it closed.
				cause := r.Err.Error()
				if r.First != 1 || r.Last != 1 || r.Attempt != i+2 || r.Wait <= 0 || r.Left < 0 ||
					!strings.HasPrefix(cause, "connection refused by 127.0.0.1:") && cause != "the server closed the connection unexpectedly" {
					t.Errorf("retry %d: %+v", i, r)
				}
				if i > 0 && r.Left > heard[i-1].Left {
					t.Errorf("retry %d: %v left, more than the %v before", i, r.Left, heard[i-1].Left)
				}
			}
			// The last retry leaves at most what one attempt takes of the
			// window (on a loaded machine an attempt may outlast a short
			// remainder, and the window is then spent by the attempt).
			if tc.retries < 0 && (waited > window || heard[n-1].Left > window/4) {
				t.Errorf("waited %v in all, %v left at the end, window %v", waited, heard[n-1].Left, window)
			}
		})
	}
}

// Events without seq are counted with their lines: they are what a rerun
// writes twice.
func TestAppendedCounted(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		lines := []string{
			rec("u", "a", 1, `1`),
			`{"kind":"event","stream":"s","type":"t","data":1}`,
			ev("other", 1, "t", `0`),
			`{"kind":"event","stream":"s","type":"t","data":2}`,
			rec("u", "b", 1, `2`),
		}
		for _, opt := range []Options{{}, {BatchSize: 2}, {Atomic: true}} {
			st := mustLoad(t, a, opt, lines...)
			if st.Appended != 2 || st.AppendedFirst != 2 || st.AppendedLast != 4 || st.Events < 2 {
				t.Errorf("%+v: %+v", opt, st)
			}
		}
		st := mustLoad(t, a, Options{}, rec("u", "a", 1, `1`), ev("other", 1, "t", `0`))
		if st.Appended != 0 || st.AppendedFirst != 0 || st.AppendedLast != 0 {
			t.Errorf("nothing appended: %+v", st)
		}
		var events int
		for _, l := range dump(t, a) {
			if strings.Contains(l, `"kind":"event"`) {
				events++
			}
		}
		if events != 7 {
			t.Errorf("%d events in the store, want 1 with its seq and 2 appended by each of 3 loads", events)
		}
	})
}
