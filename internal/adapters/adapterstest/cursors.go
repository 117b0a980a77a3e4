package adapterstest

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// cursorTests need only the adapter; rawTests also write the tables with
// plain SQL, as another program would.
var cursorTests = []test{
	{"Cursor/Delta", testCursorDelta},
	{"Cursor/Filters", testCursorFilters},
	{"Cursor/OpenTransaction", testCursorOpenTransaction},
	{"Cursor/Removed", testCursorRemoved},
	{"Cursor/Refused", testCursorRefused},
	{"Cursor/LoadedFrom", testLoadedFrom},
	{"Cursor/ForgetLoaded", testForgetLoaded},
	{"Cursor/History", testCursorHistory},
}

var rawTests = []struct {
	name string
	fn   func(t *testing.T, a adapters.Adapter, db *sql.DB)
}{
	{"Cursor/OtherWriters", testCursorOtherWriters},
	{"Cursor/OtherWriterOpen", testCursorOtherWriterOpen},
	{"Cursor/OtherDeletes", testCursorOtherDeletes},
	{"Cursor/OtherDeletesAll", testCursorOtherDeletesAll},
	{"Cursor/HistoryLost", testCursorHistoryLost},
	{"OwnBytes", testOwnBytes},
	{"StoresWithoutRow", testStoresWithoutRow},
}

// WithRawSQL gives the suite a plain database/sql handle on the database
// an adapter from open uses (its tables in the search path), for the tests
// of writers that are not Persist. The suite closes it.
func WithRawSQL(raw func(t *testing.T, a adapters.Adapter) *sql.DB) Option {
	return func(c *config) { c.raw = raw }
}

// snapshot opens a snapshot and closes it when the test ends.
func snapshot(t *testing.T, a adapters.Adapter, store string) adapters.Snapshot {
	t.Helper()
	s, err := a.Snapshot(t.Context(), store)
	if err != nil {
		t.Fatalf("Snapshot(%q): %v", store, err)
	}
	t.Cleanup(func() { closeSnapshot(t, s) })
	return s
}

// cursorNow is the cursor of a snapshot taken now.
func cursorNow(t *testing.T, a adapters.Adapter, store string) string {
	t.Helper()
	s, err := a.Snapshot(t.Context(), store)
	if err != nil {
		t.Fatalf("Snapshot(%q): %v", store, err)
	}
	defer closeSnapshot(t, s)
	c, err := s.Cursor(t.Context())
	if err != nil {
		t.Fatalf("Cursor: %v", err)
	}
	if _, err := adapters.ParseCursor(c); err != nil || strings.ContainsAny(c, " '\"$`\\*?#;&|<>(){}[]~!") {
		t.Fatalf("Cursor %q: %v, or not safe to paste into a shell", c, err)
	}
	return c
}

// delta is what a fresh snapshot yields since cursor, Count checked.
func delta(t *testing.T, a adapters.Adapter, store, cursor string) []string {
	t.Helper()
	return dump(t, a, store, adapters.Filter{Since: cursor})
}

