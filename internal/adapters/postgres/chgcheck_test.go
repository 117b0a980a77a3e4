package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/cuitty/persist/internal/adapters"
	"github.com/cuitty/persist/internal/hint"
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

// A missing check is made by a write only where no reader holds the
// tables (it waits for none), and by Upgrade, which waits a little and
// says what holds them.
func TestChgCheckWaitsForNoReader(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"))
	db := sqlDB(t, dsn)
	mustExec(t, db, `ALTER TABLE persist_events DROP CONSTRAINT `+chgCheckName("persist_events"))
	reader := readerOf(t, db, "persist_events")
	// The write runs while the server is asked, again and again, whether
	// a backend of this database waits for a lock.
	done := putBehind(openAt(t, dsn, Options{}), rec("c", "b", 1, "1"))
	for waited := false; ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 && !waited {
			waited = true
			t.Errorf("a write waited for the reader's lock")
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		default:
			continue
		}
		break
	}
	if ok, err := chgChecked(ctx, db); err != nil || ok {
		t.Fatalf("chgChecked after a write while a reader held the table: %v, %v; want still missing", ok, err)
	}
	_, err := openAt(t, dsn, Options{}).Upgrade(ctx)
	if err == nil || !strings.Contains(err.Error(), "another transaction holds the tables") ||
		!strings.Contains(strings.Join(hint.All(err), "\n"), "pg_stat_activity") {
		t.Fatalf("Upgrade while a reader holds the table: %v (hints %q), want it to say so", err, hint.All(err))
	}
	reader.Rollback()
	if u, err := openAt(t, dsn, Options{}).Upgrade(ctx); err != nil || !u.Refreshed {
		t.Fatalf("Upgrade once the reader is gone: %+v, %v", u, err)
	}
	if ok, err := chgChecked(ctx, db); err != nil || !ok {
		t.Fatalf("chgChecked after Upgrade: %v, %v", ok, err)
	}
}

// A table of the store's with a parent gives no cursor: a DELETE through
// the parent fires none of the triggers that log deletes. The hint's ALTER
// TABLE gives it back.
func TestParentTableRefusesCursor(t *testing.T) {
	for _, tc := range []struct {
		name, attach, want string
		traced             bool // the attachment changes Persist's columns' catalog rows
	}{
		{"inherits", `CREATE TABLE par (); ALTER TABLE persist_records INHERIT par`, "ALTER TABLE public.persist_records NO INHERIT public.par", false},
		{"inherits a column", `CREATE TABLE par (store text COLLATE "C"); ALTER TABLE persist_records INHERIT par`,
			"ALTER TABLE public.persist_records NO INHERIT public.par", true},
		{"inherits from two, one in another schema", `CREATE TABLE p1 (); CREATE SCHEMA "Other"; CREATE TABLE "Other"."P2" ();
			ALTER TABLE persist_records INHERIT p1; ALTER TABLE persist_records INHERIT "Other"."P2"`,
			`ALTER TABLE public.persist_records NO INHERIT public.p1; ALTER TABLE public.persist_records NO INHERIT "Other"."P2"`, false},
		{"partition", `CREATE TABLE pp (LIKE persist_events) PARTITION BY LIST (store);
			ALTER TABLE pp ATTACH PARTITION persist_events FOR VALUES IN ('app')`, "ALTER TABLE public.pp DETACH PARTITION public.persist_events", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, dsn := open(t)
			put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"), event("s", 1, "t", "1"))
			db := sqlDB(t, dsn)
			c1 := cursorOf(t, a, "app")
			mustExec(t, db, tc.attach)
			s, err := a.Snapshot(ctx, "app")
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Cursor(ctx)
			s.Close()
			hints := strings.Join(hint.All(err), "\n")
			if !errors.Is(err, adapters.ErrNoCursor) || !strings.Contains(hints, tc.want) {
				t.Fatalf("Cursor with a parent: %v (hints %q), want ErrNoCursor and %q", err, hints, tc.want)
			}
			mustExec(t, db, tc.want)
			cursorOf(t, a, "app")
			// A parent with no column leaves no trace once taken out
			// (docs/backup.md says so); the others do.
			if err := sinceErr(t, a, "app", c1); tc.traced && !errors.Is(err, adapters.ErrCursor) {
				t.Errorf("delta across the parent attached and taken out: %v, want ErrCursor", err)
			}
		})
	}
}

