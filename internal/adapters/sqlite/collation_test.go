package sqlite

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/hint"
)

// A column that names a store, a record or an event compared by another
// collation than BINARY (a hand-made schema: a COLLATE on the column, or on
// it in the primary key) would take names that differ for one: store "a"
// would read store "A"'s rows as its own, and two stores that differ would
// sum alike. Every reader and writer refuses such a file before a row is
// read, naming the column. The hint, followed on a file Persist made (the
// table made again without COLLATE, its rows copied, persist upgrade), puts
// it right, change tracking and all; and an adapter open since sees the
// collation come back.
func TestNameColumnsCompareBytes(t *testing.T) {
	for _, col := range nameColumns {
		for _, how := range []string{"NOCASE", "RTRIM", "primary key NOCASE"} {
			if how == "primary key NOCASE" && col[0] == "persist_stores" {
				continue // its primary key is the column's own declaration
			}
			t.Run(col[0]+"."+col[1]+"/"+how, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "app.db")
				sample(t, path)
				plain := tableSQL(t, path, col[0])
				odd := collated(t, plain, col[1], how)
				remake(t, path, col[0], odd)
				a := open(t, path, Options{})
				defer a.Close()
				want := fmt.Sprintf("column %s.%s compares text by a collation other than BINARY", col[0], col[1])
				if strings.HasPrefix(how, "primary key") {
					want = fmt.Sprintf("the primary key of %s compares its column %s by collation NOCASE", col[0], col[1])
				}
				_, err := a.Snapshot(t.Context(), "app")
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Snapshot: %v, want %q", err, want)
				}
				if h := strings.Join(hint.All(err), " "); !strings.Contains(h, "make "+col[0]+" again") || !strings.Contains(h, "persist upgrade") {
					t.Fatalf("Snapshot: hints %q do not say to make %s again and upgrade", h, col[0])
				}
				if _, err := a.Begin(t.Context(), "app"); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Begin: %v, want %q", err, want)
				}
				a.Close()

				remake(t, path, col[0], plain)
				b := open(t, path, Options{})
				defer b.Close()
				if _, err := b.Upgrade(t.Context()); err != nil {
					t.Fatalf("the hint's persist upgrade: %v", err)
				}
				s, err := b.Snapshot(t.Context(), "app")
				if err != nil {
					t.Fatalf("after the hint: %v", err)
				}
				if _, err := s.Cursor(t.Context()); err != nil {
					t.Fatalf("after the hint, change tracking: %v", err)
				}
				s.Close()

				remake(t, path, col[0], odd)
				if _, err := b.Snapshot(t.Context(), "app"); err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Snapshot of an adapter open since before the collation came back: %v, want %q", err, want)
				}
			})
		}
	}
}

// A file of the first schema, which had no persist_events, opens and is
// written to: the upgrade makes the table, and the collation check passes
// over a table not there yet.
func TestFirstSchemaWithoutEvents(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil { // an empty file is an empty database
		t.Fatal(err)
	}
	execAll(t, path, `CREATE TABLE persist_stores (name TEXT PRIMARY KEY, created_at TEXT NOT NULL) WITHOUT ROWID`,
		`CREATE TABLE persist_records (store TEXT NOT NULL, collection TEXT NOT NULL, key TEXT NOT NULL,
			version INTEGER NOT NULL CHECK (version >= 1), updated_at TEXT NOT NULL, deleted INTEGER NOT NULL, value TEXT,
			PRIMARY KEY (store, collection, key)) WITHOUT ROWID`,
		`INSERT INTO persist_stores VALUES ('a', '2026-11-25T12:00:00.000000Z')`)
	a := open(t, path, Options{})
	defer a.Close()
	tx, err := a.Begin(t.Context(), "a")
	if err != nil {
		t.Fatalf("Begin on a file without persist_events: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	s, err := a.Snapshot(t.Context(), "a")
	if err != nil {
		t.Fatalf("Snapshot after the upgrade: %v", err)
	}
	s.Close()
}

// tableSQL is table's CREATE TABLE as the file keeps it.
func tableSQL(t *testing.T, path, table string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path, "mode=ro"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var q string
	if err := db.QueryRow(`SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?`, table).Scan(&q); err != nil {
		t.Fatal(err)
	}
	return q
}

// collated is q with col compared by another collation: on the column
// ("NOCASE", "RTRIM") or in the primary key only ("primary key NOCASE").
func collated(t *testing.T, q, col, how string) string {
	t.Helper()
	var odd string
	if coll, ok := strings.CutPrefix(how, "primary key "); ok {
		pk := regexp.MustCompile(`PRIMARY KEY \(([^)]*)\)`)
		odd = pk.ReplaceAllStringFunc(q, func(m string) string {
			return regexp.MustCompile(`\b`+col+`\b`).ReplaceAllString(m, col+" COLLATE "+coll)
		})
	} else {
		odd = regexp.MustCompile(`(\n\s*`+col+`\s+TEXT (NOT NULL|PRIMARY KEY))`).ReplaceAllString(q, "$1 COLLATE "+how)
	}
	if odd == q {
		t.Fatalf("no column %s to collate in %s", col, q)
	}
	return odd
}

// remake makes table again as q says, its rows copied, as a hand would:
// its triggers and indexes go with the old table.
func remake(t *testing.T, path, table, q string) {
	t.Helper()
	execAll(t, path, `ALTER TABLE `+table+` RENAME TO old`, q, `INSERT INTO `+table+` SELECT * FROM old`, `DROP TABLE old`)
}
