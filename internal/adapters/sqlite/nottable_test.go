package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
)

// Something else than Persist's table under one of its names (the table
// renamed away) is refused by every reader and writer, by name, before a
// row is read: a view's rows would pass for the store's. The hint, followed,
// puts the store back.
func TestNotPersistTable(t *testing.T) {
	for _, c := range []struct {
		name, table, odd, what, undo string
	}{
		{"view of records", "persist_records", `CREATE VIEW persist_records AS SELECT * FROM moved WHERE key <> 'u1'`, "a view", "DROP VIEW persist_records"},
		{"view of events", "persist_events", `CREATE VIEW Persist_Events AS SELECT * FROM moved`, "a view", "DROP VIEW Persist_Events"},
		{"view of stores", "persist_stores", `CREATE VIEW persist_stores AS SELECT * FROM moved`, "a view", "DROP VIEW persist_stores"},
		{"virtual table", "persist_records", `CREATE VIRTUAL TABLE persist_records USING rtree(id, a, b)`, "a virtual table", "DROP TABLE persist_records"},
		{"index", "persist_history", `CREATE INDEX persist_history ON moved (chg)`, "an index", "DROP INDEX persist_history"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.db")
			sample(t, path)
			execAll(t, path, `ALTER TABLE `+c.table+` RENAME TO moved`, c.odd)
			a := open(t, path, Options{})
			defer a.Close()
			want := c.what + ", not a table"
			check := func(op string, err error) {
				t.Helper()
				if !errors.Is(err, adapters.ErrNotPersistTable) || !strings.Contains(err.Error(), want) {
					t.Fatalf("%s: %v, want ErrNotPersistTable saying %q", op, err, want)
				}
				if h := hint.All(err); !strings.Contains(strings.Join(h, " "), c.undo) {
					t.Fatalf("%s: hints %q, want one naming %q", op, h, c.undo)
				}
			}
			_, err := a.Stores(t.Context())
			check("Stores", err)
			_, err = a.Snapshot(t.Context(), "app")
			check("Snapshot", err)
			_, err = a.Begin(t.Context(), "app")
			check("Begin", err)
			_, err = a.Upgrade(t.Context())
			check("Upgrade", err)
			a.Close()

			execAll(t, path, c.undo, `ALTER TABLE moved RENAME TO `+c.table)
			b := open(t, path, Options{})
			defer b.Close()
			s, err := b.Snapshot(t.Context(), "app")
			if err != nil {
				t.Fatalf("after the hint: %v", err)
			}
			s.Close()
		})
	}
}

func execAll(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path, "mode=rw"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// Another program's tables under Persist's first names (its own columns)
// are refused by a reader and a writer, and the file's schema is left as
// it was: a write used to add Persist's column and triggers to them, and
// commit that before its first statement failed.
func TestOthersTablesLeftAlone(t *testing.T) {
	for name, ddl := range map[string]string{
		"with persist_stores": `CREATE TABLE persist_stores (name TEXT PRIMARY KEY, created_at TEXT);
			INSERT INTO persist_stores VALUES ('app', 'x');
			CREATE TABLE persist_records (id INTEGER PRIMARY KEY, store TEXT, collection TEXT, key TEXT, data BLOB)`,
		"without it": `CREATE TABLE persist_events (id INTEGER PRIMARY KEY, store TEXT, stream TEXT, seq INTEGER, body TEXT)`,
		"every column, and one more it needs": `CREATE TABLE persist_records (store TEXT NOT NULL, collection TEXT NOT NULL,
			key TEXT NOT NULL, version INTEGER NOT NULL, updated_at TEXT NOT NULL, deleted INTEGER NOT NULL, value TEXT,
			tenant INTEGER NOT NULL, PRIMARY KEY (store, collection, key)) WITHOUT ROWID`,
		"every column, keyed otherwise": `CREATE TABLE persist_records (id INTEGER PRIMARY KEY, store TEXT, collection TEXT,
			key TEXT, version INTEGER, updated_at TEXT, deleted INTEGER, value TEXT)`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "other.db")
			db := rawDB(t, path, "mode=rwc")
			if _, err := db.Exec(ddl); err != nil {
				t.Fatal(err)
			}
			db.Close()
			schema := func() string {
				db := rawDB(t, path, "mode=ro")
				defer db.Close()
				var s string
				if err := db.QueryRow(`SELECT group_concat(sql, ';') FROM sqlite_master`).Scan(&s); err != nil {
					t.Fatal(err)
				}
				return s
			}
			before := schema()
			a := open(t, path, Options{})
			_, err := a.Begin(t.Context(), "app")
			a.Close()
			if !errors.Is(err, adapters.ErrNotPersistTable) || !strings.Contains(err.Error(), "another program's") {
				t.Errorf("Begin: %v, want ErrNotPersistTable", err)
			}
			if name == "with persist_stores" {
				r := open(t, path, Options{ReadOnly: true})
				_, err := r.Snapshot(t.Context(), "app")
				r.Close()
				if !errors.Is(err, adapters.ErrNotPersistTable) {
					t.Errorf("Snapshot: %v, want ErrNotPersistTable", err)
				}
			}
			if after := schema(); after != before {
				t.Errorf("the schema was changed:\n%s\nwas\n%s", after, before)
			}
		})
	}
}
