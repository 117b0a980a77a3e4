package sqlite

import (
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// v1DDL is the schema as the release before change tracking made it
// (schema version 1), word for word.
var v1DDL = []string{
	`CREATE TABLE IF NOT EXISTS persist_meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) WITHOUT ROWID`,
	`INSERT INTO persist_meta (key, value) VALUES ('schema_version', '1')
		ON CONFLICT (key) DO NOTHING`,
	`CREATE TABLE IF NOT EXISTS persist_stores (
		name       TEXT PRIMARY KEY,
		created_at TEXT NOT NULL
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS persist_records (
		store      TEXT NOT NULL,
		collection TEXT NOT NULL,
		key        TEXT NOT NULL,
		version    INTEGER NOT NULL CHECK (version >= 1),
		updated_at TEXT NOT NULL,
		deleted    INTEGER NOT NULL,
		value      TEXT,
		PRIMARY KEY (store, collection, key)
	) WITHOUT ROWID`,
	`CREATE TABLE IF NOT EXISTS persist_events (
		store  TEXT NOT NULL,
		stream TEXT NOT NULL,
		seq    INTEGER NOT NULL CHECK (seq >= 1),
		type   TEXT NOT NULL,
		at     TEXT NOT NULL,
		data   TEXT,
		PRIMARY KEY (store, stream, seq)
	) WITHOUT ROWID`,
}

// makeV1 writes a version 1 file at path holding n records and n/10
// events in store "app", closed cleanly (no -wal left). Without meta, the
// file has no persist_meta, as another implementation of the contract
// would make it.
func makeV1(t *testing.T, path string, n int, meta bool) {
	t.Helper()
	db := rawDB(t, path, "mode=rwc")
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, q := range v1DDL {
		if !meta && strings.Contains(q, "persist_meta") {
			continue
		}
		exec(q)
	}
	exec(`INSERT INTO persist_stores VALUES ('app', '2026-11-25T12:00:00.000000Z')`)
	pad := strings.Repeat("x", 200)
	for i := range n {
		exec(`INSERT INTO persist_records VALUES ('app', 'c', ?, 1, '2026-11-25T12:00:00.000000Z', 0, ?)`,
			fmt.Sprintf("k%06d", i), fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, pad))
		if i%10 == 0 {
			exec(`INSERT INTO persist_events VALUES ('app', 's', ?, 't', '2026-11-25T12:00:00.000000Z', '1')`, i/10+1)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`PRAGMA journal_mode=WAL`); err != nil {
		t.Fatal(err)
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// A file of schema version 1 dumps in full, read-only and unchanged, but
// has no cursor; the first writer of this release upgrades it in place:
// a few pages written, not the rows. Rows from before the upgrade are older
// than every cursor, until someone changes them.
func TestUpgradeFromVersion1(t *testing.T) {
	for _, meta := range []bool{true, false} {
		t.Run(fmt.Sprintf("persist_meta=%v", meta), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.db")
			const n = 20000
			makeV1(t, path, n, meta)
			sum := fileSum(t, path)

			ro := open(t, path, Options{ReadOnly: true})
			before := dumpLines(t, ro, "app")
			if len(before) != n+n/10 {
				t.Fatalf("version 1 file dumps %d lines, want %d", len(before), n+n/10)
			}
			s, err := ro.Snapshot(t.Context(), "app")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Cursor(t.Context()); !errors.Is(err, adapters.ErrNoCursor) {
				t.Errorf("Cursor of a version 1 store: %v, want ErrNoCursor", err)
			}
			if _, _, err := s.Count(t.Context(), adapters.Filter{Since: "c1.sqlite.0123456789abcdef.1"}); !errors.Is(err, adapters.ErrNoCursor) {
				t.Errorf("Count since a cursor on a version 1 store: %v, want ErrNoCursor", err)
			}
			s.Close()
			if _, err := ro.Upgrade(t.Context()); !errors.Is(err, ErrReadOnly) {
				t.Errorf("Upgrade read-only: %v", err)
			}
			ro.Close()
			if fileSum(t, path) != sum {
				t.Fatal("reading the version 1 file changed it")
			}

			w := open(t, path, Options{})
			defer w.Close()
			if u, err := w.Upgrade(t.Context()); err != nil || u != (adapters.Upgraded{From: 1, To: 3}) {
				t.Fatalf("Upgrade = %+v, %v; want %+v", u, err, adapters.Upgraded{From: 1, To: 3})
			}
			// The upgrade's pages went to the -wal file: the new objects,
			// and the index of the rows without chg (every row here:
			// their keys, 7% of the file's pages), where rewriting the
			// rows would have written every page.
			fi, err := os.Stat(path + "-wal")
			if err != nil {
				t.Fatal(err)
			}
			db, _ := os.Stat(path)
			if frames := fi.Size() / 4120; frames > db.Size()/4096/8 || db.Size()/4096 < 300 {
				t.Errorf("the upgrade wrote %d pages of a %d-page file", frames, db.Size()/4096)
			}
			if u, err := w.Upgrade(t.Context()); err != nil || u != (adapters.Upgraded{From: 3, To: 3}) {
				t.Errorf("second Upgrade = %+v, %v; want %+v", u, err, adapters.Upgraded{From: 3, To: 3})
			}
			if got := dumpLines(t, w, "app"); !slices.Equal(got, before) {
				t.Fatal("the upgrade changed what the store dumps")
			}
			c := cursor(t, w, "app")
			if got := delta(t, w, "app", c); len(got) != 0 {
				t.Errorf("delta right after the upgrade: %d lines", len(got))
			}
			hand := rawDB(t, path, "mode=rw&_busy_timeout=5000")
			defer hand.Close()
			if _, err := hand.Exec(`UPDATE persist_records SET value = '{"hand":1}' WHERE key = 'k000007'`); err != nil {
				t.Fatal(err)
			}
			putLines(t, w, "app", `{"kind":"event","stream":"s","seq":5000,"type":"t","at":"2026-11-25T12:00:00Z","data":2}`)
			want := []string{
				`{"kind":"record","collection":"c","key":"k000007","version":2,"updated_at":"2026-11-25T12:00:00.000000Z","value":{"hand":1}}`,
				`{"kind":"event","stream":"s","seq":5000,"type":"t","at":"2026-11-25T12:00:00.000000Z","data":2}`,
			}
			if got := delta(t, w, "app", c); !slices.Equal(got, want) {
				t.Errorf("delta after changing an old row and writing a new one:\n%s", strings.Join(got, "\n"))
			}
		})
	}
}

func cursor(t *testing.T, a *Adapter, store string) string {
	t.Helper()
	s, err := a.Snapshot(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Cursor(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func delta(t *testing.T, a *Adapter, store, since string) []string {
	t.Helper()
	s, err := a.Snapshot(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out []string
	err = s.Scan(t.Context(), adapters.Filter{Since: since}, func(it *record.Item) error {
		out = append(out, string(record.AppendItem(nil, it)))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan since %s: %v", since, err)
	}
	return out
}

// An upgrade that fails half-way leaves the file at version 1, as it was.
func TestUpgradeIsOneTransaction(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	makeV1(t, path, 10, true)
	db := rawDB(t, path, "mode=rw")
	// Something of the same name that the upgrade cannot write to.
	if _, err := db.Exec(`CREATE VIEW persist_clock AS SELECT 1 AS id, 0 AS chg, 0 AS quiet`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	w := open(t, path, Options{})
	defer w.Close()
	if _, err := w.Upgrade(t.Context()); err == nil {
		t.Fatal("Upgrade succeeded over a view named persist_clock")
	}
	if _, err := w.Begin(t.Context(), "app"); err == nil {
		t.Fatal("Begin succeeded over a view named persist_clock")
	}
	db = rawDB(t, path, "mode=ro")
	defer db.Close()
	var v string
	var cols int
	if err := db.QueryRow(`SELECT (SELECT value FROM persist_meta WHERE key = 'schema_version'),
			(SELECT count(*) FROM pragma_table_info('persist_records') WHERE name = 'chg')`).Scan(&v, &cols); err != nil {
		t.Fatal(err)
	}
	if v != "1" || cols != 0 {
		t.Errorf("after a failed upgrade: schema_version %q, chg columns %d; want 1, 0", v, cols)
	}
}

// A copy of the file from before the cursor (a backup restored) is behind
// it: the cursor is refused rather than taken to mean "nothing changed".
func TestCursorOfRestoredCopy(t *testing.T) {
	dir := t.TempDir()
	path, copyPath := filepath.Join(dir, "app.db"), filepath.Join(dir, "copy.db")
	sample(t, path)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	a := open(t, path, Options{})
	defer a.Close()
	putLines(t, a, "app", `{"kind":"record","collection":"users","key":"u9","version":1,"updated_at":"2026-11-25T12:00:00Z","value":9}`)
	c := cursor(t, a, "app")
	old := open(t, copyPath, Options{ReadOnly: true})
	defer old.Close()
	s, err := old.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Count(t.Context(), adapters.Filter{Since: c}); !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "behind") {
		t.Errorf("Count since a later cursor on an older copy: %v, want ErrCursor (behind)", err)
	}
}

// Another program that writes chg itself gets it overwritten by the
// triggers: only Persist's own transactions set it.
func TestOtherWriterSettingChg(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	a := open(t, path, Options{})
	defer a.Close()
	c := cursor(t, a, "app")
	db := rawDB(t, path, "mode=rw&_busy_timeout=5000")
	defer db.Close()
	for _, q := range []string{
		`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value, chg)
			VALUES ('app', 'users', 'copied', 1, '2026-11-25T12:00:00.000000Z', 0, '1', 1)`,
		`UPDATE persist_records SET value = '2', chg = NULL WHERE key = 'u1'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`{"kind":"record","collection":"users","key":"copied","version":1,"updated_at":"2026-11-25T12:00:00.000000Z","value":1}`,
		`{"kind":"record","collection":"users","key":"u1","version":4,"updated_at":"2026-11-25T12:00:00.000000Z","value":2}`,
	}
	if got := delta(t, a, "app", c); !slices.Equal(got, want) {
		t.Errorf("delta:\n%s", strings.Join(got, "\n"))
	}
}

// A delta reads the chg index; full scans keep reading the primary key.
func TestDeltaQueryPlans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	db := rawDB(t, path, "mode=ro")
	defer db.Close()
	for _, f := range []adapters.Filter{{}, {Live: true}, {Collections: []string{"a"}, Streams: []string{"x"}}} {
		for _, p := range append(recordParts("app", f, 7), eventParts("app", f, 7)...) {
			q := "SELECT count(*) FROM " + p.from + " WHERE " + p.where
			if plan := explain(t, db, q, p.args); !strings.Contains(plan, "_chg") {
				t.Errorf("%s\nplan:\n%s", q, plan)
			}
		}
	}
}

// Persist's own write transactions run without the triggers, which are
// for other programs; those, and Persist's readers, run them.
func TestWritersRunNoTriggers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	a := open(t, path, Options{})
	defer a.Close()
	on := func(conn *sql.Conn) (bool, error) {
		var got bool
		err := conn.Raw(func(dc any) error {
			c, ok := dc.(*sqlite3.SQLiteConn)
			if !ok {
				return fmt.Errorf("driver connection is a %T", dc)
			}
			if handle(c) == nil {
				return errors.New("no handle")
			}
			got = triggersOn(c)
			return nil
		})
		return got, err
	}
	wtx, err := a.Begin(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := on(wtx.(*tx).conn); err != nil || got {
		t.Errorf("a write transaction: triggers on = %v, %v; want off", got, err)
	}
	wtx.Rollback()
	other := rawDB(t, path, "mode=rw")
	defer other.Close()
	for _, tc := range []struct {
		name string
		db   *sql.DB
	}{{"reader", a.r}, {"another program", other}} {
		conn, err := tc.db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got, err := on(conn); err != nil || !got {
			t.Errorf("%s: triggers on = %v, %v; want on", tc.name, got, err)
		}
		conn.Close()
	}
}

// A file with triggers of its own on Persist's tables keeps them running
// for Persist's writes, made while Persist's connections were open too,
// and deltas stay right.
func TestOthersTriggersRunForPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	a := open(t, path, Options{})
	defer a.Close()
	putLines(t, a, "app", `{"kind":"record","collection":"users","key":"u8","version":1,"updated_at":"2026-11-25T12:00:00Z","value":8}`)
	db := rawDB(t, path, "mode=rw")
	for _, q := range []string{
		`CREATE TABLE audit (key TEXT)`,
		`CREATE TRIGGER audit_put AFTER INSERT ON persist_records BEGIN INSERT INTO audit VALUES (NEW.key); END`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	c := cursor(t, a, "app")
	putLines(t, a, "app", `{"kind":"record","collection":"users","key":"u9","version":1,"updated_at":"2026-11-25T12:00:00Z","value":9}`)
	db = rawDB(t, path, "mode=ro")
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit WHERE key = 'u9'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the file's own trigger ran %d times for Persist's write (%v), want 1", n, err)
	}
	want := []string{`{"kind":"record","collection":"users","key":"u9","version":1,"updated_at":"2026-11-25T12:00:00.000000Z","value":9}`}
	if got := delta(t, a, "app", c); !slices.Equal(got, want) {
		t.Errorf("delta:\n%s", strings.Join(got, "\n"))
	}
}
