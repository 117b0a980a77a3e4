package adapterstest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// A guarded Put writes a record only over an older version (or none) and an
// event only where there is none: equal or newer data is never overwritten.
func testGuardedPut(t *testing.T, a adapters.Adapter) {
	base := []*record.Item{
		rec("c", "newer", 5, T0, `"v5"`),
		rec("c", "equal", 3, T0, `"v3"`),
		rec("c", "older", 2, T0, `"v2"`),
		tomb("c", "deleted", 4, T0),
		rec("c", "undelete", 1, T0, `"v1"`),
		ev("s", 1, "placed", T0, `"e1"`),
	}
	write(t, a, "app", adapters.Guarded, base...)
	incoming := []*record.Item{
		rec("c", "newer", 4, "2030-01-01T00:00:00.000000Z", `"stale v4"`),
		rec("c", "equal", 3, "2030-01-01T00:00:00.000000Z", `"other v3"`),
		rec("c", "older", 3, "2030-01-01T00:00:00.000000Z", `"v3"`),
		rec("c", "deleted", 3, T0, `"resurrected"`),
		tomb("c", "undelete", 2, T0),
		rec("c", "new", 1, T0, `"new"`),
		ev("s", 1, "other", T0, `"other"`),
		ev("s", 2, "placed", T0, `"e2"`),
	}
	write(t, a, "app", adapters.Guarded, incoming...)
	want := []*record.Item{
		base[0], base[1], incoming[2], base[3], incoming[4], incoming[5], base[5], incoming[7],
	}
	same(t, "after guarded put", dump(t, a, "app", adapters.Filter{}), lines(want...))

	// Within one transaction too, and with a batch naming one key twice.
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		batch := []*record.Item{
			rec("c", "twice", 2, T0, `2`), rec("c", "twice", 1, T0, `1`),
			ev("s", 3, "t", T0, `"first"`), ev("s", 3, "t", T0, `"second"`),
		}
		if err := tx.Put(ctx, batch, adapters.Guarded); err != nil {
			t.Fatalf("Put: %v", err)
		}
		same(t, "lookup after guarded batch", lookup(t, tx, batch[0], batch[2]), lines(batch[0], batch[2]))
	})
}

// An unguarded Put replaces whatever is there, older versions included.
func testUnguardedPut(t *testing.T, a adapters.Adapter) {
	base := []*record.Item{
		rec("c", "k", 5, T0, `"v5"`), tomb("c", "t", 9, T0), rec("c", "live", 2, T0, `2`),
		ev("s", 1, "placed", T0, `"e1"`),
	}
	write(t, a, "app", adapters.Guarded, base...)
	incoming := []*record.Item{
		rec("c", "k", 1, "2020-01-01T00:00:00.000000Z", `"v1"`),
		rec("c", "t", 1, T0, `"back"`),
		tomb("c", "live", 1, T0),
		ev("s", 1, "replaced", "2020-01-01T00:00:00.000000Z", `{"x":1}`),
		ev("s", 2, "placed", T0, `"e2"`),
	}
	write(t, a, "app", adapters.Overwrite, incoming...)
	same(t, "after unguarded put", dump(t, a, "app", adapters.Filter{}), lines(incoming...))
}

// Remove deletes outright, by record, event or remove-line keys; keys that
// do not exist are no error.
func testRemove(t *testing.T, a adapters.Adapter) {
	items := []*record.Item{
		rec("c", "a", 1, T0, `1`), tomb("c", "b", 2, T0), rec("c", "c", 1, T0, `3`), rec("d", "a", 1, T0, `1`),
		ev("s", 1, "t", T0, `1`), ev("s", 2, "t", T0, `2`), ev("s", 3, "t", T0, `3`),
	}
	write(t, a, "app", adapters.Guarded, items...)
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		keys := []*record.Item{
			items[0],            // by record
			removeKey(items[1]), // by remove line: a tombstone goes too
			ev("s", 2, "", "", ""),
			removeKey(items[6]),
			rec("c", "missing", 1, T0, `1`), removeKey(ev("s", 99, "", "", "")),
			{Kind: record.KindRemove, Collection: "d", Key: "missing"},
		}
		if err := tx.Remove(ctx, keys); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		same(t, "lookup after remove", lookup(t, tx, items...), lines(items[2], items[3], items[4]))
	})
	same(t, "dump after remove", dump(t, a, "app", adapters.Filter{}), lines(items[2], items[3], items[4]))
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		m, err := tx.MaxSeq(ctx, []string{"s"})
		if err != nil || m["s"] != 1 {
			t.Errorf("MaxSeq after removing the last events = %v, %v; want s:1", m, err)
		}
	})
}

