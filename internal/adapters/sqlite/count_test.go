package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
)

// tableCounts counts store's rows from the tables themselves.
func tableCounts(t *testing.T, db *sql.DB, store string) (records, events int64) {
	t.Helper()
	err := db.QueryRow(`SELECT (SELECT count(*) FROM persist_records WHERE store = ?1),
		(SELECT count(*) FROM persist_events WHERE store = ?1)`, store).Scan(&records, &events)
	if err != nil {
		t.Fatal(err)
	}
	return records, events
}

// countBoth takes a snapshot of store, checks that Count gives the tables'
// counts, and reports whether Count took them from the indexes.
func countBoth(t *testing.T, path, store string, db *sql.DB) (quick bool) {
	t.Helper()
	_, s := readOnlySnapshot(t, path, store)
	r0, e0 := tableCounts(t, db, store)
	snap := s.(*snapshot)
	for _, f := range []adapters.Filter{{}, {NoRecords: true}, {NoEvents: true}} {
		want := [2]int64{r0, e0}
		if f.NoRecords {
			want[0] = 0
		}
		if f.NoEvents {
			want[1] = 0
		}
		r, e, err := s.Count(t.Context(), f)
		if err != nil || [2]int64{r, e} != want {
			t.Fatalf("Count(%+v) = %d, %d, %v; the tables hold %v", f, r, e, err, want)
		}
	}
	// A filter that keeps part of the store counts the tables.
	if _, _, err := s.Count(t.Context(), adapters.Filter{Collections: []string{"users"}}); err != nil {
		t.Fatal(err)
	}
	switch n := snap.quickCounts; n {
	case 0:
		quick = false
	case 3:
		quick = true
	default:
		t.Fatalf("%d of the 3 whole-store counts and 1 filtered count came from the indexes", n)
	}
	return quick
}

// A whole store is counted from the change index and the index of rows
// without chg, exactly: rows that another program left unstamped (its
// connection's triggers off) and another store's rows included. Where the
// indexes are missing or not Persist's, the tables are counted, and a
// writer of this release puts the missing ones back.
func TestQuickCount(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	sample(t, path)
	w := open(t, path, Options{})
	putLines(t, w, "app",
		`{"kind":"record","collection":"users","key":"u3","version":1,"updated_at":"2026-11-25T12:00:00Z","value":3}`,
		`{"kind":"event","stream":"orders","seq":2,"type":"paid","at":"2026-11-25T12:00:00Z","data":null}`)
	putLines(t, w, "other", `{"kind":"record","collection":"c","key":"k","version":1,"updated_at":"2026-11-25T12:00:00Z","value":1}`)
	w.Close()
	db := rawDB(t, path, "mode=rw")
	defer db.Close()
	// Rows without chg, as a program whose triggers are off writes them.
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.Raw(func(dc any) error { setTriggersOn(dc.(*sqlite3.SQLiteConn), false); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value) VALUES ('app', 'users', 'raw', 1, '2026-11-25T12:00:00.000000Z', 0, '1')`,
		`INSERT INTO persist_events (store, stream, seq, type, at, data) VALUES ('app', 'orders', 9, 't', '2026-11-25T12:00:00.000000Z', '1')`,
		`UPDATE persist_records SET chg = NULL WHERE key = 'u1'`,
	} {
		if _, err := conn.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	conn.Close()
	var unstamped int64
	db.QueryRow(`SELECT (SELECT count(*) FROM persist_records WHERE chg IS NULL) + (SELECT count(*) FROM persist_events WHERE chg IS NULL)`).Scan(&unstamped)
	if unstamped != 3 {
		t.Fatalf("%d rows without chg, want 3", unstamped)
	}
	for _, store := range []string{"app", "other"} {
		if !countBoth(t, path, store, db) {
			t.Fatalf("%s: the store was not counted from its indexes", store)
		}
	}
	for _, table := range []string{"persist_records", "persist_events"} {
		q := fmt.Sprintf(quickCountSQL, table)
		plan := explain(t, db, q, []any{"app", "app"})
		if strings.Count(plan, "COVERING INDEX") != 2 {
			t.Errorf("%s\nplan:\n%s", q, plan)
		}
	}
	// Another predicate under Persist's name counts other rows.
	if _, err := db.Exec(`DROP INDEX persist_records_unstamped;
		CREATE INDEX persist_records_unstamped ON persist_records (store, chg) WHERE chg IS NULL AND key < 'b'`); err != nil {
		t.Fatal(err)
	}
	if countBoth(t, path, "app", db) {
		t.Fatal("counted from an index that is not Persist's")
	}
	if _, err := db.Exec(`DROP INDEX persist_records_unstamped; DROP INDEX persist_events_unstamped`); err != nil {
		t.Fatal(err)
	}
	if countBoth(t, path, "app", db) {
		t.Fatal("counted from indexes that are not there")
	}
	// A writer of this release adds them back.
	w = open(t, path, Options{})
	putLines(t, w, "app", `{"kind":"record","collection":"users","key":"u4","version":1,"updated_at":"2026-11-25T12:00:00Z","value":4}`)
	w.Close()
	if !countBoth(t, path, "app", db) {
		t.Fatal("a write did not put the count indexes back")
	}
}

// A file made before the count indexes is still copied as it is; the copy
// is counted from its tables.
func TestCopyWithoutCountIndexes(t *testing.T) {
	dir := t.TempDir()
	path, target := filepath.Join(dir, "app.db"), filepath.Join(dir, "copy.db")
	want := sample(t, path)
	db := rawDB(t, path, "mode=rw")
	if _, err := db.Exec(`DROP INDEX persist_records_unstamped; DROP INDEX persist_events_unstamped`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := copyOf(t, path, "app", target, nil); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	c := rawDB(t, target, "mode=ro")
	defer c.Close()
	if countBoth(t, target, "app", c) {
		t.Fatal("the copy was counted from indexes it does not have")
	}
	a := open(t, target, Options{ReadOnly: true})
	defer a.Close()
	if got := dumpLines(t, a, "app"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the copy dumps %q, want %q", got, want)
	}
}

// A file made before the count indexes, where another program has a view
// under one of their names, is written to as before, and counted from its
// tables.
func TestCountIndexNameTaken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.db")
	sample(t, path)
	db := rawDB(t, path, "mode=rw")
	defer db.Close()
	if _, err := db.Exec(`DROP INDEX persist_records_unstamped; DROP INDEX persist_events_unstamped;
		CREATE VIEW persist_records_unstamped AS SELECT key FROM persist_records`); err != nil {
		t.Fatal(err)
	}
	w := open(t, path, Options{})
	putLines(t, w, "app", `{"kind":"record","collection":"users","key":"u9","version":1,"updated_at":"2026-11-25T12:00:00Z","value":9}`)
	w.Close()
	if countBoth(t, path, "app", db) {
		t.Fatal("counted from indexes the file cannot have")
	}
	var view int
	db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = 'persist_records_unstamped'`).Scan(&view)
	if view != 1 {
		t.Fatal("the other program's view is gone")
	}
}
