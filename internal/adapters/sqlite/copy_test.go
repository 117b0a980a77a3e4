package sqlite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/record"
)

// readOnlySnapshot opens the file at path read-only and takes a snapshot
// of store; both are closed when the test ends.
func readOnlySnapshot(t *testing.T, path, store string) (*Adapter, adapters.Snapshot) {
	t.Helper()
	a := open(t, path, Options{ReadOnly: true})
	t.Cleanup(func() { a.Close() })
	s, err := a.Snapshot(t.Context(), store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return a, s
}

// copyOf copies store of the file at path to target through a snapshot
// taken before after runs, and returns Copy's error.
func copyOf(t *testing.T, path, store, target string, after func()) error {
	t.Helper()
	a, s := readOnlySnapshot(t, path, store)
	if after != nil {
		after()
	}
	return a.Copy(t.Context(), s, target)
}

// A copy holds what the snapshot saw, every line as a dump gives it, and
// is a database of its own: the original's cursors are not the copy's,
// the copy gives cursors of its own, and it holds none of the original's
// history, removals or sources.
func TestCopyIsTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	path, target := filepath.Join(dir, "app.db"), filepath.Join(dir, "copy.db")
	sample(t, path)
	w := open(t, path, Options{})
	defer w.Close()
	removeOne(t, w, "app")
	// Written after the snapshot began: the copy would not be the
	// snapshot, and is not kept.
	late := func() {
		putLines(t, w, "app", `{"kind":"record","collection":"users","key":"late","version":1,"updated_at":"2026-11-25T12:00:00Z","value":1}`)
	}
	if err := copyOf(t, path, "app", target, late); !errors.Is(err, adapters.ErrNoCopy) {
		t.Fatalf("Copy after a write the snapshot does not see: %v, want ErrNoCopy", err)
	}
	if left, _ := filepath.Glob(target + "*"); len(left) != 0 {
		t.Fatalf("left behind: %q", left)
	}
	want := dumpLines(t, w, "app")
	before := cursor(t, w, "app")
	if err := copyOf(t, path, "app", target, nil); err != nil {
		t.Fatal(err)
	}
	c := open(t, target, Options{})
	defer c.Close()
	if got := dumpLines(t, c, "app"); !slices.Equal(got, want) {
		t.Fatalf("the copy dumps\n%q\nwant the snapshot's\n%q", got, want)
	}
	s, err := c.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, _, err := s.Count(t.Context(), adapters.Filter{Since: before}); !errors.Is(err, adapters.ErrCursor) {
		t.Errorf("the original's cursor on the copy: %v, want ErrCursor", err)
	}
	own := cursor(t, c, "app")
	if got := delta(t, c, "app", own); len(got) != 0 {
		t.Errorf("delta from the copy's own cursor: %q, want nothing", got)
	}
	if copyID, origID := metaID(t, target), metaID(t, path); copyID == origID {
		t.Errorf("the copy's identity is the original's (%s)", origID)
	}
	db := rawDB(t, target, "mode=ro")
	defer db.Close()
	var sources, removals, history int
	var mode string
	err = db.QueryRow(`SELECT (SELECT count(*) FROM persist_sources), (SELECT count(*) FROM persist_removals),
		(SELECT count(*) FROM persist_history), (SELECT journal_mode FROM pragma_journal_mode)`).Scan(&sources, &removals, &history, &mode)
	if err != nil {
		t.Fatal(err)
	}
	if sources != 0 || removals != 0 || history != 1 || mode != "wal" {
		t.Errorf("the copy holds %d sources, %d removals, %d history entries, journal %s; want 0, 0, 1, wal", sources, removals, history, mode)
	}
}

