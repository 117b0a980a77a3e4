package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/adapters/adapterstest"
	"github.com/cuitty/persist/internal/hint"
	"github.com/cuitty/persist/internal/record"
)

func open(t testing.TB, path string, opt Options) *Adapter {
	t.Helper()
	a, err := Open(path, opt)
	if err != nil {
		t.Fatalf("Open(%q, %+v): %v", path, opt, err)
	}
	return a
}

func TestConformance(t *testing.T) {
	adapterstest.Run(t, func(t *testing.T) adapters.Adapter {
		return open(t, filepath.Join(t.TempDir(), "app.db"), Options{})
	}, adapterstest.WithPair(func(t *testing.T) (adapters.Adapter, adapters.Adapter) {
		// The second through a link to the file's folder.
		dir := t.TempDir()
		link := filepath.Join(t.TempDir(), "alias")
		if err := os.Symlink(dir, link); err != nil {
			t.Fatal(err)
		}
		return open(t, filepath.Join(dir, "app.db"), Options{}), open(t, filepath.Join(link, "app.db"), Options{})
	}), adapterstest.WithRawSQL(func(t *testing.T, a adapters.Adapter) *sql.DB {
		// As another program: its own connections, default settings.
		return rawDB(t, a.(*Adapter).path, "mode=rw&_busy_timeout=5000")
	}))
}

// The suite against a read-only adapter for reading and a separate
// read-write one for writing is covered by Pair; this checks what only
// SQLite can show: reading an empty database leaves it without tables.
func TestReadingCreatesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	a := open(t, path, Options{})
	if _, err := a.Stores(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Snapshot(t.Context(), "app"); !errors.Is(err, adapters.ErrNoStore) {
		t.Fatalf("Snapshot: %v, want ErrNoStore", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := tables(t, path); len(got) != 0 {
		t.Errorf("tables after reading = %q, want none", got)
	}
}

func tables(t *testing.T, path string) []string {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path, "mode=ro"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}

// sample writes a small store and returns its dump lines.
func sample(t testing.TB, path string) []string {
	t.Helper()
	a := open(t, path, Options{})
	defer a.Close()
	items := []*record.Item{
		{Kind: record.KindRecord, Collection: "users", Key: "u1", Version: 3, UpdatedAt: "2026-11-25T12:00:00.000000Z", Value: []byte(`{"name":"Ada"}`)},
		{Kind: record.KindRecord, Collection: "users", Key: "u2", Version: 2, UpdatedAt: "2026-11-25T12:00:01.000000Z", Deleted: true},
		{Kind: record.KindEvent, Stream: "orders", Seq: 1, Type: "placed", At: "2026-11-25T12:00:02.000000Z", Data: []byte(`{"total":12.5}`)},
	}
	ctx := context.Background()
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Put(ctx, items, adapters.Guarded); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, it := range items {
		want = append(want, string(record.AppendItem(nil, it)))
	}
	return want
}

func dumpLines(t testing.TB, a *Adapter, store string) []string {
	t.Helper()
	s, err := a.Snapshot(context.Background(), store)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	defer s.Close()
	var out []string
	err = s.Scan(context.Background(), adapters.Filter{}, func(it *record.Item) error {
		out = append(out, string(record.AppendItem(nil, it)))
		return nil
	})
	if err != nil {
		t.Fatalf("Scan: %v", err)
	}
	return out
}

// A chmod 0444 file dumps read-only, its bytes unchanged, and Begin on a
// read-only adapter is refused.
func TestReadOnlyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	want := sample(t, path)
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := open(t, path, Options{ReadOnly: true})
	if got := dumpLines(t, a, "app"); !slices.Equal(got, want) {
		t.Errorf("dump = %q, want %q", got, want)
	}
	if names, err := a.Stores(t.Context()); err != nil || !slices.Equal(names, []string{"app"}) {
		t.Errorf("Stores = %q, %v", names, err)
	}
	if _, err := a.Begin(t.Context(), "app"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Begin on a read-only adapter: %v, want ErrReadOnly", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("a read-only dump changed the database file")
	}
}

func TestReadOnlyMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := Open(path, Options{ReadOnly: true})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a missing file read-only: %v, want ErrNotExist", err)
	}
	if _, serr := os.Stat(path); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("a read-only open created %s", path)
	}
}

func TestNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	if a, err := Open(path, Options{ReadOnly: true}); err == nil {
		a.Close()
		t.Errorf("Open of a text file read-only succeeded")
	}
}