// Clear empties the store, which still exists.
func testClear(t *testing.T, a adapters.Adapter) {
	write(t, a, "app", adapters.Guarded, rec("c", "a", 1, T0, `1`), tomb("c", "b", 1, T0), ev("s", 1, "t", T0, `1`))
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.Clear(ctx); err != nil {
			t.Fatalf("Clear: %v", err)
		}
		got, _, _ := scanLines(t, tx, adapters.Filter{})
		same(t, "tx scan after clear", got, nil)
		if err := tx.Put(ctx, []*record.Item{rec("c", "a", 1, T0, `"again"`)}, adapters.Guarded); err != nil {
			t.Fatal(err)
		}
	})
	same(t, "dump after clear", dump(t, a, "app", adapters.Filter{}), lines(rec("c", "a", 1, T0, `"again"`)))
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.Clear(ctx); err != nil {
			t.Fatalf("Clear: %v", err)
		}
	})
	same(t, "dump after second clear", dump(t, a, "app", adapters.Filter{}), nil)
	if got := stores(t, a); len(got) != 1 || got[0] != "app" {
		t.Errorf("Stores after clear = %q, want [app]", got)
	}
}

// Nothing a rolled-back transaction did remains; Rollback after Commit, or
// twice, is a no-op.
func testRollback(t *testing.T, a adapters.Adapter) {
	ctx := t.Context()
	base := []*record.Item{rec("c", "a", 1, T0, `1`), ev("s", 1, "t", T0, `1`)}
	write(t, a, "app", adapters.Guarded, base...)
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Put(ctx, []*record.Item{rec("c", "a", 2, T0, `2`), rec("c", "b", 1, T0, `1`), ev("s", 2, "t", T0, `2`)}, adapters.Guarded); err != nil {
		t.Fatal(err)
	}
	if err := tx.Remove(ctx, []*record.Item{removeKey(base[1])}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Errorf("second Rollback: %v", err)
	}
	same(t, "after rollback", dump(t, a, "app", adapters.Filter{}), lines(base...))

	tx, err = a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	same(t, "after rolled-back clear", dump(t, a, "app", adapters.Filter{}), lines(base...))

	tx, err = a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Errorf("Rollback after Commit: %v, want nil", err)
	}
}

// A transaction reads its own writes, with Scan, Count, Lock and MaxSeq.
func testTxScan(t *testing.T, a adapters.Adapter) {
	base := []*record.Item{rec("c", "a", 1, T0, `1`), rec("c", "b", 1, T0, `1`), ev("s", 1, "t", T0, `1`)}
	write(t, a, "app", adapters.Guarded, base...)
	write(t, a, "other", adapters.Guarded, rec("c", "x", 1, T0, `1`), ev("s", 7, "t", T0, `1`))
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		puts := []*record.Item{rec("c", "a", 2, T0, `2`), tomb("c", "c", 1, T0), ev("s", 2, "t", T0, `2`)}
		if err := tx.Put(ctx, puts, adapters.Guarded); err != nil {
			t.Fatal(err)
		}
		if err := tx.Remove(ctx, []*record.Item{base[1]}); err != nil {
			t.Fatal(err)
		}
		want := []*record.Item{puts[0], puts[1], base[2], puts[2]}
		got, _, _ := scanLines(t, tx, adapters.Filter{})
		same(t, "tx scan", got, lines(want...))
		got, _, _ = scanLines(t, tx, adapters.Filter{Live: true, NoEvents: true})
		same(t, "tx scan live records", got, lines(puts[0]))
		same(t, "tx lookup", lookup(t, tx, base[1], base[2], puts[0], puts[1], puts[2]), lines(want...))
		txCounts(t, tx, map[string][2]int64{"all": {2, 2}, "records": {2, 0}, "events": {0, 2}, "live": {1, 0}})
		if m, err := tx.MaxSeq(ctx, []string{"s"}); err != nil || m["s"] != 2 {
			t.Errorf("MaxSeq = %v, %v; want s:2", m, err)
		}
	})
}