// A delta holds what was written after its cursor's snapshot, whichever
// way it was written, and nothing that snapshot saw; the store's state is
// the earlier dump with the delta merged in.
func testCursorDelta(t *testing.T, a adapters.Adapter) {
	before := []*record.Item{
		rec("c", "a", 1, T0, `"a1"`), rec("c", "b", 1, T0, `"b1"`), rec("c", "same", 1, T0, `1`),
		rec("d", "x", 1, T0, `{"x":1}`), ev("s", 1, "t", T0, `1`), ev("s", 2, "t", T0, `2`),
	}
	write(t, a, "app", adapters.Guarded, before...)
	c1 := cursorNow(t, a, "app")
	same(t, "delta with nothing written since", delta(t, a, "app", c1), nil)

	guarded := []*record.Item{rec("c", "a", 2, T0, `"a2"`), tomb("c", "b", 2, T0), ev("s", 3, "t", T0, `3`)}
	write(t, a, "app", adapters.Guarded, guarded...)
	overwrite := []*record.Item{rec("d", "x", 1, T0, `{"x":2}`), ev("u", 1, "t", T0, `null`)}
	write(t, a, "app", adapters.Overwrite, overwrite...)
	fresh := []*record.Item{rec("e", "new", 1, T0, `"n"`)}
	write(t, a, "app", adapters.Fresh, fresh...)
	// A guarded write that loses to the stored version changes nothing.
	write(t, a, "app", adapters.Guarded, rec("c", "same", 1, T0, `1`), ev("s", 1, "t", T0, `1`))

	changed := append(append(append([]*record.Item{}, guarded...), overwrite...), fresh...)
	same(t, "delta since the first cursor", delta(t, a, "app", c1), lines(changed...))

	c2 := cursorNow(t, a, "app")
	if c2 == c1 {
		t.Errorf("the cursor did not move with the writes: %s", c2)
	}
	same(t, "delta since the second cursor", delta(t, a, "app", c2), nil)
	write(t, a, "app", adapters.Guarded, rec("c", "a", 3, T0, `"a3"`))
	same(t, "delta after one more write", delta(t, a, "app", c2), lines(rec("c", "a", 3, T0, `"a3"`)))
	// An older cursor still sees everything since it.
	same(t, "delta since the first cursor again", delta(t, a, "app", c1),
		lines(rec("c", "a", 3, T0, `"a3"`), guarded[1], guarded[2], overwrite[0], overwrite[1], fresh[0]))
	// Times say nothing about what is in a delta: a writer whose clock is
	// years behind is in it all the same.
	c3 := cursorNow(t, a, "app")
	skewed := []*record.Item{rec("c", "a", 4, "1999-01-01T00:00:00.000000Z", `"a4"`), ev("s", 4, "t", "1999-01-01T00:00:00.000000Z", `4`)}
	write(t, a, "app", adapters.Guarded, skewed...)
	same(t, "delta of writes dated years back", delta(t, a, "app", c3), lines(skewed...))
}

// Since combines with the other filters.
func testCursorFilters(t *testing.T, a adapters.Adapter) {
	write(t, a, "app", adapters.Guarded, rec("c", "a", 1, T0, `1`), rec("d", "a", 1, T0, `1`), ev("s", 1, "t", T0, `1`))
	c := cursorNow(t, a, "app")
	changed := []*record.Item{rec("c", "a", 2, T0, `2`), tomb("d", "a", 2, T0), rec("d", "b", 1, T0, `1`),
		ev("s", 2, "t", T0, `2`), ev("z", 1, "t", T0, `1`)}
	write(t, a, "app", adapters.Guarded, changed...)
	for _, f := range []adapters.Filter{
		{Collections: []string{"d"}}, {Streams: []string{"s"}}, {Live: true}, {NoRecords: true}, {NoEvents: true},
		{Collections: []string{}, Streams: []string{"z", "s"}},
	} {
		f.Since = c
		same(t, "delta with a filter", dump(t, a, "app", f), lines(filtered(f, changed...)...))
	}
}

// A transaction open while a snapshot is taken, and committed after it, is
// in the next delta: its changes were not in the snapshot, whatever order
// its writes and the snapshot came in.
func testCursorOpenTransaction(t *testing.T, a adapters.Adapter) {
	ctx := t.Context()
	write(t, a, "app", adapters.Guarded, rec("c", "old", 1, T0, `1`))
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	late := rec("c", "late", 1, T0, `"late"`)
	if err := tx.Put(ctx, []*record.Item{late}, adapters.Guarded); err != nil {
		t.Fatal(err)
	}
	laterFirst(t, a)
	c1 := cursorNow(t, a, "app")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	s := snapshot(t, a, "app")
	got, _, _ := scanLines(t, s, adapters.Filter{Since: c1})
	same(t, "delta after a transaction open at the cursor committed", got, lines(late))
	c2 := cursorNow(t, a, "app")
	same(t, "delta since a cursor after it committed", delta(t, a, "app", c2), nil)
}

// laterFirst commits a write to another store while a transaction that
// began earlier is open, where the database allows it: the snapshot that
// follows sees a later transaction and not an earlier one (on PostgreSQL,
// the earlier one is then in the snapshot's list of transactions in
// progress, below its xmax). With one writer at a time, that cannot happen.
func laterFirst(t *testing.T, a adapters.Adapter) {
	t.Helper()
	if a.Writers() > 1 {
		write(t, a, "elsewhere", adapters.Guarded, rec("c", "first", 1, T0, `1`))
	}
}

