package postgres

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/pgtest"
	"github.com/cuitty/persist/internal/record"
)

// v1DDL is the schema as the release before change tracking made it
// (schema version 1), word for word.
var v1DDL = []string{
	`CREATE TABLE IF NOT EXISTS persist_meta (
		key   text COLLATE "C" PRIMARY KEY,
		value text NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS persist_stores (
		name       text COLLATE "C" PRIMARY KEY,
		created_at timestamptz NOT NULL DEFAULT now())`,
	`CREATE TABLE IF NOT EXISTS persist_records (
		store      text COLLATE "C",
		collection text COLLATE "C",
		key        text COLLATE "C",
		version    bigint NOT NULL CHECK (version >= 1),
		updated_at timestamptz NOT NULL,
		deleted    boolean NOT NULL,
		value      jsonb,
		PRIMARY KEY (store, collection, key))`,
	`CREATE TABLE IF NOT EXISTS persist_events (
		store  text COLLATE "C",
		stream text COLLATE "C",
		seq    bigint CHECK (seq >= 1),
		type   text NOT NULL,
		at     timestamptz NOT NULL,
		data   jsonb,
		PRIMARY KEY (store, stream, seq))`,
	`INSERT INTO persist_meta (key, value) VALUES ('schema_version', '1')
		ON CONFLICT (key) DO NOTHING`,
}