// txCounts checks what tx.Count gives under each filter txScan's test
// reads with; a tombstone counts as a record, as Scan reads it.
func txCounts(t *testing.T, tx adapters.Tx, want map[string][2]int64) {
	t.Helper()
	filters := map[string]adapters.Filter{
		"all": {}, "records": {NoEvents: true}, "events": {NoRecords: true}, "live": {Live: true, NoEvents: true},
	}
	for name, w := range want {
		r, e, err := tx.Count(t.Context(), filters[name])
		if err != nil || [2]int64{r, e} != w {
			t.Errorf("tx Count(%s) = %d records, %d events, %v; want %v", name, r, e, err, w)
		}
	}
	if _, _, err := tx.Count(t.Context(), adapters.Filter{Since: "c1.sqlite.0123456789abcdef.1"}); err == nil {
		t.Error("tx Count with a Since: no error; a transaction counts no delta")
	}
}

// MaxSeq gives each named stream's highest seq, 0 for a stream without
// events, counting numerically.
func testMaxSeq(t *testing.T, a adapters.Adapter) {
	write(t, a, "app", adapters.Guarded,
		ev("s", 1, "t", T0, `1`), ev("s", 9, "t", T0, `1`), ev("s", 10, "t", T0, `1`),
		ev("big", 9223372036854775807, "t", T0, `1`), ev("é", 3, "t", T0, `1`))
	write(t, a, "other", adapters.Guarded, ev("s", 50, "t", T0, `1`), ev("other", 1, "t", T0, `1`))
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		m, err := tx.MaxSeq(ctx, []string{"s", "big", "é", "none", "other"})
		if err != nil {
			t.Fatalf("MaxSeq: %v", err)
		}
		want := map[string]int64{"s": 10, "big": 9223372036854775807, "é": 3, "none": 0, "other": 0}
		if !maps.Equal(m, want) {
			t.Errorf("MaxSeq = %v, want %v", m, want)
		}
		if m, err := tx.MaxSeq(ctx, nil); err != nil || len(m) != 0 {
			t.Errorf("MaxSeq(nil) = %v, %v; want empty", m, err)
		}
	})
}

// An error from the callback stops Scan and Lock and comes back from them.
func testCallbackError(t *testing.T, a adapters.Adapter) {
	items := []*record.Item{rec("c", "a", 1, T0, `1`), rec("c", "b", 1, T0, `1`), ev("s", 1, "t", T0, `1`)}
	write(t, a, "app", adapters.Guarded, items...)
	stop := errors.New("stop here")
	calls := 0
	fn := func(*record.Item) error { calls++; return stop }
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer closeSnapshot(t, s)
	if err := s.Scan(t.Context(), adapters.Filter{}, fn); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("Snapshot.Scan = %v after %d calls; want the callback's error after 1", err, calls)
	}
	// The snapshot is still usable.
	if r, e, err := s.Count(t.Context(), adapters.Filter{}); err != nil || r != 2 || e != 1 {
		t.Errorf("Count after a stopped scan = %d, %d, %v", r, e, err)
	}
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		calls = 0
		if err := tx.Scan(ctx, adapters.Filter{}, fn); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Tx.Scan = %v after %d calls; want the callback's error after 1", err, calls)
		}
		calls = 0
		if err := tx.Lock(ctx, items, fn); !errors.Is(err, stop) || calls != 1 {
			t.Errorf("Tx.Lock = %v after %d calls; want the callback's error after 1", err, calls)
		}
		same(t, "lookup after a stopped lookup", lookup(t, tx, items...), lines(items...))
	})
}

