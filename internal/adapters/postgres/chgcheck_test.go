package postgres

import (
	"errors"
	"strings"
	"testing"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
)

// Every row written carries its transaction's id in chg: an insert that
// names another (a copy of rows with INSERT … SELECT *, a data-only
// restore, a hand INSERT, an update past disabled triggers) is refused,
// for no delta would hold it; one that leaves chg out, or an update that
// sets it to anything, is stamped and reaches the next delta.
func TestChgCheck(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"), event("s", 1, "t", "1"))
	db := sqlDB(t, dsn)
	c1 := cursorOf(t, a, "app")
	const (
		recCols = `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value, chg)
			VALUES ('app', 'c', 'x', 1, now(), false, '"x"', `
		evCols = `INSERT INTO persist_events (store, stream, seq, type, at, data, chg) VALUES ('app', 's', 9, 't', now(), '"x"', `
	)
	for _, tc := range []struct{ name, q, table string }{
		{"a record naming an old chg", recCols + `1)`, "persist_records"},
		{"a record naming chg NULL", recCols + `NULL)`, "persist_records"},
		{"a record naming a chg to come", recCols + `txid_current() + 1)`, "persist_records"},
		{"an event naming an old chg", evCols + `1)`, "persist_events"},
		{"rows copied with their chg", `INSERT INTO persist_records SELECT store, collection, 'copy', version, updated_at, deleted, value, chg
			FROM persist_records WHERE key = 'a'`, "persist_records"},
		{"an update past a disabled trigger", `BEGIN; ALTER TABLE persist_records DISABLE TRIGGER persist_records_stamp;
			UPDATE persist_records SET value = '"x"' WHERE key = 'a'`, "persist_records"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			defer conn.ExecContext(ctx, `ROLLBACK`)
			_, err = conn.ExecContext(ctx, tc.q)
			var perr *pq.Error
			if !errors.As(err, &perr) || perr.Code != "23514" || perr.Constraint != chgCheckName(tc.table) {
				t.Fatalf("%s: %v, want the check %s to refuse it", tc.q, err, chgCheckName(tc.table))
			}
		})
	}
	for _, q := range []string{
		`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value) VALUES ('app', 'c', 'new', 1, now(), false, '"new"')`,
		`UPDATE persist_records SET value = '"edited"', chg = 1 WHERE key = 'a'`,
		`INSERT INTO persist_events (store, stream, seq, type, at, data, chg) VALUES ('app', 's', 2, 't', now(), '"ev"', txid_current())`,
	} {
		mustExec(t, db, q)
	}
	got := dump(t, a, "app", adapters.Filter{Since: c1})
	for _, want := range []string{`"new"`, `"edited"`, `"ev"`} {
		if !strings.Contains(got, want) {
			t.Errorf("delta since the cursor lacks %s:\n%s", want, got)
		}
	}
}

// Without its chg check a store gives no cursor; a write brings the checks
// back as it brings an earlier release's tracking up to date (so does
// Upgrade), and a cursor from before they went is refused.
func TestChgCheckDropped(t *testing.T) {
	for _, table := range []string{"persist_records", "persist_events"} {
		t.Run(table, func(t *testing.T) {
			a, dsn := open(t)
			put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"))
			c1 := cursorOf(t, a, "app")
			db := sqlDB(t, dsn)
			mustExec(t, db, `ALTER TABLE `+table+` DROP CONSTRAINT `+chgCheckName(table))
			trackingOff(t, a, c1)
			s, err := a.Snapshot(ctx, "app")
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Cursor(ctx)
			s.Close()
			other := chgCheckName(chgTables[0])
			if table == chgTables[0] {
				other = chgCheckName(chgTables[1])
			}
			if err == nil || !strings.Contains(err.Error(), chgCheckName(table)) || strings.Contains(err.Error(), other) {
				t.Errorf("Cursor without the check: %v, want it named, and it alone", err)
			}
			put(t, openAt(t, dsn, Options{}), "app", adapters.Guarded, rec("c", "b", 1, "1"))
			if ok, err := chgChecked(ctx, db); err != nil || !ok {
				t.Fatalf("chgChecked after a write: %v, %v", ok, err)
			}
			err = sinceErr(t, a, "app", c1)
			if !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "changed in the catalog since the cursor") {
				t.Errorf("delta since a cursor from before the check went: %v, want ErrCursor", err)
			}
			c2 := cursorOf(t, a, "app")
			mustExec(t, db, `ALTER TABLE `+table+` DROP CONSTRAINT `+chgCheckName(table))
			if u, err := a.Upgrade(ctx); err != nil || !u.Refreshed {
				t.Fatalf("Upgrade without the check: %+v, %v; want it refreshed", u, err)
			}
			if ok, err := chgChecked(ctx, db); err != nil || !ok {
				t.Fatalf("chgChecked after Upgrade: %v, %v", ok, err)
			}
			if err := sinceErr(t, a, "app", c2); !errors.Is(err, adapters.ErrCursor) {
				t.Errorf("delta since a cursor from before the check went again: %v, want ErrCursor", err)
			}
		})
	}
}