// The tables the triggers log into take no rule or trigger of another's
// (either could keep a delete from being logged): the store gives no
// cursor while one is there, enabled or not, or while the table's catalog
// row still marks one dropped, and the hints' DROP and VACUUM give it
// back; so a delta across one made and dropped is refused until a VACUUM
// or an ANALYZE clears the mark. VACUUM and ANALYZE of them refuse
// nothing themselves.
func TestLogTablesAsMade(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"), rec("c", "b", 1, "1"), rec("c", "c", 1, "1"))
	db := sqlDB(t, dsn)
	noCursor := func(want string) {
		t.Helper()
		s, err := a.Snapshot(ctx, "app")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Cursor(ctx)
		s.Close()
		if hints := strings.Join(hint.All(err), "\n"); !errors.Is(err, adapters.ErrNoCursor) || !strings.Contains(hints, want) {
			t.Fatalf("Cursor: %v (hints %q), want ErrNoCursor and %q", err, hints, want)
		}
		mustExec(t, db, want)
	}
	refused := func(c, what string) {
		t.Helper()
		if err := sinceErr(t, a, "app", c); !errors.Is(err, adapters.ErrCursor) && !errors.Is(err, adapters.ErrNoCursor) {
			t.Fatalf("delta across %s: %v, want it refused", what, err)
		}
	}
	c1 := cursorOf(t, a, "app")
	mustExec(t, db, `CREATE RULE nolog AS ON INSERT TO persist_removals DO INSTEAD NOTHING`)
	mustExec(t, db, `DELETE FROM persist_records WHERE key = 'a'`)
	refused(c1, "a rule on persist_removals")
	noCursor(`DROP RULE nolog ON public.persist_removals`)
	noCursor(`VACUUM public.persist_removals`)
	mustExec(t, db, `CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$;
		CREATE TRIGGER t BEFORE INSERT ON persist_history FOR EACH ROW EXECUTE FUNCTION f();
		ALTER TABLE persist_history DISABLE TRIGGER t`)
	noCursor(`DROP TRIGGER t ON public.persist_history`)
	mustExec(t, db, `CREATE TRIGGER t BEFORE INSERT ON persist_removals FOR EACH ROW EXECUTE FUNCTION f();
		DROP TRIGGER t ON persist_removals`)
	noCursor(`VACUUM public.persist_history, public.persist_removals`)
	// A foreign key referencing a log table gives it the server's own
	// triggers, which keep its mark: no reason to refuse.
	mustExec(t, db, `CREATE TABLE refs (txid bigint, token text, FOREIGN KEY (txid, token) REFERENCES persist_history)`)
	cursorOf(t, a, "app")
	// A second rule, made and dropped after a cursor: the mark is set
	// again.
	c2 := cursorOf(t, a, "app")
	mustExec(t, db, `CREATE RULE nolog AS ON INSERT TO persist_removals DO INSTEAD NOTHING;
		DELETE FROM persist_records WHERE key = 'b'; DROP RULE nolog ON persist_removals`)
	refused(c2, "a second rule made and dropped")
	mustExec(t, db, `VACUUM persist_removals`)
	c4 := cursorOf(t, a, "app")
	mustExec(t, db, `VACUUM persist_removals`)
	mustExec(t, db, `ANALYZE persist_history`)
	if err := sinceErr(t, a, "app", c4); err != nil {
		t.Fatalf("delta across VACUUM and ANALYZE of the log tables: %v", err)
	}
}

// chgChecked reports whether each table has its chg check, as this
// release makes it (chgCheck): without it, an INSERT naming chg would
// reach no delta.
func chgChecked(ctx context.Context, q querier) (bool, error) {
	missing, err := uncheckedTables(ctx, q)
	return len(missing) == 0, err
}