// A scan whose context is cancelled midway stops with the context's error,
// and the adapter goes on working: the database was interrupted from
// another goroutine than the one reading (SQLite: sqlite3_interrupt).
func testCancelledScan(t *testing.T, a adapters.Adapter) {
	const n = 3000
	items := make([]*record.Item, n)
	for i := range items {
		items[i] = rec("c", fmt.Sprintf("k%05d", i), 1, T0, `{"i":1}`)
	}
	write(t, a, "app", adapters.Fresh, items...)
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer closeSnapshot(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls := 0
	err = s.Scan(ctx, adapters.Filter{}, func(*record.Item) error {
		if calls++; calls == 1 {
			cancel()
			// The cancellation reaches the database from another
			// goroutine, while this one still reads.
			time.Sleep(20 * time.Millisecond)
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls == n {
		t.Fatalf("cancelled Scan = %v after %d of %d items; want context.Canceled before the end", err, calls, n)
	}
	write(t, a, "app", adapters.Guarded, rec("c", "later", 1, T0, `1`))
	if got := dump(t, a, "app", adapters.Filter{}); len(got) != n+1 {
		t.Errorf("after a cancelled scan the store dumps %d items, want %d", len(got), n+1)
	}
}

// A Put whose context has ended stops with context.Canceled, and its
// transaction, rolled back, leaves the store as it was.
func testCancelledPut(t *testing.T, a adapters.Adapter) {
	write(t, a, "app", adapters.Fresh, rec("c", "before", 1, T0, `1`))
	items := make([]*record.Item, 500)
	for i := range items {
		items[i] = rec("c", fmt.Sprintf("k%05d", i), 1, T0, `{"i":1}`)
	}
	tx, err := a.Begin(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = tx.Put(ctx, items, adapters.Fresh)
	tx.Rollback()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put with its context ended = %v, want context.Canceled", err)
	}
	if got := dump(t, a, "app", adapters.Filter{}); len(got) != 1 {
		t.Errorf("after a cancelled Put the store dumps %d items, want 1", len(got))
	}
}

// LockStore keeps other writers out until the transaction ends: what it
// reads after the lock is what it writes on.
func testLockStore(t *testing.T, a adapters.Adapter) {
	write(t, a, "app", adapters.Fresh, rec("c", "k", 1, T0, `1`))
	tx, err := a.Begin(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.LockStore(t.Context()); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- tryWrite(t.Context(), t, a, "app", adapters.Guarded, rec("c", "k", 2, T0, `2`))
	}()
	select {
	case err := <-done:
		t.Fatalf("another writer went on while the store was locked: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	var seen []string
	if err := tx.Scan(t.Context(), adapters.Filter{}, func(it *record.Item) error {
		seen = append(seen, line(it))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	same(t, "the locked store", seen, lines(rec("c", "k", 1, T0, `1`)))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the other writer, once the lock was gone: %v", err)
	}
	same(t, "after both", dump(t, a, "app", adapters.Filter{}), lines(rec("c", "k", 2, T0, `2`)))
}

// Several goroutines write through one adapter at once; retrying what the
// adapter calls transient, every write lands.
func testConcurrentWriters(t *testing.T, a adapters.Adapter) {
	const writers, txs = 4, 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		want []*record.Item
	)
	for w := range writers {
		wg.Go(func() {
			for i := range txs {
				batch := []*record.Item{
					rec("c", fmt.Sprintf("w%d-%02d", w, i), 1, T0, fmt.Sprint(i)),
					ev(fmt.Sprintf("w%d", w), int64(i+1), "t", T0, fmt.Sprint(i)),
				}
				if err := tryWrite(t.Context(), t, a, "app", adapters.Guarded, batch...); err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				mu.Lock()
				want = append(want, batch...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	same(t, "dump", dump(t, a, "app", adapters.Filter{}), lines(want...))
}

// A Fresh Put writes items the store lacks, the corpus included, and refuses
// with ErrExists a batch holding a record or event the store has (or one
// twice), leaving the store as it was once rolled back.
func testFreshPut(t *testing.T, a adapters.Adapter) {
	ctx := t.Context()
	items := storable(t, a, corpus()...)
	write(t, a, "app", adapters.Fresh, items...)
	same(t, "after fresh put", dump(t, a, "app", adapters.Filter{}), lines(items...))

	for _, tc := range []struct {
		name  string
		batch []*record.Item
	}{
		{"an existing record", []*record.Item{rec("new", "a", 1, T0, `1`), items[0]}},
		{"an existing event", []*record.Item{ev("new", 1, "t", T0, `1`), items[len(items)-1]}},
		{"a record twice", []*record.Item{rec("new", "b", 1, T0, `1`), rec("new", "b", 2, T0, `2`)}},
		{"an older version of a record", []*record.Item{rec(items[0].Collection, items[0].Key, items[0].Version+1, T0, `"newer"`)}},
	} {
		tx, err := a.Begin(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		err = tx.Put(ctx, tc.batch, adapters.Fresh)
		if !errors.Is(err, adapters.ErrExists) {
			t.Errorf("Fresh Put of %s = %v, want ErrExists", tc.name, err)
		}
		if err := tx.Rollback(); err != nil {
			t.Errorf("Rollback after ErrExists: %v", err)
		}
	}
	same(t, "after refused fresh puts", dump(t, a, "app", adapters.Filter{}), lines(items...))

	// Another transaction writing the same key makes a Fresh Put fail too,
	// once that transaction commits.
	other, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Put(ctx, []*record.Item{rec("race", "k", 1, T0, `"other"`)}, adapters.Guarded); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		err := tryWrite(ctx, t, a, "app", adapters.Fresh, rec("race", "k", 1, T0, `"mine"`))
		done <- err
	}()
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, adapters.ErrExists) {
		t.Errorf("Fresh Put racing a committed write of its key = %v, want ErrExists", err)
	}
	same(t, "after the race", dump(t, a, "app", adapters.Filter{Collections: []string{"race"}, NoEvents: true}),
		lines(rec("race", "k", 1, T0, `"other"`)))
}

// A record whose version (an event stream whose last seq) is the limit has
// no next: a write that asks for it arrives with the limit plus one wrapped
// around, and is refused as such, whatever the mode, with the store left
// as it was.
func testNextPastLimit(t *testing.T, a adapters.Adapter) {
	const limit = math.MaxInt64
	base := []*record.Item{rec("c", "k", limit, T0, `1`), ev("s", limit, "t", T0, `1`)}
	write(t, a, "app", adapters.Guarded, base...)
	wrap := int64(limit)
	wrap++ // what a writer's cur.Version + 1 gives
	for _, tc := range []struct {
		name string
		it   *record.Item
		want string
	}{
		{"record", rec("c", "k", wrap, T0, `2`), `put record "c"/"k": version: the record's version is `},
		{"event", ev("s", wrap, "t", T0, `2`), `put event in stream "s": seq: the stream's last seq is `},
	} {
		for _, mode := range []adapters.PutMode{adapters.Guarded, adapters.Overwrite, adapters.Fresh} {
			tx, err := a.Begin(t.Context(), "app")
			if err != nil {
				t.Fatal(err)
			}
			err = tx.Put(t.Context(), []*record.Item{tc.it}, mode)
			tx.Rollback()
			if !errors.Is(err, adapters.ErrNoNext) || !strings.Contains(err.Error(), tc.want+"at the largest possible value, 9223372036854775807") {
				t.Errorf("%s, mode %d: %v\nwant ErrNoNext, %q", tc.name, mode, err, tc.want)
			}
		}
	}
	same(t, "after the refused writes", dump(t, a, "app", adapters.Filter{}), lines(base...))
}