func metaID(t *testing.T, path string) string {
	t.Helper()
	db := rawDB(t, path, "mode=ro")
	defer db.Close()
	var id string
	if err := db.QueryRow(`SELECT value FROM persist_meta WHERE key = 'id'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// removeOne deletes a record outright, so that the original has a
// removal logged.
func removeOne(t *testing.T, a *Adapter, store string) {
	t.Helper()
	ctx := context.Background()
	tx, err := a.Begin(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	key := &record.Item{Kind: record.KindRecord, Collection: "users", Key: "u2"}
	if err := tx.Remove(ctx, []*record.Item{key}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A database holding more than the store is not copied (the rest would
// come along), nor one whose schema is not this release's, nor onto a file
// that exists; nothing is written then.
func TestCopyRefuses(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup string
		want  error
	}{
		{"another store", "", adapters.ErrNoCopy},
		{"an application's table", `CREATE TABLE orders (id INTEGER PRIMARY KEY)`, adapters.ErrNoCopy},
		{"an index of its own", `CREATE INDEX by_value ON persist_records (value)`, adapters.ErrNoCopy},
		{"a trigger of its own", `CREATE TRIGGER audit AFTER INSERT ON persist_records BEGIN SELECT 1; END`, adapters.ErrNoCopy},
		{"a view", `CREATE VIEW live AS SELECT * FROM persist_records WHERE NOT deleted`, adapters.ErrNoCopy},
		{"an older schema", `UPDATE persist_meta SET value = '2' WHERE key = 'schema_version'`, adapters.ErrNoCopy},
		{"a key of its own in persist_meta", `INSERT INTO persist_meta VALUES ('owner', 'x')`, adapters.ErrNoCopy},
		{"a trigger in place of Persist's", `DROP TRIGGER persist_records_upd;
			CREATE TRIGGER persist_records_upd AFTER UPDATE ON persist_records WHEN 0 BEGIN SELECT 1; END`, adapters.ErrNoCopy},
		{"an index in place of Persist's", `DROP INDEX persist_events_chg; CREATE INDEX persist_events_chg ON persist_events (chg)`, adapters.ErrNoCopy},
		{"a count index in place of Persist's", `DROP INDEX persist_records_unstamped;
			CREATE INDEX persist_records_unstamped ON persist_records (store, chg) WHERE chg IS NULL AND key < 'm'`, adapters.ErrNoCopy},
		// Made before the count index, which a write of this release
		// then adds under the same name.
		{"a trigger under a count index's name", `DROP INDEX persist_records_unstamped;
			CREATE TRIGGER persist_records_unstamped AFTER INSERT ON persist_records BEGIN SELECT 1; END`, adapters.ErrNoCopy},
		{"a column added", `ALTER TABLE persist_records ADD COLUMN note TEXT`, adapters.ErrNoCopy},
		{"an application id", `PRAGMA application_id = 1234`, adapters.ErrNoCopy},
		{"a user version", `PRAGMA user_version = 7`, adapters.ErrNoCopy},
		{"a target that exists", "", fs.ErrExist},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, target := filepath.Join(dir, "app.db"), filepath.Join(dir, "copy.db")
			sample(t, path)
			switch tt.name {
			case "another store":
				a := open(t, path, Options{})
				putLines(t, a, "other", `{"kind":"record","collection":"c","key":"k","version":1,"updated_at":"2026-11-25T12:00:00Z","value":1}`)
				a.Close()
			case "a target that exists":
				if err := os.WriteFile(target, []byte("mine"), 0o644); err != nil {
					t.Fatal(err)
				}
			default:
				db := rawDB(t, path, "mode=rw")
				if _, err := db.Exec(tt.setup); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			if tt.name == "a trigger under a count index's name" {
				a := open(t, path, Options{})
				putLines(t, a, "app", `{"kind":"record","collection":"c","key":"k","version":1,"updated_at":"2026-11-25T12:00:00Z","value":1}`)
				a.Close()
			}
			err := copyOf(t, path, "app", target, nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Copy: %v, want %v", err, tt.want)
			}
			if tt.want == fs.ErrExist {
				if b, _ := os.ReadFile(target); string(b) != "mine" {
					t.Errorf("the target now holds %q", b)
				}
				return
			}
			if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Copy left %s behind (%v)", target, err)
			}
		})
	}
}

// A copy stopped by its context leaves no file behind.
func TestCopyCancelled(t *testing.T) {
	dir := t.TempDir()
	path, target := filepath.Join(dir, "app.db"), filepath.Join(dir, "copy.db")
	sample(t, path)
	a := open(t, path, Options{ReadOnly: true})
	defer a.Close()
	s, err := a.Snapshot(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := a.Copy(ctx, s, target); !errors.Is(err, context.Canceled) {
		t.Fatalf("Copy with its context ended: %v, want context.Canceled", err)
	}
	left, _ := filepath.Glob(target + "*")
	if len(left) != 0 {
		t.Errorf("left behind: %q", left)
	}
}

// What the store no longer holds does not come along: the bytes of a
// value removed or overwritten, which SQLite leaves in free pages and in
// pages' unused space, are not in the copy.
func TestCopyLeavesDeletedBytesBehind(t *testing.T) {
	dir := t.TempDir()
	path, target := filepath.Join(dir, "app.db"), filepath.Join(dir, "copy.db")
	sample(t, path)
	w := open(t, path, Options{})
	var lines []string
	for i := range 300 {
		lines = append(lines, fmt.Sprintf(`{"kind":"record","collection":"users","key":"s%03d","version":1,"updated_at":"2026-11-25T12:00:00Z","value":{"ssn":"SECRET-%03d"}}`, i, i))
	}
	putLines(t, w, "app", lines...)
	db := rawDB(t, path, "mode=rw&_busy_timeout=5000")
	if _, err := db.Exec(`DELETE FROM persist_records WHERE key LIKE 's%'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	w.Close()
	if b, _ := os.ReadFile(path); !bytes.Contains(b, []byte("SECRET-")) {
		t.Fatal("the source holds no deleted bytes: the test proves nothing")
	}
	if err := copyOf(t, path, "app", target, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); bytes.Contains(b, []byte("SECRET-")) {
		t.Error("the copy holds bytes of deleted records")
	}
}
