package sqlite

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/hint"
)

// A write that stopped mid-transaction in rollback-journal mode leaves a
// hot journal, which only a read-write connection can roll back: a reader
// says so, and how, and the database reads once that is done.
func TestHotJournal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.db")
	raw := midTransaction(t, path, "BEGIN IMMEDIATE")
	defer raw.Close()
	// The files as a writer that died now would leave them.
	hot := filepath.Join(dir, "hot.db")
	copyFile(t, path, hot)
	copyFile(t, path+"-journal", hot+"-journal")
	raw.Exec("ROLLBACK")

	_, _, err := openReader(hot)
	if err == nil || !strings.Contains(err.Error(), "hot.db-journal") {
		t.Fatalf("a reader of a file with a hot journal: %v", err)
	}
	hints := hint.All(err)
	if len(hints) == 0 || !strings.Contains(hints[0], "PRAGMA quick_check") {
		t.Fatalf("hints %q", hints)
	}
	// Followed: a read-write connection rolls the journal back.
	rw := rawDB(t, hot, "mode=rw")
	if _, err := rw.Exec("PRAGMA quick_check"); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	db, _, err := openReader(hot)
	if err != nil {
		t.Fatalf("after the hint was followed: %v", err)
	}
	db.Close()
}

// A journal a live writer holds its lock over is no hot journal: a reader
// that waited its busy timeout says the lock is held, and to run again,
// not to roll back what is not there to roll back.
func TestLiveWriterNoHotJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	raw := midTransaction(t, path, "BEGIN EXCLUSIVE")
	defer raw.Close()
	defer raw.Exec("ROLLBACK")
	if !hotJournal(path) {
		t.Fatal("the writer's journal is empty")
	}
	_, _, err := openReader(path)
	if err == nil || !strings.Contains(err.Error(), "another connection holds the file's write lock") {
		t.Fatalf("a reader beside a live writer: %v", err)
	}
	if h := hint.All(err); len(h) != 1 || strings.Contains(h[0], "quick_check") {
		t.Errorf("hints %q", h)
	}
}

// midTransaction makes a store at path in rollback-journal mode and
// returns a connection in the middle of a write to it (begun with begin),
// whose journal already holds pages.
func midTransaction(t *testing.T, path, begin string) *sql.DB {
	t.Helper()
	a := open(t, path, Options{})
	putLines(t, a, "s", `{"kind":"record","collection":"c","key":"a","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}`)
	a.Close()
	raw := rawDB(t, path, "mode=rw")
	raw.SetMaxOpenConns(1)
	for _, q := range []string{"PRAGMA journal_mode=DELETE", "PRAGMA cache_size=1", begin, "CREATE TABLE junk (x)",
		"INSERT INTO junk SELECT randomblob(1000) FROM (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM r WHERE i < 3000) SELECT i FROM r)"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return raw
}
