package postgres

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/cuitty/persist/internal/adapters"
)

// Writes of a session with session_replication_role = replica (pg_restore
// --disable-triggers, logical replication's apply workers, ETL tools) are
// tracked as any other: the triggers fire always.
func TestReplicaRoleIsTracked(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"), rec("c", "b", 1, "1"))
	c1 := cursorOf(t, a, "app")
	db := sqlDB(t, dsn)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{
		`SET session_replication_role = replica`,
		`UPDATE persist_records SET value = '"replica"' WHERE store = 'app' AND key = 'a'`,
		`INSERT INTO persist_events (store, stream, seq, type, at, data) VALUES ('app', 's', 1, 't', now(), '1')`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	got := dump(t, a, "app", adapters.Filter{Since: c1})
	if !strings.Contains(got, `"key":"a","version":2,`) || !strings.Contains(got, `"replica"`) || !strings.Contains(got, `"stream":"s","seq":1,`) ||
		strings.Contains(got, `"key":"b"`) {
		t.Fatalf("delta after writes under session_replication_role = replica:\n%s", got)
	}
	c2 := cursorOf(t, a, "app")
	for _, q := range []string{
		`DELETE FROM persist_records WHERE store = 'app' AND key = 'b'`,
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := sinceErr(t, a, "app", c2); !errors.Is(err, adapters.ErrRemoved) {
		t.Fatalf("delta after a delete under replica: %v, want ErrRemoved", err)
	}
}

// A TRUNCATE is an outright delete of everything.
func TestTruncateRefusesDelta(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"), event("s", 1, "t", "1"))
	db := sqlDB(t, dsn)
	for _, table := range []string{"persist_records", "persist_events"} {
		c := cursorOf(t, a, "app")
		mustExec(t, db, `TRUNCATE `+table)
		if err := sinceErr(t, a, "app", c); !errors.Is(err, adapters.ErrRemoved) {
			t.Fatalf("delta after TRUNCATE %s: %v, want ErrRemoved", table, err)
		}
	}
}

// Tracking turned off by hand makes the store give no cursor until
// Upgrade repairs it; cursors from before the repair are refused, since
// changes may have gone unrecorded meanwhile. chg's default stamps every
// insert: without it, new rows reach no delta.
func TestTrackingRepaired(t *testing.T) {
	// The writes in between stamp chg themselves, as the chg check
	// requires of every row the triggers or the default no longer stamp.
	const insert = `INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value, chg)
		VALUES ('app', 'c', 'new', 1, now(), false, '"unseen"', txid_current())`
	for _, tc := range []struct {
		name string
		off  []string
	}{
		// What pg_restore --disable-triggers leaves: ALWAYS triggers made
		// ordinary ones.
		{"triggers made ordinary", []string{`ALTER TABLE persist_records DISABLE TRIGGER ALL`,
			`UPDATE persist_records SET value = '"unseen"', chg = txid_current()`, `ALTER TABLE persist_records ENABLE TRIGGER ALL`}},
		{"records' chg default dropped", []string{`ALTER TABLE persist_records ALTER COLUMN chg DROP DEFAULT`, insert}},
		{"events' chg default set to 0", []string{`ALTER TABLE persist_events ALTER COLUMN chg SET DEFAULT 0`,
			`INSERT INTO persist_events (store, stream, seq, type, at, data, chg) VALUES ('app', 's', 1, 't', now(), '"unseen"', txid_current())`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, dsn := open(t)
			put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"))
			c1 := cursorOf(t, a, "app")
			db := sqlDB(t, dsn)
			for _, q := range tc.off {
				mustExec(t, db, q)
			}
			trackingOff(t, a, c1)
			if u, err := a.Upgrade(ctx); err != nil || u != (adapters.Upgraded{From: schemaVersion, To: schemaVersion, Repaired: true}) {
				t.Fatalf("Upgrade = %+v, %v; want %+v", u, err, adapters.Upgraded{From: schemaVersion, To: schemaVersion, Repaired: true})
			}
			if intact, err := trackingIntact(ctx, db); err != nil || !intact {
				t.Fatalf("after the repair: intact %v, %v", intact, err)
			}
			if err := sinceErr(t, a, "app", c1); !errors.Is(err, adapters.ErrCursor) {
				t.Errorf("delta since a cursor from before the repair: %v, want ErrCursor", err)
			}
			c2 := cursorOf(t, a, "app")
			// One connection: the role set is the writes' own.
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, q := range []string{`SET session_replication_role = replica`, `UPDATE persist_records SET value = '"seen"'`,
				`INSERT INTO persist_records (store, collection, key, version, updated_at, deleted, value) VALUES ('app', 'c', 'later', 1, now(), false, '"seen too"')`} {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			if got := dump(t, a, "app", adapters.Filter{Since: c2}); !strings.Contains(got, `"seen"`) || !strings.Contains(got, `"seen too"`) {
				t.Errorf("delta after the repair:\n%s", got)
			}
		})
	}
}

// trackingOff checks that a store whose tracking is off gives no cursor,
// and no delta from c.
func trackingOff(t *testing.T, a *Adapter, c string) {
	t.Helper()
	s, err := a.Snapshot(ctx, "app")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Cursor(ctx); !errors.Is(err, adapters.ErrNoCursor) {
		t.Errorf("Cursor with tracking off: %v, want ErrNoCursor", err)
	}
	if err := sinceErr(t, a, "app", c); !errors.Is(err, adapters.ErrNoCursor) {
		t.Errorf("delta with tracking off: %v, want ErrNoCursor", err)
	}
}

// A restore of the tables from a logical backup older than the cursor
// (pg_dump, then pg_restore --data-only --disable-triggers), written to
// afterwards, refuses the cursor: its changes since the backup are gone
// from the store, and no delta can say so.
func TestRestoredOlderCopy(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"))
	db := sqlDB(t, dsn)
	tables := backUp(t, db)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 2, "2"))
	c1 := cursorOf(t, a, "app")
	for _, tb := range tables {
		// The rows restored keep the chg they had: the chg check refuses
		// them until dropped, and the repair makes it again.
		mustExec(t, db, `ALTER TABLE `+tb+` DROP CONSTRAINT IF EXISTS `+chgCheckName(tb))
		mustExec(t, db, `ALTER TABLE `+tb+` DISABLE TRIGGER ALL`)
		mustExec(t, db, `DELETE FROM `+tb)
		mustExec(t, db, `INSERT INTO `+tb+` SELECT * FROM bak_`+tb)
		mustExec(t, db, `ALTER TABLE `+tb+` ENABLE TRIGGER ALL`)
	}
	if _, err := a.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := chgChecked(ctx, db); err != nil || !ok {
		t.Fatalf("chgChecked after the repair: %v, %v", ok, err)
	}
	put(t, a, "app", adapters.Guarded, rec("c", "b", 1, "1"))
	if err := sinceErr(t, a, "app", c1); !errors.Is(err, adapters.ErrCursor) {
		t.Fatalf("delta since a cursor younger than the restored copy: %v, want ErrCursor", err)
	}
}

// A restore that keeps the triggers and checks as they were (by their
// owner, with ENABLE ALWAYS again; the rows without their chg, which the
// default stamps anew) is told by the history alone.
func TestRestoredOlderCopyHistory(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"))
	db := sqlDB(t, dsn)
	tables := backUp(t, db)
	for _, tb := range []string{"persist_records", "persist_events"} {
		// chg is the tables' last column: the rows go back without it.
		mustExec(t, db, `ALTER TABLE bak_`+tb+` DROP COLUMN chg`)
	}
	put(t, a, "app", adapters.Guarded, rec("c", "a", 2, "2"))
	c1 := cursorOf(t, a, "app")
	mustExec(t, db, `SET session_replication_role = replica`)
	for _, tb := range tables {
		mustExec(t, db, `ALTER TABLE `+tb+` DISABLE TRIGGER USER`)
		mustExec(t, db, `DELETE FROM `+tb)
		mustExec(t, db, `INSERT INTO `+tb+` SELECT * FROM bak_`+tb)
	}
	for _, tb := range []string{"persist_records", "persist_events"} {
		for _, trg := range []string{"_stamp", "_removed", "_mark"} {
			mustExec(t, db, `ALTER TABLE `+tb+` ENABLE ALWAYS TRIGGER `+tb+trg)
		}
	}
	put(t, a, "app", adapters.Guarded, rec("c", "b", 1, "1"))
	err := sinceErr(t, a, "app", c1)
	if !errors.Is(err, adapters.ErrCursor) || !strings.Contains(err.Error(), "history") {
		t.Fatalf("delta since a cursor younger than the restored copy: %v, want ErrCursor about the history", err)
	}
}

// A version 2 store (triggers that replica sessions skip, no history) is
// upgraded in place: its cursors, which name no history entry, are still
// taken, and from then on the triggers fire always.
func TestUpgradeFromVersion2(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"))
	db := sqlDB(t, dsn)
	for _, q := range []string{
		`DROP TRIGGER persist_records_mark ON persist_records`, `DROP TRIGGER persist_events_mark ON persist_events`,
		`DROP FUNCTION persist_mark()`, `DROP TABLE persist_history`,
		`ALTER TABLE persist_records ENABLE TRIGGER ALL`, `ALTER TABLE persist_events ENABLE TRIGGER ALL`,
		`UPDATE persist_meta SET value = '2' WHERE key = 'schema_version'`,
	} {
		mustExec(t, db, q)
	}
	v2, err := Open(dsn, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	c1 := cursorOf(t, v2, "app")
	if c, err := adapters.ParseCursor(c1); err != nil || c.Mark.Token != "" {
		t.Fatalf("cursor of a version 2 store: %+v, %v", c, err)
	}
	w, err := Open(dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if u, err := w.Upgrade(ctx); err != nil || u != (adapters.Upgraded{From: 2, To: 3}) {
		t.Fatalf("Upgrade = %+v, %v; want %+v", u, err, adapters.Upgraded{From: 2, To: 3})
	}
	mustExec(t, db, `SET session_replication_role = replica`)
	mustExec(t, db, `UPDATE persist_records SET value = '"replica"'`)
	if got := dump(t, w, "app", adapters.Filter{Since: c1}); !strings.Contains(got, `"replica"`) {
		t.Errorf("delta since a version 2 cursor after the upgrade:\n%s", got)
	}
}

// A cursor naming a history entry, against the store put back to version 2
// (no history table): refused as a cursor of another history, never with
// the server's error about a missing table.
func TestCursorOfHistoryAgainstVersion2(t *testing.T) {
	a, dsn := open(t)
	put(t, a, "app", adapters.Guarded, rec("c", "a", 1, "1"))
	c1 := cursorOf(t, a, "app")
	if c, err := adapters.ParseCursor(c1); err != nil || c.Mark.Token == "" {
		t.Fatalf("cursor of a version 3 store: %+v, %v", c, err)
	}
	db := sqlDB(t, dsn)
	for _, q := range []string{
		`DROP TRIGGER persist_records_mark ON persist_records`, `DROP TRIGGER persist_events_mark ON persist_events`,
		`DROP FUNCTION persist_mark()`, `DROP TABLE persist_history`,
		`UPDATE persist_meta SET value = '2' WHERE key = 'schema_version'`,
	} {
		mustExec(t, db, q)
	}
	v2, err := Open(dsn, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	err = sinceErr(t, v2, "app", c1)
	if !errors.Is(err, adapters.ErrCursor) || strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("delta of a version 2 store since a cursor with a history entry: %v, want ErrCursor", err)
	}
}

// backUp copies the tables a restore puts back into bak_ tables, as a
// logical backup would keep them, and returns their names.
func backUp(t *testing.T, db *sql.DB) []string {
	t.Helper()
	tables := []string{"persist_records", "persist_events", "persist_history", "persist_removals"}
	for _, tb := range tables {
		mustExec(t, db, `CREATE TABLE bak_`+tb+` AS SELECT * FROM `+tb)
	}
	return tables
}