// An outright delete (Remove, Clear) cannot be carried by a delta: a Since
// from before it is refused, one from after it is not.
func testCursorRemoved(t *testing.T, a adapters.Adapter) {
	items := []*record.Item{rec("c", "a", 1, T0, `1`), rec("c", "b", 1, T0, `1`), ev("s", 1, "t", T0, `1`)}
	write(t, a, "app", adapters.Guarded, items...)
	write(t, a, "other", adapters.Guarded, items...)
	c1 := cursorNow(t, a, "app")
	o1 := cursorNow(t, a, "other")
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.Remove(ctx, []*record.Item{removeKey(items[0])}); err != nil {
			t.Fatal(err)
		}
	})
	wantErr(t, a, "app", c1, adapters.ErrRemoved)
	// Another store's deltas are not concerned.
	same(t, "delta of another store", delta(t, a, "other", o1), nil)
	c2 := cursorNow(t, a, "app")
	same(t, "delta since the removal", delta(t, a, "app", c2), nil)
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.Clear(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tx.Put(ctx, items[1:], adapters.Fresh); err != nil {
			t.Fatal(err)
		}
	})
	wantErr(t, a, "app", c2, adapters.ErrRemoved)
	c3 := cursorNow(t, a, "app")
	same(t, "delta since the clear", delta(t, a, "app", c3), nil)
}

// wantErr checks that a snapshot refuses since, in Count and in Scan.
func wantErr(t *testing.T, a adapters.Adapter, store, since string, want error) {
	t.Helper()
	s := snapshot(t, a, store)
	f := adapters.Filter{Since: since}
	if _, _, err := s.Count(t.Context(), f); !errors.Is(err, want) {
		t.Errorf("Count since %q: %v, want %v", since, err, want)
	}
	err := s.Scan(t.Context(), f, func(it *record.Item) error {
		t.Errorf("Scan since %q yielded %s", since, line(it))
		return nil
	})
	if !errors.Is(err, want) {
		t.Errorf("Scan since %q: %v, want %v", since, err, want)
	}
}

// A cursor of another store, of another adapter, or none at all, is
// refused with ErrCursor.
func testCursorRefused(t *testing.T, a adapters.Adapter) {
	write(t, a, "app", adapters.Guarded, rec("c", "a", 1, T0, `1`))
	write(t, a, "other", adapters.Guarded, rec("c", "a", 1, T0, `1`))
	mine, err := adapters.ParseCursor(cursorNow(t, a, "app"))
	if err != nil {
		t.Fatal(err)
	}
	otherAdapter := mine
	otherAdapter.Adapter = "mysql"
	for _, c := range []string{
		cursorNow(t, a, "other"),
		otherAdapter.String(),
		"c1." + mine.Adapter + ".0123456789abcdef." + mine.Pos,
		"c2." + strings.TrimPrefix(mine.String(), "c1."),
		mine.String() + "x",
		"c1." + mine.Adapter + "." + mine.Store + ".",
		"yesterday",
		"c1." + mine.Adapter + "." + mine.Store + ".-5",
	} {
		wantErr(t, a, "app", c, adapters.ErrCursor)
	}
	if _, err := a.Snapshot(t.Context(), "app"); err != nil {
		t.Fatalf("the store after refusing cursors: %v", err)
	}
}

// LoadedFrom returns what SetLoadedFrom recorded, per store and source.
func testLoadedFrom(t *testing.T, a adapters.Adapter) {
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if c, err := tx.LoadedFrom(ctx, "sqlite.0123456789abcdef"); err != nil || c != "" {
			t.Errorf("LoadedFrom before any = %q, %v", c, err)
		}
		for _, c := range []string{"c1.sqlite.0123456789abcdef.1", "c1.sqlite.0123456789abcdef.2"} {
			if err := tx.SetLoadedFrom(ctx, "sqlite.0123456789abcdef", c); err != nil {
				t.Fatal(err)
			}
		}
	})
	inTx(t, a, "other", func(ctx context.Context, tx adapters.Tx) {
		if c, err := tx.LoadedFrom(ctx, "sqlite.0123456789abcdef"); err != nil || c != "" {
			t.Errorf("LoadedFrom of another store = %q, %v", c, err)
		}
	})
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if c, err := tx.LoadedFrom(ctx, "sqlite.0123456789abcdef"); err != nil || c != "c1.sqlite.0123456789abcdef.2" {
			t.Errorf("LoadedFrom = %q, %v; want the last one set", c, err)
		}
		if n, err := tx.SourcesLoaded(ctx); err != nil || n != 1 {
			t.Errorf("SourcesLoaded = %d, %v; want 1", n, err)
		}
		if err := tx.SetLoadedFrom(ctx, "postgres.fedcba9876543210", "c1.postgres.fedcba9876543210.1"); err != nil {
			t.Fatal(err)
		}
		if n, err := tx.SourcesLoaded(ctx); err != nil || n != 2 {
			t.Errorf("SourcesLoaded after a second source = %d, %v; want 2", n, err)
		}
	})
	inTx(t, a, "none", func(ctx context.Context, tx adapters.Tx) {
		if n, err := tx.SourcesLoaded(ctx); err != nil || n != 0 {
			t.Errorf("SourcesLoaded of a store that loaded none = %d, %v", n, err)
		}
	})
}