// makeV1 makes a version 1 schema in the database at dsn holding n
// records and n/10 events in store "app". Without meta, there is no
// persist_meta, as another implementation of the contract would make it.
func makeV1(t *testing.T, dsn string, n int, meta bool) *sql.DB {
	t.Helper()
	db := sqlDB(t, dsn)
	for _, q := range v1DDL {
		if !meta && strings.Contains(q, "persist_meta") {
			continue
		}
		mustExec(t, db, q)
	}
	mustExec(t, db, `INSERT INTO persist_stores (name) VALUES ('app')`)
	mustExec(t, db, fmt.Sprintf(`INSERT INTO persist_records
		SELECT 'app', 'c', 'k' || lpad(i::text, 6, '0'), 1, '2026-11-25T12:00:00Z', false,
			jsonb_build_object('i', i, 'pad', repeat('x', 200))
		FROM generate_series(0, %d) i`, n-1))
	mustExec(t, db, fmt.Sprintf(`INSERT INTO persist_events
		SELECT 'app', 's', i, 't', '2026-11-25T12:00:00Z', '1' FROM generate_series(1, %d) i`, n/10))
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func cursorOf(t *testing.T, a *Adapter, store string) string {
	t.Helper()
	c, err := cursorErr(t, a, store)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// cursorErr is a cursor of store in a, or why the snapshot gives none.
func cursorErr(t *testing.T, a *Adapter, store string) (string, error) {
	t.Helper()
	s, err := a.Snapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	return s.Cursor(ctx)
}

func sinceErr(t *testing.T, a *Adapter, store, since string) error {
	t.Helper()
	s, err := a.Snapshot(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, _, err = s.Count(ctx, adapters.Filter{Since: since})
	return err
}

// A version 1 schema dumps in full read-only but has no cursor; the first
// writer of this release upgrades it in place without rewriting a table
// (its file stays the same), and the rows from before are older than every
// cursor until someone changes them.
func TestUpgradeFromVersion1(t *testing.T) {
	for _, meta := range []bool{true, false} {
		t.Run(fmt.Sprintf("persist_meta=%v", meta), func(t *testing.T) {
			dsn := pgtest.NewDatabase(t)
			db := makeV1(t, dsn, 20000, meta)
			ro, err := Open(dsn, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer ro.Close()
			before := dump(t, ro, "app", adapters.Filter{})
			if n := strings.Count(before, "\n"); n != 22000 {
				t.Fatalf("version 1 schema dumps %d lines", n)
			}
			s, err := ro.Snapshot(ctx, "app")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Cursor(ctx); !errors.Is(err, adapters.ErrNoCursor) {
				t.Errorf("Cursor of a version 1 store: %v, want ErrNoCursor", err)
			}
			if _, _, err := s.Count(ctx, adapters.Filter{Since: "c1.postgres.0123456789abcdef.5:5:"}); !errors.Is(err, adapters.ErrNoCursor) {
				t.Errorf("Count since a cursor on a version 1 store: %v, want ErrNoCursor", err)
			}
			s.Close()

			files := func() string {
				var f string
				if err := db.QueryRow(`SELECT pg_relation_filenode('persist_records') || ' ' || pg_relation_filenode('persist_events')`).Scan(&f); err != nil {
					t.Fatal(err)
				}
				return f
			}
			was := files()
			a, err := Open(dsn, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			if u, err := a.Upgrade(ctx); err != nil || u != (adapters.Upgraded{From: 1, To: 3}) {
				t.Fatalf("Upgrade = %+v, %v; want %+v", u, err, adapters.Upgraded{From: 1, To: 3})
			}
			if now := files(); now != was {
				t.Errorf("the upgrade rewrote the tables: files %s, then %s", was, now)
			}
			if u, err := a.Upgrade(ctx); err != nil || u != (adapters.Upgraded{From: 3, To: 3}) {
				t.Errorf("second Upgrade = %+v, %v; want %+v", u, err, adapters.Upgraded{From: 3, To: 3})
			}
			if got := dump(t, a, "app", adapters.Filter{}); got != before {
				t.Fatal("the upgrade changed what the store dumps")
			}
			c := cursorOf(t, a, "app")
			if got := dump(t, a, "app", adapters.Filter{Since: c}); got != "" {
				t.Errorf("delta right after the upgrade: %q", got)
			}
			mustExec(t, db, `UPDATE persist_records SET value = '{"hand":1}' WHERE key = 'k000007'`)
			put(t, a, "app", adapters.Guarded, event("s", 5000, "t", "2"))
			want := `{"kind":"record","collection":"c","key":"k000007","version":2,"updated_at":"2026-11-25T12:00:00.000000Z","value":{"hand":1}}
{"kind":"event","stream":"s","seq":5000,"type":"t","at":"2026-11-25T12:00:02.500000Z","data":2}
`
			if got := dump(t, a, "app", adapters.Filter{Since: c}); got != want {
				t.Errorf("delta after changing an old row and writing a new one:\n%s", got)
			}
		})
	}
}

// An upgrade that fails half-way leaves the schema at version 1.
func TestUpgradeIsOneTransaction(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	db := makeV1(t, dsn, 10, true)
	// A table of the name the upgrade uses, of another shape.
	mustExec(t, db, `CREATE TABLE persist_removals (x int)`)
	a, err := Open(dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Upgrade(ctx); err == nil {
		t.Fatal("Upgrade succeeded over a persist_removals of another shape")
	}
	var v string
	var cols int
	if err := db.QueryRow(`SELECT (SELECT value FROM persist_meta WHERE key = 'schema_version'),
			(SELECT count(*) FROM information_schema.columns WHERE table_name = 'persist_records' AND column_name = 'chg')`).Scan(&v, &cols); err != nil {
		t.Fatal(err)
	}
	if v != "1" || cols != 0 {
		t.Errorf("after a failed upgrade: schema_version %q, chg columns %d; want 1, 0", v, cols)
	}
}

// newRole makes a login role, dropped after the test's databases.
func newRole(t *testing.T) (name string) {
	admin := sqlDB(t, pgtest.AdminURL(t))
	var b [6]byte
	rand.Read(b[:])
	name = "persist_r_" + hex.EncodeToString(b[:])
	mustExec(t, admin, `CREATE ROLE `+name+` LOGIN PASSWORD 'secret-pw'`)
	t.Cleanup(func() { admin.Exec(`DROP ROLE IF EXISTS ` + name) })
	return name
}

func asRole(t *testing.T, dsn, role string) string {
	u, _ := url.Parse(dsn)
	u.User = url.UserPassword(role, "secret-pw")
	return u.String()
}

// A role with only DML rights on the tables cannot upgrade them, and says
// who can; once the owner has, with no grant more, it writes, hand edits
// and deletes through the triggers included, records what it loaded, and a
// SELECT-only role dumps deltas.
func TestUpgradeRights(t *testing.T) {
	// The role is made first so that it is dropped after the database.
	dml, ro := newRole(t), newRole(t)
	dsn := pgtest.NewDatabase(t)
	owner := makeV1(t, dsn, 10, true)
	for _, q := range []string{
		`GRANT USAGE ON SCHEMA public TO ` + dml + `, ` + ro,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON persist_meta, persist_stores, persist_records, persist_events TO ` + dml,
		`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ` + ro,
	} {
		mustExec(t, owner, q)
	}
	w, err := Open(asRole(t, dsn, dml), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Begin(ctx, "app"); !errors.Is(err, ErrUpgradeRights) {
		t.Fatalf("Begin as a DML-only role on a version 1 schema: %v, want ErrUpgradeRights", err)
	}
	a, err := Open(dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	r, err := Open(asRole(t, dsn, ro), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := cursorOf(t, r, "app")
	put(t, w, "app", adapters.Guarded, rec("c", "k000001", 2, `"dml"`))
	hand := sqlDB(t, asRole(t, dsn, dml))
	mustExec(t, hand, `UPDATE persist_records SET value = '"hand"' WHERE key = 'k000002'`)
	want := `{"kind":"record","collection":"c","key":"k000001","version":2,"updated_at":"2026-11-25T12:00:00.000001Z","value":"dml"}
{"kind":"record","collection":"c","key":"k000002","version":2,"updated_at":"2026-11-25T12:00:00.000000Z","value":"hand"}
`
	if got := dump(t, r, "app", adapters.Filter{Since: c}); got != want {
		t.Errorf("delta read by a SELECT-only role:\n%s", got)
	}
	mustExec(t, hand, `DELETE FROM persist_records WHERE key = 'k000003'`)
	if err := sinceErr(t, r, "app", c); !errors.Is(err, adapters.ErrRemoved) {
		t.Errorf("delta after a delete by a DML-only role: %v, want ErrRemoved", err)
	}
	tx, err := w.Begin(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := tx.SetLoadedFrom(ctx, "sqlite.0123456789abcdef", "c1.sqlite.0123456789abcdef.1"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Remove(ctx, []*record.Item{{Kind: record.KindRemove, Collection: "c", Key: "k000004"}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Writes from inside savepoints carry the top-level transaction's id, and
// a TRUNCATE (which names no store) refuses every store's older cursors.
func TestSubtransactionsAndTruncate(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, `1`))
	put(t, a, "other", adapters.Guarded, rec("c", "a", 1, `1`))
	c := cursorOf(t, a, "app")
	db := sqlDB(t, dsn)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`SAVEPOINT one`,
		`UPDATE persist_records SET value = '"sub"' WHERE store = 'app' AND key = 'a'`,
		`RELEASE SAVEPOINT one`,
		`SAVEPOINT two`,
		`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			VALUES ('app', 'c', 'b', 1, '2026-11-25T12:00:00Z', false, '2')`,
		`SAVEPOINT three`,
		`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
			VALUES ('app', 'c', 'gone', 1, '2026-11-25T12:00:00Z', false, '3')`,
		`ROLLBACK TO SAVEPOINT three`,
	} {
		if _, err := tx.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	want := `{"kind":"record","collection":"c","key":"a","version":2,"updated_at":"2026-11-25T12:00:00.000001Z","value":"sub"}
{"kind":"record","collection":"c","key":"b","version":1,"updated_at":"2026-11-25T12:00:00.000000Z","value":2}
`
	if got := dump(t, a, "app", adapters.Filter{Since: c}); got != want {
		t.Errorf("delta of writes in savepoints:\n%s", got)
	}
	c = cursorOf(t, a, "app")
	o := cursorOf(t, a, "other")
	mustExec(t, db, `TRUNCATE persist_events`)
	for store, cur := range map[string]string{"app": c, "other": o} {
		if err := sinceErr(t, a, store, cur); !errors.Is(err, adapters.ErrRemoved) {
			t.Errorf("store %s after TRUNCATE: %v, want ErrRemoved", store, err)
		}
	}
}

// Tables in a schema of their own (search_path in the URL) are tracked for
// sessions that name them with their schema, whatever their search_path.
func TestTrackingInAnotherSchema(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	mustExec(t, sqlDB(t, dsn), `CREATE SCHEMA app_data`)
	u, _ := url.Parse(dsn)
	q := u.Query()
	q.Set("options", "-csearch_path=app_data")
	u.RawQuery = q.Encode()
	a, err := Open(u.String(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, `1`), rec("c", "b", 1, `1`))
	c := cursorOf(t, a, "app")
	db := sqlDB(t, dsn) // search_path "$user", public
	mustExec(t, db, `UPDATE app_data.persist_records SET value = '2' WHERE key = 'a'`)
	want := `{"kind":"record","collection":"c","key":"a","version":2,"updated_at":"2026-11-25T12:00:00.000001Z","value":2}
`
	if got := dump(t, a, "app", adapters.Filter{Since: c}); got != want {
		t.Errorf("delta:\n%s", got)
	}
	mustExec(t, db, `DELETE FROM app_data.persist_records WHERE key = 'b'`)
	if err := sinceErr(t, a, "app", c); !errors.Is(err, adapters.ErrRemoved) {
		t.Errorf("after a delete: %v, want ErrRemoved", err)
	}
}

// A cursor ahead of the server (a database restored from a backup, whose
// transaction ids went back) is refused.
func TestCursorAheadOfServer(t *testing.T) {
	a, _ := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, `1`))
	cur, err := adapters.ParseCursor(cursorOf(t, a, "app"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePos(cur.Pos)
	if err != nil {
		t.Fatal(err)
	}
	cur.Pos = pgPos{xmin: p.xmin + 1000000, xmax: p.xmax + 1000000}.String()
	if err := sinceErr(t, a, "app", cur.String()); !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "behind") {
		t.Errorf("a cursor ahead of the server: %v, want ErrCursor (behind)", err)
	}
}

func TestParsePos(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"5:9:", true}, {"5:9:5,7", true}, {"5:5:", true},
		{"5:9", false}, {"9:5:", false}, {"5:9:4", false}, {"5:9:9", false}, {"5:9:x", false}, {"0:1:", false},
		{"5:9:6,", false}, {"-1:9:", false}, {"5:9:6:7", false},
		{"5:9:6:0123456789abcdef", true}, {"5:9::0123456789abcdef", true}, {"5:9:6:0123456789ABCDEF", false}, {"5:9:6:0123456789abcde", false},
	} {
		p, err := parsePos(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("parsePos(%q) = %v, %v", tc.in, p, err)
		}
		if err == nil && p.String() != tc.in {
			t.Errorf("parsePos(%q).String() = %q", tc.in, p.String())
		}
	}
}

// A role that may read the records but not persist_meta dumps in full with
// no cursor, and is told why it has none.
func TestCursorWithoutPersistMeta(t *testing.T) {
	role := newRole(t)
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, `1`))
	mustExec(t, sqlDB(t, dsn), `GRANT SELECT ON persist_stores, persist_records, persist_events TO `+role)
	r, err := Open(asRole(t, dsn, role), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got := dump(t, r, "app", adapters.Filter{}); !strings.Contains(got, `"key":"a"`) {
		t.Fatalf("full dump: %q", got)
	}
	s, err := r.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Cursor(ctx)
	if !errors.Is(err, adapters.ErrNoCursor) || !errors.Is(err, adapters.ErrCursorAccess) {
		t.Errorf("Cursor: %v, want ErrNoCursor and ErrCursorAccess", err)
	}
	// The snapshot is still usable after the refusal.
	if _, _, err := s.Count(ctx, adapters.Filter{}); err != nil {
		t.Errorf("Count after Cursor: %v", err)
	}
}

// A delta of a few rows of a big store reads the chg index, not the
// table: it costs what it holds.
func TestDeltaReadsTheIndex(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "seed", 1, `1`))
	db := sqlDB(t, dsn)
	mustExec(t, db, `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value)
		SELECT 'app', 'c', 'k' || i, 1, '2026-11-25T12:00:00Z', false, '{"n":1}' FROM generate_series(1, 50000) i`)
	c := cursorOf(t, a, "app")
	put(t, a, "app", adapters.Guarded, rec("c", "k7", 2, `2`), rec("c", "k9", 2, `2`))
	mustExec(t, db, `ANALYZE persist_records`)
	s, err := a.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	snap := s.(*snapshot)
	since, err := snap.since(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if plan := recordsPlan(t, snap.tx, since); !strings.Contains(plan, "persist_records_chg") {
		t.Errorf("the delta's plan does not read the chg index:\n%s", plan)
	}
	if got := dump(t, a, "app", adapters.Filter{Since: c}); strings.Count(got, "\n") != 2 {
		t.Errorf("delta:\n%s", got)
	}
}
