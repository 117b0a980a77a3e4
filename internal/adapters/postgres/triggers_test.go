package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
)

// Tracking turned off and back on to ALWAYS, with a write in between that
// no trigger stamped, leaves the triggers as Persist made them: a delta
// from a cursor before it is refused all the same, and a cursor taken after
// it serves deltas again.
func TestTriggersAlteredSinceCursor(t *testing.T) {
	const (
		// The edit stamps chg itself, as the chg check requires of a
		// write the _stamp trigger does not stamp; its version stays, so
		// a copy could not tell it from the value before.
		edit   = `UPDATE persist_records SET value = '"hacked"', chg = txid_current() WHERE key = 'a'`
		always = `ALTER TABLE persist_records ENABLE ALWAYS TRIGGER persist_records_stamp;
			ALTER TABLE persist_records ENABLE ALWAYS TRIGGER persist_records_mark`
	)
	for _, tc := range []struct {
		name   string
		before []string // run before the cursor is taken, on the same connection
		steps  []string
	}{
		{"disabled, then enabled always", nil, []string{
			`ALTER TABLE persist_records DISABLE TRIGGER persist_records_stamp;
			ALTER TABLE persist_records DISABLE TRIGGER persist_records_mark`,
			edit, always}},
		{"enabled for replicas only, then always", nil, []string{
			`ALTER TABLE persist_records ENABLE REPLICA TRIGGER persist_records_stamp;
			ALTER TABLE persist_records ENABLE REPLICA TRIGGER persist_records_mark`,
			edit, always}},
		{"ordinary under session_replication_role = replica, then always", nil, []string{
			`ALTER TABLE persist_records ENABLE TRIGGER persist_records_stamp;
			ALTER TABLE persist_records ENABLE TRIGGER persist_records_mark`,
			`SET session_replication_role = replica`, edit, `RESET session_replication_role`, always}},
		// The transaction is open at the cursor, which sees the triggers as
		// they were; its savepoints' ids are not in the cursor's list of
		// transactions in progress.
		{"in savepoints of a transaction open at the cursor", []string{
			`BEGIN`, `SAVEPOINT a`, `ALTER TABLE persist_records DISABLE TRIGGER persist_records_stamp`, `SAVEPOINT b`, edit,
			`SAVEPOINT c`, `ALTER TABLE persist_records ENABLE ALWAYS TRIGGER persist_records_stamp`}, []string{`COMMIT`}},
		{"a trigger function replaced and put back", nil, []string{
			`SELECT set_config('persist_test.def', pg_get_functiondef('persist_records_stamp'::regproc), false)`,
			`CREATE OR REPLACE FUNCTION persist_records_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
			edit, `DO $$ BEGIN EXECUTE current_setting('persist_test.def'); END $$`}},
		// What a delta asks for outright deletes: replaced by a function
		// that finds none, it would hide them.
		{"the removals' function replaced and put back", nil, []string{
			`SELECT set_config('persist_test.def', pg_get_functiondef('persist_removed_since'::regproc), false)`,
			`CREATE OR REPLACE FUNCTION persist_removed_since(text, bigint, bigint, bigint[]) RETURNS bigint LANGUAGE sql AS 'SELECT NULL::bigint'`,
			edit, `DO $$ BEGIN EXECUTE current_setting('persist_test.def'); END $$`}},
		// A column's type altered rewrites every row, no trigger firing; a
		// USING that keeps the type too. chg's default taken away for an
		// insert and put back leaves the insert unstamped.
		{"a column rewritten to its own type", nil, []string{
			`ALTER TABLE persist_records ALTER COLUMN value TYPE jsonb USING CASE WHEN key = 'a' THEN '"hacked"' ELSE value END`}},
		{"a column's type altered", nil, []string{
			`ALTER TABLE persist_records ALTER COLUMN updated_at TYPE timestamptz(3)`, edit}},
		{"chg's default dropped and put back", nil, []string{
			`ALTER TABLE persist_records ALTER COLUMN chg DROP DEFAULT`,
			`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value, chg) VALUES ('app', 'c', 'z', 1, now(), false, '"hacked"', txid_current())`,
			`ALTER TABLE persist_records ALTER COLUMN chg SET DEFAULT txid_current()`}},
		// Without the chg check an insert may name a chg no cursor sees
		// as new.
		{"the chg check dropped and made again", nil, []string{
			`ALTER TABLE persist_records DROP CONSTRAINT ` + chgCheckName("persist_records"),
			`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value, chg) VALUES ('app', 'c', 'z', 1, now(), false, '"hacked"', 1)`,
			chgCheckDDL("persist_records")[1]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, dsn := open(t)
			put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"), rec("c", "b", 1, "1"))
			conn, err := sqlDB(t, dsn).Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			run := func(qs []string) {
				for _, q := range qs {
					if _, err := conn.ExecContext(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
			}
			run(tc.before)
			c1 := cursorOf(t, a, "app")
			run(tc.steps)
			if got := dump(t, a, "app", adapters.Filter{}); !strings.Contains(got, `"hacked"`) {
				t.Fatalf("the edit is not in the store:\n%s", got)
			}
			err = sinceErr(t, a, "app", c1)
			if !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "changed in the catalog since the cursor") {
				t.Fatalf("delta across the change of the triggers: %v, want ErrCursor saying they changed", err)
			}
			c2 := cursorOf(t, a, "app")
			if _, err := conn.ExecContext(ctx, `UPDATE persist_records SET value = '"seen"' WHERE key = 'b'`); err != nil {
				t.Fatal(err)
			}
			if got := dump(t, a, "app", adapters.Filter{Since: c2}); !strings.Contains(got, `"seen"`) || strings.Contains(got, `"hacked"`) {
				t.Errorf("delta from a cursor after the change:\n%s", got)
			}
		})
	}
}

// A cursor of a store with the ALWAYS triggers that does not carry their
// version cannot show they stayed on: refused, for a full dump.
func TestCursorWithoutTriggersVersion(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"))
	cur, err := adapters.ParseCursor(cursorOf(t, a, "app"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePos(cur.Pos)
	if err != nil || p.triggers == "" {
		t.Fatalf("cursor %s: %+v, %v; want the triggers' version in it", cur, p, err)
	}
	if err := sinceErr(t, a, "app", cur.String()); err != nil {
		t.Fatalf("delta from the cursor as made: %v", err)
	}
	p.triggers = ""
	cur.Pos = p.String()
	if err := sinceErr(t, a, "app", cur.String()); !errors.Is(err, adapters.ErrCursor) {
		t.Fatalf("delta from a cursor without the triggers' version: %v, want ErrCursor", err)
	}
	// An earlier release's digest, of the triggers alone, cannot show the
	// columns stayed as they were.
	s, err := a.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Cursor(ctx); err != nil {
		t.Fatal(err)
	}
	legacy := s.(*snapshot).legacy
	s.Close()
	p.triggers = legacy.triggers
	cur.Pos = p.String()
	if err := sinceErr(t, a, "app", cur.String()); !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "not of the tables' columns") {
		t.Fatalf("delta from a cursor of the triggers' version alone: %v, want ErrCursor naming the columns", err)
	}
	// Nor can a digest of the triggers and columns show that no INSERT
	// named a chg of its own, before the chg checks.
	p.triggers = legacy.columns
	cur.Pos = p.String()
	if err := sinceErr(t, a, "app", cur.String()); !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "not of the chg checks") {
		t.Fatalf("delta from a cursor of the triggers' and columns' versions: %v, want ErrCursor naming the chg checks", err)
	}
	// Adding a column of one's own beside Persist's changes nothing.
	db := sqlDB(t, dsn)
	c := cursorOf(t, a, "app")
	mustExec(t, db, `ALTER TABLE persist_records ADD COLUMN note text DEFAULT 'x'`)
	if err := sinceErr(t, a, "app", c); err != nil {
		t.Fatalf("delta across a column added: %v", err)
	}
}