// Paths may hold the characters SQLite URIs give meaning to.
func TestPathEscaping(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?x=1#frag%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "my db?mode=memory#1%.db")
	want := sample(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at its path: %v", err)
	}
	a := open(t, path, Options{ReadOnly: true})
	defer a.Close()
	if got := dumpLines(t, a, "app"); !slices.Equal(got, want) {
		t.Errorf("dump = %q, want %q", got, want)
	}
	// A relative path works too.
	t.Chdir(dir)
	b := open(t, "my db?mode=memory#1%.db", Options{ReadOnly: true})
	defer b.Close()
	if got := dumpLines(t, b, "app"); !slices.Equal(got, want) {
		t.Errorf("dump by relative path = %q, want %q", got, want)
	}
}

// Values are stored as JSON text, a live null as the text null and a
// tombstone's value as SQL NULL; times as canonical text.
func TestStorage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	a := open(t, path, Options{})
	ctx := t.Context()
	tx, err := a.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	err = tx.Put(ctx, []*record.Item{
		{Kind: record.KindRecord, Collection: "c", Key: "obj", Version: 1, UpdatedAt: "2026-11-25T12:00:00.123456Z", Value: []byte(`{"a":1}`)},
		{Kind: record.KindRecord, Collection: "c", Key: "null", Version: 1, UpdatedAt: "2026-11-25T12:00:00.123456Z", Value: []byte(`null`)},
		{Kind: record.KindRecord, Collection: "c", Key: "nil", Version: 1, UpdatedAt: "2026-11-25T12:00:00.123456Z"},
		{Kind: record.KindRecord, Collection: "c", Key: "tomb", Version: 2, UpdatedAt: "2026-11-25T12:00:00.123456Z", Deleted: true},
		{Kind: record.KindEvent, Stream: "s", Seq: 1, Type: "t", At: "2026-11-25T12:00:00.000001Z"},
	}, adapters.Guarded)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Close()
	db, err := sql.Open("sqlite3", fileURI(path, "mode=ro"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT key || ' ' || typeof(value) || ' ' || coalesce(value, '-') || ' ' || deleted || ' ' || updated_at
		FROM persist_records ORDER BY key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	want := []string{
		"nil text null 0 2026-11-25T12:00:00.123456Z",
		"null text null 0 2026-11-25T12:00:00.123456Z",
		`obj text {"a":1} 0 2026-11-25T12:00:00.123456Z`,
		"tomb null - 1 2026-11-25T12:00:00.123456Z",
	}
	if !slices.Equal(got, want) {
		t.Errorf("stored rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var data, typ string
	if err := db.QueryRow(`SELECT data, typeof(data) FROM persist_events`).Scan(&data, &typ); err != nil || data != "null" || typ != "text" {
		t.Errorf("event data = %q (%s), %v; want text null", data, typ, err)
	}
	var v string
	if err := db.QueryRow(`SELECT value FROM persist_meta WHERE key = 'schema_version'`).Scan(&v); err != nil || v != "3" {
		t.Errorf("schema_version = %q, %v", v, err)
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
}

// A schema from a later release is refused rather than misread.
func TestSchemaVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	db, err := sql.Open("sqlite3", fileURI(path, "mode=rw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE persist_meta SET value = '4' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	a := open(t, path, Options{})
	defer a.Close()
	if _, err := a.Stores(t.Context()); !errors.Is(err, ErrSchemaVersion) {
		t.Errorf("Stores: %v, want ErrSchemaVersion", err)
	}
	if _, err := a.Snapshot(t.Context(), "app"); !errors.Is(err, ErrSchemaVersion) {
		t.Errorf("Snapshot: %v, want ErrSchemaVersion", err)
	}
	if _, err := a.Begin(t.Context(), "app"); !errors.Is(err, ErrSchemaVersion) {
		t.Errorf("Begin: %v, want ErrSchemaVersion", err)
	}
}

// A second writer waits for the first; past the busy timeout it gets an
// error that Retryable accepts, and a retry then succeeds.
func TestBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	a := open(t, path, Options{})
	defer a.Close()
	b := open(t, path, Options{})
	defer b.Close()
	ctx := t.Context()

	hold := func(d time.Duration) <-chan error {
		tx, err := a.Begin(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			time.Sleep(d)
			done <- tx.Commit()
		}()
		return done
	}

	// Held briefly: the second writer waits and goes ahead.
	done := hold(300 * time.Millisecond)
	start := time.Now()
	tx, err := b.Begin(ctx, "app")
	if err != nil {
		t.Fatalf("second writer: %v", err)
	}
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("second writer began after %v while the first held the lock", waited)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	// Held past the busy timeout: a retryable error.
	done = hold(busyTimeoutMS*time.Millisecond + time.Second)
	_, err = b.Begin(ctx, "app")
	if err == nil || !b.Retryable(err) {
		t.Errorf("second writer past the busy timeout: %v, want a retryable error", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	tx, err = b.Begin(ctx, "app")
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	tx.Rollback()

	if b.Retryable(errors.New("database is locked")) || b.Retryable(adapters.ErrNoStore) {
		t.Errorf("Retryable accepts errors that are not SQLite's busy or locked")
	}
}

// The dump queries read the primary key in order; SQLite never sorts.
func TestQueryPlans(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	sample(t, path)
	db, err := sql.Open("sqlite3", fileURI(path, "mode=ro"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	filters := []adapters.Filter{
		{}, {Live: true}, {Collections: []string{"b", "a"}, Streams: []string{"y", "x"}},
		{Collections: []string{"a"}, Streams: []string{"x"}, Live: true},
	}
	var queries []part
	for _, f := range filters {
		for _, p := range recordParts("app", f, -1) {
			queries = append(queries, part{where: selectRecords + p.from + " WHERE " + p.where + orderRecords, args: p.args})
		}
		for _, p := range eventParts("app", f, -1) {
			queries = append(queries, part{where: selectEvents + p.from + " WHERE " + p.where + orderEvents, args: p.args})
		}
	}
	for _, q := range queries {
		plan := explain(t, db, q.where, q.args)
		if strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "PRIMARY KEY") {
			t.Errorf("%s\nplan:\n%s", q.where, plan)
		}
	}
}

func explain(t *testing.T, db *sql.DB, q string, args []any) string {
	t.Helper()
	rows, err := db.Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

func rawDB(t testing.TB, path, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path, params))
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// putLines parses stream lines, commits them to store through a, and
// returns their canonical lines.
func putLines(t testing.TB, a *Adapter, store string, in ...string) []string {
	t.Helper()
	items := putItems(t, in...)
	var out []string
	for _, it := range items {
		out = append(out, string(record.AppendItem(nil, it)))
	}
	ctx := context.Background()
	tx, err := a.Begin(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.Put(ctx, items, adapters.Guarded); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return out
}

// A time stored in another spelling (a file edited by hand) comes out
// canonical; values come out as stored (see canon).
func TestScanCanonicalTimes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "edited.db")
	a, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	tx, err := a.Begin(ctx, "s")
	if err != nil {
		t.Fatal(err)
	}
	it := &record.Item{Kind: record.KindRecord, Collection: "c", Key: "k", Version: 1, UpdatedAt: "2026-01-01T00:00:00.000000Z", Value: []byte(`{"a":1}`)}
	if err := tx.Put(ctx, []*record.Item{it}, adapters.Overwrite); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	scanOne := func() (string, error) {
		snap, err := a.Snapshot(ctx, "s")
		if err != nil {
			return "", err
		}
		defer snap.Close()
		var line string
		err = snap.Scan(ctx, adapters.Filter{}, func(it *record.Item) error {
			line = string(record.AppendItem(nil, it))
			return nil
		})
		return line, err
	}
	if _, err := db.Exec(`UPDATE persist_records SET updated_at = '2026-01-01T01:00:00+01:00'`); err != nil {
		t.Fatal(err)
	}
	line, err := scanOne()
	// The edit left the version as it was: the triggers gave it the next.
	want := `{"kind":"record","collection":"c","key":"k","version":2,"updated_at":"2026-01-01T00:00:00.000000Z","value":{"a":1}}`
	if err != nil || line != want {
		t.Fatalf("scan = %s, %v\nwant %s", line, err, want)
	}
	if _, err := db.Exec(`UPDATE persist_records SET updated_at = 'yesterday'`); err != nil {
		t.Fatal(err)
	}
	_, err = scanOne()
	if err == nil || !strings.Contains(err.Error(), `record "c"/"k": stored time "yesterday"`) {
		t.Fatalf("scan of a bad time: %v", err)
	}
	// The hint's query finds the row, and only the rows Persist did not write.
	hints := hint.All(err)
	_, query, ok := strings.Cut(strings.Join(hints, ""), "find them: ")
	if len(hints) != 1 || !ok {
		t.Fatalf("hints of a bad time: %q", hints)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM (` + query + `) WHERE key = 'k'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the hint's query %s: %d rows, %v", query, n, err)
	}
	if _, err := db.Exec(`UPDATE persist_records SET updated_at = '2026-01-01T00:00:00.000000Z'`); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM (` + query + `)`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("the hint's query %s after the fix: %d rows, %v", query, n, err)
	}
}

// A scratch file is written with a rollback journal kept on disk (a journal
// in memory grows with every page a batch changes that was there before,
// most of the file for a stream in no particular order) and no fsync, and
// is left in WAL mode, with its journal gone, once closed.
func TestScratchFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "persist-copy-1.tmp")
	a := open(t, path, Options{Scratch: true})
	var mode string
	var sync int
	if err := a.w.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "truncate" {
		t.Errorf("a scratch file's journal mode = %q (%v), want truncate", mode, err)
	}
	if err := a.w.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 0 {
		t.Errorf("a scratch file's synchronous = %d (%v), want 0 (off)", sync, err)
	}
	tr, err := a.Begin(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Put(t.Context(), putItems(t, `{"kind":"record","collection":"c","key":"k","version":1,"updated_at":"2026-01-01T00:00:00.000000Z","value":1}`), adapters.Fresh); err != nil {
		t.Fatal(err)
	}
	if err := tr.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range files(path)[1:] {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("closed, a scratch file left %s (%v)", filepath.Base(f), err)
		}
	}
	db := rawDB(t, path, "mode=ro")
	defer db.Close()
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("closed, a scratch file's journal mode = %q (%v), want wal", mode, err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM persist_records").Scan(&n); err != nil || n != 1 {
		t.Errorf("closed, a scratch file holds %d records (%v), want 1", n, err)
	}
}

// createTogether has n writers make a store each in the database at path,
// at once, and returns what each failed with.
func createTogether(t *testing.T, path string, n int) []error {
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range errs {
		wg.Go(func() {
			a, err := Open(path, Options{})
			if err != nil {
				errs[i] = err
				return
			}
			defer a.Close()
			tx, err := a.Begin(t.Context(), fmt.Sprintf("s%d", i))
			if err != nil {
				errs[i] = err
				return
			}
			errs[i] = tx.Commit()
		})
	}
	wg.Wait()
	return errs
}

// Several writers making one database at once, as persist-tee's targets in
// one new file do, or two loads started together: the switch to WAL needs
// the file to itself, and SQLite refuses it at once, with no busy wait,
// while another connection reads the file. Each must go ahead.
func TestConcurrentCreate(t *testing.T) {
	for round := range 40 {
		path := filepath.Join(t.TempDir(), "app.db")
		if round%2 == 1 { // an empty file, as touch makes it
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for i, err := range createTogether(t, path, 4) {
			if err != nil {
				t.Fatalf("round %d, writer %d: %v", round, i, err)
			}
		}
		a := open(t, path, Options{ReadOnly: true})
		var mode string
		if err := a.r.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("round %d: journal mode %q, %v; want wal", round, mode, err)
		}
		a.Close()
	}
}

// A writer closing while a reader of the file holds a snapshot past the
// busy timeout leaves what the reader holds back in the log, synced, and
// what it committed stays committed and readable. With no reader, the log
// is emptied into the file, and there is nothing to sync.
func TestCloseWhileRead(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "app.db")
	// The writer reaches the file through a link; SQLite keeps the log
	// beside the file.
	link := filepath.Join(t.TempDir(), "link.db")
	if err := os.Symlink(path, link); err != nil {
		t.Fatal(err)
	}
	var synced []string
	defer func(f func(string) error) { syncLog = f }(syncLog)
	syncLog = func(wal string) error {
		synced = append(synced, wal)
		_, err := os.Stat(wal)
		return err
	}
	w := open(t, link, Options{})
	putLines(t, w, "app", `{"kind":"record","collection":"c","key":"a","version":1,"updated_at":"2026-01-01T00:00:00Z","value":1}`)
	r := open(t, path, Options{ReadOnly: true})
	defer r.Close()
	snap, err := r.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if _, _, err := snap.Count(ctx, adapters.Filter{}); err != nil {
		t.Fatal(err)
	}
	want := putLines(t, w, "app", `{"kind":"record","collection":"c","key":"b","version":1,"updated_at":"2026-01-01T00:00:00Z","value":2}`)
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if real, _ := filepath.EvalSymlinks(path); !slices.Equal(synced, []string{real + "-wal"}) {
		t.Errorf("logs synced at a close a reader held back: %q, want %s-wal", synced, real)
	}
	snap.Close()
	synced = nil
	w = open(t, path, Options{})
	putLines(t, w, "app", `{"kind":"record","collection":"c","key":"c","version":1,"updated_at":"2026-01-01T00:00:00Z","value":3}`)
	if err := w.Close(); err != nil || len(synced) != 0 {
		t.Errorf("Close with no reader: %v, synced %q; want the log emptied", err, synced)
	}
	again := open(t, path, Options{ReadOnly: true})
	defer again.Close()
	got := dumpLines(t, again, "app")
	if len(got) != 3 || got[1] != want[0] {
		t.Errorf("after the close: %q, want key b's record too", got)
	}
}