// ForgetLoaded forgets the store's cursors, every source's, and no other
// store's.
func testForgetLoaded(t *testing.T, a adapters.Adapter) {
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.SetLoadedFrom(ctx, "sqlite.0123456789abcdef", "c1.sqlite.0123456789abcdef.2"); err != nil {
			t.Fatal(err)
		}
	})
	inTx(t, a, "other", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.SetLoadedFrom(ctx, "sqlite.0123456789abcdef", "c1.sqlite.0123456789abcdef.9"); err != nil {
			t.Fatal(err)
		}
	})
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		if err := tx.SetLoadedFrom(ctx, "postgres.fedcba9876543210", "c1.postgres.fedcba9876543210.1"); err != nil {
			t.Fatal(err)
		}
		if err := tx.ForgetLoaded(ctx); err != nil {
			t.Fatal(err)
		}
	})
	inTx(t, a, "app", func(ctx context.Context, tx adapters.Tx) {
		for _, src := range []string{"sqlite.0123456789abcdef", "postgres.fedcba9876543210"} {
			if c, err := tx.LoadedFrom(ctx, src); err != nil || c != "" {
				t.Errorf("LoadedFrom(%s) after ForgetLoaded = %q, %v; want none", src, c, err)
			}
		}
	})
	inTx(t, a, "other", func(ctx context.Context, tx adapters.Tx) {
		if c, err := tx.LoadedFrom(ctx, "sqlite.0123456789abcdef"); err != nil || c != "c1.sqlite.0123456789abcdef.9" {
			t.Errorf("LoadedFrom of another store after ForgetLoaded = %q, %v; want it kept", c, err)
		}
	})
}

