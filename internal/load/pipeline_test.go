package load

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
	"github.com/cuitty/persist/internal/testdb"
)

// A stream whose batches share keys, hand-made versions and appended events
// loads the same with batches written concurrently as one by one: the
// store, the counts, the progress reports.
func TestWritersKeepStreamOrder(t *testing.T) {
	var lines []string
	for i := range 400 {
		k := fmt.Sprintf("u%02d", i/4%20) // each key every 80 lines
		switch i % 4 {
		case 0: // newer than any hand-made version before it
			lines = append(lines, rec("users", k, int64(1000*(i/80+1)), fmt.Sprintf(`{"i":%d}`, i)))
		case 1: // hand-made: a new version of whatever came before it
			lines = append(lines, fmt.Sprintf(`{"kind":"record","collection":"users","key":%q,"value":{"hand":%d}}`, k, i))
		case 2: // appended to the stream: its seq is what came before plus one
			lines = append(lines, fmt.Sprintf(`{"kind":"event","stream":"log","type":"t","data":%d}`, i))
		case 3:
			lines = append(lines, ev(fmt.Sprintf("s%d", i%3), int64(i/3+1), "t", fmt.Sprint(i)))
		}
	}
	var want []string
	var wantStats Stats
	var wantProgress []int64
	for _, writers := range []int{1, 2, 3} {
		eachTarget(t, func(t *testing.T, a adapters.Adapter) {
			var progress []int64
			st, err := Load(context.Background(), a, testStore, reader(t, lines...), Options{
				BatchSize: 37, Writers: writers, Now: nowFixed,
				OnProgress: func(s Stats) { progress = append(progress, s.Lines) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Redos != 0 {
				// Batches sharing keys wait for each other rather than race.
				t.Errorf("%d writers: %d batches redone", writers, st.Redos)
			}
			st.Elapsed, st.Retries = 0, 0
			got := dump(t, a)
			if want == nil {
				want, wantStats, wantProgress = got, st, progress
				return
			}
			if !slices.Equal(got, want) {
				t.Errorf("%d writers: store differs from one writer's:\n got %q\nwant %q", writers, got, want)
			}
			if st != wantStats {
				t.Errorf("%d writers: stats %+v, one writer's %+v", writers, st, wantStats)
			}
			if !slices.Equal(progress, wantProgress) {
				t.Errorf("%d writers: progress %v, one writer's %v", writers, progress, wantProgress)
			}
		})
	}
	if wantStats.Written != 200 || wantStats.Events != 200 || len(want) != 20+200 ||
		!strings.Contains(want[0], `"version":5001`) {
		t.Errorf("store holds %d items, stats %+v, first %s; want 20 records at version 5001 and 200 events",
			len(want), wantStats, want[0])
	}
}

// A load that stops at a conflict leaves exactly the lines before it
// written, and counts the same, however many batches were being written at
// once.
func TestWritersStopInOrder(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		var lines []string
		for i := range 1000 {
			lines = append(lines, rec("users", fmt.Sprintf("k%04d", i), 1, `"loaded"`))
		}
		var first Stats
		for i, writers := range []int{1, 3} {
			store := fmt.Sprintf("stop%d", writers)
			if _, err := Load(context.Background(), a, store, reader(t, rec("users", "k0250", 1, `"stored"`)), Options{}); err != nil {
				t.Fatal(err)
			}
			st, err := Load(context.Background(), a, store, reader(t, lines...), Options{BatchSize: 100, Writers: writers})
			if !errors.Is(err, ErrConflict) {
				t.Fatalf("load = %v, want a conflict", err)
			}
			st.Elapsed, st.Retries = 0, 0
			if st.Written != 250 || st.Conflicts != 1 || st.Rejects != 1 || st.Lines != 300 || st.Done {
				t.Errorf("%d writers: stats %+v, want 250 written before the conflict, in the third batch", writers, st)
			}
			if i == 0 {
				first = st
			} else if st != first {
				t.Errorf("%d writers: stats %+v, one writer's %+v", writers, st, first)
			}
			got := dumpStore(t, a, store)
			if len(got) != 251 {
				t.Fatalf("store holds %d records, want the 250 before the conflict and the stored one", len(got))
			}
			for _, it := range parseItems(t, got...) {
				if it.Key > "k0250" {
					t.Errorf("%s written, after the line the load stopped at", it.Key)
				}
			}
		}
	})
}

// A rejects file that cannot be written stops the load at the batch whose
// rejects it could not take: the batches after it are not committed.
func TestWritersStopWhenRejectsFail(t *testing.T) {
	eachTarget(t, func(t *testing.T, a adapters.Adapter) {
		mustLoad(t, a, Options{}, rec("users", "k0050", 1, `"stored"`))
		var lines []string
		for i := range 1000 {
			lines = append(lines, rec("users", fmt.Sprintf("k%04d", i), 1, `"loaded"`))
		}
		broken := errors.New("disk full")
		_, err := Load(context.Background(), a, testStore, reader(t, lines...),
			Options{BatchSize: 100, Writers: 3, Rejects: failingWriter{broken}})
		if !errors.Is(err, broken) {
			t.Fatalf("load = %v, want the rejects file's error", err)
		}
		if got := dump(t, a); len(got) != 100 {
			t.Errorf("store holds %d records, want the first batch's 100 (its conflict left as stored)", len(got))
		}
	})
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// A batch whose turn to commit is slow in coming rolls back, waits, and is
// written again: the load ends as with one writer, with a retry counted.
func TestWritersGiveUpWaitingForTurn(t *testing.T) {
	defer func(w time.Duration) { turnWait = w }(turnWait)
	turnWait = 100 * time.Millisecond
	var lines []string
	for i := range 400 {
		lines = append(lines, rec("users", fmt.Sprintf("k%04d", i), 1, `"loaded"`))
	}
	a, _ := testdb.All[1].Open(t) // PostgreSQL: two writers
	var once sync.Once
	beforePut = func(puts []*record.Item) {
		if puts[0].Key == "k0100" { // the second batch: the third waits for it
			once.Do(func() { time.Sleep(10 * turnWait) })
		}
	}
	defer func() { beforePut = nil }()
	st, err := Load(context.Background(), a, testStore, reader(t, lines...), Options{BatchSize: 100, Writers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != 400 || st.Retries == 0 {
		t.Errorf("stats %+v, want 400 written and a batch retried after waiting too long", st)
	}
	if got := dump(t, a); len(got) != 400 {
		t.Errorf("store holds %d records, want 400", len(got))
	}
}