// exec runs statements on the raw handle, as another program would.
func exec(t *testing.T, db *sql.DB, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// Other programs writing the tables (an application of its own, a hand
// edit that touches neither version nor updated_at) are in the next delta.
func testCursorOtherWriters(t *testing.T, a adapters.Adapter, db *sql.DB) {
	write(t, a, "app", adapters.Guarded, rec("c", "a", 1, T0, `1`), rec("c", "b", 1, T0, `1`), rec("c", "c", 1, T0, `1`),
		ev("s", 1, "t", T0, `1`))
	c1 := cursorNow(t, a, "app")
	exec(t, db,
		`UPDATE persist_records SET value = '{"by":"hand"}' WHERE store = 'app' AND key = 'a'`,
		`UPDATE persist_records SET deleted = true, value = NULL, version = version + 1 WHERE store = 'app' AND key = 'b'`,
		`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			VALUES ('app', 'c', 'new', 1, '`+T0+`', false, '[1,2]')`,
		`INSERT INTO persist_events (store, stream, seq, type, at, data) VALUES ('app', 's', 2, 't', '`+T0+`', '{"n":2}')`,
		`UPDATE persist_events SET type = 'fixed' WHERE store = 'app' AND stream = 's' AND seq = 1`,
	)
	// The edit of a's value left its version as it was: the next one
	// tells the new content from the old wherever the record goes.
	want := lines(rec("c", "a", 2, T0, `{"by":"hand"}`), tomb("c", "b", 2, T0), rec("c", "new", 1, T0, `[1,2]`),
		ev("s", 1, "fixed", T0, `1`), ev("s", 2, "t", T0, `{"n":2}`))
	same(t, "delta after other programs wrote", delta(t, a, "app", c1), want)
	// Persist's writes after theirs, and theirs after Persist's, in turn.
	c2 := cursorNow(t, a, "app")
	write(t, a, "app", adapters.Guarded, rec("c", "c", 2, T0, `2`))
	exec(t, db, `UPDATE persist_records SET version = 3, value = '3' WHERE store = 'app' AND key = 'c'`)
	write(t, a, "app", adapters.Guarded, ev("s", 3, "t", T0, `3`))
	same(t, "delta of writes in turn", delta(t, a, "app", c2), lines(rec("c", "c", 3, T0, `3`), ev("s", 3, "t", T0, `3`)))
	// A row moved to another key is an outright delete of the old key.
	c3 := cursorNow(t, a, "app")
	exec(t, db, `UPDATE persist_records SET key = 'moved' WHERE store = 'app' AND key = 'new'`)
	wantErr(t, a, "app", c3, adapters.ErrRemoved)
}

// Another program's transaction open at the cursor, committed after it,
// is in the next delta.
func testCursorOtherWriterOpen(t *testing.T, a adapters.Adapter, db *sql.DB) {
	write(t, a, "app", adapters.Guarded, rec("c", "a", 1, T0, `1`))
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(t.Context(), `UPDATE persist_records SET version = 2, value = '"open"' WHERE store = 'app' AND key = 'a'`); err != nil {
		t.Fatal(err)
	}
	laterFirst(t, a)
	c1 := cursorNow(t, a, "app")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	same(t, "delta after another program's open transaction committed", delta(t, a, "app", c1),
		lines(rec("c", "a", 2, T0, `"open"`)))
}

// Another program's DELETE makes deltas from before it refuse.
func testCursorOtherDeletes(t *testing.T, a adapters.Adapter, db *sql.DB) {
	write(t, a, "app", adapters.Guarded, rec("c", "a", 1, T0, `1`), rec("c", "b", 1, T0, `1`), ev("s", 1, "t", T0, `1`))
	c1 := cursorNow(t, a, "app")
	exec(t, db, `DELETE FROM persist_records WHERE store = 'app' AND key = 'a'`)
	wantErr(t, a, "app", c1, adapters.ErrRemoved)
	c2 := cursorNow(t, a, "app")
	same(t, "delta since the delete", delta(t, a, "app", c2), nil)
	exec(t, db, `DELETE FROM persist_events WHERE store = 'app'`)
	wantErr(t, a, "app", c2, adapters.ErrRemoved)
}

// A cursor names the entry of the store's history its snapshot saw; a
// cursor whose entry the store holds otherwise (another history: a copy
// restored from before it, written to since) is refused, and one without
// an entry (written by a release before history) is taken as it was.
func testCursorHistory(t *testing.T, a adapters.Adapter) {
	write(t, a, "app", adapters.Guarded, rec("c", "a", 1, T0, `1`))
	c1, err := adapters.ParseCursor(cursorNow(t, a, "app"))
	if err != nil {
		t.Fatal(err)
	}
	if c1.Mark.Token == "" {
		t.Fatalf("cursor %s names no history entry", c1)
	}
	write(t, a, "app", adapters.Guarded, rec("c", "a", 2, T0, `2`))
	want := lines(rec("c", "a", 2, T0, `2`))
	same(t, "delta since the cursor", delta(t, a, "app", c1.String()), want)
	legacy := c1
	legacy.Mark = adapters.Mark{}
	same(t, "delta since the cursor without its history entry", delta(t, a, "app", legacy.String()), want)
	other := c1
	other.Mark.Token = strings.Repeat("0", adapters.TokenLen)
	wantErr(t, a, "app", other.String(), adapters.ErrCursor)
	other = c1
	other.Mark.N += 1000
	wantErr(t, a, "app", other.String(), adapters.ErrCursor)
}

// A whole table deleted by hand (DELETE without WHERE, which SQLite
// would otherwise do without visiting the rows) is refused as any other
// outright delete.
func testCursorOtherDeletesAll(t *testing.T, a adapters.Adapter, db *sql.DB) {
	write(t, a, "app", adapters.Guarded, rec("c", "a", 1, T0, `1`), ev("s", 1, "t", T0, `1`))
	c1 := cursorNow(t, a, "app")
	exec(t, db, `DELETE FROM persist_records`)
	wantErr(t, a, "app", c1, adapters.ErrRemoved)
	c2 := cursorNow(t, a, "app")
	exec(t, db, `DELETE FROM persist_events`)
	wantErr(t, a, "app", c2, adapters.ErrRemoved)
}

// A store whose history no longer holds the cursor's entry (restored from
// a copy older than the cursor, then written to) refuses the cursor.
func testCursorHistoryLost(t *testing.T, a adapters.Adapter, db *sql.DB) {
	write(t, a, "app", adapters.Guarded, rec("c", "a", 1, T0, `1`))
	c1, err := adapters.ParseCursor(cursorNow(t, a, "app"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, a, "app", adapters.Guarded, rec("c", "a", 2, T0, `2`))
	exec(t, db, `DELETE FROM persist_history WHERE token = '`+c1.Mark.Token+`'`)
	wantErr(t, a, "app", c1.String(), adapters.ErrCursor)
}
